// Package postgres implements lhk.Registry on PostgreSQL (github.com/jackc/pgx/v5),
// for several lhkd replicas sharing one registry, e.g. behind a Kubernetes
// Service. It behaves as registry/sqlite does (both pass registry/registrytest)
// and adds what replicas need to act as one daemon: lhk.TickClaimer,
// lhk.ChangeFeed and lhk.ReplicaStore.
//
// # Schema
//
// Open connects through internal/pgdb: the URL's search_path names the schema
// (created when missing), so several installations can share a database.
// Migrations are numbered .sql files embedded in the binary and applied under
// an advisory lock as component "registry", so replicas starting together
// migrate once. The tables: users; plugins; versions, with the modules apart
// in version_wasm so that listing versions never reads them; schedules;
// webhooks; invocations (history, kept when a plugin goes); audit, whose ids
// are an identity column; cron_claims and replicas for several replicas;
// sessions of the web UI (lhk.SessionStore), so that a browser stays signed
// in whichever replica answers. The migrations say more of each. Times are
// TIMESTAMPTZ (microseconds: times this package sets are truncated to the
// microsecond before they are stored and returned), lists and maps JSONB,
// modules and outputs BYTEA. Versions are immutable: a trigger refuses
// updates of versions and version_wasm. Audit details are JSON rather than
// JSONB so that they read back byte for byte.
//
// # Transactions and audit
//
// Every audited mutation (users, plugins, versions, grants, schedules, webhook
// secrets, sessions, Audit) runs in one READ COMMITTED transaction that first takes a
// transaction-level advisory lock of the schema, writes its audit entries
// with the actor from lhk.ActorFromContext, and commits them with the change;
// a failure at any point leaves neither. The lock serialises audited
// mutations across replicas, as SQLite's single writer does in one process:
// version numbers cannot race, checks and writes see the same state, and
// audit ids increase in commit order, so paging by id never skips an entry
// committed late. Invocation records, cron claims and heartbeats do not take
// it. Reads that need several queries run in a REPEATABLE READ read-only
// transaction, so they see one snapshot.
//
// Commits are as durable as the server makes them: with PostgreSQL's default
// synchronous_commit=on each one waits for its WAL flush (a few hundred
// microseconds on an ordinary disk), invocation records included. An
// operator who prefers SQLite's trade (the last moments of history may be
// lost when the database server, not lhkd, crashes) can relax it for lhk's
// role or in the URL (options=-c synchronous_commit=off).
//
// PostgreSQL text cannot hold NUL characters (nor JSONB "\u0000"): a mutation
// carrying one is EINVALID. Invocation records are history and must not be
// lost to one odd byte a plugin printed, so PutInvocations replaces NULs and
// invalid UTF-8 in their text (not in ids and plugin names) with U+FFFD.
//
// # Change feed
//
// Each mutation of a plugin (CreateVersion, UpdatePlugin, DeletePlugin,
// SetGrant, SetSchedule, DeleteSchedule, SetWebhookSecret) calls pg_notify in
// its transaction with the plugin's name as payload, so PostgreSQL delivers
// the notification when, and only if, the change commits. UpdateUser,
// SetUserToken and DeleteSession notify lhk.UsersChanged the same way, so
// other replicas drop cached sign-ins at once. The channel is
// derived from the schema ("lhk_plugins_<schema>", or a hash of it where that
// would pass PostgreSQL's 63-byte limit), so installations in separate schemas of
// one database do not hear each other. WatchPlugins listens on a dedicated
// connection outside the pool and checks it every 30 seconds; it reports ""
// (anything may have changed) when it starts listening and each time it is
// listening again after it lost the connection and reconnected with backoff.
//
// # Claims and replicas
//
// ClaimTick inserts (plugin, tick) into cron_claims with ON CONFLICT DO
// NOTHING: the one insert that lands wins, whichever replica made it. Claims
// older than a week are pruned at most once an hour per DB. Heartbeat
// upserts the replica's row in replicas; ReapInvocations marks, in one
// statement, the running invocations of replicas without a recent heartbeat
// as failed.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

var (
	_ lhk.Registry     = (*DB)(nil)
	_ lhk.WebhookStore = (*DB)(nil)
	_ lhk.TickClaimer  = (*DB)(nil)
	_ lhk.ChangeFeed   = (*DB)(nil)
	_ lhk.ReplicaStore = (*DB)(nil)
)

// Listing limits for Invocations and AuditEntries.
const (
	DefaultLimit = rule.DefaultLimit // used when a filter's Limit is zero
	MaxLimit     = rule.MaxLimit     // larger limits are lowered to this
)

// component names the registry's migrations in schema_migrations.
const component = "registry"

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a registry stored in one PostgreSQL schema. It is safe for concurrent
// use, and several DBs, in one process or many, may share a schema.
type DB struct {
	pool     *pgxpool.Pool
	channel  string
	writeKey int64 // advisory lock of audited mutations in this schema
	log      *slog.Logger

	now func() time.Time

	closed    chan struct{} // closed by Close: stops WatchPlugins
	closeOnce sync.Once

	lastPrune atomic.Int64 // Unix nanoseconds of the last prune of cron_claims
	// lastDeliveryPrune is the same for webhook_deliveries.
	lastDeliveryPrune atomic.Int64

	// beforeCommit, when set by tests, runs inside every audited write
	// transaction just before COMMIT; an error aborts the transaction.
	beforeCommit func(tx pgx.Tx) error
	// listening, when set by tests, is called with the backend process id
	// of every connection WatchPlugins starts listening on.
	listening func(pid uint32)
}

