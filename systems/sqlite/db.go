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
//
// # Rules
//
// Validation, normalisation, ids, cursors and the report renderer live in
// internal/state and internal/markdown, shared with the PostgreSQL backend
// (systems/postgres), so both accept and return the same things.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/sqlitedb"
	"github.com/lhk-soc/lhk/internal/state"
)

var (
	_ lhk.FilterService = (*DB)(nil)
	_ lhk.TicketService = (*DB)(nil)
	_ lhk.AssetService  = (*DB)(nil)
	_ lhk.ReportService = (*DB)(nil)
	_ lhk.KVService     = (*DB)(nil)
)

// Id prefixes: a ticket or report id is the prefix and a ULID. Ids are
// opaque: callers must not parse them.
const (
	TicketIDPrefix = state.TicketIDPrefix
	ReportIDPrefix = state.ReportIDPrefix
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
	sdb  *sqlitedb.DB // one write connection and a query-only read pool

	now func() time.Time
}

// Open opens (creating when absent) the systems' database at path and applies
// any pending migrations. The directory must exist.
func Open(ctx context.Context, path string) (*DB, error) {
	if !sqlitedb.PlainPath(path) {
		return nil, lhk.Errorf(lhk.EINVALID, "systems database path %q: use a plain file path", path)
	}
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
	}
	sdb, err := sqlitedb.Open(ctx, path, ms, sqlitedb.Options{BusyTimeout: BusyTimeout, ForeignKeys: true})
	if err != nil {
		return nil, fmt.Errorf("open systems database %q: %w", path, err)
	}
	return &DB{path: path, sdb: sdb, now: func() time.Time { return time.Now().UTC() }}, nil
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// Close closes both pools. Closing twice is harmless.
func (db *DB) Close() error { return db.sdb.Close() }

// write runs fn in one write transaction and commits it; any error rolls
// everything back.
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
func storeErr(err error) error { return sqlitedb.MapError(err, "systems database") }

// found returns the record a query for one row found: nil and no error
// when it found none.
func found[T any](r *T, err error) (*T, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
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
