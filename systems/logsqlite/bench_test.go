package logsqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/logsqlite"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// Benchmarks run on a store of LHK_BENCH_EVENTS generated events (default
// 20,000; docs/performance.md records 1,000,000), built once per run in a
// temporary directory and shared by the sub-benchmarks. The events are
// systemtest's, as in systems/logpg's benchmarks, which run both stores side
// by side.

// benchFile writes n generated events (systemtest.LogsBenchFile, shared
// with logpg's benchmarks so their figures compare).
func benchFile(tb testing.TB, dir string, n int) (path string, size int64) {
	return systemtest.LogsBenchFile(tb, dir, n)
}

// benchStore is the shared store of one benchmark run.
var benchStore struct {
	once     sync.Once
	dir      string
	s        *logsqlite.Store
	raw      *sql.DB // the same file through plain database/sql
	n        int
	ndjson   int64
	ingestNS time.Duration
	plainNS  time.Duration // the same lines inserted straight into SQLite
	err      error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchStore.s != nil {
		benchStore.s.Close()
		benchStore.raw.Close()
	}
	if benchStore.dir != "" {
		os.RemoveAll(benchStore.dir)
	}
	os.Exit(code)
}

// sharedStore builds the benchmark store once.
func sharedStore(b *testing.B) {
	b.Helper()
	benchStore.once.Do(func() {
		n := 20_000
		if v := os.Getenv("LHK_BENCH_EVENTS"); v != "" {
			if n, benchStore.err = strconv.Atoi(v); benchStore.err != nil {
				return
			}
		}
		benchStore.n = n
		if benchStore.dir, benchStore.err = os.MkdirTemp("", "lhk-logs-bench-"); benchStore.err != nil {
			return
		}
		path, size := benchFile(b, benchStore.dir, n)
		benchStore.ndjson = size
		s, err := logsqlite.Open(context.Background(), filepath.Join(benchStore.dir, "logs.db"))
		if err != nil {
			benchStore.err = err
			return
		}
		benchStore.s = s
		f, err := os.Open(path)
		if err != nil {
			benchStore.err = err
			return
		}
		defer f.Close()
		start := time.Now()
		res, err := s.Ingest(context.Background(), "", f)
		benchStore.ingestNS = time.Since(start)
		if err != nil || res.Rejected != 0 {
			benchStore.err = fmt.Errorf("ingest: %v %+v", err, res)
			return
		}
		if benchStore.plainNS, benchStore.err = plainIngest(path, filepath.Join(benchStore.dir, "plain.db")); benchStore.err != nil {
			return
		}
		benchStore.raw, benchStore.err = sql.Open("sqlite", filepath.Join(benchStore.dir, "logs.db")+"?_pragma=cache_size(-16384)&_query_only=1") // as the store's readers
	})
	if benchStore.err != nil {
		b.Fatal(benchStore.err)
	}
}

// benchRange is a week of the month of events, starting on a different day
// each time so caches do not hide the work.
func benchRange(i int) (time.Time, time.Time) { return systemtest.LogsBenchRange(i) }

