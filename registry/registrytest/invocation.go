package registrytest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// t0 is a fixed start time; whole seconds survive every backend's precision.
var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func (s *suite) testInvocations(t *testing.T) {
	bg := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		r := s.fresh(t)
		want := &lhk.Invocation{
			ID: "01J0000000000000000000000A", Plugin: "report", Version: 3, Function: "weekly",
			Trigger: lhk.TriggerCron, Caller: "cron", Status: lhk.StatusError, StartedAt: t0,
			DurationMS: 12.5, Input: []byte("in"), Output: []byte{0, 1, 2, 0xff}, OutputTruncated: true,
			Logs: []lhk.LogLine{
				{Time: t0.Add(time.Second), Level: "info", Message: "starting"},
				{Time: t0.Add(2 * time.Second), Level: "stderr", Message: "boom ✗"},
			},
			Error: "plugin trapped", Replica: "lhkd-7c9f",
		}
		ok(t, r.PutInvocations(bg, []*lhk.Invocation{want}))
		got, err := r.Invocation(bg, want.ID)
		ok(t, err)
		if got.ID != want.ID || got.Plugin != want.Plugin || got.Version != want.Version || got.Function != want.Function ||
			got.Trigger != want.Trigger || got.Caller != want.Caller || got.Status != want.Status ||
			!got.StartedAt.Equal(want.StartedAt) || got.DurationMS != want.DurationMS ||
			!bytes.Equal(got.Output, want.Output) || got.OutputTruncated != want.OutputTruncated || got.Error != want.Error ||
			got.Replica != want.Replica {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		if len(got.Logs) != 2 {
			t.Fatalf("got %d log lines, want 2", len(got.Logs))
		}
		for i := range got.Logs {
			if g, w := got.Logs[i], want.Logs[i]; !g.Time.Equal(w.Time) || g.Level != w.Level || g.Message != w.Message {
				t.Errorf("log %d: got %+v, want %+v", i, g, w)
			}
		}
	})

	t.Run("Upsert", func(t *testing.T) {
		r := s.fresh(t)
		running := &lhk.Invocation{ID: "a1", Plugin: "report", Version: 1, Function: "run", Trigger: lhk.TriggerHTTP,
			Caller: "alice", Status: lhk.StatusRunning, StartedAt: t0}
		ok(t, r.PutInvocations(bg, []*lhk.Invocation{running}))
		got, err := r.Invocation(bg, "a1")
		ok(t, err)
		if got.Status != lhk.StatusRunning {
			t.Fatalf("status %q, want running", got.Status)
		}
		final := *running
		final.Status, final.DurationMS, final.Output = lhk.StatusOK, 40, []byte("result")
		ok(t, r.PutInvocations(bg, []*lhk.Invocation{&final}))
		got, err = r.Invocation(bg, "a1")
		ok(t, err)
		if got.Status != lhk.StatusOK || got.DurationMS != 40 || string(got.Output) != "result" {
			t.Errorf("after upsert: %+v", got)
		}
		all, err := r.Invocations(bg, lhk.InvocationFilter{})
		ok(t, err)
		if len(all) != 1 {
			t.Errorf("upsert left %d records, want 1", len(all))
		}
	})

	t.Run("UpsertWithinBatch", func(t *testing.T) {
		r := s.fresh(t)
		a := &lhk.Invocation{ID: "a", Plugin: "p", Status: lhk.StatusRunning, StartedAt: t0}
		b := &lhk.Invocation{ID: "a", Plugin: "p", Status: lhk.StatusTimeout, StartedAt: t0}
		ok(t, r.PutInvocations(bg, []*lhk.Invocation{a, b}))
		got, err := r.Invocation(bg, "a")
		ok(t, err)
		if got.Status != lhk.StatusTimeout {
			t.Errorf("status %q, want the later record's timeout", got.Status)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		r := s.fresh(t)
		ok(t, r.PutInvocations(bg, nil))
		invs, err := r.Invocations(bg, lhk.InvocationFilter{})
		ok(t, err)
		if len(invs) != 0 {
			t.Errorf("got %d", len(invs))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		r := s.fresh(t)
		_, err := r.Invocation(bg, "nothing")
		wantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		r := s.fresh(t)
		good := &lhk.Invocation{ID: "good", Plugin: "p", Status: lhk.StatusOK, StartedAt: t0}
		tests := []struct {
			name string
			inv  *lhk.Invocation
		}{
			{"NoID", &lhk.Invocation{Plugin: "p", Status: lhk.StatusOK, StartedAt: t0}},
			{"NoPlugin", &lhk.Invocation{ID: "x", Status: lhk.StatusOK, StartedAt: t0}},
			{"UnknownStatus", &lhk.Invocation{ID: "x", Plugin: "p", Status: "weird", StartedAt: t0}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// The whole batch fails: the good record is not written either.
				wantCode(t, r.PutInvocations(bg, []*lhk.Invocation{good, tt.inv}), lhk.EINVALID)
				_, err := r.Invocation(bg, "good")
				wantCode(t, err, lhk.ENOTFOUND)
			})
		}
		for _, f := range []lhk.InvocationFilter{{Limit: -1}, {Before: "nothing"}} {
			_, err := r.Invocations(bg, f)
			wantCode(t, err, lhk.EINVALID)
		}
	})

	t.Run("ListAndFilter", func(t *testing.T) {
		r := s.fresh(t)
		// Twelve records: plugins p0..p2, triggers alternating, status and
		// caller varying; i=4 and i=5 share a start time to test the id tie-break.
		triggers := []string{lhk.TriggerHTTP, lhk.TriggerCron}
		statuses := []string{lhk.StatusOK, lhk.StatusError, lhk.StatusTimeout}
		var invs []*lhk.Invocation
		for i := range 12 {
			start := t0.Add(time.Duration(i) * time.Minute)
			if i == 5 {
				start = t0.Add(4 * time.Minute)
			}
			invs = append(invs, &lhk.Invocation{
				ID: fmt.Sprintf("inv-%02d", i), Plugin: fmt.Sprintf("p%d", i%3), Version: 1, Function: "run",
				Trigger: triggers[i%2], Caller: []string{"alice", "bob"}[i/6], Status: statuses[i%3], StartedAt: start,
			})
		}
		ok(t, r.PutInvocations(bg, invs))
		ids := func(is []*lhk.Invocation) string {
			var s []string
			for _, i := range is {
				s = append(s, i.ID[4:])
			}
			return fmt.Sprint(s)
		}
		tests := []struct {
			name string
			f    lhk.InvocationFilter
			want string
		}{
			{"All", lhk.InvocationFilter{}, "[11 10 09 08 07 06 05 04 03 02 01 00]"},
			{"Limit", lhk.InvocationFilter{Limit: 3}, "[11 10 09]"},
			{"Plugin", lhk.InvocationFilter{Plugin: "p1"}, "[10 07 04 01]"},
			{"Trigger", lhk.InvocationFilter{Trigger: lhk.TriggerCron}, "[11 09 07 05 03 01]"},
			{"Status", lhk.InvocationFilter{Status: lhk.StatusTimeout}, "[11 08 05 02]"},
			{"Caller", lhk.InvocationFilter{Caller: "alice"}, "[05 04 03 02 01 00]"},
			{"PluginAndStatus", lhk.InvocationFilter{Plugin: "p2", Status: lhk.StatusTimeout}, "[11 08 05 02]"},
			{"TriggerAndCaller", lhk.InvocationFilter{Trigger: lhk.TriggerHTTP, Caller: "bob"}, "[10 08 06]"},
			{"NoMatch", lhk.InvocationFilter{Plugin: "other"}, "[]"},
			{"Before", lhk.InvocationFilter{Before: "inv-07"}, "[06 05 04 03 02 01 00]"},
			// inv-05 and inv-04 share a start; the id breaks the tie.
			{"BeforeTie", lhk.InvocationFilter{Before: "inv-05"}, "[04 03 02 01 00]"},
			{"BeforeTieLower", lhk.InvocationFilter{Before: "inv-04"}, "[03 02 01 00]"},
			{"BeforeWithFilter", lhk.InvocationFilter{Before: "inv-10", Plugin: "p1", Limit: 2}, "[07 04]"},
			{"BeforeOldest", lhk.InvocationFilter{Before: "inv-00"}, "[]"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.Invocations(bg, tt.f)
				ok(t, err)
				if got == nil {
					got = []*lhk.Invocation{}
				}
				if ids(got) != tt.want {
					t.Errorf("got %s, want %s", ids(got), tt.want)
				}
			})
		}
		t.Run("Paging", func(t *testing.T) {
			var seen []*lhk.Invocation
			f := lhk.InvocationFilter{Limit: 5}
			for range 10 {
				page, err := r.Invocations(bg, f)
				ok(t, err)
				if len(page) == 0 {
					break
				}
				seen = append(seen, page...)
				f.Before = page[len(page)-1].ID
			}
			if got, want := ids(seen), "[11 10 09 08 07 06 05 04 03 02 01 00]"; got != want {
				t.Errorf("pages gave %s, want %s", got, want)
			}
		})
		// Brief adds a newer record, so it runs after the listings above.
		t.Run("Brief", func(t *testing.T) {
			full := &lhk.Invocation{ID: "inv-full", Plugin: "p9", Version: 2, Function: "run", Trigger: lhk.TriggerHTTP,
				Caller: "carol", Status: lhk.StatusError, StartedAt: t0.Add(time.Hour), DurationMS: 7.5,
				Output: []byte("big output"), OutputTruncated: true, Error: "boom", Replica: "r1",
				Logs: []lhk.LogLine{{Time: t0, Level: "info", Message: "hello"}}}
			ok(t, r.PutInvocations(bg, []*lhk.Invocation{full}))
			got, err := r.Invocations(bg, lhk.InvocationFilter{Plugin: "p9", Brief: true})
			ok(t, err)
			if len(got) != 1 {
				t.Fatalf("got %d records, want 1", len(got))
			}
			g := got[0]
			if g.Output != nil || g.Logs != nil {
				t.Errorf("brief record has output %q and logs %v, want neither", g.Output, g.Logs)
			}
			if g.ID != full.ID || g.Version != 2 || g.Function != "run" || g.Trigger != lhk.TriggerHTTP || g.Caller != "carol" ||
				g.Status != lhk.StatusError || !g.StartedAt.Equal(full.StartedAt) || g.DurationMS != 7.5 ||
				!g.OutputTruncated || g.Error != "boom" || g.Replica != "r1" {
				t.Errorf("brief record %+v lost fields of %+v", g, full)
			}
			brief, err := r.Invocations(bg, lhk.InvocationFilter{Before: "inv-10", Plugin: "p1", Limit: 2, Brief: true})
			ok(t, err)
			if ids(brief) != "[07 04]" {
				t.Errorf("brief page %s, want [07 04]", ids(brief))
			}
			whole, err := r.Invocation(bg, "inv-full")
			ok(t, err)
			if string(whole.Output) != "big output" || len(whole.Logs) != 1 {
				t.Errorf("the stored record lost output or logs: %+v", whole)
			}
			all, err := r.Invocations(bg, lhk.InvocationFilter{Plugin: "p9"})
			ok(t, err)
			if len(all) != 1 || string(all[0].Output) != "big output" || len(all[0].Logs) != 1 {
				t.Errorf("a listing without Brief lost output or logs: %+v", all)
			}
		})
	})

	t.Run("Limits", func(t *testing.T) {
		r := s.fresh(t)
		var invs []*lhk.Invocation
		for i := range 1005 {
			invs = append(invs, &lhk.Invocation{ID: fmt.Sprintf("i%04d", i), Plugin: "p", Status: lhk.StatusOK,
				StartedAt: t0.Add(time.Duration(i) * time.Second)})
		}
		ok(t, r.PutInvocations(bg, invs))
		tests := []struct {
			name  string
			limit int
			want  int
		}{
			{"Default", 0, 50},
			{"Given", 7, 7},
			{"Max", 1000, 1000},
			{"Capped", 5000, 1000},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.Invocations(bg, lhk.InvocationFilter{Limit: tt.limit})
				ok(t, err)
				if len(got) != tt.want {
					t.Errorf("got %d, want %d", len(got), tt.want)
				}
				if len(got) > 0 && got[0].ID != "i1004" {
					t.Errorf("first is %s, want the newest i1004", got[0].ID)
				}
			})
		}
	})
}
