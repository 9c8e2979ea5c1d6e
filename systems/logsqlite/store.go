// Package logsqlite implements lhk.LogService on an embedded SQLite database
// (modernc.org/sqlite, pure Go) in a file of its own, e.g. <data>/logs.db.
//
// # Storage
//
// Events live in one table: tenant, time, a few common ECS fields copied into
// indexed columns (host.name, user.name, source.ip, destination.ip,
// process.name, event.code, event.dataset) and the event's JSON. Other fields
// are read with json_extract. An FTS5 index (unicode61 tokens, contentless)
// over the values of each event serves free text. Every statement names the
// tenant first; the FTS index is shared, so its matches are always joined
// with the tenant's rows.
//
// # Connections
//
// Like registry/sqlite: one write connection (BEGIN IMMEDIATE, WAL,
// synchronous=NORMAL, a 64 MiB page cache for index updates) and a pool of
// query-only read connections (16 MiB page cache each). Ingest writes
// batches of events per transaction.
//
// # Bounds
//
// Requests are checked against the limits in package lhk before any SQL
// runs. Each query runs under a time budget (DefaultQueryBudget): when it
// passes, SQLite is interrupted and the caller gets ETIMEOUT, so one
// pathological query cannot hold a connection for long. Limits above
// lhk.MaxLogLimit are lowered to it, not refused.
//
// # Ids and cursors
//
// An event's "_id" is its row number encrypted with the store's key (AES), so
// ids are opaque, unique and say nothing about how many events other tenants
// have. Cursors are sealed with AES-GCM and bound to the tenant and the
// request they came from: a forged cursor, or one from another tenant or
// another search, is EINVALID.
//
// # Shared with logpg
//
// Ingest (NDJSON, flattening, ECS mapping), request checks, free-text terms,
// ids, cursors and the assembly of results live in internal/logquery,
// shared with the PostgreSQL store (systems/logpg), which passes the same
// suite and answers the same. This package holds the SQL.
package logsqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
	"github.com/lhk-soc/lhk/internal/sqlitedb"
)

var _ lhk.LogService = (*Store)(nil)

// BusyTimeout is how long a write waits for another process holding the
// database's write lock before failing with EUNAVAILABLE.
const BusyTimeout = 5 * time.Second

// DefaultQueryBudget is how long one search, top or count may run before it
// is interrupted with ETIMEOUT.
const DefaultQueryBudget = 5 * time.Second

// IngestBatch is how many events one ingest transaction writes.
const IngestBatch = 2000

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a log store in one SQLite file. It is safe for concurrent use.
type Store struct {
	path   string
	sdb    *sqlitedb.DB
	wdb    *sql.DB // sdb.W: one connection, every write, serialised
	rdb    *sql.DB // sdb.R: query-only pool, every read
	budget time.Duration

	keys *logquery.Keys // _id and cursors
}

// Option changes how Open sets up a Store.
type Option func(*Store)

// WithQueryBudget sets how long one query may run (DefaultQueryBudget when
// zero or negative).
func WithQueryBudget(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.budget = d
		}
	}
}

// Open opens (creating when absent) the log database at path and applies any
// pending migrations. The directory must exist.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if !sqlitedb.PlainPath(path) {
		return nil, lhk.Errorf(lhk.EINVALID, "log database path %q: use a plain file path", path)
	}
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	sdb, err := sqlitedb.Open(ctx, path, ms, sqlitedb.Options{
		Driver:        driverName,
		BusyTimeout:   BusyTimeout,
		WriterPragmas: []string{"cache_size(-65536)"},
		ReaderPragmas: []string{"cache_size(-16384)"},
		Name:          "log database",
	})
	if err != nil {
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	s := &Store{path: path, sdb: sdb, wdb: sdb.W, rdb: sdb.R, budget: DefaultQueryBudget}
	for _, o := range opts {
		o(s)
	}
	if err := s.loadKey(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	return s, nil
}

// loadKey reads the store's key, creating it on first use.
func (s *Store) loadKey(ctx context.Context) error {
	key, err := logquery.NewKey()
	if err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, "INSERT OR IGNORE INTO meta (key, value) VALUES ('key', ?)", key); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := s.wdb.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key'").Scan(&key); err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	s.keys, err = logquery.NewKeys(key)
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes both pools. Closing twice is harmless.
func (s *Store) Close() error { return s.sdb.Close() }

// storeErr turns SQLite's busy errors and interrupts into application errors.
func (s *Store) storeErr(ctx, budgeted context.Context, err error) error {
	if err == nil {
		return nil
	}
	if stopped := logquery.StopError(ctx, budgeted, s.budget, err); stopped != nil {
		return stopped
	}
	switch {
	case sqlitedb.IsBusy(err):
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "log store is busy, try again"), err)
	case sqlitedb.IsInterrupt(err):
		return fmt.Errorf("%w: %w", logquery.BudgetError(s.budget), err)
	}
	return err
}
