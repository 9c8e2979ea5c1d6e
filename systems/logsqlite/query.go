package logsqlite

import (
	"bytes"
	"context"
	"database/sql"
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
)

// Query limits of this store beyond those of package lhk.
const (
	MaxField   = 256 // bytes of a field name
	MaxWords   = 64  // distinct words or phrases of a free-text query
	DefaultTop = 10  // buckets when a top request names no limit
	MaxExclude = 256 // filters (inner slices) of one request's Exclude
)

// query is a WHERE clause being built, with its arguments.
type query struct {
	where []string
	args  []any
}

// add appends one AND-ed term.
func (q *query) add(sql string, args ...any) {
	q.where = append(q.where, sql)
	q.args = append(q.args, args...)
}

// sql returns the clause.
func (q *query) sql() string { return strings.Join(q.where, " AND ") }

// checkRange validates a request's time range.
func checkRange(from, to time.Time) error {
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

// clampNano turns t into Unix nanoseconds, clamped to what they can hold.
func clampNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return 0
	case !t.Before(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

// checkLimit applies the default and the hard cap: larger limits are lowered
// to lhk.MaxLogLimit, negative ones are EINVALID.
func checkLimit(n, def, maxN int) (int, error) {
	switch {
	case n < 0:
		return 0, lhk.Errorf(lhk.EINVALID, "limit must not be negative, got %d", n)
	case n == 0:
		return def, nil
	case n > maxN:
		return maxN, nil
	}
	return n, nil
}

// base starts a query of one tenant's events in [from, to).
func base(tenant string, from, to time.Time) (*query, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	q := &query{}
	q.add("tenant = ?", tenant)
	q.add("ts >= ? AND ts < ?", clampNano(from), clampNano(to))
	return q, nil
}

// checkField validates a field name: 1–MaxField bytes of printable UTF-8
// without double quotes (they would end the JSON path).
func checkField(f string) error {
	switch {
	case f == "":
		return lhk.Errorf(lhk.EINVALID, `a condition needs a "field", e.g. "host.name"`)
	case len(f) > MaxField:
		return lhk.Errorf(lhk.EINVALID, "field name is %d bytes, at most %d allowed", len(f), MaxField)
	case !printable(f) || strings.ContainsRune(f, '"'):
		return lhk.Errorf(lhk.EINVALID, "field %q: use printable characters without double quotes", short(f))
	}
	return nil
}

// value is a condition's value in the forms SQL needs.
type value struct {
	str   string  // the value as text
	num   float64 // the number, when isNum
	isNum bool    // a number, or a string holding one (for eq)
	given bool    // the caller passed a number, not a string
}

// sqlNum is the number as SQLite should compare it: an integer when whole.
func (v value) sqlNum() any {
	if v.num == math.Trunc(v.num) && math.Abs(v.num) < 1<<53 {
		return int64(v.num)
	}
	return v.num
}

// condValue reads a condition's value: a string or a number.
func condValue(c lhk.Condition) (value, error) {
	var v value
	switch x := c.Value.(type) {
	case nil:
		return v, lhk.Errorf(lhk.EINVALID, "condition on %q with op %q needs a value", short(c.Field), c.Op)
	case string:
		if len(x) > lhk.MaxQueryBytes {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q is %d bytes, at most %d allowed", short(c.Field), len(x), lhk.MaxQueryBytes)
		}
		if !utf8.ValidString(x) {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q is not valid UTF-8", short(c.Field))
		}
		v.str = x
		if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			v.num, v.isNum = n, true
		}
		return v, nil
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return v, lhk.Errorf(lhk.EINVALID, "value for %q: %q is not a number", short(c.Field), short(x.String()))
		}
		v.num = n
	case float64:
		v.num = x
	case float32:
		v.num = float64(x)
	case int:
		v.num = float64(x)
	case int64:
		v.num = float64(x)
	case int32:
		v.num = float64(x)
	case uint:
		v.num = float64(x)
	case uint64:
		v.num = float64(x)
	case uint32:
		v.num = float64(x)
	default:
		return v, lhk.Errorf(lhk.EINVALID, "value for %q must be a string or a number, got %T", short(c.Field), c.Value)
	}
	if math.IsInf(v.num, 0) || math.IsNaN(v.num) {
		return v, lhk.Errorf(lhk.EINVALID, "value for %q must be a finite number", short(c.Field))
	}
	v.isNum, v.given = true, true
	v.str = strconv.FormatFloat(v.num, 'f', -1, 64)
	return v, nil
}

