package lhk

import "testing"

func TestGrantValidate(t *testing.T) {
	tests := []struct {
		name string
		g    Grant
		ok   bool
	}{
		{"Empty", Grant{}, true},
		{"OK", Grant{Capabilities: []string{CapLogsRead, CapHTTP}, Tenants: []string{"acme", "*"}, AllowedHosts: []string{"api.example.com", "*.intel.example.org", "localhost"}}, true},
		{"ErrCapability", Grant{Capabilities: []string{"root"}}, false},
		{"ErrEmptyTenant", Grant{Tenants: []string{""}}, false},
		{"ErrHostGlob", Grant{AllowedHosts: []string{"*"}}, false},
		{"ErrHostBracket", Grant{AllowedHosts: []string{"[a-"}}, false},
		{"ErrHostURL", Grant{AllowedHosts: []string{"https://example.com/"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.g.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code = %s", ErrorCode(err))
			}
		})
	}
}

func TestUserCovers(t *testing.T) {
	u := &User{Role: RoleAnalyst, Ceiling: Ceiling{Capabilities: []string{CapLogsRead}, Tenants: []string{"acme"}}}
	if _, ok := u.Covers(Grant{Capabilities: []string{CapLogsRead}, Tenants: []string{"acme"}}); !ok {
		t.Fatal("inside the ceiling refused")
	}
	if m, ok := u.Covers(Grant{Capabilities: []string{CapKV}}); ok || m != "capability kv" {
		t.Fatalf("outside capability: %q %v", m, ok)
	}
	if m, ok := u.Covers(Grant{Tenants: []string{"globex"}}); ok || m != "tenant globex" {
		t.Fatalf("outside tenant: %q %v", m, ok)
	}
	if _, ok := (&User{Role: RoleAdmin}).Covers(Grant{Capabilities: Capabilities, Tenants: []string{"*"}}); !ok {
		t.Fatal("admin refused")
	}
}
