package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/httpapi"
)

func TestManagePlugins(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	bob := d.user(t, "bob", "analyst")
	victor := d.user(t, "victor", "viewer")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.upload(t, alice, "echo", "plugins/testdata/echo")

	t.Run("Rollback", func(t *testing.T) {
		p := d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"current_version":1}`)).JSON(t)
		if p["current_version"] != 1.0 {
			t.Fatalf("current_version = %v", p["current_version"])
		}
		id := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("v1")).Header.Get(httpapi.HeaderInvocation)
		if inv := d.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, alice, nil).JSON(t); inv["version"] != 1.0 {
			t.Fatalf("ran version %v after rollback", inv["version"])
		}
		d.must(t, http.StatusNotFound, "PATCH", "/v1/plugins/echo", alice, []byte(`{"current_version":9}`))
	})
	t.Run("EditAndLimits", func(t *testing.T) {
		p := d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"description":"echoes","config":{"k":"v"},"timeout_ms":5000,"memory_mb":32}`)).JSON(t)
		if p["description"] != "echoes" || p["timeout_ms"] != 5000.0 || p["memory_mb"] != 32.0 || p["config"].(map[string]any)["k"] != "v" {
			t.Fatalf("patched plugin = %v", p)
		}
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{"memory_mb":100000}`))
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{"entrypoint":"nosuch"}`))
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{"colour":"red"}`))
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{not json`))
		d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"entrypoint":"upper"}`))
		if r := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("abc")); string(r.Body) != "ABC" {
			t.Fatalf("entrypoint upper gave %q", r.Body)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"PATCH", "/v1/plugins/echo", `{"description":"mine now"}`},
			{"DELETE", "/v1/plugins/echo", ``},
			{"PUT", "/v1/plugins/echo/grant", `{"capabilities":[],"tenants":[]}`},
			{"PUT", "/v1/plugins/echo/schedule", `{"cron":"@hourly"}`},
			{"POST", "/v1/plugins/echo/webhook", ``},
		} {
			for who, tok := range map[string]string{"bob": bob, "victor": victor} {
				if r := d.do(t, c.method, c.path, tok, []byte(c.body)); r.Status != http.StatusForbidden {
					t.Errorf("%s %s by %s = %d: %s", c.method, c.path, who, r.Status, r.Body)
				}
			}
		}
		for _, path := range []string{"/v1/users", "/v1/audit"} {
			d.must(t, http.StatusForbidden, "GET", path, alice, nil)
		}
		d.must(t, http.StatusForbidden, "POST", "/v1/users", alice, []byte(`{"name":"eve","role":"admin"}`))
	})
	t.Run("Grant", func(t *testing.T) {
		// Analysts have an empty ceiling by default: granting needs an admin.
		r := d.must(t, http.StatusForbidden, "PUT", "/v1/plugins/echo/grant", alice, []byte(`{"capabilities":["logs.read"],"tenants":["acme"]}`))
		if !strings.Contains(r.ErrorMessage(t), "logs.read") {
			t.Fatalf("message should name the capability: %s", r.Body)
		}
		d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read"],"tenants":["acme"]}}`))
		d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/grant", alice, []byte(`{"capabilities":["logs.read"],"tenants":["acme"]}`))
		d.must(t, http.StatusForbidden, "PUT", "/v1/plugins/echo/grant", alice, []byte(`{"capabilities":["logs.read"],"tenants":["globex"]}`))
		d.must(t, http.StatusBadRequest, "PUT", "/v1/plugins/echo/grant", d.Admin, []byte(`{"capabilities":["root.everything"]}`))
		g := d.must(t, http.StatusOK, "GET", "/v1/plugins/echo", victor, nil).JSON(t)["grant"].(map[string]any)
		if fmt.Sprint(g["tenants"]) != "[acme]" {
			t.Fatalf("grant = %v", g)
		}
	})
	t.Run("Transfer", func(t *testing.T) {
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{"owner":"nobody"}`))
		d.must(t, http.StatusBadRequest, "PATCH", "/v1/plugins/echo", alice, []byte(`{"owner":"victor"}`))
		if p := d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"owner":"bob"}`)).JSON(t); p["owner"] != "bob" {
			t.Fatalf("owner = %v", p["owner"])
		}
		d.must(t, http.StatusForbidden, "PATCH", "/v1/plugins/echo", alice, []byte(`{"description":"x"}`))
		d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", bob, []byte(`{"description":"bob's"}`))
	})
	t.Run("Users", func(t *testing.T) {
		r := d.must(t, http.StatusOK, "POST", "/v1/users/alice/token", alice, nil)
		newTok := fmt.Sprint(r.JSON(t)["token"])
		d.must(t, http.StatusUnauthorized, "GET", "/v1/plugins", alice, nil)
		if me := d.must(t, http.StatusOK, "GET", "/v1/users/me", newTok, nil).JSON(t); me["name"] != "alice" {
			t.Fatalf("me = %v", me)
		}
		d.must(t, http.StatusForbidden, "POST", "/v1/users/bob/token", newTok, nil)
		if u := d.must(t, http.StatusOK, "GET", "/v1/users/alice", newTok, nil).JSON(t); u["name"] != "alice" || u["role"] != "analyst" {
			t.Fatalf("alice reading herself = %v", u)
		}
		d.must(t, http.StatusForbidden, "GET", "/v1/users/bob", newTok, nil)
		d.must(t, http.StatusOK, "GET", "/v1/users/bob", d.Admin, nil)
		d.must(t, http.StatusNotFound, "GET", "/v1/users/nobody", d.Admin, nil)
		d.must(t, http.StatusConflict, "POST", "/v1/users", d.Admin, []byte(`{"name":"bob","role":"analyst"}`))
		d.must(t, http.StatusBadRequest, "POST", "/v1/users", d.Admin, []byte(`{"name":"x","role":"root"}`))
		d.must(t, http.StatusConflict, "PATCH", "/v1/users/admin", d.Admin, []byte(`{"role":"viewer"}`))
		users := d.must(t, http.StatusOK, "GET", "/v1/users", d.Admin, nil)
		if strings.Contains(string(users.Body), "token") || strings.Contains(string(users.Body), "hash") {
			t.Fatalf("user listing shows token material: %s", users.Body)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		id := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", bob, []byte("last")).Header.Get(httpapi.HeaderInvocation)
		d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo", bob, nil)
		d.must(t, http.StatusNotFound, "GET", "/v1/plugins/echo", bob, nil)
		d.must(t, http.StatusNotFound, "POST", "/v1/plugins/echo/invoke", bob, nil)
		d.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, bob, nil)
	})
}