// Option changes how Open sets up a DB.
type Option func(*DB)

// WithLogger sets the logger for what happens in the background, such as the
// change feed losing its connection. The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(db *DB) {
		if l != nil {
			db.log = l
		}
	}
}

// Open connects to the registry at url (postgres://…; a search_path query
// parameter picks the schema, created when missing; pool_max_conns and the
// other pgxpool parameters apply) and applies any pending migrations.
func Open(ctx context.Context, url string, opts ...Option) (*DB, error) {
	ms, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	pool, err := pgdb.Open(ctx, url, pgdb.Options{})
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	if err := pgdb.Migrate(ctx, pool, component, ms); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry %s: %w", pgdb.Redact(url), err)
	}
	var schema string
	if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open registry %s: %w", pgdb.Redact(url), err)
	}
	db := &DB{
		pool:     pool,
		channel:  channelOf(schema),
		writeKey: lockKey("lhk registry write " + schema),
		log:      slog.New(slog.DiscardHandler),
		now:      func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		closed:   make(chan struct{}),
	}
	for _, o := range opts {
		o(db)
	}
	return db, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping registry: %w", storeErr(err))
	}
	return nil
}

// Close stops WatchPlugins calls and closes the pool. Closing twice is harmless.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.closed)
		db.pool.Close()
	})
	return nil
}

// lockKey turns a name into an advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// maxRetries bounds how often a transaction is retried after PostgreSQL
// aborted it for a deadlock or a serialization failure.
const maxRetries = 3

// write runs fn in one audited write transaction and commits it: the
// transaction first takes the schema's write lock (see the package
// documentation). Any error rolls everything back, audit entries included.
func (db *DB) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return retry(func() error {
		return storeErr(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", db.writeKey); err != nil {
				return err
			}
			if err := fn(tx); err != nil {
				return err
			}
			if db.beforeCommit != nil {
				return db.beforeCommit(tx)
			}
			return nil
		}))
	})
}

// read runs fn in one read-only REPEATABLE READ transaction, so several
// queries see one snapshot.
func (db *DB) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return storeErr(pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn))
}

// retry runs fn again while it fails with a deadlock or serialization
// failure, at most maxRetries times in all.
func retry(fn func() error) error {
	for i := 1; ; i++ {
		err := fn()
		var pe *pgconn.PgError
		if i < maxRetries && errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			continue
		}
		return err
	}
}

// notify tells WatchPlugins on every replica that plugin changed, when tx commits.
func (db *DB) notify(ctx context.Context, tx pgx.Tx, plugin string) error {
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", db.channel, plugin); err != nil {
		return fmt.Errorf("notify change of %q: %w", plugin, err)
	}
	return nil
}

// audit writes one audit entry in tx. detail is encoded as compact JSON; it
// must never hold a token, a token hash or a secret.
func (db *DB) audit(ctx context.Context, tx pgx.Tx, now time.Time, action, target string, detail any) error {
	d, err := rule.EncodeDetail(detail)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "INSERT INTO audit (time, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
		now, lhk.ActorFromContext(ctx), action, target, d); err != nil {
		return fmt.Errorf("write audit entry %s: %w", action, err)
	}
	return nil
}

// storeErr turns PostgreSQL errors whose cause is the caller's into lhk
// errors, keeping the original in the chain for logs. Checks in the code
// normally catch conflicts first; this is the backstop. Messages never quote
// the offending values: they may be token hashes.
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
		var e *lhk.Error
		switch {
		case pe.Code == "23505" && pe.ConstraintName == "users_token_hash_key":
			e = lhk.Errorf(lhk.ECONFLICT, "token already in use")
		case pe.Code == "23505":
			e = lhk.Errorf(lhk.ECONFLICT, "already exists")
		case pe.Code == "23503":
			e = lhk.Errorf(lhk.ENOTFOUND, "a referenced record does not exist")
		case pe.Code == "22021" || pe.Code == "22P05":
			e = lhk.Errorf(lhk.EINVALID, "text must be valid UTF-8 without NUL characters (\\u0000)")
		case pe.Code == "54000":
			e = lhk.Errorf(lhk.EINVALID, "a value is too large to be indexed")
		case pe.Code == "23514" || pe.Code == "22001" || pe.Code == "22003":
			e = lhk.Errorf(lhk.EINVALID, "a value is out of range")
		case pe.Code == "57014":
			e = lhk.Errorf(lhk.EUNAVAILABLE, "the query was cancelled or took too long")
		case strings.HasPrefix(pe.Code, "08") || pe.Code == "53300" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03":
			e = lhk.Errorf(lhk.EUNAVAILABLE, "the registry database is unavailable, try again")
		}
		if e != nil {
			return fmt.Errorf("%w: %w", e, err)
		}
		return err
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", lhk.Errorf(lhk.EUNAVAILABLE, "the registry database is unavailable, try again"), err)
	}
	return err
}
