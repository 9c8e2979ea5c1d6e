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
package logsqlite

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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
	wdb    *sql.DB // one connection: every write, serialised
	rdb    *sql.DB // query-only pool: every read
	budget time.Duration

	idBlock cipher.Block // encrypts row numbers into _id
	seal    cipher.AEAD  // seals cursors

	closeOnce sync.Once
	closeErr  error
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
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, lhk.Errorf(lhk.EINVALID, "log database path %q: use a plain file path", path)
	}
	busy := strconv.FormatInt(BusyTimeout.Milliseconds(), 10)
	wdb, err := sql.Open(driverName, path+"?_pragma=busy_timeout("+busy+")"+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	s := &Store{path: path, wdb: wdb, budget: DefaultQueryBudget}
	for _, o := range opts {
		o(s)
	}
	if err := s.init(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	rdb, err := sql.Open(driverName, path+"?_pragma=busy_timeout("+busy+")&_pragma=cache_size(-16384)&_query_only=1")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	s.rdb = rdb
	if err := rdb.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open log store %q: %w", path, err)
	}
	return s, nil
}

// init checks the journal mode, migrates the schema and loads the key.
func (s *Store) init(ctx context.Context) error {
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (is the file system local?)", mode)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	return s.loadKey(ctx)
}

// loadKey reads the store's key, creating it on first use.
func (s *Store) loadKey(ctx context.Context) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	if _, err := s.wdb.ExecContext(ctx, "INSERT OR IGNORE INTO meta (key, value) VALUES ('key', ?)", key); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := s.wdb.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'key'").Scan(&key); err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	if len(key) != 32 {
		return fmt.Errorf("stored key is %d bytes, want 32", len(key))
	}
	// Two keys from one: ids and cursors never share a cipher use.
	b, err := aes.NewCipher(key[:16])
	if err != nil {
		return err
	}
	s.idBlock = b
	c, err := aes.NewCipher(key[16:])
	if err != nil {
		return err
	}
	s.seal, err = cipher.NewGCM(c)
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes both pools. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.rdb != nil {
			errs = append(errs, s.rdb.Close())
		}
		errs = append(errs, s.wdb.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// migration is one numbered .sql file.
type migration struct {
	version int
	name    string
}

// migrate applies every embedded migration not yet recorded, each in its own
// transaction.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
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
	if err := s.wdb.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := ms[len(ms)-1].version; newest > known {
		return fmt.Errorf("log database schema version %d is newer than this build knows (%d)", newest, known)
	}
	for _, m := range ms {
		if err := s.apply(ctx, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

// apply runs one migration unless it was applied already.
func (s *Store) apply(ctx context.Context, m migration) error {
	body, err := migrations.ReadFile("migrations/" + m.name)
	if err != nil {
		return err
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
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
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// listMigrations returns the embedded migrations in order.
func listMigrations() ([]migration, error) {
	ents, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and _", e.Name())
		}
		ms = append(ms, migration{version: v, name: e.Name()})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// storeErr turns SQLite's busy errors and interrupts into application errors.
func (s *Store) storeErr(ctx, budgeted context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	if budgeted != nil && budgeted.Err() != nil {
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ETIMEOUT,
			"the query ran past its %s budget: narrow the time range or add conditions", s.budget), err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "log store is busy, try again"), err)
		case code&0xff == sqlite3.SQLITE_INTERRUPT:
			return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ETIMEOUT,
				"the query ran past its %s budget: narrow the time range or add conditions", s.budget), err)
		}
	}
	return err
}
