package registrytest

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// testWebhooks holds a registry that also implements lhk.WebhookStore to its
// contract. A registry without webhook secrets skips it.
func (s *suite) testWebhooks(t *testing.T) {
	r := s.fresh(t)
	ws, isStore := r.(lhk.WebhookStore)
	if !isStore {
		t.Skipf("%T does not implement lhk.WebhookStore", r)
	}
	ctx := as("alice")
	createUser(t, r, "alice", lhk.RoleAnalyst)
	upload(t, r, "intake", "alice", wasmFor("intake", 1))

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := ws.WebhookSecret(ctx, "intake")
		wantCode(t, err, lhk.ENOTFOUND) // no secret yet
		wantCode(t, ws.SetWebhookSecret(ctx, "nothing", "s"), lhk.ENOTFOUND)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		wantCode(t, ws.SetWebhookSecret(ctx, "intake", ""), lhk.EINVALID)
	})
	t.Run("SetAndRotate", func(t *testing.T) {
		for i, secret := range []string{"whsec_first", "whsec_second"} {
			ok(t, ws.SetWebhookSecret(ctx, "intake", secret))
			got, err := ws.WebhookSecret(ctx, "intake")
			if err != nil || got != secret {
				t.Fatalf("got %q, %v; want %q", got, err, secret)
			}
			es, err := r.AuditEntries(ctx, lhk.AuditFilter{Target: "plugin/intake", Limit: 1})
			ok(t, err)
			want := []string{`{"rotated":false}`, `{"rotated":true}`}[i]
			if e := es[0]; e.Action != "webhook.set" || e.Actor != "alice" || e.Detail != want || strings.Contains(e.Detail, "whsec") {
				t.Errorf("audit entry %+v, want webhook.set by alice with %s", e, want)
			}
		}
	})
	t.Run("DeletedWithPlugin", func(t *testing.T) {
		ok(t, r.DeletePlugin(ctx, "intake"))
		upload(t, r, "intake", "alice", wasmFor("intake", 1))
		if _, err := ws.WebhookSecret(ctx, "intake"); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Errorf("a re-created plugin inherited the old secret: %v", err)
		}
	})
}

// testDeliveries holds a registry that implements lhk.DeliveryGuard to its
// contract: one first per delivery, even when callers race and across a
// reopen; other plugins' deliveries apart; records older than keep forgotten.
func (s *suite) testDeliveries(t *testing.T) {
	key := t.TempDir()
	r, closeFn := s.openKey(t, key)
	g, isGuard := r.(lhk.DeliveryGuard)
	if !isGuard {
		t.Skipf("%T does not implement lhk.DeliveryGuard", r)
	}
	bg := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := g.FirstDelivery(bg, "intake", "sha256=ab", now, 10*time.Minute)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Fatalf("%d callers were first for one delivery", n)
	}
	if first, err := g.FirstDelivery(bg, "other", "sha256=ab", now, 10*time.Minute); err != nil || !first {
		t.Fatalf("the same signature for another plugin: first=%v, %v", first, err)
	}
	closeFn()
	r, _ = s.openKey(t, key)
	g = r.(lhk.DeliveryGuard)
	if first, err := g.FirstDelivery(bg, "intake", "sha256=ab", now.Add(time.Minute), 10*time.Minute); err != nil || first {
		t.Fatalf("a delivery replayed after a reopen: first=%v, %v", first, err)
	}
	// Long after keep has passed, the record may be forgotten: a store that
	// prunes lazily still has to answer without error.
	if _, err := g.FirstDelivery(bg, "intake", "sha256=ab", now.Add(time.Hour), 10*time.Minute); err != nil {
		t.Fatal(err)
	}
}
