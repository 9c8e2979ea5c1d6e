package rule

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// wantErr fails t unless err has the code want and, when msg is not empty,
// a message that contains it.
func wantErr(t *testing.T, err error, want, msg string) {
	t.Helper()
	if got := lhk.ErrorCode(err); err == nil || got != want {
		t.Fatalf("got %v (code %q), want code %q", err, got, want)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("got %q, want a message with %q", err.Error(), msg)
	}
}

func TestClampLimit(t *testing.T) {
	tests := []struct {
		name    string
		n, want int
	}{
		{"Zero", 0, DefaultLimit},
		{"One", 1, 1},
		{"Max", MaxLimit, MaxLimit},
		{"AboveMax", MaxLimit + 1, MaxLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ClampLimit(tt.n)
			if err != nil || got != tt.want {
				t.Errorf("ClampLimit(%d) = %d, %v; want %d", tt.n, got, err, tt.want)
			}
		})
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := ClampLimit(-1)
		wantErr(t, err, lhk.EINVALID, "limit must not be negative, got -1")
	})
}

func TestCheckUserName(t *testing.T) {
	tests := []struct {
		name  string
		user  string
		valid bool
	}{
		{"CJK", "名前", true},
		{"Quote", `o'brien"`, true},
		{"MaxLength", strings.Repeat("a", MaxUserName), true},
		{"TooLong", strings.Repeat("a", MaxUserName+1), false},
		{"Empty", "", false},
		{"Space", "a b", false},
		{"Slash", "a/b", false},
		{"NUL", "a\x00b", false},
		{"InvalidUTF8", "a\xffb", false},
		{"ZeroWidthSpace", "admin\u200b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUserName(tt.user)
			if tt.valid {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, lhk.EINVALID, "user name")
		})
	}
}

func TestCheckNewUser(t *testing.T) {
	ok := lhk.User{Name: "alice", Role: lhk.RoleAnalyst}
	bad := func(f func(u *lhk.User)) *lhk.User { u := ok; f(&u); return &u }
	tests := []struct {
		name string
		u    *lhk.User
		hash string
		msg  string
	}{
		{"NoUser", nil, "h", "no user given"},
		{"Name", bad(func(u *lhk.User) { u.Name = "" }), "h", "user name"},
		{"Role", bad(func(u *lhk.User) { u.Role = "root" }), "h", `role "root": use admin, analyst or viewer`},
		{"Ceiling", bad(func(u *lhk.User) { u.Ceiling.Capabilities = []string{"no.such"} }), "h", ""},
		{"TokenHash", &ok, "", "empty token hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, CheckNewUser(tt.u, tt.hash), lhk.EINVALID, tt.msg)
		})
	}
	if err := CheckNewUser(&ok, "h"); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateUser(t *testing.T) {
	admin := lhk.RoleAdmin
	c := lhk.Ceiling{Tenants: []string{"acme"}}
	u := &lhk.User{Name: "alice", Role: lhk.RoleAnalyst, Ceiling: NormCeiling(lhk.Ceiling{})}
	d := UpdateUser(u, lhk.UserUpdate{Role: &admin, Ceiling: &c})
	if len(d) != 2 || d["role"] != (Change{lhk.RoleAnalyst, lhk.RoleAdmin}) || u.Role != admin {
		t.Errorf("detail %v, role %q", d, u.Role)
	}
	if u.Ceiling.Capabilities == nil || !slices.Equal(u.Ceiling.Tenants, []string{"acme"}) {
		t.Errorf("ceiling %+v, want normalised with tenant acme", u.Ceiling)
	}
	if d := UpdateUser(u, lhk.UserUpdate{Role: &admin, Ceiling: &c}); len(d) != 0 {
		t.Errorf("same values again: detail %v, want none", d)
	}
	bad := lhk.Role("root")
	wantErr(t, CheckUserUpdate(lhk.UserUpdate{Role: &bad}), lhk.EINVALID, `role "root"`)
}

func TestNewUpload(t *testing.T) {
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	wasm := []byte("\x00asm")
	u, err := NewUpload(ctx, &lhk.Version{Plugin: "report"}, wasm)
	if err != nil {
		t.Fatal(err)
	}
	if u.Uploader != "alice" || u.Size != 4 || len(u.SHA256) != 64 || u.Imports != "[]" || u.Exports != "[]" {
		t.Errorf("got %+v", u)
	}
	if _, err := NewUpload(ctx, &lhk.Version{Plugin: "report", SHA256: strings.ToUpper(u.SHA256), UploadedBy: "bob"}, wasm); err != nil {
		t.Errorf("upper-case sha256: %v", err)
	}
	var v lhk.Version
	now := time.Unix(1, 0).UTC()
	u.Fill(&v, 3, now)
	if v.Plugin != "report" || v.Number != 3 || v.Size != 4 || v.UploadedBy != "alice" || !v.UploadedAt.Equal(now) {
		t.Errorf("filled %+v", v)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name string
			v    *lhk.Version
			wasm []byte
			msg  string
		}{
			{"NoVersion", nil, wasm, "no version given"},
			{"Name", &lhk.Version{Plugin: "../etc"}, wasm, ""},
			{"Empty", &lhk.Version{Plugin: "report"}, nil, `plugin "report": empty module`},
			{"SHA256", &lhk.Version{Plugin: "report", SHA256: "00"}, wasm, "does not match the module"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := NewUpload(ctx, tt.v, tt.wasm)
				wantErr(t, err, lhk.EINVALID, tt.msg)
			})
		}
	})
}

