package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsers(t *testing.T) {
	admin := asAdmin(t)

	// create prints the token alone on stdout, the note on stderr.
	r := admin.ok("user", "create", "usr-bob", "--role", "analyst", "--cap", "logs.read,tickets.read", "--tenant", "acme")
	token := strings.TrimSpace(r.Stdout)
	if !strings.HasPrefix(token, "lhk_") || strings.Count(r.Stdout, "\n") != 1 || !strings.Contains(r.Stderr, "shown only this once") {
		t.Fatalf("user create: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	addSecret(token)
	var created tokenAnswer
	r = admin.ok("user", "create", "usr-vic", "--role", "viewer", "-o", "json")
	decodeJSON(t, r.Stdout, &created)
	addSecret(created.Token)
	if created.Name != "usr-vic" || created.Role != "viewer" || created.Token == "" {
		t.Errorf("user create -o json: %+v", created)
	}
	if r := admin.ok("user", "create", "usr-quiet", "--role", "viewer", "-q"); r.Stderr != "" {
		t.Errorf("-q left a note: %q", r.Stderr)
	} else {
		addSecret(strings.TrimSpace(r.Stdout))
	}

	bob := newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+token)
	if r := bob.ok("whoami"); !strings.Contains(r.Stdout, "usr-bob (analyst)") || !strings.Contains(r.Stdout, "ceiling: capabilities logs.read,tickets.read; tenants acme") {
		t.Errorf("whoami: %s", r.Stdout)
	}

	t.Run("List", func(t *testing.T) {
		admin.t = t
		r := admin.ok("users")
		if !strings.HasPrefix(r.Stdout, "NAME ") || !strings.Contains(r.Stdout, "usr-bob") || !strings.Contains(r.Stdout, "logs.read,tickets.read") {
			t.Errorf("users:\n%s", r.Stdout)
		}
		var list struct{ Users []userJSON }
		decodeJSON(t, admin.ok("users", "-o", "json").Stdout, &list)
		found := false
		for _, u := range list.Users {
			found = found || u.Name == "usr-vic" && u.Role == "viewer"
		}
		if !found {
			t.Errorf("users -o json: %+v", list.Users)
		}
		bob.t = t
		bob.fails(exitFailed, "forbidden: only an admin may do this", "users")
	})

	t.Run("Set", func(t *testing.T) {
		admin.t = t
		// --tenant alone keeps the capabilities.
		r := admin.ok("user", "set", "usr-bob", "--tenant", "acme,globex")
		if !strings.Contains(r.Stdout, "capabilities logs.read,tickets.read; tenants acme,globex") {
			t.Errorf("user set --tenant: %s", r.Stdout)
		}
		var u userJSON
		decodeJSON(t, admin.ok("user", "set", "usr-bob", "--cap", "logs.read,tickets.write", "-o", "json").Stdout, &u)
		if strings.Join(u.Ceiling.Capabilities, ",") != "logs.read,tickets.write" || strings.Join(u.Ceiling.Tenants, ",") != "acme,globex" {
			t.Errorf("user set --cap: %+v", u)
		}
		decodeJSON(t, admin.ok("user", "set", "usr-vic", "--role", "analyst", "-o", "json").Stdout, &u)
		if u.Role != "analyst" {
			t.Errorf("user set --role: %+v", u)
		}
		admin.fails(exitUsage, "give --role, --cap or --tenant", "user", "set", "usr-bob")
		admin.fails(exitFailed, "invalid", "user", "set", "usr-bob", "--cap", "logs.wrte")
		admin.fails(exitFailed, "not_found", "user", "set", "usr-nobody", "--cap", "logs.read")
		admin.fails(exitFailed, "last admin", "user", "set", "admin", "--role", "viewer")
		admin.fails(exitUsage, `required flag(s) "role" not set`, "user", "create", "usr-x")
	})

	t.Run("Token", func(t *testing.T) {
		tok := createUser(t, "usr-rot", "analyst", "")
		c := newCLI(t)
		c.ok("login", "--server", daemonURL, "--token", tok, "--context", "rot")

		// --save renews the token and stores it: lhk keeps working, prints no token.
		r := c.ok("user", "token", "--save")
		if !strings.Contains(r.Stdout, `token of usr-rot renewed and saved in context "rot"`) {
			t.Errorf("token --save: %s", r.Stdout)
		}
		var cfg config
		b, _ := os.ReadFile(filepath.Join(c.config, "lhk", "config.json"))
		decodeJSON(t, string(b), &cfg)
		newTok := cfg.Contexts["rot"].Token
		addSecret(newTok)
		if newTok == tok || newTok == "" {
			t.Fatalf("config after --save: %s", b)
		}
		c.ok("whoami")
		newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+tok).fails(exitAuth, "invalid token", "whoami")

		// Without --save the new token goes to stdout, once, with a warning
		// that the context is stale.
		r = c.ok("user", "token")
		printed := strings.TrimSpace(r.Stdout)
		if !strings.HasPrefix(printed, "lhk_") || !strings.Contains(r.Stderr, `context "rot" still holds your old token`) {
			t.Errorf("token: stdout %q stderr %q", r.Stdout, r.Stderr)
		}
		addSecret(printed)
		c.fails(exitAuth, "invalid token", "whoami")

		// An admin renews another user's token; --save is only for one's own.
		admin.t = t
		admin.fails(exitUsage, "--save stores your own token", "user", "token", "usr-rot", "--save")
		admin.fails(exitUsage, "comes from LHK_TOKEN", "user", "token", "--save")
		var ans tokenAnswer
		decodeJSON(t, admin.ok("user", "token", "usr-rot", "-o", "json").Stdout, &ans)
		addSecret(ans.Token)
		if ans.Name != "usr-rot" || ans.Token == "" || ans.Token == printed {
			t.Errorf("admin token -o json: %+v", ans)
		}
		newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+ans.Token).ok("whoami")
		bob.t = t
		bob.fails(exitFailed, "forbidden", "user", "token", "usr-rot")
		admin.fails(exitFailed, "not_found", "user", "token", "usr-nobody")
	})

	t.Run("Audit", func(t *testing.T) {
		admin.t = t
		r := admin.ok("audit", "--target", "user/usr-bob")
		if !strings.HasPrefix(r.Stdout, "ID ") || !strings.Contains(r.Stdout, "user.create") || !strings.Contains(r.Stdout, "user.update") {
			t.Errorf("audit:\n%s", r.Stdout)
		}
		var ans struct{ Entries []auditJSON }
		decodeJSON(t, admin.ok("audit", "--actor", "admin", "--limit", "2", "-o", "json").Stdout, &ans)
		if len(ans.Entries) != 2 || ans.Entries[0].Actor != "admin" || ans.Entries[0].ID <= ans.Entries[1].ID {
			t.Fatalf("audit -o json: %+v", ans.Entries)
		}
		// --before pages: the next page starts below the last id.
		var next struct{ Entries []auditJSON }
		decodeJSON(t, admin.ok("audit", "--actor", "admin", "--limit", "1", "--before", fmt.Sprint(ans.Entries[0].ID), "-o", "json").Stdout, &next)
		if len(next.Entries) != 1 || next.Entries[0].ID != ans.Entries[1].ID {
			t.Errorf("audit --before: %+v, want id %d", next.Entries, ans.Entries[1].ID)
		}
		bob.t = t
		bob.fails(exitFailed, "forbidden", "audit")
	})
}

