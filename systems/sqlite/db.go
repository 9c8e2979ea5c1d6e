// Package sqlite is the embedded backend of lhk's filters, tickets, assets,
// reports and kv systems, on one SQLite database (modernc.org/sqlite, pure Go,
// no cgo). It is lhkd's default, kept in its own file beside the registry's
// (e.g. <data>/systems.db).
//
// # Connections
//
// As in registry/sqlite, a DB holds two pools on the same file: every write
// goes through one connection whose transactions start with BEGIN IMMEDIATE,
// and reads use a pool of query-only connections that, in WAL mode, see the
// last committed snapshot without waiting for the writer. The journal runs
// with synchronous=NORMAL: a crash of lhkd loses nothing, a power failure may
// roll back the last commits, and the file is never corrupted.
//
// # Tenants
//
// Every table holding tenant data has the tenant in its key or index, and
// every query names it: another tenant's ids, names and IPs are simply not
// found. Ticket and report ids are random (ULID-style), so they reveal neither
// how many records a database holds nor anything about another tenant.
// Cursors are bound to the tenant they were issued for.
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

var (
	_ lhk.FilterService = (*DB)(nil)
	_ lhk.TicketService = (*DB)(nil)
	_ lhk.AssetService  = (*DB)(nil)
	_ lhk.ReportService = (*DB)(nil)
	_ lhk.KVService     = (*DB)(nil)
)

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before failing with EUNAVAILABLE.
const BusyTimeout = 5 * time.Second

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the systems' store in one SQLite file. It implements
// lhk.FilterService, lhk.TicketService, lhk.AssetService, lhk.ReportService
// and lhk.KVService, and is safe for concurrent use.
type DB struct {
	path string
	wdb  *sql.DB // one connection: every write, serialised
	rdb  *sql.DB // query-only pool: every read

	now func() time.Time

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating when absent) the systems' database at path and applies
// any pending migrations. The directory must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, lhk.Errorf(lhk.EINVALID, "systems database path %q: use a plain file path", path)
	}
	busy := strconv.FormatInt(BusyTimeout.Milliseconds(), 10)
	wdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout("+busy+")"+
		"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	db := &DB{path: path, wdb: wdb, now: func() time.Time { return time.Now().UTC() }}
	if err := db.init(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
	}

	rdb, err := sql.Open("sqlite", path+"?_pragma=busy_timeout("+busy+")&_pragma=foreign_keys(1)&_query_only=1")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	db.rdb = rdb
	if err := rdb.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
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

// write runs fn in one write transaction and commits it; any error rolls
// everything back.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return storeErr(fmt.Errorf("begin: %w", err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return storeErr(err)
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
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "systems database is busy, try again"), err)
	}
	return err
}

// fromNano turns stored Unix nanoseconds back into a UTC time.
func fromNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// fromNullNano is fromNano for a nullable column.
func fromNullNano(ns sql.NullInt64) *time.Time {
	if !ns.Valid {
		return nil
	}
	t := fromNano(ns.Int64)
	return &t
}

// nullNano is the column value of an optional time.
func nullNano(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}
