package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

// small is a dataset quick enough for every test.
var small = Options{EventsPerDay: 400, Seed: 7}

func generate(t testing.TB, o Options) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Generate(o, &buf)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", o, err)
	}
	return buf.Bytes(), st
}

// parse decodes NDJSON into events, keeping numbers as json.Number.
func parse(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		var e map[string]any
		if err := d.Decode(&e); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", n, err, sc.Text())
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func str(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func TestGenerateDeterministic(t *testing.T) {
	a, _ := generate(t, small)
	b, _ := generate(t, small)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	other := small
	other.Seed++
	c, _ := generate(t, other)
	if bytes.Equal(a, c) {
		t.Fatal("another seed gives the same output")
	}
	// A tenant's events do not depend on which other tenants are generated.
	only := small
	only.Tenants = []string{TenantAcme}
	d, st := generate(t, only)
	if st.ByTenant[TenantGlobex] != 0 {
		t.Fatalf("globex events with Tenants=[acme]: %d", st.ByTenant[TenantGlobex])
	}
	var acme bytes.Buffer
	for line := range bytes.Lines(a) {
		if bytes.Contains(line, []byte(`"tenant":"acme"`)) {
			acme.Write(line)
		}
	}
	if !bytes.Equal(acme.Bytes(), d) {
		t.Fatal("acme alone differs from acme's lines of both tenants")
	}
}

func TestGenerateShape(t *testing.T) {
	b, st := generate(t, small)
	events := parse(t, b)
	if len(events) != st.Events {
		t.Fatalf("%d lines, Stats.Events = %d", len(events), st.Events)
	}
	var prev time.Time
	for i, e := range events {
		ts, err := time.Parse(time.RFC3339, str(e["@timestamp"]))
		if err != nil {
			t.Fatalf("event %d: @timestamp: %v", i, err)
		}
		if ts.Before(prev) {
			t.Fatalf("event %d at %v comes after one at %v", i, ts, prev)
		}
		if ts.Before(st.From) || !ts.Before(st.To) {
			t.Fatalf("event %d at %v is outside [%v, %v)", i, ts, st.From, st.To)
		}
		prev = ts
		if tn := str(e["tenant"]); !slices.Contains(Tenants, tn) {
			t.Fatalf("event %d: tenant %q", i, tn)
		}
	}
}

func TestTenantsApart(t *testing.T) {
	for _, a := range Tenants {
		for _, b := range Tenants {
			if a == b {
				continue
			}
			for _, h := range Hosts(a) {
				if slices.Contains(Hosts(b), h) {
					t.Errorf("host %s in %s and %s", h, a, b)
				}
			}
			for _, u := range Users(a) {
				if slices.Contains(Users(b), u) {
					t.Errorf("user %s in %s and %s", u, a, b)
				}
			}
		}
	}
	out, _ := generate(t, small)
	nets := map[string]string{TenantAcme: "10.20.", TenantGlobex: "10.30."}
	for i, e := range parse(t, out) {
		tn := str(e["tenant"])
		if h, ok := e["Hostname"]; ok && !slices.Contains(Hosts(tn), str(h)) {
			t.Fatalf("event %d of %s on host %v", i, tn, h)
		}
		for _, k := range []string{"user.name", "TargetUserName", "SubjectUserName", "User"} {
			u := str(e[k])
			if _, name, ok := strings.Cut(u, `\`); ok {
				u = name
			}
			if u == "" || u == "SYSTEM" || u == "-" || slices.Contains(Users(tn), u) ||
				(strings.HasSuffix(u, "$") && slices.Contains(Hosts(tn), strings.TrimSuffix(u, "$"))) {
				continue
			}
			t.Fatalf("event %d of %s: %s %q is not one of its users", i, tn, k, e[k])
		}
		for k, v := range e {
			for other, net := range nets {
				if other != tn && strings.HasPrefix(str(v), net) {
					t.Fatalf("event %d of %s: %s %v is in %s's network", i, tn, k, v, other)
				}
			}
		}
	}
}

// find returns the events of tenant matching every field.
func find(events []map[string]any, tenant string, fields map[string]string) []map[string]any {
	var out []map[string]any
	for _, e := range events {
		if str(e["tenant"]) != tenant {
			continue
		}
		ok := true
		for k, want := range fields {
			got := str(e[k])
			switch {
			case strings.HasPrefix(want, "*"):
				ok = ok && strings.HasSuffix(got, want[1:])
			case strings.HasPrefix(want, "~"):
				ok = ok && strings.Contains(got, want[1:])
			default:
				ok = ok && got == want
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

func TestStory(t *testing.T) {
	if got := "-enc " + encodedPayload("$client=New-Object"); got != Story.EncodedMarker {
		t.Fatalf("marker %q does not encode the script's start (%q)", Story.EncodedMarker, got)
	}
	if !strings.HasPrefix(StoryScript, "$client=New-Object") || !strings.HasSuffix(StoryCommandLine, Story.EncodedMarker) {
		t.Fatal("script and command line do not match the marker")
	}
	out, st := generate(t, small)
	events := parse(t, out)
	pz, lat := Story.PatientZeroHost, Story.LateralHost
	cases := []struct {
		name   string
		fields map[string]string
		min    int
	}{
		{"PhishingMail", map[string]string{"event.dataset": "mail", "email.from.address": Story.PhishSender, "email.subject": Story.PhishSubject, "email.attachments.file.name": Story.Attachment, "user.name": Story.User}, 1},
		{"AttachmentSaved", map[string]string{"Hostname": pz, "EventID": "11", "TargetFilename": "*\\" + Story.Attachment}, 1},
		{"WordOpensAttachment", map[string]string{"Hostname": pz, "EventID": "1", "Image": `*\WINWORD.EXE`, "CommandLine": "~" + Story.Attachment, "User": Story.Domain + `\` + Story.User}, 1},
		{"EncodedPowerShell", map[string]string{"Hostname": pz, "EventID": "1", "Image": `*\powershell.exe`, "ParentImage": `*\WINWORD.EXE`, "CommandLine": "~" + Story.EncodedMarker}, 1},
		{"EncodedPowerShell4688", map[string]string{"Hostname": pz, "EventID": "4688", "ParentProcessName": `*\WINWORD.EXE`, "CommandLine": "~" + Story.EncodedMarker}, 1},
		{"C2Lookup", map[string]string{"Hostname": pz, "EventID": "22", "QueryName": Story.C2Domain}, 1},
		{"BeaconSysmon", map[string]string{"Hostname": pz, "EventID": "3", "DestinationIp": Story.C2IP, "DestinationPort": "443", "Image": `*\powershell.exe`}, 300},
		{"BeaconProxy", map[string]string{"event.dataset": "proxy", "source.ip": Story.PatientZeroIP, "destination.ip": Story.C2IP, "url.domain": Story.C2Domain}, 300},
		{"BeaconFirewall", map[string]string{"event.dataset": "firewall", "source.ip": Story.PatientZeroIP, "destination.ip": Story.C2IP, "destination.port": "443", "event.action": "allow"}, 300},
		{"RunKey", map[string]string{"Hostname": pz, "EventID": "13", "TargetObject": Story.RunKey}, 1},
		{"LateralLogon", map[string]string{"Hostname": lat, "EventID": "4624", "LogonType": "3", "TargetUserName": Story.User, "IpAddress": Story.PatientZeroIP}, 1},
		{"RemoteService", map[string]string{"Hostname": lat, "EventID": "1", "Image": `*\PSEXESVC.exe`}, 1},
		{"RemoteCommand", map[string]string{"Hostname": lat, "EventID": "1", "ParentImage": `*\PSEXESVC.exe`, "User": Story.Domain + `\` + Story.User}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := find(events, Story.Tenant, c.fields)
			if len(got) < c.min {
				t.Fatalf("%d events match %v, want at least %d", len(got), c.fields, c.min)
			}
			for _, e := range got {
				ts, _ := time.Parse(time.RFC3339, str(e["@timestamp"]))
				if ts.Before(StoryTime(DefaultStart)) {
					t.Fatalf("story event at %v, before the story starts at %v", ts, StoryTime(DefaultStart))
				}
			}
			if n := len(find(events, TenantGlobex, c.fields)); n > 0 {
				t.Fatalf("%d such events in globex", n)
			}
		})
	}
	t.Run("BeaconPace", func(t *testing.T) {
		beacons := find(events, Story.Tenant, map[string]string{"event.dataset": "proxy", "url.full": "~" + Story.C2Domain + "/api/v2/ping"})
		var prev time.Time
		for i, e := range beacons {
			ts, _ := time.Parse(time.RFC3339, str(e["@timestamp"]))
			if i > 0 {
				if d := ts.Sub(prev); d < 50*time.Second || d > 70*time.Second {
					t.Fatalf("beacon %d comes %v after the one before", i, d)
				}
			}
			prev = ts
		}
		first, _ := time.Parse(time.RFC3339, str(beacons[0]["@timestamp"]))
		if span := prev.Sub(first); span < 4*time.Hour {
			t.Fatalf("beaconing lasts %v, want hours", span)
		}
	})
	t.Run("NotInGlobex", func(t *testing.T) {
		for line := range bytes.Lines(out) {
			if !bytes.Contains(line, []byte(`"tenant":"globex"`)) {
				continue
			}
			for _, s := range []string{Story.C2Domain, Story.C2IP, Story.Attachment, Story.User, "JABjAGwA", "PSEXESVC"} {
				if bytes.Contains(line, []byte(s)) {
					t.Fatalf("globex event holds %q: %s", s, line)
				}
			}
		}
	})
	if st.Story == 0 || st.Story != st.ByTenant[TenantAcme]-small.EventsPerDay*DefaultDays {
		t.Fatalf("Stats.Story = %d, acme has %d events beyond its background", st.Story, st.ByTenant[TenantAcme]-small.EventsPerDay*DefaultDays)
	}
}

func TestGenerateSize(t *testing.T) {
	wednesday := time.Date(2027, 1, 6, 13, 30, 0, 0, time.FixedZone("JST", 9*3600))
	cases := []struct {
		name      string
		opts      Options
		days, epd int
		story     bool
	}{
		{"Defaults", Options{}, DefaultDays, DefaultEventsPerDay, true},
		{"Small", Options{EventsPerDay: 100}, DefaultDays, 100, true},
		{"BeforeTheStory", Options{Days: 3, EventsPerDay: 50}, 3, 50, false},
		{"TwoWeeksFromWednesday", Options{Start: wednesday, Days: 14, EventsPerDay: 333}, 14, 333, true},
		{"Tiny", Options{EventsPerDay: 1, Days: 9}, 9, 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Generate(c.opts, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if (st.Story > 0) != c.story {
				t.Fatalf("story events: %d, want story %v", st.Story, c.story)
			}
			if want := st.From.AddDate(0, 0, c.days); !st.To.Equal(want) {
				t.Fatalf("range ends %v, want %v", st.To, want)
			}
			for _, tn := range Tenants {
				bg := st.ByTenant[tn]
				if tn == Story.Tenant {
					bg -= st.Story
				}
				if bg != c.days*c.epd {
					t.Fatalf("%s: %d background events, want %d days × %d", tn, bg, c.days, c.epd)
				}
				if len(st.ByDay[tn]) != c.days {
					t.Fatalf("%s: %d days counted", tn, len(st.ByDay[tn]))
				}
				if c.epd < 100 {
					continue
				}
				var weekday, weekend int
				for d, n := range st.ByDay[tn] {
					if tn == Story.Tenant && d == Story.StoryDay {
						continue // the story comes on top of the background
					}
					if isWeekend(st.From.AddDate(0, 0, d)) {
						weekend = max(weekend, n)
					} else if weekday == 0 || n < weekday {
						weekday = n
					}
				}
				if weekend == 0 || weekend >= weekday {
					t.Fatalf("%s: busiest weekend day %d, quietest weekday %d", tn, weekend, weekday)
				}
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"NegativeDays", Options{Days: -1}, "days"},
		{"TooManyDays", Options{Days: MaxDays + 1}, "days"},
		{"NegativeEvents", Options{EventsPerDay: -5}, "events per day"},
		{"UnknownTenant", Options{Tenants: []string{"initech"}}, "initech"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(c.opts, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

func TestAssets(t *testing.T) {
	assets := Assets()
	byName := map[string]lhk.Asset{}
	for _, a := range assets {
		if _, dup := byName[a.Name]; dup {
			t.Fatalf("asset %s twice", a.Name)
		}
		byName[a.Name] = a
		if !slices.Contains(Hosts(a.Tenant), a.Name) {
			t.Fatalf("asset %s is not a host of %s", a.Name, a.Tenant)
		}
		if a.Owner == "" || a.OS == "" || len(a.IPs) != 1 || len(a.Tags) == 0 {
			t.Fatalf("asset %s lacks details: %+v", a.Name, a)
		}
	}
	for _, tn := range Tenants {
		for _, h := range Hosts(tn) {
			if _, ok := byName[h]; !ok {
				t.Fatalf("host %s of %s is not an asset", h, tn)
			}
		}
	}
	cases := []struct{ name, crit, ip, owner string }{
		{Story.LateralHost, "high", Story.LateralIP, "it-infra"},
		{"ACME-DC-01", "critical", "10.20.0.5", "it-infra"},
		{"GLOBEX-DC-01", "critical", "10.30.0.5", "it-infra"},
		{Story.PatientZeroHost, "medium", Story.PatientZeroIP, Story.User},
	}
	for _, c := range cases {
		a := byName[c.name]
		if a.Criticality != c.crit || a.IPs[0] != c.ip || a.Owner != c.owner {
			t.Errorf("%s = %+v, want criticality %s, IP %s, owner %s", c.name, a, c.crit, c.ip, c.owner)
		}
	}
}

// TestIngested loads a dataset into the real logs store and checks what
// plugins see: the ECS fields of the story and the noise patterns'
// conditions, which must match exactly their events.
func TestIngested(t *testing.T) {
	ctx := context.Background()
	store, err := logsqlite.Open(ctx, filepath.Join(t.TempDir(), "logs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out, st := generate(t, small)
	res, err := store.Ingest(ctx, "", bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 0 || res.Accepted != st.Events {
		t.Fatalf("ingest: %d accepted, %d rejected (%v), want %d", res.Accepted, res.Rejected, res.Errors, st.Events)
	}
	count := func(tenant string, conds ...lhk.Condition) int64 {
		t.Helper()
		r, err := store.Count(ctx, lhk.CountRequest{Tenant: tenant, Fields: conds, From: st.From, To: st.To})
		if err != nil {
			t.Fatalf("count %v: %v", conds, err)
		}
		return r.Count
	}
	t.Run("Noise", func(t *testing.T) {
		for _, np := range Noise {
			want := int64(st.Noise[np.Tenant][np.Name])
			if want == 0 {
				t.Fatalf("no events of %s/%s", np.Tenant, np.Name)
			}
			if got := count(np.Tenant, np.Conditions...); got != want {
				t.Errorf("%s/%s: conditions match %d events, generated %d", np.Tenant, np.Name, got, want)
			}
		}
	})
	eq := func(f string, v any) lhk.Condition { return lhk.Condition{Field: f, Op: lhk.OpEq, Value: v} }
	cases := []struct {
		name  string
		conds []lhk.Condition
	}{
		{"EncodedPowerShell", []lhk.Condition{eq("host.name", Story.PatientZeroHost), eq("process.name", "powershell.exe"), eq("process.parent.name", "WINWORD.EXE"), {Field: "process.command_line", Op: lhk.OpContains, Value: Story.EncodedMarker}}},
		{"C2Lookup", []lhk.Condition{eq("dns.question.name", Story.C2Domain), eq("user.name", Story.User)}},
		{"C2Connections", []lhk.Condition{eq("destination.ip", Story.C2IP), eq("destination.port", Story.C2Port), eq("event.category", "network")}},
		{"RunKey", []lhk.Condition{eq("registry.path", Story.RunKey), eq("event.code", "13")}},
		{"LateralLogon", []lhk.Condition{eq("host.name", Story.LateralHost), eq("event.code", "4624"), eq("winlog.logon.type", "Network"), eq("user.target.name", Story.User), eq("source.ip", Story.PatientZeroIP)}},
		{"RemoteService", []lhk.Condition{eq("host.name", Story.LateralHost), eq("process.parent.name", "PSEXESVC.exe")}},
		{"ServiceInstalled", []lhk.Condition{eq("host.name", Story.LateralHost), eq("event.code", "7045")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n := count(Story.Tenant, c.conds...); n == 0 {
				t.Fatalf("no %s event in %s", c.name, Story.Tenant)
			}
			if n := count(TenantGlobex, c.conds...); n != 0 {
				t.Fatalf("%d %s events in globex", n, c.name)
			}
		})
	}
	t.Run("FreeText", func(t *testing.T) {
		for _, q := range []string{Story.EncodedMarker, "powershell -enc", Story.C2Domain} {
			for _, tn := range Tenants {
				r, err := store.Search(ctx, lhk.SearchRequest{Tenant: tn, Query: q, From: st.From, To: st.To, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if found := len(r.Events) > 0; found != (tn == Story.Tenant) {
					t.Errorf("free text %q in %s: %d events", q, tn, len(r.Events))
				}
			}
		}
	})
	t.Run("SeededFilters", func(t *testing.T) {
		fs := Filters(st.From, "alice")
		for _, tn := range Tenants {
			seen := map[string]bool{}
			for _, f := range fs {
				if f.Tenant != tn {
					continue
				}
				seen[f.Name] = true
				n := count(tn, f.Conditions...)
				switch f.Name {
				case FilterExpired:
					if f.ExpiresAt == nil || !f.ExpiresAt.After(st.From) || !f.ExpiresAt.Before(st.To) {
						t.Errorf("%s/%s expires at %v, want within the week %s", tn, f.Name, f.ExpiresAt, st.From)
					}
					fallthrough
				case FilterStale:
					if n != 0 {
						t.Errorf("%s/%s matches %d events, want none", tn, f.Name, n)
					}
				default:
					if want := int64(st.Noise[tn][f.Name]); n == 0 || n != want {
						t.Errorf("%s/%s matches %d events, want its noise's %d", tn, f.Name, n, want)
					}
					if f.ExpiresAt == nil || !f.ExpiresAt.After(st.To) {
						t.Errorf("%s/%s expires at %v, want after the week", tn, f.Name, f.ExpiresAt)
					}
				}
			}
			if !seen[FilterExpired] || !seen[FilterStale] || len(seen) < 4 {
				t.Errorf("%s: filters %v, want an expired, a stale and noise filters", tn, seen)
			}
			if seen[NoiseNetBIOSDenies] {
				t.Errorf("%s: the NetBIOS noise has a filter: filter-upkeep has nothing left to propose", tn)
			}
		}
	})
	t.Run("NoLateralHistory", func(t *testing.T) {
		// Before the story, patient zero never logged on to the lateral host.
		r, err := store.Count(ctx, lhk.CountRequest{Tenant: Story.Tenant, From: st.From, To: StoryTime(DefaultStart),
			Fields: []lhk.Condition{eq("host.name", Story.LateralHost), eq("source.ip", Story.PatientZeroIP)}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Count != 0 {
			t.Fatalf("%d earlier events from %s on %s", r.Count, Story.PatientZeroIP, Story.LateralHost)
		}
	})
}

func TestWeekStart(t *testing.T) {
	day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	cases := []struct {
		name  string
		today time.Time
		want  time.Time
	}{
		{"Friday", day(11, 27, 12), day(11, 16, 0)},
		{"MondayMidnight", day(11, 23, 0), day(11, 16, 0)},
		{"SundayLate", day(11, 29, 23), day(11, 16, 0)},
		{"NextMonday", day(11, 30, 0), day(11, 23, 0)},
		{"AcrossTheYear", time.Date(2027, 1, 2, 9, 0, 0, 0, time.UTC), time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)},
		// Monday 01:00 in Tokyo is still Sunday in UTC: the week is UTC's.
		{"TokyoMonday", time.Date(2026, 11, 30, 1, 0, 0, 0, time.FixedZone("JST", 9*3600)), day(11, 16, 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := WeekStart(c.today)
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("WeekStart(%s) = %s, want %s", c.today, got, c.want)
			}
		})
	}
}

// TestGenerateFollowsStart: the dataset of any week holds the whole story in
// that week, and is deterministic given the start.
func TestGenerateFollowsStart(t *testing.T) {
	start := WeekStart(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))
	o := small
	o.Start = start
	a, st := generate(t, o)
	b, _ := generate(t, o)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same start differ")
	}
	if !st.From.Equal(start) || !st.To.Equal(start.AddDate(0, 0, DefaultDays)) {
		t.Fatalf("range %s–%s, want the week of %s", st.From, st.To, start)
	}
	if st.Story == 0 {
		t.Fatal("no story events")
	}
	evs := parse(t, a)
	first, _ := time.Parse(time.RFC3339, str(evs[0]["@timestamp"]))
	last, _ := time.Parse(time.RFC3339, str(evs[len(evs)-1]["@timestamp"]))
	if first.Before(start) || !last.Before(st.To) {
		t.Fatalf("events from %s to %s, outside the week of %s", first, last, start)
	}
	if !bytes.Contains(a, []byte(StoryTime(start).Format("2006-01-02T15"))) {
		t.Errorf("nothing at the story's hour %s", StoryTime(start))
	}
}

func TestTickets(t *testing.T) {
	start := WeekStart(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))
	ts := Tickets(start)
	tenants := map[string]int{}
	for _, tk := range ts {
		tenants[tk.Tenant]++
		if tk.CreatedAt.Before(start) || !tk.CreatedAt.Before(start.AddDate(0, 0, DefaultDays)) {
			t.Errorf("%q opened at %s, outside the week of %s", tk.Title, tk.CreatedAt, start)
		}
	}
	for _, tn := range Tenants {
		if tenants[tn] < 2 {
			t.Errorf("%s has %d tickets, want at least 2", tn, tenants[tn])
		}
	}
	st := StoryTicket(start)
	var alert struct{ ID, Time, Host, Rule string }
	if err := json.Unmarshal(StoryAlert(start), &alert); err != nil {
		t.Fatal(err)
	}
	if st.ExternalKey != alert.ID || st.Title != alert.Rule+" on "+alert.Host || st.Severity != lhk.SeverityHigh {
		t.Errorf("story ticket %+v does not match its alert %+v", st, alert)
	}
	if !strings.Contains(st.Description, "- time: "+alert.Time+"\n") {
		t.Errorf("the story ticket has no time line of its alert (%s):\n%s", alert.Time, st.Description)
	}
	if !slices.ContainsFunc(ts, func(tk lhk.Ticket) bool { return tk.ExternalKey == st.ExternalKey }) {
		t.Error("Tickets lacks the story ticket")
	}
}

// BenchmarkGenerate writes one tenant-week of about a million events.
func BenchmarkGenerate(b *testing.B) {
	o := Options{Days: 7, EventsPerDay: 143_000, Tenants: []string{TenantAcme}}
	var events int
	for b.Loop() {
		st, err := Generate(o, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		events = st.Events
	}
	b.ReportMetric(float64(events), "events/op")
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
