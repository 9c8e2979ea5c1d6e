package cron

import (
	"context"
	"testing"
	"time"
)

// TestWithObserver checks that every run reports its plugin, the tick's
// scheduled time (whole seconds for @every 1s) and a start at or after it.
func TestWithObserver(t *testing.T) {
	type tick struct {
		plugin             string
		scheduled, started time.Time
	}
	ticks := make(chan tick, 100)
	store := newFakeStore()
	store.put("p", "alice", every("x"))
	inv := newFakeInvoker(nil)
	s := New(inv, store, discard(), WithObserver(func(plugin string, scheduled, started time.Time) {
		ticks <- tick{plugin, scheduled, started}
	}))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	}()
	var last time.Time
	for i := range 2 {
		select {
		case tk := <-ticks:
			if tk.plugin != "p" {
				t.Fatalf("tick %d of plugin %q", i, tk.plugin)
			}
			if tk.scheduled.Nanosecond() != 0 {
				t.Errorf("tick %d scheduled at %v, not a whole second", i, tk.scheduled)
			}
			if lag := tk.started.Sub(tk.scheduled); lag < 0 || lag > deadline {
				t.Errorf("tick %d: lag %v", i, lag)
			}
			if !tk.scheduled.After(last) {
				t.Errorf("tick %d scheduled at %v, not after the previous %v", i, tk.scheduled, last)
			}
			last = tk.scheduled
		case <-time.After(deadline):
			t.Fatalf("no tick %d observed", i)
		}
		next(t, inv.invoked, "run")
	}
}
