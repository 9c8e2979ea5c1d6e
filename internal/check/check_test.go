package check_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

func TestTenant(t *testing.T) {
	noSpace := func(s string) bool { return !strings.Contains(s, " ") }
	for _, tc := range []struct {
		name, tenant string
		ok           bool
	}{
		{"OK", "acme", true},
		{"OKLongest", strings.Repeat("a", check.MaxTenant), true},
		{"ErrEmpty", "", false},
		{"ErrWildcard", "*", false},
		{"ErrLong", strings.Repeat("a", check.MaxTenant+1), false},
		{"ErrNotPrintable", "ac me", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := check.Tenant(tc.tenant, noSpace)
			if tc.ok != (err == nil) {
				t.Fatalf("Tenant(%q) = %v, want ok %v", tc.tenant, err, tc.ok)
			}
			if err != nil && lhk.ErrorCode(err) != lhk.EINVALID {
				t.Fatalf("Tenant(%q) = %v, want EINVALID", tc.tenant, err)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n, want int
		wantErr bool
	}{
		{"Default", 0, 10, false},
		{"Given", 7, 7, false},
		{"Most", 100, 100, false},
		{"Capped", 101, 100, false},
		{"ErrNegative", -1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := check.Limit(tc.n, 10, 100)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("Limit(%d, 10, 100) = %d, %v; want %d, error %v", tc.n, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestShort(t *testing.T) {
	if got := check.Short("abc"); got != "abc" {
		t.Errorf("Short(abc) = %q", got)
	}
	long := strings.Repeat("a", 63) + "é" + "zz"
	got := check.Short(long)
	if got != strings.Repeat("a", 63)+"…" || !utf8.ValidString(got) {
		t.Errorf("Short cut mid-character: %q", got)
	}
}
