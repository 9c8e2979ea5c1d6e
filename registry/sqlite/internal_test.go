package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

// open opens a fresh registry in a temporary directory, closed when tb ends.
func open(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), filepath.Join(tb.TempDir(), "lhk.db"))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// as returns a context whose actor is name.
func as(name string) context.Context { return lhk.NewContextWithActor(context.Background(), name) }

// must fails tb when err is not nil.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// dump returns every row of every table as text, to compare whole states.
func dump(tb testing.TB, db *DB) string {
	tb.Helper()
	var b strings.Builder
	for _, table := range []string{"users", "plugins", "versions", "version_wasm", "schedules", "webhooks", "invocations", "audit", "sqlite_sequence"} {
		rows, err := db.rdb.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		must(tb, err)
		cols, err := rows.Columns()
		must(tb, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			must(tb, rows.Scan(ptrs...))
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		must(tb, rows.Err())
		rows.Close()
	}
	return b.String()
}

func TestOpen(t *testing.T) {
	t.Run("Pragmas", func(t *testing.T) {
		db := open(t)
		tests := []struct {
			name   string
			pool   *sql.DB
			pragma string
			want   string
		}{
			{"JournalMode", db.wdb, "journal_mode", "wal"},
			{"ForeignKeysWriter", db.wdb, "foreign_keys", "1"},
			{"ForeignKeysReader", db.rdb, "foreign_keys", "1"},
			{"SynchronousNormal", db.wdb, "synchronous", "1"},
			{"BusyTimeoutWriter", db.wdb, "busy_timeout", "5000"},
			{"BusyTimeoutReader", db.rdb, "busy_timeout", "5000"},
			{"ReaderQueryOnly", db.rdb, "query_only", "1"},
			{"WriterNotQueryOnly", db.wdb, "query_only", "0"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got string
				must(t, tt.pool.QueryRow("PRAGMA "+tt.pragma).Scan(&got))
				if got != tt.want {
					t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
				}
			})
		}
	})

	t.Run("ReadPoolCannotWrite", func(t *testing.T) {
		db := open(t)
		_, err := db.rdb.Exec("INSERT INTO audit (time, actor, action) VALUES (1, 'x', 'y')")
		if err == nil {
			t.Fatal("the read pool accepted a write")
		}
	})

	t.Run("MigrationsOnce", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lhk.db")
		for range 3 {
			db, err := Open(context.Background(), path)
			must(t, err)
			var n, v int
			must(t, db.rdb.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &v))
			ms, err := listMigrations()
			must(t, err)
			if n != len(ms) || v != ms[len(ms)-1].version {
				t.Errorf("schema_migrations has %d rows up to %d, want %d up to %d", n, v, len(ms), ms[len(ms)-1].version)
			}
			must(t, db.Close())
		}
	})

	t.Run("ErrNewerSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lhk.db")
		db, err := Open(context.Background(), path)
		must(t, err)
		_, err = db.wdb.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)")
		must(t, err)
		must(t, db.Close())
		_, err = Open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), "newer") {
			t.Errorf("opening a newer schema: got %v, want an error saying it is newer", err)
		}
	})

	t.Run("ErrBadPath", func(t *testing.T) {
		for _, p := range []string{"", ":memory:", "file:x.db", "a?b.db", filepath.Join(t.TempDir(), "missing", "lhk.db")} {
			if db, err := Open(context.Background(), p); err == nil {
				db.Close()
				t.Errorf("Open(%q) succeeded", p)
			}
		}
	})

	t.Run("CloseTwice", func(t *testing.T) {
		db := open(t)
		must(t, db.Close())
		must(t, db.Close())
	})
}

