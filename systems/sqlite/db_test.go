package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/sqlite"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// openTest opens an empty database in a temporary directory, closed when tb
// ends.
func openTest(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "systems.db"))
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

func TestOpenInvalidPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		_, err := sqlite.Open(context.Background(), p)
		if lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("open %q: %v, want EINVALID", p, err)
		}
	}
}

// TestReopen checks that data survives closing and that migrations run once.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "systems.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := db.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "kept", ExternalKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(ctx, "p", "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Ticket(ctx, "acme", tk.ID)
	if err != nil || got.Title != "kept" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if _, err := db.CreateTicket(ctx, &lhk.Ticket{Tenant: "acme", Title: "dup", ExternalKey: "k"}); lhk.ErrorCode(err) != lhk.ECONFLICT {
		t.Errorf("duplicate external key after reopen: %v", err)
	}
	if v, err := db.Get(ctx, "p", "k"); err != nil || v != "v" {
		t.Errorf("kv after reopen: %q, %v", v, err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Errorf("no WAL file: %v", err)
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
		if !strings.HasPrefix(tk.ID, sqlite.TicketIDPrefix) || len(tk.ID) != len(sqlite.TicketIDPrefix)+26 || seen[tk.ID] {
			t.Fatalf("ticket id %q: want a new T- and a ULID", tk.ID)
		}
		seen[tk.ID] = true
	}
	r, err := db.PublishReport(ctx, &lhk.Report{Tenant: "acme", Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, sqlite.ReportIDPrefix) || len(r.ID) != len(sqlite.ReportIDPrefix)+26 {
		t.Errorf("report id %q", r.ID)
	}
}
