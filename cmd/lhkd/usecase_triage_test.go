package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// soc is a daemon holding the demo dataset of both tenants and their asset
// inventories, with endpoint-triage and alert-intake built from source,
// uploaded by alice (an analyst whose ceiling is acme) and granted on acme
// only, as docs/plugins.md tells a SOC to set them up.
type soc struct {
	*testDaemon
	alice  string
	secret string // alert-intake's webhook secret
	stats  demodata.Stats
}

// socEventsPerDay keeps the dataset small: two tenants × 7 days × 1,500
// background events, plus the story.
const socEventsPerDay = 1500

func newSOC(t *testing.T) *soc {
	t.Helper()
	d := startDaemon(t, t.TempDir())
	s := &soc{testDaemon: d}

	var buf bytes.Buffer
	st, err := demodata.Generate(demodata.Options{EventsPerDay: socEventsPerDay, Seed: 1}, &buf)
	if err != nil {
		t.Fatalf("generate the demo data: %v", err)
	}
	s.stats = st
	r := d.must(t, http.StatusOK, "POST", "/v1/logs", d.Admin, buf.Bytes()).JSON(t)
	if r["accepted"] != float64(st.Events) || r["rejected"] != 0.0 {
		t.Fatalf("ingest = %v, want %d accepted", r, st.Events)
	}
	for _, a := range demodata.Assets() {
		body, _ := json.Marshal(a)
		d.must(t, http.StatusOK, "PUT", "/v1/assets", d.Admin, body)
	}

	s.alice = d.user(t, "alice", "analyst")
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write","plugins.invoke"],"tenants":["acme"]}}`))
	for name, grant := range map[string]string{
		"endpoint-triage": `{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"],"tenants":["acme"]}`,
		"alert-intake":    `{"capabilities":["tickets.read","tickets.write","plugins.invoke"],"tenants":["acme"]}`,
	} {
		if r := d.upload(t, s.alice, name, "plugins/"+name); r.Status != http.StatusCreated {
			t.Fatalf("upload %s = %d %s", name, r.Status, r.Body)
		}
		d.must(t, http.StatusOK, "PUT", "/v1/plugins/"+name+"/grant", s.alice, []byte(grant))
		// Findings are checked here, not speed: a slow CI machine must not time out.
		d.must(t, http.StatusOK, "PATCH", "/v1/plugins/"+name, s.alice, []byte(`{"timeout_ms":600000}`))
	}
	// The story moves laterally 110 minutes after the alert: look two hours
	// either side.
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", s.alice, []byte(`{"config":{"window_minutes":"120"}}`))
	s.secret = fmt.Sprint(d.must(t, http.StatusOK, "POST", "/v1/plugins/alert-intake/webhook", s.alice, nil).JSON(t)["secret"])
	return s
}

// alertTime is when the story's SIEM alert fired.
func storyAlertTime() time.Time {
	var a struct {
		Time time.Time `json:"time"`
	}
	json.Unmarshal(demodata.StoryAlert(demodata.DefaultStart), &a)
	return a.Time
}

// triageOutput is endpoint-triage's output.
type triageOutput struct {
	Tenant string `json:"tenant"`
	Host   string `json:"host"`
	Ticket string `json:"ticket"`
	Asset  *struct {
		Name string `json:"name"`
	} `json:"asset"`
	Findings []struct {
		Severity    string   `json:"severity"`
		Rule        string   `json:"rule"`
		What        string   `json:"what"`
		Evidence    []string `json:"evidence"`
		Observables []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		} `json:"observables"`
	} `json:"findings"`
	Sweeps []struct {
		Indicator string `json:"indicator"`
		Source    string `json:"source"`
		Events    int    `json:"events"`
		Hosts     []struct {
			Host   string `json:"host"`
			Events int    `json:"events"`
		} `json:"hosts"`
	} `json:"sweeps"`
	Counts  map[string]int `json:"counts"`
	Summary string         `json:"summary"`
}

