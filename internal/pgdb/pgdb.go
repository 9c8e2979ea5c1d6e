// Package pgdb opens lhk's PostgreSQL databases (github.com/jackc/pgx/v5) the
// one way they are all opened: registry/postgres and the PostgreSQL system
// backends share it.
//
// # Connections
//
// Open returns a pgxpool.Pool for a postgres:// URL. A `search_path` query
// parameter (postgres://…/lhk?search_path=team_a) is passed to the server as
// a run-time parameter, so several lhk installations, or tests, can share one
// database in separate schemas; Open creates the schema when it is missing.
//
// # Schema
//
// Migrations are numbered .sql files (0001_init.sql) at the root of an fs.FS,
// usually an embedded directory, and belong to a component ("registry",
// "logs", "systems"). Migrate applies the pending ones of one component, each
// in its own transaction, while holding a transaction-level advisory lock
// keyed by the schema and component: when several replicas start at once, one
// applies the migrations and the others wait, then find nothing to do. A
// schema whose recorded version is newer than the newest migration given is
// refused, so an old binary never runs against a newer schema.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lhk-soc/lhk"
)

// IsURL reports whether s names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Options tune Open. The zero value is usable.
type Options struct {
	// MaxConns caps the pool (pgxpool's default when zero).
	MaxConns int32
	// RuntimeParams are set on every connection of the pool, e.g.
	// statement_timeout for a pool that only runs budgeted queries.
	RuntimeParams map[string]string
}

// Open connects to the database at rawURL and checks it answers. The schema
// named by the URL's search_path (public when absent) is created if missing.
func Open(ctx context.Context, rawURL string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL URL %s: %w", Redact(rawURL), err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	schema := schemaOf(cfg.ConnConfig)
	if schema != "public" {
		// The schema must exist before a connection can use it: create it
		// on a connection that does not ask for it.
		cc := cfg.ConnConfig.Copy()
		delete(cc.RuntimeParams, "search_path")
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err != nil {
			return nil, fmt.Errorf("connect to PostgreSQL %s: %w", Redact(rawURL), err)
		}
		_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
		conn.Close(ctx)
		if err != nil && !isDuplicate(err) {
			return nil, fmt.Errorf("create schema %q: %w", schema, err)
		}
	}
	// Set after the schema exists: the parameters may forbid creating it
	// (default_transaction_read_only).
	for k, v := range opts.RuntimeParams {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", Redact(rawURL), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", Redact(rawURL), err)
	}
	return pool, nil
}

// schemaOf returns the schema a connection configuration works in: the first
// entry of its search_path, or "public".
func schemaOf(cc *pgx.ConnConfig) string {
	sp := strings.TrimSpace(cc.RuntimeParams["search_path"])
	if sp == "" {
		return "public"
	}
	first := strings.TrimSpace(strings.Split(sp, ",")[0])
	return strings.Trim(first, `"`)
}

// isDuplicate reports a unique violation, as CREATE SCHEMA IF NOT EXISTS
// raises when two sessions race to create one schema.
func isDuplicate(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "42P06")
}

// Migrate applies component's pending migrations from migrations (numbered
// .sql files at its root) to the pool's schema. It is safe to call from
// several processes at once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, component string, migrations fs.FS) error {
	files, err := migrationFiles(migrations)
	if err != nil {
		return fmt.Errorf("%s migrations: %w", component, err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer conn.Release()
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	h := fnv.New64a()
	h.Write([]byte("lhk migrate " + schema + " " + component))
	key := int64(h.Sum64())

	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	defer tx.Rollback(context.Background())
	// The lock lasts until this transaction ends; every migration runs
	// inside it, so a crash half-way leaves the schema as it was.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
		return fmt.Errorf("migrate %s: lock: %w", component, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component  TEXT        NOT NULL,
		version    INTEGER     NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM schema_migrations WHERE component = $1", component).Scan(&current); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	newest := 0
	if len(files) > 0 {
		newest = files[len(files)-1].version
	}
	if current > newest {
		return lhk.Errorf(lhk.EUNAVAILABLE, "%s schema version %d in %q is newer than this lhkd knows (%d): upgrade lhkd", component, current, schema, newest)
	}
	for _, f := range files {
		if f.version <= current {
			continue
		}
		body, err := fs.ReadFile(migrations, f.name)
		if err != nil {
			return fmt.Errorf("%s migration %s: %w", component, f.name, err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return fmt.Errorf("%s migration %s: %w", component, f.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (component, version) VALUES ($1, $2)", component, f.version); err != nil {
			return fmt.Errorf("%s migration %s: %w", component, f.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", component, err)
	}
	return nil
}

type migrationFile struct {
	name    string
	version int
}

// migrationFiles lists NNNN_name.sql files in version order.
func migrationFiles(fsys fs.FS) ([]migrationFile, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var files []migrationFile
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and _", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		files = append(files, migrationFile{e.Name(), v})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].version < files[j].version })
	return files, nil
}

// Redact hides the password of a database URL before it is shown.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// PrefixEnd returns the least string above every string that starts with
// p, in the byte order of the C collation (code point order for UTF-8): p
// with its last character incremented, trailing U+10FFFF dropped. A prefix
// search on an index is then `col >= p AND col < end` with col in COLLATE
// "C". ok is false when there is no such string (p empty, or all
// U+10FFFF): every string from p on starts with it.
func PrefixEnd(p string) (end string, ok bool) {
	rs := []rune(p)
	for len(rs) > 0 {
		last := rs[len(rs)-1]
		if last == unicode.MaxRune {
			rs = rs[:len(rs)-1]
			continue
		}
		last++
		if last == 0xD800 {
			last = 0xE000 // surrogates are not characters
		}
		rs[len(rs)-1] = last
		return string(rs), true
	}
	return "", false
}
