// Package logpg implements lhk.LogService on PostgreSQL (pgx), for lhkd
// replicas that share one database. It behaves as systems/logsqlite does —
// the same ingest, the same free-text and field semantics, limits, paging
// and errors (internal/logquery holds what they share) — and passes the same
// conformance suite (systems/systemtest).
//
// # Storage
//
// Events live in one table, events (migrations/0001_init.sql, component
// "logs" of pgdb.Migrate): tenant, ts (TIMESTAMPTZ) and the event as JSONB
// (doc), flattened and with its ECS fields, as logsqlite stores it. Beside
// them, computed in Go at ingest:
//
//   - words and tsv, the event's text as the words free text matches
//     (logquery.Tokens, the same words logsqlite's FTS5 index makes): words
//     in order (" a b c ") and tsv their set as a tsvector, without
//     positions. Words longer than MaxLexeme bytes are cut in tsv (and
//     marked), so the index takes any event;
//   - ips, the canonical form of every field holding an IP address, for
//     cidr;
//   - orig, the event's exact JSON when JSONB would change it (numbers in
//     exponent form, NUL characters), so events come back as they went in.
//
// # Indexes and queries
//
// Every query names the tenant first and a time range. Indexes:
//
//   - (tenant, ts, seq): the time range, newest first, and paging;
//   - GIN on tsv: free text. Each word of the query must be in tsv; a
//     phrase (a term of several words, "wscript.exe" is wscript exe) is
//     then checked in words with strpos, so results are exactly
//     logsqlite's;
//   - GIN (jsonb_path_ops) on doc: eq on any field, as containment
//     ({"field": value});
//   - b-trees on (tenant, field, ts) for the keyword fields host.name,
//     user.name, process.name, event.code and event.dataset, through the
//     SQL function lhk_str (strings only), in the C collation so prefix and
//     ranges compare bytes as SQLite does;
//   - b-trees on (tenant, inet) for source.ip and destination.ip: cidr is
//     `<<=` on the address from ips, which holds only addresses Go parsed,
//     so a value that is not an address never fails a query.
//
// contains folds ASCII case with lower() in the C collation (SQLite's LIKE)
// and, for needles beyond ASCII, matches a regular expression of each
// character's case variants, as Go's strings.ToLower compares them.
//
// # Connections and bounds
//
// A Store holds two pools: a small one for ingest, and one for queries
// whose sessions run read-only with statement_timeout set to the query
// budget (DefaultQueryBudget) and custom plans (plan_cache_mode), so a
// query past its budget is cancelled by the server and the caller gets
// ETIMEOUT, as from logsqlite. Ingest writes batches of IngestBatch events
// with COPY, one transaction each.
//
// # Ids and cursors
//
// An event's "_id" is its seq encrypted with the store's key (log_keys,
// shared by every replica); cursors are sealed with it and bound to the
// tenant and the request (logquery.Keys).
//
// # Differences from logsqlite
//
// Times are kept to the microsecond (TIMESTAMPTZ): events whose
// @timestamp differ by less than that sort by ingest order, and ranges
// compare microseconds. Numbers in conditions compare as exact decimals
// (SQLite compares doubles), and top shows arrays as PostgreSQL prints
// JSON.
package logpg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
	"github.com/lhk-soc/lhk/internal/pgdb"
)

var _ lhk.LogService = (*Store)(nil)

// DefaultQueryBudget is how long one search, top or count may run before
// PostgreSQL cancels it and the caller gets ETIMEOUT.
const DefaultQueryBudget = 5 * time.Second

// IngestBatch is how many events one ingest transaction (one COPY) writes.
const IngestBatch = 2000

// Connection pools of a Store.
const (
	WriteConns = 4  // ingest
	ReadConns  = 16 // searches, tops and counts
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a log store in a PostgreSQL database. It is safe for concurrent
// use, and several processes (lhkd replicas) may share one database.
type Store struct {
	w, r   *pgxpool.Pool // ingest; budgeted read-only queries
	budget time.Duration
	keys   *logquery.Keys
}

// Option changes how Open sets up a Store.
type Option func(*Store)

// WithQueryBudget sets how long one query may run (DefaultQueryBudget when
// zero or negative). PostgreSQL counts whole milliseconds, at least one.
func WithQueryBudget(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.budget = d
		}
	}
}

// Open connects to the PostgreSQL database at url (postgres://…, a
// search_path parameter picks the schema), applies any pending migrations
// of component "logs" and loads (creating on first use) the store's key.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	if !pgdb.IsURL(url) {
		return nil, lhk.Errorf(lhk.EINVALID, "log database %q: use a postgres:// URL", pgdb.Redact(url))
	}
	s := &Store{budget: DefaultQueryBudget}
	for _, o := range opts {
		o(s)
	}
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open log store: %w", err)
	}
	s.w, err = pgdb.Open(ctx, url, pgdb.Options{MaxConns: WriteConns})
	if err != nil {
		return nil, fmt.Errorf("open log store: %w", err)
	}
	if err := pgdb.Migrate(ctx, s.w, "logs", ms); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open log store: %w", err)
	}
	if err := s.loadKey(ctx); err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open log store: %w", err)
	}
	ms2 := max(1, s.budget.Milliseconds())
	s.r, err = pgdb.Open(ctx, url, pgdb.Options{MaxConns: ReadConns, RuntimeParams: map[string]string{
		"statement_timeout":             strconv.FormatInt(ms2, 10),
		"default_transaction_read_only": "on",
		"plan_cache_mode":               "force_custom_plan",
	}})
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("open log store: %w", err)
	}
	return s, nil
}

// loadKey reads the store's key, creating it on first use. Replicas starting
// at once agree on the first one written.
func (s *Store) loadKey(ctx context.Context) error {
	key, err := logquery.NewKey()
	if err != nil {
		return err
	}
	if _, err := s.w.Exec(ctx, "INSERT INTO log_keys (name, value) VALUES ('key', $1) ON CONFLICT (name) DO NOTHING", key); err != nil {
		return fmt.Errorf("store key: %w", err)
	}
	if err := s.w.QueryRow(ctx, "SELECT value FROM log_keys WHERE name = 'key'").Scan(&key); err != nil {
		return fmt.Errorf("read key: %w", err)
	}
	s.keys, err = logquery.NewKeys(key)
	return err
}

// Close closes both pools. Closing twice is harmless.
func (s *Store) Close() error {
	s.r.Close()
	s.w.Close()
	return nil
}

// budgeted returns ctx limited to a little more than the query budget, a
// backstop should the server's statement_timeout not fire.
func (s *Store) budgeted(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.budget+time.Second)
}

// storeErr turns a cancelled statement into ETIMEOUT (the budget) or the
// caller's context error, and other PostgreSQL errors into application
// errors where they are the caller's.
func (s *Store) storeErr(ctx, budgeted context.Context, err error) error {
	if err == nil {
		return nil
	}
	if stopped := logquery.StopError(ctx, budgeted, s.budget, err); stopped != nil {
		return stopped
	}
	var pe *pgconn.PgError
	if budgeted != nil && errors.As(err, &pe) && pe.Code == "57014" {
		return fmt.Errorf("%w: %w", logquery.BudgetError(s.budget), err) // statement_timeout
	}
	if pgconn.SafeToRetry(err) || errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01" || strings.HasPrefix(pe.Code, "53") || strings.HasPrefix(pe.Code, "08")) {
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "log store is busy, try again"), err)
	}
	return err
}