// finding returns the first finding of a rule at a severity whose text holds
// every word, or nil.
func (o *triageOutput) finding(rule, severity string, words ...string) *struct {
	Severity    string   `json:"severity"`
	Rule        string   `json:"rule"`
	What        string   `json:"what"`
	Evidence    []string `json:"evidence"`
	Observables []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"observables"`
} {
	for i, f := range o.Findings {
		if f.Rule != rule || f.Severity != severity {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(f.What, w)
		}
		if ok {
			return &o.Findings[i]
		}
	}
	return nil
}

// triage invokes endpoint-triage as alice and decodes its output.
func (s *soc) triage(t *testing.T, input string) *triageOutput {
	t.Helper()
	r := s.must(t, http.StatusOK, "POST", "/v1/plugins/endpoint-triage/invoke", s.alice, []byte(input))
	var out triageOutput
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("triage output: %v\n%s", err, r.Body)
	}
	return &out
}

// assertNoGlobexIn fails when globex's hosts, addresses or people appear in out.
func assertNoGlobexIn(t *testing.T, what string, out []byte) {
	t.Helper()
	s := strings.ToLower(string(out))
	for _, w := range []string{"globex", "10.30."} {
		if strings.Contains(s, w) {
			t.Errorf("%s mentions %q:\n%s", what, w, out)
		}
	}
	for _, u := range demodata.Users(demodata.TenantGlobex) {
		if strings.Contains(s, strings.ToLower(u)) {
			t.Errorf("%s mentions globex's user %q", what, u)
		}
	}
}

func TestTriageUseCase(t *testing.T) {
	s := newSOC(t)
	at := storyAlertTime().Format(time.RFC3339)

	t.Run("PatientZero", func(t *testing.T) {
		out := s.triage(t, fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q}`, demodata.Story.PatientZeroHost, at))
		if out.Asset == nil || out.Asset.Name != demodata.Story.PatientZeroHost || out.Ticket != "" {
			t.Errorf("asset %v ticket %q", out.Asset, out.Ticket)
		}
		checks := []struct {
			rule  string
			words []string
		}{
			{"encoded-powershell", []string{"-enc", "started by WINWORD.EXE", "$client=New-Object"}},
			{"office-spawns-shell", []string{"WINWORD.EXE started powershell.exe"}},
			{"beaconing", []string{demodata.Story.C2IP, demodata.Story.C2Domain, "a rare destination"}},
			{"run-key-persistence", []string{demodata.Story.RunKey, "powershell.exe"}},
			{"lateral-logon", []string{demodata.Story.PatientZeroHost, demodata.Story.LateralHost, demodata.Story.User, "NTLM", "first logon"}},
		}
		for _, c := range checks {
			if out.finding(c.rule, "high", c.words...) == nil {
				t.Errorf("no high %s finding naming %q in:\n%s", c.rule, c.words, out.Summary)
			}
		}
		b := out.finding("beaconing", "high")
		if b == nil || len(b.Observables) != 2 {
			t.Fatalf("beaconing observables: %+v", b)
		}
		// Nothing else is high: the host's routine logons to the domain
		// controller are not lateral movement.
		for _, f := range out.Findings {
			if f.Severity == "high" && f.Rule == "lateral-logon" && !strings.Contains(f.What, demodata.Story.LateralHost) {
				t.Errorf("high lateral logon elsewhere: %s", f.What)
			}
		}
		raw, _ := json.Marshal(out)
		assertNoGlobexIn(t, "patient zero's triage", raw)
	})

	t.Run("BenignHost", func(t *testing.T) {
		// Workstations and the domain controller (where every workstation
		// logs on), over eight hours of the story's day.
		for _, host := range []string{"ACME-WS-003", "ACME-WS-012", "ACME-DC-01"} {
			out := s.triage(t, fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q,"window_minutes":240}`, host, at))
			if out.Counts["processes"]+out.Counts["network"] == 0 {
				t.Errorf("%s: nothing collected: %v", host, out.Counts)
			}
			for _, f := range out.Findings {
				if f.Severity == "high" || f.Severity == "critical" {
					t.Errorf("%s: %s finding %s: %s", host, f.Severity, f.Rule, f.What)
				}
			}
		}
	})

	t.Run("QuietHost", func(t *testing.T) {
		// A day before the data: nothing collected, nothing found, and every
		// list of the output is [] rather than null.
		r := s.must(t, http.StatusOK, "POST", "/v1/plugins/endpoint-triage/invoke", s.alice,
			[]byte(fmt.Sprintf(`{"tenant":"acme","host":"ACME-WS-003","time":%q}`, demodata.DefaultStart.AddDate(0, 0, -1).Format(time.RFC3339))))
		for _, want := range []string{`"findings":[]`, `"sweeps":[]`, `"notes":[]`} {
			if !bytes.Contains(r.Body, []byte(want)) {
				t.Errorf("quiet host's output lacks %s: %s", want, r.Body)
			}
		}
		if bytes.Contains(r.Body, []byte(`":null`)) {
			t.Errorf("quiet host's output holds null: %s", r.Body)
		}
	})

	t.Run("IOCMatch", func(t *testing.T) {
		// Known-bad indicators configured: the story's C2 address and the
		// SHA-256 of the PsExec it downloaded (read from its process event).
		ps := s.must(t, http.StatusOK, "POST", "/v1/logs/search_fields", s.Admin, []byte(fmt.Sprintf(
			`{"tenant":"acme","fields":[{"field":"process.name","op":"eq","value":"PsExec64.exe"},{"field":"event.code","op":"eq","value":"1"}],"from":%q,"to":%q,"limit":1}`,
			demodata.DefaultStart.Format(time.RFC3339), demodata.DefaultStart.AddDate(0, 0, 7).Format(time.RFC3339)))).JSON(t)
		evs, _ := ps["events"].([]any)
		if len(evs) != 1 {
			t.Fatalf("the story's PsExec process event: %v", ps)
		}
		hash, _ := evs[0].(map[string]any)["process.hash.sha256"].(string)
		if len(hash) != 64 {
			t.Fatalf("PsExec's sha256 = %q", hash)
		}
		cfg, _ := json.Marshal(map[string]any{"config": map[string]string{"window_minutes": "120", "iocs": demodata.Story.C2IP + ", " + hash}})
		s.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", s.alice, cfg)
		t.Cleanup(func() {
			s.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", s.alice, []byte(`{"config":{"window_minutes":"120"}}`))
		})

		out := s.triage(t, fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q}`, demodata.Story.PatientZeroHost, at))
		for _, ioc := range []string{demodata.Story.C2IP, hash} {
			f := out.finding("ioc-match", "high", "Known indicator "+ioc)
			if f == nil || len(f.Evidence) == 0 || len(f.Observables) != 1 || f.Observables[0].Value != ioc {
				t.Errorf("no ioc-match finding for %s: %+v\n%s", ioc, f, out.Summary)
			}
		}
		if f := out.finding("ioc-match", "high", "Known indicator "+hash); f != nil && !strings.Contains(strings.Join(f.Evidence, "\n"), "PsExec64.exe") {
			t.Errorf("the hash's evidence does not name PsExec: %q", f.Evidence)
		}
		// The sweep searched both as free text and saw them on the patient
		// zero only.
		if len(out.Sweeps) != 2 {
			t.Fatalf("sweeps = %+v", out.Sweeps)
		}
		for _, sw := range out.Sweeps {
			if sw.Source != "config" || sw.Events == 0 || len(sw.Hosts) != 1 || sw.Hosts[0].Host != demodata.Story.PatientZeroHost {
				t.Errorf("sweep of %s = %+v", sw.Indicator, sw)
			}
		}
		if out.finding("ioc-match", "high", "also seen on other hosts") != nil {
			t.Errorf("the indicators were flagged on other hosts:\n%s", out.Summary)
		}
		// Benign hosts hold neither indicator.
		for _, host := range []string{"ACME-WS-003", "ACME-DC-01"} {
			out := s.triage(t, fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q,"window_minutes":240}`, host, at))
			for _, f := range out.Findings {
				if f.Rule == "ioc-match" || f.Severity == "high" {
					t.Errorf("%s: %s finding %s: %s", host, f.Severity, f.Rule, f.What)
				}
			}
		}
	})

	t.Run("GrantedBothTenants", func(t *testing.T) {
		// As the demo grants it: acme and globex. acme's triage holds
		// nothing of globex; a globex host's triage is globex's (so the
		// check can fail).
		s.must(t, http.StatusOK, "PATCH", "/v1/users/alice", s.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write","plugins.invoke"],"tenants":["acme","globex"]}}`))
		s.must(t, http.StatusOK, "PUT", "/v1/plugins/endpoint-triage/grant", s.alice, []byte(`{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"],"tenants":["acme","globex"]}`))
		t.Cleanup(func() {
			s.must(t, http.StatusOK, "PUT", "/v1/plugins/endpoint-triage/grant", s.alice, []byte(`{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"],"tenants":["acme"]}`))
		})
		cfg, _ := json.Marshal(map[string]any{"config": map[string]string{"window_minutes": "120", "iocs": demodata.Story.C2IP}})
		s.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", s.alice, cfg)
		t.Cleanup(func() {
			s.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", s.alice, []byte(`{"config":{"window_minutes":"120"}}`))
		})
		r := s.must(t, http.StatusOK, "POST", "/v1/plugins/endpoint-triage/invoke", s.alice, []byte(fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q}`, demodata.Story.PatientZeroHost, at)))
		assertNoGlobexIn(t, "acme's triage granted both tenants", r.Body)
		if !bytes.Contains(r.Body, []byte("ioc-match")) {
			t.Errorf("acme's triage lost its findings: %s", r.Body)
		}
		gHost := demodata.Hosts(demodata.TenantGlobex)[0]
		g := s.triage(t, fmt.Sprintf(`{"tenant":"globex","host":%q,"time":%q,"window_minutes":240}`, gHost, at))
		if g.Tenant != "globex" || g.Counts["processes"]+g.Counts["network"] == 0 {
			t.Errorf("globex's triage saw nothing: %v", g.Counts)
		}
		if strings.Contains(g.Summary, demodata.Story.PatientZeroHost) {
			t.Errorf("globex's triage names acme's host")
		}
	})

	t.Run("LateralHostSeesTheLogon", func(t *testing.T) {
		// Triaged from the server's side, the NTLM logon from the patient
		// zero is new: flagged, though the server itself shows nothing else.
		out := s.triage(t, fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q}`, demodata.Story.LateralHost, at))
		if out.finding("lateral-logon", "high", demodata.Story.PatientZeroHost, "NTLM") == nil {
			t.Errorf("no lateral-logon finding from the server's side:\n%s", out.Summary)
		}
	})

	t.Run("OtherTenantForbidden", func(t *testing.T) {
		r := s.do(t, "POST", "/v1/plugins/endpoint-triage/invoke", s.alice, []byte(fmt.Sprintf(`{"tenant":"globex","host":"GLOBEX-WS-001","time":%q}`, at)))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.ErrorMessage(t), "forbidden") {
			t.Fatalf("globex triage = %d %s", r.Status, r.Body)
		}
		for _, u := range demodata.Users(demodata.TenantGlobex) {
			if bytes.Contains(r.Body, []byte(u)) || bytes.Contains(r.Body, []byte("10.30.")) {
				t.Errorf("the refused triage leaks globex data: %s", r.Body)
			}
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		for _, in := range []string{`not json`, `{"tenant":"acme"}`, `{"ticket":"nope","tenant":"acme"}`} {
			r := s.do(t, "POST", "/v1/plugins/endpoint-triage/invoke", s.alice, []byte(in))
			if r.Status != http.StatusUnprocessableEntity || r.ErrorMessage(t) == "" {
				t.Errorf("%s = %d %s", in, r.Status, r.Body)
			}
		}
	})
}

