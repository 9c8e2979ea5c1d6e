package logsqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/check"
	"github.com/lhk-soc/lhk/internal/logquery"
)

// Query limits of this store beyond those of package lhk.
const (
	MaxField   = logquery.MaxField   // bytes of a field name
	MaxWords   = logquery.MaxWords   // distinct words or phrases of a free-text query
	DefaultTop = logquery.DefaultTop // buckets when a top request names no limit
	MaxExclude = logquery.MaxExclude // filters (inner slices) of one request's Exclude
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

// clampNano turns t into Unix nanoseconds, clamped to what they can hold.
func clampNano(t time.Time) int64 {
	switch {
	case t.Before(logquery.MinTime):
		return 0
	case !t.Before(logquery.MaxTime):
		return logquery.MaxTime.UnixNano()
	}
	return t.UnixNano()
}

// base starts a query of one tenant's events in [from, to).
func base(tenant string, from, to time.Time) (*query, error) {
	if err := logquery.CheckRequest(tenant, from, to); err != nil {
		return nil, err
	}
	q := &query{}
	q.add("tenant = ?", tenant)
	q.add("ts >= ? AND ts < ?", clampNano(from), clampNano(to))
	return q, nil
}

// sqlNum is a number as SQLite should compare it: an integer when whole.
func sqlNum(n float64) any {
	if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
		return int64(n)
	}
	return n
}

// likeEscape escapes LIKE's wildcards with a backslash.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// cond compiles one checked condition into an SQL expression over the
// events table and its arguments. Its result is true, false or NULL (NULL
// for a missing field); callers needing a strict boolean wrap it.
func (s *Store) cond(c logquery.Cond) (string, []any) {
	if c.Op == lhk.OpExists {
		switch c.Field {
		case "tenant", "_id", "@timestamp":
			return "1", nil
		}
		path := `$."` + c.Field + `"`
		if col, ok := columns[c.Field]; ok {
			return "(" + col + " IS NOT NULL OR json_type(raw, ?) IS NOT NULL)", []any{path}
		}
		return "json_type(raw, ?) IS NOT NULL", []any{path}
	}
	v := c.Value
	if c.Field == "_id" {
		seq, ok := s.keys.EventSeq(v.Str)
		if !ok {
			return "0", nil
		}
		return "seq = ?", []any{seq}
	}
	if c.OnTime {
		op := map[string]string{lhk.OpEq: "=", lhk.OpGT: ">", lhk.OpLT: "<"}[c.Op]
		return "ts " + op + " ?", []any{c.Time.UnixNano()}
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
			return x + " = ?", []any{v.Str}
		}
		if v.IsNum {
			// 4688 finds "4688" and 4688; "443" finds 443 too.
			return "(" + x + " = ? OR " + x + " = ?)", []any{xargs[0], v.Str, xargs[0], sqlNum(v.Num)}
		}
		return x + " = ?", with(1, v.Str)
	case lhk.OpContains:
		if logquery.IsASCII(v.Str) {
			return x + ` LIKE ? ESCAPE '\'`, with(1, "%"+likeEscape.Replace(v.Str)+"%")
		}
		return "lhk_icontains(" + x + ", ?)", with(1, strings.ToLower(v.Str))
	case lhk.OpPrefix:
		if column {
			return "(" + x + " >= ? AND " + x + " < ?)", []any{v.Str, v.Str + "\xff"}
		}
		p := xargs[0]
		return "(typeof(" + x + ") = 'text' AND " + x + " >= ? AND " + x + " < ?)", []any{p, p, v.Str, p, v.Str + "\xff"}
	case lhk.OpCIDR:
		return "lhk_cidr(" + x + ", ?)", with(1, c.CIDR)
	case lhk.OpGT, lhk.OpLT:
		op := ">"
		if c.Op == lhk.OpLT {
			op = "<"
		}
		if v.Given {
			return "(typeof(" + x + ") IN ('integer', 'real') AND " + x + " " + op + " ?)", with(2, sqlNum(v.Num))
		}
		return "(typeof(" + x + ") = 'text' AND " + x + " " + op + " ?)", with(2, v.Str)
	}
	panic("logsqlite: unknown op " + c.Op) // logquery.Compile allows only lhk.Ops
}

// conds adds AND-ed conditions to q.
func (s *Store) conds(q *query, cs []lhk.Condition) error {
	cc, err := logquery.CompileAll(cs)
	if err != nil {
		return err
	}
	for _, c := range cc {
		e, a := s.cond(c)
		q.add(e, a...)
	}
	return nil
}

// exclude adds the filters to drop: an event matching every condition of
// any inner slice is left out. Empty inner slices are ignored (a filter
// without conditions drops nothing).
func (s *Store) exclude(q *query, ex [][]lhk.Condition) error {
	fs, err := logquery.CompileExclude(ex)
	if err != nil {
		return err
	}
	for _, cs := range fs {
		var parts []string
		var args []any
		for _, c := range cs {
			e, a := s.cond(c)
			parts = append(parts, "("+e+")")
			args = append(args, a...)
		}
		q.add("NOT COALESCE("+strings.Join(parts, " AND ")+", 0)", args...)
	}
	return nil
}

// ftsQuery turns user text into an FTS5 expression that can only mean "all
// of these words" (logquery.Terms): each term is passed as an FTS5 string,
// with quotes doubled, so no FTS5 syntax (NEAR, OR, NOT, *, ^, column
// filters) can get through. It returns "" for a query without terms.
func ftsQuery(q string) (string, error) {
	terms, err := logquery.Terms(q)
	if err != nil {
		return "", err
	}
	for i, t := range terms {
		terms[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
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
	if m != "" {
		q.add("seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", m)
	}
	fp := logquery.Fingerprint("search", req.Tenant, req.Query, req.From, req.To)
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
	fp := logquery.Fingerprint("fields", req.Tenant, req.Fields, req.From, req.To)
	return s.search(ctx, q, req.Exclude, req.Limit, req.Cursor, fp)
}

// search runs a search query: newest first, a page of limit events, a
// cursor for the next page when more match.
func (s *Store) search(ctx context.Context, q *query, ex [][]lhk.Condition, limit int, cursor string, fp []byte) (*lhk.SearchResult, error) {
	limit, err := check.Limit(limit, lhk.DefaultLogLimit, lhk.MaxLogLimit)
	if err != nil {
		return nil, err
	}
	if err := s.exclude(q, ex); err != nil {
		return nil, err
	}
	if cursor != "" {
		p, err := s.keys.OpenCursor(cursor, fp)
		if err != nil {
			return nil, err
		}
		q.add("(ts, seq) < (?, ?)", p.TS, p.Seq)
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
	var last logquery.Position
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
		last = logquery.Position{TS: ts, Seq: seq}
	}
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	if res.Truncated {
		res.NextCursor = s.keys.SealCursor(last, fp)
	}
	return res, nil
}

// decode turns a stored row back into an event with "tenant" and "_id".
func (s *Store) decode(seq int64, tenant string, raw []byte) (lhk.Event, error) {
	e, err := logquery.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("decode stored event %d: %w", seq, err)
	}
	e["tenant"] = tenant
	e["_id"] = s.keys.EventID(seq)
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
	if err := logquery.CheckTopField(req.Field); err != nil {
		return nil, err
	}
	limit, err := check.Limit(req.Limit, DefaultTop, lhk.MaxTopBuckets)
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
