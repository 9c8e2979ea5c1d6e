// Package sqlite implements lhk.Registry on an embedded SQLite database
// (modernc.org/sqlite, pure Go, no cgo). It is lhkd's default registry.
//
// # Connections
//
// A DB holds two pools on the same file. Every write goes through one
// connection whose transactions start with BEGIN IMMEDIATE, so writes in this
// process are serialised and take SQLite's write lock up front (another process
// on the same file waits up to the busy timeout instead of failing half-way).
// Reads use a separate pool of query-only connections; in WAL mode a reader
// sees the last committed snapshot and never waits for the writer.
//
// # Durability
//
// The database runs in WAL journal mode with synchronous=NORMAL. In WAL mode
// NORMAL syncs the log at checkpoints rather than at every commit: a commit is
// still atomic and the file can never be corrupted, and a crash of lhkd itself
// loses nothing (committed frames are in the operating system's cache). Only a
// power failure or kernel crash may roll back the last transactions committed
// before it. That is the right trade for a registry whose hottest writes are
// invocation records: FULL would add an fsync to every run of every plugin.
//
// # Atomicity and audit
//
// Every mutation runs in one transaction together with its audit entries, so
// a failure or a crash at any point leaves either all of it or none of it.
//
// DB also implements lhk.WebhookStore: webhook secrets live and die with
// their plugin.
//
// # Schema
//
// Migrations are numbered .sql files embedded in the binary, recorded in the
// schema_migrations table and applied in one transaction each when Open runs.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lhk-soc/lhk"
)

var _ lhk.Registry = (*DB)(nil)

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before failing with EUNAVAILABLE.
const BusyTimeout = 5 * time.Second

// Listing limits for Invocations and AuditEntries.
const (
	DefaultLimit = 50   // used when a filter's Limit is zero
	MaxLimit     = 1000 // larger limits are lowered to this
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a registry stored in one SQLite file. It is safe for concurrent use.
type DB struct {
	path string
	wdb  *sql.DB // one connection: every write, serialised
	rdb  *sql.DB // query-only pool: every read

	now func() time.Time

	// beforeCommit, when set by tests, runs inside every write transaction
	// just before COMMIT; an error aborts the transaction.
	beforeCommit func(tx *sql.Tx) error

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating when absent) the registry database at path and applies
// any pending migrations. The directory must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, lhk.Errorf(lhk.EINVALID, "registry path %q: use a plain file path", path)
	}
	busy := strconv.FormatInt(BusyTimeout.Milliseconds(), 10)
	wdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout("+busy+")"+
		"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	db := &DB{path: path, wdb: wdb, now: func() time.Time { return time.Now().UTC() }}
	if err := db.init(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}

	rdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout("+busy+")&_pragma=foreign_keys(1)&_query_only=1")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	db.rdb = rdb
	if err := rdb.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	return db, nil
}

// init checks the connection's settings and migrates the schema.
func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (is the file system local?)", mode)
	}
	return db.migrate(ctx)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes both pools. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		if db.rdb != nil {
			errs = append(errs, db.rdb.Close())
		}
		errs = append(errs, db.wdb.Close())
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// migration is one numbered .sql file.
type migration struct {
	version int
	name    string
}

// migrate applies every embedded migration not yet recorded, each in its own
// transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	ms, err := listMigrations()
	if err != nil {
		return err
	}
	var newest int
	if err := db.wdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := ms[len(ms)-1].version; newest > known {
		return fmt.Errorf("database schema version %d is newer than this build knows (%d)", newest, known)
	}
	for _, m := range ms {
		if err := db.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs one migration unless it was applied already. The check runs
// inside the transaction so two processes opening one file agree.
func (db *DB) apply(ctx context.Context, m migration) error {
	body, err := migrations.ReadFile("migrations/" + m.name)
	if err != nil {
		return err
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, db.now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// listMigrations returns the embedded migrations in order. Names start with
// their number: 0001_init.sql.
func listMigrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	seen := map[int]string{}
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and _", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share number %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		ms = append(ms, migration{version: v, name: e.Name()})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// write runs fn in one write transaction and commits it. Any error rolls
// everything back, audit entries included.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return storeErr(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return storeErr(err)
	}
	if db.beforeCommit != nil {
		if err := db.beforeCommit(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return storeErr(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// read runs fn in one read-only transaction, so several queries see one
// snapshot.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return storeErr(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	return storeErr(fn(tx))
}

// storeErr turns SQLite's constraint and busy errors into application errors.
// Checks in the code normally catch conflicts first; this is the backstop.
func storeErr(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch code := se.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ECONFLICT, "already exists"), err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ENOTFOUND, "a referenced record does not exist"), err)
	case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "registry is busy, try again"), err)
	}
	return err
}

// audit writes one audit entry in tx. detail is encoded as compact JSON; it
// must never hold a token, a token hash or a secret.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, now time.Time, action, target string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encode audit detail: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
		now.UnixNano(), lhk.ActorFromContext(ctx), action, target, string(b)); err != nil {
		return fmt.Errorf("write audit entry %s: %w", action, err)
	}
	return nil
}

// change is an audit detail for one field: its old and new value.
type change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// fromNano turns stored Unix nanoseconds back into a UTC time.
func fromNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// encodeJSON marshals v for a JSON column.
func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// clampLimit applies DefaultLimit and MaxLimit.
func clampLimit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, lhk.Errorf(lhk.EINVALID, "limit must not be negative, got %d", n)
	case n == 0:
		return DefaultLimit, nil
	case n > MaxLimit:
		return MaxLimit, nil
	}
	return n, nil
}

// nonNil returns s, or an empty slice when s is nil, so JSON shows [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