// busyHost is the server BenchmarkTriageBusyHost triages.
const busyHost = "ACME-FS-09"

// busyHostEvents writes n events of tenant acme as NXLog-style Windows
// events at random (seeded) times: 75% on busyHost within the two hours from
// start (process starts, connections to many internal and external
// addresses, network logons from many workstations, file and registry
// changes), 10% logons on busyHost in the week before (its history), the
// rest on other hosts over the day; plus a beacon from busyHost every
// minute.
func busyHostEvents(n int, start time.Time) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := range n {
		host, at, k := busyHost, start.Add(time.Duration(r.Int64N(int64(2*time.Hour)))), r.IntN(20)
		switch x := r.IntN(20); {
		case x < 2:
			at, k = start.Add(-time.Duration(r.Int64N(int64(7*24*time.Hour)))), 14 // a logon of the week before
		case x < 5:
			host, at = fmt.Sprintf("ACME-WS-%03d", 100+r.IntN(200)), start.Add(time.Duration(r.Int64N(int64(24*time.Hour))))
		}
		head := fmt.Sprintf(`{"@timestamp":%q,"tenant":"acme","Hostname":%q,`, at.Format(time.RFC3339Nano), host)
		w := r.IntN(300)
		ws := fmt.Sprintf("10.20.%d.%d", 2+w/250, 1+w%250)
		switch {
		case k < 6:
			fmt.Fprintf(&b, `%s"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","ProcessId":%d,"Image":"C:\\Windows\\System32\\svchost.exe","CommandLine":"svchost.exe -k netsvcs -p -s Job%d","ParentProcessId":%d,"ParentImage":"C:\\Windows\\System32\\services.exe","User":"NT AUTHORITY\\SYSTEM"}`+"\n", head, 1000+r.IntN(5000), i, 600+r.IntN(3))
		case k < 13:
			dst := []string{ws, fmt.Sprintf("198.51.100.%d", r.IntN(200)), "52.98.152.2"}[r.IntN(3)]
			fmt.Fprintf(&b, `%s"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","ProcessId":4,"Image":"System","Initiated":"true","SourceIp":"10.20.0.90","SourcePort":%d,"DestinationIp":"%s","DestinationPort":445}`+"\n", head, 49152+r.IntN(16000), dst)
		case k < 17:
			fmt.Fprintf(&b, `%s"EventID":4624,"Channel":"Security","TargetUserName":"user%d","TargetDomainName":"ACME","LogonType":3,"AuthenticationPackageName":"Kerberos","WorkstationName":"ACME-WS-%03d","IpAddress":%q,"IpPort":"%d"}`+"\n", head, w, w, ws, 49152+r.IntN(16000))
		case k < 19:
			fmt.Fprintf(&b, `%s"EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","ProcessId":4,"Image":"System","TargetFilename":"D:\\Shares\\Finance\\report-%d.xlsx"}`+"\n", head, i)
		default:
			fmt.Fprintf(&b, `%s"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","EventType":"SetValue","ProcessId":700,"Image":"C:\\Windows\\System32\\svchost.exe","TargetObject":"HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Diagnostics\\Counter%d","Details":"DWORD (0x%x)"}`+"\n", head, r.IntN(50), i)
		}
	}
	// And a beacon: every minute, give or take a few seconds, to one
	// external address.
	for m := range 120 {
		fmt.Fprintf(&b, `{"@timestamp":%q,"tenant":"acme","Hostname":%q,"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","ProcessId":4242,"Image":"C:\\Windows\\System32\\rundll32.exe","Initiated":"true","SourceIp":"10.20.0.90","SourcePort":%d,"DestinationIp":"203.0.113.99","DestinationHostname":"busy-c2.example.net","DestinationPort":443}`+"\n",
			start.Add(time.Duration(m)*time.Minute+time.Duration(r.IntN(7))*time.Second).Format(time.RFC3339Nano), busyHost, 50000+m)
	}
	return b.Bytes()
}

