package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/invoke"
	"github.com/lhk-soc/lhk/trigger/cron"
)

// What a replica on a shared registry does besides serving.
const (
	// heartbeatEvery is how often a replica says it is alive.
	heartbeatEvery = 2 * time.Second
	// defaultReplicaTimeout is --replica-timeout's default.
	defaultReplicaTimeout = 20 * time.Second
	// maxReapEvery is how often, at most, a replica looks for runs a dead
	// replica left: a quarter of the replica time-out, within 1–5 s.
	maxReapEvery = 5 * time.Second
)

// cluster is what a shared registry offers several replicas.
type cluster interface {
	lhk.TickClaimer
	lhk.ChangeFeed
	lhk.ReplicaStore
}

// replicaName is this process's name among replicas: --replica, else the host
// name (a pod's name on Kubernetes) with a random suffix, unique per start.
func replicaName(flag string) string {
	if flag != "" {
		return flag
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "lhkd"
	}
	b := make([]byte, 3)
	rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// follower keeps one replica in step with the others: it applies changes
// other replicas make to plugins, keeps this replica's heartbeat, and marks
// as failed the runs that dead replicas left behind.
type follower struct {
	log     *slog.Logger
	cl      cluster
	replica string
	invoker *invoke.Service
	sched   *cron.Scheduler
	rt      lhk.Runtime
	// forgetUsers drops the API's cached sign-ins.
	forgetUsers func()
	// staleAfter is how long without a heartbeat makes a replica dead; its
	// running invocations are then marked failed.
	staleAfter time.Duration
}

// run works until ctx ends, and returns when all of its work has stopped.
func (f *follower) run(ctx context.Context) {
	beating := make(chan struct{})
	go func() { defer close(beating); f.beat(ctx) }()
	defer func() { <-beating }()
	for ctx.Err() == nil {
		err := f.cl.WatchPlugins(ctx, f.changed)
		if ctx.Err() != nil {
			return
		}
		f.log.Error("plugin change feed stopped; restarting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		f.changed("")
	}
}

// changed applies a change to plugin made on any replica; "" means that
// anything may have changed, lhk.UsersChanged that users or sessions did.
func (f *follower) changed(plugin string) {
	ctx := lhk.NewContextWithActor(context.Background(), "lhkd")
	if plugin == lhk.UsersChanged {
		f.forgetUsers()
		return
	}
	if plugin == "" {
		f.forgetUsers()
		f.invoker.ForgetAll()
		if err := f.sched.Resync(ctx); err != nil {
			f.log.Error("resync schedules", "err", err)
		}
		return
	}
	evict, err := f.invoker.Reload(ctx, plugin)
	if err != nil {
		f.log.Warn("reload changed plugin", "plugin", plugin, "err", err)
	}
	if evict {
		f.rt.Evict(plugin)
	}
	if err := f.sched.Refresh(ctx, plugin); err != nil {
		f.log.Warn("refresh schedule of changed plugin", "plugin", plugin, "err", lhk.ErrorMessage(err))
	}
}

// beat sends heartbeats and reaps orphaned runs until ctx ends.
func (f *follower) beat(ctx context.Context) {
	hb := time.NewTicker(heartbeatEvery)
	defer hb.Stop()
	reap := time.NewTicker(min(max(f.staleAfter/4, time.Second), maxReapEvery))
	defer reap.Stop()
	f.heartbeat(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hb.C:
			f.heartbeat(ctx)
		case <-reap.C:
			n, err := f.cl.ReapInvocations(ctx, time.Now().Add(-f.staleAfter))
			switch {
			case err != nil && ctx.Err() == nil:
				f.log.Warn("reap runs of stopped replicas", "err", err)
			case n > 0:
				f.log.Warn("marked runs of stopped replicas as failed", "invocations", n)
			}
		}
	}
}

func (f *follower) heartbeat(ctx context.Context) {
	if err := f.cl.Heartbeat(ctx, f.replica); err != nil && ctx.Err() == nil {
		f.log.Warn("heartbeat", "replica", f.replica, "err", err)
	}
}
