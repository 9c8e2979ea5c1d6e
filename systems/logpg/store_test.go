package logpg_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/systems/logpg"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

var day0, day1 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

// ingest stores lines for acme and fails on any rejected line.
func ingest(tb testing.TB, s lhk.LogService, lines ...string) {
	tb.Helper()
	res, err := s.Ingest(context.Background(), "acme", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil || res.Rejected != 0 {
		tb.Fatalf("ingest: %+v, %v", res, err)
	}
}

// search runs a free-text search of acme on 2026-11-01.
func search(tb testing.TB, s lhk.LogService, q string) []lhk.Event {
	tb.Helper()
	res, err := s.Search(context.Background(), lhk.SearchRequest{Tenant: "acme", Query: q, From: day0, To: day1, Limit: 1000})
	if err != nil {
		tb.Fatalf("search %q: %v", q, err)
	}
	return res.Events
}

func TestQueryBudget(t *testing.T) {
	ctx := context.Background()
	t.Run("Sleep", func(t *testing.T) {
		s := open(t, logpg.WithQueryBudget(50*time.Millisecond))
		err := s.Sleep(ctx, 2*time.Second)
		if lhk.ErrorCode(err) != lhk.ETIMEOUT || !strings.Contains(lhk.ErrorMessage(err), "budget") {
			t.Fatalf("error %v, want ETIMEOUT naming the budget", err)
		}
		if err := s.Sleep(ctx, 0); err != nil {
			t.Fatalf("a query within the budget: %v", err)
		}
	})
	t.Run("Search", func(t *testing.T) {
		s := open(t, logpg.WithQueryBudget(time.Millisecond))
		var lines []string
		for i := range 20_000 {
			lines = append(lines, fmt.Sprintf(`{"@timestamp":"2026-11-01T10:%02d:%02dZ","n":%d,"message":"event number %d of the budget test"}`, i/60%60, i%60, i, i))
		}
		ingest(t, s, lines...)
		_, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: day0, To: day1,
			Fields: []lhk.Condition{{Field: "message", Op: lhk.OpContains, Value: "ÉVENT NUMBER 19999"}}})
		if lhk.ErrorCode(err) != lhk.ETIMEOUT {
			t.Fatalf("error %v, want ETIMEOUT", err)
		}
	})
	t.Run("CallerCancel", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := s.Sleep(cctx, 2*time.Second)
		if lhk.ErrorCode(err) == lhk.ETIMEOUT || err == nil {
			t.Fatalf("the caller's deadline is not the store's budget: %v", err)
		}
	})
}

// TestFidelity checks that events come back exactly as logsqlite returns
// them when JSONB cannot hold them as they are (NUL characters, numbers in
// exponent form, negative zero, numbers beyond numeric), and stay
// searchable.
func TestFidelity(t *testing.T) {
	pg := open(t)
	lite, err := logsqlite.Open(context.Background(), filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	lines := []string{
		`{"@timestamp":"2026-11-01T10:00:00Z","m":1,"s":"x\u0000y","k\u0000":"nul key","n":1e3,"z":-0,"f":-0.0,"e":1.5E-2}`,
		`{"@timestamp":"2026-11-01T10:00:01Z","m":2,"huge":1e400,"long":` + strings.Repeat("9", 140000) + `,"frac":0.` + strings.Repeat("1", 17000) + `}`,
		`{"@timestamp":"2026-11-01T10:00:02.123456789Z","m":3,"plain":"nothing special","n":443,"d":12.50,"a":[1,"two",{"x":null}]}`,
	}
	ingest(t, pg, lines...)
	ingest(t, lite, lines...)
	want, got := search(t, lite, ""), search(t, pg, "")
	if len(want) != 3 || len(got) != 3 {
		t.Fatalf("%d and %d events, want 3", len(want), len(got))
	}
	for i := range want {
		delete(want[i], "_id")
		delete(got[i], "_id")
		w, _ := json.Marshal(want[i])
		g, _ := json.Marshal(got[i])
		if string(w) != string(g) {
			t.Errorf("event %d:\nlogpg     %.300s\nlogsqlite %.300s", i, g, w)
		}
	}
	for _, c := range []lhk.Condition{
		{Field: "s", Op: lhk.OpEq, Value: "x\x00y"},
		{Field: "n", Op: lhk.OpEq, Value: 1000},
		{Field: "e", Op: lhk.OpLT, Value: 0.02},
		{Field: "huge", Op: lhk.OpExists},
	} {
		res, err := pg.SearchFields(context.Background(), lhk.FieldSearchRequest{Tenant: "acme", From: day0, To: day1, Fields: []lhk.Condition{c}})
		if err != nil || len(res.Events) == 0 {
			t.Errorf("%v: %+v, %v", c, res, err)
		}
	}
	if evs := search(t, pg, "nul key"); len(evs) != 1 {
		t.Errorf("free text in an event with NUL: %d events", len(evs))
	}
}

// TestLongWords checks events whose words do not fit tsv whole: a word over
// MaxLexeme bytes, and an event with more distinct words than a tsvector
// holds.
func TestLongWords(t *testing.T) {
	s := open(t)
	long := strings.Repeat("a", logpg.MaxLexeme) + "TAIL1" + strings.Repeat("b", 1000)
	twin := strings.Repeat("a", logpg.MaxLexeme) + "TAIL2" + strings.Repeat("b", 1000)
	var words []string
	for i := range 49_000 {
		words = append(words, fmt.Sprintf("w%019d", i))
	}
	big := `{"@timestamp":"2026-11-01T10:00:02Z","m":"big","text":"` + strings.Join(words, " ") + `"}`
	if len(big) > lhk.MaxIngestLine {
		t.Fatalf("the big event is %d bytes, over the line limit", len(big))
	}
	ingest(t, s,
		`{"@timestamp":"2026-11-01T10:00:00Z","m":"long","text":"`+long+` tail"}`,
		`{"@timestamp":"2026-11-01T10:00:01Z","m":"short","text":"aaa w0000000000000000007 w0000000000000000008"}`,
		big,
	)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{long, []string{"long"}},
		{strings.ToUpper(long) + " tail", []string{"long"}},
		{twin, nil},
		{"w0000000000000000007", []string{"big", "short"}},
		{`"w0000000000000000007 w0000000000000000008"`, []string{"big", "short"}},
		{`"w0000000000000000008 w0000000000000000007"`, nil},
		{"w0000000000000048999", []string{"big"}},
		{"w0000000000000048999 aaa", nil},
		{"w0000000000000049000", nil},
		{"tail", []string{"long"}},
	} {
		var got []string
		for _, e := range search(t, s, tc.query) {
			got = append(got, fmt.Sprint(e["m"]))
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%.40q: %v, want %v", tc.query, got, tc.want)
		}
	}
}

