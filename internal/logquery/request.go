package logquery

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
)

// Query limits of the log stores beyond those of package lhk.
const (
	MaxField   = 256 // bytes of a field name
	MaxWords   = 64  // distinct words or phrases of a free-text query
	DefaultTop = 10  // buckets when a top request names no limit
	MaxExclude = 256 // filters (inner slices) of one request's Exclude
)

// CheckRequest validates what every log request has: a tenant and a time
// range.
func CheckRequest(tenant string, from, to time.Time) error {
	if err := CheckTenant(tenant); err != nil {
		return err
	}
	return CheckRange(from, to)
}

// CheckRange validates a request's time range.
func CheckRange(from, to time.Time) error {
	switch {
	case from.IsZero() || to.IsZero():
		return lhk.Errorf(lhk.EINVALID, `a time range is required: set "from" and "to" (RFC 3339)`)
	case !from.Before(to):
		return lhk.Errorf(lhk.EINVALID, `"from" (%s) must be before "to" (%s)`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > lhk.MaxLogRange:
		return lhk.Errorf(lhk.EINVALID, "the time range spans %s; at most %d days allowed: narrow it",
			to.Sub(from).Round(time.Hour), int(lhk.MaxLogRange/(24*time.Hour)))
	}
	return nil
}

// CheckField validates a field name: 1–MaxField bytes of printable UTF-8
// without double quotes.
func CheckField(f string) error {
	switch {
	case f == "":
		return lhk.Errorf(lhk.EINVALID, `a condition needs a "field", e.g. "host.name"`)
	case len(f) > MaxField:
		return lhk.Errorf(lhk.EINVALID, "field name is %d bytes, at most %d allowed", len(f), MaxField)
	case !printable(f) || strings.ContainsRune(f, '"'):
		return lhk.Errorf(lhk.EINVALID, "field %q: use printable characters without double quotes", Short(f))
	}
	return nil
}

// CheckTopField validates the field of a top request.
func CheckTopField(f string) error {
	if err := CheckField(f); err != nil {
		return err
	}
	if f == "_id" {
		return lhk.Errorf(lhk.EINVALID, `top by "_id" counts every event once: pick a field such as host.name`)
	}
	return nil
}

// Value is a condition's value in the forms a query needs.
type Value struct {
	Str   string  // the value as text
	Num   float64 // the number, when IsNum
	IsNum bool    // a number, or a string holding one (for eq)
	Given bool    // the caller passed a number, not a string
}

// condValue reads a condition's value: a string or a number.
func condValue(c lhk.Condition) (Value, error) {
	var v Value
	switch x := c.Value.(type) {
	case nil:
		return v, lhk.Errorf(lhk.EINVALID, "condition on %q with op %q needs a value", Short(c.Field), c.Op)
	case string:
		if len(x) > lhk.MaxQueryBytes {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q is %d bytes, at most %d allowed", Short(c.Field), len(x), lhk.MaxQueryBytes)
		}
		if !utf8.ValidString(x) {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q is not valid UTF-8", Short(c.Field))
		}
		v.Str = x
		if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			v.Num, v.IsNum = n, true
		}
		return v, nil
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q: %q is not a number", Short(c.Field), Short(x.String()))
		}
		v.Num = n
	case float64:
		v.Num = x
	case float32:
		v.Num = float64(x)
	case int:
		v.Num = float64(x)
	case int64:
		v.Num = float64(x)
	case int32:
		v.Num = float64(x)
	case uint:
		v.Num = float64(x)
	case uint64:
		v.Num = float64(x)
	case uint32:
		v.Num = float64(x)
	default:
		return v, lhk.Errorf(lhk.EINVALID, "value for %q must be a string or a number, got %T", Short(c.Field), c.Value)
	}
	if math.IsInf(v.Num, 0) || math.IsNaN(v.Num) {
		return v, lhk.Errorf(lhk.EINVALID, "value for %q must be a finite number", Short(c.Field))
	}
	v.IsNum, v.Given = true, true
	v.Str = strconv.FormatFloat(v.Num, 'f', -1, 64)
	return v, nil
}

