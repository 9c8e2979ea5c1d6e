package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/internal/wasmtest"
	"github.com/lhk-soc/lhk/systems/logsqlite"
)

// usecase is a daemon holding the demo data of both tenants, alice (an
// analyst who may work on acme and globex) and a notification receiver on
// channel "soc".
type usecase struct {
	*testDaemon
	alice string
	notes chan map[string]any
	start time.Time // the first day of the data
	stats demodata.Stats
}

// newUsecase starts a daemon and ingests a week of demo data from start,
// with eventsPerDay background events a day per tenant.
func newUsecase(t *testing.T, eventsPerDay int, start time.Time) *usecase {
	t.Helper()
	notes := make(chan map[string]any, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		notes <- m
	}))
	t.Cleanup(recv.Close)
	d := startDaemon(t, t.TempDir(), "--notify", "soc="+recv.URL)
	u := &usecase{testDaemon: d, notes: notes, start: start}
	u.alice = d.user(t, "alice", "analyst")
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","filters.read","filters.write","tickets.read","tickets.write","reports.write","notify.send"],"tenants":["acme","globex"]}}`))

	var buf bytes.Buffer
	st, err := demodata.Generate(demodata.Options{Start: u.start, Days: 7, EventsPerDay: eventsPerDay, Seed: 7}, &buf)
	if err != nil {
		t.Fatalf("demodata.Generate: %v", err)
	}
	u.stats = st
	r := d.must(t, http.StatusOK, "POST", "/v1/logs", d.Admin, buf.Bytes()).JSON(t)
	if r["accepted"] != float64(st.Events) || r["rejected"] != 0.0 {
		t.Fatalf("ingest of %d demo events = %v", st.Events, r)
	}
	return u
}

// install uploads the plugin in plugins/<name> as alice and grants it caps on
// acme only.
func (u *usecase) install(t *testing.T, name string, caps ...string) {
	t.Helper()
	if r := u.upload(t, u.alice, name, "plugins/"+name); r.Status != http.StatusCreated {
		t.Fatalf("upload %s = %d %s", name, r.Status, r.Body)
	}
	grant, _ := json.Marshal(map[string]any{"capabilities": caps, "tenants": []string{"acme"}})
	u.must(t, http.StatusOK, "PUT", "/v1/plugins/"+name+"/grant", u.alice, grant)
	// Findings are checked here, not speed: a slow CI machine must not time out.
	u.must(t, http.StatusOK, "PATCH", "/v1/plugins/"+name, u.alice, []byte(`{"timeout_ms":600000}`))
}

// call posts JSON to a library route as admin and decodes the answer.
func (u *usecase) call(t *testing.T, path string, req any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(req)
	return u.must(t, http.StatusOK, "POST", path, u.Admin, b).JSON(t)
}

// count counts a tenant's events matching conds, all of them.
func (u *usecase) count(t *testing.T, tenant string, conds ...[]any) int {
	t.Helper()
	all := []any{}
	for _, c := range conds {
		all = append(all, c...)
	}
	r := u.call(t, "/v1/logs/count", map[string]any{"tenant": tenant, "fields": all,
		"from": u.start.AddDate(0, 0, -1).Format(time.RFC3339), "to": u.start.AddDate(0, 0, 8).Format(time.RFC3339)})
	return int(r["count"].(float64))
}

// invocationLogs returns the log lines of the invocation that answered r.
func (u *usecase) invocationLogs(t *testing.T, r response) string {
	t.Helper()
	id := r.Header.Get("X-Lhk-Invocation")
	inv := u.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, u.alice, nil).JSON(t)
	b, _ := json.Marshal(inv["logs"])
	return string(b)
}

// globexNames are globex's hosts and users that acme does not share.
func globexNames() []string {
	acme := append(demodata.Hosts(demodata.TenantAcme), demodata.Users(demodata.TenantAcme)...)
	var out []string
	for _, n := range append(demodata.Hosts(demodata.TenantGlobex), demodata.Users(demodata.TenantGlobex)...) {
		if !slices.Contains(acme, n) {
			out = append(out, n)
		}
	}
	return out
}

