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
	"fmt"
	"io/fs"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/sqlitedb"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

var _ lhk.Registry = (*DB)(nil)

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before failing with EUNAVAILABLE.
const BusyTimeout = 5 * time.Second

// Listing limits for Invocations and AuditEntries.
const (
	DefaultLimit = rule.DefaultLimit // used when a filter's Limit is zero
	MaxLimit     = rule.MaxLimit     // larger limits are lowered to this
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a registry stored in one SQLite file. It is safe for concurrent use.
type DB struct {
	path string
	sdb  *sqlitedb.DB
	wdb  *sql.DB // sdb.W: one connection, every write, serialised
	rdb  *sql.DB // sdb.R: query-only pool, every read

	now func() time.Time

	// beforeCommit, when set by tests, runs inside every write transaction
	// just before COMMIT; an error aborts the transaction.
	beforeCommit func(tx *sql.Tx) error
}

// Open opens (creating when absent) the registry database at path and applies
// any pending migrations. The directory must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	if !sqlitedb.PlainPath(path) {
		return nil, lhk.Errorf(lhk.EINVALID, "registry path %q: use a plain file path", path)
	}
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	sdb, err := sqlitedb.Open(ctx, path, ms, sqlitedb.Options{BusyTimeout: BusyTimeout, ForeignKeys: true})
	if err != nil {
		return nil, fmt.Errorf("open registry %q: %w", path, err)
	}
	db := &DB{path: path, sdb: sdb, wdb: sdb.W, rdb: sdb.R, now: func() time.Time { return time.Now().UTC() }}
	sdb.BeforeCommit = func(tx *sql.Tx) error {
		if db.beforeCommit != nil {
			return db.beforeCommit(tx)
		}
		return nil
	}
	return db, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes both pools. Closing twice is harmless.
func (db *DB) Close() error { return db.sdb.Close() }

// write runs fn in one write transaction and commits it. Any error rolls
// everything back, audit entries included.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return storeErr(db.sdb.Write(ctx, fn))
}

// read runs fn in one read-only transaction, so several queries see one
// snapshot.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return storeErr(db.sdb.Read(ctx, fn))
}

// storeErr turns SQLite's constraint and busy errors into application errors.
// Checks in the code normally catch conflicts first; this is the backstop.
func storeErr(err error) error { return sqlitedb.MapError(err, "registry") }

// audit writes one audit entry in tx. detail is encoded as compact JSON; it
// must never hold a token, a token hash or a secret.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, now time.Time, action, target string, detail any) error {
	d, err := rule.EncodeDetail(detail)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit (time, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
		now.UnixNano(), lhk.ActorFromContext(ctx), action, target, d); err != nil {
		return fmt.Errorf("write audit entry %s: %w", action, err)
	}
	return nil
}

// fromNano turns stored Unix nanoseconds back into a UTC time.
func fromNano(ns int64) time.Time { return time.Unix(0, ns).UTC() }
