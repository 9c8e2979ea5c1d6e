package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// fakeLibrary answers from events and filters in memory, with the semantics
// of the log store: conditions AND-ed, eq exact, contains case-insensitive,
// exists; apply_filters drops events an active filter matches.
type fakeLibrary struct {
	tenant  string
	now     time.Time
	events  []pdk.Event
	filters []pdk.Filter
	deleted []string
	calls   int
	failOn  string // a field whose Top fails with unavailable
}

func matches(e pdk.Event, cs []pdk.Condition) bool {
	for _, c := range cs {
		v, has := e[c.Field]
		s := fmt.Sprint(v)
		switch c.Op {
		case pdk.OpExists:
			if !has {
				return false
			}
		case pdk.OpEq:
			if !has || s != fmt.Sprint(c.Value) {
				return false
			}
		case pdk.OpContains:
			if !has || !strings.Contains(strings.ToLower(s), strings.ToLower(fmt.Sprint(c.Value))) {
				return false
			}
		default:
			panic("fake: op " + c.Op)
		}
	}
	return true
}

func (f *fakeLibrary) match(tenant string, from, to time.Time, cs []pdk.Condition, applyFilters bool, query ...string) []pdk.Event {
	var out []pdk.Event
	for _, e := range f.events {
		ts := e.Time()
		if tenant != f.tenant || ts.Before(from) || !ts.Before(to) || !matches(e, cs) {
			continue
		}
		text := strings.ToLower(fmt.Sprint(map[string]any(e)))
		if slices.ContainsFunc(query, func(q string) bool {
			return slices.ContainsFunc(strings.Fields(strings.ToLower(q)), func(w string) bool { return !strings.Contains(text, w) })
		}) {
			continue
		}
		if applyFilters && slices.ContainsFunc(f.filters, func(fl pdk.Filter) bool { return fl.Active(f.now) && matches(e, fl.Conditions) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (f *fakeLibrary) ListFilters(tenant string, includeExpired bool) ([]pdk.Filter, error) {
	f.calls++
	var out []pdk.Filter
	for _, fl := range f.filters {
		if fl.Tenant == tenant && (includeExpired || fl.Active(f.now)) {
			out = append(out, fl)
		}
	}
	return out, nil
}

func (f *fakeLibrary) FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error) {
	f.calls++
	var out []pdk.FilterStat
	for _, fl := range f.filters {
		out = append(out, pdk.FilterStat{Name: fl.Name, Hits: int64(len(f.match(tenant, from, to, fl.Conditions, false)))})
	}
	return out, nil
}

func (f *fakeLibrary) DeleteFilter(tenant, name string) error {
	f.calls++
	i := slices.IndexFunc(f.filters, func(fl pdk.Filter) bool { return fl.Tenant == tenant && fl.Name == name })
	if i < 0 {
		return &pdk.Error{Code: pdk.CodeNotFound, Message: "no filter " + name}
	}
	f.filters = slices.Delete(f.filters, i, i+1)
	f.deleted = append(f.deleted, name)
	return nil
}

func (f *fakeLibrary) Top(r pdk.TopRequest) (*pdk.TopResult, error) {
	f.calls++
	if r.Field == f.failOn {
		return nil, &pdk.Error{Code: pdk.CodeUnavailable, Message: "logs down"}
	}
	counts := map[string]int64{}
	res := &pdk.TopResult{Field: r.Field, Buckets: []pdk.Bucket{}}
	for _, e := range f.match(r.Tenant, r.From, r.To, r.Fields, r.ApplyFilters, r.Query) {
		if v, ok := e[r.Field]; ok {
			counts[fmt.Sprint(v)]++
			res.Total++
		}
	}
	for v, n := range counts {
		res.Buckets = append(res.Buckets, pdk.Bucket{Value: v, Count: n})
	}
	slices.SortFunc(res.Buckets, func(a, b pdk.Bucket) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
	})
	if len(res.Buckets) > r.Limit {
		res.Buckets = res.Buckets[:r.Limit]
	}
	res.Other = res.Total
	for _, b := range res.Buckets {
		res.Other -= b.Count
	}
	return res, nil
}

func (f *fakeLibrary) Count(r pdk.CountRequest) (*pdk.CountResult, error) {
	f.calls++
	return &pdk.CountResult{Count: int64(len(f.match(r.Tenant, r.From, r.To, r.Fields, false)))}, nil
}

// Conditions of the scenario's story and noise, for assertions.
var (
	storyConds = [][]pdk.Condition{
		{pdk.Eq("user.name", "hsato")},
		{pdk.Eq("destination.ip", "203.0.113.66")},
		{pdk.Eq("host.name", "ACME-WS-017"), pdk.Eq("process.name", "powershell.exe")},
	}
	noiseConds = map[string][]pdk.Condition{
		"backup":  {pdk.Eq("event.code", "4625"), pdk.Eq("user.target.name", "svc_backup")},
		"zabbix":  {pdk.Eq("event.code", "22"), pdk.Eq("process.name", "zabbix_agent2.exe")},
		"netbios": {pdk.Eq("event.action", "deny"), pdk.Eq("destination.port", "137")},
	}
)

// scenario is a month of acme: three noise patterns, a pattern already
// filtered, a varied background, and the attack: encoded PowerShell started
// by Word on ACME-WS-017 beaconing to 203.0.113.66 (Sysmon, proxy and
// firewall), which is frequent enough to be a candidate in every shape.
func scenario(t *testing.T) *fakeLibrary {
	t.Helper()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f := &fakeLibrary{tenant: "acme", now: now}
	i := 0
	add := func(n int, fn func(k int) pdk.Event) {
		for k := range n {
			e := fn(k)
			e["@timestamp"] = now.Add(-time.Duration(i%(29*24*60)+1) * time.Minute).Format(time.RFC3339)
			i += 37
			f.events = append(f.events, e)
		}
	}
	ws := func(k int) string { return fmt.Sprintf("ACME-WS-%03d", k%17+1) }
	add(300, func(int) pdk.Event {
		return pdk.Event{"event.code": "4625", "host.name": "ACME-FS-01", "user.name": "-", "user.target.name": "svc_backup", "source.ip": "10.20.0.50"}
	})
	add(400, func(k int) pdk.Event {
		return pdk.Event{"event.code": "22", "host.name": ws(k), "process.name": "zabbix_agent2.exe", "user.name": "SYSTEM"}
	})
	add(200, func(k int) pdk.Event {
		return pdk.Event{"event.dataset": "firewall", "event.action": "deny", "destination.port": 137, "source.ip": fmt.Sprintf("10.20.1.%d", k%17+1)}
	})
	add(500, func(int) pdk.Event {
		return pdk.Event{"event.code": "4624", "host.name": "ACME-DC-01", "user.name": "scanner"}
	})
	add(600, func(k int) pdk.Event {
		return pdk.Event{"event.code": "1", "host.name": ws(k + k/17), "user.name": fmt.Sprintf("user%02d", k%13), "process.name": []string{"chrome.exe", "excel.exe", "notepad.exe", "teams.exe", "onedrive.exe", "cmd.exe"}[k%6]}
	})
	add(300, func(k int) pdk.Event {
		return pdk.Event{"event.dataset": "firewall", "event.action": "allow", "destination.port": 443, "destination.ip": fmt.Sprintf("198.51.100.%d", k%40)}
	})
	// The attack.
	add(1, func(int) pdk.Event {
		return pdk.Event{"event.code": "1", "host.name": "ACME-WS-017", "user.name": "hsato", "process.name": "powershell.exe", "process.entity_id": "{G1}",
			"process.parent.name": "WINWORD.EXE", "process.command_line": `"powershell.exe" -nop -w hidden -enc JABjAGwAaQBlAG4AdAA9AE4AZQB3AC0ATwBiAGoAZQBjAHQA`}
	})
	add(250, func(int) pdk.Event {
		return pdk.Event{"event.code": "3", "host.name": "ACME-WS-017", "user.name": "hsato", "process.name": "powershell.exe", "process.entity_id": "{G1}", "destination.ip": "203.0.113.66", "destination.port": 443}
	})
	add(250, func(int) pdk.Event {
		return pdk.Event{"event.dataset": "proxy", "event.action": "allowed", "user.name": "hsato", "destination.ip": "203.0.113.66", "destination.port": 443}
	})
	add(250, func(int) pdk.Event {
		return pdk.Event{"event.dataset": "firewall", "event.action": "allow", "destination.ip": "203.0.113.66", "destination.port": 443}
	})
	created := now.AddDate(0, -3, 0)
	yesterday, later := now.AddDate(0, 0, -1), now.AddDate(0, 1, 0)
	f.filters = []pdk.Filter{
		{Tenant: "acme", Name: "scanner-logons", Owner: "alice", CreatedAt: created, Conditions: []pdk.Condition{pdk.Eq("event.code", "4624"), pdk.Eq("user.name", "scanner")}},
		{Tenant: "acme", Name: "old-av-updates", Owner: "bob", Reason: "retired AV", CreatedAt: created, ExpiresAt: &later, Conditions: []pdk.Condition{pdk.Eq("process.name", "oldav.exe")}},
		{Tenant: "acme", Name: "pentest-2026-10", Owner: "alice", CreatedAt: created, ExpiresAt: &yesterday, Conditions: []pdk.Condition{pdk.Eq("source.ip", "10.99.0.1")}},
	}
	return f
}

// eventsOf returns the scenario's events matching every conditions set.
func (f *fakeLibrary) eventsOf(cs ...[]pdk.Condition) int {
	all := slices.Concat(cs...)
	return len(f.match(f.tenant, f.now.AddDate(-1, 0, 0), f.now, all, false))
}

func TestUpkeep(t *testing.T) {
	f := scenario(t)
	r, err := Upkeep(f, "acme", f.now, 30, DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if r.Events != 3051 {
		t.Errorf("events = %d, want 3051", r.Events)
	}
	if len(r.Expired) != 1 || r.Expired[0].Name != "pentest-2026-10" || r.Expired[0].Deleted {
		t.Errorf("expired = %+v, want pentest-2026-10, reported, not deleted", r.Expired)
	}
	if len(f.deleted) != 0 || len(f.filters) != 3 {
		t.Errorf("filters changed without delete_expired: deleted %v", f.deleted)
	}
	if len(r.Stale) != 1 || r.Stale[0].Name != "old-av-updates" || r.Stale[0].Owner != "bob" {
		t.Errorf("stale = %+v, want old-av-updates", r.Stale)
	}

	var proposed []string
	for _, p := range r.Proposals {
		proposed = append(proposed, p.Name)
		// Never a story event.
		for _, sc := range storyConds {
			if n := f.eventsOf(p.Conditions, sc); n > 0 {
				t.Errorf("proposal %s covers %d story events (%v)", p.Name, n, sc)
			}
		}
		// Never what a filter already covers.
		if n := f.eventsOf(p.Conditions, []pdk.Condition{pdk.Eq("user.name", "scanner")}); n > 0 {
			t.Errorf("proposal %s covers %d filtered events", p.Name, n)
		}
		if p.Events != int64(f.eventsOf(p.Conditions)) {
			t.Errorf("proposal %s says %d events, its conditions match %d", p.Name, p.Events, f.eventsOf(p.Conditions))
		}
		if p.Filter.Tenant != "acme" || !slices.Equal(p.Filter.Conditions, p.Conditions) || !p.Filter.ExpiresAt.After(f.now) || p.Why == "" {
			t.Errorf("proposal %s: filter draft %+v, why %q", p.Name, p.Filter, p.Why)
		}
	}
	for name, nc := range noiseConds {
		found := slices.ContainsFunc(r.Proposals, func(p Proposal) bool {
			n := f.eventsOf(p.Conditions)
			return n > 0 && f.eventsOf(p.Conditions, nc) == n
		})
		if !found {
			t.Errorf("no proposal for the %s noise; proposed %v, withheld %+v", name, proposed, r.Withheld)
		}
	}
	if len(r.Proposals) > DefaultConfig.MaxProposals {
		t.Errorf("%d proposals, at most %d", len(r.Proposals), DefaultConfig.MaxProposals)
	}
	// The attack's frequent patterns were seen and withheld, with a reason.
	withheld := map[string]string{}
	for _, w := range r.Withheld {
		b, _ := json.Marshal(w.Conditions)
		withheld[string(b)] = w.Reason
	}
	for conds, want := range map[string]string{
		`[{"field":"host.name","op":"eq","value":"ACME-WS-017"},{"field":"process.name","op":"eq","value":"powershell.exe"}]`: "host.name ACME-WS-017 showed encoded PowerShell",
		`[{"field":"event.code","op":"eq","value":"3"},{"field":"process.name","op":"eq","value":"powershell.exe"}]`:          "process.name powershell.exe showed",
		`[{"field":"event.action","op":"eq","value":"allow"},{"field":"destination.port","op":"eq","value":"443"}]`:           "destination 203.0.113.66, contacted by a process that showed",
		`[{"field":"event.action","op":"eq","value":"allowed"},{"field":"destination.port","op":"eq","value":"443"}]`:         "user hsato",
	} {
		if !strings.Contains(withheld[conds], want) {
			t.Errorf("withheld %s: reason %q, want %q", conds, withheld[conds], want)
		}
	}

	md := Markdown(r, false)
	t.Logf("%d queries:\n%s", r.Calls, md)
	for _, want := range []string{"## Filter upkeep: acme", "`pentest-2026-10`", "reported: renew it", "`old-av-updates`", "### Proposed suppressions", "/v1/filters/upsert", "Frequent patterns not proposed"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if n := Notification(r, "soc", md); n.Channel != "soc" || n.Tenant != "acme" || n.Severity != pdk.SeverityMedium || n.Fields["proposals"] != fmt.Sprint(len(r.Proposals)) {
		t.Errorf("notification = %+v", n)
	}
	if r.Calls != f.calls || r.Calls > 250 {
		t.Errorf("calls counted %d, made %d", r.Calls, f.calls)
	}
}

func TestUpkeepDeleteExpired(t *testing.T) {
	f := scenario(t)
	cfg := DefaultConfig
	cfg.DeleteExpired = true
	cfg.MaxProposals = 0
	r, err := Upkeep(f, "acme", f.now, 30, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.deleted, []string{"pentest-2026-10"}) || len(r.Expired) != 1 || !r.Expired[0].Deleted {
		t.Errorf("deleted %v, expired %+v", f.deleted, r.Expired)
	}
	if len(r.Proposals) != 0 || r.Events != 0 {
		t.Errorf("max_proposals=0 still looked for proposals: %+v", r.Proposals)
	}
	if md := Markdown(r, true); !strings.Contains(md, "| deleted |") {
		t.Errorf("markdown does not say deleted:\n%s", md)
	}
}

func TestUpkeepErrors(t *testing.T) {
	f := scenario(t)
	f.failOn = "host.name"
	if _, err := Upkeep(f, "acme", f.now, 30, DefaultConfig); !pdk.IsUnavailable(err) || !strings.Contains(err.Error(), "acme") {
		t.Errorf("err = %v, want unavailable naming the tenant", err)
	}
}

func TestUpkeepQuiet(t *testing.T) {
	f := scenario(t)
	f.events = f.events[:10]
	f.filters = nil
	r, err := Upkeep(f, "acme", f.now, 30, DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if r.Findings() || len(r.Withheld) != 0 {
		t.Errorf("findings in a quiet tenant: %+v", r)
	}
}

func TestParseInput(t *testing.T) {
	tests := []struct {
		name, in string
		want     Input
		err      string
	}{
		{name: "Empty", in: "", want: Input{StaleDays: 30}},
		{name: "Tenant", in: `{"tenant":"acme"}`, want: Input{Tenant: "acme", StaleDays: 30}},
		{name: "All", in: `{"tenant":"*","stale_days":7}`, want: Input{Tenant: "*", StaleDays: 7}},
		{name: "ErrNegative", in: `{"stale_days":-1}`, err: "stale_days"},
		{name: "ErrTooLong", in: `{"stale_days":5000}`, err: "stale_days"},
		{name: "ErrUnknown", in: `{"tenant":"acme","days":3}`, err: "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInput([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseInput = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		kv   map[string]string
		want Config
		err  string
	}{
		{name: "Defaults", kv: nil, want: DefaultConfig},
		{name: "Set", kv: map[string]string{"channel": "ops", "delete_expired": "true", "max_proposals": "3", "min_share": "0.5", "min_events": "20", "expire_days": "30"},
			want: Config{Channel: "ops", DeleteExpired: true, MaxProposals: 3, MinShare: 0.5, MinEvents: 20, ExpireDays: 30}},
		{name: "ErrBool", kv: map[string]string{"delete_expired": "yes please"}, err: "delete_expired"},
		{name: "ErrProposals", kv: map[string]string{"max_proposals": "500"}, err: "max_proposals"},
		{name: "ErrShare", kv: map[string]string{"min_share": "120"}, err: "min_share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(func(k string) (string, bool) { v, ok := tt.kv[k]; return v, ok })
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseConfig = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

func TestTenantsFor(t *testing.T) {
	tests := []struct {
		name      string
		requested string
		grant     *pdk.Grant
		want      []string
		err       string
	}{
		{name: "One", requested: "acme", grant: &pdk.Grant{Tenants: []string{"acme"}}, want: []string{"acme"}},
		{name: "Star", requested: "*", grant: &pdk.Grant{Tenants: []string{"globex", "acme"}}, want: []string{"acme", "globex"}},
		{name: "ErrNotGranted", requested: "globex", grant: &pdk.Grant{Tenants: []string{"acme"}}, err: "not in the plugin's grant"},
		{name: "ErrGrantStar", requested: "", grant: &pdk.Grant{Tenants: []string{"*"}}, err: "name the tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tenantsFor(tt.requested, tt.grant)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("tenantsFor = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

func TestFilterName(t *testing.T) {
	tests := []struct {
		conds []pdk.Condition
		want  string
	}{
		{[]pdk.Condition{pdk.Eq("event.code", "22"), pdk.Eq("process.name", "zabbix_agent2.exe")}, "noise-22-zabbix-agent2-exe"},
		{[]pdk.Condition{pdk.Eq("host.name", "ACME-BK-01"), pdk.Eq("process.name", `C:\x.exe`)}, "noise-acme-bk-01-c-x-exe"},
		{[]pdk.Condition{pdk.Eq("user.name", strings.Repeat("a", 100))}, "noise-" + strings.Repeat("a", 58)},
	}
	for _, tt := range tests {
		if got := filterName(tt.conds); got != tt.want {
			t.Errorf("filterName(%v) = %q, want %q", tt.conds, got, tt.want)
		}
	}
}
