package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// TestHostileInput feeds the store what a careless or malicious client might
// send: odd Unicode, huge strings, many keys, NUL bytes, SQL fragments. Each
// value is either rejected with EINVALID or stored and read back exactly,
// except in invocation records, where NULs and invalid UTF-8 become U+FFFD
// rather than losing the record. User names are in registrytest, for every
// backend.
func TestHostileInput(t *testing.T) {
	db := fresh(t)
	ctx := lhk.NewContextWithActor(context.Background(), "root")
	bg := context.Background()
	const sqlish = `x'); DROP TABLE users; --`

	t.Run("TokenHashes", func(t *testing.T) {
		if err := db.CreateUser(ctx, &lhk.User{Name: "mallory", Role: lhk.RoleAnalyst}, "hash\x00"); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("token hash with NUL: got %v, want EINVALID", err)
		}
		if _, err := db.UserByTokenHash(bg, "hash\x00"); lhk.ErrorCode(err) == lhk.EINTERNAL {
			t.Errorf("lookup of a token hash with NUL: %v", err)
		}
	})

	if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "alice-hash"); err != nil {
		t.Fatal(err)
	}
	wasm := bytes.Repeat([]byte{0, 0xff}, 2<<20)
	p, err := db.CreateVersion(ctx, &lhk.Version{
		Plugin:  "hostile",
		Imports: []lhk.Import{{Module: "lhk", Name: "\u202e" + sqlish}},
		Exports: []string{"run", "名前", ""},
	}, wasm, "alice")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("HugeAndOddValues", func(t *testing.T) {
		desc := strings.Repeat("déscription ✓ "+sqlish+"\n", 1<<15) // ~1.3 MiB
		config := map[string]string{"": "empty key", sqlish: sqlish, "名前": "🦊", `quote"\`: `\u0000 as text`}
		for i := range 5000 {
			config[fmt.Sprintf("key-%04d", i)] = strings.Repeat("v", i%100)
		}
		if _, err := db.UpdatePlugin(ctx, "hostile", lhk.PluginUpdate{Description: &desc, Config: &config}); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("e", 257)
		if _, err := db.UpdatePlugin(ctx, "hostile", lhk.PluginUpdate{Entrypoint: &long}); lhk.ErrorCode(err) != lhk.EINVALID {
			t.Errorf("257-byte entrypoint: got %v, want EINVALID", err)
		}
		input := strings.Repeat(`{"tenant":"acme","q":"\u0000 `+sqlish+`"}`, 1<<14)
		if err := db.SetSchedule(ctx, "hostile", lhk.Schedule{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo", Input: input, Enabled: true}); err != nil {
			t.Fatal(err)
		}

		got, err := db.Plugin(bg, "hostile")
		if err != nil {
			t.Fatal(err)
		}
		if got.Description != desc {
			t.Errorf("description of %d bytes came back as %d bytes", len(desc), len(got.Description))
		}
		if !maps.Equal(got.Config, config) {
			t.Errorf("config of %d keys came back with %d", len(config), len(got.Config))
		}
		if got.Schedule == nil || got.Schedule.Input != input {
			t.Error("schedule input did not come back exactly")
		}
		v := got.Versions[0]
		if v.Imports[0] != p.Versions[0].Imports[0] || len(v.Exports) != 3 || v.Exports[1] != "名前" {
			t.Errorf("imports %v exports %q", v.Imports, v.Exports)
		}
		b, err := db.VersionWasm(bg, "hostile", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, wasm) {
			t.Error("module bytes changed")
		}
		es, err := db.AuditEntries(bg, lhk.AuditFilter{Target: "plugin/hostile", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.Contains(e.Detail, "🦊") || strings.Contains(e.Detail, "as text") {
				t.Errorf("%s detail holds a config value", e.Action)
			}
		}
	})

	t.Run("NUL", func(t *testing.T) {
		before, err := db.Plugin(bg, "hostile")
		if err != nil {
			t.Fatal(err)
		}
		nul := "a\x00b"
		cfg := map[string]string{"nul\x00key": "v"}
		cfgValue := map[string]string{"k": "nul\x00value"}
		tests := []struct {
			name string
			do   func() error
		}{
			{"Description", func() error {
				_, err := db.UpdatePlugin(ctx, "hostile", lhk.PluginUpdate{Description: &nul})
				return err
			}},
			{"ConfigKey", func() error {
				_, err := db.UpdatePlugin(ctx, "hostile", lhk.PluginUpdate{Config: &cfg})
				return err
			}},
			{"ConfigValue", func() error {
				_, err := db.UpdatePlugin(ctx, "hostile", lhk.PluginUpdate{Config: &cfgValue})
				return err
			}},
			{"ScheduleInput", func() error {
				return db.SetSchedule(ctx, "hostile", lhk.Schedule{Cron: "@daily", Input: nul})
			}},
			{"Export", func() error {
				_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: "hostile", UploadedBy: "alice", Exports: []string{nul}}, wasm, "alice")
				return err
			}},
			{"AuditTarget", func() error {
				return db.Audit(ctx, lhk.AuditEntry{Action: "test.nul", Target: nul})
			}},
			{"SessionIDHash", func() error {
				return db.CreateSession(ctx, &lhk.Session{IDHash: nul, TokenHash: "alice-hash", User: "alice", ExpiresAt: time.Now().Add(time.Hour)})
			}},
			{"SessionTokenHash", func() error {
				return db.CreateSession(ctx, &lhk.Session{IDHash: "sid", TokenHash: nul, User: "alice", ExpiresAt: time.Now().Add(time.Hour)})
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.do(); lhk.ErrorCode(err) != lhk.EINVALID {
					t.Fatalf("got %v, want EINVALID", err)
				}
			})
		}
		after, err := db.Plugin(bg, "hostile")
		if err != nil {
			t.Fatal(err)
		}
		if after.Description != before.Description || !maps.Equal(after.Config, before.Config) ||
			after.Schedule.Input != before.Schedule.Input || len(after.Versions) != len(before.Versions) {
			t.Error("a rejected mutation changed the plugin")
		}
	})

	// Lookups by what a client sent find nothing rather than failing: no
	// plugin name or session id hash holds a NUL or invalid UTF-8.
	t.Run("Lookups", func(t *testing.T) {
		for _, q := range []string{"host\x00", "host\xff", sqlish, "%", "_", `\`, "HOST%"} {
			ps, err := db.Plugins(bg, lhk.PluginFilter{Query: q})
			if err != nil || len(ps) != 0 {
				t.Errorf("Plugins(Query: %q) = %d plugins, %v; want none", q, len(ps), err)
			}
		}
		ps, err := db.Plugins(bg, lhk.PluginFilter{Query: "OSTIL"})
		if err != nil || len(ps) != 1 {
			t.Errorf("Plugins(Query: OSTIL) = %d plugins, %v; want hostile", len(ps), err)
		}
		for _, id := range []string{"a\x00b", "a\xffb", sqlish} {
			if _, err := db.Session(bg, id); lhk.ErrorCode(err) != lhk.ENOTFOUND {
				t.Errorf("Session(%q): got %v, want ENOTFOUND", id, err)
			}
			if err := db.DeleteSession(ctx, id); lhk.ErrorCode(err) != lhk.ENOTFOUND {
				t.Errorf("DeleteSession(%q): got %v, want ENOTFOUND", id, err)
			}
		}
	})

	t.Run("Invocations", func(t *testing.T) {
		logs := make([]lhk.LogLine, 10_000)
		for i := range logs {
			logs[i] = lhk.LogLine{Level: "stderr", Message: fmt.Sprintf("line %d \x00 ✓ \xff %s", i, sqlish)}
		}
		out := bytes.Repeat([]byte("\x00\xff output "), 800_000)
		inv := &lhk.Invocation{ID: sqlish, Plugin: "hostile", Status: lhk.StatusError, Output: out,
			Logs: logs, Error: "trap: \x00 unreachable 名前", Caller: "名前", Function: "run\x00"}
		if err := db.PutInvocations(ctx, []*lhk.Invocation{inv}); err != nil {
			t.Fatal(err)
		}
		if logs[0].Message != "line 0 \x00 ✓ \xff "+sqlish {
			t.Error("PutInvocations modified the caller's logs")
		}
		got, err := db.Invocation(bg, sqlish)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Output, out) || got.Error != "trap: \uFFFD unreachable 名前" || got.Function != "run\uFFFD" ||
			len(got.Logs) != len(logs) || got.Logs[9999].Message != "line 9999 \uFFFD ✓ \uFFFD "+sqlish {
			t.Errorf("invocation did not round-trip: output %d bytes, error %q, function %q, %d logs", len(got.Output), got.Error, got.Function, len(got.Logs))
		}
		list, err := db.Invocations(bg, lhk.InvocationFilter{Caller: "名前"})
		if err != nil || len(list) != 1 {
			t.Errorf("filter by unicode caller: %d, %v", len(list), err)
		}
		list, err = db.Invocations(bg, lhk.InvocationFilter{Plugin: sqlish})
		if err != nil || len(list) != 0 {
			t.Errorf("filter by an SQL fragment: %d, %v", len(list), err)
		}
		for _, bad := range []*lhk.Invocation{
			{ID: "a\x00", Plugin: "hostile", Status: lhk.StatusOK},
			{ID: "b", Plugin: "hostile\xff", Status: lhk.StatusOK},
		} {
			if err := db.PutInvocations(ctx, []*lhk.Invocation{bad}); lhk.ErrorCode(err) != lhk.EINVALID {
				t.Errorf("id %q plugin %q: got %v, want EINVALID", bad.ID, bad.Plugin, err)
			}
		}
	})

	t.Run("Audit", func(t *testing.T) {
		target := strings.Repeat("t✓", 100_000)
		b, err := json.Marshal(map[string]string{"s": strings.Repeat("\x00"+sqlish, 10_000)})
		if err != nil {
			t.Fatal(err)
		}
		detail := string(b)
		if err := db.Audit(ctx, lhk.AuditEntry{Action: "test.huge", Target: target, Actor: target, Detail: detail}); err != nil {
			t.Fatal(err)
		}
		for _, f := range []lhk.AuditFilter{{Target: target}, {Actor: target}, {Target: target[:len(target)-3]}} {
			es, err := db.AuditEntries(bg, f)
			if err != nil {
				t.Fatal(err)
			}
			want := 1
			if len(f.Target) == len(target)-3 {
				want = 0 // shares the indexed prefix, but is another target
			}
			if len(es) != want || want == 1 && es[0].Detail != detail {
				t.Errorf("got %d entries, want %d", len(es), want)
			}
		}
	})

	// After all that the store still answers ordinary questions.
	if _, err := db.Users(bg); err != nil {
		t.Fatal(err)
	}
}
