package registrytest

import (
	"strings"
	"testing"

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
