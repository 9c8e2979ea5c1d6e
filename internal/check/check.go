// Package check holds the input checks that every system shares, the log
// stores (through internal/logquery) and the state systems (through
// internal/state), with their messages written once: tenant names, the
// limits of listings and searches (the registry's too, through
// registry/internal/rule), the range of stored times, and the shortening of
// input echoed in an error.
package check

import (
	"time"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
)

// MaxTenant is the longest tenant name, in bytes.
const MaxTenant = 128

// Times that are stored (events, tickets, reports…) must lie in
// [MinTime, MaxTime), which Unix nanoseconds can hold.
var (
	MinTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Tenant validates a tenant name: 1–MaxTenant bytes that printable accepts,
// and not the wildcard "*" that grants use for all tenants. printable is the
// caller's rule for one line of text (the log stores' is stricter than the
// state systems').
func Tenant(tenant string, printable func(string) bool) error {
	switch {
	case tenant == "":
		return lhk.Errorf(lhk.EINVALID, "tenant is required")
	case tenant == "*":
		return lhk.Errorf(lhk.EINVALID, `tenant "*" means all tenants: name one tenant`)
	case len(tenant) > MaxTenant:
		return lhk.Errorf(lhk.EINVALID, "tenant is %d bytes, at most %d allowed", len(tenant), MaxTenant)
	case !printable(tenant):
		return lhk.Errorf(lhk.EINVALID, "tenant %q must be printable UTF-8", Short(tenant))
	}
	return nil
}

// Limit applies the default and the cap of a listing or search: zero takes
// def, larger limits are lowered to most, negative ones are EINVALID.
func Limit(n, def, most int) (int, error) {
	switch {
	case n < 0:
		return 0, lhk.Errorf(lhk.EINVALID, "limit must not be negative, got %d", n)
	case n == 0:
		return def, nil
	case n > most:
		return most, nil
	}
	return n, nil
}

// Short cuts s to 64 bytes (on a character boundary, with "…") for an
// error message, so hostile input is not echoed in full.
func Short(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
