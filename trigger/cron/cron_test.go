package cron

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rcron "github.com/robfig/cron/v3"

	"github.com/lhk-soc/lhk"
)

// deadline bounds every wait for an event; generous because the machine is shared.
const deadline = 20 * time.Second

// settle is how long a test watches for runs that must not happen: more than
// two periods of @every 1s.
const settle = 2500 * time.Millisecond

// fakeStore is an in-memory lhk.PluginStore holding only what the scheduler reads.
type fakeStore struct {
	lhk.PluginStore // methods the scheduler never calls panic

	mu      sync.Mutex
	plugins map[string]*lhk.Plugin
	fail    error // returned by Plugin when set
	// jitter, when set, delays Plugin's answer after reading it, so racing
	// readers return stale snapshots out of order.
	jitter bool
}

func newFakeStore() *fakeStore { return &fakeStore{plugins: make(map[string]*lhk.Plugin)} }

func (f *fakeStore) put(name, owner string, sc *lhk.Schedule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plugins[name] = &lhk.Plugin{Name: name, Owner: owner, Schedule: sc}
}

func (f *fakeStore) setOwner(name, owner string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plugins[name].Owner = owner
}

func (f *fakeStore) Plugin(_ context.Context, name string) (*lhk.Plugin, error) {
	p, err := f.plugin(name)
	if f.jitter {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
	}
	return p, err
}

func (f *fakeStore) plugin(name string) (*lhk.Plugin, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	p, ok := f.plugins[name]
	if !ok {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "plugin %q not found", name)
	}
	cp := *p
	if p.Schedule != nil {
		sc := *p.Schedule
		cp.Schedule = &sc
	}
	return &cp, nil
}

func (f *fakeStore) SetSchedule(_ context.Context, name string, s lhk.Schedule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.plugins[name]
	if !ok {
		return lhk.Errorf(lhk.ENOTFOUND, "plugin %q not found", name)
	}
	p.Schedule = &s
	return nil
}

func (f *fakeStore) DeleteSchedule(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.plugins[name]
	if !ok || p.Schedule == nil {
		return lhk.Errorf(lhk.ENOTFOUND, "no schedule for %q", name)
	}
	p.Schedule = nil
	return nil
}

func (f *fakeStore) DeletePlugin(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.plugins, name)
	return nil
}

func (f *fakeStore) Schedules(context.Context) (map[string]lhk.Schedule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]lhk.Schedule)
	for name, p := range f.plugins {
		if p.Schedule != nil {
			out[name] = *p.Schedule
		}
	}
	return out, nil
}

// call is one request the fake invoker received.
type call struct {
	req    lhk.InvokeRequest
	reason string // set for Skip
}

// fakeInvoker records Invoke and Skip calls. run, when set, is what Invoke does.
type fakeInvoker struct {
	run func(ctx context.Context, req lhk.InvokeRequest)

	invoked chan call
	skipped chan call
	mu      sync.Mutex
	calls   []call
	n       atomic.Int64
}

func newFakeInvoker(run func(context.Context, lhk.InvokeRequest)) *fakeInvoker {
	return &fakeInvoker{run: run, invoked: make(chan call, 10000), skipped: make(chan call, 10000)}
}

func (f *fakeInvoker) Invoke(ctx context.Context, req lhk.InvokeRequest) (*lhk.Invocation, error) {
	id := f.n.Add(1)
	f.mu.Lock()
	f.calls = append(f.calls, call{req: req})
	f.mu.Unlock()
	f.invoked <- call{req: req}
	if f.run != nil {
		f.run(ctx, req)
	}
	return &lhk.Invocation{ID: fmt.Sprint(id), Plugin: req.Plugin, Status: lhk.StatusOK}, nil
}

func (f *fakeInvoker) Start(context.Context, lhk.InvokeRequest) (*lhk.Invocation, error) {
	panic("cron must not use Start")
}

func (f *fakeInvoker) Skip(_ context.Context, req lhk.InvokeRequest, reason string) (*lhk.Invocation, error) {
	f.skipped <- call{req: req, reason: reason}
	return &lhk.Invocation{ID: "skip", Plugin: req.Plugin, Status: lhk.StatusSkipped}, nil
}

