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
	case t.Before(check.MinTime):
		return 0
	case !t.Before(check.MaxTime):
		return check.MaxTime.UnixNano()
	}
	return t.UnixNano()
}

// where starts the query of the request r: the tenant's events in its time
// range that match its conditions and terms, without those of the filters
// to apply (an event matching every condition of one of them).
func (s *Store) where(r *logquery.Request) *query {
	q := &query{}
	q.add("tenant = ?", r.Tenant)
	q.add("ts >= ? AND ts < ?", clampNano(r.From), clampNano(r.To))
	for _, c := range r.Conds {
		e, a := s.cond(c)
		q.add(e, a...)
	}
	if len(r.Terms) > 0 {
		q.add("seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)", ftsQuery(r.Terms))
	}
	for _, cs := range r.Exclude {
		var parts []string
		var args []any
		for _, c := range cs {
			e, a := s.cond(c)
			parts = append(parts, "("+e+")")
			args = append(args, a...)
		}
		q.add("NOT COALESCE("+strings.Join(parts, " AND ")+", 0)", args...)
	}
	return q
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

// ftsQuery turns free-text terms (logquery.Terms) into an FTS5 expression
// that can only mean "all of these terms": each is passed as an FTS5
// string, with quotes doubled, so no FTS5 syntax (NEAR, OR, NOT, *, ^,
// column filters) can get through.
func ftsQuery(terms []string) string {
	quoted := make([]string, len(terms))
	for i, t := range terms {
		quoted[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	return strings.Join(quoted, " AND ")
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
	r, err := s.keys.CheckSearch(req)
	if err != nil {
		return nil, err
	}
	return s.search(ctx, r)
}

// SearchFields finds events of a tenant matching every condition. Missing
// fields never match (except for the test of exists). eq compares strings
// exactly and numbers numerically (a string holding a number matches either
// form); contains ignores case; prefix is case-sensitive; cidr takes IPv4 and
// IPv6 blocks (or one address); gt and lt compare numbers with numeric fields
// and strings lexically with text fields, and "@timestamp" as a time.
// Conditions on arrays match only exists.
func (s *Store) SearchFields(ctx context.Context, req lhk.FieldSearchRequest) (*lhk.SearchResult, error) {
	r, err := s.keys.CheckFieldSearch(req)
	if err != nil {
		return nil, err
	}
	return s.search(ctx, r)
}

// search runs a checked search: newest first, a page of r.Limit events, a
// cursor for the next page when more match.
func (s *Store) search(ctx context.Context, r *logquery.Request) (*lhk.SearchResult, error) {
	q := s.where(r)
	if r.After != nil {
		q.add("(ts, seq) < (?, ?)", r.After.TS, r.After.Seq)
	}
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.rdb.QueryContext(bctx, "SELECT seq, ts, raw FROM events WHERE "+q.sql()+
		" ORDER BY ts DESC, seq DESC LIMIT ?", append(q.args, r.Limit+1)...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	defer rows.Close()
	page := s.keys.NewPage(r)
	for rows.Next() && !page.Full() {
		var seq, ts int64
		var raw []byte
		if err := rows.Scan(&seq, &ts, &raw); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read event: %w", err))
		}
		if err := page.Add(seq, ts, raw); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	return page.Result(), nil
}

// Top counts a tenant's events by the values of one field, most frequent
// first (ties by value). Limit is the number of buckets: logquery.DefaultTop
// when zero, lowered to lhk.MaxTopBuckets when larger. Total counts the
// matching events that have the field; Other those outside the buckets.
func (s *Store) Top(ctx context.Context, req lhk.TopRequest) (*lhk.TopResult, error) {
	r, err := logquery.CheckTop(req)
	if err != nil {
		return nil, err
	}
	q := s.where(r)
	x, xargs := "json_extract(raw, ?)", []any{`$."` + r.Field + `"`}
	if col, ok := columns[r.Field]; ok {
		x, xargs = col, nil
	} else if r.Field == "tenant" {
		x, xargs = "tenant", nil
	} else if r.Field == "@timestamp" {
		x, xargs = "json_extract(raw, '$.\"@timestamp\"')", nil
	}
	args := append(append([]any{}, xargs...), q.args...)
	args = append(args, r.Limit)
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.rdb.QueryContext(bctx, "SELECT v, c, SUM(c) OVER () FROM (SELECT "+x+" AS v, COUNT(*) AS c FROM events WHERE "+
		q.sql()+" GROUP BY 1 HAVING v IS NOT NULL) ORDER BY c DESC, v LIMIT ?", args...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	defer rows.Close()
	var buckets []lhk.Bucket
	var total int64
	for rows.Next() {
		var v any
		var c int64
		if err := rows.Scan(&v, &c, &total); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read top: %w", err))
		}
		buckets = append(buckets, lhk.Bucket{Value: sqlString(v), Count: c})
	}
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	return logquery.TopResult(r, buckets, total), nil
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
	r, err := logquery.CheckCount(req)
	if err != nil {
		return nil, err
	}
	q := s.where(r)
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	var n int64
	var last sql.NullInt64
	if err := s.rdb.QueryRowContext(bctx, "SELECT COUNT(*), MAX(ts) FROM events WHERE "+q.sql(), q.args...).Scan(&n, &last); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("count events: %w", err))
	}
	if !last.Valid {
		return logquery.CountResult(n, nil), nil
	}
	t := time.Unix(0, last.Int64)
	return logquery.CountResult(n, &t), nil
}