// TestAudit: every mutation is in the audit log with its actor.
func TestAudit(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	d.user(t, "bob", "analyst")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"description":"d"}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"current_version":1}`))
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/grant", d.Admin, []byte(`{"capabilities":["kv"],"tenants":["acme"]}`))
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@daily"}`))
	d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo/schedule", alice, nil)
	secret := fmt.Sprint(d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/webhook", alice, nil).JSON(t)["secret"])
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["kv"],"tenants":["acme"]}}`))
	tok := fmt.Sprint(d.must(t, http.StatusOK, "POST", "/v1/users/alice/token", alice, nil).JSON(t)["token"])
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", tok, []byte(`{"owner":"bob"}`))
	d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo", d.Admin, nil)

	r := d.must(t, http.StatusOK, "GET", "/v1/audit?limit=1000", d.Admin, nil)
	for _, secretish := range []string{secret, tok, adminToken} {
		if strings.Contains(string(r.Body), secretish) {
			t.Fatalf("audit log contains a secret: %s", r.Body)
		}
	}
	type key struct{ actor, action string }
	seen := map[key]bool{}
	for _, e := range r.JSON(t)["entries"].([]any) {
		m := e.(map[string]any)
		seen[key{fmt.Sprint(m["actor"]), fmt.Sprint(m["action"])}] = true
	}
	for _, want := range []key{
		{"admin", "user.create"}, {"alice", "plugin.create"}, {"alice", "version.create"},
		{"alice", "plugin.update"}, {"alice", "plugin.rollback"}, {"admin", "grant.set"},
		{"alice", "schedule.set"}, {"alice", "schedule.delete"}, {"alice", "webhook.set"},
		{"admin", "user.update"}, {"alice", "user.token"}, {"alice", "plugin.transfer"},
		{"admin", "plugin.delete"},
	} {
		if !seen[want] {
			t.Errorf("no audit entry %s by %s; have %v", want.action, want.actor, seen)
		}
	}
	only := d.must(t, http.StatusOK, "GET", "/v1/audit?actor=alice&target=plugin/echo", d.Admin, nil).JSON(t)["entries"].([]any)
	for _, e := range only {
		if m := e.(map[string]any); m["actor"] != "alice" || m["target"] != "plugin/echo" {
			t.Fatalf("filtered audit has %v", m)
		}
	}
	if len(only) == 0 {
		t.Fatal("filtered audit is empty")
	}
}

func TestWebhook(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	secret := fmt.Sprint(d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/webhook", alice, nil).JSON(t)["secret"])

	deliver := func(ts int64, sig string, body string) response {
		t.Helper()
		req, _ := http.NewRequest("POST", d.URL+"/hooks/echo", strings.NewReader(body))
		req.Header.Set(httpapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
		if sig != "" {
			req.Header.Set(httpapi.HeaderSignature, sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b := make([]byte, 1<<16)
		n, _ := res.Body.Read(b)
		return response{Status: res.StatusCode, Header: res.Header, Body: b[:n]}
	}
	now := time.Now().Unix()
	body := `{"alert":"beacon"}`
	if r := deliver(now, httpapi.Sign(secret, now, []byte(body)), body); r.Status != http.StatusOK || string(r.Body) != body {
		t.Fatalf("signed delivery = %d %s", r.Status, r.Body)
	}
	if r := deliver(now, httpapi.Sign(secret, now, []byte(body)), body); r.Status != http.StatusConflict {
		t.Fatalf("replayed delivery = %d %s", r.Status, r.Body)
	}
	old := now - 600
	for name, r := range map[string]response{
		"no signature":    deliver(now, "", body),
		"wrong secret":    deliver(now, httpapi.Sign("whsec_wrong", now, []byte(body)), body),
		"tampered body":   deliver(now, httpapi.Sign(secret, now, []byte(body)), `{"alert":"other"}`),
		"stale timestamp": deliver(old, httpapi.Sign(secret, old, []byte(body)), body),
	} {
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s = %d %s", name, r.Status, r.Body)
		}
	}
	runs := d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo&trigger=webhook", alice, nil).JSON(t)["invocations"].([]any)
	if len(runs) != 1 {
		t.Fatalf("%d webhook invocations, want 1", len(runs))
	}
	// Rotating the secret makes the old one fail.
	d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/webhook", alice, nil)
	if r := deliver(now+1, httpapi.Sign(secret, now+1, []byte(body)), body); r.Status != http.StatusUnauthorized {
		t.Fatalf("old secret after rotation = %d", r.Status)
	}
}