// count returns the number of Invoke calls so far.
func (f *fakeInvoker) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// since returns the Invoke calls after the first n.
func (f *fakeInvoker) since(n int) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls[n:]...)
}

func every(input string) *lhk.Schedule {
	return &lhk.Schedule{Cron: "@every 1s", Input: input, Enabled: true}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start returns a started scheduler stopped at the end of the test.
func start(tb testing.TB, inv lhk.InvokeService, store lhk.PluginStore) *Scheduler {
	tb.Helper()
	s := New(inv, store, discard())
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			tb.Errorf("Stop: %v", err)
		}
	})
	return s
}

// next waits for the next call on ch.
func next(tb testing.TB, ch <-chan call, what string) call {
	tb.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(deadline):
		tb.Fatalf("no %s within %v", what, deadline)
		return call{}
	}
}

// nextFor waits for the next call on ch for plugin, dropping others.
func nextFor(tb testing.TB, ch <-chan call, plugin, what string) call {
	tb.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case c := <-ch:
			if c.req.Plugin == plugin {
				return c
			}
		case <-timeout:
			tb.Fatalf("no %s of %q within %v", what, plugin, deadline)
			return call{}
		}
	}
}

func TestScheduler_Invokes(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.put("weekly-report", "alice", every(`{"tenant":"acme"}`))
	store.put("disabled", "alice", &lhk.Schedule{Cron: "@every 1s", Enabled: false})
	store.put("no-schedule", "alice", nil)
	inv := newFakeInvoker(nil)
	s := start(t, inv, store)

	if got := s.scheduled(); len(got) != 1 || got["weekly-report"].Cron != "@every 1s" {
		t.Fatalf("scheduled = %v, want only weekly-report", got)
	}
	for i := range 2 {
		c := next(t, inv.invoked, "invocation")
		want := lhk.InvokeRequest{Plugin: "weekly-report", Function: "", Input: []byte(`{"tenant":"acme"}`), Trigger: lhk.TriggerCron, Caller: "alice"}
		if c.req.Plugin != want.Plugin || c.req.Function != want.Function || string(c.req.Input) != string(want.Input) ||
			c.req.Trigger != want.Trigger || c.req.Caller != want.Caller || c.req.Version != 0 {
			t.Fatalf("run %d: request = %+v, want %+v", i, c.req, want)
		}
	}

	// The caller is the owner at fire time, without a Refresh.
	store.setOwner("weekly-report", "bob")
	for {
		c := next(t, inv.invoked, "invocation")
		if c.req.Caller == "bob" {
			break
		}
		if c.req.Caller != "alice" {
			t.Fatalf("caller = %q, want alice then bob", c.req.Caller)
		}
	}
}