// Cond is a checked condition. Field and Op are as given; Value is unset for
// exists.
type Cond struct {
	Field string
	Op    string
	Value Value
	// Time is the time of an eq, gt or lt condition on "@timestamp"
	// (OnTime), which compares the event's time rather than the text.
	Time   time.Time
	OnTime bool
	// CIDR is the canonical block of a cidr condition ("10.0.0.0/8"; a
	// single address gets its full length). A zoned IPv6 address gives a
	// block that does not parse, which matches nothing.
	CIDR string
}

// Compile checks one condition: the field name, the operator, the value
// (a string or a number; a CIDR block for cidr; an RFC 3339 time for eq, gt
// and lt on "@timestamp"; eq and exists only on "_id").
func Compile(c lhk.Condition) (Cond, error) {
	if err := CheckField(c.Field); err != nil {
		return Cond{}, err
	}
	if !slices.Contains(lhk.Ops, c.Op) {
		return Cond{}, lhk.Errorf(lhk.EINVALID, "unknown op %q on %q: use one of %s", Short(c.Op), Short(c.Field), strings.Join(lhk.Ops, ", "))
	}
	out := Cond{Field: c.Field, Op: c.Op}
	if c.Op == lhk.OpExists {
		return out, nil
	}
	v, err := condValue(c)
	if err != nil {
		return Cond{}, err
	}
	out.Value = v
	switch c.Field {
	case "_id":
		if c.Op != lhk.OpEq {
			return Cond{}, lhk.Errorf(lhk.EINVALID, `"_id" takes only eq or exists, not %q`, c.Op)
		}
		return out, nil
	case "@timestamp":
		if c.Op == lhk.OpEq || c.Op == lhk.OpGT || c.Op == lhk.OpLT {
			t, err := time.Parse(time.RFC3339Nano, v.Str)
			if err != nil {
				return Cond{}, lhk.Errorf(lhk.EINVALID, `"@timestamp" %s needs an RFC 3339 time such as "2026-11-01T09:30:00Z", got %q`, c.Op, Short(v.Str))
			}
			out.Time, out.OnTime = t, true
			return out, nil
		}
	}
	if c.Op == lhk.OpCIDR {
		p, err := parseCIDR(v.Str)
		if err != nil {
			return Cond{}, lhk.Errorf(lhk.EINVALID, "cidr value for %q: %q is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32", Short(c.Field), Short(v.Str))
		}
		out.CIDR = p
	}
	return out, nil
}

// parseCIDR reads a CIDR block (or a single address) into canonical form.
func parseCIDR(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil {
			return fmt.Sprintf("%s/%d", a, a.BitLen()), nil
		}
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", err
	}
	return p.Masked().String(), nil
}

// CompileAll checks the AND-ed conditions of a request.
func CompileAll(cs []lhk.Condition) ([]Cond, error) {
	if len(cs) > lhk.MaxConditions {
		return nil, lhk.Errorf(lhk.EINVALID, "%d conditions, at most %d allowed", len(cs), lhk.MaxConditions)
	}
	out := make([]Cond, 0, len(cs))
	for _, c := range cs {
		cc, err := Compile(c)
		if err != nil {
			return nil, err
		}
		out = append(out, cc)
	}
	return out, nil
}

// CompileExclude checks the filters to drop: an event matching every
// condition of any inner slice is left out. Empty inner slices are left out
// of the result (a filter without conditions drops nothing).
func CompileExclude(ex [][]lhk.Condition) ([][]Cond, error) {
	if len(ex) > MaxExclude {
		return nil, lhk.Errorf(lhk.EINVALID, "%d filters to apply, at most %d allowed", len(ex), MaxExclude)
	}
	var out [][]Cond
	for i, cs := range ex {
		if len(cs) == 0 {
			continue
		}
		if len(cs) > lhk.MaxConditions {
			return nil, lhk.Errorf(lhk.EINVALID, "filter %d has %d conditions, at most %d allowed", i+1, len(cs), lhk.MaxConditions)
		}
		f := make([]Cond, 0, len(cs))
		for _, c := range cs {
			cc, err := Compile(c)
			if err != nil {
				return nil, fmt.Errorf("%w (in filter %d)", err, i+1)
			}
			f = append(f, cc)
		}
		out = append(out, f)
	}
	return out, nil
}