func TestVersionsImmutable(t *testing.T) {
	db := open(t)
	must(t, db.CreateUser(as("root"), &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"))
	_, err := db.CreateVersion(as("alice"), &lhk.Version{Plugin: "p"}, []byte("wasm"), "alice")
	must(t, err)
	for _, q := range []string{
		"UPDATE versions SET sha256 = 'x' WHERE plugin = 'p'",
		"UPDATE version_wasm SET wasm = x'00' WHERE plugin = 'p'",
	} {
		_, err = db.wdb.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "immutable") {
			t.Errorf("%s: got %v, want the immutability trigger", q, err)
		}
	}
}

// TestAtomic makes every mutation fail at the last moment, just before
// COMMIT, and checks that nothing of it is left: no row, no audit entry.
func TestAtomic(t *testing.T) {
	str := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	admin := lhk.RoleAdmin
	tests := []struct {
		name string
		do   func(ctx context.Context, db *DB) error
	}{
		{"CreateUser", func(ctx context.Context, db *DB) error {
			return db.CreateUser(ctx, &lhk.User{Name: "carol", Role: lhk.RoleViewer}, "hc")
		}},
		{"UpdateUser", func(ctx context.Context, db *DB) error {
			_, err := db.UpdateUser(ctx, "bob", lhk.UserUpdate{Role: &admin})
			return err
		}},
		{"SetUserToken", func(ctx context.Context, db *DB) error { return db.SetUserToken(ctx, "bob", "hb2") }},
		{"CreateVersionNewPlugin", func(ctx context.Context, db *DB) error {
			_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "fresh"}, []byte("wasm"), "alice")
			return err
		}},
		{"CreateVersion", func(ctx context.Context, db *DB) error {
			_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte("wasm v3"), "alice")
			return err
		}},
		{"UpdatePlugin", func(ctx context.Context, db *DB) error {
			_, err := db.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Description: str("x"), CurrentVersion: num(1), Owner: str("bob")})
			return err
		}},
		{"DeletePlugin", func(ctx context.Context, db *DB) error { return db.DeletePlugin(ctx, "report") }},
		{"SetGrant", func(ctx context.Context, db *DB) error {
			return db.SetGrant(ctx, "report", lhk.Grant{Capabilities: []string{lhk.CapKV}})
		}},
		{"SetSchedule", func(ctx context.Context, db *DB) error {
			return db.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@hourly"})
		}},
		{"DeleteSchedule", func(ctx context.Context, db *DB) error { return db.DeleteSchedule(ctx, "report") }},
		{"PutInvocations", func(ctx context.Context, db *DB) error {
			return db.PutInvocations(ctx, []*lhk.Invocation{
				{ID: "new", Plugin: "report", Status: lhk.StatusOK},
				{ID: "old", Plugin: "report", Status: lhk.StatusError},
			})
		}},
		{"SetWebhookSecret", func(ctx context.Context, db *DB) error {
			return db.SetWebhookSecret(ctx, "report", "whsec_x")
		}},
		{"Audit", func(ctx context.Context, db *DB) error {
			return db.Audit(ctx, lhk.AuditEntry{Action: "webhook.set"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := open(t)
			ctx := as("alice")
			must(t, db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "ha"))
			must(t, db.CreateUser(ctx, &lhk.User{Name: "bob", Role: lhk.RoleAnalyst}, "hb"))
			for i := range 2 {
				_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte(fmt.Sprint("wasm", i)), "alice")
				must(t, err)
			}
			must(t, db.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@daily"}))
			must(t, db.PutInvocations(ctx, []*lhk.Invocation{{ID: "old", Plugin: "report", Status: lhk.StatusRunning}}))
			before := dump(t, db)

			boom := errors.New("power cut")
			db.beforeCommit = func(*sql.Tx) error { return boom }
			if err := tt.do(ctx, db); !errors.Is(err, boom) {
				t.Fatalf("got %v, want the injected failure", err)
			}
			db.beforeCommit = nil
			if after := dump(t, db); after != before {
				t.Errorf("a failed transaction left changes:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			// The same mutation succeeds afterwards and does change the state,
			// so the comparison above could have failed.
			must(t, tt.do(ctx, db))
			if after := dump(t, db); after == before {
				t.Error("the mutation changed nothing even when committed")
			}
		})
	}
}

// crashEnv names the database a child process should crash in.
const crashEnv = "LHK_TEST_CRASH_DB"

// TestCrashMidWrite kills a process in the middle of a write transaction (a
// large upload whose pages have spilled into the WAL) and checks that the
// reopened database holds everything committed before and nothing of the
// interrupted transaction.
func TestCrashMidWrite(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "lhk.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidWrite$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("child: %v, want exit status 7\n%s", err, out)
	}
	// The uncommitted upload must have reached the disk, or this test would
	// prove nothing about recovery.
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() < 8<<20 {
		t.Fatalf("the child left no WAL holding the uncommitted upload: %v %v", fi, err)
	}

	db, err := Open(context.Background(), path)
	must(t, err)
	defer db.Close()
	var check string
	must(t, db.rdb.QueryRow("PRAGMA integrity_check").Scan(&check))
	if check != "ok" {
		t.Errorf("integrity_check: %s", check)
	}
	p, err := db.Plugin(context.Background(), "report")
	must(t, err)
	if len(p.Versions) != 1 || p.CurrentVersion != 1 {
		t.Errorf("report has versions %+v current %d, want only the committed version 1", p.Versions, p.CurrentVersion)
	}
	_, err = db.Plugin(context.Background(), "big")
	if lhk.ErrorCode(err) != lhk.ENOTFOUND {
		t.Errorf("the interrupted plugin exists: %v", err)
	}
	var versions, audits int
	must(t, db.rdb.QueryRow("SELECT COUNT(*) FROM versions").Scan(&versions))
	must(t, db.rdb.QueryRow("SELECT COUNT(*) FROM audit WHERE target = 'plugin/big'").Scan(&audits))
	if versions != 1 || audits != 0 {
		t.Errorf("%d versions and %d audit entries of the interrupted upload survived", versions-1, audits)
	}
	es, err := db.AuditEntries(context.Background(), lhk.AuditFilter{})
	must(t, err)
	if len(es) != 3 { // user.create, plugin.create, version.create
		t.Errorf("got %d audit entries, want the 3 committed ones", len(es))
	}
	// The store works on: the next upload of big is its version 1.
	v := &lhk.Version{Plugin: "big"}
	_, err = db.CreateVersion(as("alice"), v, []byte("small"), "alice")
	must(t, err)
	if v.Number != 1 {
		t.Errorf("after recovery big got version %d, want 1", v.Number)
	}
}