func TestValidate(t *testing.T) {
	s := New(newFakeInvoker(nil), newFakeStore(), nil)
	t.Run("OK", func(t *testing.T) {
		for _, sc := range []lhk.Schedule{
			{Cron: "0 9 * * 1"},
			{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo"},
			{Cron: "*/15 8-18 * * MON-FRI", Timezone: "Europe/Paris"},
			{Cron: "0 0 29 2 *"},
			{Cron: " @hourly \n", Timezone: "UTC"},
			{Cron: "@daily", Timezone: "America/New_York"},
			{Cron: "@every 5m"},
			{Cron: "@every 1s"},
		} {
			if err := s.Validate(sc); err != nil {
				t.Errorf("Validate(%q, %q) = %v, want nil", sc.Cron, sc.Timezone, err)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, tt := range []struct {
			name, spec, tz, want string
		}{
			{"MinuteOutOfRange", "61 * * * *", "", `invalid cron spec "61 * * * *": end of range (61) above maximum (59): 61`},
			{"TooFewFields", "* * *", "", `invalid cron spec "* * *": expected exactly 5 fields, found 3: [* * *]`},
			{"SixFields", "0 0 9 * * 1", "", `invalid cron spec "0 0 9 * * 1": expected exactly 5 fields, found 6`},
			{"Empty", "", "", `invalid cron spec "": empty spec`},
			{"Blank", "   ", "", `invalid cron spec "   ": empty spec`},
			{"Garbage", "every monday", "", `invalid cron spec "every monday": expected exactly 5 fields`},
			{"BadName", "0 9 * * FUNDAY", "", `invalid cron spec "0 9 * * FUNDAY": failed to parse int from FUNDAY`},
			{"ZeroStep", "*/0 * * * *", "", `invalid cron spec "*/0 * * * *": step of range should be a positive number`},
			{"UnknownDescriptor", "@fortnightly", "", `invalid cron spec "@fortnightly": unrecognized descriptor: @fortnightly`},
			{"EveryNegative", "@every -1s", "", `invalid cron spec "@every -1s": @every needs an interval of at least 1s`},
			{"EveryZero", "@every 0s", "", `invalid cron spec "@every 0s": @every needs an interval of at least 1s`},
			{"EverySubSecond", "@every 500ms", "", `invalid cron spec "@every 500ms": @every needs an interval of at least 1s`},
			{"EveryGarbage", "@every soon", "", `invalid cron spec "@every soon": failed to parse duration @every soon`},
			{"NeverFires", "0 0 30 2 *", "", `invalid cron spec "0 0 30 2 *": never fires`},
			{"CronTZPrefix", "CRON_TZ=Asia/Tokyo 0 9 * * *", "", `invalid cron spec "CRON_TZ=Asia/Tokyo 0 9 * * *": set the timezone in the timezone field`},
			{"TZPrefix", "TZ=UTC 0 9 * * *", "Asia/Tokyo", `invalid cron spec "TZ=UTC 0 9 * * *": set the timezone in the timezone field`},
			{"TZPrefixNoSpace", "TZ=", "", `invalid cron spec "TZ=": set the timezone in the timezone field`},
			{"TooLong", "0 9 * * " + strings.Repeat("1,", 200) + "1", "", `invalid cron spec: longer than 256 characters`},
			{"UnknownTimezone", "0 9 * * *", "Mars/Olympus", `invalid timezone "Mars/Olympus": unknown time zone Mars/Olympus`},
			{"LocalTimezone", "0 9 * * *", "Local", `invalid timezone "Local": use an IANA name`},
			{"PathTimezone", "0 9 * * *", "../../etc/passwd", `invalid timezone "../../etc/passwd": `},
			{"BadSpecAndTimezone", "61 * * * *", "Mars/Olympus", `invalid timezone "Mars/Olympus"`},
		} {
			t.Run(tt.name, func(t *testing.T) {
				err := s.Validate(lhk.Schedule{Cron: tt.spec, Timezone: tt.tz})
				if code := lhk.ErrorCode(err); code != lhk.EINVALID {
					t.Fatalf("Validate(%q, %q) = %v, want code %q", tt.spec, tt.tz, err, lhk.EINVALID)
				}
				if msg := lhk.ErrorMessage(err); !strings.HasPrefix(msg, tt.want) {
					t.Fatalf("message = %q, want prefix %q", msg, tt.want)
				}
			})
		}
	})
}

func TestNext(t *testing.T) {
	s := New(newFakeInvoker(nil), newFakeStore(), nil)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	ny, _ := time.LoadLocation("America/New_York")
	for _, tt := range []struct {
		name  string
		sc    lhk.Schedule
		from  time.Time
		n     int
		loc   *time.Location
		first []string // the leading expected times, RFC 3339 in loc
	}{
		{
			name:  "Tokyo",
			sc:    lhk.Schedule{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo"},
			from:  time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), // a Sunday
			n:     3,
			loc:   tokyo,
			first: []string{"2026-11-02T09:00:00+09:00", "2026-11-09T09:00:00+09:00", "2026-11-16T09:00:00+09:00"},
		},
		{
			name: "EmptyTimezoneIsUTC",
			sc:   lhk.Schedule{Cron: "@daily"},
			from: time.Date(2026, 11, 1, 12, 0, 0, 0, tokyo),
			n:    2,
			loc:  time.UTC,
			// 12:00 in Tokyo is 03:00 UTC the same day.
			first: []string{"2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z"},
		},
		{
			name: "NewYorkSpringForward",
			sc:   lhk.Schedule{Cron: "30 2 * * *", Timezone: "America/New_York"},
			from: time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC),
			n:    4,
			loc:  ny,
			// 2026-03-08 has no 02:30 in New York; robfig skips the day.
			first: []string{"2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"},
		},
		{
			name:  "NewYorkFallBack",
			sc:    lhk.Schedule{Cron: "30 1 * * *", Timezone: "America/New_York"},
			from:  time.Date(2026, 10, 31, 12, 0, 0, 0, time.UTC),
			n:     3,
			loc:   ny,
			first: []string{"2026-11-01T01:30:00-04:00"},
		},
		{
			name:  "NewYorkHourly",
			sc:    lhk.Schedule{Cron: "0 * * * *", Timezone: "America/New_York"},
			from:  time.Date(2026, 3, 8, 5, 30, 0, 0, time.UTC), // 00:30 EST
			n:     4,
			loc:   ny,
			first: []string{"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"},
		},
		{
			name:  "Every",
			sc:    lhk.Schedule{Cron: "@every 90m", Timezone: "Asia/Tokyo"},
			from:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			n:     2,
			loc:   tokyo,
			first: []string{"2026-01-01T10:30:00+09:00", "2026-01-01T12:00:00+09:00"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Next(tt.sc, tt.from, tt.n)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if len(got) != tt.n {
				t.Fatalf("got %d times, want %d", len(got), tt.n)
			}
			// What robfig itself gives for the same spec in that location.
			prefix := ""
			if tt.sc.Timezone != "" {
				prefix = "CRON_TZ=" + tt.sc.Timezone + " "
			}
			lib, err := rcron.ParseStandard(prefix + tt.sc.Cron)
			if err != nil {
				t.Fatalf("robfig: %v", err)
			}
			at := tt.from.In(tt.loc)
			for i, g := range got {
				at = lib.Next(at)
				if !g.Equal(at) || g.Location().String() != tt.loc.String() {
					t.Errorf("time %d = %v, robfig says %v", i, g, at.In(tt.loc))
				}
				if i < len(tt.first) {
					if s := g.Format(time.RFC3339); s != tt.first[i] {
						t.Errorf("time %d = %s, want %s", i, s, tt.first[i])
					}
				}
			}
		})
	}
	t.Run("Capped", func(t *testing.T) {
		got, err := s.Next(lhk.Schedule{Cron: "* * * * *"}, time.Now(), 10_000)
		if err != nil || len(got) != MaxNext {
			t.Fatalf("Next(10000) = %d times, %v; want %d", len(got), err, MaxNext)
		}
	})
	t.Run("ErrInvalidN", func(t *testing.T) {
		if _, err := s.Next(lhk.Schedule{Cron: "@daily"}, time.Now(), 0); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Fatalf("Next(n=0) = %v, want EINVALID", err)
		}
	})
	t.Run("ErrInvalidSpec", func(t *testing.T) {
		if _, err := s.Next(lhk.Schedule{Cron: "61 * * * *"}, time.Now(), 1); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Fatalf("Next(bad spec) = %v, want EINVALID", err)
		}
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		change func(f *fakeStore)
		// runs says whether the plugin still runs after the change, with
		// which input.
		runs  bool
		input string
	}{
		{"DeleteSchedule", func(f *fakeStore) { _ = f.DeleteSchedule(context.Background(), "p") }, false, ""},
		{"DeletePlugin", func(f *fakeStore) { _ = f.DeletePlugin(context.Background(), "p") }, false, ""},
		{"Disable", func(f *fakeStore) {
			_ = f.SetSchedule(context.Background(), "p", lhk.Schedule{Cron: "@every 1s", Input: "old", Enabled: false})
		}, false, ""},
		{"ChangeSpecToRare", func(f *fakeStore) {
			_ = f.SetSchedule(context.Background(), "p", lhk.Schedule{Cron: "0 0 1 1 *", Input: "old", Enabled: true})
		}, false, ""},
		{"ChangeInput", func(f *fakeStore) { _ = f.SetSchedule(context.Background(), "p", *every("new")) }, true, "new"},
		{"ChangeTimezone", func(f *fakeStore) {
			_ = f.SetSchedule(context.Background(), "p", lhk.Schedule{Cron: "@every 1s", Timezone: "Asia/Tokyo", Input: "tz", Enabled: true})
		}, true, "tz"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newFakeStore()
			store.put("p", "alice", every("old"))
			store.put("other", "alice", every("other"))
			inv := newFakeInvoker(nil)
			s := start(t, inv, store)
			nextFor(t, inv.invoked, "p", "invocation")

			tt.change(store)
			if err := s.Refresh(context.Background(), "p"); err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			n := inv.count()
			if tt.runs {
				for {
					c := nextFor(t, inv.invoked, "p", "invocation after refresh")
					if string(c.req.Input) == tt.input {
						break
					}
				}
			} else {
				time.Sleep(settle)
			}
			for _, c := range inv.since(n) {
				if c.req.Plugin == "p" && (!tt.runs || string(c.req.Input) != tt.input) {
					t.Fatalf("run after Refresh returned: %+v", c.req)
				}
			}
			// The other schedule kept running.
			nextFor(t, inv.invoked, "other", "invocation of the other plugin")
		})
	}
	t.Run("Add", func(t *testing.T) {
		t.Parallel()
		store := newFakeStore()
		inv := newFakeInvoker(nil)
		s := start(t, inv, store)
		store.put("late", "carol", every("x"))
		if err := s.Refresh(context.Background(), "late"); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if c := nextFor(t, inv.invoked, "late", "invocation"); c.req.Caller != "carol" {
			t.Fatalf("caller = %q, want carol", c.req.Caller)
		}
	})
	t.Run("Unchanged", func(t *testing.T) {
		t.Parallel()
		store := newFakeStore()
		store.put("p", "alice", &lhk.Schedule{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo", Enabled: true})
		s := start(t, newFakeInvoker(nil), store)
		before := s.cron.Entries()
		if err := s.Refresh(context.Background(), "p"); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		after := s.cron.Entries()
		if len(before) != 1 || len(after) != 1 || before[0].ID != after[0].ID {
			t.Fatalf("entries before %v, after %v: want the same single entry kept", before, after)
		}
	})
	t.Run("ErrInvalidStored", func(t *testing.T) {
		t.Parallel()
		store := newFakeStore()
		store.put("p", "alice", every("x"))
		s := start(t, newFakeInvoker(nil), store)
		_ = store.SetSchedule(context.Background(), "p", lhk.Schedule{Cron: "61 * * * *", Enabled: true})
		err := s.Refresh(context.Background(), "p")
		if lhk.ErrorCode(err) != lhk.EINVALID || !strings.Contains(lhk.ErrorMessage(err), "61 * * * *") {
			t.Fatalf("Refresh = %v, want EINVALID naming the spec", err)
		}
		if got := s.scheduled(); len(got) != 0 {
			t.Fatalf("scheduled = %v, want the old schedule removed", got)
		}
	})
	t.Run("ErrStore", func(t *testing.T) {
		t.Parallel()
		store := newFakeStore()
		store.put("p", "alice", every("x"))
		s := start(t, newFakeInvoker(nil), store)
		store.mu.Lock()
		store.fail = lhk.Errorf(lhk.EUNAVAILABLE, "database down")
		store.mu.Unlock()
		err := s.Refresh(context.Background(), "p")
		if lhk.ErrorCode(err) != lhk.EUNAVAILABLE {
			t.Fatalf("Refresh = %v, want the store's EUNAVAILABLE", err)
		}
		if got := s.scheduled(); len(got) != 1 {
			t.Fatalf("scheduled = %v, want the schedule kept when the store fails", got)
		}
	})
}

func TestScheduler_SkipsOverlap(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	store := newFakeStore()
	store.put("slow", "alice", every("in"))
	inv := newFakeInvoker(func(ctx context.Context, _ lhk.InvokeRequest) {
		select {
		case <-release:
		case <-ctx.Done():
		}
	})
	start(t, inv, store)
	next(t, inv.invoked, "invocation")
	for range 2 {
		c := next(t, inv.skipped, "skip")
		if c.req.Plugin != "slow" || c.req.Trigger != lhk.TriggerCron || c.req.Caller != "alice" || string(c.req.Input) != "in" || c.reason == "" {
			t.Fatalf("skip = %+v, want plugin slow, trigger cron, caller alice, input and a reason", c)
		}
	}
	if n := inv.count(); n != 1 {
		t.Fatalf("%d invocations while the first was running, want 1", n)
	}
	close(release)
	next(t, inv.invoked, "invocation after the slow run ended")
}

func TestScheduler_RecoversPanic(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	store := newFakeStore()
	store.put("p", "alice", every(""))
	inv := newFakeInvoker(func(context.Context, lhk.InvokeRequest) {
		if calls.Add(1) == 1 {
			panic("plugin host exploded")
		}
	})
	start(t, inv, store)
	next(t, inv.invoked, "panicking invocation")
	// A second run proves the process survived and the overlap guard was released.
	next(t, inv.invoked, "invocation after the panic")
}

func TestScheduler_Stop(t *testing.T) {
	t.Parallel()
	t.Run("WaitsForRuns", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		var finished atomic.Bool
		store := newFakeStore()
		store.put("p", "alice", every(""))
		inv := newFakeInvoker(func(context.Context, lhk.InvokeRequest) {
			<-release
			finished.Store(true)
		})
		s := New(inv, store, discard())
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		next(t, inv.invoked, "invocation")
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop(context.Background()) }()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) while a run was going", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
		case <-time.After(deadline):
			t.Fatal("Stop did not return after the run ended")
		}
		if !finished.Load() {
			t.Fatal("Stop returned before the run finished")
		}
		n := inv.count()
		time.Sleep(settle)
		if got := inv.count(); got != n {
			t.Fatalf("%d runs after Stop", got-n)
		}
		if err := s.Refresh(context.Background(), "p"); err != nil {
			t.Fatalf("Refresh after Stop: %v", err)
		}
		if err := s.Start(context.Background()); lhk.ErrorCode(err) != lhk.ECONFLICT {
			t.Fatalf("Start after Stop = %v, want ECONFLICT", err)
		}
	})
	t.Run("DeadlineCancelsRuns", func(t *testing.T) {
		t.Parallel()
		cancelled := make(chan struct{})
		store := newFakeStore()
		store.put("p", "alice", every(""))
		inv := newFakeInvoker(func(ctx context.Context, _ lhk.InvokeRequest) {
			<-ctx.Done()
			close(cancelled)
		})
		s := New(inv, store, discard())
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		next(t, inv.invoked, "invocation")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Stop(ctx); err == nil {
			t.Fatal("Stop with an expired context = nil, want an error")
		}
		select {
		case <-cancelled:
		case <-time.After(deadline):
			t.Fatal("the running invocation's context was not cancelled")
		}
	})
	t.Run("BeforeStart", func(t *testing.T) {
		s := New(newFakeInvoker(nil), newFakeStore(), nil)
		if err := s.Stop(context.Background()); err != nil {
			t.Fatalf("Stop before Start: %v", err)
		}
	})
}