// IsASCII reports whether s is 7-bit.
func IsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isTokenChar reports whether r can start a word of a query (letters,
// numbers and private-use characters).
func isTokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// Terms reads a free-text query into what every event must contain: each
// whitespace-separated word, or "quoted phrase", lower-cased and without
// repeats, in order. Words without letters or digits are dropped; so is the
// quote of an unclosed phrase. An empty query gives no terms; a query with
// nothing left to search for is EINVALID, as are queries over
// lhk.MaxQueryBytes, invalid UTF-8 and more than MaxWords terms.
//
// A term matches an event when its words (Tokens) appear in the event's
// text (Tokens of EventText) one after the other.
func Terms(q string) ([]string, error) {
	if len(q) > lhk.MaxQueryBytes {
		return nil, lhk.Errorf(lhk.EINVALID, "query is %d bytes, at most %d allowed", len(q), lhk.MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return nil, lhk.Errorf(lhk.EINVALID, "query is not valid UTF-8")
	}
	// Control characters separate words like spaces do.
	mapped := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, q)
	var terms []string
	seen := map[string]bool{}
	addTerm := func(t string) {
		if strings.IndexFunc(t, isTokenChar) < 0 {
			return
		}
		t = strings.ToLower(t)
		if !seen[t] {
			seen[t] = true
			terms = append(terms, t)
		}
	}
	for rest := strings.TrimSpace(mapped); rest != ""; rest = strings.TrimSpace(rest) {
		if rest[0] == '"' {
			phrase, after, _ := strings.Cut(rest[1:], `"`)
			addTerm(phrase)
			rest = after
			continue
		}
		i := strings.IndexFunc(rest, unicode.IsSpace)
		if i < 0 {
			i = len(rest)
		}
		addTerm(rest[:i])
		rest = rest[i:]
	}
	if len(terms) > MaxWords {
		return nil, lhk.Errorf(lhk.EINVALID, "query has %d distinct words, at most %d allowed", len(terms), MaxWords)
	}
	if len(terms) == 0 && strings.TrimSpace(q) != "" {
		return nil, lhk.Errorf(lhk.EINVALID, "query %q has no words to search for: use letters or digits", Short(q))
	}
	return terms, nil
}

// BudgetError is the error of a query stopped at its time budget.
func BudgetError(budget time.Duration) *lhk.Error {
	return lhk.Errorf(lhk.ETIMEOUT, "the query ran past its %s budget: narrow the time range or add conditions", budget)
}

// StopError returns err wrapped in why a query stopped, when it stopped
// short: the caller's context ended (its error), or budgeted, the context
// the query ran under, passed its budget (BudgetError). It returns nil when
// neither happened, and the store classifies err itself. budgeted is nil for
// statements without a budget (ingest).
func StopError(ctx, budgeted context.Context, budget time.Duration, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	if budgeted != nil && budgeted.Err() != nil {
		return fmt.Errorf("%w: %w", BudgetError(budget), err)
	}
	return nil
}

// InCIDR reports whether value, trimmed of spaces, is an IP address inside
// p, the meaning of a cidr condition on one value: a zone is dropped, and an
// IPv4-mapped IPv6 address counts as IPv4 for an IPv4 block.
func InCIDR(value string, p netip.Prefix) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(value))
	if err != nil {
		return false
	}
	a = a.WithZone("")
	if p.Addr().Is4() {
		a = a.Unmap()
	}
	return p.Contains(a)
}

