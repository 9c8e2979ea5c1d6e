package logpg

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
	"github.com/lhk-soc/lhk/internal/pgdb"
)

// query is a WHERE clause being built, with its arguments ($1, $2…).
type query struct {
	where []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// add appends one AND-ed term.
func (q *query) add(sql string) { q.where = append(q.where, sql) }

// sql returns the clause.
func (q *query) sql() string { return strings.Join(q.where, " AND ") }

// Times in queries are clamped to years PostgreSQL's timestamptz holds;
// events lie in [check.MinTime, check.MaxTime), well inside, so
// clamping changes no answer.
var (
	minQueryTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxQueryTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

// clamp returns t inside [minQueryTime, maxQueryTime].
func clamp(t time.Time) time.Time {
	switch {
	case t.Before(minQueryTime):
		return minQueryTime
	case t.After(maxQueryTime):
		return maxQueryTime
	}
	return t
}

// where starts the query of the request r: the tenant's events in its time
// range that match its conditions and terms, without those of the filters
// to apply (an event matching every condition of one of them).
func (s *Store) where(r *logquery.Request) *query {
	q := &query{}
	q.add("tenant = " + q.arg(r.Tenant))
	q.add("ts >= " + q.arg(clamp(r.From)) + " AND ts < " + q.arg(clamp(r.To)))
	for _, c := range r.Conds {
		q.add(s.cond(q, c))
	}
	freeText(q, r.Terms)
	for _, cs := range r.Exclude {
		parts := make([]string, len(cs))
		for i, c := range cs {
			parts[i] = "(" + s.cond(q, c) + ")"
		}
		q.add("NOT COALESCE(" + strings.Join(parts, " AND ") + ", FALSE)")
	}
	return q
}

// keywordExpr is the indexed expression of a keyword field (a constant of
// logquery.KeywordFields, never caller text).
func keywordExpr(field string) string {
	return `(lhk_str(doc -> '` + field + `') COLLATE "C")`
}

// ipExpr returns the address of a field as inet (NULL when it holds none),
// as indexed for source.ip and destination.ip.
func ipExpr(q *query, field string) string {
	switch field {
	case "source.ip", "destination.ip":
		return `((ips ->> '` + field + `')::inet)`
	}
	return "((ips ->> " + q.arg(field) + ")::inet)"
}

// jsonArg is a JSON object {field: value} for containment.
func jsonArg(field string, v any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{field: v})
	return b
}

// numLiteral is a number as a JSON number and numeric literal.
func numLiteral(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// cond compiles one checked condition into an SQL expression over the
// events table, adding its arguments to q. Its result is true, false or
// NULL (NULL for a missing field); callers needing a strict boolean wrap
// it.
func (s *Store) cond(q *query, c logquery.Cond) string {
	if c.Op == lhk.OpExists {
		switch c.Field {
		case "tenant", "_id", "@timestamp":
			return "TRUE"
		}
		return "doc ? " + q.arg(c.Field)
	}
	v := c.Value
	// doc keeps NUL characters as U+FFFD (see sanitize); so do values.
	v.Str = strings.ReplaceAll(v.Str, "\x00", "\uFFFD")
	if c.Field == "_id" {
		seq, ok := s.keys.EventSeq(v.Str)
		if !ok {
			return "FALSE"
		}
		return "seq = " + q.arg(seq)
	}
	if c.OnTime {
		op := map[string]string{lhk.OpEq: "=", lhk.OpGT: ">", lhk.OpLT: "<"}[c.Op]
		return "ts " + op + " " + q.arg(clamp(c.Time))
	}

	// A column holds strings only: tenant, and the keyword fields.
	var col string
	switch {
	case c.Field == "tenant":
		col = "tenant"
	case logquery.IsKeyword(c.Field):
		col = keywordExpr(c.Field)
	}
	field := func() string { return "(doc -> " + q.arg(c.Field) + ")" }

	switch c.Op {
	case lhk.OpEq:
		if col != "" {
			return col + " = " + q.arg(v.Str)
		}
		// Containment uses the GIN index; {"f": "v"} is not contained in
		// {"f": ["v"]}, so it is exact. 4688 finds "4688" and 4688; "443"
		// finds 443 too; 1 and 0 find true and false, as in SQLite.
		parts := []string{"doc @> " + q.arg(jsonArg(c.Field, v.Str))}
		if v.IsNum {
			parts = append(parts, "doc @> "+q.arg(jsonArg(c.Field, json.Number(numLiteral(v.Num)))))
			switch v.Num {
			case 1:
				parts = append(parts, "doc @> "+q.arg(jsonArg(c.Field, true)))
			case 0:
				parts = append(parts, "doc @> "+q.arg(jsonArg(c.Field, false)))
			}
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	case lhk.OpContains:
		if logquery.IsASCII(v.Str) {
			// SQLite's LIKE: ASCII letters in either case; lower() in the C
			// collation folds ASCII only.
			x := col
			if x == "" {
				x = "(lhk_like" + field() + ` COLLATE "C")`
			}
			return "strpos(lower(" + x + "), " + q.arg(strings.ToLower(v.Str)) + ") > 0"
		}
		x := col
		if x == "" {
			x = "(lhk_txt" + field() + ` COLLATE "C")`
		}
		return x + " ~ " + q.arg(foldRegexp(v.Str))
	case lhk.OpPrefix:
		x := col
		if x == "" {
			x = "(lhk_txt" + field() + ` COLLATE "C")`
		}
		hi, ok := pgdb.PrefixEnd(v.Str)
		if !ok {
			return x + " >= " + q.arg(v.Str)
		}
		return "(" + x + " >= " + q.arg(v.Str) + " AND " + x + " < " + q.arg(hi) + ")"
	case lhk.OpCIDR:
		p, err := netip.ParsePrefix(c.CIDR)
		if err != nil {
			return "FALSE" // a zoned address: SQLite's lhk_cidr matches nothing either
		}
		if c.Field == "tenant" {
			return strconv.FormatBool(logquery.InCIDR(q.args[0].(string), p))
		}
		x := ipExpr(q, c.Field)
		m := x + " <<= " + q.arg(p) + "::inet"
		if p.Addr().Is4() {
			// SQLite unmaps ::ffff:10.0.0.1 for an IPv4 block.
			mapped := netip.PrefixFrom(netip.AddrFrom16(p.Addr().As16()), p.Bits()+96)
			m = "(" + m + " OR " + x + " <<= " + q.arg(mapped) + "::inet)"
		}
		return m
	case lhk.OpGT, lhk.OpLT:
		op := ">"
		if c.Op == lhk.OpLT {
			op = "<"
		}
		if v.Given {
			if col != "" {
				return "FALSE" // a column holds no numbers
			}
			return "(lhk_num" + field() + " " + op + " " + q.arg(numLiteral(v.Num)) + "::numeric)"
		}
		x := col
		if x == "" {
			x = "(lhk_txt" + field() + ` COLLATE "C")`
		}
		return x + " " + op + " " + q.arg(v.Str)
	}
	panic("logpg: unknown op " + c.Op) // logquery.Compile allows only lhk.Ops
}

// lowerInverse maps each code point to the others unicode.ToLower turns
// into it.
var lowerInverse = sync.OnceValue(func() map[rune][]rune {
	m := map[rune][]rune{}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if l := unicode.ToLower(r); l != r {
			m[l] = append(m[l], r)
		}
	}
	return m
})

// foldRegexp returns a regular expression (PostgreSQL's ARE) matching text
// that contains needle when both are lower-cased by Go's strings.ToLower:
// each character is the class of every character that lower-cases to its
// lower case. SQLite's lhk_icontains compares so.
func foldRegexp(needle string) string {
	inv := lowerInverse()
	var b strings.Builder
	esc := func(r rune) { fmt.Fprintf(&b, `\U%08X`, r) }
	for _, r := range strings.ToLower(needle) {
		if r == utf8.RuneError {
			esc(r)
			continue
		}
		class := inv[r]
		if unicode.ToLower(r) != r && len(class) == 0 {
			esc(r) // cannot happen for a lower-cased needle; match it as it is
			continue
		}
		if len(class) == 0 {
			esc(r)
			continue
		}
		b.WriteByte('[')
		if unicode.ToLower(r) == r {
			esc(r)
		}
		for _, x := range class {
			esc(x)
		}
		b.WriteByte(']')
	}
	return b.String()
}

// freeText adds the condition that every term of a free-text query
// (logquery.Terms) appears in the event: each of its words in tsv (the GIN
// index), and phrases and long words, which tsv cannot tell, in words.
// Events too big for tsv (bigLexeme) are checked in words alone.
func freeText(q *query, terms []string) {
	if len(terms) == 0 {
		return
	}
	toks := make([][]string, len(terms))
	for i, t := range terms {
		if toks[i] = logquery.Tokens(t); len(toks[i]) == 0 {
			// A phrase without words matches nothing in FTS5 either.
			q.add("FALSE")
			return
		}
	}
	var lexemes []string
	seen := map[string]bool{}
	var recheck, all []string
	for _, ws := range toks {
		long := false
		for _, w := range ws {
			l, cut := lexeme(w)
			long = long || cut
			if !seen[l] {
				seen[l] = true
				lexemes = append(lexemes, "'"+strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(l)+"'")
			}
		}
		in := "strpos(words, " + q.arg(" "+strings.Join(ws, " ")+" ") + ") > 0"
		all = append(all, in)
		if len(ws) > 1 || long {
			recheck = append(recheck, in)
		}
	}
	tsq := "(" + strings.Join(lexemes, " & ") + ") | '" + bigLexeme + "'"
	normal := "TRUE"
	if len(recheck) > 0 {
		normal = strings.Join(recheck, " AND ")
	}
	q.add("tsv @@ " + q.arg(tsq) + "::tsquery")
	q.add("CASE WHEN tsv = '" + bigLexeme + "'::tsvector THEN " + strings.Join(all, " AND ") + " ELSE " + normal + " END")
}

// Search finds events of a tenant whose text contains every word of the
// query, as logsqlite's Search does: the words are looked up in tsv and
// phrases checked in words (freeText).
func (s *Store) Search(ctx context.Context, req lhk.SearchRequest) (*lhk.SearchResult, error) {
	r, err := s.keys.CheckSearch(req)
	if err != nil {
		return nil, err
	}
	return s.search(ctx, r)
}

// SearchFields finds events of a tenant matching every condition, with the
// meaning logsqlite's SearchFields gives each operator (cond compiles them;
// TestParity compares the two).
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
		q.add("(ts, seq) < (" + q.arg(time.Unix(0, r.After.TS)) + ", " + q.arg(r.After.Seq) + ")")
	}
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.r.Query(bctx, "SELECT seq, ts, doc, orig FROM events WHERE "+q.sql()+
		" ORDER BY ts DESC, seq DESC LIMIT "+q.arg(r.Limit+1), q.args...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	defer rows.Close()
	page := s.keys.NewPage(r)
	for rows.Next() && !page.Full() {
		var (
			seq  int64
			ts   time.Time
			doc  []byte
			orig *string
		)
		if err := rows.Scan(&seq, &ts, &doc, &orig); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read event: %w", err))
		}
		if orig != nil {
			doc = []byte(*orig)
		}
		if err := page.Add(seq, ts.UnixNano(), doc); err != nil {
			return nil, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("search events: %w", err))
	}
	return page.Result(), nil
}

