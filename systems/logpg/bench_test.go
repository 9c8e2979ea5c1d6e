package logpg_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/systems/logpg"
	"github.com/lhk-soc/lhk/systems/logsqlite"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// The benchmarks run logsqlite and logpg side by side on the same
// LHK_BENCH_EVENTS generated events (default 20,000; systemtest's, as in
// logsqlite's own benchmarks), so one run compares them:
//
//	LHK_TEST_POSTGRES=postgres://… LHK_BENCH_EVENTS=200000 go test -run '^$' -bench . ./systems/logpg/
//
// Each case is a sub-benchmark per store: FreeText/mimikatz/sqlite,
// FreeText/mimikatz/postgres…

// benchBackend is one store under benchmark.
type benchBackend struct {
	name   string
	s      lhk.LogService
	ingest time.Duration
	disk   func() int64 // bytes the store's events take on disk
}

// benchEvents is the number of events of the shared stores.
func benchEvents(b *testing.B) int {
	n := 20_000
	if v := os.Getenv("LHK_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("LHK_BENCH_EVENTS: %v", err)
		}
	}
	return n
}

// benchBackends builds both stores with the same n events. The PostgreSQL
// one is vacuumed and analyzed after ingest, as autovacuum would do.
func benchBackends(b *testing.B, n int) []*benchBackend {
	ctx := context.Background()
	url := pgdb.TestURL(b, "logpg bench") // skips without LHK_TEST_POSTGRES
	dir := b.TempDir()
	path, _ := systemtest.LogsBenchFile(b, dir, n)
	lite, err := logsqlite.Open(ctx, filepath.Join(dir, "logs.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { lite.Close() })
	pg, err := logpg.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pg.Close() })
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	backends := []*benchBackend{
		{name: "sqlite", s: lite, disk: func() int64 {
			var size int64
			for _, suffix := range []string{"", "-wal"} {
				if st, err := os.Stat(filepath.Join(dir, "logs.db"+suffix)); err == nil {
					size += st.Size()
				}
			}
			return size
		}},
		{name: "postgres", s: pg, disk: func() int64 {
			var size int64
			if err := conn.QueryRow(ctx, "SELECT pg_total_relation_size('events')").Scan(&size); err != nil {
				b.Fatal(err)
			}
			return size
		}},
	}
	for _, be := range backends {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := be.s.Ingest(ctx, "", f)
		be.ingest = time.Since(start)
		f.Close()
		if err != nil || res.Rejected != 0 {
			b.Fatalf("%s ingest: %v %+v", be.name, err, res)
		}
	}
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	return backends
}

// BenchmarkCompare runs the cases of logsqlite's BenchmarkStore on both
// stores.
func BenchmarkCompare(b *testing.B) {
	n := benchEvents(b)
	backends := benchBackends(b, n)
	ctx := context.Background()
	for _, be := range backends {
		b.Run("Build/"+be.name, func(b *testing.B) {
			for b.Loop() {
			}
			b.ReportMetric(float64(n)/be.ingest.Seconds(), "ingest-events/s")
			b.ReportMetric(float64(be.disk())/float64(n), "disk-B/event")
		})
	}
	host := func(i int) string { return fmt.Sprintf("WS%04d.corp.example", i%500) }
	type benchCase struct {
		name string
		run  func(s lhk.LogService, from, to time.Time, i int) error
	}
	text := func(q string) benchCase {
		return benchCase{"FreeText/" + strings.ReplaceAll(q, " ", "_"), func(s lhk.LogService, from, to time.Time, _ int) error {
			_, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: q, From: from, To: to})
			return err
		}}
	}
	cases := []benchCase{
		text("mimikatz"),
		text("powershell -enc"),
		text("rundll32.exe user017"),
		{"Fields/host+process", func(s lhk.LogService, from, to time.Time, i int) error {
			_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
				{Field: "host.name", Op: lhk.OpEq, Value: host(i)}, {Field: "process.name", Op: lhk.OpEq, Value: "powershell.exe"}}})
			return err
		}},
		{"Fields/eq-process", func(s lhk.LogService, from, to time.Time, i int) error {
			_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
				{Field: "process.name", Op: lhk.OpEq, Value: "mimikatz.exe"}}})
			return err
		}},
		{"Fields/cidr+port", func(s lhk.LogService, from, to time.Time, i int) error {
			_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
				{Field: "source.ip", Op: lhk.OpCIDR, Value: "10.2.0.0/16"}, {Field: "destination.port", Op: lhk.OpEq, Value: 445}}})
			return err
		}},
		{"Fields/cidr-rare", func(s lhk.LogService, from, to time.Time, i int) error {
			_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
				{Field: "source.ip", Op: lhk.OpCIDR, Value: fmt.Sprintf("10.1.%d.0/24", i%256)}}})
			return err
		}},
		{"Top/user.name", func(s lhk.LogService, from, to time.Time, _ int) error {
			_, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "user.name", From: from, To: to,
				Fields: []lhk.Condition{{Field: "event.code", Op: lhk.OpEq, Value: "4625"}}})
			return err
		}},
		{"Count/event.code", func(s lhk.LogService, from, to time.Time, _ int) error {
			_, err := s.Count(ctx, lhk.CountRequest{Tenant: "acme", From: from, To: to,
				Fields: []lhk.Condition{{Field: "event.code", Op: lhk.OpEq, Value: "4625"}}})
			return err
		}},
	}
	for _, c := range cases {
		for _, be := range backends {
			b.Run(c.name+"/"+be.name, func(b *testing.B) {
				systemtest.LogsBenchTimed(b, func(i int) {
					from, to := systemtest.LogsBenchRange(i)
					if err := c.run(be.s, from, to, i); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

// BenchmarkCompareIngest ingests the same 10,000 events again and again
// into each store, as logsqlite's BenchmarkIngest does.
func BenchmarkCompareIngest(b *testing.B) {
	ctx := context.Background()
	url := pgdb.TestURL(b, "logpg bench ingest")
	dir := b.TempDir()
	path, size := systemtest.LogsBenchFile(b, dir, 10_000)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var s lhk.LogService
			if name == "sqlite" {
				lite, err := logsqlite.Open(ctx, filepath.Join(b.TempDir(), "logs.db"))
				if err != nil {
					b.Fatal(err)
				}
				defer lite.Close()
				s = lite
			} else {
				pg, err := logpg.Open(ctx, url)
				if err != nil {
					b.Fatal(err)
				}
				defer pg.Close()
				s = pg
			}
			b.SetBytes(size)
			events := 0
			for b.Loop() {
				res, err := s.Ingest(ctx, "", strings.NewReader(string(data)))
				if err != nil {
					b.Fatal(err)
				}
				events += res.Accepted
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
