package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/systems/postgres"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// openTest opens an empty database in a schema of its own, closed when tb
// ends; without LHK_TEST_POSTGRES the test is skipped.
func openTest(tb testing.TB) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), pgdb.TestURL(tb, ""))
	if err != nil {
		tb.Fatalf("open systems database: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

func TestFilters(t *testing.T) {
	systemtest.RunFilters(t, func(tb testing.TB) lhk.FilterService { return openTest(tb) })
}

func TestTickets(t *testing.T) {
	systemtest.RunTickets(t, func(tb testing.TB) lhk.TicketService { return openTest(tb) })
}

func TestAssets(t *testing.T) {
	systemtest.RunAssets(t, func(tb testing.TB) lhk.AssetService { return openTest(tb) })
}

func TestReports(t *testing.T) {
	systemtest.RunReports(t, func(tb testing.TB) lhk.ReportService { return openTest(tb) })
}

func TestKV(t *testing.T) {
	systemtest.RunKV(t, func(tb testing.TB) lhk.KVService { return openTest(tb) })
}

// TestReopen checks that data survives closing and that migrations run once,
// also when two replicas open the database at once.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	url := pgdb.TestURL(t, "")
	dbs := make([]*postgres.DB, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	db, other := dbs[0], dbs[1]
	defer other.Close()
	tk, err := db.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "kept", ExternalKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(ctx, "p", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "dup", ExternalKey: "k"}); lhk.ErrorCode(err) != lhk.ECONFLICT ||
		!strings.Contains(lhk.ErrorMessage(err), tk.ID) {
		t.Errorf("duplicate external key on the other replica: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	db, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Ticket(ctx, "acme", tk.ID)
	if err != nil || got.Title != "kept" || !got.CreatedAt.Equal(tk.CreatedAt) {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if v, err := db.Get(ctx, "p", "k"); err != nil || v != "v" {
		t.Errorf("kv after reopen: %q, %v", v, err)
	}
}

func TestIDs(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	seen := map[string]bool{}
	for range 50 {
		tk, err := db.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tk.ID, postgres.TicketIDPrefix) || len(tk.ID) != len(postgres.TicketIDPrefix)+26 || seen[tk.ID] {
			t.Fatalf("ticket id %q: want a new T- and a ULID", tk.ID)
		}
		seen[tk.ID] = true
	}
	r, err := db.PublishReport(ctx, &lhk.Report{Tenant: "acme", Title: "x", Markdown: "# Week\n\n<script>x</script>"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, postgres.ReportIDPrefix) || len(r.ID) != len(postgres.ReportIDPrefix)+26 {
		t.Errorf("report id %q", r.ID)
	}
	if !strings.Contains(r.HTML, "<h1>Week</h1>") || strings.Contains(r.HTML, "<script") {
		t.Errorf("report HTML %q", r.HTML)
	}
}

// TestTimes checks that times given by callers come back as stored, to the
// microsecond.
func TestTimes(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 1, 9, 0, 0, 123456789, time.FixedZone("JST", 9*3600))
	tk, err := db.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "x", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Ticket(ctx, "acme", tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.UTC().Truncate(time.Microsecond); tk.CreatedAt != want || got.CreatedAt != want {
		t.Errorf("created %v, read back %v, want %v", tk.CreatedAt, got.CreatedAt, want)
	}
	f, err := db.UpsertFilter(ctx, &lhk.Filter{Tenant: "acme", Name: "f", ExpiresAt: &at,
		Conditions: []lhk.Condition{{Field: "x", Op: lhk.OpEq, Value: "a\x00b"}}})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := db.Filters(ctx, "acme", true)
	if err != nil || len(fs) != 1 || *fs[0].ExpiresAt != *f.ExpiresAt || fs[0].Conditions[0].Value != "a\x00b" {
		t.Fatalf("filter read back %+v, %v; upserted %+v", fs, err, f)
	}
}

func TestOpenInvalidURL(t *testing.T) {
	for _, u := range []string{"", "systems.db", "host=db dbname=lhk", "mysql://db/lhk"} {
		if _, err := postgres.Open(context.Background(), u); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("open %q: %v, want EINVALID", u, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=2"); err == nil {
		t.Error("opened a database nobody serves")
	}
}
