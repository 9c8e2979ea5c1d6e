package registrytest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

func (s *suite) testUsers(t *testing.T) {
	ctx := as("admin")

	t.Run("CreateUser/OK", func(t *testing.T) {
		r := s.fresh(t)
		u := &lhk.User{Name: "alice", Role: lhk.RoleAnalyst, Ceiling: lhk.Ceiling{
			Capabilities: []string{lhk.CapLogsRead, lhk.CapTicketsWrite}, Tenants: []string{"acme"},
		}}
		ok(t, r.CreateUser(ctx, u, lhk.TokenHash("t1")))
		if u.CreatedAt.IsZero() {
			t.Error("CreatedAt not set")
		}
		got, err := r.User(context.Background(), "alice")
		ok(t, err)
		if got.Name != "alice" || got.Role != lhk.RoleAnalyst || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("got %+v, want %+v", got, u)
		}
		if !sameStrings(got.Ceiling.Capabilities, u.Ceiling.Capabilities) || !sameStrings(got.Ceiling.Tenants, u.Ceiling.Tenants) {
			t.Errorf("ceiling %+v, want %+v", got.Ceiling, u.Ceiling)
		}
	})

	t.Run("CreateUser/ErrConflict", func(t *testing.T) {
		tests := []struct {
			name      string
			user      string
			tokenHash string
		}{
			{"SameName", "alice", lhk.TokenHash("other")},
			{"SameTokenHash", "bob", lhk.TokenHash("t1")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := s.fresh(t)
				ok(t, r.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, lhk.TokenHash("t1")))
				err := r.CreateUser(ctx, &lhk.User{Name: tt.user, Role: lhk.RoleViewer}, tt.tokenHash)
				wantCode(t, err, lhk.ECONFLICT)
				us, err := r.Users(context.Background())
				ok(t, err)
				if len(us) != 1 {
					t.Errorf("got %d users after a conflict, want 1", len(us))
				}
			})
		}
	})

	t.Run("CreateUser/ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name      string
			user      *lhk.User
			tokenHash string
		}{
			{"EmptyName", &lhk.User{Role: lhk.RoleAnalyst}, lhk.TokenHash("x")},
			{"UnknownRole", &lhk.User{Name: "a", Role: "root"}, lhk.TokenHash("x")},
			{"EmptyRole", &lhk.User{Name: "a"}, lhk.TokenHash("x")},
			{"EmptyTokenHash", &lhk.User{Name: "a", Role: lhk.RoleAnalyst}, ""},
			{"UnknownCapability", &lhk.User{Name: "a", Role: lhk.RoleAnalyst, Ceiling: lhk.Ceiling{Capabilities: []string{"root.shell"}}}, lhk.TokenHash("x")},
			{"EmptyTenant", &lhk.User{Name: "a", Role: lhk.RoleAnalyst, Ceiling: lhk.Ceiling{Tenants: []string{""}}}, lhk.TokenHash("x")},
		}
		r := s.fresh(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantCode(t, r.CreateUser(ctx, tt.user, tt.tokenHash), lhk.EINVALID)
			})
		}
		us, err := r.Users(context.Background())
		ok(t, err)
		if len(us) != 0 {
			t.Errorf("got %d users after invalid creates, want 0", len(us))
		}
	})

	// Names a careless or malicious client might send: each is either
	// refused with EINVALID or stored and read back exactly.
	t.Run("CreateUser/Names", func(t *testing.T) {
		tests := []struct {
			name  string
			user  string
			valid bool
		}{
			{"CJK", "名前", true},
			{"Accents", "zoë-ångström", true},
			{"Emoji", "🦊fox", true},
			{"Arabic", "مرحبا", true},
			{"SQL", `x');DROP--`, true},
			{"Quote", `o'brien"`, true},
			{"MaxLength", strings.Repeat("a", 128), true},
			{"TooLong", strings.Repeat("a", 129), false},
			{"TooLongMultibyte", strings.Repeat("名", 43), false},
			{"Empty", "", false},
			{"Space", "a b", false},
			{"Slash", "a/b", false},
			{"NUL", "a\x00b", false},
			{"Newline", "a\nb", false},
			{"InvalidUTF8", "a\xffb", false},
			{"ZeroWidthSpace", "admin\u200b", false},
			{"RightToLeftOverride", "\u202enimda", false},
		}
		r := s.fresh(t)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				hash := lhk.TokenHash(fmt.Sprint("token-", i))
				err := r.CreateUser(ctx, &lhk.User{Name: tt.user, Role: lhk.RoleAnalyst}, hash)
				if !tt.valid {
					wantCode(t, err, lhk.EINVALID)
					return
				}
				ok(t, err)
				u, err := r.UserByTokenHash(context.Background(), hash)
				ok(t, err)
				if u.Name != tt.user {
					t.Errorf("got %q, want %q", u.Name, tt.user)
				}
			})
		}
	})

	t.Run("User/ErrNotFound", func(t *testing.T) {
		r := s.fresh(t)
		_, err := r.User(context.Background(), "nobody")
		wantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("Users/ByName", func(t *testing.T) {
		r := s.fresh(t)
		us, err := r.Users(context.Background())
		ok(t, err)
		if len(us) != 0 {
			t.Fatalf("empty store lists %d users", len(us))
		}
		for _, n := range []string{"carol", "alice", "bob"} {
			createUser(t, r, n, lhk.RoleAnalyst)
		}
		us, err = r.Users(context.Background())
		ok(t, err)
		var names []string
		for _, u := range us {
			names = append(names, u.Name)
		}
		if want := []string{"alice", "bob", "carol"}; !sameStrings(names, want) {
			t.Errorf("got %v, want %v", names, want)
		}
	})

	t.Run("UserByTokenHash", func(t *testing.T) {
		r := s.fresh(t)
		ta := createUser(t, r, "alice", lhk.RoleAnalyst)
		tb := createUser(t, r, "bob", lhk.RoleViewer)
		tests := []struct {
			name  string
			hash  string
			want  string
			wantC string
		}{
			{"OK/alice", lhk.TokenHash(ta), "alice", ""},
			{"OK/bob", lhk.TokenHash(tb), "bob", ""},
			{"ErrNotFound/Unknown", lhk.TokenHash("lhk_nope"), "", lhk.ENOTFOUND},
			{"ErrNotFound/Empty", "", "", lhk.ENOTFOUND},
			{"ErrNotFound/TokenNotHash", ta, "", lhk.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u, err := r.UserByTokenHash(context.Background(), tt.hash)
				if tt.wantC != "" {
					wantCode(t, err, tt.wantC)
					return
				}
				ok(t, err)
				if u.Name != tt.want {
					t.Errorf("got user %q, want %q", u.Name, tt.want)
				}
			})
		}
	})

	t.Run("UpdateUser", func(t *testing.T) {
		admin, analyst := lhk.RoleAdmin, lhk.RoleAnalyst
		bad := lhk.Role("root")
		ceiling := lhk.Ceiling{Capabilities: []string{lhk.CapLogsRead}, Tenants: []string{"*"}}
		tests := []struct {
			name     string
			upd      lhk.UserUpdate
			wantRole lhk.Role
			wantCeil lhk.Ceiling
			wantC    string
		}{
			{"OK/Role", lhk.UserUpdate{Role: &admin}, lhk.RoleAdmin, lhk.Ceiling{}, ""},
			{"OK/Ceiling", lhk.UserUpdate{Ceiling: &ceiling}, lhk.RoleViewer, ceiling, ""},
			{"OK/Both", lhk.UserUpdate{Role: &analyst, Ceiling: &ceiling}, lhk.RoleAnalyst, ceiling, ""},
			{"OK/Nothing", lhk.UserUpdate{}, lhk.RoleViewer, lhk.Ceiling{}, ""},
			{"ErrInvalid/Role", lhk.UserUpdate{Role: &bad}, "", lhk.Ceiling{}, lhk.EINVALID},
			{"ErrInvalid/Ceiling", lhk.UserUpdate{Ceiling: &lhk.Ceiling{Capabilities: []string{"nope"}}}, "", lhk.Ceiling{}, lhk.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := s.fresh(t)
				createUser(t, r, "bob", lhk.RoleViewer)
				u, err := r.UpdateUser(ctx, "bob", tt.upd)
				if tt.wantC != "" {
					wantCode(t, err, tt.wantC)
					got, err := r.User(context.Background(), "bob")
					ok(t, err)
					if got.Role != lhk.RoleViewer {
						t.Errorf("failed update changed role to %q", got.Role)
					}
					return
				}
				ok(t, err)
				got, err := r.User(context.Background(), "bob")
				ok(t, err)
				for _, u := range []*lhk.User{u, got} {
					if u.Role != tt.wantRole || !sameStrings(u.Ceiling.Capabilities, tt.wantCeil.Capabilities) ||
						!sameStrings(u.Ceiling.Tenants, tt.wantCeil.Tenants) {
						t.Errorf("got %+v, want role %q ceiling %+v", u, tt.wantRole, tt.wantCeil)
					}
				}
			})
		}
		t.Run("ErrNotFound", func(t *testing.T) {
			r := s.fresh(t)
			_, err := r.UpdateUser(ctx, "nobody", lhk.UserUpdate{Role: &admin})
			wantCode(t, err, lhk.ENOTFOUND)
		})
	})

	t.Run("SetUserToken", func(t *testing.T) {
		t.Run("OK/Rotation", func(t *testing.T) {
			r := s.fresh(t)
			old := createUser(t, r, "alice", lhk.RoleAnalyst)
			ok(t, r.SetUserToken(ctx, "alice", lhk.TokenHash("lhk_new")))
			_, err := r.UserByTokenHash(context.Background(), lhk.TokenHash(old))
			wantCode(t, err, lhk.ENOTFOUND)
			u, err := r.UserByTokenHash(context.Background(), lhk.TokenHash("lhk_new"))
			ok(t, err)
			if u.Name != "alice" {
				t.Errorf("new token finds %q, want alice", u.Name)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			r := s.fresh(t)
			wantCode(t, r.SetUserToken(ctx, "nobody", lhk.TokenHash("x")), lhk.ENOTFOUND)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			r := s.fresh(t)
			createUser(t, r, "alice", lhk.RoleAnalyst)
			tb := createUser(t, r, "bob", lhk.RoleAnalyst)
			wantCode(t, r.SetUserToken(ctx, "alice", lhk.TokenHash(tb)), lhk.ECONFLICT)
			u, err := r.UserByTokenHash(context.Background(), lhk.TokenHash(tb))
			ok(t, err)
			if u.Name != "bob" {
				t.Errorf("bob's token now finds %q", u.Name)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			r := s.fresh(t)
			createUser(t, r, "alice", lhk.RoleAnalyst)
			wantCode(t, r.SetUserToken(ctx, "alice", ""), lhk.EINVALID)
		})
	})
}
