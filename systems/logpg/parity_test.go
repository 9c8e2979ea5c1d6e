package logpg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

// parityWords are the words the parity events are made of: cases,
// diacritics, scripts, paths, addresses and punctuation that free text and
// the field operators must treat as logsqlite does.
var parityWords = []string{
	"powershell", "PowerShell.exe", `C:\Windows\System32\cmd.exe`, "-enc", "-EncodedCommand", "wscript.exe",
	"Café", "CAFE", "Überwachung", "uberwachung", "İstanbul", "ǅemal", "Straße", "ΣΊΣΥΦΟΣ", "日本語のホスト", "🔥💻",
	"e\u0301te\u0301", "KELVIN\u212A", "10.0.0.5", "10.0.1.77", "::ffff:10.0.0.9", "2001:db8::5", "fe80::1%eth0",
	" 192.168.1.1 ", "not-an-ip", "443", "0x1F", "a_b", "%", "_", `'quoted'`, `"dq"`, "job-7", "alpha beta gamma",
	"WS01", "ws01", "WS01.corp.local", "SRV-01", "ᦰ", "©2026",
}

// parityValue returns a random field value of any JSON type.
func parityValue(r *rand.Rand) any {
	switch r.IntN(12) {
	case 0:
		return r.IntN(1000)
	case 1:
		return []float64{0, 1, -1, 1.5, 443, 0.25, 1e3}[r.IntN(7)]
	case 2:
		return r.IntN(2) == 0
	case 3:
		return nil
	case 4:
		return json.RawMessage([]string{"1e3", "-0", "1E-2", "443.0", "12345678901234567890"}[r.IntN(5)])
	default:
		return parityWords[r.IntN(len(parityWords))]
	}
}

