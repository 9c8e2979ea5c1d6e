package sqlite_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

// TestHostileInput feeds the store what a careless or malicious client might
// send: odd Unicode, huge strings, many keys, NUL bytes, SQL fragments. Each
// value is either rejected with EINVALID or stored and read back exactly.
// User names are in registrytest, for every backend.
func TestHostileInput(t *testing.T) {
	db := openTest(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	ctx := lhk.NewContextWithActor(context.Background(), "root")
	bg := context.Background()
	const sqlish = `x'); DROP TABLE users; --`

	t.Run("PluginNames", func(t *testing.T) {
		if err := db.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, "alice-hash"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"名前", "Report", "../etc", "a b", "a\x00", sqlish, strings.Repeat("a", 64), "-lead"} {
			_, err := db.CreateVersion(ctx, &lhk.Version{Plugin: name}, []byte("wasm"), "alice")
			if lhk.ErrorCode(err) != lhk.EINVALID {
				t.Errorf("plugin name %q: got %v, want EINVALID", name, err)
			}
		}
	})

	t.Run("HugeAndOddValues", func(t *testing.T) {
		p, err := db.CreateVersion(ctx, &lhk.Version{
			Plugin:  "hostile",
			Imports: []lhk.Import{{Module: "lhk", Name: "\u202e" + sqlish}},
			Exports: []string{"run", "名前", ""},
		}, bytes.Repeat([]byte{0, 0xff}, 2<<20), "alice")
		if err != nil {
			t.Fatal(err)
		}
		desc := strings.Repeat("déscription ✓ \x00 "+sqlish+"\n", 1<<15) // ~1.3 MiB with NULs
		config := map[string]string{"": "empty key", "nul\x00key": "nul\x00value", sqlish: sqlish, "名前": "🦊"}
		for i := range 5000 {
			config[fmt.Sprintf("key-%04d", i)] = strings.Repeat("v", i%100)
		}
		upd := lhk.PluginUpdate{Description: &desc, Config: &config}
		if _, err := db.UpdatePlugin(ctx, "hostile", upd); err != nil {
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
		wasm, err := db.VersionWasm(bg, "hostile", 1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wasm, bytes.Repeat([]byte{0, 0xff}, 2<<20)) {
			t.Error("module bytes changed")
		}
		es, err := db.AuditEntries(bg, lhk.AuditFilter{Target: "plugin/hostile", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.Contains(e.Detail, "nul\\u0000value") || strings.Contains(e.Detail, "🦊") {
				t.Errorf("%s detail holds a config value", e.Action)
			}
		}
	})

	t.Run("Invocations", func(t *testing.T) {
		logs := make([]lhk.LogLine, 10_000)
		for i := range logs {
			logs[i] = lhk.LogLine{Level: "stderr", Message: fmt.Sprintf("line %d \x00 ✓ %s", i, sqlish)}
		}
		out := bytes.Repeat([]byte("\x00\xff output "), 800_000)
		inv := &lhk.Invocation{ID: sqlish, Plugin: "hostile", Status: lhk.StatusError, Output: out,
			Logs: logs, Error: "trap: \x00 unreachable 名前", Caller: "名前"}
		if err := db.PutInvocations(ctx, []*lhk.Invocation{inv}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Invocation(bg, sqlish)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Output, out) || got.Error != inv.Error || len(got.Logs) != len(logs) || got.Logs[9999].Message != logs[9999].Message {
			t.Errorf("invocation did not round-trip: output %d bytes, error %q, %d logs", len(got.Output), got.Error, len(got.Logs))
		}
		list, err := db.Invocations(bg, lhk.InvocationFilter{Caller: "名前", Before: ""})
		if err != nil || len(list) != 1 {
			t.Errorf("filter by unicode caller: %d, %v", len(list), err)
		}
		list, err = db.Invocations(bg, lhk.InvocationFilter{Plugin: sqlish})
		if err != nil || len(list) != 0 {
			t.Errorf("filter by an SQL fragment: %d, %v", len(list), err)
		}
	})

	t.Run("Audit", func(t *testing.T) {
		target := strings.Repeat("t✓", 100_000)
		b, err := json.Marshal(map[string]string{"s": strings.Repeat("\x00"+sqlish, 10_000)})
		if err != nil {
			t.Fatal(err)
		}
		detail := string(b)
		if err := db.Audit(ctx, lhk.AuditEntry{Action: "test.huge", Target: target, Detail: detail}); err != nil {
			t.Fatal(err)
		}
		es, err := db.AuditEntries(bg, lhk.AuditFilter{Target: target})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Detail != detail {
			t.Errorf("got %d entries", len(es))
		}
	})

	// After all that the store still answers ordinary questions.
	if _, err := db.Users(bg); err != nil {
		t.Fatal(err)
	}
}