func TestUpdatePlugin(t *testing.T) {
	ptr := func(s string) *string { return &s }
	num := func(n int) *int { return &n }
	old := lhk.Plugin{Name: "report", Entrypoint: "main", Config: map[string]string{"a": "1", "b": "2"}, Limits: lhk.DefaultLimits}

	t.Run("OK", func(t *testing.T) {
		p := old
		cfg := map[string]string{"a": "secret", "c": "3"}
		d, err := UpdatePlugin(&p, lhk.PluginUpdate{Description: ptr("new"), Entrypoint: ptr(""), Config: &cfg, TimeoutMS: num(1234)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Description != "new" || p.Entrypoint != lhk.DefaultEntrypoint || p.TimeoutMS != 1234 || !maps.Equal(p.Config, cfg) {
			t.Errorf("got %+v", p)
		}
		want := map[string][]string{"set": {"a", "c"}, "removed": {"b"}}
		if got, _ := d["config"].(map[string][]string); !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("config detail %v, want %v", d["config"], want)
		}
		if len(old.Config) != 2 || old.Config["a"] != "1" {
			t.Error("the old plugin's config was modified")
		}
		if _, ok := d["timeout_ms"]; !ok || len(d) != 4 {
			t.Errorf("detail %v", d)
		}
	})
	t.Run("ConfigSetUnset", func(t *testing.T) {
		p := old
		d, err := UpdatePlugin(&p, lhk.PluginUpdate{ConfigSet: map[string]string{"a": "9", "c": "3"}, ConfigUnset: []string{"b", "absent"}})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"a": "9", "c": "3"}; !maps.Equal(p.Config, want) {
			t.Errorf("config %v, want %v", p.Config, want)
		}
		want := map[string][]string{"set": {"a", "c"}, "removed": {"b"}}
		if got, _ := d["config"].(map[string][]string); !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("config detail %v, want %v", d["config"], want)
		}
		if len(old.Config) != 2 || old.Config["a"] != "1" {
			t.Error("the old plugin's config was modified")
		}
		// After a whole replacement, in the same update.
		p = old
		cfg := map[string]string{"x": "1"}
		if _, err := UpdatePlugin(&p, lhk.PluginUpdate{Config: &cfg, ConfigSet: map[string]string{"y": "2"}, ConfigUnset: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"y": "2"}; !maps.Equal(p.Config, want) || len(cfg) != 1 {
			t.Errorf("config %v, want %v; given map %v untouched", p.Config, want, cfg)
		}
		// On a plugin without config.
		p = old
		p.Config = nil
		if _, err := UpdatePlugin(&p, lhk.PluginUpdate{ConfigUnset: []string{"a"}}); err != nil || p.Config != nil && len(p.Config) != 0 {
			t.Errorf("unset on no config: %v, %v", p.Config, err)
		}
	})
	t.Run("ZeroRestoresDefault", func(t *testing.T) {
		p := old
		p.MemoryMB = 512
		d, err := UpdatePlugin(&p, lhk.PluginUpdate{MemoryMB: num(0)})
		if err != nil || p.MemoryMB != lhk.DefaultLimits.MemoryMB || d["memory_mb"] != (Change{512, lhk.DefaultLimits.MemoryMB}) {
			t.Errorf("memory %d, detail %v, %v", p.MemoryMB, d, err)
		}
	})
	t.Run("NothingChanged", func(t *testing.T) {
		p := old
		cfg := maps.Clone(old.Config)
		d, err := UpdatePlugin(&p, lhk.PluginUpdate{Entrypoint: ptr("main"), Config: &cfg, TimeoutMS: num(old.TimeoutMS)})
		if err != nil || len(d) != 0 {
			t.Errorf("detail %v, %v; want none", d, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := old
		_, err := UpdatePlugin(&p, lhk.PluginUpdate{Entrypoint: ptr(strings.Repeat("e", MaxEntrypoint+1))})
		wantErr(t, err, lhk.EINVALID, "entrypoint longer than 256 bytes")
		_, err = UpdatePlugin(&p, lhk.PluginUpdate{TimeoutMS: num(-1)})
		wantErr(t, err, lhk.EINVALID, "")
	})
}

func TestCheckInvocations(t *testing.T) {
	good := &lhk.Invocation{ID: "a", Plugin: "p", Status: lhk.StatusOK}
	tests := []struct {
		name string
		inv  *lhk.Invocation
		msg  string
	}{
		{"Nil", nil, "nil invocation"},
		{"NoID", &lhk.Invocation{Plugin: "p", Status: lhk.StatusOK}, "invocation without id"},
		{"NoPlugin", &lhk.Invocation{ID: "a", Status: lhk.StatusOK}, `invocation "a" without plugin`},
		{"Status", &lhk.Invocation{ID: "a", Plugin: "p", Status: "done"}, `invocation "a": unknown status "done"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, CheckInvocations([]*lhk.Invocation{good, tt.inv}, nil), lhk.EINVALID, tt.msg)
		})
	}
	t.Run("Keys", func(t *testing.T) {
		errKeys := lhk.Errorf(lhk.EINVALID, "keys")
		keys := func(id, plugin string) error { return errKeys }
		bad := &lhk.Invocation{ID: "a", Plugin: "p", Status: "done"}
		if err := CheckInvocations([]*lhk.Invocation{bad}, keys); !errors.Is(err, errKeys) {
			t.Errorf("got %v, want the keys check before the status", err)
		}
		if err := CheckInvocations([]*lhk.Invocation{{Plugin: "p"}}, keys); errors.Is(err, errKeys) {
			t.Error("keys ran for a record without id")
		}
	})
}

func TestNewSession(t *testing.T) {
	now := time.Unix(1000, 0).UTC()
	s := &lhk.Session{IDHash: "0123456789abcdef", TokenHash: "t", User: "alice", ExpiresAt: now.Add(time.Hour)}
	if err := NewSession(s, now); err != nil || !s.CreatedAt.Equal(now) {
		t.Fatalf("created %v, %v", s.CreatedAt, err)
	}
	if ref := SessionRef(s.IDHash); ref != "0123456789ab" {
		t.Errorf("ref %q", ref)
	}
	if ref := SessionRef("abc"); ref != "abc" {
		t.Errorf("ref of a short hash %q", ref)
	}
	tests := []struct {
		name string
		s    *lhk.Session
		msg  string
	}{
		{"Nil", nil, "session without id hash"},
		{"NoToken", &lhk.Session{IDHash: "i", User: "alice", ExpiresAt: now.Add(time.Hour)}, "session without token hash"},
		{"NoUser", &lhk.Session{IDHash: "i", TokenHash: "t", ExpiresAt: now.Add(time.Hour)}, "session without user"},
		{"Expired", &lhk.Session{IDHash: "i", TokenHash: "t", User: "alice", ExpiresAt: now}, "session expires in the past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, NewSession(tt.s, now), lhk.EINVALID, tt.msg)
		})
	}
}

func TestNewAuditEntry(t *testing.T) {
	ctx := lhk.NewContextWithActor(context.Background(), "alice")
	now := time.Unix(1000, 0).UTC()
	e, err := NewAuditEntry(ctx, lhk.AuditEntry{Action: "test.x"}, func() time.Time { return now })
	if err != nil || e.Actor != "alice" || !e.Time.Equal(now) || e.Detail != "{}" {
		t.Errorf("got %+v, %v", e, err)
	}
	_, err = NewAuditEntry(ctx, lhk.AuditEntry{}, time.Now)
	wantErr(t, err, lhk.EINVALID, "audit entry without action")
	_, err = NewAuditEntry(ctx, lhk.AuditEntry{Action: "test.x", Detail: "{"}, time.Now)
	wantErr(t, err, lhk.EINVALID, "audit detail of test.x is not JSON")
}

func TestDetails(t *testing.T) {
	tests := []struct {
		name   string
		detail any
		want   string
	}{
		{"UserCreate", UserCreateDetail(lhk.RoleViewer, NormCeiling(lhk.Ceiling{})), `{"ceiling":{"capabilities":[],"tenants":[]},"role":"viewer"}`},
		{"TokenSet", TokenSetDetail(), `{"rotated":true}`},
		{"VersionCreate", (&Upload{SHA256: "ab", Size: 4}).Detail(2), `{"sha256":"ab","size":4,"version":2}`},
		{"PluginDelete", PluginDeleteDetail("alice", 3), `{"owner":"alice","versions":3}`},
		{"ScheduleSet", ScheduleSetDetail(lhk.Schedule{Cron: "@daily", Enabled: true}), `{"cron":"@daily","enabled":true,"input":"","timezone":""}`},
		{"SessionDelete", SessionDeleteDetail("0123456789abcdef"), `{"session":"0123456789ab"}`},
		{"Change", Change{1, 2}, `{"from":1,"to":2}`},
		{"EmptyGrant", NormGrant(lhk.Grant{}), EmptyGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EncodeDetail(tt.detail)
			if err != nil || got != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