// assertNoGlobex fails when text names globex, its hosts or its users.
func assertNoGlobex(t *testing.T, what, text string) {
	t.Helper()
	for _, n := range append(globexNames(), "globex", "GLOBEX") {
		if strings.Contains(text, n) {
			t.Errorf("%s mentions globex's %q", what, n)
		}
	}
}

// TestUseCaseReport: the weekly report of acme, from the demo data, names
// the attack's host and C2 in its detections and tops, counts the tickets
// opened and the filters' hits, and holds nothing of globex.
func TestUseCaseReport(t *testing.T) {
	// The week ends tomorrow, so that the tickets this test opens (the
	// store stamps them with the real clock) fall inside it.
	u := newUsecase(t, 1500, time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -6))
	u.install(t, "report", "logs.read", "tickets.read", "filters.read", "reports.write")
	u.install(t, "alert-intake", "tickets.read", "tickets.write")
	u.must(t, http.StatusOK, "PATCH", "/v1/plugins/alert-intake", u.alice, []byte(`{"config":{"triage_plugin":"none"}}`))

	// Alerts from the SIEM through alert-intake: the story's twice (a
	// ticket, then a repeat), and a low one.
	lowAlert := []byte(`{"id":"SIEM-ACME-30001","tenant":"acme","rule":"Port scan from a workstation","severity":"low","host":"` + demodata.Hosts(demodata.TenantAcme)[0] + `"}`)
	for _, a := range [][]byte{demodata.StoryAlert(u.start), demodata.StoryAlert(u.start), lowAlert} {
		u.must(t, http.StatusOK, "POST", "/v1/plugins/alert-intake/invoke", u.alice, a)
	}

	// Tickets of both tenants; one acme ticket resolved.
	high := u.call(t, "/v1/tickets/create", map[string]any{"tenant": "acme", "title": "Encoded PowerShell on " + demodata.Story.PatientZeroHost, "severity": "high"})
	low := u.call(t, "/v1/tickets/create", map[string]any{"tenant": "acme", "title": "Backup agent logon failures", "severity": "low"})
	u.call(t, "/v1/tickets/update", map[string]any{"tenant": "acme", "id": low["id"], "status": "resolved"})
	u.call(t, "/v1/tickets/create", map[string]any{"tenant": "globex", "title": "GLOBEX board laptop stolen", "severity": "critical"})
	// Filters of acme and globex for two noise patterns: the monitoring's
	// DNS lookups and the backup agent's failed logons.
	for _, n := range demodata.Noise {
		switch n.Name {
		case demodata.NoiseMonitoringDNS:
			u.call(t, "/v1/filters/upsert", map[string]any{"tenant": n.Tenant, "name": n.Tenant + "-zabbix-dns", "conditions": n.Conditions, "reason": n.Description})
		case demodata.NoiseBackupLogonFailures:
			u.call(t, "/v1/filters/upsert", map[string]any{"tenant": n.Tenant, "name": n.Tenant + "-backup-logons", "conditions": n.Conditions, "reason": n.Description})
		}
	}

	from, to := u.start.Format(time.RFC3339), u.start.AddDate(0, 0, 7).Format(time.RFC3339)
	res := u.must(t, http.StatusOK, "POST", "/v1/plugins/report/invoke", u.alice, []byte(fmt.Sprintf(`{"tenant":"acme","from":%q,"to":%q}`, from, to)))
	var out struct {
		Reports []struct{ Tenant, ID, Title string }
		Summary string
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatalf("output: %v: %s", err, res.Body)
	}
	if len(out.Reports) != 1 || out.Reports[0].Tenant != "acme" || out.Reports[0].ID == "" || !strings.Contains(out.Summary, out.Reports[0].ID) {
		t.Fatalf("output = %s", res.Body)
	}
	if logs := u.invocationLogs(t, res); !strings.Contains(logs, "published "+out.Reports[0].ID+" for acme") {
		t.Errorf("logs do not say what was published: %s", logs)
	}
	rep := u.must(t, http.StatusOK, "GET", "/v1/reports/"+out.Reports[0].ID+"?tenant=acme", u.alice, nil).JSON(t)
	md, html := rep["markdown"].(string), rep["html"].(string)
	if rep["plugin"] != "report" || rep["title"] != out.Reports[0].Title {
		t.Errorf("report record = plugin %v, title %v", rep["plugin"], rep["title"])
	}

	section := func(title string) string {
		_, after, ok := strings.Cut(md, "\n## "+title+"\n")
		if !ok {
			t.Fatalf("report has no section %q:\n%s", title, md)
		}
		s, _, _ := strings.Cut(after, "\n## ")
		return s
	}
	det := section("Detections")
	for _, want := range []string{"Encoded PowerShell", "Process started by an Office application", "Run key starting a script", "Service installed (7045)"} {
		line := lineWith(det, "| "+want+" |")
		if cells := strings.Split(line, "|"); len(cells) < 4 || strings.TrimSpace(cells[3]) == "0" { // | name | severity | events |
			t.Errorf("detection %q did not fire: %q", want, line)
		}
	}
	if line := lineWith(det, "| Encoded PowerShell |"); !strings.Contains(line, "`"+demodata.Story.PatientZeroHost+"`") {
		t.Errorf("encoded PowerShell not placed on %s: %q", demodata.Story.PatientZeroHost, line)
	}
	// Benign noise is not flagged: the backup agent's failed logons, which
	// a filter covers, are counted apart and are no highlight; the other
	// failed logons (mistyped passwords) are a low detection after the
	// attack's.
	backup := u.stats.Noise["acme"][demodata.NoiseBackupLogonFailures]
	all4625 := u.count(t, "acme", []any{map[string]any{"field": "event.code", "op": "eq", "value": "4625"}})
	if want := fmt.Sprintf("| Failed logons (4625) | low | %s | %s |", thousands(all4625-backup), thousands(backup)); !strings.Contains(det, want) || backup == 0 {
		t.Errorf("detections lack %q (the backup agent's %d failed logons covered by the filter):\n%s", want, backup, det)
	}
	highlights := section("Highlights")
	if first := lineWith(highlights, "- "); !strings.HasPrefix(first, "- **") || strings.Contains(first, "Failed logons") {
		t.Errorf("first highlight = %q, want a detection of the attack", first)
	}
	if line := lineWith(highlights, "Failed logons"); line != "" && !strings.Contains(line, fmt.Sprintf("**Failed logons (4625)**: %s events", thousands(all4625-backup))) {
		t.Errorf("the highlights count the backup agent's %d failed logons: %q", backup, line)
	}
	for _, want := range []string{"**Encoded PowerShell**", "3 alerts received from the SIEM (2 new, 1 repeat), 2 of them high or critical."} {
		if !strings.Contains(highlights, want) {
			t.Errorf("highlights lack %q:\n%s", want, highlights)
		}
	}
	alerts := section("Alerts received in the period")
	for _, want := range []string{"**3 alerts**: 2 opened a ticket, 1 repeated an alert already tracked.", "| high | 2 |", "| low | 1 |",
		"![Alerts by severity](data:image/svg+xml;base64,", "![Alerts and tickets opened by day](data:image/svg+xml;base64,"} {
		if !strings.Contains(alerts, want) {
			t.Errorf("alerts section lacks %q:\n%s", want, alerts)
		}
	}
	if !strings.Contains(section("Top hosts"), "![Top hosts by events](data:image/svg+xml;base64,") {
		t.Errorf("no chart of the top hosts")
	}
	if !strings.Contains(section("Top destination IPs"), "`"+demodata.Story.C2IP+"`") {
		t.Errorf("C2 %s not among the top destination IPs:\n%s", demodata.Story.C2IP, section("Top destination IPs"))
	}
	if !strings.Contains(section("Top destination domains"), "`"+demodata.Story.C2Domain+"`") {
		t.Errorf("C2 %s not among the top domains:\n%s", demodata.Story.C2Domain, section("Top destination domains"))
	}
	if !strings.Contains(section("Top hosts"), "`"+demodata.Story.PatientZeroHost+"`") {
		t.Errorf("%s not among the top hosts:\n%s", demodata.Story.PatientZeroHost, section("Top hosts"))
	}
	tickets := section("Tickets opened in the period")
	// Two opened here, two by alert-intake.
	for _, want := range []string{"4 tickets opened", "| high | 2 |", "| low | 2 |", "| resolved | 1 |", "`" + high["id"].(string) + "` Encoded PowerShell on " + demodata.Story.PatientZeroHost} {
		if !strings.Contains(tickets, want) {
			t.Errorf("tickets section lacks %q:\n%s", want, tickets)
		}
	}
	filters := section("Analysis filters")
	zabbix := acmeNoise(t, demodata.NoiseMonitoringDNS)
	if want := fmt.Sprintf("| `acme-zabbix-dns` | %s |", thousands(u.stats.Noise["acme"][zabbix.Name])); !strings.Contains(filters, want) {
		t.Errorf("filter hits lack %q (the pattern's events in the data):\n%s", want, filters)
	}
	if days := section("Events by day"); strings.Count(days, "█") < 7 {
		t.Errorf("timeline has no bars:\n%s", days)
	}
	assertNoGlobex(t, "acme's report", md)
	assertNoGlobex(t, "the output", string(res.Body))
	if !strings.Contains(html, "<table>") || strings.Contains(html, "<script") {
		t.Errorf("rendered report: tables %v", strings.Contains(html, "<table>"))
	}

	t.Run("AllGrantedTenants", func(t *testing.T) {
		res := u.must(t, http.StatusOK, "POST", "/v1/plugins/report/invoke", u.alice, []byte(fmt.Sprintf(`{"tenant":"*","from":%q,"to":%q}`, from, to)))
		var out struct{ Reports []struct{ Tenant string } }
		json.Unmarshal(res.Body, &out)
		if len(out.Reports) != 1 || out.Reports[0].Tenant != "acme" {
			t.Fatalf("reports for * = %s", res.Body)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) {
		r := u.must(t, http.StatusUnprocessableEntity, "POST", "/v1/plugins/report/invoke", u.alice, []byte(`{"tenant":"globex"}`))
		if !strings.Contains(string(r.Body), "not in the plugin's grant") {
			t.Fatalf("globex: %s", r.Body)
		}
		if list := u.must(t, http.StatusOK, "GET", "/v1/reports?tenant=globex", u.Admin, nil).JSON(t); len(list["reports"].([]any)) != 0 {
			t.Fatalf("a globex report was published: %v", list)
		}
	})
	t.Run("GrantedBothTenants", func(t *testing.T) {
		// As the demo sets it up: the plugins work on acme and globex. A
		// globex alert arrives; acme's report holds nothing of globex, and
		// globex's report shows its own alert (so the check can fail).
		both, _ := json.Marshal(map[string]any{"capabilities": []string{"tickets.read", "tickets.write"}, "tenants": []string{"acme", "globex"}})
		u.must(t, http.StatusOK, "PUT", "/v1/plugins/alert-intake/grant", u.alice, both)
		both, _ = json.Marshal(map[string]any{"capabilities": []string{"logs.read", "tickets.read", "filters.read", "reports.write"}, "tenants": []string{"acme", "globex"}})
		u.must(t, http.StatusOK, "PUT", "/v1/plugins/report/grant", u.alice, both)
		t.Cleanup(func() {
			u.must(t, http.StatusOK, "PUT", "/v1/plugins/report/grant", u.alice, []byte(`{"capabilities":["logs.read","tickets.read","filters.read","reports.write"],"tenants":["acme"]}`))
		})
		gHost := demodata.Hosts(demodata.TenantGlobex)[0]
		u.must(t, http.StatusOK, "POST", "/v1/plugins/alert-intake/invoke", u.alice,
			[]byte(`{"id":"SIEM-GLOBEX-9","tenant":"globex","rule":"Encoded PowerShell","severity":"critical","host":"`+gHost+`"}`))

		res := u.must(t, http.StatusOK, "POST", "/v1/plugins/report/invoke", u.alice, []byte(fmt.Sprintf(`{"tenant":"*","from":%q,"to":%q}`, from, to)))
		var out struct{ Reports []struct{ Tenant, ID string } }
		json.Unmarshal(res.Body, &out)
		if len(out.Reports) != 2 || out.Reports[0].Tenant != "acme" || out.Reports[1].Tenant != "globex" {
			t.Fatalf("reports for * = %s", res.Body)
		}
		acme := u.must(t, http.StatusOK, "GET", "/v1/reports/"+out.Reports[0].ID+"?tenant=acme", u.alice, nil).JSON(t)["markdown"].(string)
		globex := u.must(t, http.StatusOK, "GET", "/v1/reports/"+out.Reports[1].ID+"?tenant=globex", u.alice, nil).JSON(t)["markdown"].(string)
		assertNoGlobex(t, "acme's report", acme)
		if strings.Contains(acme, "10.30.") || strings.Contains(acme, "SIEM-GLOBEX") {
			t.Errorf("acme's report holds a globex address or alert")
		}
		if !strings.Contains(acme, "**3 alerts**") {
			t.Errorf("acme's alerts changed with globex's: %s", lineWith(acme, "alerts**"))
		}
		if !strings.Contains(globex, "**1 alerts**: 1 opened a ticket") || !strings.Contains(globex, "| critical | 1 |") || !strings.Contains(globex, gHost) {
			t.Errorf("globex's report misses its own alert or host:\n%s", globex)
		}
	})
}