func TestWebhook(t *testing.T) {
	c := asAdmin(t)
	c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-hook")
	r := c.ok("webhook", "cli-hook")
	secret := strings.TrimSpace(r.Stdout)
	if !strings.HasPrefix(secret, "whsec_") || !strings.Contains(r.Stderr, daemonURL+"/hooks/cli-hook") {
		t.Fatalf("webhook: stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	addSecret(secret)
	if code, body := deliver(t, "cli-hook", secret, "signed body"); code != 200 || body != "signed body" {
		t.Errorf("delivery with the printed secret: %d %q", code, body)
	}
	// Rotating: the old secret stops working.
	var ans struct{ Plugin, Secret, URL string }
	decodeJSON(t, c.ok("webhook", "cli-hook", "-o", "json").Stdout, &ans)
	addSecret(ans.Secret)
	if ans.Secret == secret || ans.URL != "/hooks/cli-hook" {
		t.Errorf("webhook -o json: %+v", ans)
	}
	if code, _ := deliver(t, "cli-hook", secret, "old secret"); code != 401 {
		t.Errorf("old secret: %d, want 401", code)
	}
	if code, _ := deliver(t, "cli-hook", ans.Secret, "new secret"); code != 200 {
		t.Errorf("new secret: %d", code)
	}
	c.fails(exitFailed, "not_found", "webhook", "no-such-plugin")
}

// deliver posts a signed webhook delivery as a SIEM would.
func deliver(t *testing.T, plugin, secret, body string) (int, string) {
	t.Helper()
	ts := fmt.Sprint(time.Now().Unix())
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	req, _ := http.NewRequest("POST", daemonURL+"/hooks/"+plugin, strings.NewReader(body))
	req.Header.Set("X-Lhk-Timestamp", ts)
	req.Header.Set("X-Lhk-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestPluginSetTransfer(t *testing.T) {
	c := asAdmin(t)
	c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-set")

	r := c.ok("plugin", "set", "cli-set", "--description", "echoes its input", "--timeout", "45s", "--memory", "128", "--config", "channel=soc", "--config", "mode=a=b")
	if !strings.Contains(r.Stdout, "plugin cli-set: config, description, memory_mb, timeout_ms changed") || !strings.Contains(r.Stdout, "timeout 45s, memory 128 MiB") || !strings.Contains(r.Stdout, "channel, mode") {
		t.Errorf("plugin set:\n%s", r.Stdout)
	}
	var p pluginJSON
	decodeJSON(t, c.ok("plugin", "show", "cli-set", "-o", "json").Stdout, &p)
	if p.Description != "echoes its input" || p.TimeoutMS != 45000 || p.MemoryMB != 128 || p.Config["channel"] != "soc" || p.Config["mode"] != "a=b" {
		t.Errorf("after set: %+v", p)
	}
	// --config merges, --unset removes, 0 restores a default limit. (A fresh
	// value each time: decoding into a map merges.)
	p = pluginJSON{}
	decodeJSON(t, c.ok("plugin", "set", "cli-set", "--config", "level=high", "--unset", "mode", "--timeout", "0", "--concurrency", "2", "-o", "json").Stdout, &p)
	if len(p.Config) != 2 || p.Config["channel"] != "soc" || p.Config["level"] != "high" || p.TimeoutMS != 30000 || p.Concurrency != 2 {
		t.Errorf("merge and unset: %+v", p)
	}
	p = pluginJSON{}
	decodeJSON(t, c.ok("plugin", "set", "cli-set", "--replace-config", "-o", "json").Stdout, &p)
	if len(p.Config) != 0 {
		t.Errorf("replace-config: %+v", p.Config)
	}
	decodeJSON(t, c.ok("plugin", "set", "cli-set", "--entrypoint", "upper", "-o", "json").Stdout, &p)
	if p.Entrypoint != "upper" {
		t.Errorf("entrypoint: %+v", p)
	}
	if r := c.ok("invoke", "cli-set", "--data", "now upper"); r.Stdout != "NOW UPPER" {
		t.Errorf("invoke after entrypoint change: %q", r.Stdout)
	}
	c.fails(exitFailed, `entrypoint "nope" is not exported`, "plugin", "set", "cli-set", "--entrypoint", "nope")
	c.fails(exitFailed, "invalid", "plugin", "set", "cli-set", "--memory", "999999")
	c.fails(exitUsage, "nothing to change", "plugin", "set", "cli-set")
	c.fails(exitUsage, "want KEY=VALUE", "plugin", "set", "cli-set", "--config", "novalue")
	c.fails(exitUsage, "must not be negative", "plugin", "set", "cli-set", "--memory", "-1")
	c.fails(exitFailed, "not_found", "plugin", "set", "no-such-plugin", "--description", "x")

	t.Run("Transfer", func(t *testing.T) {
		c.t = t
		tok := createUser(t, "xfer-carol", "analyst", "")
		if r := c.ok("plugin", "transfer", "cli-set", "xfer-carol"); r.Stdout != "plugin cli-set is now owned by xfer-carol\n" {
			t.Errorf("transfer: %q", r.Stdout)
		}
		carol := newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+tok)
		carol.ok("plugin", "set", "cli-set", "--description", "carol's now")
		// Carol gives it back; then she may no longer change it.
		carol.ok("plugin", "transfer", "cli-set", "admin")
		carol.fails(exitFailed, "owned by admin", "plugin", "set", "cli-set", "--description", "x")
		c.fails(exitFailed, `user "nobody" does not exist`, "plugin", "transfer", "cli-set", "nobody")
		createUser(t, "xfer-viewer", "viewer", "")
		c.fails(exitFailed, "a viewer cannot own plugins", "plugin", "transfer", "cli-set", "xfer-viewer")
	})
}