// TestScheduler_Hammer refreshes many plugins from many goroutines while their
// schedules tick and the store changes under them. After each Refresh the
// schedule in force must be the store's state at the call or a later one,
// never an older one; at the end the scheduler and robfig agree with the store.
func TestScheduler_Hammer(t *testing.T) {
	t.Parallel()
	const (
		plugins    = 12
		goroutines = 16
		rounds     = 150
	)
	store := newFakeStore()
	store.jitter = true
	name := func(i int) string { return fmt.Sprintf("p%02d", i) }

	// history[p][v] is the enabled schedule of p after its v-th write, nil
	// for none; inputs are unique so states tell apart.
	var (
		mu      sync.Mutex
		history = make(map[string][]*lhk.Schedule)
		writes  atomic.Int64
	)
	for i := range plugins {
		store.put(name(i), "alice", every("0"))
		history[name(i)] = []*lhk.Schedule{every("0")}
	}
	write := func(p string, sc *lhk.Schedule) {
		mu.Lock()
		defer mu.Unlock()
		if sc == nil {
			_ = store.DeleteSchedule(context.Background(), p)
		} else {
			_ = store.SetSchedule(context.Background(), p, *sc)
			if !sc.Enabled {
				sc = nil
			}
		}
		history[p] = append(history[p], sc)
	}

	inv := newFakeInvoker(nil)
	go func() { // drain
		for range inv.invoked {
		}
	}()
	s := start(t, inv, store)

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			ctx := context.Background()
			for range rounds {
				p := name(r.IntN(plugins))
				input := fmt.Sprint(writes.Add(1))
				switch r.IntN(4) {
				case 0:
					write(p, nil)
				case 1:
					write(p, &lhk.Schedule{Cron: "@every 1s", Input: input, Enabled: r.IntN(2) == 0})
				case 2:
					write(p, &lhk.Schedule{Cron: "*/5 * * * *", Timezone: "Asia/Tokyo", Input: input, Enabled: true})
				}
				mu.Lock()
				v0 := len(history[p]) - 1
				mu.Unlock()
				if err := s.Refresh(ctx, p); err != nil {
					t.Errorf("Refresh(%s): %v", p, err)
					return
				}
				got, ok := s.scheduled()[p]
				mu.Lock()
				fresh := false
				for _, h := range history[p][v0:] {
					if (h == nil && !ok) || (h != nil && ok && same(*h, got)) {
						fresh = true
						break
					}
				}
				mu.Unlock()
				if !fresh {
					t.Errorf("%s: after Refresh the schedule in force (%+v, %v) is older than the store's at the call", p, got, ok)
					return
				}
			}
		})
	}
	wg.Wait()

	want, _ := store.Schedules(context.Background())
	for n, sc := range want {
		if !sc.Enabled {
			delete(want, n)
		}
	}
	got := s.scheduled()
	if len(got) != len(want) {
		t.Fatalf("%d schedules in force, store has %d enabled", len(got), len(want))
	}
	for n, sc := range want {
		if !same(got[n], sc) {
			t.Errorf("%s: in force %+v, store %+v", n, got[n], sc)
		}
	}
	if entries := s.cron.Entries(); len(entries) != len(want) {
		t.Fatalf("robfig has %d entries, want %d", len(entries), len(want))
	}
}