// TestUseCaseReportCron: scheduled with {"tenant":"acme"} and no period, the
// report covers the previous week and is published by the cron trigger.
func TestUseCaseReportCron(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	u := &usecase{testDaemon: d, alice: d.user(t, "alice", "analyst")}
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","tickets.read","filters.read","reports.write"],"tenants":["acme"]}}`))
	u.install(t, "report", "logs.read", "tickets.read", "filters.read", "reports.write")
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/report/schedule", u.alice, []byte(`{"cron":"@every 1s","input":"{\"tenant\":\"acme\"}"}`))
	var reports []any
	waitFor(t, "a scheduled report", func() bool {
		reports = d.must(t, http.StatusOK, "GET", "/v1/reports?tenant=acme", u.alice, nil).JSON(t)["reports"].([]any)
		return len(reports) > 0
	})
	d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/report/schedule", u.alice, nil)
	rep := reports[len(reports)-1].(map[string]any)
	now := time.Now().UTC()
	monday := now.Truncate(24*time.Hour).AddDate(0, 0, -(int(now.Weekday())+6)%7)
	want := fmt.Sprintf("Weekly security report: acme, %s – %s", monday.AddDate(0, 0, -7).Format("2006-01-02"), monday.AddDate(0, 0, -1).Format("2006-01-02"))
	if rep["title"] != want && !strings.HasPrefix(now.Format("Mon 15:04"), "Mon 00:0") { // a run across Monday midnight may see either week
		t.Errorf("scheduled report title = %v, want %q", rep["title"], want)
	}
	invs := d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=report&trigger=cron&limit=1", u.alice, nil).JSON(t)
	if list, _ := invs["invocations"].([]any); len(list) == 0 {
		t.Fatalf("no cron invocation recorded: %v", invs)
	}
}

// lineWith returns the first line of s containing sub, or "".
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// acmeNoise returns acme's noise pattern by name.
func acmeNoise(t *testing.T, name string) demodata.NoisePattern {
	t.Helper()
	for _, n := range demodata.Noise {
		if n.Tenant == demodata.TenantAcme && n.Name == name {
			return n
		}
	}
	t.Fatalf("demo has no acme noise %q", name)
	return demodata.NoisePattern{}
}

// thousands formats n as the report does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// BenchmarkReportWeek measures the weekly report of one tenant end to end:
// POST /v1/plugins/report/invoke for a week of acme's demo data (the plugin's
// queries, the Markdown and the publishing), against a baseline in the same
// run: the same log, ticket and filter queries sent by the test straight to
// the HTTP API, one after the other, as a script would. The week holds
// LHK_BENCH_EVENTS events of acme (default 20,000), ingested once into the
// logs store before the daemon starts.
func BenchmarkReportWeek(b *testing.B) {
	events := 20_000
	if s := os.Getenv("LHK_BENCH_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 7 {
			b.Fatalf("LHK_BENCH_EVENTS=%q: want a number of events", s)
		}
		events = n
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := b.TempDir()
	start := demodata.DefaultStart
	store, err := logsqlite.Open(ctx, filepath.Join(dir, "logs.db"))
	if err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() {
		_, err := demodata.Generate(demodata.Options{Start: start, Days: 7, EventsPerDay: events / 7, Seed: 1, Tenants: []string{demodata.TenantAcme}}, pw)
		pw.CloseWithError(err)
	}()
	t0 := time.Now()
	ing, err := store.Ingest(ctx, "", pr)
	if err != nil {
		b.Fatal(err)
	}
	store.Close()
	b.Logf("ingested %d events (%d rejected) in %s", ing.Accepted, ing.Rejected, time.Since(t0).Round(time.Second))

	d, err := open(ctx, config{Listen: "127.0.0.1:0", Data: dir, AdminToken: adminToken}, io.Discard, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.serveUntil(ctx) }()
	defer func() { cancel(); <-done }()
	td := &testDaemon{URL: d.URL(), Admin: adminToken}
	td.must(b, http.StatusCreated, "POST", "/v1/plugins/report/versions", adminToken, wasmtest.Build(b, "plugins/report"))
	td.must(b, http.StatusOK, "PUT", "/v1/plugins/report/grant", adminToken, []byte(`{"capabilities":["logs.read","tickets.read","filters.read","reports.write"],"tenants":["acme"]}`))
	td.must(b, http.StatusOK, "PATCH", "/v1/plugins/report", adminToken, []byte(`{"timeout_ms":600000}`))
	td.must(b, http.StatusOK, "POST", "/v1/filters/upsert", adminToken, benchJSON(b, map[string]any{"tenant": "acme", "name": "zabbix-dns", "reason": "monitoring", "conditions": acmeNoiseB(b, demodata.NoiseMonitoringDNS).Conditions}))

	from, to := start, start.AddDate(0, 0, 7)
	input := []byte(fmt.Sprintf(`{"tenant":"acme","from":%q,"to":%q}`, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	b.Run("plugin", func(b *testing.B) {
		for range b.N {
			r := td.must(b, http.StatusOK, "POST", "/v1/plugins/report/invoke", adminToken, input)
			if !bytes.Contains(r.Body, []byte(`"reports":[{"tenant":"acme"`)) {
				b.Fatalf("output: %s", r.Body)
			}
		}
	})
	b.Run("http-queries", func(b *testing.B) {
		queries := reportQueries(from, to)
		verbose := os.Getenv("LHK_BENCH_VERBOSE") != ""
		sent := 0
		for i := range b.N {
			for _, q := range queries {
				t0 := time.Now()
				td.must(b, http.StatusOK, "POST", q.path, adminToken, benchJSON(b, q.body))
				sent++
				if verbose && i == 0 {
					b.Logf("%7.1f ms %s %v %s %s", float64(time.Since(t0).Microseconds())/1000, q.path, q.body["field"], q.body["query"], benchJSON(b, q.body["fields"]))
				}
			}
		}
		b.ReportMetric(float64(sent)/float64(b.N), "queries")
	})
}

// reportQuery is one request of the report's baseline.
type reportQuery struct {
	path string
	body map[string]any
}

// reportQueries are the queries the report plugin sends for a week of acme
// (see plugins/report/gather.go): the total, one count a day, datasets,
// filter hits, each detection's hosts (whose total is its count) with and
// without the filters' noise, the four top lists, and the tickets of the
// week and the older ones with repeated alerts.
func reportQueries(from, to time.Time) []reportQuery {
	span := func(f, t time.Time, kv ...any) map[string]any {
		m := map[string]any{"tenant": "acme", "from": f.Format(time.RFC3339), "to": t.Format(time.RFC3339)}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	c := func(field, op, value string) map[string]any {
		return map[string]any{"field": field, "op": op, "value": value}
	}
	qs := []reportQuery{{path: "/v1/logs/count", body: span(from, to)}}
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		qs = append(qs, reportQuery{path: "/v1/logs/count", body: span(d, d.AddDate(0, 0, 1))})
	}
	qs = append(qs, reportQuery{path: "/v1/logs/top", body: span(from, to, "field", "event.dataset", "limit", 20)})
	type match struct {
		query string
		conds []any
	}
	detections := []match{
		{"", []any{c("event.code", "eq", "4625")}},
		{"enc", []any{c("process.command_line", "contains", "-enc ")}},
		{"encodedcommand", []any{c("process.command_line", "contains", "-encodedcommand")}},
		{"mimikatz", []any{c("process.command_line", "contains", "mimikatz")}},
		{"sekurlsa", []any{c("process.command_line", "contains", "sekurlsa")}},
		{"", []any{c("event.code", "eq", "1102")}},
		{"", []any{c("event.code", "eq", "7045")}},
	}
	for _, app := range []string{"winword", "excel", "powerpnt", "outlook", "mspub", "onenote"} {
		detections = append(detections, match{app, []any{map[string]any{"field": "process.name", "op": "exists"}, c("process.parent.name", "contains", app+".exe")}})
	}
	for _, interp := range []string{"powershell", "mshta", "wscript"} {
		detections = append(detections, match{"currentversion run " + interp, []any{c("registry.path", "contains", `\CurrentVersion\Run`), c("Details", "contains", interp)}})
	}
	// The benchmark's filter matches, so each detection is counted without
	// the filters' noise and with it; the filter statistics come first.
	qs = append(qs, reportQuery{path: "/v1/filters/stats", body: span(from, to)})
	for _, det := range detections {
		qs = append(qs, reportQuery{path: "/v1/logs/top", body: span(from, to, "field", "host.name", "query", det.query, "fields", det.conds, "limit", 5, "apply_filters", true)},
			reportQuery{path: "/v1/logs/top", body: span(from, to, "field", "host.name", "query", det.query, "fields", det.conds, "limit", 1)})
	}
	qs = append(qs, reportQuery{path: "/v1/logs/top", body: span(from, to, "field", "url.domain", "fields", []any{c("event.dataset", "eq", "proxy")}, "limit", 10)})
	for _, f := range []string{"host.name", "user.name", "destination.ip"} {
		qs = append(qs, reportQuery{path: "/v1/logs/top", body: span(from, to, "field", f, "limit", 10)})
	}
	qs = append(qs, reportQuery{path: "/v1/tickets/search", body: span(from, to, "limit", 500)},
		reportQuery{path: "/v1/tickets/search", body: span(from.AddDate(0, 0, -30), from, "limit", 500, "text", "the siem raised this alert again")})
	return qs
}

func benchJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// acmeNoiseB is acmeNoise for benchmarks.
func acmeNoiseB(tb testing.TB, name string) demodata.NoisePattern {
	tb.Helper()
	for _, n := range demodata.Noise {
		if n.Tenant == demodata.TenantAcme && n.Name == name {
			return n
		}
	}
	tb.Fatalf("demo has no acme noise %q", name)
	return demodata.NoisePattern{}
}
