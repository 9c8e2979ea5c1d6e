// Package cron runs plugins on their cron schedules. It implements
// lhk.Scheduler on top of github.com/robfig/cron/v3.
//
// # From tick to invocation
//
// Each enabled lhk.Schedule becomes one robfig entry: the spec parsed by the
// standard parser (5 fields or a descriptor such as @daily or @every 5m) with
// its timezone set as the schedule's location, so DST gaps and repeats are
// handled by robfig. When robfig's timer fires it starts the entry's job in a
// goroutine, wrapped like this (outermost first):
//
//  1. rcron.Recover: a panic anywhere below is logged, never a crash.
//  2. skipIfStillRunning: if the previous run of the same plugin's schedule is
//     still going, the tick is recorded through lhk.InvokeService.Skip
//     (status "skipped", with the reason) instead of running.
//  3. the run itself: it reads the plugin from the lhk.PluginStore to learn
//     its owner now (ownership is transferable), checks that the scheduler is
//     not stopping and that the entry has not been replaced or removed
//     meanwhile, and calls lhk.InvokeService.Invoke with trigger "cron", the
//     owner as caller, the entrypoint (Function "") and the schedule's input.
//     A tick whose plugin or schedule is gone or disabled in the store does
//     nothing; one that cannot read the store is recorded as skipped (with
//     no caller) so a missed run shows in the history.
//
// # Several replicas
//
// With WithCluster, several lhkd processes share one registry and each runs
// the same schedules, but each tick runs once. When a tick fires, a replica
// first claims it (lhk.TickClaimer, keyed by plugin and the tick's scheduled
// time, which every replica computes alike: @every runs are aligned to the
// clock); the replicas that lose the claim do nothing, not even record a skip.
// The winner then applies the overlap rule across replicas: besides its own
// guard, a running cron invocation of the plugin on another live replica makes
// the tick a skip. A replica that dies mid-run leaves its invocation running
// until the registry's reaper (lhk.ReplicaStore) marks it failed; the tick is
// not retried, since a plugin may already have acted (opened a ticket, isolated
// a host) and running it twice is worse than once.
//
// Start loads every schedule from the store; Refresh re-reads one plugin and
// applies its schedule (add, replace, remove) without touching the others; Stop
// stops the timer and waits for running jobs.
package cron

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	rcron "github.com/robfig/cron/v3"

	"github.com/lhk-soc/lhk"
)

// Actor is the actor set on the context of every cron run and store read, so
// anything they write to the audit log names the scheduler.
const Actor = "cron"

// Scheduler runs plugins on their schedules. Create it with New, then Start
// it; Validate and Next work without starting it. All methods are safe for
// concurrent use.
type Scheduler struct {
	invoker lhk.InvokeService
	plugins lhk.PluginStore
	logger  *slog.Logger
	cron    *rcron.Cron
	observe func(plugin string, scheduled, started time.Time) // WithObserver

	// claimer, runs and replica are set by WithCluster.
	claimer lhk.TickClaimer
	runs    lhk.InvocationStore
	replica string

	// runCtx is the context of every run; cancelRuns aborts the runs still
	// going when Stop's context ends first.
	runCtx     context.Context
	cancelRuns context.CancelFunc

	mu       sync.Mutex
	started  bool
	stopping bool
	seq      uint64            // counts store reads; a newer read wins
	states   map[string]*state // by plugin name
}

// state is what the scheduler knows of one plugin. It outlives the plugin's
// robfig entries, so a replaced schedule keeps its overlap guard.
type state struct {
	applied uint64      // seq of the store read applied last
	entry   *entry      // nil when not scheduled
	busy    atomic.Bool // a run of this plugin's schedule is going
}

// entry is one robfig entry of a plugin.
type entry struct {
	id    rcron.EntryID
	sched lhk.Schedule
}

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithCluster makes the scheduler one of several replicas on a shared
// registry: each tick runs on the replica whose claim through claimer
// succeeds, and runs (the shared invocation history) tells it whether another
// replica is still running the previous tick. replica names this process.
func WithCluster(claimer lhk.TickClaimer, runs lhk.InvocationStore, replica string) Option {
	return func(s *Scheduler) {
		s.claimer, s.runs, s.replica = claimer, runs, replica
	}
}

