package lhk

import (
	"context"
	"time"
)

// Several lhkd replicas may share one registry (PostgreSQL behind a Kubernetes
// Service). The interfaces below are what a shared registry adds so that they
// behave as one daemon; a single node with the embedded SQLite registry needs
// none of them.

// TickClaimer decides which replica runs a cron tick. Every replica's timer
// fires for every tick; only the one whose claim succeeds runs it.
type TickClaimer interface {
	// ClaimTick claims the run of plugin's schedule that was due at tick for
	// replica. It returns true for exactly one caller per (plugin, tick),
	// whichever replica asks first, and false for every other.
	ClaimTick(ctx context.Context, plugin string, tick time.Time, replica string) (bool, error)
}

// ChangeFeed tells a replica about changes other replicas made, so caches and
// schedules follow at once instead of after a poll.
type ChangeFeed interface {
	// WatchPlugins calls fn with the name of every plugin whose record,
	// versions, grant, schedule or webhook secret changed on any replica
	// (this one included), until ctx ends, when it returns nil.
	// fn(UsersChanged) means that a user's role, ceiling or token changed or a
	// session ended, so cached sign-ins must be checked again. fn("") means
	// "anything may have changed": it comes once the feed is listening, and
	// again whenever it is back after a lost connection, which the feed
	// re-establishes by itself. An error means the feed cannot go on (its store was closed).
	WatchPlugins(ctx context.Context, fn func(plugin string)) error
}

// UsersChanged is what ChangeFeed.WatchPlugins reports when a user's role,
// ceiling or token changed or a session ended: a name no plugin can have.
const UsersChanged = "@users"

// ReplicaStore tracks the live replicas so that runs a dead replica left
// behind are not shown as running for ever.
type ReplicaStore interface {
	// Heartbeat records that replica is alive now.
	Heartbeat(ctx context.Context, replica string) error
	// ReapInvocations marks as failed (status error, with a message naming
	// the replica) every running invocation whose replica has not sent a
	// heartbeat since staleBefore, and returns how many it marked.
	ReapInvocations(ctx context.Context, staleBefore time.Time) (int, error)
}
