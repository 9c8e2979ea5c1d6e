package host

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

func TestObserveHostCall(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	r := newRuntime(t, Options{ObserveHostCall: func(function, outcome string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("%s: negative duration %v", function, d)
		}
		seen[function+" "+outcome]++
	}})
	hc := fixture(t, "hostcall")
	for _, fn := range []string{"echo", "echo", "tickets", "fail", "panic"} {
		req := request("hostcall", hc, "run", fmt.Sprintf(`{"fn":%q,"req":{}}`, fn))
		req.Grant = lhk.Grant{Capabilities: []string{lhk.CapKV}}
		call(t, r, req)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"test_echo ok": 2, "test_tickets forbidden": 1, "test_fail not_found": 1, "test_panic internal": 1}
	if !maps.Equal(seen, want) {
		t.Fatalf("observed %v, want %v", seen, want)
	}
}

func TestStats(t *testing.T) {
	r := newRuntime(t, Options{})
	if s := r.Stats(); len(s.Plugins) != 0 || s.MemoryEstimate != 0 || s.MemoryBudget != DefaultMemoryBudget || s.Closed {
		t.Fatalf("empty runtime stats = %+v", s)
	}
	echo := fixture(t, "echo")
	call(t, r, request("echo", echo, "run", "x"))
	s := r.Stats()
	if got := slices.Collect(maps.Keys(s.Plugins)); !slices.Equal(got, []string{"echo"}) {
		t.Fatalf("plugins = %v", got)
	}
	if p := s.Plugins["echo"]; p.Versions != 1 || p.Idle != 1 || p.Busy != 0 {
		t.Fatalf("echo pool = %+v, want 1 version, 1 idle, 0 busy", p)
	}
	if s.MemoryEstimate < int64(len(echo)) {
		t.Fatalf("memory estimate %d is below the module's size %d", s.MemoryEstimate, len(echo))
	}
	r.Evict("echo")
	if s := r.Stats(); len(s.Plugins) != 0 {
		t.Fatalf("after Evict: %+v", s.Plugins)
	}
	if r.Closed() {
		t.Fatal("Closed before Close")
	}
	r.Close(context.Background())
	if !r.Closed() || !r.Stats().Closed {
		t.Fatal("not Closed after Close")
	}
}
