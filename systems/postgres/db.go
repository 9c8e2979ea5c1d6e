// Package postgres is the PostgreSQL backend of lhk's filters, tickets,
// assets, reports and kv systems (pgx), for lhkd replicas that share one
// database. It keeps the rules of the embedded backend, systems/sqlite —
// validation, normalisation, ids, cursors and the report renderer live in
// internal/state and internal/markdown, which both call — and passes the
// same conformance suites (systems/systemtest).
//
// # Schema
//
// migrations/0001_init.sql (component "systems" of pgdb.Migrate, which
// holds an advisory lock so replicas starting at once migrate once):
//
//   - filters (tenant, name): conditions as JSON, hit statistics and
//     expiry;
//   - tickets: lists (events, observables, comments) as JSONB; a unique
//     index on (tenant, external_key) where set, and (tenant, created_at,
//     id) for the newest-first listing; ticket_observables indexes the
//     normalised observable values for SearchTickets;
//   - assets (tenant, lower-cased name) and asset_ips (tenant, inet) for
//     lookups by IP;
//   - reports, with (tenant, created_at, id) for the listing;
//   - kv (namespace, key) with values as bytes.
//
// Every query names the tenant (or the kv namespace) first. Names, ids and
// keys that are sorted or matched by prefix are in the C collation, so they
// order by bytes as in SQLite whatever the database's collation.
//
// # Concurrency
//
// Writes are transactions; a ticket update locks its row (SELECT … FOR
// UPDATE), so concurrent comments and updates from several replicas are
// applied one after the other. Two creations with one external key race on
// the unique index; the loser gets ECONFLICT naming the winner's ticket.
//
// # Differences from systems/sqlite
//
// Times are kept to the microsecond (TIMESTAMPTZ); times given by callers
// are cut to it, and the records returned carry the times stored.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/internal/state"
)

var (
	_ lhk.FilterService = (*DB)(nil)
	_ lhk.TicketService = (*DB)(nil)
	_ lhk.AssetService  = (*DB)(nil)
	_ lhk.ReportService = (*DB)(nil)
	_ lhk.KVService     = (*DB)(nil)
)

// Id prefixes: a ticket or report id is the prefix and a ULID, as in the
// SQLite backend. Ids are opaque: callers must not parse them.
const (
	TicketIDPrefix = state.TicketIDPrefix
	ReportIDPrefix = state.ReportIDPrefix
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the systems' store in a PostgreSQL database. It implements
// lhk.FilterService, lhk.TicketService, lhk.AssetService, lhk.ReportService
// and lhk.KVService, is safe for concurrent use, and several processes may
// share one database.
type DB struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// Open connects to the PostgreSQL database at url (postgres://…, a
// search_path parameter picks the schema) and applies any pending
// migrations of component "systems".
func Open(ctx context.Context, url string) (*DB, error) {
	if !pgdb.IsURL(url) {
		return nil, lhk.Errorf(lhk.EINVALID, "systems database %q: use a postgres:// URL", pgdb.Redact(url))
	}
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open systems database: %w", err)
	}
	pool, err := pgdb.Open(ctx, url, pgdb.Options{})
	if err != nil {
		return nil, fmt.Errorf("open systems database: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, "systems", ms); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open systems database: %w", err)
	}
	return &DB{pool: pool, now: func() time.Time { return stamp(time.Now()) }}, nil
}

// Close closes the pool. Closing twice is harmless.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// stamp is a time as the database keeps it: UTC, to the microsecond.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// stampPtr is stamp for an optional time.
func stampPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// utcPtr returns a scanned optional time in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// write runs fn in one transaction and commits it; any error rolls
// everything back.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return storeErr(pgx.BeginFunc(ctx, db.pool, fn))
}

// storeErr turns PostgreSQL's errors into application errors where the
// caller can act on them. Checks in the code normally catch conflicts
// first; this is the backstop.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var le *lhk.Error
	if errors.As(err, &le) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%w: %w", lhk.Errorf(lhk.ECONFLICT, "systems database: already exists"), err)
		case "40001", "40P01", "55P03", "57014":
			return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "systems database is busy, try again"), err)
		}
	}
	if pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "systems database is unreachable, try again"), err)
	}
	return err
}

// found returns the record a query for one row found: nil and no error
// when it found none.
func found[T any](r *T, err error) (*T, error) {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// isUnique reports a unique violation of the named constraint or index.
func isUnique(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == name
}

// storable reports whether s can be a value in the database (valid UTF-8
// without NUL). A name or id that is not cannot have been stored, so a
// lookup of it finds nothing rather than failing.
func storable(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
