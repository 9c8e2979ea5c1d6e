package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk/internal/pgdb"
)

// TestIngestCommand: `lhkd ingest` loads the Windows dataset into the logs
// store `lhkd serve` opens with the same --data and --db, and a daemon started
// on them finds the events.
func TestIngestCommand(t *testing.T) {
	for _, c := range logBackends {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Stat(datasetPath); err != nil {
				t.Skipf("dataset not available (%v): the shared datasets folder is absent", err)
			}
			db := c.db(t)
			dir := t.TempDir()
			args := []string{"ingest", "--data", dir, "--tenant", "acme", datasetPath}
			// LHK_DB is what an operator sets once for serve and ingest.
			t.Setenv("LHK_DB", db)
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("lhkd ingest: %v\n%s", err, stderr.String())
			}
			var res struct{ Accepted, Rejected int }
			if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
				t.Fatalf("ingest output %q: %v", stdout.String(), err)
			}
			if res.Accepted != 2067 || res.Rejected != 0 {
				t.Fatalf("ingest = %+v, want 2067 accepted\n%s", res, stderr.String())
			}
			_, err := os.Stat(filepath.Join(dir, "logs.db"))
			if db != "" && err == nil {
				t.Fatal("with --db a PostgreSQL URL, ingest wrote logs.db in the data directory")
			}
			if db == "" && err != nil {
				t.Fatalf("without --db, no logs.db in the data directory: %v", err)
			}

			d := startDaemon(t, dir)
			search := func(tenant, query string) map[string]any {
				body := fmt.Sprintf(`{"tenant":%q,"query":%q,"from":"2020-09-01T00:00:00Z","to":"2020-10-01T00:00:00Z","limit":5}`, tenant, query)
				return d.must(t, http.StatusOK, "POST", "/v1/logs/search", d.Admin, []byte(body)).JSON(t)
			}
			evs, _ := search("acme", "launcher.vbs")["events"].([]any)
			if len(evs) == 0 {
				t.Fatal("the daemon finds none of the ingested events")
			}
			if b, _ := json.Marshal(evs); !strings.Contains(strings.ToLower(string(b)), "wscript.exe") {
				t.Fatalf("launcher.vbs events lack wscript.exe: %.300s", b)
			}
			count := d.must(t, http.StatusOK, "POST", "/v1/logs/count", d.Admin, []byte(`{"tenant":"acme","from":"2020-09-01T00:00:00Z","to":"2020-10-01T00:00:00Z"}`)).JSON(t)
			if count["count"] != float64(res.Accepted) {
				t.Fatalf("count = %v, ingest accepted %d", count, res.Accepted)
			}
			if evs, _ := search("globex", "launcher.vbs")["events"].([]any); len(evs) != 0 {
				t.Fatalf("--tenant acme events found in globex: %d", len(evs))
			}
		})
	}
}

// TestIngestCommandErrors: a --db that is no database URL and a missing file
// are clear errors.
func TestIngestCommandErrors(t *testing.T) {
	t.Setenv("LHK_DB", "")
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"ingest", "--data", dir, "--db", "mysql://u:secret@h/db", "x.ndjson"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("bad --db: %v", err)
	}
	err = run(context.Background(), []string{"ingest", "--data", dir, filepath.Join(dir, "missing.ndjson")}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "missing.ndjson") {
		t.Fatalf("missing file: %v", err)
	}
}

// logBackends are the --db values a test runs lhkd with: the embedded SQLite,
// and PostgreSQL when LHK_TEST_POSTGRES names a database (skipped otherwise).
var logBackends = []struct {
	name string
	db   func(t *testing.T) string
}{
	{"SQLite", func(*testing.T) string { return "" }},
	{"PostgreSQL", func(t *testing.T) string { return pgdb.TestURL(t, "") }},
}

// TestFiltersStatsRange: filters_stats refuses a missing, reversed or
// over-long time range on every backend, with no filters and with one.
func TestFiltersStatsRange(t *testing.T) {
	for _, c := range logBackends {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("LHK_DB", c.db(t))
			d := startDaemon(t, t.TempDir())
			for _, withFilter := range []bool{false, true} {
				if withFilter {
					d.must(t, http.StatusOK, "POST", "/v1/filters/upsert", d.Admin, []byte(`{"tenant":"acme","name":"dns","reason":"r","conditions":[{"field":"event.code","op":"eq","value":"22"}]}`))
				}
				for name, body := range map[string]string{
					"no range":  `{"tenant":"acme"}`,
					"no to":     `{"tenant":"acme","from":"2020-09-01T00:00:00Z"}`,
					"reversed":  `{"tenant":"acme","from":"2020-10-01T00:00:00Z","to":"2020-09-01T00:00:00Z"}`,
					"100 years": `{"tenant":"acme","from":"1970-01-01T00:00:00Z","to":"2070-01-01T00:00:00Z"}`,
				} {
					r := d.must(t, http.StatusBadRequest, "POST", "/v1/filters/stats", d.Admin, []byte(body))
					if code := r.JSON(t)["error"].(map[string]any)["code"]; code != "invalid" {
						t.Errorf("%s (filter %v): %s", name, withFilter, r.Body)
					}
				}
				st := d.must(t, http.StatusOK, "POST", "/v1/filters/stats", d.Admin, []byte(`{"tenant":"acme","from":"2020-09-01T00:00:00Z","to":"2020-10-01T00:00:00Z"}`)).JSON(t)
				if n := len(st["stats"].([]any)); n != map[bool]int{false: 0, true: 1}[withFilter] {
					t.Errorf("a valid range (filter %v): %v", withFilter, st)
				}
			}
		})
	}
}