// BenchmarkTriageBusyHost triages a busy file server end to end (HTTP invoke
// → endpoint-triage → collect, asset lookups, logon and prevalence searches)
// beside the same endpoints/collect request made directly over HTTP.
// LHK_BENCH_EVENTS sets the events stored (default 20,000); 75% of them fall
// on the host within the two-hour window.
func BenchmarkTriageBusyHost(b *testing.B) {
	n := 20_000
	if v := os.Getenv("LHK_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			b.Fatalf("LHK_BENCH_EVENTS=%q: want a number of events, at least 100", v)
		}
	}
	d, invokeURL := benchDaemon(b, "endpoint-triage", "plugins/endpoint-triage")
	td := &testDaemon{URL: d.URL(), Admin: adminToken}
	start := time.Date(2026, 11, 6, 8, 0, 0, 0, time.UTC)
	events := busyHostEvents(n, start)
	for len(events) > 0 { // ingest in requests of at most 64 MiB
		cut := len(events)
		if cut > 64<<20 {
			cut = bytes.LastIndexByte(events[:64<<20], '\n') + 1
		}
		td.must(b, http.StatusOK, "POST", "/v1/logs", adminToken, events[:cut])
		events = events[cut:]
	}
	td.must(b, http.StatusOK, "PUT", "/v1/assets", adminToken, []byte(`{"tenant":"acme","name":"`+busyHost+`","ips":["10.20.0.90"],"os":"Windows Server 2022","criticality":"high","tags":["server","file-server"]}`))
	td.must(b, http.StatusOK, "PUT", "/v1/plugins/endpoint-triage/grant", adminToken, []byte(`{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"],"tenants":["acme"]}`))

	from, to := start, start.Add(2*time.Hour)
	// The plugin's request: the window and its default collect_limit.
	collect := []byte(fmt.Sprintf(`{"tenant":"acme","host":%q,"from":%q,"to":%q,"limit":500}`, busyHost, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	triage := []byte(fmt.Sprintf(`{"tenant":"acme","host":%q,"time":%q,"window_minutes":60}`, busyHost, start.Add(time.Hour).Format(time.RFC3339)))
	post := func(b *testing.B, url string, body []byte) []byte {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("POST %s = %d %s", url, res.StatusCode, out)
		}
		return out
	}
	b.Run("collect-http", func(b *testing.B) {
		var out []byte
		for b.Loop() {
			out = post(b, d.URL()+"/v1/endpoints/collect", collect)
		}
		b.ReportMetric(float64(len(out))/1024, "KiB-out")
	})
	b.Run("triage-plugin", func(b *testing.B) {
		var out []byte
		for b.Loop() {
			out = post(b, invokeURL, triage)
		}
		var o triageOutput
		if err := json.Unmarshal(out, &o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(o.Counts["processes"]+o.Counts["network"]+o.Counts["logons"]+o.Counts["files"]+o.Counts["registry"]+o.Counts["logons_from_host"]), "events")
		b.ReportMetric(float64(len(o.Findings)), "findings")
		if o.finding("beaconing", "high", "203.0.113.99") == nil {
			b.Errorf("the busy host's beacon was not found:\n%s", o.Summary)
		}
		// The plugin logs where its time went.
		var list struct {
			Invocations []struct {
				ID string `json:"id"`
			} `json:"invocations"`
		}
		json.Unmarshal(td.must(b, http.StatusOK, "GET", "/v1/invocations?plugin=endpoint-triage&limit=1", adminToken, nil).Body, &list)
		if len(list.Invocations) == 1 {
			inv := td.must(b, http.StatusOK, "GET", "/v1/invocations/"+list.Invocations[0].ID, adminToken, nil).Body
			if i := bytes.Index(inv, []byte("timings: ")); i >= 0 {
				line, _, _ := bytes.Cut(inv[i:], []byte(`"`))
				b.Logf("%s", line)
			}
		}
	})
}