// Request is a checked log request: what a store compiles into its query.
// CheckSearch, CheckFieldSearch, CheckTop and CheckCount make it, checking
// in the same order whichever store asks, so the first fault reported is
// the same too.
type Request struct {
	Tenant   string
	From, To time.Time
	Conds    []Cond    // AND-ed field conditions
	Terms    []string  // free-text terms (Terms); none matches every event
	Exclude  [][]Cond  // filters whose events are left out (CompileExclude)
	Field    string    // the field a top request counts by
	Limit    int       // events of a page or buckets of a top, after the default and the cap
	After    *Position // a search's page holds the events after this one; nil for the first page

	fp []byte // a search's Fingerprint, which its cursors are bound to
}

// newRequest starts a request of one tenant's events in [from, to).
func newRequest(tenant string, from, to time.Time) (*Request, error) {
	if err := CheckRequest(tenant, from, to); err != nil {
		return nil, err
	}
	return &Request{Tenant: tenant, From: from, To: to}, nil
}

// CheckSearch checks a free-text search: tenant and time range, the query
// (Terms), then the page (limit, filters to apply, cursor).
func (k *Keys) CheckSearch(req lhk.SearchRequest) (*Request, error) {
	r, err := newRequest(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if r.Terms, err = Terms(req.Query); err != nil {
		return nil, err
	}
	fp := Fingerprint("search", req.Tenant, req.Query, req.From, req.To)
	if err := k.checkPage(r, fp, req.Limit, req.Exclude, req.Cursor); err != nil {
		return nil, err
	}
	return r, nil
}

// CheckFieldSearch checks a search on field conditions: tenant and time
// range, the conditions (CompileAll), then the page (limit, filters to
// apply, cursor).
func (k *Keys) CheckFieldSearch(req lhk.FieldSearchRequest) (*Request, error) {
	r, err := newRequest(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if r.Conds, err = CompileAll(req.Fields); err != nil {
		return nil, err
	}
	fp := Fingerprint("fields", req.Tenant, req.Fields, req.From, req.To)
	if err := k.checkPage(r, fp, req.Limit, req.Exclude, req.Cursor); err != nil {
		return nil, err
	}
	return r, nil
}

// checkPage checks what pages a search: the limit (lhk.DefaultLogLimit when
// zero, lowered to lhk.MaxLogLimit), the filters to apply and the cursor,
// which must be one of the request fp.
func (k *Keys) checkPage(r *Request, fp []byte, limit int, ex [][]lhk.Condition, cursor string) error {
	var err error
	if r.Limit, err = check.Limit(limit, lhk.DefaultLogLimit, lhk.MaxLogLimit); err != nil {
		return err
	}
	if r.Exclude, err = CompileExclude(ex); err != nil {
		return err
	}
	r.fp = fp
	if cursor != "" {
		p, err := k.OpenCursor(cursor, fp)
		if err != nil {
			return err
		}
		r.After = &p
	}
	return nil
}

// CheckTop checks a top request: tenant and time range, the field
// (CheckTopField), the limit (DefaultTop buckets when zero, lowered to
// lhk.MaxTopBuckets), the conditions, the query and the filters to apply.
func CheckTop(req lhk.TopRequest) (*Request, error) {
	r, err := newRequest(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if err := CheckTopField(req.Field); err != nil {
		return nil, err
	}
	r.Field = req.Field
	if r.Limit, err = check.Limit(req.Limit, DefaultTop, lhk.MaxTopBuckets); err != nil {
		return nil, err
	}
	if r.Conds, err = CompileAll(req.Fields); err != nil {
		return nil, err
	}
	if r.Terms, err = Terms(req.Query); err != nil {
		return nil, err
	}
	if r.Exclude, err = CompileExclude(req.Exclude); err != nil {
		return nil, err
	}
	return r, nil
}

// CheckCount checks a count: tenant and time range, then the conditions.
func CheckCount(req lhk.CountRequest) (*Request, error) {
	r, err := newRequest(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if r.Conds, err = CompileAll(req.Fields); err != nil {
		return nil, err
	}
	return r, nil
}
