package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// secretConfigValue is a plugin config value that must never reach the audit
// log: config often carries credentials for the systems a plugin calls.
const secretConfigValue = "s3cret-api-key-value"

// listAll is the largest page a listing must serve.
const listAll = 1000

func (s *suite) testAudit(t *testing.T) {
	bg := context.Background()
	str := func(v string) *string { return &v }
	num := func(v int) *int { return &v }
	admin := lhk.RoleAdmin

	t.Run("Mutations", func(t *testing.T) {
		r := s.fresh(t)
		tokens := []string{"lhk_alice_first", "lhk_bob", "lhk_alice_second"}

		// Each step is one mutation; want lists the actions it must write, all
		// with the step's actor and target.
		steps := []struct {
			name   string
			actor  string
			do     func(ctx context.Context) error
			target string
			want   []string
			check  func(t *testing.T, details map[string]map[string]any)
		}{
			{"CreateUser", "root", func(ctx context.Context) error {
				return r.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleAnalyst}, lhk.TokenHash(tokens[0]))
			}, "user/alice", []string{"user.create"}, nil},
			{"CreateUser2", "root", func(ctx context.Context) error {
				return r.CreateUser(ctx, &lhk.User{Name: "bob", Role: lhk.RoleAnalyst}, lhk.TokenHash(tokens[1]))
			}, "user/bob", []string{"user.create"}, nil},
			{"UpdateUser", "root", func(ctx context.Context) error {
				_, err := r.UpdateUser(ctx, "alice", lhk.UserUpdate{Role: &admin})
				return err
			}, "user/alice", []string{"user.update"}, func(t *testing.T, d map[string]map[string]any) {
				if !strings.Contains(fmt.Sprint(d["user.update"]), "admin") {
					t.Errorf("user.update detail %v does not name the new role", d["user.update"])
				}
			}},
			{"SetUserToken", "alice", func(ctx context.Context) error {
				return r.SetUserToken(ctx, "alice", lhk.TokenHash(tokens[2]))
			}, "user/alice", []string{"user.token"}, nil},
			{"CreateVersionNewPlugin", "alice", func(ctx context.Context) error {
				_, err := r.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, wasmFor("report", 1), "alice")
				return err
			}, "plugin/report", []string{"plugin.create", "version.create"}, nil},
			{"CreateVersion", "alice", func(ctx context.Context) error {
				_, err := r.CreateVersion(ctx, &lhk.Version{Plugin: "report"}, wasmFor("report", 2), "alice")
				return err
			}, "plugin/report", []string{"version.create"}, nil},
			{"UpdatePlugin", "alice", func(ctx context.Context) error {
				_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Description: str("weekly"), TimeoutMS: num(1000)})
				return err
			}, "plugin/report", []string{"plugin.update"}, func(t *testing.T, d map[string]map[string]any) {
				if _, ok := d["plugin.update"]["description"]; !ok {
					t.Errorf("plugin.update detail %v lacks description", d["plugin.update"])
				}
				if _, ok := d["plugin.update"]["timeout_ms"]; !ok {
					t.Errorf("plugin.update detail %v lacks timeout_ms", d["plugin.update"])
				}
			}},
			{"UpdatePluginConfig", "alice", func(ctx context.Context) error {
				_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Config: &map[string]string{"api_key": secretConfigValue}})
				return err
			}, "plugin/report", []string{"plugin.update"}, func(t *testing.T, d map[string]map[string]any) {
				if !strings.Contains(fmt.Sprint(d["plugin.update"]), "api_key") {
					t.Errorf("plugin.update detail %v does not name the config key", d["plugin.update"])
				}
			}},
			{"Rollback", "alice", func(ctx context.Context) error {
				_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{CurrentVersion: num(1)})
				return err
			}, "plugin/report", []string{"plugin.rollback"}, func(t *testing.T, d map[string]map[string]any) {
				if d["plugin.rollback"]["from"] != 2.0 || d["plugin.rollback"]["to"] != 1.0 {
					t.Errorf("plugin.rollback detail %v, want from 2 to 1", d["plugin.rollback"])
				}
			}},
			{"Transfer", "root", func(ctx context.Context) error {
				_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Owner: str("bob")})
				return err
			}, "plugin/report", []string{"plugin.transfer"}, func(t *testing.T, d map[string]map[string]any) {
				if d["plugin.transfer"]["from"] != "alice" || d["plugin.transfer"]["to"] != "bob" {
					t.Errorf("plugin.transfer detail %v, want from alice to bob", d["plugin.transfer"])
				}
			}},
			{"UpdateSeveral", "root", func(ctx context.Context) error {
				_, err := r.UpdatePlugin(ctx, "report", lhk.PluginUpdate{Description: str("d2"), CurrentVersion: num(2), Owner: str("alice")})
				return err
			}, "plugin/report", []string{"plugin.update", "plugin.rollback", "plugin.transfer"}, nil},
			{"SetGrant", "alice", func(ctx context.Context) error {
				return r.SetGrant(ctx, "report", lhk.Grant{Capabilities: []string{lhk.CapLogsRead}, Tenants: []string{"acme"}})
			}, "plugin/report", []string{"grant.set"}, func(t *testing.T, d map[string]map[string]any) {
				if !strings.Contains(fmt.Sprint(d["grant.set"]), lhk.CapLogsRead) {
					t.Errorf("grant.set detail %v does not hold the grant", d["grant.set"])
				}
			}},
			{"SetSchedule", "alice", func(ctx context.Context) error {
				return r.SetSchedule(ctx, "report", lhk.Schedule{Cron: "0 9 * * 1", Enabled: true})
			}, "plugin/report", []string{"schedule.set"}, func(t *testing.T, d map[string]map[string]any) {
				if !strings.Contains(fmt.Sprint(d["schedule.set"]), "0 9 * * 1") {
					t.Errorf("schedule.set detail %v does not hold the spec", d["schedule.set"])
				}
			}},
			{"DeleteSchedule", "alice", func(ctx context.Context) error {
				return r.DeleteSchedule(ctx, "report")
			}, "plugin/report", []string{"schedule.delete"}, nil},
			{"DeletePlugin", "bob", func(ctx context.Context) error {
				return r.DeletePlugin(ctx, "report")
			}, "plugin/report", []string{"plugin.delete"}, nil},
			{"Audit", "alice", func(ctx context.Context) error {
				return r.Audit(ctx, lhk.AuditEntry{Action: "webhook.set", Target: "plugin/report", Detail: `{"rotated":true}`})
			}, "plugin/report", []string{"webhook.set"}, nil},
		}

		var lastID int64
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				before, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
				ok(t, err)
				ok(t, st.do(as(st.actor)))
				after, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
				ok(t, err)
				if got := len(after) - len(before); got != len(st.want) {
					t.Fatalf("wrote %d audit entries, want %d (%v)", got, len(st.want), st.want)
				}
				fresh := after[:len(st.want)]
				var actions []string
				details := map[string]map[string]any{}
				for _, e := range fresh {
					actions = append(actions, e.Action)
					if e.Actor != st.actor || e.Target != st.target {
						t.Errorf("%s: actor %q target %q, want %q %q", e.Action, e.Actor, e.Target, st.actor, st.target)
					}
					if e.ID <= lastID {
						t.Errorf("%s: id %d not above the previous newest %d", e.Action, e.ID, lastID)
					}
					if e.Time.IsZero() {
						t.Errorf("%s: zero time", e.Action)
					}
					var d map[string]any
					if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
						t.Errorf("%s: detail %q is not a JSON object: %v", e.Action, e.Detail, err)
					}
					details[e.Action] = d
				}
				lastID = fresh[0].ID
				slices.Sort(actions)
				want := slices.Clone(st.want)
				slices.Sort(want)
				if !slices.Equal(actions, want) {
					t.Errorf("actions %v, want %v", actions, want)
				}
				if st.check != nil {
					st.check(t, details)
				}
			})
		}

		t.Run("NoSecrets", func(t *testing.T) {
			es, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
			ok(t, err)
			for _, e := range es {
				for _, tok := range tokens {
					if strings.Contains(e.Detail, tok) || strings.Contains(e.Detail, lhk.TokenHash(tok)) {
						t.Errorf("%s detail %s holds a token or its hash", e.Action, e.Detail)
					}
				}
				if strings.Contains(e.Detail, secretConfigValue) {
					t.Errorf("%s detail %s holds a config value", e.Action, e.Detail)
				}
			}
		})

		t.Run("NotAudited", func(t *testing.T) {
			before, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
			ok(t, err)
			ctx := as("alice")
			ok(t, r.PutInvocations(ctx, []*lhk.Invocation{{ID: "x", Plugin: "p", Status: lhk.StatusOK, StartedAt: t0}}))
			wantCode(t, r.CreateUser(ctx, &lhk.User{Name: "alice", Role: lhk.RoleViewer}, lhk.TokenHash("other")), lhk.ECONFLICT)
			_, err = r.UpdatePlugin(ctx, "nothing", lhk.PluginUpdate{Description: str("x")})
			wantCode(t, err, lhk.ENOTFOUND)
			wantCode(t, r.DeletePlugin(ctx, "nothing"), lhk.ENOTFOUND)
			wantCode(t, r.SetGrant(ctx, "nothing", lhk.Grant{}), lhk.ENOTFOUND)
			_, err = r.CreateVersion(ctx, &lhk.Version{Plugin: "new"}, wasmFor("new", 1), "ghost")
			wantCode(t, err, lhk.ENOTFOUND)
			_, err = r.Users(ctx)
			ok(t, err)
			after, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: listAll})
			ok(t, err)
			if len(after) != len(before) {
				t.Errorf("history, reads and failed mutations wrote %d audit entries; newest %+v", len(after)-len(before), after[0])
			}
		})
	})

	t.Run("DefaultActor", func(t *testing.T) {
		r := s.fresh(t)
		ok(t, r.CreateUser(bg, &lhk.User{Name: "admin", Role: lhk.RoleAdmin}, lhk.TokenHash("x")))
		es, err := r.AuditEntries(bg, lhk.AuditFilter{})
		ok(t, err)
		if len(es) != 1 || es[0].Actor != "system" {
			t.Errorf("got %+v, want one entry by system", es)
		}
	})

	t.Run("Append", func(t *testing.T) {
		r := s.fresh(t)
		at := t0.Add(time.Hour)
		ok(t, r.Audit(as("alice"), lhk.AuditEntry{Action: "webhook.set", Target: "plugin/a"}))
		ok(t, r.Audit(as("alice"), lhk.AuditEntry{Actor: "cron", Time: at, Action: "schedule.run", Target: "plugin/b", Detail: `{"n":1}`}))
		es, err := r.AuditEntries(bg, lhk.AuditFilter{})
		ok(t, err)
		if len(es) != 2 {
			t.Fatalf("got %d entries, want 2", len(es))
		}
		if e := es[0]; e.Actor != "cron" || !e.Time.Equal(at) || e.Action != "schedule.run" || e.Target != "plugin/b" || e.Detail != `{"n":1}` {
			t.Errorf("explicit entry %+v", e)
		}
		if e := es[1]; e.Actor != "alice" || e.Time.IsZero() || e.Action != "webhook.set" || !json.Valid([]byte(e.Detail)) {
			t.Errorf("defaulted entry %+v", e)
		}
		if es[0].ID <= es[1].ID {
			t.Errorf("ids %d, %d not increasing", es[1].ID, es[0].ID)
		}
		wantCode(t, r.Audit(bg, lhk.AuditEntry{Target: "plugin/a"}), lhk.EINVALID)
		wantCode(t, r.Audit(bg, lhk.AuditEntry{Action: "x.y", Detail: "not json"}), lhk.EINVALID)
	})

	t.Run("FiltersAndPaging", func(t *testing.T) {
		r := s.fresh(t)
		// 70 entries: actors a0..a1 alternate, targets t0..t6 cycle.
		for i := range 70 {
			ok(t, r.Audit(as(fmt.Sprintf("a%d", i%2)), lhk.AuditEntry{
				Action: "test.step", Target: fmt.Sprintf("t%d", i%7), Detail: fmt.Sprintf(`{"i":%d}`, i),
			}))
		}
		idx := func(e *lhk.AuditEntry) int {
			var d struct{ I int }
			_ = json.Unmarshal([]byte(e.Detail), &d)
			return d.I
		}
		all, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: 1000})
		ok(t, err)
		if len(all) != 70 || idx(all[0]) != 69 || idx(all[69]) != 0 {
			t.Fatalf("got %d entries, newest i=%d", len(all), idx(all[0]))
		}
		tests := []struct {
			name string
			f    lhk.AuditFilter
			want []int // the i of each entry
		}{
			{"Default", lhk.AuditFilter{}, nil}, // checked by count below
			{"Actor", lhk.AuditFilter{Actor: "a1", Limit: 3}, []int{69, 67, 65}},
			{"Target", lhk.AuditFilter{Target: "t3", Limit: 4}, []int{66, 59, 52, 45}},
			{"ActorAndTarget", lhk.AuditFilter{Actor: "a0", Target: "t0"}, []int{56, 42, 28, 14, 0}},
			{"Before", lhk.AuditFilter{Before: all[67].ID, Limit: 5}, []int{1, 0}},
			{"BeforeWithActor", lhk.AuditFilter{Before: all[60].ID, Actor: "a0", Limit: 2}, []int{8, 6}},
			{"NoMatch", lhk.AuditFilter{Actor: "nobody"}, []int{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				es, err := r.AuditEntries(bg, tt.f)
				ok(t, err)
				if tt.want == nil {
					if len(es) != 50 || idx(es[0]) != 69 {
						t.Errorf("default limit gave %d entries, want the newest 50", len(es))
					}
					return
				}
				got := []int{}
				for _, e := range es {
					got = append(got, idx(e))
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
		t.Run("Paging", func(t *testing.T) {
			var got []int
			f := lhk.AuditFilter{Limit: 30}
			for range 5 {
				es, err := r.AuditEntries(bg, f)
				ok(t, err)
				if len(es) == 0 {
					break
				}
				for _, e := range es {
					got = append(got, idx(e))
				}
				f.Before = es[len(es)-1].ID
			}
			if len(got) != 70 || got[0] != 69 || got[69] != 0 || !slices.IsSortedFunc(got, func(a, b int) int { return b - a }) {
				t.Errorf("pages gave %v", got)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			_, err := r.AuditEntries(bg, lhk.AuditFilter{Limit: -1})
			wantCode(t, err, lhk.EINVALID)
		})
	})
}