// New returns a Scheduler that runs plugins through invoker and reads plugins
// and schedules from plugins. Nothing runs until Start. A nil logger discards.
func New(invoker lhk.InvokeService, plugins lhk.PluginStore, logger *slog.Logger, opts ...Option) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "cron")
	s := &Scheduler{
		invoker: invoker,
		plugins: plugins,
		logger:  logger,
		states:  make(map[string]*state),
	}
	for _, o := range opts {
		o(s)
	}
	s.runCtx, s.cancelRuns = context.WithCancel(lhk.NewContextWithActor(context.Background(), Actor))
	s.cron = rcron.New(
		rcron.WithParser(parser),
		rcron.WithLocation(time.UTC),
		rcron.WithLogger(slogAdapter{logger}),
		rcron.WithChain(rcron.Recover(slogAdapter{logger})),
	)
	return s
}

var _ lhk.Scheduler = (*Scheduler)(nil)

// Start loads every schedule from the store and starts the timer. A schedule
// that no longer validates (a timezone missing, a rule tightened) is logged
// and left out; it does not stop the others. Start fails when the store
// cannot be read or when called twice. ctx bounds the loading only; runs live
// until Stop.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.stopping {
		s.mu.Unlock()
		return lhk.Errorf(lhk.ECONFLICT, "cron scheduler already started or stopped")
	}
	s.started = true
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	all, err := s.plugins.Schedules(lhk.NewContextWithActor(ctx, Actor))
	if err != nil {
		s.mu.Lock()
		s.started = false
		s.mu.Unlock()
		return fmt.Errorf("load schedules: %w", err)
	}
	for name, sc := range all {
		if err := s.apply(name, &sc, seq); err != nil {
			s.logger.Error("schedule not loaded", "plugin", name, "cron", sc.Cron, "timezone", sc.Timezone, "error", lhk.ErrorMessage(err))
		}
	}
	s.cron.Start()
	s.logger.Info("cron started", "schedules", len(s.scheduled()))
	return nil
}

// Stop stops the timer, so no new run starts, and waits for the running ones
// until ctx ends. Then it cancels the context of the runs still going and
// returns ctx's error. Later ticks, Refresh and Start do nothing.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	done := s.cron.Stop() // robfig's Stop is idempotent
	select {
	case <-done.Done():
		s.cancelRuns()
		return nil
	case <-ctx.Done():
		s.cancelRuns()
		return fmt.Errorf("stop cron: runs still going: %w", ctx.Err())
	}
}

// Refresh re-reads one plugin's schedule from the store and applies it at
// once: added when new, replaced when its spec, timezone, input or enabled
// flag changed, removed when disabled or when the schedule or the plugin is
// gone (ENOTFOUND from the store). Other schedules are not touched. After
// Refresh returns no run of the old schedule starts, though one started
// before may still be going. An invalid stored schedule is removed and its
// EINVALID returned. Refresh is safe to call concurrently with ticks and with
// itself; of two racing calls for one plugin, the later store read wins.
// After Stop it does nothing.
func (s *Scheduler) Refresh(ctx context.Context, plugin string) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	p, err := s.plugins.Plugin(lhk.NewContextWithActor(ctx, Actor), plugin)
	var want *lhk.Schedule
	switch {
	case lhk.ErrorCode(err) == lhk.ENOTFOUND:
	case err != nil:
		return fmt.Errorf("refresh schedule of %q: %w", plugin, err)
	default:
		want = p.Schedule
	}
	return s.apply(plugin, want, seq)
}

// Resync re-reads every schedule from the store and applies them all: new
// ones added, changed ones replaced, and those no longer in the store
// removed. A replica calls it when its change feed was interrupted and it may
// have missed changes. After Stop it does nothing.
func (s *Scheduler) Resync(ctx context.Context) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.seq++
	seq := s.seq
	known := make([]string, 0, len(s.states))
	for name := range s.states {
		known = append(known, name)
	}
	s.mu.Unlock()

	all, err := s.plugins.Schedules(lhk.NewContextWithActor(ctx, Actor))
	if err != nil {
		return fmt.Errorf("resync schedules: %w", err)
	}
	for _, name := range known {
		if _, ok := all[name]; !ok {
			s.apply(name, nil, seq)
		}
	}
	for name, sc := range all {
		if err := s.apply(name, &sc, seq); err != nil {
			s.logger.Error("schedule not loaded", "plugin", name, "cron", sc.Cron, "timezone", sc.Timezone, "error", lhk.ErrorMessage(err))
		}
	}
	return nil
}

