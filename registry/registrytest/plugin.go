package registrytest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

func (s *suite) testVersions(t *testing.T) {
	t.Run("CreateVersion/New", func(t *testing.T) {
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		wasm := wasmFor("report", 1)
		v := &lhk.Version{
			Plugin:  "report",
			Imports: []lhk.Import{{Module: "lhk", Name: "logs_search"}, {Module: "extism:host/env", Name: "output_set"}},
			Exports: []string{"run", "weekly"},
		}
		p, err := r.CreateVersion(as("alice"), v, wasm, "alice")
		ok(t, err)
		if v.Number != 1 || v.SHA256 != sha(wasm) || v.Size != int64(len(wasm)) || v.UploadedAt.IsZero() || v.Plugin != "report" {
			t.Errorf("version not filled: %+v", v)
		}
		if v.UploadedBy != "alice" {
			t.Errorf("UploadedBy = %q, want the actor alice", v.UploadedBy)
		}
		for _, p := range []*lhk.Plugin{p, getPlugin(t, r, "report")} {
			if p.Name != "report" || p.Owner != "alice" || p.CurrentVersion != 1 || p.Entrypoint != lhk.DefaultEntrypoint {
				t.Errorf("plugin %+v", p)
			}
			if p.Config == nil || len(p.Config) != 0 {
				t.Errorf("Config = %#v, want an empty non-nil map", p.Config)
			}
			if p.Limits != lhk.DefaultLimits {
				t.Errorf("Limits = %+v, want %+v", p.Limits, lhk.DefaultLimits)
			}
			if p.Schedule != nil {
				t.Errorf("Schedule = %+v, want nil", p.Schedule)
			}
			if len(p.Grant.Capabilities)+len(p.Grant.Tenants)+len(p.Grant.AllowedHosts) != 0 {
				t.Errorf("new plugin has grant %+v, want none", p.Grant)
			}
			if p.CreatedAt.IsZero() || p.UpdatedAt.Before(p.CreatedAt) {
				t.Errorf("CreatedAt %v UpdatedAt %v", p.CreatedAt, p.UpdatedAt)
			}
			if len(p.Versions) != 1 {
				t.Fatalf("got %d versions, want 1", len(p.Versions))
			}
			got := p.Versions[0]
			if got.Number != 1 || got.SHA256 != sha(wasm) || got.Size != int64(len(wasm)) || got.UploadedBy != "alice" || !got.UploadedAt.Equal(v.UploadedAt) {
				t.Errorf("version %+v, want %+v", got, v)
			}
			if len(got.Imports) != 2 || got.Imports[0] != v.Imports[0] || got.Imports[1] != v.Imports[1] {
				t.Errorf("imports %+v, want %+v", got.Imports, v.Imports)
			}
			if !sameStrings(got.Exports, v.Exports) {
				t.Errorf("exports %v, want %v", got.Exports, v.Exports)
			}
			if c := p.Current(); c == nil || c.Number != 1 {
				t.Errorf("Current() = %+v, want version 1", c)
			}
		}
	})

	t.Run("CreateVersion/Next", func(t *testing.T) {
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		createUser(t, r, "admin", lhk.RoleAdmin)
		upload(t, r, "report", "alice", wasmFor("report", 1))
		// An admin uploads version 2 of alice's plugin: the owner stays alice.
		v := &lhk.Version{Plugin: "report"}
		p, err := r.CreateVersion(as("admin"), v, wasmFor("report", 2), "admin")
		ok(t, err)
		if v.Number != 2 || p.CurrentVersion != 2 || p.Owner != "alice" {
			t.Errorf("version %d current %d owner %q, want 2, 2, alice", v.Number, p.CurrentVersion, p.Owner)
		}
		if got := versionNumbers(p); fmt.Sprint(got) != "[1 2]" {
			t.Errorf("versions %v, want [1 2]", got)
		}
		if p.Versions[1].UploadedBy != "admin" {
			t.Errorf("version 2 uploaded by %q, want admin", p.Versions[1].UploadedBy)
		}
		// Identical bytes are still a new version.
		v3, _ := upload(t, r, "report", "alice", wasmFor("report", 1))
		if v3.Number != 3 {
			t.Errorf("re-upload of version 1's bytes got number %d, want 3", v3.Number)
		}
	})

	t.Run("CreateVersion/NotOwner", func(t *testing.T) {
		// The API checks ownership before it compiles a module, which takes
		// seconds; the store checks again when it writes, so a plugin that
		// appeared or changed owner meanwhile does not take another
		// analyst's version.
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		createUser(t, r, "bob", lhk.RoleAnalyst)
		upload(t, r, "report", "alice", wasmFor("report", 1))
		_, err := r.CreateVersion(as("bob"), &lhk.Version{Plugin: "report"}, wasmFor("report", 2), "bob")
		wantCode(t, err, lhk.EFORBIDDEN)
		_, err = r.CreateVersion(as("system"), &lhk.Version{Plugin: "report", UploadedBy: "bob"}, wasmFor("report", 2), "bob")
		wantCode(t, err, lhk.EFORBIDDEN)
		p, err := r.Plugin(context.Background(), "report")
		ok(t, err)
		if got := versionNumbers(p); fmt.Sprint(got) != "[1]" || p.Owner != "alice" {
			t.Errorf("after refused uploads: versions %v owner %q, want [1] alice", got, p.Owner)
		}
		// Once alice transfers the plugin to bob, bob may upload and alice may not.
		owner := "bob"
		_, err = r.UpdatePlugin(as("alice"), "report", lhk.PluginUpdate{Owner: &owner})
		ok(t, err)
		_, err = r.CreateVersion(as("alice"), &lhk.Version{Plugin: "report"}, wasmFor("report", 2), "alice")
		wantCode(t, err, lhk.EFORBIDDEN)
		v := &lhk.Version{Plugin: "report"}
		_, err = r.CreateVersion(as("bob"), v, wasmFor("report", 2), "bob")
		ok(t, err)
		if v.Number != 2 {
			t.Errorf("bob's upload is version %d, want 2", v.Number)
		}
	})

	t.Run("CreateVersion/MatchingSHA256", func(t *testing.T) {
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		wasm := wasmFor("report", 1)
		v := &lhk.Version{Plugin: "report", SHA256: sha(wasm)}
		_, err := r.CreateVersion(as("alice"), v, wasm, "alice")
		ok(t, err)
	})

	t.Run("CreateVersion/ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name string
			v    *lhk.Version
			wasm []byte
		}{
			{"EmptyName", &lhk.Version{}, wasmFor("x", 1)},
			{"UpperCase", &lhk.Version{Plugin: "Report"}, wasmFor("x", 1)},
			{"Slash", &lhk.Version{Plugin: "a/b"}, wasmFor("x", 1)},
			{"TooLong", &lhk.Version{Plugin: string(bytes.Repeat([]byte("a"), 64))}, wasmFor("x", 1)},
			{"EmptyModule", &lhk.Version{Plugin: "report"}, nil},
			{"WrongSHA256", &lhk.Version{Plugin: "report", SHA256: sha([]byte("other"))}, wasmFor("x", 1)},
		}
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := r.CreateVersion(as("alice"), tt.v, tt.wasm, "alice")
				wantCode(t, err, lhk.EINVALID)
			})
		}
		ps, err := r.Plugins(context.Background(), lhk.PluginFilter{})
		ok(t, err)
		if len(ps) != 0 {
			t.Errorf("invalid uploads created %d plugins", len(ps))
		}
	})

	t.Run("CreateVersion/ErrNotFoundOwner", func(t *testing.T) {
		r := s.fresh(t)
		_, err := r.CreateVersion(as("ghost"), &lhk.Version{Plugin: "report"}, wasmFor("report", 1), "ghost")
		wantCode(t, err, lhk.ENOTFOUND)
		_, err = r.Plugin(context.Background(), "report")
		wantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("VersionWasm", func(t *testing.T) {
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		upload(t, r, "report", "alice", wasmFor("report", 1))
		upload(t, r, "report", "alice", wasmFor("report", 2))
		tests := []struct {
			name    string
			plugin  string
			version int
			want    []byte
			wantC   string
		}{
			{"OK/1", "report", 1, wasmFor("report", 1), ""},
			{"OK/2", "report", 2, wasmFor("report", 2), ""},
			{"ErrNotFound/Version", "report", 3, nil, lhk.ENOTFOUND},
			{"ErrNotFound/Zero", "report", 0, nil, lhk.ENOTFOUND},
			{"ErrNotFound/Plugin", "other", 1, nil, lhk.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.VersionWasm(context.Background(), tt.plugin, tt.version)
				if tt.wantC != "" {
					wantCode(t, err, tt.wantC)
					return
				}
				ok(t, err)
				if !bytes.Equal(got, tt.want) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("Plugin/ErrNotFound", func(t *testing.T) {
		r := s.fresh(t)
		_, err := r.Plugin(context.Background(), "nothing")
		wantCode(t, err, lhk.ENOTFOUND)
	})
}

func (s *suite) testUpdatePlugin(t *testing.T) {
	str := func(v string) *string { return &v }
	num := func(v int) *int { return &v }
	cfg := func(m map[string]string) *map[string]string { return &m }

	// setup makes alice's plugin "report" with versions 1 and 2 (current 2)
	// and a second user bob.
	setup := func(t *testing.T) lhk.Registry {
		t.Helper()
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		createUser(t, r, "bob", lhk.RoleAnalyst)
		createUser(t, r, "vera", lhk.RoleViewer)
		upload(t, r, "report", "alice", wasmFor("report", 1))
		upload(t, r, "report", "alice", wasmFor("report", 2))
		_, err := r.UpdatePlugin(as("alice"), "report", lhk.PluginUpdate{Config: cfg(map[string]string{"a": "1", "b": "2"})})
		ok(t, err)
		return r
	}

	tests := []struct {
		name  string
		upd   lhk.PluginUpdate
		check func(t *testing.T, p *lhk.Plugin)
	}{
		{"OK/Description", lhk.PluginUpdate{Description: str("weekly SOC report")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Description != "weekly SOC report" {
				t.Errorf("Description = %q", p.Description)
			}
		}},
		{"OK/Entrypoint", lhk.PluginUpdate{Entrypoint: str("weekly")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Entrypoint != "weekly" {
				t.Errorf("Entrypoint = %q", p.Entrypoint)
			}
		}},
		{"OK/EntrypointEmptyIsDefault", lhk.PluginUpdate{Entrypoint: str("")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Entrypoint != lhk.DefaultEntrypoint {
				t.Errorf("Entrypoint = %q, want %q", p.Entrypoint, lhk.DefaultEntrypoint)
			}
		}},
		{"OK/ConfigReplaced", lhk.PluginUpdate{Config: cfg(map[string]string{"b": "3", "c": "4"})}, func(t *testing.T, p *lhk.Plugin) {
			if want := map[string]string{"b": "3", "c": "4"}; !maps.Equal(p.Config, want) {
				t.Errorf("Config = %v, want %v", p.Config, want)
			}
		}},
		{"OK/ConfigCleared", lhk.PluginUpdate{Config: cfg(nil)}, func(t *testing.T, p *lhk.Plugin) {
			if p.Config == nil || len(p.Config) != 0 {
				t.Errorf("Config = %#v, want an empty non-nil map", p.Config)
			}
		}},
		{"OK/Limits", lhk.PluginUpdate{TimeoutMS: num(5000), MemoryMB: num(128), MaxInputBytes: num(10), MaxOutputBytes: num(20), MaxLogLines: num(30), Concurrency: num(2)},
			func(t *testing.T, p *lhk.Plugin) {
				want := lhk.Limits{TimeoutMS: 5000, MemoryMB: 128, MaxInputBytes: 10, MaxOutputBytes: 20, MaxLogLines: 30, Concurrency: 2}
				if p.Limits != want {
					t.Errorf("Limits = %+v, want %+v", p.Limits, want)
				}
			}},
		{"OK/LimitsAtMax", lhk.PluginUpdate{TimeoutMS: num(lhk.MaxLimits.TimeoutMS), MemoryMB: num(lhk.MaxLimits.MemoryMB)},
			func(t *testing.T, p *lhk.Plugin) {
				if p.TimeoutMS != lhk.MaxLimits.TimeoutMS || p.MemoryMB != lhk.MaxLimits.MemoryMB {
					t.Errorf("Limits = %+v", p.Limits)
				}
			}},
		{"OK/LimitZeroIsDefault", lhk.PluginUpdate{TimeoutMS: num(0)}, func(t *testing.T, p *lhk.Plugin) {
			if p.TimeoutMS != lhk.DefaultLimits.TimeoutMS {
				t.Errorf("TimeoutMS = %d, want the default %d", p.TimeoutMS, lhk.DefaultLimits.TimeoutMS)
			}
		}},
		{"OK/Rollback", lhk.PluginUpdate{CurrentVersion: num(1)}, func(t *testing.T, p *lhk.Plugin) {
			if p.CurrentVersion != 1 || p.Current() == nil || p.Current().Number != 1 {
				t.Errorf("current %d, want 1", p.CurrentVersion)
			}
			if fmt.Sprint(versionNumbers(p)) != "[1 2]" {
				t.Errorf("rollback changed versions: %v", versionNumbers(p))
			}
		}},
		{"OK/Transfer", lhk.PluginUpdate{Owner: str("bob")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Owner != "bob" {
				t.Errorf("Owner = %q, want bob", p.Owner)
			}
		}},
		{"OK/TransferToViewer", lhk.PluginUpdate{Owner: str("vera")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Owner != "vera" {
				t.Errorf("Owner = %q, want vera", p.Owner)
			}
		}},
		{"OK/Several", lhk.PluginUpdate{Description: str("d"), CurrentVersion: num(1), Owner: str("bob")}, func(t *testing.T, p *lhk.Plugin) {
			if p.Description != "d" || p.CurrentVersion != 1 || p.Owner != "bob" {
				t.Errorf("got %+v", p)
			}
		}},
		{"OK/Nothing", lhk.PluginUpdate{}, func(t *testing.T, p *lhk.Plugin) {
			if p.Owner != "alice" || p.CurrentVersion != 2 || !maps.Equal(p.Config, map[string]string{"a": "1", "b": "2"}) {
				t.Errorf("empty update changed %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := setup(t)
			p, err := r.UpdatePlugin(as("alice"), "report", tt.upd)
			ok(t, err)
			tt.check(t, p)
			tt.check(t, getPlugin(t, r, "report"))
		})
	}

	errTests := []struct {
		name   string
		plugin string
		upd    lhk.PluginUpdate
		want   string
	}{
		{"ErrNotFound/Plugin", "other", lhk.PluginUpdate{Description: str("x")}, lhk.ENOTFOUND},
		{"ErrNotFound/Version", "report", lhk.PluginUpdate{CurrentVersion: num(3)}, lhk.ENOTFOUND},
		{"ErrNotFound/VersionZero", "report", lhk.PluginUpdate{CurrentVersion: num(0)}, lhk.ENOTFOUND},
		{"ErrNotFound/Owner", "report", lhk.PluginUpdate{Owner: str("ghost")}, lhk.ENOTFOUND},
		{"ErrInvalid/TimeoutTooLarge", "report", lhk.PluginUpdate{TimeoutMS: num(lhk.MaxLimits.TimeoutMS + 1)}, lhk.EINVALID},
		{"ErrInvalid/MemoryNegative", "report", lhk.PluginUpdate{MemoryMB: num(-1)}, lhk.EINVALID},
		{"ErrInvalid/ConcurrencyTooLarge", "report", lhk.PluginUpdate{Concurrency: num(lhk.MaxLimits.Concurrency + 1)}, lhk.EINVALID},
		// A valid change next to an invalid one must not be applied either.
		{"ErrNotFound/Atomic", "report", lhk.PluginUpdate{Description: str("changed"), Owner: str("bob"), CurrentVersion: num(9)}, lhk.ENOTFOUND},
		{"ErrInvalid/Atomic", "report", lhk.PluginUpdate{Description: str("changed"), MaxLogLines: num(-5)}, lhk.EINVALID},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			r := setup(t)
			before := getPlugin(t, r, "report")
			_, err := r.UpdatePlugin(as("alice"), tt.plugin, tt.upd)
			wantCode(t, err, tt.want)
			after := getPlugin(t, r, "report")
			if after.Description != before.Description || after.Owner != before.Owner ||
				after.CurrentVersion != before.CurrentVersion || after.Limits != before.Limits {
				t.Errorf("failed update changed the plugin: %+v -> %+v", before, after)
			}
		})
	}
}

func (s *suite) testPlugins(t *testing.T) {
	r := s.fresh(t)
	ctx := context.Background()
	ps, err := r.Plugins(ctx, lhk.PluginFilter{})
	ok(t, err)
	if ps == nil || len(ps) != 0 {
		t.Fatalf("empty store lists %#v", ps)
	}
	createUser(t, r, "alice", lhk.RoleAnalyst)
	createUser(t, r, "bob", lhk.RoleAnalyst)
	// alice: a(1 version), c(3), e(1); bob: b(2), d(1).
	for _, u := range []struct {
		plugin, owner string
		versions      int
	}{{"e", "alice", 1}, {"c", "alice", 3}, {"a", "alice", 1}, {"d", "bob", 1}, {"b", "bob", 2}} {
		for i := 1; i <= u.versions; i++ {
			upload(t, r, u.plugin, u.owner, wasmFor(u.plugin, i))
		}
	}
	ok(t, r.SetSchedule(as("bob"), "b", lhk.Schedule{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo", Enabled: true}))
	ok(t, r.SetGrant(as("alice"), "c", lhk.Grant{Capabilities: []string{lhk.CapLogsRead}, Tenants: []string{"acme"}}))
	_, err = r.UpdatePlugin(as("alice"), "c", lhk.PluginUpdate{Config: &map[string]string{"k": "v"}})
	ok(t, err)

	tests := []struct {
		name string
		f    lhk.PluginFilter
		want []string
	}{
		{"All", lhk.PluginFilter{}, []string{"a", "b", "c", "d", "e"}},
		{"Owner", lhk.PluginFilter{Owner: "alice"}, []string{"a", "c", "e"}},
		{"OwnerUnknown", lhk.PluginFilter{Owner: "nobody"}, nil},
		{"Limit", lhk.PluginFilter{Limit: 2}, []string{"a", "b"}},
		{"Offset", lhk.PluginFilter{Offset: 3}, []string{"d", "e"}},
		{"OffsetLimit", lhk.PluginFilter{Offset: 1, Limit: 2}, []string{"b", "c"}},
		{"OwnerOffsetLimit", lhk.PluginFilter{Owner: "alice", Offset: 1, Limit: 1}, []string{"c"}},
		{"OffsetPastEnd", lhk.PluginFilter{Offset: 10}, nil},
		{"Query", lhk.PluginFilter{Query: "c"}, []string{"c"}},
		{"QueryIgnoresCase", lhk.PluginFilter{Query: "D"}, []string{"d"}},
		{"QueryNoMatch", lhk.PluginFilter{Query: "zz"}, nil},
		{"QueryIsNotAPattern", lhk.PluginFilter{Query: "%"}, nil},
		{"QueryOwner", lhk.PluginFilter{Query: "b", Owner: "alice"}, nil},
	}
	want := map[string]struct {
		owner    string
		versions string
	}{
		"a": {"alice", "[1]"}, "b": {"bob", "[1 2]"}, "c": {"alice", "[1 2 3]"}, "d": {"bob", "[1]"}, "e": {"alice", "[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := r.Plugins(ctx, tt.f)
			ok(t, err)
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
				w := want[p.Name]
				if p.Owner != w.owner || fmt.Sprint(versionNumbers(p)) != w.versions {
					t.Errorf("%s: owner %q versions %v, want %q %s", p.Name, p.Owner, versionNumbers(p), w.owner, w.versions)
				}
				if p.CurrentVersion != len(p.Versions) {
					t.Errorf("%s: current %d of %d versions", p.Name, p.CurrentVersion, len(p.Versions))
				}
				if p.Config == nil {
					t.Errorf("%s: nil Config", p.Name)
				}
				if (p.Schedule != nil) != (p.Name == "b") {
					t.Errorf("%s: schedule %+v", p.Name, p.Schedule)
				}
				if p.Name == "b" && (p.Schedule.Cron != "0 9 * * 1" || p.Schedule.Timezone != "Asia/Tokyo" || !p.Schedule.Enabled) {
					t.Errorf("b: schedule %+v", p.Schedule)
				}
				if p.Name == "c" && (!p.Grant.Allows(lhk.CapLogsRead) || !p.Grant.AllowsTenant("acme") || p.Config["k"] != "v") {
					t.Errorf("c: grant %+v config %v", p.Grant, p.Config)
				}
				if p.Limits != lhk.DefaultLimits {
					t.Errorf("%s: limits %+v", p.Name, p.Limits)
				}
			}
			if !sameStrings(names, tt.want) {
				t.Errorf("got %v, want %v", names, tt.want)
			}
		})
	}
	t.Run("QuerySubstring", func(t *testing.T) {
		r := s.fresh(t)
		createUser(t, r, "alice", lhk.RoleAnalyst)
		for _, name := range []string{"weekly-report", "report", "endpoint-triage", "reporter-2", "triage"} {
			upload(t, r, name, "alice", wasmFor(name, 1))
		}
		tests := []struct {
			name string
			f    lhk.PluginFilter
			want []string
		}{
			{"Middle", lhk.PluginFilter{Query: "port"}, []string{"report", "reporter-2", "weekly-report"}},
			{"Twice", lhk.PluginFilter{Query: "tri"}, []string{"endpoint-triage", "triage"}},
			{"Dash", lhk.PluginFilter{Query: "-t"}, []string{"endpoint-triage"}},
			{"Underscore", lhk.PluginFilter{Query: "_"}, nil},
			{"Paged", lhk.PluginFilter{Query: "report", Offset: 1, Limit: 1}, []string{"reporter-2"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ps, err := r.Plugins(ctx, tt.f)
				ok(t, err)
				var names []string
				for _, p := range ps {
					names = append(names, p.Name)
				}
				if !sameStrings(names, tt.want) {
					t.Errorf("got %v, want %v", names, tt.want)
				}
			})
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, f := range []lhk.PluginFilter{{Offset: -1}, {Limit: -1}} {
			_, err := r.Plugins(ctx, f)
			wantCode(t, err, lhk.EINVALID)
		}
	})
}

func (s *suite) testDeletePlugin(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		r := s.fresh(t)
		ctx := as("alice")
		createUser(t, r, "alice", lhk.RoleAnalyst)
		upload(t, r, "report", "alice", wasmFor("report", 1))
		upload(t, r, "report", "alice", wasmFor("report", 2))
		upload(t, r, "keep", "alice", wasmFor("keep", 1))
		ok(t, r.SetGrant(ctx, "report", lhk.Grant{Capabilities: []string{lhk.CapKV}, Tenants: []string{"*"}}))
		ok(t, r.SetSchedule(ctx, "report", lhk.Schedule{Cron: "@hourly", Enabled: true}))
		ok(t, r.SetSchedule(ctx, "keep", lhk.Schedule{Cron: "@daily", Enabled: true}))
		inv := &lhk.Invocation{ID: "inv-1", Plugin: "report", Version: 2, Function: "run", Trigger: lhk.TriggerHTTP,
			Caller: "alice", Status: lhk.StatusOK, StartedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Output: []byte("done")}
		ok(t, r.PutInvocations(ctx, []*lhk.Invocation{inv}))

		ok(t, r.DeletePlugin(ctx, "report"))

		_, err := r.Plugin(context.Background(), "report")
		wantCode(t, err, lhk.ENOTFOUND)
		for _, n := range []int{1, 2} {
			_, err := r.VersionWasm(context.Background(), "report", n)
			wantCode(t, err, lhk.ENOTFOUND)
		}
		scheds, err := r.Schedules(context.Background())
		ok(t, err)
		if _, ok := scheds["report"]; ok || len(scheds) != 1 {
			t.Errorf("schedules after delete: %v, want only keep", scheds)
		}
		got, err := r.Invocation(context.Background(), "inv-1")
		ok(t, err)
		if got.Plugin != "report" || string(got.Output) != "done" {
			t.Errorf("history changed: %+v", got)
		}
		invs, err := r.Invocations(context.Background(), lhk.InvocationFilter{Plugin: "report"})
		ok(t, err)
		if len(invs) != 1 {
			t.Errorf("got %d invocations of the deleted plugin, want 1", len(invs))
		}
		getPlugin(t, r, "keep")

		// The name is free again, versions start over, the old grant is gone.
		v, p := upload(t, r, "report", "alice", wasmFor("report", 9))
		if v.Number != 1 || len(p.Versions) != 1 || p.Schedule != nil || len(p.Grant.Capabilities) != 0 {
			t.Errorf("re-created plugin: version %d, %+v", v.Number, p)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		r := s.fresh(t)
		wantCode(t, r.DeletePlugin(as("alice"), "nothing"), lhk.ENOTFOUND)
	})
}

func (s *suite) testGrant(t *testing.T) {
	r := s.fresh(t)
	ctx := as("alice")
	createUser(t, r, "alice", lhk.RoleAnalyst)
	upload(t, r, "report", "alice", wasmFor("report", 1))

	tests := []struct {
		name  string
		g     lhk.Grant
		wantC string
	}{
		{"OK/Set", lhk.Grant{Capabilities: []string{lhk.CapLogsRead, lhk.CapHTTP}, Tenants: []string{"acme", "globex"}, AllowedHosts: []string{"api.example.com"}}, ""},
		{"OK/Replace", lhk.Grant{Capabilities: []string{lhk.CapTicketsWrite}, Tenants: []string{"*"}}, ""},
		{"OK/Empty", lhk.Grant{}, ""},
		{"ErrInvalid/Capability", lhk.Grant{Capabilities: []string{"root"}}, lhk.EINVALID},
		{"ErrInvalid/Tenant", lhk.Grant{Capabilities: []string{lhk.CapKV}, Tenants: []string{""}}, lhk.EINVALID},
	}
	want := lhk.Grant{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.SetGrant(ctx, "report", tt.g)
			if tt.wantC != "" {
				wantCode(t, err, tt.wantC)
			} else {
				ok(t, err)
				want = tt.g
			}
			got := getPlugin(t, r, "report").Grant
			if !sameStrings(got.Capabilities, want.Capabilities) || !sameStrings(got.Tenants, want.Tenants) ||
				!sameStrings(got.AllowedHosts, want.AllowedHosts) {
				t.Errorf("grant %+v, want %+v", got, want)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		wantCode(t, r.SetGrant(ctx, "nothing", lhk.Grant{}), lhk.ENOTFOUND)
	})
}

func (s *suite) testSchedule(t *testing.T) {
	r := s.fresh(t)
	createUser(t, r, "alice", lhk.RoleAnalyst)
	createUser(t, r, "bob", lhk.RoleAnalyst)
	upload(t, r, "report", "alice", wasmFor("report", 1))
	upload(t, r, "triage", "bob", wasmFor("triage", 1))
	bg := context.Background()

	t.Run("Set", func(t *testing.T) {
		want := lhk.Schedule{Cron: "0 9 * * 1", Timezone: "Asia/Tokyo", Input: `{"tenant":"acme"}`, Enabled: true}
		ok(t, r.SetSchedule(as("alice"), "report", want))
		p := getPlugin(t, r, "report")
		if p.Schedule == nil {
			t.Fatal("no schedule after SetSchedule")
		}
		got := *p.Schedule
		if got.Cron != want.Cron || got.Timezone != want.Timezone || got.Input != want.Input || got.Enabled != want.Enabled {
			t.Errorf("got %+v, want %+v", got, want)
		}
		if got.UpdatedBy != "alice" || got.UpdatedAt.IsZero() {
			t.Errorf("UpdatedBy %q UpdatedAt %v, want the actor and a time", got.UpdatedBy, got.UpdatedAt)
		}
	})
	t.Run("Replace", func(t *testing.T) {
		ok(t, r.SetSchedule(as("bob"), "report", lhk.Schedule{Cron: "@daily", Timezone: "UTC", Enabled: false}))
		got := getPlugin(t, r, "report").Schedule
		if got == nil || got.Cron != "@daily" || got.Timezone != "UTC" || got.Input != "" || got.Enabled || got.UpdatedBy != "bob" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("Schedules", func(t *testing.T) {
		ok(t, r.SetSchedule(as("bob"), "triage", lhk.Schedule{Cron: "*/5 * * * *", Enabled: true}))
		m, err := r.Schedules(bg)
		ok(t, err)
		if len(m) != 2 || m["report"].Cron != "@daily" || m["report"].Enabled || m["triage"].Cron != "*/5 * * * *" || !m["triage"].Enabled {
			t.Errorf("got %+v", m)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		ok(t, r.DeleteSchedule(as("alice"), "report"))
		if s := getPlugin(t, r, "report").Schedule; s != nil {
			t.Errorf("schedule after delete: %+v", s)
		}
		m, err := r.Schedules(bg)
		ok(t, err)
		if _, ok := m["report"]; ok || len(m) != 1 {
			t.Errorf("Schedules after delete: %+v", m)
		}
	})
	t.Run("Delete/ErrNotFound", func(t *testing.T) {
		wantCode(t, r.DeleteSchedule(as("alice"), "report"), lhk.ENOTFOUND)
		wantCode(t, r.DeleteSchedule(as("alice"), "nothing"), lhk.ENOTFOUND)
	})
	t.Run("Set/ErrNotFound", func(t *testing.T) {
		wantCode(t, r.SetSchedule(as("alice"), "nothing", lhk.Schedule{Cron: "@daily"}), lhk.ENOTFOUND)
	})
	t.Run("Set/ErrInvalid", func(t *testing.T) {
		wantCode(t, r.SetSchedule(as("alice"), "report", lhk.Schedule{}), lhk.EINVALID)
		if s := getPlugin(t, r, "report").Schedule; s != nil {
			t.Errorf("invalid schedule stored: %+v", s)
		}
	})
}
