package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/httpapi"
)

// demoTestEvents keeps the test's dataset small (events a day per tenant).
const demoTestEvents = 200

// startDemo runs `lhkd demo --listen 127.0.0.1:0 --data dir` from the
// repository root and waits for its whole start-up message. It returns the
// daemon and that message.
func startDemo(t *testing.T, dir string, today time.Time) (*testDaemon, string) {
	t.Helper()
	t.Setenv("LHK_ADMIN_TOKEN", "")
	t.Setenv(demoEventsEnv, fmt.Sprint(demoTestEvents))
	t.Setenv(demoTodayEnv, today.Format(time.DateOnly))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "user-cache")) // the compile cache stays in the test's folder
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--data", dir}, pw, &stderr)
		pw.Close()
	}()
	ready := make(chan string, 1)
	go func() {
		var out strings.Builder
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !sent && strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
				ready <- out.String()
				sent = true
			}
		}
		if !sent {
			ready <- out.String()
		}
		close(ready)
	}()
	var msg string
	select {
	case msg = <-ready:
	case <-time.After(10 * time.Minute): // plugins build from source: generous, never a measure
		cancel()
		t.Fatalf("lhkd demo did not start\n%s", stderr.String())
	}
	m := regexp.MustCompile(`(?m)^lhkd listening on (\S+)$`).FindStringSubmatch(msg)
	if m == nil {
		cancel()
		t.Fatalf("lhkd demo exited before listening: %v\n%s\n%s", <-done, msg, stderr.String())
	}
	d := &testDaemon{URL: m[1], Admin: demoAdminToken}
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("lhkd demo shutdown: %v\n%s", err, stderr.String())
		}
	}
	t.Cleanup(d.stop)
	return d, msg
}