func FuzzValidate(f *testing.F) {
	for _, seed := range []struct{ spec, tz string }{
		{"0 9 * * 1", "Asia/Tokyo"},
		{"61 * * * *", ""},
		{"* * *", ""},
		{"@every -1s", ""},
		{"@every 1h30m", "UTC"},
		{"@daily", "Mars/Olympus"},
		{"TZ=", ""},
		{"CRON_TZ=Asia/Tokyo", ""},
		{"*/0 * * * *", ""},
		{"1-2-3 * * * *", ""},
		{"0 0 30 2 *", ""},
		{"0-59/1000000000000 * * * *", ""},
		{"? ? ? ? ?", "Local"},
	} {
		f.Add(seed.spec, seed.tz)
	}
	s := New(newFakeInvoker(nil), newFakeStore(), nil)
	f.Fuzz(func(t *testing.T, spec, tz string) {
		sc := lhk.Schedule{Cron: spec, Timezone: tz}
		err := s.Validate(sc)
		if err != nil {
			if lhk.ErrorCode(err) != lhk.EINVALID {
				t.Fatalf("Validate(%q, %q) = %v, want EINVALID", spec, tz, err)
			}
			return
		}
		// A valid schedule must preview without error.
		if _, err := s.Next(sc, time.Now(), 3); err != nil {
			t.Fatalf("Next(%q, %q) after a valid Validate: %v", spec, tz, err)
		}
	})
}