// crashChild commits some data, then dies with exit status 7 while a 16 MiB
// upload is written but not committed.
func crashChild(path string) {
	ctx := as("alice")
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte("wasm"), "alice"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	db.beforeCommit = func(*sql.Tx) error {
		// The 16 MiB module overflowed SQLite's page cache, so its pages are
		// already in the WAL file, uncommitted. Die now: no deferred
		// function, no rollback, no close, as if killed.
		os.Exit(7)
		return nil
	}
	big := make([]byte, 16<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	_, err = db.CreateVersion(ctx, &lhk.Version{Plugin: "big"}, big, "alice")
	fmt.Fprintln(os.Stderr, "not reached:", err)
	os.Exit(1)
}

// TestReadsDoNotWaitForWrites holds a write transaction open and reads
// meanwhile. Were reads serialised behind the writer, this would deadlock.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	db := open(t)
	ctx := as("alice")
	must(t, db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"))
	_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte("v1"), "alice")
	must(t, err)

	inside, release := make(chan struct{}), make(chan struct{})
	db.beforeCommit = func(*sql.Tx) error {
		close(inside)
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, []byte("v2"), "alice")
		done <- err
	}()
	<-inside
	// The writer holds the write lock with version 2 inserted, not committed.
	p, err := db.Plugin(context.Background(), "report")
	must(t, err)
	if len(p.Versions) != 1 {
		t.Errorf("a reader saw %d versions before the commit, want 1", len(p.Versions))
	}
	_, err = db.Plugins(context.Background(), lhk.PluginFilter{})
	must(t, err)
	_, err = db.UserByTokenHash(context.Background(), "h")
	must(t, err)
	_, err = db.AuditEntries(context.Background(), lhk.AuditFilter{})
	must(t, err)
	close(release)
	must(t, <-done)
	db.beforeCommit = nil
	p, err = db.Plugin(context.Background(), "report")
	must(t, err)
	if len(p.Versions) != 2 {
		t.Errorf("after the commit: %d versions, want 2", len(p.Versions))
	}
}