// waitDemoReady polls /readyz until the demo data loaded. While it loads
// the reason says how far it got.
func waitDemoReady(t *testing.T, d *testDaemon) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute) // generous, never a measure
	for {
		r := d.do(t, "GET", "/readyz", "", nil)
		if r.Status == http.StatusOK {
			return
		}
		if reason := fmt.Sprint(r.JSON(t)["reason"]); r.Status != http.StatusServiceUnavailable || !strings.HasPrefix(reason, "loading demo data") || strings.Contains(reason, "failed") {
			t.Fatalf("/readyz = %d %s while the demo data loads", r.Status, r.Body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo data did not load: /readyz = %s", r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// demoWant is the dataset the demo loads for today.
func demoWant(t *testing.T, today time.Time) (demodata.Stats, string) {
	t.Helper()
	want, err := demodata.Generate(demodata.Options{Start: demodata.WeekStart(today), EventsPerDay: demoTestEvents}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return want, fmt.Sprintf(`"from":%q,"to":%q`, want.From.Format(time.RFC3339), want.To.Format(time.RFC3339))
}

// TestDemoWeek: the demo's week is the last whole week before the day it
// takes for today, and a data directory keeps its week on a later start.
func TestDemoWeek(t *testing.T) {
	t.Chdir(t.TempDir()) // no plugins/ here: only the data
	dir := t.TempDir()
	today := time.Date(2027, 3, 10, 15, 0, 0, 0, time.UTC) // a Wednesday
	want, span := demoWant(t, today)
	if got := want.From.Format(time.DateOnly); got != "2027-03-01" {
		t.Fatalf("week of %s, want 2027-03-01", got)
	}
	check := func(t *testing.T, d *testDaemon, out string) {
		t.Helper()
		if !strings.Contains(out, "the week of 2027-03-01 (Monday) to 2027-03-07 (Sunday), UTC") {
			t.Errorf("start-up message does not name the week:\n%s", out)
		}
		waitDemoReady(t, d)
		for _, tn := range demoTenants {
			r := d.must(t, http.StatusOK, "POST", "/v1/logs/count", demoAliceToken, []byte(fmt.Sprintf(`{"tenant":%q,%s}`, tn, span)))
			if got := int(r.JSON(t)["count"].(float64)); got != want.ByTenant[tn] {
				t.Errorf("%s: %d events in the week, want %d", tn, got, want.ByTenant[tn])
			}
		}
	}
	d, out := startDemo(t, dir, today)
	check(t, d, out)
	d.stop()
	// Two weeks later the directory still holds its week, and says so.
	d2, out2 := startDemo(t, dir, today.AddDate(0, 0, 14))
	if !strings.Contains(out2, "loaded earlier") || strings.Contains(out2, "loading the demo data") {
		t.Errorf("second start loads the dataset again:\n%s", out2)
	}
	if !strings.Contains(out2, "It is not last week (2027-03-15)") {
		t.Errorf("second start does not say its week is not last week's:\n%s", out2)
	}
	check(t, d2, out2)
}

func TestDemo(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	mains, _ := filepath.Glob(filepath.Join("plugins", "*", "main.go"))
	var plugins []string
	for _, m := range mains {
		plugins = append(plugins, filepath.Base(filepath.Dir(m)))
	}
	// Today, pinned: the week of the data is the one a report without dates
	// covers when it runs now.
	today := time.Now().UTC()
	want, span := demoWant(t, today)
	from := want.From
	dir := t.TempDir()

	d, out := startDemo(t, dir, today)
	waitDemoReady(t, d)
	alice := demoAliceToken
	count := func(t *testing.T, d *testDaemon, tenant string) int {
		t.Helper()
		r := d.must(t, http.StatusOK, "POST", "/v1/logs/count", alice, []byte(fmt.Sprintf(`{"tenant":%q,%s}`, tenant, span)))
		return int(r.JSON(t)["count"].(float64))
	}
	search := func(t *testing.T, path, body string) []map[string]any {
		t.Helper()
		r := d.must(t, http.StatusOK, "POST", path, alice, []byte(body))
		var res struct{ Events []map[string]any }
		if err := json.Unmarshal(r.Body, &res); err != nil {
			t.Fatal(err)
		}
		return res.Events
	}
	invoke := func(t *testing.T, plugin, input string, out any) {
		t.Helper()
		r := d.must(t, http.StatusOK, "POST", "/v1/plugins/"+plugin+"/invoke", alice, []byte(input))
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("%s output: %v\n%s", plugin, err, r.Body)
		}
	}
	need := func(t *testing.T, names ...string) {
		t.Helper()
		for _, n := range names {
			if !slices.Contains(plugins, n) {
				t.Skipf("no %s plugin", n)
			}
		}
	}

	t.Run("Output", func(t *testing.T) {
		for _, s := range []string{"loading in the background", "lhk_demo_alice", "/v1/logs/search", "/v1/logs/search_fields", "ioc-extract/invoke", "trigger=cron",
			"the week of " + from.Format(time.DateOnly) + " (Monday)", `Notifications to channel "soc"`} {
			if !strings.Contains(out, s) {
				t.Errorf("start-up message lacks %q:\n%s", s, out)
			}
		}
		for _, p := range plugins {
			if !strings.Contains(out, "  "+p+" ") {
				t.Errorf("start-up message does not list plugin %s:\n%s", p, out)
			}
		}
		if strings.Contains(out, "Asia/Tokyo") {
			t.Errorf("start-up message names Tokyo, but the data's days are UTC:\n%s", out)
		}
	})
	t.Run("Events", func(t *testing.T) {
		for _, tn := range demoTenants {
			if got := count(t, d, tn); got != want.ByTenant[tn] {
				t.Errorf("%s: %d events, want %d", tn, got, want.ByTenant[tn])
			}
			prefix := strings.ToUpper(tn) + "-"
			evs := search(t, "/v1/logs/search_fields", fmt.Sprintf(`{"tenant":%q,"fields":[{"field":"host.name","op":"exists"}],%s,"limit":50}`, tn, span))
			if len(evs) == 0 {
				t.Fatalf("%s: no events with host.name", tn)
			}
			for _, e := range evs {
				if h := fmt.Sprint(e["host.name"]); !strings.HasPrefix(h, prefix) || e["tenant"] != tn {
					t.Fatalf("%s: event of host %s, tenant %v", tn, h, e["tenant"])
				}
			}
		}
	})
	t.Run("Story", func(t *testing.T) {
		cases := []struct{ name, path, query string }{
			{"FreeTextMarker", "/v1/logs/search", fmt.Sprintf(`"query":%q`, demodata.Story.EncodedMarker)},
			{"FreeTextWords", "/v1/logs/search", `"query":"powershell -enc"`},
			{"Fields", "/v1/logs/search_fields", `"fields":[{"field":"process.parent.name","op":"eq","value":"WINWORD.EXE"},{"field":"process.name","op":"eq","value":"powershell.exe"}]`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, tn := range demoTenants {
					evs := search(t, c.path, fmt.Sprintf(`{"tenant":%q,%s,%s}`, tn, c.query, span))
					if tn == demodata.Story.Tenant {
						if len(evs) == 0 {
							t.Fatalf("no event in %s", tn)
						}
						if !slices.ContainsFunc(evs, func(e map[string]any) bool {
							return fmt.Sprint(e["process.command_line"]) == demodata.StoryCommandLine
						}) {
							t.Fatalf("%d events found, not the encoded PowerShell: %v", len(evs), evs[0])
						}
					} else if len(evs) > 0 {
						t.Fatalf("%d events in %s: %v", len(evs), tn, evs[0])
					}
				}
			})
		}
	})
	t.Run("Assets", func(t *testing.T) {
		for _, tn := range demoTenants {
			r := d.must(t, http.StatusOK, "GET", "/v1/assets?tenant="+tn, alice, nil)
			var res struct{ Assets []lhk.Asset }
			if err := json.Unmarshal(r.Body, &res); err != nil {
				t.Fatal(err)
			}
			names := map[string]lhk.Asset{}
			for _, a := range res.Assets {
				names[a.Name] = a
			}
			for _, h := range demodata.Hosts(tn) {
				if _, ok := names[h]; !ok {
					t.Errorf("%s: asset %s missing", tn, h)
				}
			}
			if tn == demodata.Story.Tenant && names[demodata.Story.LateralHost].Criticality != "high" {
				t.Errorf("%s = %+v, want criticality high", demodata.Story.LateralHost, names[demodata.Story.LateralHost])
			}
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for _, tn := range demoTenants {
			r := d.must(t, http.StatusOK, "GET", "/v1/filters?tenant="+tn+"&include_expired=true", alice, nil)
			var res struct{ Filters []lhk.Filter }
			if err := json.Unmarshal(r.Body, &res); err != nil {
				t.Fatal(err)
			}
			got := map[string]lhk.Filter{}
			for _, f := range res.Filters {
				got[f.Name] = f
			}
			for _, f := range demodata.Filters(from, "alice") {
				if f.Tenant != tn {
					continue
				}
				g, ok := got[f.Name]
				switch {
				case !ok:
					t.Errorf("%s: filter %s missing", tn, f.Name)
				case f.Name == demodata.FilterExpired && g.Active(time.Now()):
					t.Errorf("%s/%s is active: %+v", tn, f.Name, g)
				case f.Name == demodata.FilterStale && g.HitCount != 0:
					t.Errorf("%s/%s has %d hits, want none", tn, f.Name, g.HitCount)
				case f.Name != demodata.FilterExpired && f.Name != demodata.FilterStale && (g.HitCount != int64(want.Noise[tn][f.Name]) || g.HitCount == 0):
					t.Errorf("%s/%s has %d hits, want its noise's %d", tn, f.Name, g.HitCount, want.Noise[tn][f.Name])
				}
			}
		}
	})
	storyTicket := ""
	t.Run("Tickets", func(t *testing.T) {
		for _, tn := range demoTenants {
			r := d.must(t, http.StatusOK, "GET", "/v1/tickets?tenant="+tn, alice, nil)
			var res struct{ Tickets []lhk.Ticket }
			if err := json.Unmarshal(r.Body, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Tickets) < 2 {
				t.Errorf("%s: %d tickets, want at least 2", tn, len(res.Tickets))
			}
			for _, tk := range res.Tickets {
				if tk.CreatedAt.Before(want.From) || !tk.CreatedAt.Before(want.To) {
					t.Errorf("%s: ticket %q opened %s, outside the week", tn, tk.Title, tk.CreatedAt)
				}
				if tk.ExternalKey == demodata.Story.AlertID {
					storyTicket = tk.ID
				}
			}
		}
		if storyTicket == "" {
			t.Fatalf("no ticket of the story's alert %s", demodata.Story.AlertID)
		}
	})
	t.Run("Plugins", func(t *testing.T) {
		if len(plugins) == 0 {
			t.Skip("no plugins in plugins/")
		}
		for _, name := range plugins {
			r := d.must(t, http.StatusOK, "GET", "/v1/plugins/"+name, alice, nil)
			var p lhk.Plugin
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Owner != "alice" || p.CurrentVersion < 1 {
				t.Errorf("%s: owner %s, version %d", name, p.Owner, p.CurrentVersion)
			}
			i := slices.IndexFunc(demoPlugins, func(dp demoPlugin) bool { return dp.name == name })
			if i < 0 {
				continue
			}
			dp := demoPlugins[i]
			caps := slices.DeleteFunc(slices.Clone(dp.capabilities), func(c string) bool { return !lhk.ValidCapability(c) })
			if !sameSet(p.Grant.Capabilities, caps) || (len(caps) > 0 && !sameSet(p.Grant.Tenants, demoTenants)) {
				t.Errorf("%s: grant %+v, want %v on %v", name, p.Grant, caps, demoTenants)
			}
			switch {
			case dp.schedule == nil && p.Schedule != nil:
				t.Errorf("%s: unexpected schedule %+v", name, p.Schedule)
			case dp.schedule != nil && (p.Schedule == nil || p.Schedule.Cron != dp.schedule.Cron || p.Schedule.Input != dp.schedule.Input || !p.Schedule.Enabled):
				t.Errorf("%s: schedule %+v, want %+v", name, p.Schedule, dp.schedule)
			case p.Schedule != nil && p.Schedule.Timezone != "UTC":
				t.Errorf("%s: schedule in %s, but the data's days are UTC", name, p.Schedule.Timezone)
			}
			if len(caps) > 0 {
				r := d.must(t, http.StatusOK, "GET", "/v1/audit?actor=admin&target=plugin/"+name, demoAdminToken, nil)
				if !strings.Contains(string(r.Body), "grant") {
					t.Errorf("%s: the audit log shows no grant by admin: %s", name, r.Body)
				}
			}
		}
	})
	t.Run("ScheduledReport", func(t *testing.T) {
		// The Monday run, as cron makes it: the schedule's input, no dates.
		need(t, "report")
		var p lhk.Plugin
		if err := json.Unmarshal(d.must(t, http.StatusOK, "GET", "/v1/plugins/report", alice, nil).Body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Schedule == nil {
			t.Fatal("report has no schedule")
		}
		var res struct {
			Reports []struct{ Tenant, ID, Title string }
			Summary string
		}
		invoke(t, "report", p.Schedule.Input, &res)
		if !demodata.WeekStart(time.Now()).Equal(from) {
			t.Skip("a new week began during the test")
		}
		var tenants []string
		for _, rep := range res.Reports {
			tenants = append(tenants, rep.Tenant)
			b := d.must(t, http.StatusOK, "GET", "/v1/reports/"+rep.ID+"/download?tenant="+rep.Tenant, alice, nil).Body
			body := string(b)
			tickets := 0
			for _, tk := range demodata.Tickets(from) {
				if tk.Tenant == rep.Tenant {
					tickets++
				}
			}
			period := fmt.Sprintf("Period: Mon %s 00:00 to Mon %s 00:00 (UTC", from.Format(time.DateOnly), want.To.Format(time.DateOnly))
			for _, w := range []string{period, fmt.Sprintf("%d tickets opened", tickets), "analysis filters matched"} {
				if !strings.Contains(body, w) {
					t.Errorf("%s's report lacks %q:\n%s", rep.Tenant, w, body)
				}
			}
			if strings.Contains(body, "Events: **0**") {
				t.Errorf("%s's report has no events:\n%s", rep.Tenant, body)
			}
		}
		if !sameSet(tenants, demoTenants) {
			t.Errorf("the scheduled report covers %v, want %v:\n%s", tenants, demoTenants, res.Summary)
		}
	})
	t.Run("FilterUpkeepNotifies", func(t *testing.T) {
		need(t, "filter-upkeep")
		m := regexp.MustCompile(`(?m)^  curl -s (http://127\.0\.0\.1:\d+/)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no notification inbox in the start-up message:\n%s", out)
		}
		var res struct {
			Expired, Stale []struct{ Tenant, Name string }
			Notified       []string
		}
		invoke(t, "filter-upkeep", `{"tenant":"*","stale_days":30}`, &res)
		for _, tn := range demoTenants {
			has := func(list []struct{ Tenant, Name string }, name string) bool {
				return slices.Contains(list, struct{ Tenant, Name string }{tn, name})
			}
			if !has(res.Expired, demodata.FilterExpired) || !has(res.Stale, demodata.FilterStale) {
				t.Errorf("%s: expired %v, stale %v, want %s and %s", tn, res.Expired, res.Stale, demodata.FilterExpired, demodata.FilterStale)
			}
		}
		if !sameSet(res.Notified, demoTenants) {
			t.Fatalf("notified %v, want %v", res.Notified, demoTenants)
		}
		r, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var inbox struct{ Notifications []lhk.Notification }
		if err := json.NewDecoder(r.Body).Decode(&inbox); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range inbox.Notifications {
			if n.Channel == demoChannel && strings.Contains(n.Text, demodata.FilterExpired) {
				got = append(got, n.Tenant)
			}
		}
		if !sameSet(got, demoTenants) {
			t.Errorf("the inbox holds filter upkeep's notifications of %v, want %v: %+v", got, demoTenants, inbox.Notifications)
		}
	})
	t.Run("TriageIOC", func(t *testing.T) {
		need(t, "endpoint-triage")
		if storyTicket == "" {
			t.Skip("no story ticket")
		}
		var res struct {
			Findings []struct{ Rule, What string }
		}
		invoke(t, "endpoint-triage", fmt.Sprintf(`{"ticket":%q,"tenant":"acme"}`, storyTicket), &res)
		var iocs []string
		for _, f := range res.Findings {
			if f.Rule == "ioc-match" {
				iocs = append(iocs, f.What)
			}
		}
		for _, ioc := range demodata.IOCs() {
			if !slices.ContainsFunc(iocs, func(w string) bool { return strings.Contains(w, ioc) }) {
				t.Errorf("no ioc-match finding for %s: %+v", ioc, res.Findings)
			}
		}
	})
	t.Run("Webhook", func(t *testing.T) {
		need(t, "alert-intake")
		m := regexp.MustCompile(`-hmac '(whsec_[0-9a-f]+)'`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no webhook example with its secret in the start-up message:\n%s", out)
		}
		body := demodata.StoryAlert(from)
		ts := time.Now().Unix() - 60 // not the second of the shell example below
		req, _ := http.NewRequest("POST", d.URL+"/hooks/alert-intake", strings.NewReader(string(body)))
		req.Header.Set(httpapi.HeaderTimestamp, fmt.Sprint(ts))
		req.Header.Set(httpapi.HeaderSignature, httpapi.Sign(m[1], ts, body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("webhook = %d %s", res.StatusCode, b)
		}
		// The seeded ticket is the one alert-intake would have opened: the
		// alert finds it.
		var intake struct {
			Ticket    string
			Duplicate bool
		}
		if err := json.Unmarshal(b, &intake); err != nil || intake.Ticket != storyTicket || !intake.Duplicate {
			t.Errorf("alert-intake answered %s, want the story ticket %s as a duplicate", b, storyTicket)
		}
		// The printed shell example works as pasted, where its tools exist.
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("no openssl here")
		}
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("no curl here")
		}
		_, example, _ := strings.Cut(out, "Send it the SIEM alert of the attack, signed")
		_, example, _ = strings.Cut(example, ":\n")
		example, _, _ = strings.Cut(example, "Stop with Ctrl-C")
		cmd := exec.Command("bash", "-c", "LHK="+d.URL+"\n"+example+"\necho; echo status done")
		b, err = cmd.CombinedOutput()
		if err != nil || strings.Contains(string(b), "invalid webhook signature") || !strings.Contains(string(b), "status done") {
			t.Fatalf("the webhook example fails: %v\n%s\n%s", err, example, b)
		}
	})

	d.stop()
	d2, out2 := startDemo(t, dir, today)
	t.Run("SecondStart", func(t *testing.T) {
		if !strings.Contains(out2, "loaded earlier") || strings.Contains(out2, "loading the demo data") {
			t.Errorf("second start loads the dataset again:\n%s", out2)
		}
		if strings.Contains(out2, "warning:") {
			t.Errorf("second start warns:\n%s", out2)
		}
		if strings.Contains(out2, "whsec_") {
			t.Errorf("second start prints a webhook secret again:\n%s", out2)
		}
		waitDemoReady(t, d2)
		for _, tn := range demoTenants {
			if got := count(t, d2, tn); got != want.ByTenant[tn] {
				t.Errorf("%s: %d events after a second start, want %d", tn, got, want.ByTenant[tn])
			}
			r := d2.must(t, http.StatusOK, "GET", "/v1/tickets?tenant="+tn, alice, nil)
			var res struct{ Tickets []lhk.Ticket }
			if err := json.Unmarshal(r.Body, &res); err != nil {
				t.Fatal(err)
			}
			if n := len(demodata.Tickets(from)); tn == demodata.TenantAcme && len(res.Tickets) > n {
				t.Errorf("%s: %d tickets after a second start: seeded again", tn, len(res.Tickets))
			}
		}
		// An unchanged plugin is not uploaded again (one edited in between is).
		for _, name := range plugins {
			r := d2.must(t, http.StatusOK, "GET", "/v1/plugins/"+name, alice, nil)
			var p lhk.Plugin
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, v := range p.Versions {
				if seen[v.SHA256] {
					t.Errorf("%s: the same module uploaded twice: %+v", name, p.Versions)
				}
				seen[v.SHA256] = true
			}
		}
	})

	// A first start stopped while loading leaves its marker incomplete: the
	// next start says the dataset may be incomplete rather than load it twice.
	d2.stop()
	b, err := os.ReadFile(filepath.Join(dir, demoMarker))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["complete"] = false
	if err := os.WriteFile(filepath.Join(dir, demoMarker), mustJSON(m), 0o600); err != nil {
		t.Fatal(err)
	}
	d3, out3 := startDemo(t, dir, today)
	t.Run("IncompleteLoad", func(t *testing.T) {
		if !strings.Contains(out3, "warning: the demo dataset") {
			t.Errorf("no warning about an incomplete dataset:\n%s", out3)
		}
		if got := count(t, d3, demodata.TenantAcme); got != want.ByTenant[demodata.TenantAcme] {
			t.Errorf("acme: %d events, want %d", got, want.ByTenant[demodata.TenantAcme])
		}
	})
}

func TestDemoLoopbackOnly(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--listen", "0.0.0.0:0", "--data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("demo on 0.0.0.0: err = %v, want the loopback guard", err)
	}
}

func TestDemoEventsEnv(t *testing.T) {
	t.Chdir(t.TempDir()) // no plugins/ here
	t.Setenv("LHK_ADMIN_TOKEN", "")
	t.Setenv(demoEventsEnv, "lots")
	err := run(context.Background(), []string{"demo", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), demoEventsEnv) {
		t.Fatalf("err = %v, want one naming %s", err, demoEventsEnv)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