func BenchmarkIngest(b *testing.B) {
	dir := b.TempDir()
	path, size := benchFile(b, dir, 10_000)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s, err := logsqlite.Open(context.Background(), filepath.Join(dir, "logs.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(size)
	events := 0
	for b.Loop() {
		res, err := s.Ingest(context.Background(), "", strings.NewReader(string(data)))
		if err != nil {
			b.Fatal(err)
		}
		events += res.Accepted
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkStore(b *testing.B) {
	sharedStore(b)
	s, raw := benchStore.s, benchStore.raw
	ctx := context.Background()
	b.Run("Build", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(benchStore.n)/benchStore.ingestNS.Seconds(), "ingest-events/s")
		b.ReportMetric(float64(benchStore.n)/benchStore.plainNS.Seconds(), "plain-ingest-events/s")
		b.ReportMetric(benchStore.plainNS.Seconds()/benchStore.ingestNS.Seconds(), "ingest-rate-vs-plain")
		var size int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(filepath.Join(benchStore.dir, "logs.db"+suffix)); err == nil {
				size += st.Size()
			}
		}
		b.ReportMetric(float64(size)/float64(benchStore.n), "disk-B/event")
		var plain int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(filepath.Join(benchStore.dir, "plain.db"+suffix)); err == nil {
				plain += st.Size()
			}
		}
		b.ReportMetric(float64(plain)/float64(benchStore.n), "plain-disk-B/event")
		b.ReportMetric(float64(benchStore.ndjson)/float64(benchStore.n), "ndjson-B/event")
	})

	// Each case runs through the library and, beside it, as the same SQL
	// straight on the file with database/sql (no validation, no JSON decoding
	// of events, no cursor).
	type benchCase struct {
		name string
		lib  func(from, to time.Time, i int) error
		sql  string
		args func(from, to time.Time, i int) []any
	}
	host := func(i int) string { return fmt.Sprintf("WS%04d.corp.example", i%500) }
	const ftsSQL = `SELECT seq, ts, tenant, raw FROM events WHERE tenant = ? AND ts >= ? AND ts < ?
		AND seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?) ORDER BY ts DESC, seq DESC LIMIT ?`
	text := func(q, fts string) benchCase {
		return benchCase{"FreeText/" + q,
			func(from, to time.Time, _ int) error {
				_, err := s.Search(ctx, lhk.SearchRequest{Tenant: "acme", Query: q, From: from, To: to})
				return err
			}, ftsSQL,
			func(from, to time.Time, _ int) []any { return []any{"acme", from.UnixNano(), to.UnixNano(), fts, 101} }}
	}
	cases := []benchCase{
		text("mimikatz", `"mimikatz"`),
		text("powershell -enc", `"powershell" AND "enc"`),
		text("rundll32.exe user017", `"rundll32 exe" AND "user017"`),
		{"Fields/host+process",
			func(from, to time.Time, i int) error {
				_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
					{Field: "host.name", Op: "eq", Value: host(i)}, {Field: "process.name", Op: "eq", Value: "powershell.exe"}}})
				return err
			},
			`SELECT seq, ts, tenant, raw FROM events WHERE tenant = ? AND ts >= ? AND ts < ?
				AND host = ? AND process = ? ORDER BY ts DESC, seq DESC LIMIT ?`,
			func(from, to time.Time, i int) []any {
				return []any{"acme", from.UnixNano(), to.UnixNano(), host(i), "powershell.exe", 101}
			}},
		{"Fields/cidr+port",
			func(from, to time.Time, i int) error {
				_, err := s.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: "acme", From: from, To: to, Fields: []lhk.Condition{
					{Field: "source.ip", Op: "cidr", Value: "10.2.0.0/16"}, {Field: "destination.port", Op: "eq", Value: 445}}})
				return err
			},
			// The closest plain SQL to cidr: a text range on the column.
			`SELECT seq, ts, tenant, raw FROM events WHERE tenant = ? AND ts >= ? AND ts < ?
				AND src_ip >= '10.2.' AND src_ip < '10.2/' AND json_extract(raw, '$."destination.port"') = 445
				ORDER BY ts DESC, seq DESC LIMIT ?`,
			func(from, to time.Time, i int) []any { return []any{"acme", from.UnixNano(), to.UnixNano(), 101} }},
	}
	for _, c := range cases {
		b.Run(c.name+"/lhk", func(b *testing.B) {
			systemtest.LogsBenchTimed(b, func(i int) {
				from, to := benchRange(i)
				if err := c.lib(from, to, i); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(c.name+"/sql", func(b *testing.B) {
			systemtest.LogsBenchTimed(b, func(i int) {
				from, to := benchRange(i)
				rawSearch(b, raw, c.sql, c.args(from, to, i)...)
			})
		})
	}
	b.Run("Top/user.name/lhk", func(b *testing.B) {
		systemtest.LogsBenchTimed(b, func(i int) {
			from, to := benchRange(i)
			if _, err := s.Top(ctx, lhk.TopRequest{Tenant: "acme", Field: "user.name", From: from, To: to,
				Fields: []lhk.Condition{{Field: "event.code", Op: "eq", Value: "4625"}}}); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("Top/user.name/sql", func(b *testing.B) {
		systemtest.LogsBenchTimed(b, func(i int) {
			from, to := benchRange(i)
			rows, err := raw.Query(`SELECT v, c, SUM(c) OVER () FROM (SELECT usr AS v, COUNT(*) AS c FROM events
				WHERE tenant = ? AND ts >= ? AND ts < ? AND code = '4625' GROUP BY 1 HAVING v IS NOT NULL) ORDER BY c DESC, v LIMIT 10`,
				"acme", from.UnixNano(), to.UnixNano())
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
				var v string
				var c, t int64
				rows.Scan(&v, &c, &t)
			}
			rows.Close()
		})
	})
	b.Run("RSS", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(rssMB(), "rss-MB")
	})
}

// plainIngest is the ingest baseline: the same NDJSON lines inserted
// straight into SQLite by database/sql, as a program with no search in mind
// would store them: each line's @timestamp and tenant read with
// encoding/json, the line kept as it came in a table with one (tenant, ts)
// index, in transactions of 2,000 rows on one connection with the store's
// journal settings (WAL, synchronous NORMAL). No ECS mapping, no word index,
// no field columns. It returns how long the inserts took.
func plainIngest(ndjson, path string) (time.Duration, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, tenant TEXT NOT NULL, raw TEXT NOT NULL);
		CREATE INDEX events_tenant_ts ON events (tenant, ts)`); err != nil {
		return 0, err
	}
	f, err := os.Open(ndjson)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<20)
	var tx *sql.Tx
	var st *sql.Stmt
	n := 0
	for sc.Scan() {
		if n%2000 == 0 {
			if tx != nil {
				if err := tx.Commit(); err != nil {
					return 0, err
				}
			}
			if tx, err = db.Begin(); err != nil {
				return 0, err
			}
			if st, err = tx.Prepare(`INSERT INTO events (ts, tenant, raw) VALUES (?, ?, ?)`); err != nil {
				return 0, err
			}
		}
		var e struct {
			TS     time.Time `json:"@timestamp"`
			Tenant string    `json:"tenant"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return 0, fmt.Errorf("line %d: %w", n+1, err)
		}
		if _, err := st.Exec(e.TS.UnixNano(), e.Tenant, sc.Text()); err != nil {
			return 0, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// rawSearch runs a search straight on the database and reads every row.
func rawSearch(b *testing.B, db *sql.DB, q string, args ...any) {
	rows, err := db.Query(q, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, ts int64
		var tenant, raw string
		if err := rows.Scan(&seq, &ts, &tenant, &raw); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// rssMB reads the process's resident set size (Linux; 0 elsewhere).
func rssMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