// TestSearchDocFromPlugin runs what docs/search.md shows under "From a
// plugin" against the demo dataset (the seed lhkd demo uses): the config and
// the input its commands send to endpoint-triage, and compares the plugin's
// answer with the output printed there, so the page stays true.
func TestSearchDocFromPlugin(t *testing.T) {
	root, err := wasmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "search.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## From a plugin\n")
	if !ok {
		t.Fatal(`docs/search.md has no "## From a plugin"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	m := regexp.MustCompile("(?s)```sh\n(.*?)```\n```json\n(.*?)\n```").FindStringSubmatch(section)
	if m == nil {
		t.Fatal("no sh block followed by its json output under From a plugin")
	}
	cmds, want := m[1], m[2]
	cfg := regexp.MustCompile(`-d '(\{"config".*?\})'`).FindStringSubmatch(cmds)
	input := regexp.MustCompile(`-d '(\{"tenant".*?\})'`).FindStringSubmatch(cmds)
	filter := regexp.MustCompile(`jq -c '(.*?)'`).FindStringSubmatch(cmds)
	if cfg == nil || input == nil || filter == nil || filter[1] != `{sweeps, ioc: [.findings[] | select(.rule == "ioc-match") | .what]}` {
		t.Fatalf("the commands are not the ones this test runs:\n%s", cmds)
	}
	var in struct{ Time time.Time }
	if json.Unmarshal([]byte(input[1]), &in) != nil || !in.Time.Equal(storyAlertTime()) {
		t.Errorf("the doc's time %s is not the story alert's %s", in.Time, storyAlertTime())
	}

	d := startDaemon(t, t.TempDir())
	var buf bytes.Buffer
	// The story is the same in every dataset of the seed; only background
	// volume differs from lhkd demo's.
	if _, err := demodata.Generate(demodata.Options{EventsPerDay: socEventsPerDay}, &buf); err != nil {
		t.Fatal(err)
	}
	d.must(t, http.StatusOK, "POST", "/v1/logs", d.Admin, buf.Bytes())
	for _, a := range demodata.Assets() {
		body, _ := json.Marshal(a)
		d.must(t, http.StatusOK, "PUT", "/v1/assets", d.Admin, body)
	}
	if r := d.upload(t, d.Admin, "endpoint-triage", "plugins/endpoint-triage"); r.Status != http.StatusCreated {
		t.Fatalf("upload = %d %s", r.Status, r.Body)
	}
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/endpoint-triage/grant", d.Admin, []byte(`{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"],"tenants":["acme","globex"]}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", d.Admin, []byte(cfg[1]))
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/endpoint-triage", d.Admin, []byte(`{"timeout_ms":600000}`))
	r := d.must(t, http.StatusOK, "POST", "/v1/plugins/endpoint-triage/invoke", d.Admin, []byte(input[1]))

	var out struct {
		Sweeps   json.RawMessage
		Findings []struct{ Rule, What string }
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	got := struct {
		Sweeps json.RawMessage `json:"sweeps"`
		IOC    []string        `json:"ioc"`
	}{Sweeps: out.Sweeps, IOC: []string{}}
	for _, f := range out.Findings {
		if f.Rule == "ioc-match" {
			got.IOC = append(got.IOC, f.What)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as jq prints it
	enc.Encode(got)
	var compact bytes.Buffer
	json.Compact(&compact, b.Bytes())
	if compact.String() != want {
		t.Errorf("docs/search.md shows\n%s\nthe plugin answers\n%s", want, compact.String())
	}
}
