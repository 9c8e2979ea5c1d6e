package logpg

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
)

// MaxLexeme is the longest word tsv holds whole, in bytes (PostgreSQL's
// limit is 2046). A longer word is kept as its first bytes and "…", which no
// word contains, and queries for it are checked in words.
const MaxLexeme = 1000

// maxTSV bounds the lexemes of one tsvector in bytes (PostgreSQL refuses
// more than 1 MiB). An event with more distinct words, which only a line
// near lhk.MaxIngestLine of unique words reaches, is indexed as the single
// lexeme bigLexeme and found by checking words.
const maxTSV = 1<<20 - 64<<10

// bigLexeme is the tsv of an event too big to index its words.
const bigLexeme = "…"

// Ingest reads NDJSON, one event per line, and stores the valid ones in
// batches of IngestBatch per COPY. Blank lines are skipped. When
// defaultTenant is set, an event naming another tenant is rejected: a caller
// allowed to write one tenant cannot write into another. With defaultTenant
// empty every event must name its tenant. Accepted lines are stored even when
// others are rejected; on an error (or a cancelled ctx) the batches written
// before it stay stored. While PostgreSQL writes one batch, the next is
// parsed.
func (s *Store) Ingest(ctx context.Context, defaultTenant string, r io.Reader) (*lhk.IngestResult, error) {
	c := &copier{s: s}
	res, err := logquery.Ingest(ctx, r, defaultTenant, IngestBatch, c.add)
	if werr := c.wait(); werr != nil && err == nil {
		err = fmt.Errorf("ingest: %w", werr)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

var eventColumns = []string{"tenant", "ts", "doc", "orig", "words", "tsv", "ips"}

// copier writes the batches of one ingest, one COPY at a time, each while
// the next batch is parsed.
type copier struct {
	s    *Store
	done chan error // the result of the COPY in flight; nil when none is
}

// add computes a batch's columns and starts its COPY once the previous one
// has finished; an error of the previous one is returned instead.
func (c *copier) add(ctx context.Context, rows []logquery.Row) error {
	src := make([][]any, len(rows))
	for i := range rows {
		src[i] = eventRow(&rows[i])
	}
	if err := c.wait(); err != nil {
		return err
	}
	c.done = make(chan error, 1)
	go func() {
		_, err := c.s.w.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(src))
		if err != nil {
			err = c.s.storeErr(ctx, nil, fmt.Errorf("insert events: %w", err))
		}
		c.done <- err
	}()
	return nil
}

// wait waits for the COPY in flight, if any, and returns its error.
func (c *copier) wait() error {
	if c.done == nil {
		return nil
	}
	err := <-c.done
	c.done = nil
	return err
}

// eventRow computes the columns of one event.
func eventRow(r *logquery.Row) []any {
	doc, orig := r.JSON, any(nil)
	if sane, changed := sanitize(r.Fields); changed {
		b, err := json.Marshal(sane)
		if err == nil {
			doc, orig = b, string(r.JSON)
		}
	}
	tokens := logquery.Tokens(r.Text)
	// ips as JSON, built here: a few fields, no need for reflection.
	var ips []byte
	for k, v := range r.Fields {
		s, ok := v.(string)
		if !ok {
			continue
		}
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
			if ips == nil {
				ips = append(ips, '{')
			} else {
				ips = append(ips, ',')
			}
			key, _ := json.Marshal(k)
			ips = append(ips, key...)
			ips = append(ips, ':', '"')
			ips = append(ips, a.WithZone("").String()...)
			ips = append(ips, '"')
		}
	}
	var ipsArg any
	if ips != nil {
		ipsArg = json.RawMessage(append(ips, '}'))
	}
	return []any{r.Tenant, r.Time, json.RawMessage(doc), orig, words(tokens), tsv(tokens), ipsArg}
}

// words is the text strpos checks phrases in: every word, in order, between
// spaces.
func words(tokens []string) string {
	n := 1
	for _, t := range tokens {
		n += len(t) + 1
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(' ')
	for _, t := range tokens {
		b.WriteString(t)
		b.WriteByte(' ')
	}
	return b.String()
}

// lexeme is the form of a word in tsv and in queries: the word, or for a
// word longer than MaxLexeme its first bytes and "…".
func lexeme(w string) (string, bool) {
	if len(w) <= MaxLexeme {
		return w, false
	}
	i := MaxLexeme
	for i > 0 && !utf8.RuneStart(w[i]) {
		i--
	}
	return w[:i] + "…", true
}

// tsv is the set of an event's lexemes, sorted as PostgreSQL keeps them.
func tsv(tokens []string) pgtype.TSVector {
	seen := make(map[string]struct{}, len(tokens))
	lex := make([]string, 0, len(tokens))
	size := 0
	for _, t := range tokens {
		l, _ := lexeme(t)
		if _, ok := seen[l]; ok {
			continue
		}
		seen[l] = struct{}{}
		lex = append(lex, l)
		size += len(l)
	}
	if size > maxTSV {
		lex = []string{bigLexeme}
	}
	sort.Strings(lex)
	v := pgtype.TSVector{Lexemes: make([]pgtype.TSVectorLexeme, len(lex)), Valid: true}
	for i, l := range lex {
		v.Lexemes[i].Word = l
	}
	return v
}

// sanitize returns the event as JSONB can hold it when it cannot hold it as
// it is: NUL characters (in keys or strings) become U+FFFD, and numbers
// PostgreSQL would print differently (exponent form, negative zero) or
// cannot hold become their float64 value, or their literal as a string when
// even that is infinite. changed is false when the event needs none of it.
func sanitize(e map[string]any) (map[string]any, bool) {
	if !needsSanitize(e) {
		return e, false
	}
	return sanitizeValue(e).(map[string]any), true
}

func needsSanitize(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.IndexByte(v, 0) >= 0
	case json.Number:
		return !canonicalNumber(string(v))
	case []any:
		for _, x := range v {
			if needsSanitize(x) {
				return true
			}
		}
	case map[string]any:
		for k, x := range v {
			if strings.IndexByte(k, 0) >= 0 || needsSanitize(x) {
				return true
			}
		}
	}
	return false
}

func sanitizeValue(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, "\x00", "\uFFFD")
	case json.Number:
		if canonicalNumber(string(v)) {
			return v
		}
		f, err := v.Float64()
		if err != nil {
			return string(v) // out of float64's range
		}
		if f == 0 {
			return json.Number("0")
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = sanitizeValue(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = sanitizeValue(x)
		}
		return out
	}
	return v
}

// canonicalNumber reports whether PostgreSQL's numeric prints the JSON
// number s back as s: no exponent, not negative zero, and within numeric's
// digits (131072 before the point, 16383 after).
func canonicalNumber(s string) bool {
	if strings.ContainsAny(s, "eE") {
		return false
	}
	digits := strings.TrimPrefix(s, "-")
	intPart, frac, _ := strings.Cut(digits, ".")
	if len(intPart) > 131072 || len(frac) > 16383 {
		return false
	}
	if s[0] == '-' && strings.Trim(digits, "0.") == "" {
		return false
	}
	return true
}