// apply makes plugin's robfig entry match want (nil: none), unless a newer
// store read than seq has been applied already.
func (s *Scheduler) apply(plugin string, want *lhk.Schedule, seq uint64) error {
	var (
		c       *compiled
		invalid error
	)
	if want != nil && want.Enabled {
		c, invalid = compile(*want)
	}
	if c == nil {
		want = nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil
	}
	st := s.states[plugin]
	if st == nil {
		st = &state{}
		s.states[plugin] = st
	}
	if seq < st.applied {
		return invalid // a newer read of the store is applied already
	}
	st.applied = seq
	if old := st.entry; old != nil {
		if want != nil && same(old.sched, *want) {
			return nil
		}
		s.cron.Remove(old.id) // returns once robfig's loop has dropped it
		st.entry = nil
		s.logger.Info("schedule removed", "plugin", plugin, "cron", old.sched.Cron, "timezone", old.sched.Timezone)
	}
	if want == nil {
		return invalid
	}
	e := &entry{sched: *want}
	job := rcron.NewChain(s.claim(plugin, e), skipIfStillRunning(&st.busy, func() {
		s.skip(plugin, e, "the previous run of this schedule is still going")
	})).Then(rcron.FuncJob(func() {
		if other := s.runningElsewhere(plugin); other != "" {
			s.skip(plugin, e, "the previous run of this schedule is still going on replica "+other)
			return
		}
		s.run(plugin, e)
	}))
	e.id = s.cron.Schedule(c.sched, job)
	st.entry = e
	s.logger.Info("schedule added", "plugin", plugin, "cron", want.Cron, "timezone", want.Timezone)
	return nil
}

// same reports whether a and b schedule the same runs.
func same(a, b lhk.Schedule) bool {
	return a.Cron == b.Cron && a.Timezone == b.Timezone && a.Input == b.Input && a.Enabled == b.Enabled
}

// current reports whether e is still plugin's entry and the scheduler runs.
func (s *Scheduler) current(plugin string, e *entry) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[plugin]
	return !s.stopping && st != nil && st.entry == e
}

// request returns the invoke request of one run of e, with the plugin's owner
// as read now. ok is false when the run must not happen: the plugin or its
// schedule is gone or disabled in the store, or the entry is stale.
func (s *Scheduler) request(plugin string, e *entry) (req lhk.InvokeRequest, ok bool, err error) {
	if !s.current(plugin, e) {
		return req, false, nil
	}
	p, err := s.plugins.Plugin(s.runCtx, plugin)
	if lhk.ErrorCode(err) == lhk.ENOTFOUND {
		return req, false, nil
	}
	if err != nil {
		return req, false, err
	}
	if p.Schedule == nil || !p.Schedule.Enabled {
		return req, false, nil
	}
	return lhk.InvokeRequest{
		Plugin:  plugin,
		Input:   []byte(e.sched.Input),
		Trigger: lhk.TriggerCron,
		Caller:  p.Owner,
	}, true, nil
}

// run is one tick of plugin's schedule e.
func (s *Scheduler) run(plugin string, e *entry) {
	started := time.Now()
	req, ok, err := s.request(plugin, e)
	if err != nil {
		s.logger.Error("cron run not started: read plugin", "plugin", plugin, "error", err)
		s.record(lhk.InvokeRequest{Plugin: plugin, Input: []byte(e.sched.Input), Trigger: lhk.TriggerCron},
			"the registry could not be read: "+lhk.ErrorMessage(err))
		return
	}
	// Checked last, right before invoking: a Refresh or Stop that returned
	// before this point prevents the run.
	if !ok || !s.current(plugin, e) {
		s.logger.Debug("cron tick dropped", "plugin", plugin)
		return
	}
	s.observeTick(plugin, e, started)
	inv, err := s.invoker.Invoke(s.runCtx, req)
	attrs := []any{"plugin", plugin, "caller", req.Caller}
	if inv != nil {
		attrs = append(attrs, "invocation", inv.ID, "status", inv.Status)
	}
	if err != nil {
		s.logger.Warn("cron run failed", append(attrs, "error", err)...)
		return
	}
	s.logger.Info("cron run done", attrs...)
}

// skip records a tick of e that overlapped a run still going.
func (s *Scheduler) skip(plugin string, e *entry, reason string) {
	req, ok, err := s.request(plugin, e)
	if err != nil {
		req = lhk.InvokeRequest{Plugin: plugin, Input: []byte(e.sched.Input), Trigger: lhk.TriggerCron}
	} else if !ok {
		return
	}
	s.record(req, reason)
}

