package main

import (
	"slices"
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Result
	}{
		{
			name: "Alert",
			text: `Beacon from WS01 (10.1.2.3) to 203.0.113.7 and again 203.0.113.7; ` +
				`C2 https://evil.example.com/gate.php?id=1. Dropper invoice.pdf.exe ` +
				`sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855, ` +
				`md5 d41d8cd98f00b204e9800998ecf8427e, sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709. ` +
				`Reply-To: Billing@Evil.Example.com. IPv6 peer 2001:db8::1 at 10:30:00.`,
			want: Result{
				IPv4:    []string{"10.1.2.3", "203.0.113.7"},
				IPv6:    []string{"2001:db8::1"},
				Domains: []string{"evil.example.com"},
				URLs:    []string{"https://evil.example.com/gate.php?id=1"},
				Emails:  []string{"billing@evil.example.com"},
				SHA256:  []string{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
				SHA1:    []string{"da39a3ee5e6b4b0d3255bfef95601890afd80709"},
				MD5:     []string{"d41d8cd98f00b204e9800998ecf8427e"},
			},
		},
		{
			name: "Defanged",
			text: "hxxp://bad[.]example[.]org/x and 198.51.100[.]9, mail alice[@]phish[.]net",
			want: Result{
				IPv4:    []string{"198.51.100.9"},
				Domains: []string{"bad.example.org", "phish.net"},
				URLs:    []string{"http://bad.example.org/x"},
				Emails:  []string{"alice@phish.net"},
			},
		},
		{
			name: "Nothing",
			text: "User reported slowness on 2026-11-02 at 10:30. No action taken. Version 1.2.3.",
			want: Result{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.text)
			check := func(field string, got, want []string) {
				t.Helper()
				if len(got) == 0 && len(want) == 0 {
					return
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("ipv4", got.IPv4, tt.want.IPv4)
			check("ipv6", got.IPv6, tt.want.IPv6)
			check("domains", got.Domains, tt.want.Domains)
			check("urls", got.URLs, tt.want.URLs)
			check("emails", got.Emails, tt.want.Emails)
			check("sha256", got.SHA256, tt.want.SHA256)
			check("sha1", got.SHA1, tt.want.SHA1)
			check("md5", got.MD5, tt.want.MD5)
			n := len(tt.want.IPv4) + len(tt.want.IPv6) + len(tt.want.Domains) + len(tt.want.URLs) + len(tt.want.Emails) + len(tt.want.SHA256) + len(tt.want.SHA1) + len(tt.want.MD5)
			if got.Count != n {
				t.Errorf("count = %d, want %d", got.Count, n)
			}
		})
	}
}

func TestDefangedAndMarkdown(t *testing.T) {
	r := Extract("see https://evil.example.com/a from 203.0.113.7").Defanged()
	if got, want := r.URLs[0], "hxxps://evil[.]example[.]com/a"; got != want {
		t.Errorf("defanged url = %q, want %q", got, want)
	}
	if got, want := r.IPv4[0], "203[.]0[.]113[.]7"; got != want {
		t.Errorf("defanged ip = %q, want %q", got, want)
	}
	md := r.Markdown()
	for _, want := range []string{"| IPv4 addresses | 1 |", "`203[.]0[.]113[.]7`", "| **total** | **3** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if md := (Result{}).Markdown(); !strings.Contains(md, "No indicators found.") {
		t.Errorf("empty markdown = %q", md)
	}
}

func TestInputText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Raw", "plain 1.2.3.4", "plain 1.2.3.4"},
		{"JSON", `{"text":"from json"}`, "from json"},
		{"JSONWithoutText", `{"alert":"x"}`, `{"alert":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inputText([]byte(tt.in)); got != tt.want {
				t.Errorf("inputText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
