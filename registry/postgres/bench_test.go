package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// The benchmarks mirror registry/sqlite/bench_test.go under the same names,
// so that one run compares the two registries:
//
//	LHK_TEST_POSTGRES=postgres://… go test -run '^$' -bench . ./registry/...

// benchInvocation returns a typical finished record: 1 KiB of output and five
// log lines.
func benchInvocation(id string, start time.Time) *lhk.Invocation {
	logs := make([]lhk.LogLine, 5)
	for i := range logs {
		logs[i] = lhk.LogLine{Time: start, Level: "info", Message: fmt.Sprintf("step %d of the weekly report", i)}
	}
	return &lhk.Invocation{
		ID: id, Plugin: "report", Version: 3, Function: "run", Trigger: lhk.TriggerHTTP, Caller: "alice",
		Status: lhk.StatusOK, StartedAt: start, DurationMS: 12.5, Output: bytes.Repeat([]byte("x"), 1024), Logs: logs,
	}
}

// BenchmarkPutInvocations writes invocation records one per transaction and
// 64 per transaction; compare the ns/record metric.
func BenchmarkPutInvocations(b *testing.B) {
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			db := fresh(b)
			ctx := context.Background()
			start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			n := 0
			invs := make([]*lhk.Invocation, batch)
			for b.Loop() {
				for i := range invs {
					n++
					invs[i] = benchInvocation(fmt.Sprintf("inv-%09d", n), start.Add(time.Duration(n)*time.Millisecond))
				}
				if err := db.PutInvocations(ctx, invs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/record")
		})
	}
}

// BenchmarkPlugins lists a registry of 1,000 plugins with two 16 KiB versions
// each and a schedule on every tenth: the whole list, and one page of 100.
func BenchmarkPlugins(b *testing.B) {
	db := fresh(b)
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		b.Fatal(err)
	}
	wasm := bytes.Repeat([]byte{0, 'a', 's', 'm'}, 4<<10)
	for i := range 1000 {
		name := fmt.Sprintf("plugin-%04d", i)
		for range 2 {
			if _, err := db.CreateVersion(ctx, &lhk.Version{Plugin: name, Exports: []string{"run"}}, wasm, "alice"); err != nil {
				b.Fatal(err)
			}
		}
		if i%10 == 0 {
			if err := db.SetSchedule(ctx, name, lhk.Schedule{Cron: "0 9 * * 1", Enabled: true}); err != nil {
				b.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		f    lhk.PluginFilter
		want int
	}{
		{"all=1000", lhk.PluginFilter{}, 1000},
		{"page=100", lhk.PluginFilter{Offset: 500, Limit: 100}, 100},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				ps, err := db.Plugins(ctx, tt.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(ps) != tt.want || len(ps[0].Versions) != 2 {
					b.Fatalf("got %d plugins", len(ps))
				}
			}
		})
	}
}

// BenchmarkClaimTick measures what a cron tick costs each replica: claiming
// a tick nobody has claimed (won), and one already claimed (lost).
func BenchmarkClaimTick(b *testing.B) {
	db := fresh(b)
	ctx := context.Background()
	tick := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	runs := 0
	b.Run("won", func(b *testing.B) {
		runs++ // -count repeats this on the same schema: a plugin per run
		plugin := fmt.Sprintf("report-%d", runs)
		n := 0
		for b.Loop() {
			n++
			won, err := db.ClaimTick(ctx, plugin, tick.Add(time.Duration(n)*time.Minute), "lhkd-a")
			if err != nil || !won {
				b.Fatalf("claim %d: %v, %v", n, won, err)
			}
		}
	})
	b.Run("lost", func(b *testing.B) {
		if _, err := db.ClaimTick(ctx, "triage", tick, "lhkd-a"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			won, err := db.ClaimTick(ctx, "triage", tick, "lhkd-b")
			if err != nil || won {
				b.Fatalf("claim: %v, %v", won, err)
			}
		}
	})
}
