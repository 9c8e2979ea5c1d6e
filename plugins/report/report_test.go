package main

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPreviousWeek(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skipf("no zone database: %v", err)
	}
	tests := []struct {
		name     string
		now      string
		loc      *time.Location
		from, to string
	}{
		{"Friday", "2026-11-27T17:44:00Z", time.UTC, "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"},
		{"MondayMidnight", "2026-11-23T00:00:00Z", time.UTC, "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"},
		{"SundayNight", "2026-11-22T23:59:59Z", time.UTC, "2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z"},
		// Sunday 22:00 UTC is already Monday 07:00 in Tokyo.
		{"Tokyo", "2026-11-22T22:00:00Z", tokyo, "2026-11-16T00:00:00+09:00", "2026-11-23T00:00:00+09:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := previousWeek(mustTime(t, tt.now), tt.loc)
			if !p.From.Equal(mustTime(t, tt.from)) || !p.To.Equal(mustTime(t, tt.to)) {
				t.Errorf("previousWeek(%s) = [%s, %s), want [%s, %s)", tt.now, p.From, p.To, tt.from, tt.to)
			}
			if !isWeek(p, tt.loc) {
				t.Errorf("isWeek(%v) = false", p)
			}
		})
	}
}

func TestResolvePeriod(t *testing.T) {
	now := mustTime(t, "2026-11-27T17:44:00Z")
	tests := []struct {
		name     string
		in       Input
		from, to string
		err      string
	}{
		{name: "Cron", in: Input{}, from: "2026-11-16T00:00:00Z", to: "2026-11-23T00:00:00Z"},
		{name: "Both", in: Input{From: "2026-11-02T00:00:00Z", To: "2026-11-09T00:00:00Z"}, from: "2026-11-02T00:00:00Z", to: "2026-11-09T00:00:00Z"},
		{name: "FromOnly", in: Input{From: "2026-11-20T00:00:00Z"}, from: "2026-11-20T00:00:00Z", to: "2026-11-27T17:44:00Z"},
		{name: "ToOnly", in: Input{To: "2026-11-09T00:00:00Z"}, from: "2026-11-02T00:00:00Z", to: "2026-11-09T00:00:00Z"},
		{name: "ErrBadTime", in: Input{From: "last monday"}, err: "not an RFC 3339 time"},
		{name: "ErrReversed", in: Input{From: "2026-11-09T00:00:00Z", To: "2026-11-02T00:00:00Z"}, err: "must be before"},
		{name: "ErrTooLong", in: Input{From: "2020-01-01T00:00:00Z", To: "2026-01-01T00:00:00Z"}, err: "at most 400 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resolvePeriod(tt.in, now, time.UTC)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !p.From.Equal(mustTime(t, tt.from)) || !p.To.Equal(mustTime(t, tt.to)) {
				t.Errorf("period = [%s, %s), want [%s, %s)", p.From, p.To, tt.from, tt.to)
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	tests := []struct {
		name, in string
		want     Input
		err      bool
	}{
		{name: "Empty", in: "", want: Input{}},
		{name: "Blank", in: " \n", want: Input{}},
		{name: "Tenant", in: `{"tenant":"acme"}`, want: Input{Tenant: "acme"}},
		{name: "All", in: `{"tenant":"*","from":"2026-11-02T00:00:00Z","to":"2026-11-09T00:00:00Z"}`, want: Input{Tenant: "*", From: "2026-11-02T00:00:00Z", To: "2026-11-09T00:00:00Z"}},
		{name: "ErrUnknownField", in: `{"tenants":"acme"}`, err: true},
		{name: "ErrNotJSON", in: `acme`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInput([]byte(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && got != tt.want {
				t.Errorf("parseInput = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     []string // bucket starts
		lastEnd  string
	}{
		{"Week", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z",
			[]string{"2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"}, "2026-11-23T00:00:00Z"},
		{"PartialDays", "2026-11-16T12:00:00Z", "2026-11-18T06:00:00Z",
			[]string{"2026-11-16", "2026-11-17", "2026-11-18"}, "2026-11-18T06:00:00Z"},
		{"LongByWeek", "2026-01-05T00:00:00Z", "2026-04-06T00:00:00Z",
			[]string{"2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16", "2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"}, "2026-04-06T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := timeline(Period{mustTime(t, tt.from), mustTime(t, tt.to)}, time.UTC)
			var got []string
			for i, b := range bs {
				got = append(got, b.From.Format(time.DateOnly))
				if i > 0 && !b.From.Equal(bs[i-1].To) {
					t.Errorf("gap between buckets %d and %d", i-1, i)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("buckets = %v, want %v", got, tt.want)
			}
			if !bs[0].From.Equal(mustTime(t, tt.from)) || !bs[len(bs)-1].To.Equal(mustTime(t, tt.lastEnd)) {
				t.Errorf("buckets span [%s, %s)", bs[0].From, bs[len(bs)-1].To)
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
		{name: "OneWithoutGrant", requested: "acme", want: []string{"acme"}},
		{name: "Star", requested: "*", grant: &pdk.Grant{Tenants: []string{"globex", "acme", "acme"}}, want: []string{"acme", "globex"}},
		{name: "Absent", requested: "", grant: &pdk.Grant{Tenants: []string{"acme"}}, want: []string{"acme"}},
		{name: "ErrNotGranted", requested: "globex", grant: &pdk.Grant{Tenants: []string{"acme"}}, err: "not in the plugin's grant"},
		{name: "ErrGrantStar", requested: "*", grant: &pdk.Grant{Tenants: []string{"*"}}, err: "name the tenant"},
		{name: "ErrNoTenants", requested: "*", grant: &pdk.Grant{}, err: "no tenants"},
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

func TestFormatting(t *testing.T) {
	bars := []struct {
		n, max int64
		want   string
	}{
		{0, 10, ""}, {10, 10, "████"}, {5, 10, "██"}, {1, 1000, "▏"}, {3, 8, "█▌"}, {20, 10, "████"}, {5, 0, ""},
	}
	for _, b := range bars {
		if got := bar(b.n, b.max, 4); got != b.want {
			t.Errorf("bar(%d, %d, 4) = %q, want %q", b.n, b.max, got, b.want)
		}
	}
	nums := map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"}
	for n, want := range nums {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	codes := map[string]string{"WS01": "`WS01`", "a|b": "`a\\|b`", "x`y": "`` x`y ``", "": "(empty)", "l1\nl2": "`l1 l2`"}
	for in, want := range codes {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
	if got := text("<script>*x*</script>"); strings.ContainsAny(strings.NewReplacer(`\<`, "", `\>`, "", `\*`, "").Replace(got), "<>*") {
		t.Errorf("text left markup: %q", got)
	}
	if got := percent(1, 3); got != "33.3%" {
		t.Errorf("percent(1, 3) = %q", got)
	}
}

// fakeLibrary answers from events in memory, with the semantics of the log
// store (conditions AND-ed; eq exact, contains case-insensitive, exists).
type fakeLibrary struct {
	tenant      string
	suppress    [][]pdk.Condition // the active filters' conditions, for ApplyFilters
	events      []pdk.Event
	tickets     []*pdk.Ticket
	filters     []pdk.FilterStat
	ticketsErr  error
	filtersErr  error
	calls       int
	ticketPages int
}

func (f *fakeLibrary) match(tenant string, from, to time.Time, cs []pdk.Condition, query string) []pdk.Event {
	return f.matchFiltered(tenant, from, to, cs, query, false)
}

func (f *fakeLibrary) matchFiltered(tenant string, from, to time.Time, cs []pdk.Condition, query string, applyFilters bool) []pdk.Event {
	var out []pdk.Event
	for _, e := range f.events {
		if applyFilters && slices.ContainsFunc(f.suppress, func(fc []pdk.Condition) bool { return f.matches(e, fc, "") }) {
			continue
		}
		ts := e.Time()
		if tenant != f.tenant || ts.Before(from) || !ts.Before(to) {
			continue
		}
		if f.matches(e, cs, query) {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeLibrary) matches(e pdk.Event, cs []pdk.Condition, query string) bool {
	{
		ok := true
		text := strings.ToLower(fmt.Sprint(map[string]any(e)))
		for _, w := range strings.Fields(strings.ToLower(query)) {
			ok = ok && strings.Contains(text, w)
		}
		for _, c := range cs {
			v, has := e[c.Field]
			s := fmt.Sprint(v)
			switch c.Op {
			case pdk.OpExists:
				ok = ok && has
			case pdk.OpEq:
				ok = ok && has && s == fmt.Sprint(c.Value)
			case pdk.OpContains:
				ok = ok && has && strings.Contains(strings.ToLower(s), strings.ToLower(fmt.Sprint(c.Value)))
			default:
				panic("fake: op " + c.Op)
			}
		}
		return ok
	}
}

func (f *fakeLibrary) Top(r pdk.TopRequest) (*pdk.TopResult, error) {
	f.calls++
	counts := map[string]int64{}
	res := &pdk.TopResult{Field: r.Field, Buckets: []pdk.Bucket{}}
	for _, e := range f.matchFiltered(r.Tenant, r.From, r.To, r.Fields, r.Query, r.ApplyFilters) {
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
	return &pdk.CountResult{Count: int64(len(f.match(r.Tenant, r.From, r.To, r.Fields, "")))}, nil
}

func (f *fakeLibrary) SearchTickets(q pdk.TicketQuery) (*pdk.TicketList, error) {
	f.calls++
	f.ticketPages++
	if f.ticketsErr != nil {
		return nil, f.ticketsErr
	}
	var in []*pdk.Ticket
	for _, t := range f.tickets {
		text := strings.ToLower(t.Title + "\n" + t.Description)
		for _, c := range t.Comments {
			text += "\n" + strings.ToLower(c.Body)
		}
		if t.Tenant == q.Tenant && !t.CreatedAt.Before(*q.From) && t.CreatedAt.Before(*q.To) && strings.Contains(text, q.Text) {
			in = append(in, t)
		}
	}
	start := 0
	if q.Cursor != "" {
		fmt.Sscan(q.Cursor, &start)
	}
	end := min(start+q.Limit, len(in))
	list := &pdk.TicketList{Tickets: in[start:end]}
	if end < len(in) {
		list.Truncated, list.NextCursor = true, fmt.Sprint(end)
	}
	return list, nil
}

func (f *fakeLibrary) FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error) {
	f.calls++
	return f.filters, f.filtersErr
}

// demoWeek is a small week of acme: background on three hosts, an encoded
// PowerShell started by Word on WS-017 beaconing to a C2, failed logons.
func demoWeek(t *testing.T) (*fakeLibrary, Period) {
	t.Helper()
	p := Period{mustTime(t, "2026-11-16T00:00:00Z"), mustTime(t, "2026-11-23T00:00:00Z")}
	f := &fakeLibrary{tenant: "acme"}
	at := func(day, minute int) string {
		return p.From.AddDate(0, 0, day).Add(time.Duration(minute) * time.Minute).Format(time.RFC3339)
	}
	for day := range 7 {
		for i := range 20 + day*10 {
			f.events = append(f.events, pdk.Event{"@timestamp": at(day, i), "event.dataset": "windows.sysmon", "event.code": "1",
				"host.name": []string{"ACME-WS-001", "ACME-WS-002", "ACME-DC-01"}[i%3], "user.name": "jdoe", "process.name": "chrome.exe"})
		}
		f.events = append(f.events, pdk.Event{"@timestamp": at(day, 700), "event.dataset": "windows.security", "event.code": "4625",
			"host.name": "ACME-FS-01", "user.target.name": "svc_backup"})
	}
	f.events = append(f.events,
		pdk.Event{"@timestamp": at(4, 540), "event.dataset": "windows.sysmon", "event.code": "1", "host.name": "ACME-WS-017", "user.name": "hsato",
			"process.name": "powershell.exe", "process.parent.name": "WINWORD.EXE", "process.command_line": "powershell.exe -nop -w hidden -enc JABjAGwA"},
		pdk.Event{"@timestamp": at(4, 541), "event.dataset": "proxy", "host.name": "ACME-WS-017", "user.name": "hsato",
			"destination.ip": "203.0.113.66", "url.domain": "cdn-update.example-c2.net"},
		// Outside the period: must not count.
		pdk.Event{"@timestamp": at(7, 1), "event.dataset": "proxy", "host.name": "ACME-WS-099"},
	)
	again := func(at time.Time) pdk.Comment {
		return pdk.Comment{Author: "alert-intake", Body: "The SIEM raised this alert again (Suspicious logon on ACME-DC-01) at " + at.Format(time.RFC3339) + ".", At: at}
	}
	f.tickets = []*pdk.Ticket{
		// An alert of the period, delivered three times (once more after it).
		{ID: "T-3", Tenant: "acme", Title: "Office application spawned encoded PowerShell on ACME-WS-017", Status: "open", Severity: "high",
			Description: "SIEM alert `SIEM-1`: Office application spawned encoded PowerShell on ACME-WS-017\n", ExternalKey: "SIEM-1",
			CreatedAt: p.From.Add(99 * time.Hour), Comments: []pdk.Comment{
				{Author: "endpoint-triage", Body: "## Endpoint triage", At: p.From.Add(99 * time.Hour)},
				again(p.From.Add(101 * time.Hour)), again(p.From.Add(102 * time.Hour)), again(p.To.Add(time.Hour))}},
		{ID: "T-1", Tenant: "acme", Title: "Encoded PowerShell on ACME-WS-017", Status: "open", Severity: "high", CreatedAt: p.From.Add(100 * time.Hour)},
		{ID: "T-2", Tenant: "acme", Title: "Backup failures", Status: "resolved", Severity: "low", CreatedAt: p.From.Add(10 * time.Hour)},
		{ID: "T-0", Tenant: "acme", Title: "Last week's", Status: "closed", Severity: "critical", CreatedAt: p.From.Add(-time.Hour)},
		// An alert of the week before, repeated on Tuesday and the week before.
		{ID: "T-9", Tenant: "acme", Title: "Suspicious logon on ACME-DC-01", Status: "in_progress", Severity: "medium",
			Description: "SIEM alert: Suspicious logon on ACME-DC-01\n", CreatedAt: p.From.AddDate(0, 0, -3),
			Comments: []pdk.Comment{again(p.From.AddDate(0, 0, -2)), again(p.From.Add(30 * time.Hour))}},
		// Another tenant's alert.
		{ID: "T-8", Tenant: "globex", Title: "GLOBEX alert", Severity: "critical", Description: "SIEM alert: GLOBEX", CreatedAt: p.From.Add(time.Hour)},
	}
	last := p.From.Add(30 * time.Hour)
	f.filters = []pdk.FilterStat{{Name: "zabbix-dns", Hits: 1200, LastHit: &last}, {Name: "backup-logons", Hits: 7, LastHit: &last}, {Name: "old-scanner", Hits: 0}}
	// The backup account's failed logons are known noise.
	f.suppress = [][]pdk.Condition{{pdk.Eq("event.code", "4625"), pdk.Eq("user.target.name", "svc_backup")}}
	return f, p
}

func TestGather(t *testing.T) {
	f, p := demoWeek(t)
	st, err := Gather(f, "acme", p, Options{Top: 5})
	if err != nil {
		t.Fatal(err)
	}
	// 20+30+…+80 = 350 background, 7 failed logons, 2 story events.
	if st.Total != 359 {
		t.Errorf("total = %d, want 359", st.Total)
	}
	var days []int64
	for _, d := range st.Timeline {
		days = append(days, d.Count)
	}
	if want := []int64{21, 31, 41, 51, 63, 71, 81}; !slices.Equal(days, want) {
		t.Errorf("timeline = %v, want %v", days, want)
	}
	det := map[string]Detection{}
	for _, d := range st.Detections {
		det[d.Name] = d
	}
	for name, want := range map[string]int64{"Failed logons (4625)": 0, "Encoded PowerShell": 1, "Process started by an Office application": 1, "Credential-dumping tools": 0} {
		if det[name].Count != want {
			t.Errorf("detection %q = %d, want %d", name, det[name].Count, want)
		}
	}
	// The backup account's failed logons are covered by a filter: counted
	// apart, not a detection.
	if d := det["Failed logons (4625)"]; d.Suppressed != 7 || len(d.Hosts) != 0 {
		t.Errorf("failed logons = %+v, want 7 covered by filters and no hosts", d)
	}
	if h := det["Encoded PowerShell"].Hosts; len(h) != 1 || h[0].Value != "ACME-WS-017" {
		t.Errorf("encoded PowerShell hosts = %v", h)
	}
	// T-1, T-2, T-3 opened in the period; T-3 is an alert delivered three
	// times in it, T-9 an older alert repeated once in it.
	if st.Tickets.Total != 3 || st.Tickets.ByStatus["open"] != 2 || st.Tickets.BySeverity["low"] != 1 || len(st.Tickets.Notable) != 2 {
		t.Errorf("tickets = %+v", st.Tickets)
	}
	al := st.Alerts
	if al == nil || al.Total != 4 || al.Opened != 1 || al.Repeats != 3 || al.BySeverity["high"] != 3 || al.BySeverity["medium"] != 1 || al.Truncated {
		t.Fatalf("alerts = %+v", al)
	}
	if want := []int64{0, 1, 0, 0, 3, 0, 0}; !slices.Equal(al.ByDay, want) {
		t.Errorf("alerts by day = %v, want %v", al.ByDay, want)
	}
	if want := []int64{1, 0, 0, 0, 2, 0, 0}; !slices.Equal(st.Tickets.ByDay, want) {
		t.Errorf("tickets by day = %v, want %v", st.Tickets.ByDay, want)
	}
	if st.Calls != f.calls {
		t.Errorf("calls counted %d, made %d", st.Calls, f.calls)
	}
	if st.Calls > 60 {
		t.Errorf("%d calls for one report; keep it bounded", st.Calls)
	}

	md := Markdown(st, time.UTC)
	for _, want := range []string{
		"# Weekly security report: acme, 2026-11-16 – 2026-11-22",
		"**Encoded PowerShell**: 1 event on `ACME-WS-017`",
		"Only known noise covered by analysis filters: Failed logons (4625) (7 events).",
		"| Failed logons (4625) | low | 0 | 7 |",
		"4 alerts received from the SIEM (1 new, 3 repeats), 3 of them high or critical.",
		"**4 alerts**: 1 opened a ticket, 3 repeated an alert already tracked.",
		"| severity | alerts | |",
		"| high | 3 |",
		"| `203.0.113.66` | 1 |",
		"| `cdn-update.example-c2.net` | 1 |",
		"| Sat 2026-11-21 | 71 |",
		"| `zabbix-dns` | 1,200 |",
		"| `old-scanner` | 0 | never in the period |",
		"`T-1` Encoded PowerShell on ACME-WS-017 (high, open",
		"| open | 2 |",
		"Unicode bars",
		"![Events by day](data:image/svg+xml;base64,",
		"![Top hosts by events](data:image/svg+xml;base64,",
		"![Alerts by severity](data:image/svg+xml;base64,",
		"![Alerts and tickets opened by day](data:image/svg+xml;base64,",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, never := range []string{"ACME-WS-099", "Last week's", "<svg", "GLOBEX", "**Failed logons"} {
		if strings.Contains(md, never) {
			t.Errorf("report contains %q", never)
		}
	}
	// The highlights name the attack first, not the noise.
	if hs := Highlights(st); !strings.HasPrefix(hs[0], "**Encoded PowerShell**") {
		t.Errorf("first highlight = %q", hs[0])
	}
	if s := Summary(st, "R-1", Title(st, time.UTC)); !strings.Contains(s, "359 events") || !strings.Contains(s, "Encoded PowerShell 1") || !strings.Contains(s, "4 alerts") {
		t.Errorf("summary = %q", s)
	}
}

func TestGatherWithoutFilters(t *testing.T) {
	// No filter matched in the period: detections are counted once, and
	// the failed logons are a detection again.
	f, p := demoWeek(t)
	f.suppress, f.filters = nil, []pdk.FilterStat{{Name: "old-scanner"}}
	st, err := Gather(f, "acme", p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := st.Detections[0]; d.Name != "Failed logons (4625)" || d.Count != 7 || d.Suppressed != 0 {
		t.Errorf("failed logons = %+v", d)
	}
	// A detection again, after the more severe ones.
	if hs := Highlights(st); !strings.HasPrefix(hs[2], "**Failed logons (4625)**: 7 events on `ACME-FS-01`") {
		t.Errorf("highlights = %q", hs)
	}
	withFilters, _ := demoWeek(t)
	st2, _ := Gather(withFilters, "acme", p, Options{})
	var alts int
	for _, r := range Rules {
		alts += len(r.Alternatives)
	}
	if st2.Calls-st.Calls != alts {
		t.Errorf("calls without filters %d, with %d: want %d more with", st.Calls, st2.Calls, alts)
	}
}

func TestGatherDegrades(t *testing.T) {
	f, p := demoWeek(t)
	f.ticketsErr = &pdk.Error{Code: pdk.CodeForbidden, Message: "capability tickets.read is not granted"}
	f.filtersErr = &pdk.Error{Code: pdk.CodeForbidden, Message: "capability filters.read is not granted"}
	st, err := Gather(f, "acme", p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Tickets != nil || st.Alerts != nil || st.Filters != nil || len(st.Notes) != 2 {
		t.Fatalf("tickets %v filters %v notes %v", st.Tickets, st.Filters, st.Notes)
	}
	md := Markdown(st, time.UTC)
	if !strings.Contains(md, "not granted tickets.read") || !strings.Contains(md, "not granted filters.read") {
		t.Errorf("report does not say what is missing:\n%s", md)
	}

	f.ticketsErr = &pdk.Error{Code: pdk.CodeUnavailable, Message: "tickets down"}
	if _, err := Gather(f, "acme", p, Options{}); !pdk.IsUnavailable(err) || !strings.Contains(err.Error(), "tickets of acme") {
		t.Errorf("unavailable tickets: err = %v", err)
	}
}

func TestGatherTicketPages(t *testing.T) {
	f, p := demoWeek(t)
	f.tickets = nil
	for i := range 1234 {
		f.tickets = append(f.tickets, &pdk.Ticket{ID: fmt.Sprint("T-", i), Tenant: "acme", Status: "open", Severity: []string{"low", "high"}[i%2], CreatedAt: p.From.Add(time.Duration(i) * time.Minute)})
	}
	calls := 0
	ts, _, err := gatherTickets(f, "acme", p, nil, &calls)
	if err != nil {
		t.Fatal(err)
	}
	// Three pages of the period, one of older tickets with repeated alerts.
	if ts.Total != 1234 || ts.BySeverity["high"] != 617 || ts.Truncated || calls != 4 || len(ts.Notable) != maxNotable {
		t.Errorf("tickets = %d (high %d, truncated %v) in %d calls, notable %d", ts.Total, ts.BySeverity["high"], ts.Truncated, calls, len(ts.Notable))
	}
	for i := range maxTickets {
		f.tickets = append(f.tickets, &pdk.Ticket{Tenant: "acme", CreatedAt: p.From.Add(time.Duration(i) * time.Second)})
	}
	if ts, as, _ := gatherTickets(f, "acme", p, nil, &calls); ts.Total != maxTickets || !ts.Truncated || !as.Truncated {
		t.Errorf("over the cap: total %d, truncated %v", ts.Total, ts.Truncated)
	}
}

func TestMergeBuckets(t *testing.T) {
	got := mergeBuckets([]pdk.Bucket{{Value: "a", Count: 3}, {Value: "b", Count: 1}}, []pdk.Bucket{{Value: "b", Count: 5}, {Value: "c", Count: 3}})
	want := []pdk.Bucket{{Value: "b", Count: 6}, {Value: "a", Count: 3}, {Value: "c", Count: 3}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeBuckets = %v, want %v", got, want)
	}
}

func TestSVGBarChart(t *testing.T) {
	md := svgBarChart("Events by day", []string{"Mon 11-02", "Tue <11-03>"}, []int64{10, 1250})
	b64, ok := strings.CutPrefix(md, "![Events by day](data:image/svg+xml;base64,")
	if !ok || !strings.HasSuffix(b64, ")") {
		t.Fatalf("not an inline SVG image: %.80s", md)
	}
	svg, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, ")"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "</svg>", "1,250", "Tue &lt;11-03&gt;"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("chart lacks %q: %s", want, svg)
		}
	}
	if n := strings.Count(string(svg), "<rect"); n != 2 {
		t.Errorf("%d bars, want 2", n)
	}
}

func decodeSVG(t *testing.T, md, title string) string {
	t.Helper()
	b64, ok := strings.CutPrefix(md, "!["+title+"](data:image/svg+xml;base64,")
	if !ok || !strings.HasSuffix(b64, ")") {
		t.Fatalf("not an inline SVG image: %.80s", md)
	}
	svg, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(b64, ")"))
	if err != nil {
		t.Fatal(err)
	}
	return string(svg)
}

func TestSVGGroupedAndHBarCharts(t *testing.T) {
	svg := decodeSVG(t, svgGroupedChart("Alerts and tickets", []string{"Mon", "Tue"}, []Series{
		{Name: "alerts <x>", Color: chartRed, Values: []int64{3, 0}}, {Name: "tickets", Color: chartBlue, Values: []int64{1, 2}}}), "Alerts and tickets")
	if n := strings.Count(svg, "<rect"); n != 6 { // 4 bars and 2 legend keys
		t.Errorf("%d rects, want 6: %s", n, svg)
	}
	for _, want := range []string{"alerts &lt;x&gt;", ">tickets<", chartRed, chartBlue} {
		if !strings.Contains(svg, want) {
			t.Errorf("grouped chart lacks %q: %s", want, svg)
		}
	}
	svg = decodeSVG(t, svgHBarChart("Top hosts", []string{`<script>alert("x")</script>`, "WS-02"}, []int64{1500, 20}, []string{"", `"red" onload="x"`}), "Top hosts")
	for _, want := range []string{"&lt;script&gt;", "1,500", "&#34;red&#34; onload=&#34;x&#34;"} {
		if !strings.Contains(svg, want) {
			t.Errorf("bar chart lacks %q: %s", want, svg)
		}
	}
	if strings.Contains(svg, "<script") || strings.Contains(svg, `onload="`) {
		t.Errorf("markup from the data got through: %s", svg)
	}
	if n := strings.Count(svg, "<rect"); n != 2 {
		t.Errorf("%d bars, want 2", n)
	}
}