// memClaimer is an lhk.TickClaimer in memory, shared by the schedulers of a
// test the way replicas share a registry. It remembers every attempt.
type memClaimer struct {
	mu       sync.Mutex
	winner   map[string]string // "plugin tick" → replica
	attempts map[string]int
}

func newMemClaimer() *memClaimer {
	return &memClaimer{winner: map[string]string{}, attempts: map[string]int{}}
}

func (m *memClaimer) ClaimTick(_ context.Context, plugin string, tick time.Time, replica string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := plugin + " " + tick.UTC().Format(time.RFC3339Nano)
	m.attempts[key]++
	if _, taken := m.winner[key]; taken {
		return false, nil
	}
	m.winner[key] = replica
	return true, nil
}

// runningStore is an lhk.InvocationStore listing one running cron invocation
// on another replica.
type runningStore struct {
	lhk.InvocationStore
	replica string
}

func (r runningStore) Invocations(_ context.Context, f lhk.InvocationFilter) ([]*lhk.Invocation, error) {
	if f.Status != lhk.StatusRunning || f.Trigger != lhk.TriggerCron {
		return nil, fmt.Errorf("unexpected filter %+v", f)
	}
	return []*lhk.Invocation{{ID: "x", Plugin: f.Plugin, Trigger: lhk.TriggerCron, Status: lhk.StatusRunning, Replica: r.replica}}, nil
}

