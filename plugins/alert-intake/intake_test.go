package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

func TestParseAlert(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Alert // compared without Raw
	}{
		{"Generic", `{"id":"SIEM-ACME-20481","rule":"Encoded PowerShell from Office","severity":"High","tenant":"acme","host":"ACME-WS-017","user":"hsato","src_ip":"10.20.1.17","dst_ip":"203.0.113.66","domain":"CDN-Update.example-c2.net","hash":"ABC123","time":"2026-11-06T09:00:00Z"}`,
			Alert{ID: "SIEM-ACME-20481", Rule: "Encoded PowerShell from Office", Severity: "high", RawSeverity: "High", Tenant: "acme", Host: "ACME-WS-017", User: "hsato",
				SrcIP: "10.20.1.17", DstIP: "203.0.113.66", Domain: "cdn-update.example-c2.net", Hash: "abc123", Time: time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC)}},
		{"Elastic", `{"kibana.alert.uuid":"e-1","kibana.alert.rule.name":"Beacon","kibana.alert.risk_score":73,"organization":{"name":"acme"},"host":{"name":"WS1","ip":["10.0.0.1"]},"user":{"name":"bob"},"source":{"ip":"10.0.0.1"},"destination":{"ip":"198.51.100.2","domain":"x.example"},"@timestamp":"2026-11-06T09:00:00.5Z"}`,
			Alert{ID: "e-1", Rule: "Beacon", Severity: "high", RawSeverity: "73", Tenant: "acme", Host: "WS1", User: "bob", SrcIP: "10.0.0.1", DstIP: "198.51.100.2", Domain: "x.example", Time: time.Date(2026, 11, 6, 9, 0, 0, 5e8, time.UTC)}},
		{"Splunk", `{"sid":"scheduler_x","search_name":"Run key set","result":{"customer":"acme","ComputerName":"WS2","src":"10.0.0.2:51234","urgency":"critical","_time":"1793955600"}}`,
			Alert{Rule: "Run key set", Severity: "critical", RawSeverity: "critical", Tenant: "acme", Host: "WS2", SrcIP: "10.0.0.2", Time: time.Unix(1793955600, 0).UTC()}},
		{"TitleAndLevel", `{"alert_id":7,"title":"Brute force","level":"warning","customer":"acme","hostname":"DC01","time":1793955600000}`,
			Alert{ID: "7", Rule: "Brute force", Severity: "medium", RawSeverity: "warning", Tenant: "acme", Host: "DC01", Time: time.Unix(1793955600, 0).UTC()}},
		{"Sparse", `{"host":"WS3"}`, Alert{Host: "WS3", Severity: "medium"}},
		{"BadIPDropped", `{"host":"WS3","src_ip":"not-an-ip"}`, Alert{Host: "WS3", Severity: "medium"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAlert([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if got.Raw == "" {
				t.Error("raw is empty")
			}
			got.Raw = ""
			if !got.Time.Equal(tt.want.Time) {
				t.Errorf("time = %v, want %v", got.Time, tt.want.Time)
			}
			got.Time, tt.want.Time = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("alert =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseAlertErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"Empty", "  ", "the alert is empty"},
		{"NotJSON", "alert: beacon on WS1", "the alert is not valid JSON"},
		{"Truncated", `{"host":"WS1"`, "the alert is not valid JSON"},
		{"Array", `[{"host":"WS1"}]`, "must be a JSON object, got a JSON array"},
		{"String", `"WS1"`, "got a JSON string"},
		{"TwoValues", `{"host":"a"} {"host":"b"}`, "more than one value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAlert([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRawKept(t *testing.T) {
	a, _ := ParseAlert([]byte(`{"host":"WS1","raw":{"EventID":1,"CommandLine":"powershell -enc AAA"}}`))
	if !strings.Contains(a.Raw, `"CommandLine":"powershell -enc AAA"`) {
		t.Errorf("raw = %s", a.Raw)
	}
	a, _ = ParseAlert([]byte(`{"host":"WS1","raw":"line with ` + "```" + ` fences"}`))
	if d := a.Description(); !strings.Contains(d, "````\nline with ``` fences\n````") {
		t.Errorf("description = %s", d)
	}
	big := `{"host":"WS1","raw":"` + strings.Repeat("x", 10000) + `"}`
	if a, _ := ParseAlert([]byte(big)); len(a.Raw) > maxRaw+4 {
		t.Errorf("raw kept %d bytes", len(a.Raw))
	}
}

func TestMapSeverity(t *testing.T) {
	tests := map[string]string{
		"Critical": "critical", "SEVERE": "critical", "p1": "critical", "10": "critical", "99": "critical", "9.5": "critical",
		"high": "high", "Error": "high", "7": "high", "73": "high", "sev2": "high",
		"medium": "medium", "Moderate": "medium", "warning": "medium", "4": "medium", "47": "medium", "": "medium", "whatever": "medium", "-3": "medium",
		"low": "low", "Informational": "low", "info": "low", "1": "low", "21": "low", "0": "low",
	}
	for in, want := range tests {
		if got := MapSeverity(in); got != want {
			t.Errorf("MapSeverity(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescriptionHasTriageTime(t *testing.T) {
	a, _ := ParseAlert([]byte(`{"id":"A1","rule":"R","host":"H","tenant":"acme","severity":"informational","time":"2026-11-06T09:00:00Z"}`))
	d := a.Description()
	for _, s := range []string{"- time: 2026-11-06T09:00:00Z\n", `- severity: low (SIEM: "informational")`, "`A1`: R on H"} {
		if !strings.Contains(d, s) {
			t.Errorf("description lacks %q:\n%s", s, d)
		}
	}
}

// fakeSystems keeps tickets in memory with the daemon's external-key rule.
type fakeSystems struct {
	tickets  []*pdk.Ticket
	deny     map[string]bool // tenants outside the grant
	startErr error
	started  []string
	comments []string
	searches int
}

func (f *fakeSystems) CreateTicket(t pdk.Ticket) (*pdk.Ticket, error) {
	if f.deny[t.Tenant] {
		return nil, &pdk.Error{Code: pdk.CodeForbidden, Message: "tenant " + t.Tenant + " is not granted"}
	}
	for _, o := range f.tickets {
		if t.ExternalKey != "" && o.Tenant == t.Tenant && o.ExternalKey == t.ExternalKey {
			return nil, &pdk.Error{Code: pdk.CodeConflict, Message: "external key taken"}
		}
	}
	t.ID = fmt.Sprint("T-", len(f.tickets)+1)
	if t.Status == "" {
		t.Status = pdk.TicketOpen
	}
	f.tickets = append(f.tickets, &t)
	return &t, nil
}

func (f *fakeSystems) SearchTickets(q pdk.TicketQuery) (*pdk.TicketList, error) {
	f.searches++
	l := &pdk.TicketList{}
	for _, t := range f.tickets {
		if t.Tenant != q.Tenant || q.Status != "" && t.Status != q.Status || q.ExternalKey != "" && t.ExternalKey != q.ExternalKey {
			continue
		}
		if q.Observable != "" && !slices.ContainsFunc(t.Observables, func(o pdk.Observable) bool { return o.Value == q.Observable }) {
			continue
		}
		l.Tickets = append(l.Tickets, t)
	}
	return l, nil
}

func (f *fakeSystems) find(tenant, id string) (*pdk.Ticket, error) {
	for _, t := range f.tickets {
		if t.Tenant == tenant && t.ID == id {
			return t, nil
		}
	}
	return nil, &pdk.Error{Code: pdk.CodeNotFound, Message: "no ticket " + id}
}

func (f *fakeSystems) UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error) {
	t, err := f.find(tenant, id)
	if err == nil {
		t.Observables = append(t.Observables, upd.AddObservables...)
	}
	return t, err
}

func (f *fakeSystems) CommentTicket(tenant, id, body string) (*pdk.Ticket, error) {
	f.comments = append(f.comments, id+": "+body)
	return f.find(tenant, id)
}

func (f *fakeSystems) StartPlugin(plugin, function, input string) (string, error) {
	if f.startErr != nil {
		return "", f.startErr
	}
	f.started = append(f.started, plugin+" "+input)
	return fmt.Sprint("inv-", len(f.started)), nil
}

func (f *fakeSystems) Logf(pdk.Level, string, ...any) {}

func TestIntakeDeduplication(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	cfg := ParseConfig(func(string) (string, bool) { return "", false })
	alert := func(body string) Alert {
		t.Helper()
		a, err := ParseAlert([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	type step struct {
		body             string
		created, dup     bool
		ticket           string
		triage, comments int // running totals
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"SameIDTwice", []step{
			{`{"id":"A1","rule":"R","tenant":"acme","host":"WS1"}`, true, false, "T-1", 1, 0},
			{`{"id":"A1","rule":"R","tenant":"acme","host":"WS1","dst_ip":"203.0.113.66"}`, false, true, "T-1", 1, 1},
		}},
		{"DifferentIDsSameRule", []step{
			{`{"id":"A1","rule":"R","tenant":"acme","host":"WS1"}`, true, false, "T-1", 1, 0},
			{`{"id":"A2","rule":"R","tenant":"acme","host":"WS1"}`, true, false, "T-2", 2, 0},
		}},
		{"SameIDOtherTenant", []step{
			{`{"id":"A1","rule":"R","tenant":"acme","host":"WS1"}`, true, false, "T-1", 1, 0},
			{`{"id":"A1","rule":"R","tenant":"initech","host":"WS1"}`, true, false, "T-2", 2, 0},
		}},
		{"NoIDCorrelatesRuleAndHost", []step{
			{`{"rule":"R","tenant":"acme","host":"WS1"}`, true, false, "T-1", 1, 0},
			{`{"rule":"r","tenant":"acme","host":"WS1"}`, false, true, "T-1", 1, 1},
			{`{"rule":"Other","tenant":"acme","host":"WS1"}`, true, false, "T-2", 2, 1},
			{`{"rule":"R","tenant":"acme","host":"WS2"}`, true, false, "T-3", 3, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystems{}
			for i, s := range tt.steps {
				out, err := Intake(sys, alert(s.body), cfg, now)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if out.Created != s.created || out.Duplicate != s.dup || out.Ticket != s.ticket {
					t.Errorf("step %d: %+v, want created %t duplicate %t ticket %s", i, out, s.created, s.dup, s.ticket)
				}
				if len(sys.started) != s.triage || len(sys.comments) != s.comments {
					t.Errorf("step %d: %d triage starts, %d comments; want %d, %d", i, len(sys.started), len(sys.comments), s.triage, s.comments)
				}
				if s.created && out.TriageInvocation == "" || !s.created && out.TriageInvocation != "" {
					t.Errorf("step %d: triage invocation %q", i, out.TriageInvocation)
				}
			}
		})
	}
}

func TestIntakeClosedTicketIsNotJoined(t *testing.T) {
	sys := &fakeSystems{}
	a, _ := ParseAlert([]byte(`{"rule":"R","tenant":"acme","host":"WS1"}`))
	first, _ := Intake(sys, a, Config{}, time.Now())
	sys.tickets[0].Status = pdk.TicketClosed
	second, err := Intake(sys, a, Config{}, time.Now())
	if err != nil || !second.Created || second.Ticket == first.Ticket {
		t.Fatalf("second = %+v, %v", second, err)
	}
}

func TestIntakeTicketAndTriage(t *testing.T) {
	sys := &fakeSystems{}
	a, _ := ParseAlert([]byte(`{"id":"SIEM-1","rule":"Encoded PowerShell","severity":"critical","tenant":"acme","host":"ACME-WS-017","user":"hsato","dst_ip":"203.0.113.66","time":"2026-11-06T09:00:00Z"}`))
	out, err := Intake(sys, a, ParseConfig(func(k string) (string, bool) { return "triage-v2", k == "triage_plugin" }), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tk := sys.tickets[0]
	if tk.Title != "Encoded PowerShell on ACME-WS-017" || tk.Severity != "critical" || tk.ExternalKey != "SIEM-1" {
		t.Errorf("ticket = %+v", tk)
	}
	want := []pdk.Observable{{Type: "host", Value: "ACME-WS-017"}, {Type: "user", Value: "hsato"}, {Type: "ip", Value: "203.0.113.66"}}
	if !slices.Equal(tk.Observables, want) {
		t.Errorf("observables = %v", tk.Observables)
	}
	var in map[string]string
	plugin, input, _ := strings.Cut(sys.started[0], " ")
	if err := json.Unmarshal([]byte(input), &in); err != nil || plugin != "triage-v2" || in["ticket"] != out.Ticket || in["tenant"] != "acme" {
		t.Errorf("started %q", sys.started[0])
	}
	if !strings.Contains(out.Summary, "Opened ticket `T-1`") || !strings.Contains(out.Summary, "inv-1") {
		t.Errorf("summary = %s", out.Summary)
	}
}

func TestIntakeErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		cfg  Config
		sys  *fakeSystems
		want string
	}{
		{"NoTenant", `{"host":"WS1"}`, Config{}, &fakeSystems{}, "the alert has no tenant"},
		{"NoHost", `{"tenant":"acme","rule":"R"}`, Config{}, &fakeSystems{}, "the alert has no host"},
		{"Forbidden", `{"id":"G1","tenant":"globex","host":"GX-WS-1"}`, Config{}, &fakeSystems{deny: map[string]bool{"globex": true}}, "forbidden: tenant globex is not granted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := ParseAlert([]byte(tt.body))
			_, err := Intake(tt.sys, a, tt.cfg, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if len(tt.sys.tickets) != 0 || len(tt.sys.started) != 0 {
				t.Errorf("work done despite the error")
			}
		})
	}
	// The default tenant fills in.
	a, _ := ParseAlert([]byte(`{"host":"WS1"}`))
	if out, err := Intake(&fakeSystems{}, a, Config{DefaultTenant: "acme"}, time.Now()); err != nil || out.Tenant != "acme" {
		t.Errorf("default tenant: %+v %v", out, err)
	}
}

func TestIntakeTriageFailureIsNotFatal(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  error
		want string
	}{
		{"StartFails", Config{TriagePlugin: "endpoint-triage"}, &pdk.Error{Code: pdk.CodeForbidden, Message: "capability plugins.invoke is not granted"}, "start endpoint-triage: forbidden: capability plugins.invoke is not granted"},
		{"Disabled", ParseConfig(func(k string) (string, bool) { return "none", k == "triage_plugin" }), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &fakeSystems{startErr: tt.err}
			a, _ := ParseAlert([]byte(`{"id":"A","tenant":"acme","host":"WS1"}`))
			out, err := Intake(sys, a, tt.cfg, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !out.Created || out.TriageInvocation != "" || out.TriageError != tt.want {
				t.Errorf("out = %+v", out)
			}
		})
	}
}
