package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/sqlite"
)

// fixedScheduler answers next runs an hour apart from a fixed time.
type fixedScheduler struct{}

func (fixedScheduler) Validate(lhk.Schedule) error { return nil }
func (fixedScheduler) Next(_ lhk.Schedule, _ time.Time, n int) ([]time.Time, error) {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = time.Date(2030, 1, 1, i, 0, 0, 0, time.UTC)
	}
	return out, nil
}
func (fixedScheduler) Refresh(context.Context, string) error { return nil }

type listAnswer struct {
	Plugins []struct {
		Name                 string   `json:"name"`
		NextRuns             []string `json:"next_runs"`
		CapabilitiesRequired []string `json:"capabilities_required"`
		CapabilitiesMissing  []string `json:"capabilities_missing"`
		Summary              *struct {
			Last   *runJSON  `json:"last"`
			Recent []runJSON `json:"recent"`
		} `json:"summary"`
	} `json:"plugins"`
	Offset  int  `json:"offset"`
	Limit   int  `json:"limit"`
	HasMore bool `json:"has_more"`
}

func TestListPlugins(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lhk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := lhk.NewContextWithActor(context.Background(), "admin")
	if err := db.CreateUser(ctx, &lhk.User{Name: "admin", Role: lhk.RoleAdmin}, lhk.TokenHash(testAdminToken)); err != nil {
		t.Fatal(err)
	}
	// p-00 … p-24 and weekly-report; weekly-report imports lhk.logs_search.
	names := []string{"weekly-report"}
	for i := range 25 {
		names = append(names, fmt.Sprintf("p-%02d", i))
	}
	for _, n := range names {
		v := &lhk.Version{Plugin: n}
		if n == "weekly-report" {
			v.Imports = []lhk.Import{{Module: "lhk", Name: "logs_search"}, {Module: "extism:host/env", Name: "input_length"}}
		}
		if _, err := db.CreateVersion(ctx, v, []byte("\x00asm fake "+n), "admin"); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetSchedule(ctx, "p-01", lhk.Schedule{Cron: "@hourly", Timezone: "Asia/Tokyo", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	// p-01 ran 30 times, the newest an error; p-02 is running now.
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var invs []*lhk.Invocation
	for i := range 30 {
		st := lhk.StatusOK
		if i == 29 {
			st = lhk.StatusError
		}
		invs = append(invs, &lhk.Invocation{ID: fmt.Sprintf("run-%02d", i), Plugin: "p-01", Status: st, Trigger: lhk.TriggerCron,
			StartedAt: t0.Add(time.Duration(i) * time.Minute), DurationMS: float64(i), Output: []byte("out"),
			Logs: []lhk.LogLine{{Level: "info", Message: "x"}}})
	}
	invs = append(invs, &lhk.Invocation{ID: "live", Plugin: "p-02", Status: lhk.StatusRunning, Trigger: lhk.TriggerHTTP, StartedAt: t0})
	if err := db.PutInvocations(ctx, invs); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Config{Users: db, Plugins: db, Invocations: db, Audit: db, Scheduler: fixedScheduler{},
		Functions: []lhk.HostFunction{{Name: "logs_search", Capability: lhk.CapLogsRead}}}))
	defer srv.Close()
	list := func(t *testing.T, query string) listAnswer {
		t.Helper()
		res, body := call(t, srv, "GET", "/v1/plugins?"+query, nil, "", "Authorization", "Bearer "+testAdminToken)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /v1/plugins?%s = %d: %s", query, res.StatusCode, body)
		}
		var a listAnswer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	namesOf := func(a listAnswer) string {
		var ns []string
		for _, p := range a.Plugins {
			ns = append(ns, p.Name)
		}
		return strings.Join(ns, ",")
	}

	t.Run("Pages", func(t *testing.T) {
		tests := []struct {
			query, want string
			more        bool
		}{
			{"limit=3", "p-00,p-01,p-02", true},
			{"limit=3&offset=24", "p-24,weekly-report", false},
			{"limit=2&offset=24", "p-24,weekly-report", false},
			{"q=report", "weekly-report", false},
			{"q=P-1&limit=4", "p-10,p-11,p-12,p-13", true},
			{"q=nothing", "", false},
		}
		for _, tt := range tests {
			a := list(t, tt.query)
			if got := namesOf(a); got != tt.want || a.HasMore != tt.more {
				t.Errorf("%s: got %s has_more=%v, want %s has_more=%v", tt.query, got, a.HasMore, tt.want, tt.more)
			}
		}
		if a := list(t, ""); len(a.Plugins) != 26 || a.Limit != 100 {
			t.Errorf("default page: %d plugins, limit %d", len(a.Plugins), a.Limit)
		}
		if a := list(t, "summary=true&limit=5000"); a.Limit != maxSummaryPlugins {
			t.Errorf("summary page limit %d, want %d", a.Limit, maxSummaryPlugins)
		}
	})

	t.Run("Summary", func(t *testing.T) {
		a := list(t, "limit=3&summary=true")
		if len(a.Plugins) != 3 {
			t.Fatalf("got %s", namesOf(a))
		}
		p0, p1, p2 := a.Plugins[0], a.Plugins[1], a.Plugins[2]
		if p0.Summary == nil || p0.Summary.Last != nil || len(p0.Summary.Recent) != 0 {
			t.Errorf("p-00 never ran: summary %+v", p0.Summary)
		}
		s := p1.Summary
		if s == nil || s.Last == nil || s.Last.ID != "run-29" || s.Last.Status != lhk.StatusError || len(s.Recent) != summaryRuns {
			t.Fatalf("p-01 summary %+v", s)
		}
		if s.Recent[0].DurationMS != 10 || s.Recent[summaryRuns-1].DurationMS != 29 || s.Recent[0].Trigger != lhk.TriggerCron || s.Recent[0].ID != "" {
			t.Errorf("p-01 recent runs are not the newest 20, oldest first: %+v", s.Recent)
		}
		if len(p1.NextRuns) != 5 {
			t.Errorf("p-01 next runs %v", p1.NextRuns)
		}
		if p2.Summary == nil || p2.Summary.Last == nil || p2.Summary.Last.Status != lhk.StatusRunning {
			t.Errorf("p-02 summary %+v, want its running run", p2.Summary)
		}
		if b := list(t, "limit=3"); b.Plugins[1].Summary != nil {
			t.Errorf("summary without summary=true")
		}
	})

	t.Run("Capabilities", func(t *testing.T) {
		a := list(t, "q=weekly")
		p := a.Plugins[0]
		if !slices.Equal(p.CapabilitiesRequired, []string{lhk.CapLogsRead}) || !slices.Equal(p.CapabilitiesMissing, []string{lhk.CapLogsRead}) {
			t.Errorf("required %v missing %v, want logs.read for both", p.CapabilitiesRequired, p.CapabilitiesMissing)
		}
		if err := db.SetGrant(ctx, "weekly-report", lhk.Grant{Capabilities: []string{lhk.CapLogsRead}, Tenants: []string{"acme"}}); err != nil {
			t.Fatal(err)
		}
		res, body := call(t, srv, "GET", "/v1/plugins/weekly-report", nil, "", "Authorization", "Bearer "+testAdminToken)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"capabilities_missing":[]`) ||
			!strings.Contains(string(body), `"capabilities_required":["logs.read"]`) {
			t.Errorf("detail after the grant = %d %s", res.StatusCode, body)
		}
	})
}