// TestScheduler_Cluster: three replicas with the same schedule run each tick
// once, on whichever claimed it, and ticks are the aligned scheduled times.
func TestScheduler_Cluster(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.put("tick", "alice", every("in"))
	claims := newMemClaimer()
	inv := newFakeInvoker(nil)
	var scheds []*Scheduler
	for i := range 3 {
		s := New(inv, store, discard(), WithCluster(claims, nil, fmt.Sprintf("replica-%d", i)))
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	for range 4 {
		next(t, inv.invoked, "invocation")
	}
	for _, s := range scheds {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	claims.mu.Lock()
	defer claims.mu.Unlock()
	if n := inv.count(); n != len(claims.winner) {
		t.Fatalf("%d invocations for %d claimed ticks", n, len(claims.winner))
	}
	full := 0
	for key, n := range claims.attempts {
		tick, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(key, "tick "))
		if err != nil || tick.Nanosecond() != 0 {
			t.Fatalf("tick %q is not a whole second: %v", key, err)
		}
		if n > 3 {
			t.Fatalf("tick %s attempted %d times by 3 replicas", key, n)
		}
		if n == 3 {
			full++
		}
	}
	if full < 2 {
		t.Fatalf("only %d ticks were seen by all three replicas: %v", full, claims.attempts)
	}
}

// TestScheduler_ClusterOverlap: a tick whose previous run is still going on
// another replica is recorded as skipped, naming that replica.
func TestScheduler_ClusterOverlap(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.put("slow", "alice", every("in"))
	inv := newFakeInvoker(nil)
	s := New(inv, store, discard(), WithCluster(newMemClaimer(), runningStore{replica: "replica-b"}, "replica-a"))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	c := next(t, inv.skipped, "skip")
	if !strings.Contains(c.reason, "replica-b") {
		t.Fatalf("skip reason %q does not name the other replica", c.reason)
	}
	if n := inv.count(); n != 0 {
		t.Fatalf("%d runs while another replica was running", n)
	}
}

// TestResync: changes made behind the scheduler's back (by another replica)
// are all applied by one Resync.
func TestResync(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.put("kept", "alice", &lhk.Schedule{Cron: "@hourly", Enabled: true})
	store.put("gone", "alice", &lhk.Schedule{Cron: "@hourly", Enabled: true})
	store.put("changed", "alice", &lhk.Schedule{Cron: "@hourly", Enabled: true})
	s := start(t, newFakeInvoker(nil), store)
	store.DeletePlugin(context.Background(), "gone")
	store.SetSchedule(context.Background(), "changed", lhk.Schedule{Cron: "@daily", Enabled: true})
	store.put("new", "bob", &lhk.Schedule{Cron: "@weekly", Enabled: true})
	if err := s.Resync(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.scheduled()
	want := map[string]string{"kept": "@hourly", "changed": "@daily", "new": "@weekly"}
	if len(got) != len(want) {
		t.Fatalf("scheduled = %v, want %v", got, want)
	}
	for name, spec := range want {
		if got[name].Cron != spec {
			t.Errorf("%s: %q, want %q", name, got[name].Cron, spec)
		}
	}
}