// likeEscape escapes LIKE's wildcards with a backslash.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// isASCII reports whether s is 7-bit.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// cond compiles one condition into an SQL expression over the events table
// and its arguments. Its result is true, false or NULL (NULL for a missing
// field); callers needing a strict boolean wrap it.
func (s *Store) cond(c lhk.Condition) (string, []any, error) {
	if err := checkField(c.Field); err != nil {
		return "", nil, err
	}
	if !slices.Contains(lhk.Ops, c.Op) {
		return "", nil, lhk.Errorf(lhk.EINVALID, "unknown op %q on %q: use one of %s", short(c.Op), short(c.Field), strings.Join(lhk.Ops, ", "))
	}
	if c.Op == lhk.OpExists {
		switch c.Field {
		case "tenant", "_id", "@timestamp":
			return "1", nil, nil
		}
		path := `$."` + c.Field + `"`
		if col, ok := columns[c.Field]; ok {
			return "(" + col + " IS NOT NULL OR json_type(raw, ?) IS NOT NULL)", []any{path}, nil
		}
		return "json_type(raw, ?) IS NOT NULL", []any{path}, nil
	}
	v, err := condValue(c)
	if err != nil {
		return "", nil, err
	}

	switch c.Field {
	case "_id":
		if c.Op != lhk.OpEq {
			return "", nil, lhk.Errorf(lhk.EINVALID, `"_id" takes only eq or exists, not %q`, c.Op)
		}
		seq, ok := s.eventSeq(v.str)
		if !ok {
			return "0", nil, nil
		}
		return "seq = ?", []any{seq}, nil
	case "@timestamp":
		if c.Op == lhk.OpEq || c.Op == lhk.OpGT || c.Op == lhk.OpLT {
			t, err := time.Parse(time.RFC3339Nano, v.str)
			if err != nil {
				return "", nil, lhk.Errorf(lhk.EINVALID, `"@timestamp" %s needs an RFC 3339 time such as "2026-11-01T09:30:00Z", got %q`, c.Op, short(v.str))
			}
			op := map[string]string{lhk.OpEq: "=", lhk.OpGT: ">", lhk.OpLT: "<"}[c.Op]
			return "ts " + op + " ?", []any{t.UnixNano()}, nil
		}
	}

	x := "json_extract(raw, ?)"
	xargs := []any{`$."` + c.Field + `"`}
	column := false
	if col, ok := columns[c.Field]; ok {
		x, xargs, column = col, nil, true
	} else if c.Field == "tenant" {
		x, xargs, column = "tenant", nil, true
	}
	// with repeats x's arguments for each use of x in an expression.
	with := func(n int, rest ...any) []any {
		var a []any
		for range n {
			a = append(a, xargs...)
		}
		return append(a, rest...)
	}

	switch c.Op {
	case lhk.OpEq:
		if column {
			return x + " = ?", []any{v.str}, nil
		}
		if v.isNum {
			// 4688 finds "4688" and 4688; "443" finds 443 too.
			return "(" + x + " = ? OR " + x + " = ?)", []any{xargs[0], v.str, xargs[0], v.sqlNum()}, nil
		}
		return x + " = ?", with(1, v.str), nil
	case lhk.OpContains:
		if isASCII(v.str) {
			return x + ` LIKE ? ESCAPE '\'`, with(1, "%"+likeEscape.Replace(v.str)+"%"), nil
		}
		return "lhk_icontains(" + x + ", ?)", with(1, strings.ToLower(v.str)), nil
	case lhk.OpPrefix:
		if column {
			return "(" + x + " >= ? AND " + x + " < ?)", []any{v.str, v.str + "\xff"}, nil
		}
		p := xargs[0]
		return "(typeof(" + x + ") = 'text' AND " + x + " >= ? AND " + x + " < ?)", []any{p, p, v.str, p, v.str + "\xff"}, nil
	case lhk.OpCIDR:
		p, err := parseCIDR(v.str)
		if err != nil {
			return "", nil, lhk.Errorf(lhk.EINVALID, "cidr value for %q: %q is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32", short(c.Field), short(v.str))
		}
		return "lhk_cidr(" + x + ", ?)", with(1, p), nil
	case lhk.OpGT, lhk.OpLT:
		op := ">"
		if c.Op == lhk.OpLT {
			op = "<"
		}
		if v.given {
			return "(typeof(" + x + ") IN ('integer', 'real') AND " + x + " " + op + " ?)", with(2, v.sqlNum()), nil
		}
		return "(typeof(" + x + ") = 'text' AND " + x + " " + op + " ?)", with(2, v.str), nil
	}
	return "", nil, lhk.Errorf(lhk.EINVALID, "unknown op %q", short(c.Op))
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

// conds adds AND-ed conditions to q.
func (s *Store) conds(q *query, cs []lhk.Condition) error {
	if len(cs) > lhk.MaxConditions {
		return lhk.Errorf(lhk.EINVALID, "%d conditions, at most %d allowed", len(cs), lhk.MaxConditions)
	}
	for _, c := range cs {
		e, a, err := s.cond(c)
		if err != nil {
			return err
		}
		q.add(e, a...)
	}
	return nil
}

// exclude adds the filters to drop: an event matching every condition of
// any inner slice is left out. Empty inner slices are ignored (a filter
// without conditions drops nothing).
func (s *Store) exclude(q *query, ex [][]lhk.Condition) error {
	if len(ex) > MaxExclude {
		return lhk.Errorf(lhk.EINVALID, "%d filters to apply, at most %d allowed", len(ex), MaxExclude)
	}
	for i, cs := range ex {
		if len(cs) == 0 {
			continue
		}
		if len(cs) > lhk.MaxConditions {
			return lhk.Errorf(lhk.EINVALID, "filter %d has %d conditions, at most %d allowed", i+1, len(cs), lhk.MaxConditions)
		}
		var parts []string
		var args []any
		for _, c := range cs {
			e, a, err := s.cond(c)
			if err != nil {
				return fmt.Errorf("%w (in filter %d)", err, i+1)
			}
			parts = append(parts, "("+e+")")
			args = append(args, a...)
		}
		q.add("NOT COALESCE("+strings.Join(parts, " AND ")+", 0)", args...)
	}
	return nil
}

// isTokenChar reports whether unicode61 keeps r in a token (letters,
// numbers and private-use characters).
func isTokenChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// ftsQuery turns user text into an FTS5 expression that can only mean "all
// of these words": each whitespace-separated word, or "quoted phrase", is
// passed as an FTS5 string, with quotes doubled, so no FTS5 syntax (NEAR,
// OR, NOT, *, ^, column filters) can get through. Words without letters or
// digits are dropped. It returns "" when nothing is left to match.
func ftsQuery(q string) (string, error) {
	if len(q) > lhk.MaxQueryBytes {
		return "", lhk.Errorf(lhk.EINVALID, "query is %d bytes, at most %d allowed", len(q), lhk.MaxQueryBytes)
	}
	if !utf8.ValidString(q) {
		return "", lhk.Errorf(lhk.EINVALID, "query is not valid UTF-8")
	}
	// Control characters separate words like spaces do.
	q = strings.Map(func(r rune) rune {
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
			terms = append(terms, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
	}
	for rest := strings.TrimSpace(q); rest != ""; rest = strings.TrimSpace(rest) {
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
		return "", lhk.Errorf(lhk.EINVALID, "query has %d distinct words, at most %d allowed", len(terms), MaxWords)
	}
	return strings.Join(terms, " AND "), nil
}

// budgeted returns ctx limited to the store's query budget.
func (s *Store) budgeted(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.budget)
}

// Search finds events of a tenant whose text contains every word of the
// query (whole words, case-insensitive; "quoted words" must appear together
// in that order; punctuation separates words, so wscript.exe or 10.0.0.5 are
// found inside paths and addresses). An empty query matches every event. A
// query of only punctuation is EINVALID.
func (s *Store) Search(ctx context.Context, req lhk.SearchRequest) (*lhk.SearchResult, error) {
	q, err := base(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	m, err := ftsQuery(req.Query)
	if err != nil {
		return nil, err
	}
	if m == "" && strings.TrimSpace(req.Query) != "" {
		return nil, lhk.Errorf(lhk.EINVALID, "query %q has no words to search for: use letters or digits", short(req.Query))
	}
	if m != "" {
		q.add("seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", m)
	}
	fp := fingerprint("search", req.Tenant, req.Query, req.From, req.To)
	return s.search(ctx, q, req.Exclude, req.Limit, req.Cursor, fp)
}

// SearchFields finds events of a tenant matching every condition. Missing
// fields never match (except for the test of exists). eq compares strings
// exactly and numbers numerically (a string holding a number matches either
// form); contains ignores case; prefix is case-sensitive; cidr takes IPv4 and
// IPv6 blocks (or one address); gt and lt compare numbers with numeric fields
// and strings lexically with text fields, and "@timestamp" as a time.
// Conditions on arrays match only exists.
func (s *Store) SearchFields(ctx context.Context, req lhk.FieldSearchRequest) (*lhk.SearchResult, error) {
	q, err := base(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if err := s.conds(q, req.Fields); err != nil {
		return nil, err
	}
	fp := fingerprint("fields", req.Tenant, req.Fields, req.From, req.To)
	return s.search(ctx, q, req.Exclude, req.Limit, req.Cursor, fp)
}

// search runs a search query: newest first, a page of limit events, a
// cursor for the next page when more match.
func (s *Store) search(ctx context.Context, q *query, ex [][]lhk.Condition, limit int, cursor string, fp []byte) (*lhk.SearchResult, error) {
	limit, err := checkLimit(limit, lhk.DefaultLogLimit, lhk.MaxLogLimit)
	if err != nil {
		return nil, err
	}
	if err := s.exclude(q, ex); err != nil {
		return nil, err
	}
	if cursor != "" {
		p, err := s.openCursor(cursor, fp)
		if err != nil {
			return nil, err
		}
		q.add("(ts, seq) < (?, ?)", p.ts, p.seq)
	}
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.rdb.QueryContext(bctx, "SELECT seq, ts, tenant, raw FROM events WHERE "+q.sql()+
		" ORDER BY ts DESC, seq DESC LIMIT ?", append(q.args, limit+1)...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	defer rows.Close()
	res := &lhk.SearchResult{Events: []lhk.Event{}}
	var last position
	for rows.Next() {
		if len(res.Events) == limit {
			res.Truncated = true
			break
		}
		var seq, ts int64
		var tenant string
		var raw []byte
		if err := rows.Scan(&seq, &ts, &tenant, &raw); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read event: %w", err))
		}
		e, err := s.decode(seq, tenant, raw)
		if err != nil {
			return nil, err
		}
		res.Events = append(res.Events, e)
		last = position{ts: ts, seq: seq}
	}
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	if res.Truncated {
		res.NextCursor = s.sealCursor(last, fp)
	}
	return res, nil
}

// decode turns a stored row back into an event with "tenant" and "_id".
func (s *Store) decode(seq int64, tenant string, raw []byte) (lhk.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	e := lhk.Event{}
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("decode stored event %d: %w", seq, err)
	}
	e["tenant"] = tenant
	e["_id"] = s.eventID(seq)
	return e, nil
}

// Top counts a tenant's events by the values of one field, most frequent
// first (ties by value). Limit is the number of buckets: DefaultTop when
// zero, lowered to lhk.MaxTopBuckets when larger. Total counts the matching
// events that have the field; Other those outside the buckets.
func (s *Store) Top(ctx context.Context, req lhk.TopRequest) (*lhk.TopResult, error) {
	q, err := base(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if err := checkField(req.Field); err != nil {
		return nil, err
	}
	if req.Field == "_id" {
		return nil, lhk.Errorf(lhk.EINVALID, `top by "_id" counts every event once: pick a field such as host.name`)
	}
	limit, err := checkLimit(req.Limit, DefaultTop, lhk.MaxTopBuckets)
	if err != nil {
		return nil, err
	}
	if err := s.conds(q, req.Fields); err != nil {
		return nil, err
	}
	m, err := ftsQuery(req.Query)
	if err != nil {
		return nil, err
	}
	if m == "" && strings.TrimSpace(req.Query) != "" {
		return nil, lhk.Errorf(lhk.EINVALID, "query %q has no words to search for: use letters or digits", short(req.Query))
	}
	if m != "" {
		q.add("seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", m)
	}
	if err := s.exclude(q, req.Exclude); err != nil {
		return nil, err
	}
	x, xargs := "json_extract(raw, ?)", []any{`$."` + req.Field + `"`}
	if col, ok := columns[req.Field]; ok {
		x, xargs = col, nil
	} else if req.Field == "tenant" {
		x, xargs = "tenant", nil
	} else if req.Field == "@timestamp" {
		x, xargs = "json_extract(raw, '$.\"@timestamp\"')", nil
	}
	args := append(append([]any{}, xargs...), q.args...)
	args = append(args, limit)
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.rdb.QueryContext(bctx, "SELECT v, c, SUM(c) OVER () FROM (SELECT "+x+" AS v, COUNT(*) AS c FROM events WHERE "+
		q.sql()+" GROUP BY 1 HAVING v IS NOT NULL) ORDER BY c DESC, v LIMIT ?", args...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	defer rows.Close()
	res := &lhk.TopResult{Field: req.Field, Buckets: []lhk.Bucket{}}
	var inBuckets int64
	for rows.Next() {
		var v any
		var c, total int64
		if err := rows.Scan(&v, &c, &total); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read top: %w", err))
		}
		res.Buckets = append(res.Buckets, lhk.Bucket{Value: sqlString(v), Count: c})
		res.Total = total
		inBuckets += c
	}
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	res.Other = res.Total - inBuckets
	return res, nil
}

// sqlString formats a value read from SQLite.
func sqlString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// Count counts a tenant's events matching every condition, with the time of
// the newest.
func (s *Store) Count(ctx context.Context, req lhk.CountRequest) (*lhk.CountResult, error) {
	q, err := base(req.Tenant, req.From, req.To)
	if err != nil {
		return nil, err
	}
	if err := s.conds(q, req.Fields); err != nil {
		return nil, err
	}
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	var n int64
	var last sql.NullInt64
	if err := s.rdb.QueryRowContext(bctx, "SELECT COUNT(*), MAX(ts) FROM events WHERE "+q.sql(), q.args...).Scan(&n, &last); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("count events: %w", err))
	}
	res := &lhk.CountResult{Count: n}
	if last.Valid {
		t := time.Unix(0, last.Int64).UTC()
		res.Last = &t
	}
	return res, nil
}
