// Package sqlitedb opens lhk's embedded SQLite databases (modernc.org/sqlite,
// pure Go, no cgo) the one way they are all opened: registry/sqlite,
// systems/sqlite and systems/logsqlite share it.
//
// # Connections
//
// A DB holds two pools on the same file. Every write goes through W, one
// connection whose transactions start with BEGIN IMMEDIATE, so writes in this
// process are serialised and take SQLite's write lock up front (another
// process on the same file waits up to the busy timeout instead of failing
// half-way). Reads use R, a pool of query-only connections; in WAL mode a
// reader sees the last committed snapshot and never waits for the writer.
//
// The journal runs in WAL mode with synchronous=NORMAL: a commit is atomic and
// the file is never corrupted, a crash of the process loses nothing, and only
// a power failure or kernel crash may roll back the last commits. Open refuses
// a file whose journal mode will not turn to WAL (a network file system).
//
// # Schema
//
// Migrations are numbered .sql files (0001_init.sql) at the root of an fs.FS,
// usually an embedded directory. Open records them in the schema_migrations
// table and applies each pending one in a transaction of its own, checking
// inside that transaction whether it was applied already, so two processes
// opening one file agree. A database whose recorded version is newer than the
// newest migration given is refused.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/lhk-soc/lhk"
)

// DefaultBusyTimeout is used when Options.BusyTimeout is zero.
const DefaultBusyTimeout = 5 * time.Second

// Options say how Open sets a database up. The zero value is usable.
type Options struct {
	// Driver is the database/sql driver name: "sqlite" when empty. A package
	// that registers its own modernc.org/sqlite driver (to add SQL
	// functions) names it here.
	Driver string

	// BusyTimeout is how long a connection waits for another process's lock
	// before failing with SQLITE_BUSY (DefaultBusyTimeout when zero).
	BusyTimeout time.Duration

	// ForeignKeys turns foreign key enforcement on in both pools.
	ForeignKeys bool

	// WriterPragmas and ReaderPragmas are extra pragmas, such as
	// "cache_size(-65536)", set on every connection of the write and the
	// read pool.
	WriterPragmas []string
	ReaderPragmas []string

	// Name names the database in the newer-schema error: "database" when
	// empty ("log database" gives "log database schema version ...").
	Name string
}

// DB is one SQLite file opened with a write connection and a read pool. It is
// safe for concurrent use.
type DB struct {
	// W is the write pool: one connection whose transactions begin
	// IMMEDIATE. Every statement that changes the database runs on it.
	W *sql.DB
	// R is the read pool: query-only connections, at least four.
	R *sql.DB

	// BeforeCommit, when set (by tests), runs inside every Write transaction
	// just before COMMIT; an error aborts the transaction. Set it only while
	// no Write runs.
	BeforeCommit func(tx *sql.Tx) error

	closeOnce sync.Once
	closeErr  error
}

// PlainPath reports whether path names a plain file: not empty, not
// ":memory:", not a "file:" URI and free of '?' and '#', which would start a
// DSN's query or fragment.
func PlainPath(path string) bool {
	return path != "" && !strings.ContainsAny(path, "?#") && !strings.HasPrefix(path, "file:") && path != ":memory:"
}

// Open opens (creating when absent) the SQLite file at path, checks that it
// runs in WAL mode and applies the migrations in fsys that are not yet
// recorded. The directory must exist. A path that is not PlainPath is
// EINVALID. Errors are not wrapped with the path: callers say which database
// failed to open.
func Open(ctx context.Context, path string, migrations fs.FS, opts Options) (*DB, error) {
	if !PlainPath(path) {
		return nil, lhk.Errorf(lhk.EINVALID, "database path %q: use a plain file path", path)
	}
	driver := opts.Driver
	if driver == "" {
		driver = "sqlite"
	}
	timeout := opts.BusyTimeout
	if timeout <= 0 {
		timeout = DefaultBusyTimeout
	}
	busy := "_pragma=busy_timeout(" + strconv.FormatInt(timeout.Milliseconds(), 10) + ")"
	fk := ""
	if opts.ForeignKeys {
		fk = "&_pragma=foreign_keys(1)"
	}

	wdsn := path + "?" + busy + fk + "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		pragmas(opts.WriterPragmas) + "&_txlock=immediate"
	wdb, err := sql.Open(driver, wdsn)
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)

	db := &DB{W: wdb}
	if err := db.init(ctx, migrations, opts.Name); err != nil {
		wdb.Close()
		return nil, err
	}

	rdb, err := sql.Open(driver, path+"?"+busy+fk+pragmas(opts.ReaderPragmas)+"&_query_only=1")
	if err != nil {
		wdb.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	db.R = rdb
	if err := rdb.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// pragmas renders extra pragmas as DSN parameters.
func pragmas(ps []string) string {
	var sb strings.Builder
	for _, p := range ps {
		sb.WriteString("&_pragma=")
		sb.WriteString(p)
	}
	return sb.String()
}

// init checks the journal mode and migrates the schema.
func (db *DB) init(ctx context.Context, migrations fs.FS, name string) error {
	var mode string
	if err := db.W.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal (is the file system local?)", mode)
	}
	return db.migrate(ctx, migrations, name)
}