// TestReplicas opens two stores on one database at once, as two lhkd
// replicas would: both migrate safely, share the key, and a cursor or _id
// from one works on the other.
func TestReplicas(t *testing.T) {
	url := pgdb.TestURL(t, "")
	ctx := context.Background()
	stores := make([]*logpg.Store, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = logpg.Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	a, b := stores[0], stores[1]
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"@timestamp":"2026-11-01T10:00:%02dZ","i":%d}`, i, i))
	}
	ingest(t, a, lines...)
	first, err := a.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: day0, To: day1, Limit: 4})
	if err != nil || first.NextCursor == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	next, err := b.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: day0, To: day1, Limit: 4, Cursor: first.NextCursor})
	if err != nil || len(next.Events) != 4 || fmt.Sprint(next.Events[0]["i"]) != "5" {
		t.Fatalf("the other replica's next page: %+v, %v", next, err)
	}
	byID, err := b.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: day0, To: day1,
		Fields: []lhk.Condition{{Field: "_id", Op: lhk.OpEq, Value: first.Events[0]["_id"]}}})
	if err != nil || len(byID.Events) != 1 || fmt.Sprint(byID.Events[0]["i"]) != "9" {
		t.Fatalf("an _id of the other replica: %+v, %v", byID, err)
	}
}

// TestFarTimes sends times PostgreSQL cannot hold: they are clamped, never
// an error, and answer as logsqlite does.
func TestFarTimes(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	ingest(t, s, `{"@timestamp":"2026-11-01T10:00:00Z","m":1}`)
	ancient := time.Date(-50, 1, 1, 0, 0, 0, 0, time.UTC)
	far := time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: far, To: far.Add(24 * time.Hour)})
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("a day in the year 300000: %+v, %v", res, err)
	}
	res, err = s.Search(ctx, lhk.SearchRequest{Tenant: "acme", From: ancient, To: ancient.Add(24 * time.Hour)})
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("a day in 51 BC: %+v, %v", res, err)
	}
	for _, c := range []lhk.Condition{
		{Field: "@timestamp", Op: lhk.OpGT, Value: "0001-01-01T00:00:00Z"},
		{Field: "@timestamp", Op: lhk.OpLT, Value: "9999-12-31T23:59:59Z"},
	} {
		res, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: day0, To: day1, Fields: []lhk.Condition{c}})
		if err != nil || len(res.Events) != 1 {
			t.Errorf("%v: %+v, %v", c, res, err)
		}
	}
}

func TestOpenInvalidURL(t *testing.T) {
	for _, u := range []string{"", "logs.db", "host=db dbname=lhk"} {
		if _, err := logpg.Open(context.Background(), u); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("open %q: %v, want EINVALID", u, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := logpg.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("opened a database nobody serves")
	}
}
