package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Result is the plugin's output.
type Result struct {
	IPv4    []string `json:"ipv4"`
	IPv6    []string `json:"ipv6"`
	Domains []string `json:"domains"`
	URLs    []string `json:"urls"`
	Emails  []string `json:"emails"`
	SHA256  []string `json:"sha256"`
	SHA1    []string `json:"sha1"`
	MD5     []string `json:"md5"`
	Count   int      `json:"count"`
	Summary string   `json:"summary"`
}

var (
	refanger = strings.NewReplacer(
		"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".",
		"[:]", ":", "[://]", "://", "[@]", "@", "[at]", "@", "(at)", "@",
		"hxxps://", "https://", "hxxp://", "http://", "hXXps://", "https://", "hXXp://", "http://",
		"fxp://", "ftp://",
	)
	reURL    = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"'` + "`" + `{}|\\^]+`)
	reEmail  = regexp.MustCompile(`(?i)\b[a-z0-9._%+-]+@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b`)
	reIPv4   = regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b`)
	reIPv6   = regexp.MustCompile(`(?i)(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})`)
	reDomain = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\b`)
	reSHA256 = regexp.MustCompile(`(?i)\b[0-9a-f]{64}\b`)
	reSHA1   = regexp.MustCompile(`(?i)\b[0-9a-f]{40}\b`)
	reMD5    = regexp.MustCompile(`(?i)\b[0-9a-f]{32}\b`)
)

// inputText returns the text to scan: the "text" field of a JSON object, or
// the input as it is.
func inputText(in []byte) string {
	var obj struct {
		Text *string `json:"text"`
	}
	if json.Unmarshal(in, &obj) == nil && obj.Text != nil {
		return *obj.Text
	}
	return string(in)
}

// Extract finds the indicators in text. Summary is left empty.
func Extract(text string) Result {
	text = refanger.Replace(text)
	var r Result
	r.URLs = unique(trimAll(reURL.FindAllString(text, -1)), false)
	r.Emails = unique(reEmail.FindAllString(text, -1), true)
	r.IPv4 = unique(reIPv4.FindAllString(text, -1), false)
	for _, c := range reIPv6.FindAllString(text, -1) {
		if a, err := netip.ParseAddr(c); err == nil && a.Is6() && !a.Is4In6() {
			r.IPv6 = append(r.IPv6, a.String())
		}
	}
	r.IPv6 = unique(r.IPv6, true)
	for _, d := range reDomain.FindAllString(text, -1) {
		if isDomain(d) {
			r.Domains = append(r.Domains, d)
		}
	}
	r.Domains = unique(r.Domains, true)
	r.SHA256 = unique(reSHA256.FindAllString(text, -1), true)
	r.SHA1 = unique(reSHA1.FindAllString(text, -1), true)
	r.MD5 = unique(reMD5.FindAllString(text, -1), true)
	r.Count = len(r.IPv4) + len(r.IPv6) + len(r.Domains) + len(r.URLs) + len(r.Emails) + len(r.SHA256) + len(r.SHA1) + len(r.MD5)
	return r
}

// fileExts are name endings that look like top-level domains but are far
// more often file names in alerts (invoice.pdf, payload.zip).
var fileExts = map[string]bool{
	"exe": true, "dll": true, "bat": true, "cmd": true, "ps1": true, "js": true, "vbs": true,
	"zip": true, "rar": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "xlsm": true,
	"pdf": true, "txt": true, "log": true, "jpg": true, "png": true, "gif": true, "htm": true,
	"html": true, "php": true, "asp": true, "aspx": true, "jsp": true, "py": true, "sh": true,
	"md": true, "json": true, "xml": true, "csv": true, "tmp": true, "dat": true, "bin": true,
	"sys": true, "msi": true, "lnk": true, "iso": true, "img": true, "hta": true, "scr": true,
	"jar": true, "dmg": true, "so": true, "gz": true, "tar": true, "eml": true, "msg": true,
	"conf": true, "ini": true, "yaml": true, "yml": true, "go": true, "rs": true, "java": true,
}

// isDomain keeps domain-like tokens whose last label is alphabetic and not a
// common file extension.
func isDomain(d string) bool {
	tld := strings.ToLower(d[strings.LastIndexByte(d, '.')+1:])
	return !fileExts[tld]
}

// trimAll removes punctuation that ends a sentence rather than a URL.
func trimAll(urls []string) []string {
	for i, u := range urls {
		u = strings.TrimRight(u, ".,;:!?")
		for _, pair := range [][2]string{{"(", ")"}, {"[", "]"}} {
			if strings.HasSuffix(u, pair[1]) && strings.Count(u, pair[0]) < strings.Count(u, pair[1]) {
				u = strings.TrimSuffix(u, pair[1])
			}
		}
		urls[i] = u
	}
	return urls
}

// unique drops repeats, keeping the first appearance; fold lowers case first.
func unique(in []string, fold bool) []string {
	seen := make(map[string]bool, len(in))
	out := []string{}
	for _, s := range in {
		if fold {
			s = strings.ToLower(s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

var defanger = strings.NewReplacer(".", "[.]", "@", "[@]", "http://", "hxxp://", "https://", "hxxps://", "ftp://", "fxp://")

// Defanged returns r with every network indicator defanged; hashes stay.
func (r Result) Defanged() Result {
	d := func(in []string) []string {
		out := make([]string, len(in))
		for i, s := range in {
			out[i] = defanger.Replace(s)
		}
		return out
	}
	ipv6 := make([]string, len(r.IPv6))
	for i, s := range r.IPv6 {
		ipv6[i] = strings.ReplaceAll(s, ":", "[:]")
	}
	r.IPv4, r.IPv6, r.Domains, r.URLs, r.Emails = d(r.IPv4), ipv6, d(r.Domains), d(r.URLs), d(r.Emails)
	return r
}

// Markdown renders a summary of r for tickets and chat.
func (r Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Indicators of compromise\n\n")
	if r.Count == 0 {
		b.WriteString("No indicators found.\n")
		return b.String()
	}
	sections := []struct {
		title string
		items []string
	}{
		{"IPv4 addresses", r.IPv4}, {"IPv6 addresses", r.IPv6}, {"Domains", r.Domains},
		{"URLs", r.URLs}, {"E-mail addresses", r.Emails}, {"SHA-256", r.SHA256},
		{"SHA-1", r.SHA1}, {"MD5", r.MD5},
	}
	b.WriteString("| type | count |\n| --- | ---: |\n")
	for _, s := range sections {
		if len(s.items) > 0 {
			fmt.Fprintf(&b, "| %s | %d |\n", s.title, len(s.items))
		}
	}
	fmt.Fprintf(&b, "| **total** | **%d** |\n", r.Count)
	for _, s := range sections {
		if len(s.items) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n### %s\n\n", s.title)
		for _, it := range s.items {
			fmt.Fprintf(&b, "- `%s`\n", it)
		}
	}
	return b.String()
}
