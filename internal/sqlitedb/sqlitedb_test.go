package sqlitedb_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/sqlitedb"
)

// schema has two migrations; re-running either would fail (no IF NOT EXISTS).
var schema = fstest.MapFS{
	"0001_init.sql": {Data: []byte("CREATE TABLE t (k TEXT PRIMARY KEY) STRICT;")},
	"0002_more.sql": {Data: []byte("CREATE TABLE u (k TEXT NOT NULL REFERENCES t (k)) STRICT;")},
}

func open(t *testing.T, path string) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(context.Background(), path, schema, sqlitedb.Options{ForeignKeys: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

func TestMigrationsApplyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	for range 3 {
		db := open(t, path)
		var n, v int
		if err := db.R.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		if n != 2 || v != 2 {
			t.Errorf("schema_migrations: %d rows up to %d, want 2 up to 2", n, v)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db := open(t, path)
	if _, err := db.W.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (3, '0003_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := sqlitedb.Open(context.Background(), path, schema, sqlitedb.Options{Name: "test database"})
	if err == nil || !strings.Contains(err.Error(), "test database schema version 3 is newer") {
		t.Errorf("got %v, want the newer schema refused", err)
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "x.db"))
	defer db.Close()
	ctx := context.Background()
	insert := func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO t (k) VALUES ('a')")
		return err
	}
	boom := errors.New("boom")
	if err := db.Write(ctx, func(tx *sql.Tx) error {
		if err := insert(tx); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("fn failure: got %v", err)
	}
	db.BeforeCommit = func(*sql.Tx) error { return boom }
	if err := db.Write(ctx, insert); !errors.Is(err, boom) {
		t.Fatalf("BeforeCommit failure: got %v", err)
	}
	db.BeforeCommit = nil
	count := func() (n int) {
		if err := db.Read(ctx, func(tx *sql.Tx) error { return tx.QueryRow("SELECT COUNT(*) FROM t").Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("failed writes left %d rows", n)
	}
	if err := db.Write(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("committed write: %d rows, want 1", n)
	}
	err := db.Write(ctx, insert)
	if lhk.ErrorCode(sqlitedb.MapError(err, "test")) != lhk.ECONFLICT {
		t.Errorf("duplicate key: %v, want it mapped to ECONFLICT", err)
	}
	err = db.Write(ctx, func(tx *sql.Tx) error { _, err := tx.Exec("INSERT INTO u (k) VALUES ('none')"); return err })
	if lhk.ErrorCode(sqlitedb.MapError(err, "test")) != lhk.ENOTFOUND {
		t.Errorf("foreign key: %v, want it mapped to ENOTFOUND", err)
	}
	if _, err := db.R.Exec("INSERT INTO t (k) VALUES ('b')"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	a := open(t, path)
	defer a.Close()
	b, err := sqlitedb.Open(context.Background(), path, schema, sqlitedb.Options{BusyTimeout: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	inside, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.Write(context.Background(), func(*sql.Tx) error { close(inside); <-release; return nil })
	}()
	<-inside
	err = b.Write(context.Background(), func(*sql.Tx) error { return nil })
	close(release)
	if !sqlitedb.IsBusy(err) || lhk.ErrorCode(sqlitedb.MapError(err, "test")) != lhk.EUNAVAILABLE {
		t.Errorf("second writer: %v, want busy and EUNAVAILABLE", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestBadPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro", filepath.Join(t.TempDir(), "missing", "x.db")} {
		if db, err := sqlitedb.Open(context.Background(), p, schema, sqlitedb.Options{}); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}
