package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
)

// claimRetention is how long cron claims are kept; ClaimTick prunes older
// ones at most once an hour.
const claimRetention = 7 * 24 * time.Hour

// claimPruneEvery is how often one DB prunes cron claims at most.
const claimPruneEvery = time.Hour

// ClaimTick claims the run of plugin's schedule that was due at tick for
// replica: true for exactly one caller per (plugin, tick) across every
// replica sharing the schema, false for every other. tick must be the time
// the schedule computed (the same on every replica); it is compared to the
// microsecond.
func (db *DB) ClaimTick(ctx context.Context, plugin string, tick time.Time, replica string) (bool, error) {
	now := db.now()
	tag, err := db.pool.Exec(ctx, `INSERT INTO cron_claims (plugin, tick, replica, claimed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (plugin, tick) DO NOTHING`, plugin, tick, replica, now)
	if err != nil {
		return false, fmt.Errorf("claim tick %s of %q: %w", tick.UTC().Format(time.RFC3339), plugin, storeErr(err))
	}
	db.pruneClaims(ctx, now)
	return tag.RowsAffected() == 1, nil
}

// pruneClaims deletes claims older than claimRetention when this DB has not
// done so for claimPruneEvery. A failure is logged and left for next time.
func (db *DB) pruneClaims(ctx context.Context, now time.Time) {
	last := db.lastPrune.Load()
	if now.UnixNano()-last < int64(claimPruneEvery) || !db.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	tag, err := db.pool.Exec(ctx, "DELETE FROM cron_claims WHERE claimed_at < $1", now.Add(-claimRetention))
	if err != nil {
		db.log.Warn("prune cron claims", "err", err)
		return
	}
	if n := tag.RowsAffected(); n > 0 {
		db.log.Debug("pruned cron claims", "count", n)
	}
}

// Heartbeat records that replica is alive now.
func (db *DB) Heartbeat(ctx context.Context, replica string) error {
	if replica == "" {
		return lhk.Errorf(lhk.EINVALID, "heartbeat without a replica name")
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO replicas (name, seen_at) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at`, replica, db.now()); err != nil {
		return fmt.Errorf("heartbeat of %q: %w", replica, storeErr(err))
	}
	return nil
}

// ReapInvocations marks as failed every running invocation whose replica
// (not empty) has sent no heartbeat since staleBefore, or none at all: status
// error, error "lhkd replica <name> stopped during the run", duration from
// its start until now. It runs as one statement, so a record that finishes
// meanwhile is left as it finished, and returns how many it marked. A replica
// must send its first heartbeat before it records runs.
func (db *DB) ReapInvocations(ctx context.Context, staleBefore time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE invocations i SET status = 'error',
			error = 'lhkd replica ' || i.replica || ' stopped during the run',
			duration_ms = GREATEST(0, EXTRACT(EPOCH FROM ($2::timestamptz - i.started_at)) * 1000)
		WHERE i.status = 'running' AND i.replica <> ''
			AND NOT EXISTS (SELECT 1 FROM replicas r WHERE r.name = i.replica AND r.seen_at >= $1)`,
		staleBefore, db.now())
	if err != nil {
		return 0, fmt.Errorf("reap invocations: %w", storeErr(err))
	}
	return int(tag.RowsAffected()), nil
}

// channelOf returns the notification channel of the registry in schema:
// "lhk_plugins_" and the schema, or a hash of the schema where that would
// pass PostgreSQL's 63-byte limit on identifiers.
func channelOf(schema string) string {
	const prefix = "lhk_plugins_"
	if len(prefix)+len(schema) <= 63 {
		return prefix + schema
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return fmt.Sprintf("%s%x", prefix, h.Sum64())
}

// watchCheck is how long WaitForNotification waits before the connection is
// checked, so a silently dead one is noticed. Tests shorten it.
var watchCheck = 30 * time.Second

// Timing of the change feed.
const (
	// watchPingTimeout bounds that check.
	watchPingTimeout = 10 * time.Second
	// watchBackoffMin and watchBackoffMax bound the wait between
	// reconnection attempts; it doubles after each failure.
	watchBackoffMin = 100 * time.Millisecond
	watchBackoffMax = 30 * time.Second
	// watchStable is how long a connection must have lasted for the
	// backoff to start again from watchBackoffMin.
	watchStable = time.Minute
)

// WatchPlugins calls fn with the name of every plugin whose record, versions,
// grant, schedule or webhook secret changed through any DB on this schema
// (this one included), in commit order, until ctx ends or the DB is closed.
// It listens on a connection of its own, outside the pool. fn is called with
// "" ("anything may have changed") once listening has started, so that
// changes made before it are not missed, and again each time the feed is back
// after the connection was lost: it reconnects by itself, with backoff, and
// logs the loss. fn runs on WatchPlugins' goroutine; notifications wait while
// it runs. WatchPlugins returns nil when ctx ends, and an EUNAVAILABLE error
// when the DB is closed.
func (db *DB) WatchPlugins(ctx context.Context, fn func(plugin string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-db.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	done := func() error {
		select {
		case <-db.closed:
			return lhk.Errorf(lhk.EUNAVAILABLE, "registry closed")
		default:
			return nil
		}
	}

	backoff := watchBackoffMin
	for {
		conn, err := db.listen(ctx)
		if err == nil {
			fn("")
			start := time.Now()
			err = db.receive(ctx, conn, fn)
			closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
			conn.Close(closeCtx)
			cancelClose()
			if time.Since(start) >= watchStable {
				backoff = watchBackoffMin
			}
		}
		if ctx.Err() != nil {
			return done()
		}
		db.log.Warn("plugin change feed lost; reconnecting", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return done()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchBackoffMax)
	}
}

// listen opens the change feed's own connection and listens on the channel.
func (db *DB) listen(ctx context.Context) (*pgx.Conn, error) {
	cc := db.pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["application_name"] = "lhkd plugin change feed"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("listen: %w", err)
	}
	if db.listening != nil {
		db.listening(conn.PgConn().PID())
	}
	return conn, nil
}

// receive passes notifications to fn until the connection fails or ctx ends.
// Every watchCheck without one it checks that the connection still answers.
func (db *DB) receive(ctx context.Context, conn *pgx.Conn, fn func(string)) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, watchCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return err
		}
		// A quiet period: make sure the server is still there.
		pctx, cancel := context.WithTimeout(ctx, watchPingTimeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
	}
}
