package sqlite_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

func TestWebhookSecret(t *testing.T) {
	db := openTest(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "intake"}, []byte("wasm"), "alice"); err != nil {
		t.Fatal(err)
	}

	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.WebhookSecret(ctx, "intake"); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Errorf("no secret yet: got %v, want ENOTFOUND", err)
		}
		if err := db.SetWebhookSecret(ctx, "nothing", "s"); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Errorf("unknown plugin: got %v, want ENOTFOUND", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		if err := db.SetWebhookSecret(ctx, "intake", ""); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("empty secret: got %v, want EINVALID", err)
		}
	})
	t.Run("SetAndRotate", func(t *testing.T) {
		for i, secret := range []string{"whsec_first", "whsec_second"} {
			if err := db.SetWebhookSecret(ctx, "intake", secret); err != nil {
				t.Fatal(err)
			}
			got, err := db.WebhookSecret(ctx, "intake")
			if err != nil || got != secret {
				t.Fatalf("got %q, %v; want %q", got, err, secret)
			}
			es, err := db.AuditEntries(ctx, lhk.AuditFilter{Target: "plugin/intake", Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{`{"rotated":false}`, `{"rotated":true}`}[i]
			if e := es[0]; e.Action != "webhook.set" || e.Actor != "alice" || e.Detail != want || strings.Contains(e.Detail, "whsec") {
				t.Errorf("audit entry %+v, want webhook.set by alice with %s", e, want)
			}
		}
	})
	t.Run("DeletedWithPlugin", func(t *testing.T) {
		if err := db.DeletePlugin(ctx, "intake"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "intake"}, []byte("wasm"), "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.WebhookSecret(ctx, "intake"); lhk.ErrorCode(err) != lhk.ENOTFOUND {
			t.Errorf("a re-created plugin inherited the old secret: %v", err)
		}
	})
}
