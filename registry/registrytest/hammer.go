package registrytest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// testHammer uploads versions of one new plugin from many goroutines at once:
// every upload must get its own number, the numbers must be 1..n without gaps,
// the plugin must be created exactly once, and each number must hold the bytes
// of the upload that got it.
func (s *suite) testHammer(t *testing.T) {
	const workers, each = 8, 6
	r := s.fresh(t)
	createUser(t, r, "alice", lhk.RoleAnalyst)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   = map[int][]byte{}
		errs  []error
		start = make(chan struct{})
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				wasm := wasmFor("hammer", w*100+i)
				v := &lhk.Version{Plugin: "hammer"}
				_, err := r.CreateVersion(as("alice"), v, wasm, "alice")
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if _, dup := got[v.Number]; dup {
					errs = append(errs, fmt.Errorf("number %d given twice", v.Number))
				} else {
					got[v.Number] = wasm
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	p := getPlugin(t, r, "hammer")
	want := make([]int, workers*each)
	for i := range want {
		want[i] = i + 1
	}
	if ns := versionNumbers(p); !slices.Equal(ns, want) {
		t.Errorf("versions %v, want 1..%d", ns, len(want))
	}
	if p.CurrentVersion != len(want) {
		t.Errorf("current version %d, want the last, %d", p.CurrentVersion, len(want))
	}
	for n, wasm := range got {
		b, err := r.VersionWasm(context.Background(), "hammer", n)
		ok(t, err)
		if !bytes.Equal(b, wasm) {
			t.Errorf("version %d holds %q, want %q", n, b, wasm)
		}
	}
	es, err := r.AuditEntries(context.Background(), lhk.AuditFilter{Target: "plugin/hammer", Limit: listAll})
	ok(t, err)
	count := map[string]int{}
	for _, e := range es {
		count[e.Action]++
	}
	if count["plugin.create"] != 1 || count["version.create"] != len(want) {
		t.Errorf("audit counts %v, want 1 plugin.create and %d version.create", count, len(want))
	}

	t.Run("ManyPlugins", func(t *testing.T) {
		// Concurrent first uploads of different plugins, and concurrent
		// history writes, all succeed.
		var wg sync.WaitGroup
		errc := make(chan error, 2*workers)
		for w := range workers {
			wg.Add(2)
			go func() {
				defer wg.Done()
				name := fmt.Sprintf("p%d", w)
				_, err := r.CreateVersion(as("alice"), &lhk.Version{Plugin: name}, wasmFor(name, 1), "alice")
				errc <- err
			}()
			go func() {
				defer wg.Done()
				errc <- r.PutInvocations(context.Background(), []*lhk.Invocation{{
					ID: fmt.Sprintf("h%d", w), Plugin: "hammer", Status: lhk.StatusOK, StartedAt: t0.Add(time.Duration(w) * time.Second),
				}})
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			ok(t, err)
		}
		ps, err := r.Plugins(context.Background(), lhk.PluginFilter{})
		ok(t, err)
		if len(ps) != workers+1 {
			t.Errorf("got %d plugins, want %d", len(ps), workers+1)
		}
		invs, err := r.Invocations(context.Background(), lhk.InvocationFilter{Plugin: "hammer"})
		ok(t, err)
		if len(invs) != workers {
			t.Errorf("got %d invocations, want %d", len(invs), workers)
		}
	})
}

// testReopen closes a store and opens it again with the same key: everything
// must still be there, and numbering and ids must carry on.
func (s *suite) testReopen(t *testing.T) {
	key := t.TempDir()
	r, closeR := s.openKey(t, key)
	ctx := as("alice")
	token := createUser(t, r, "alice", lhk.RoleAnalyst)
	upload(t, r, "report", "alice", wasmFor("report", 1))
	upload(t, r, "report", "alice", wasmFor("report", 2))
	_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{CurrentVersion: intp(1), Config: &map[string]string{"k": "v"}})
	ok(t, err)
	ok(t, r.SetGrant(ctx, "report", lhk.Grant{Capabilities: []string{lhk.CapLogsRead}, Tenants: []string{"acme"}}))
	ok(t, r.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@daily", Timezone: "UTC", Enabled: true}))
	ok(t, r.PutInvocations(ctx, []*lhk.Invocation{{ID: "i1", Plugin: "report", Version: 1, Status: lhk.StatusOK, StartedAt: t0, Output: []byte("out")}}))
	before, err := r.AuditEntries(context.Background(), lhk.AuditFilter{Limit: listAll})
	ok(t, err)
	closeR()

	r2, _ := s.openKey(t, key)
	bg := context.Background()
	u, err := r2.UserByTokenHash(bg, lhk.TokenHash(token))
	ok(t, err)
	if u.Name != "alice" {
		t.Errorf("token finds %q", u.Name)
	}
	p := getPlugin(t, r2, "report")
	if p.CurrentVersion != 1 || len(p.Versions) != 2 || p.Config["k"] != "v" || !p.Grant.Allows(lhk.CapLogsRead) ||
		p.Schedule == nil || p.Schedule.Cron != "@daily" {
		t.Errorf("plugin after reopen: %+v", p)
	}
	b, err := r2.VersionWasm(bg, "report", 2)
	ok(t, err)
	if !bytes.Equal(b, wasmFor("report", 2)) {
		t.Errorf("version 2 holds %q", b)
	}
	inv, err := r2.Invocation(bg, "i1")
	ok(t, err)
	if string(inv.Output) != "out" || !inv.StartedAt.Equal(t0) {
		t.Errorf("invocation after reopen: %+v", inv)
	}
	after, err := r2.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
	ok(t, err)
	if len(after) != len(before) || after[0].ID != before[0].ID || after[0].Action != before[0].Action {
		t.Fatalf("audit after reopen: %d entries, want %d", len(after), len(before))
	}
	v, _ := upload(t, r2, "report", "alice", wasmFor("report", 3))
	if v.Number != 3 {
		t.Errorf("upload after reopen got number %d, want 3", v.Number)
	}
	es, err := r2.AuditEntries(bg, lhk.AuditFilter{Limit: 1})
	ok(t, err)
	if len(es) != 1 || es[0].ID <= before[0].ID {
		t.Errorf("audit ids did not carry on: %+v after %d", es, before[0].ID)
	}
}

// intp returns a pointer to v.
func intp(v int) *int { return &v }

// testConfigKeys changes different config keys of one plugin from many
// goroutines at once with ConfigSet: no change may be lost, as it would be if
// each read the config, changed a key and wrote it back whole.
func (s *suite) testConfigKeys(t *testing.T) {
	const workers, each = 8, 5
	r := s.fresh(t)
	createUser(t, r, "alice", lhk.RoleAnalyst)
	upload(t, r, "report", "alice", wasmFor("report", 1))
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				set := map[string]string{fmt.Sprintf("k%d-%d", w, i): "v"}
				if _, err := r.UpdatePlugin(as("alice"), "report", lhk.PluginUpdate{ConfigSet: set}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdatePlugin: %v", err)
	}
	p, err := r.Plugin(context.Background(), "report")
	ok(t, err)
	if len(p.Config) != workers*each {
		t.Fatalf("config has %d keys after %d concurrent ConfigSet updates of distinct keys: %v", len(p.Config), workers*each, p.Config)
	}
	// ConfigUnset removes a key and leaves the rest.
	_, err = r.UpdatePlugin(as("alice"), "report", lhk.PluginUpdate{ConfigUnset: []string{"k0-0"}})
	ok(t, err)
	p, err = r.Plugin(context.Background(), "report")
	ok(t, err)
	if _, found := p.Config["k0-0"]; found || len(p.Config) != workers*each-1 {
		t.Fatalf("after ConfigUnset: %d keys, k0-0 present %v", len(p.Config), found)
	}
}