// Top counts a tenant's events by the values of one field, most frequent
// first (ties by value: numbers before text, numbers by value, text by
// bytes). Limit is the number of buckets: logquery.DefaultTop when zero,
// lowered to lhk.MaxTopBuckets when larger. Total counts the matching events
// that have the field; Other those outside the buckets.
func (s *Store) Top(ctx context.Context, req lhk.TopRequest) (*lhk.TopResult, error) {
	r, err := logquery.CheckTop(req)
	if err != nil {
		return nil, err
	}
	q := s.where(r)
	var sql string
	switch {
	case r.Field == "tenant" || logquery.IsKeyword(r.Field):
		key := "tenant"
		if r.Field != "tenant" {
			key = keywordExpr(r.Field)
		}
		q.add(key + " IS NOT NULL")
		sql = "SELECT FALSE, v, c, sum(c) OVER () FROM (SELECT " + key + " AS v, count(*) AS c FROM events WHERE " + q.sql() +
			" GROUP BY 1) t ORDER BY c DESC, v LIMIT " + q.arg(r.Limit)
	default:
		key := "lhk_key(doc -> " + q.arg(r.Field) + ")"
		q.add(key + " IS NOT NULL")
		sql = "SELECT jsonb_typeof(v) = 'number', v #>> '{}', c, sum(c) OVER () FROM (SELECT " + key + " AS v, count(*) AS c FROM events WHERE " +
			q.sql() + " GROUP BY 1) t ORDER BY c DESC, jsonb_typeof(v) <> 'number', " +
			"CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::numeric END, (v #>> '{}') COLLATE \"C\" LIMIT " + q.arg(r.Limit)
	}
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	rows, err := s.r.Query(bctx, sql, q.args...)
	if err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	defer rows.Close()
	var buckets []lhk.Bucket
	var total int64
	for rows.Next() {
		var (
			isNum bool
			v     string
			c     int64
		)
		if err := rows.Scan(&isNum, &v, &c, &total); err != nil {
			return nil, s.storeErr(ctx, bctx, fmt.Errorf("read top: %w", err))
		}
		if isNum {
			v = sqliteNumber(v)
		}
		buckets = append(buckets, lhk.Bucket{Value: v, Count: c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("top events: %w", err))
	}
	return logquery.TopResult(r, buckets, total), nil
}

// sqliteNumber formats a JSON number as SQLite's json_extract returns it
// to logsqlite: an integer when it fits 64 bits, else a float64 in decimal.
func sqliteNumber(s string) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(n, 10)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return s
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
	var last *time.Time
	if err := s.r.QueryRow(bctx, "SELECT count(*), max(ts) FROM events WHERE "+q.sql(), q.args...).Scan(&n, &last); err != nil {
		return nil, s.storeErr(ctx, bctx, fmt.Errorf("count events: %w", err))
	}
	return logquery.CountResult(n, last), nil
}