// record stores a tick that did not run.
func (s *Scheduler) record(req lhk.InvokeRequest, reason string) {
	inv, err := s.invoker.Skip(s.runCtx, req, reason)
	if err != nil {
		s.logger.Error("record skipped cron run", "plugin", req.Plugin, "reason", reason, "error", err)
		return
	}
	s.logger.Info("cron run skipped", "plugin", req.Plugin, "invocation", inv.ID, "reason", reason)
}

// scheduled returns the schedules in force, by plugin.
func (s *Scheduler) scheduled() map[string]lhk.Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]lhk.Schedule)
	for name, st := range s.states {
		if st.entry != nil {
			out[name] = st.entry.sched
		}
	}
	return out
}

// claim lets a tick of e through only when this replica wins it. Without a
// claimer every tick goes through.
func (s *Scheduler) claim(plugin string, e *entry) rcron.JobWrapper {
	return func(j rcron.Job) rcron.Job {
		if s.claimer == nil {
			return j
		}
		return rcron.FuncJob(func() {
			s.mu.Lock()
			stopping := s.stopping
			s.mu.Unlock()
			if stopping {
				return // a draining replica claims nothing: the others run the tick
			}
			tick := s.tickOf(e)
			if tick.IsZero() {
				return // the entry was removed meanwhile
			}
			won, err := s.claimer.ClaimTick(s.runCtx, plugin, tick, s.replica)
			if err != nil {
				// Not running is the safe side: a tick run twice may act twice.
				s.logger.Error("cron tick not run: claim failed", "plugin", plugin, "tick", tick, "error", err)
				return
			}
			if !won {
				s.logger.Debug("cron tick claimed by another replica", "plugin", plugin, "tick", tick)
				return
			}
			j.Run()
		})
	}
}

// tickOf returns the scheduled time of the tick of e that is firing, or zero
// when e is no longer scheduled. robfig's loop sets the entry's Prev to the
// tick's time before it answers the next snapshot request, so this is the
// current tick's unless a later tick of the same entry fired meanwhile.
func (s *Scheduler) tickOf(e *entry) time.Time {
	s.mu.Lock()
	id := e.id // set under s.mu once robfig has the entry
	s.mu.Unlock()
	return s.cron.Entry(id).Prev
}

// runningElsewhere returns the replica, other than this one, that is still
// running a cron invocation of plugin, or "".
func (s *Scheduler) runningElsewhere(plugin string) string {
	if s.runs == nil {
		return ""
	}
	invs, err := s.runs.Invocations(s.runCtx, lhk.InvocationFilter{Plugin: plugin, Trigger: lhk.TriggerCron, Status: lhk.StatusRunning, Limit: 10, Brief: true})
	if err != nil {
		s.logger.Warn("cron overlap check failed; running anyway", "plugin", plugin, "error", err)
		return ""
	}
	for _, inv := range invs {
		if inv.Replica != "" && inv.Replica != s.replica {
			return inv.Replica
		}
	}
	return ""
}

// skipIfStillRunning is rcron.SkipIfStillRunning with the skip reported: a
// tick that finds the job still running from an earlier tick calls skipped
// instead of running. busy is the guard, shared by every entry a plugin's
// schedule has had, so replacing a schedule mid-run does not let runs overlap.
func skipIfStillRunning(busy *atomic.Bool, skipped func()) rcron.JobWrapper {
	return func(j rcron.Job) rcron.Job {
		return rcron.FuncJob(func() {
			if !busy.CompareAndSwap(false, true) {
				skipped()
				return
			}
			defer busy.Store(false)
			j.Run()
		})
	}
}

// slogAdapter is an rcron.Logger writing to slog. robfig's Info messages
// (every wake-up and run) go out at debug level.
type slogAdapter struct{ l *slog.Logger }

// Info implements rcron.Logger.
func (a slogAdapter) Info(msg string, kv ...any) {
	a.l.Debug("robfig/cron: "+msg, kv...)
}

// Error implements rcron.Logger.
func (a slogAdapter) Error(err error, msg string, kv ...any) {
	a.l.Error("robfig/cron: "+msg, append([]any{"error", err}, kv...)...)
}

var _ rcron.Logger = slogAdapter{}