// parityEvents generates n events; "m" numbers them.
func parityEvents(r *rand.Rand, n int) string {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := range n {
		words := make([]string, 1+r.IntN(5))
		for j := range words {
			words[j] = parityWords[r.IntN(len(parityWords))]
		}
		e := map[string]any{
			"@timestamp":     t0.Add(time.Duration(r.IntN(24*3600*1000)) * time.Millisecond).Format(time.RFC3339Nano),
			"m":              i,
			"message":        strings.Join(words, " "),
			"host.name":      parityValue(r),
			"source.ip":      parityWords[18+r.IntN(8)],
			"destination.ip": parityValue(r),
			"user":           map[string]any{"name": parityValue(r)},
			"v":              parityValue(r),
			"w":              parityValue(r),
		}
		if r.IntN(4) == 0 {
			e["arr"] = []any{parityValue(r), parityValue(r)}
		}
		if r.IntN(3) == 0 {
			e["EventID"], e["Channel"], e["Image"] = 1, "Microsoft-Windows-Sysmon/Operational", `C:\Tools\`+words[0]
		}
		line, err := json.Marshal(e)
		if err != nil {
			panic(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// parityOutcome is what one search gave: the error code, or the events'
// numbers in order.
type parityOutcome struct {
	code      string
	events    []string
	truncated bool
}

func outcome(res *lhk.SearchResult, err error) parityOutcome {
	if err != nil {
		return parityOutcome{code: lhk.ErrorCode(err)}
	}
	o := parityOutcome{truncated: res.Truncated}
	for _, e := range res.Events {
		o.events = append(o.events, fmt.Sprint(e["m"]))
	}
	return o
}

// diff describes how got differs from want, or returns "".
func (want parityOutcome) diff(got parityOutcome) string {
	switch {
	case want.code != got.code:
		return fmt.Sprintf("error %q, logsqlite %q", got.code, want.code)
	case slices.Equal(want.events, got.events) && want.truncated == got.truncated:
		return ""
	}
	var missing, extra []string
	for _, e := range want.events {
		if !slices.Contains(got.events, e) {
			missing = append(missing, e)
		}
	}
	for _, e := range got.events {
		if !slices.Contains(want.events, e) {
			extra = append(extra, e)
		}
	}
	return fmt.Sprintf("%d events (logsqlite %d): missing %v, extra %v, truncated %v (logsqlite %v)",
		len(got.events), len(want.events), missing, extra, got.truncated, want.truncated)
}

// TestParity ingests the same random events into logsqlite and logpg and
// asks both the same free-text, field, top and count requests: every answer
// must be the same, and so must every event returned.
func TestParity(t *testing.T) {
	ctx := context.Background()
	pg := open(t)
	lite, err := logsqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	r := rand.New(rand.NewPCG(3, 5))
	data := parityEvents(r, 500)
	for _, s := range []lhk.LogService{lite, pg} {
		res, err := s.Ingest(ctx, "acme", strings.NewReader(data))
		if err != nil || res.Rejected != 0 {
			t.Fatalf("ingest: %+v, %v", res, err)
		}
	}
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

	// Events come back as they went in.
	all := func(s lhk.LogService) map[string]lhk.Event {
		res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: from, To: to, Limit: 1000})
		if err != nil || len(res.Events) != 500 {
			t.Fatalf("all events: %d, %v", len(res.Events), err)
		}
		m := map[string]lhk.Event{}
		for _, e := range res.Events {
			delete(e, "_id")
			m[fmt.Sprint(e["m"])] = e
		}
		return m
	}
	le, pe := all(lite), all(pg)
	for k, e := range le {
		a, _ := json.Marshal(e)
		b, _ := json.Marshal(pe[k])
		if string(a) != string(b) {
			t.Errorf("event %s:\nlogsqlite %s\nlogpg     %s", k, a, b)
		}
	}

	var queries []string
	for _, w := range parityWords {
		queries = append(queries, w, strings.ToUpper(w), strings.ToLower(w), `"`+w+`"`)
	}
	for range 150 {
		a, b := parityWords[r.IntN(len(parityWords))], parityWords[r.IntN(len(parityWords))]
		queries = append(queries, a+" "+b, `"`+a+" "+b+`"`, a+`"`+b)
	}
	queries = append(queries, "", "cafe uberwachung", "istanbul", "ǆemal", "strasse", "σίσυφος", "kelvink", "ete",
		"10.0.0", "0.5", "db8", "ffff", "x y", "system32 cmd", `"system32 cmd"`, `"cmd system32"`)
	for _, q := range queries {
		req := lhk.SearchRequest{Tenant: "acme", Query: q, From: from, To: to, Limit: 1000}
		if d := outcome(lite.Search(ctx, req)).diff(outcome(pg.Search(ctx, req))); d != "" {
			t.Errorf("free text %q: %s", q, d)
		}
	}

	fields := []string{"host.name", "source.ip", "destination.ip", "user.name", "v", "arr", "message", "process.name",
		"tenant", "@timestamp", "m", "no.such"}
	values := []any{"", "WS01", "ws", "10.0.0.0/8", "::ffff:0:0/96", "2001:db8::/32", "fe80::1%eth0", "192.168.1.1",
		"443", 443, 1, 0, "0", 1.5, -1, "1e3", "0.25", "CAFÉ", "ÜBER", "straSSE", "σίσυφ", "İ", "k", `\`, "%", "_", "'", `"`,
		"[1", "true", "日本", "ac", "2026-11-01T12:00:00Z", "p"}
	for _, f := range fields {
		for _, op := range lhk.Ops {
			for _, v := range values {
				if (f == "arr") && (op == lhk.OpContains || op == lhk.OpPrefix || op == lhk.OpGT || op == lhk.OpLT) {
					continue // arrays as text: PostgreSQL prints JSON with spaces
				}
				req := lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Limit: 1000,
					Fields: []lhk.Condition{{Field: f, Op: op, Value: v}}}
				if d := outcome(lite.SearchFields(ctx, req)).diff(outcome(pg.SearchFields(ctx, req))); d != "" {
					t.Errorf("%s %s %#v: %s", f, op, v, d)
				}
				if r.IntN(4) == 0 { // a sample: filters run the same conditions negated
					ex := lhk.SearchRequest{Tenant: "acme", From: from, To: to, Limit: 1000, Exclude: [][]lhk.Condition{req.Fields}}
					if d := outcome(lite.Search(ctx, ex)).diff(outcome(pg.Search(ctx, ex))); d != "" {
						t.Errorf("exclude %s %s %#v: %s", f, op, v, d)
					}
				}
			}
		}
	}

	for _, f := range []string{"host.name", "source.ip", "destination.ip", "user.name", "v", "w", "message", "tenant", "m", "event.code", "@timestamp"} {
		for _, q := range []string{"", "powershell", `"alpha beta"`} {
			req := lhk.TopRequest{Tenant: "acme", Field: f, Query: q, From: from, To: to, Limit: 100}
			want, werr := lite.Top(ctx, req)
			got, gerr := pg.Top(ctx, req)
			switch {
			case lhk.ErrorCode(werr) != lhk.ErrorCode(gerr):
				t.Errorf("top %s %q: error %v, logsqlite %v", f, q, gerr, werr)
			case werr != nil:
			case want.Total != got.Total || want.Other != got.Other || len(want.Buckets) != len(got.Buckets):
				t.Errorf("top %s %q: total %d other %d buckets %d, logsqlite %d %d %d", f, q, got.Total, got.Other, len(got.Buckets),
					want.Total, want.Other, len(want.Buckets))
			default:
				for i := range want.Buckets {
					if want.Buckets[i] != got.Buckets[i] {
						t.Errorf("top %s %q: bucket %d is %+q (%d), logsqlite %+q (%d)", f, q, i, got.Buckets[i].Value, got.Buckets[i].Count, want.Buckets[i].Value, want.Buckets[i].Count)
						break
					}
				}
			}
		}
	}
	for _, v := range values {
		req := lhk.CountRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{{Field: "v", Op: lhk.OpEq, Value: v}}}
		want, werr := lite.Count(ctx, req)
		got, gerr := pg.Count(ctx, req)
		if lhk.ErrorCode(werr) != lhk.ErrorCode(gerr) || werr == nil && (want.Count != got.Count || (want.Last == nil) != (got.Last == nil) ||
			want.Last != nil && !want.Last.Equal(*got.Last)) {
			t.Errorf("count v = %#v: logsqlite %+v %v, logpg %+v %v", v, want, werr, got, gerr)
		}
	}
}

// FuzzFreeTextParity asks logsqlite and logpg the same free-text query over
// the same events: the answers must be the same.
func FuzzFreeTextParity(f *testing.F) {
	for _, q := range []string{"powershell -enc", `"alpha beta"`, "Café", "ǅ", "ᦰ x", `"a`, "10.0.0", "İSTANBUL", "\x00", "🔥"} {
		f.Add(q)
	}
	ctx := context.Background()
	pg := open(f)
	lite, err := logsqlite.Open(ctx, filepath.Join(f.TempDir(), "logs.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer lite.Close()
	data := parityEvents(rand.New(rand.NewPCG(9, 9)), 200)
	for _, s := range []lhk.LogService{lite, pg} {
		if res, err := s.Ingest(ctx, "acme", strings.NewReader(data)); err != nil || res.Rejected != 0 {
			f.Fatalf("ingest: %+v, %v", res, err)
		}
	}
	from, to := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, q string) {
		req := lhk.SearchRequest{Tenant: "acme", Query: q, From: from, To: to, Limit: 1000}
		if d := outcome(lite.Search(ctx, req)).diff(outcome(pg.Search(ctx, req))); d != "" {
			t.Errorf("free text %q: %s", q, d)
		}
	})
}