// Close closes both pools. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		var errs []error
		if db.R != nil {
			errs = append(errs, db.R.Close())
		}
		errs = append(errs, db.W.Close())
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// Write runs fn in one write transaction (BEGIN IMMEDIATE) and commits it;
// any error, fn's or BeforeCommit's, rolls everything back. Begin and commit
// failures are wrapped as "begin: ..." and "commit: ...". Errors are
// returned as they are: map them with MapError or IsBusy.
func (db *DB) Write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if db.BeforeCommit != nil {
		if err := db.BeforeCommit(tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Read runs fn in one read-only transaction on the read pool, so several
// queries see one snapshot. Errors are returned as they are.
func (db *DB) Read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// Migration is one numbered .sql file.
type Migration struct {
	Version int
	Name    string // the file's name, e.g. 0001_init.sql
}

// ListMigrations returns the migrations at the root of fsys in order. Every
// file there must be named with a positive number, '_' and the rest
// (0001_init.sql); two files may not share a number; there must be at least
// one.
func ListMigrations(fsys fs.FS) ([]Migration, error) {
	ents, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
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
		ms = append(ms, Migration{Version: v, Name: e.Name()})
	}
	if len(ms) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrate applies every migration not yet recorded, each in its own
// transaction.
func (db *DB) migrate(ctx context.Context, fsys fs.FS, name string) error {
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	ms, err := ListMigrations(fsys)
	if err != nil {
		return err
	}
	var newest int
	if err := db.W.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if name == "" {
		name = "database"
	}
	if known := ms[len(ms)-1].Version; newest > known {
		return fmt.Errorf("%s schema version %d is newer than this build knows (%d)", name, newest, known)
	}
	for _, m := range ms {
		if err := db.apply(ctx, fsys, m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// apply runs one migration unless it was applied already. The check runs
// inside the transaction so two processes opening one file agree.
func (db *DB) apply(ctx context.Context, fsys fs.FS, m Migration) error {
	body, err := fs.ReadFile(fsys, m.Name)
	if err != nil {
		return err
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.Version, m.Name, time.Now().UnixNano()); err != nil {
		return err
	}
	return tx.Commit()
}

// code returns the extended result code of the SQLite error in err's chain.
func code(err error) (int, bool) {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return 0, false
	}
	return se.Code(), true
}

// IsBusy reports whether err holds SQLite's SQLITE_BUSY or SQLITE_LOCKED
// (any extended code of either): another connection held a lock too long.
func IsBusy(err error) bool {
	c, ok := code(err)
	return ok && (c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED)
}

// IsInterrupt reports whether err holds SQLITE_INTERRUPT: a statement was
// interrupted, normally because its context ended.
func IsInterrupt(err error) bool {
	c, ok := code(err)
	return ok && c&0xff == sqlite3.SQLITE_INTERRUPT
}

// MapError turns SQLite's constraint and busy errors into application errors,
// keeping err in the chain: a unique or primary key violation is ECONFLICT, a
// foreign key violation ENOTFOUND, and a busy or locked database EUNAVAILABLE
// with the message "<what> is busy, try again". Other errors, and nil, are
// returned unchanged. Checks in the code normally catch conflicts first; this
// is the backstop.
func MapError(err error, what string) error {
	c, ok := code(err)
	if !ok {
		return err
	}
	switch {
	case c == sqlite3.SQLITE_CONSTRAINT_UNIQUE, c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ECONFLICT, "already exists"), err)
	case c == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ENOTFOUND, "a referenced record does not exist"), err)
	case IsBusy(err):
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "%s is busy, try again", what), err)
	}
	return err
}
