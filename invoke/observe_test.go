package invoke

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/sqlite"
)

// TestObserve checks that Options.Observe sees every finished invocation
// once, with its final status, and nothing that never became an invocation.
func TestObserve(t *testing.T) {
	f := newFixture(t, func(db *sqlite.DB) lhk.InvocationStore { return &memStore{} }, "plugins/testdata/echo")
	var (
		mu   sync.Mutex
		seen []string
	)
	f.svc.observe = func(inv *lhk.Invocation) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, inv.Trigger+"/"+inv.Status)
	}
	ctx := context.Background()
	if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p", Trigger: lhk.TriggerHTTP, Caller: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "p", Function: "nosuchexport", Trigger: lhk.TriggerCron, Caller: "alice"}); err == nil {
		t.Fatal("unknown export ran")
	}
	if _, err := f.svc.Invoke(ctx, lhk.InvokeRequest{Plugin: "nope", Trigger: lhk.TriggerHTTP}); lhk.ErrorCode(err) != lhk.ENOTFOUND {
		t.Fatalf("unknown plugin: %v", err)
	}
	if _, err := f.svc.Skip(ctx, lhk.InvokeRequest{Plugin: "p", Trigger: lhk.TriggerCron, Caller: "alice"}, "overlap"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Start(ctx, lhk.InvokeRequest{Plugin: "p", Trigger: lhk.TriggerPlugin, Caller: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(seen)
	want := []string{"cron/error", "cron/skipped", "http/ok", "plugin/ok"}
	if !slices.Equal(seen, want) {
		t.Fatalf("observed %v, want %v", seen, want)
	}
}
