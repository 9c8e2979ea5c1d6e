// Package state holds the rules of lhk's state systems (filters, tickets,
// assets, reports and kv) that do not depend on where they are stored:
// validation and its messages, normalisation (observables, IPs, tags),
// ids, listing cursors and pages, the preparation of new records, the
// edits of stored tickets (TicketEdit), the order of an asset lookup
// (LookupAsset) and the JSON a store keeps lists in. Every backend
// (systems/sqlite, systems/postgres) calls it and keeps only its SQL, so
// both accept, refuse and return the same things.
package state

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

// Size limits of stored fields, in bytes unless said otherwise.
const (
	MaxName        = 128      // filter names (characters), owners, authors, assignees, plugins
	MaxAssetName   = 255      // host names
	MaxTitle       = 512      // ticket and report titles
	MaxDescription = 64 << 10 // ticket descriptions, comment bodies, filter reasons
	MaxObservable  = 1 << 10  // one observable's value
	MaxExternalKey = 512      // a ticket's external key
	MaxEventID     = 256      // one linked event id
	MaxMarkdown    = 4 << 20  // a report's Markdown
	MaxNamespace   = 128      // a kv namespace

	MaxTicketEvents      = 10_000 // linked events of one ticket
	MaxTicketObservables = 1_000  // observables of one ticket
	MaxTicketComments    = 1_000  // comments on one ticket
	MaxAssetIPs          = 256    // IPs of one asset
	MaxAssetTags         = 100    // tags of one asset
	MaxTag               = 128    // one tag
)

// Listing limits. A zero limit takes the default, a larger one the maximum;
// a negative limit is EINVALID.
const (
	DefaultTicketLimit = 50
	MaxTicketLimit     = 500
	DefaultReportLimit = 50
	MaxReportLimit     = 500
	DefaultKVLimit     = 100
	MaxKVLimit         = 1000
)

// CheckTenant validates a tenant name: 1–check.MaxTenant bytes of printable UTF-8,
// and not the wildcard "*" that grants use for all tenants.
func CheckTenant(tenant string) error { return check.Tenant(tenant, printable) }

// printable reports whether s is valid UTF-8 on one line: no control
// characters (tabs and newlines included) and no line or paragraph
// separators. Format characters such as zero-width joiners stay allowed, as
// emoji and some scripts need them.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// CheckText validates a free-text field: valid UTF-8 of at most max bytes,
// non-blank when required. Newlines and tabs are allowed.
func CheckText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return lhk.Errorf(lhk.EINVALID, "%s is required", field)
	case len(s) > max:
		return lhk.Errorf(lhk.EINVALID, "%s is %d bytes, at most %d allowed", field, len(s), max)
	case !utf8.ValidString(s):
		return lhk.Errorf(lhk.EINVALID, "%s must be valid UTF-8", field)
	case strings.ContainsRune(s, 0):
		return lhk.Errorf(lhk.EINVALID, "%s must not contain NUL characters", field)
	}
	return nil
}

// CheckLabel validates a one-line field (owner, author, assignee…): printable
// UTF-8 of at most max bytes; empty is allowed.
func CheckLabel(field, s string, max int) error {
	switch {
	case len(s) > max:
		return lhk.Errorf(lhk.EINVALID, "%s is %d bytes, at most %d allowed", field, len(s), max)
	case !printable(s):
		return lhk.Errorf(lhk.EINVALID, "%s %q must be printable UTF-8 on one line", field, Short(s))
	}
	return nil
}

// CheckTime validates a time a caller gave.
func CheckTime(field string, t time.Time) error {
	if t.Before(check.MinTime) || !t.Before(check.MaxTime) {
		return lhk.Errorf(lhk.EINVALID, "%s %s is out of range: use a time between 1970 and 2262", field, t.Format(time.RFC3339))
	}
	return nil
}

// crockford is the alphabet of ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewID returns prefix followed by a ULID: 48 bits of milliseconds and 80
// random bits in Crockford base32 (26 characters), e.g. T-01JC3Z8Q4W…. Ids
// sort roughly by time and say nothing about how many records exist.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	// 128 bits as 26 base32 digits: the first digit holds the top 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + string(out[:])
}

// Cursor is a position in a newest-first listing, bound to one kind of
// listing and one tenant.
type Cursor struct {
	Kind   string `json:"k"`
	Tenant string `json:"t"` // a short hash of the tenant, not its name
	At     int64  `json:"c"` // the row's time, Unix nanoseconds
	ID     string `json:"i"`
}

// tenantTag is the short hash of a tenant kept in cursors.
func tenantTag(tenant string) string {
	h := sha256.Sum256([]byte("lhk-cursor\x00" + tenant))
	return base64.RawURLEncoding.EncodeToString(h[:9])
}

// EncodeCursor returns the opaque cursor after the row (at, id).
func EncodeCursor(kind, tenant string, at int64, id string) string {
	b, _ := json.Marshal(Cursor{Kind: kind, Tenant: tenantTag(tenant), At: at, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor that EncodeCursor made for the same kind and
// tenant; anything else is EINVALID.
func DecodeCursor(kind, tenant, s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := lhk.Errorf(lhk.EINVALID, "cursor is not one this listing returned: pass next_cursor unchanged, or \"\" for the first page")
	if len(s) > 512 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind || c.Tenant != tenantTag(tenant) || c.ID == "" {
		return nil, bad
	}
	return &c, nil
}

// Short cuts s to 64 bytes for an error message, so hostile input is not
// echoed in full (check.Short).
func Short(s string) string { return check.Short(s) }

// UTC returns t in UTC without its monotonic clock reading, to the
// nanosecond, as the stores return times.
func UTC(t time.Time) time.Time { return time.Unix(0, t.UnixNano()).UTC() }

// NonNil returns s, or an empty slice when s is nil, so JSON shows [] not null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
