package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/httpapi"
)

// deliver posts body to /hooks/alert-intake signed with secret at ts; an
// empty secret sends no signature.
func (s *soc) deliver(t *testing.T, secret string, ts time.Time, body []byte) response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/hooks/alert-intake", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpapi.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	if secret != "" {
		req.Header.Set(httpapi.HeaderSignature, httpapi.Sign(secret, ts.Unix(), body))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// invocations lists a plugin's invocations, newest first.
func (s *soc) invocations(t *testing.T, plugin string) []map[string]any {
	t.Helper()
	var out struct {
		Invocations []map[string]any `json:"invocations"`
	}
	r := s.must(t, http.StatusOK, "GET", "/v1/invocations?limit=100&plugin="+plugin, s.Admin, nil)
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	return out.Invocations
}

// tickets searches a tenant's tickets as the admin.
func (s *soc) tickets(t *testing.T, query map[string]any) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(query)
	var out struct {
		Tickets []map[string]any `json:"tickets"`
	}
	json.Unmarshal(s.must(t, http.StatusOK, "POST", "/v1/tickets/search", s.Admin, body).Body, &out)
	return out.Tickets
}

// intakeOutput is alert-intake's output.
type intakeOutput struct {
	Ticket           string `json:"ticket"`
	Tenant           string `json:"tenant"`
	Created          bool   `json:"created"`
	Duplicate        bool   `json:"duplicate"`
	TriageInvocation string `json:"triage_invocation"`
	TriageError      string `json:"triage_error"`
	Summary          string `json:"summary"`
}

func TestAlertIntakeUseCase(t *testing.T) {
	s := newSOC(t)
	alert := demodata.StoryAlert(demodata.DefaultStart)
	var outputs [][]byte // everything acme's plugins answered, for the globex check

	// The story's alert opens a ticket and starts endpoint-triage.
	r := s.deliver(t, s.secret, time.Now(), alert)
	if r.Status != http.StatusOK {
		t.Fatalf("story alert = %d %s", r.Status, r.Body)
	}
	outputs = append(outputs, r.Body)
	var first intakeOutput
	if err := json.Unmarshal(r.Body, &first); err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Duplicate || first.Ticket == "" || first.Tenant != "acme" || first.TriageInvocation == "" || first.TriageError != "" {
		t.Fatalf("intake output = %+v", first)
	}

	var triage map[string]any
	waitFor(t, "endpoint-triage to finish", func() bool {
		triage = s.must(t, http.StatusOK, "GET", "/v1/invocations/"+first.TriageInvocation, s.Admin, nil).JSON(t)
		return triage["status"] != "running"
	})
	if triage["status"] != "ok" || triage["plugin"] != "endpoint-triage" || triage["trigger"] != "plugin" {
		t.Fatalf("triage invocation = %v", triage)
	}
	outputs = append(outputs, []byte(fmt.Sprint(triage["output"])))

	t.Run("TicketHoldsTheTriage", func(t *testing.T) {
		tk := s.must(t, http.StatusOK, "POST", "/v1/tickets/get", s.alice, []byte(fmt.Sprintf(`{"tenant":"acme","id":%q}`, first.Ticket))).JSON(t)
		raw, _ := json.Marshal(tk)
		outputs = append(outputs, raw)
		if tk["external_key"] != demodata.Story.AlertID || tk["severity"] != "high" ||
			tk["title"] != "Office application spawned encoded PowerShell on "+demodata.Story.PatientZeroHost {
			t.Errorf("ticket = %s", raw)
		}
		comments, _ := tk["comments"].([]any)
		if len(comments) != 1 {
			t.Fatalf("%d comments, want the triage's one: %s", len(comments), raw)
		}
		c := comments[0].(map[string]any)
		body := fmt.Sprint(c["body"])
		if !strings.Contains(fmt.Sprint(c["author"]), "endpoint-triage") {
			t.Errorf("comment author = %v", c["author"])
		}
		for _, want := range []string{
			"| high | encoded-powershell |", "started by WINWORD.EXE",
			"| high | beaconing |", demodata.Story.C2IP, demodata.Story.C2Domain,
			"| high | run-key-persistence |", demodata.Story.RunKey,
			"| high | lateral-logon |", "to server " + demodata.Story.LateralHost,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("triage comment lacks %q:\n%s", want, body)
			}
		}
		obs := map[string]bool{}
		for _, o := range tk["observables"].([]any) {
			m := o.(map[string]any)
			obs[fmt.Sprint(m["type"], ":", m["value"])] = true
		}
		for _, want := range []string{"host:" + demodata.Story.PatientZeroHost, "user:" + demodata.Story.User, "ip:" + demodata.Story.PatientZeroIP,
			"ip:" + demodata.Story.C2IP, "domain:" + demodata.Story.C2Domain} {
			if !obs[want] {
				t.Errorf("ticket lacks observable %s: %v", want, obs)
			}
		}
	})

	t.Run("DuplicateDelivery", func(t *testing.T) {
		// The SIEM sends the same alert again later: a fresh timestamp, so a
		// new signature; one ticket, a comment, no second triage.
		r := s.deliver(t, s.secret, time.Now().Add(time.Second), alert)
		if r.Status != http.StatusOK {
			t.Fatalf("second delivery = %d %s", r.Status, r.Body)
		}
		outputs = append(outputs, r.Body)
		var again intakeOutput
		json.Unmarshal(r.Body, &again)
		if again.Created || !again.Duplicate || again.Ticket != first.Ticket || again.TriageInvocation != "" {
			t.Errorf("second intake = %+v", again)
		}
		if n := len(s.tickets(t, map[string]any{"tenant": "acme", "external_key": demodata.Story.AlertID})); n != 1 {
			t.Errorf("%d tickets for the alert, want 1", n)
		}
		if n := len(s.invocations(t, "endpoint-triage")); n != 1 {
			t.Errorf("%d triage invocations, want 1", n)
		}
	})

	t.Run("Unauthenticated", func(t *testing.T) {
		before := len(s.invocations(t, "alert-intake"))
		now, old := time.Now().Add(2*time.Second), time.Now().Add(-6*time.Minute)
		for name, r := range map[string]response{
			"no signature":    s.deliver(t, "", now, alert),
			"wrong secret":    s.deliver(t, "whsec_wrong", now, alert),
			"stale timestamp": s.deliver(t, s.secret, old, alert),
		} {
			if r.Status != http.StatusUnauthorized {
				t.Errorf("%s = %d %s", name, r.Status, r.Body)
			}
		}
		if after := len(s.invocations(t, "alert-intake")); after != before {
			t.Errorf("alert-intake ran %d times for unauthenticated deliveries", after-before)
		}
	})

	t.Run("NotJSON", func(t *testing.T) {
		r := s.deliver(t, s.secret, time.Now().Add(3*time.Second), []byte("ALERT beacon on ACME-WS-017"))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.ErrorMessage(t), "the alert is not valid JSON") {
			t.Errorf("non-JSON alert = %d %s", r.Status, r.Body)
		}
		r = s.deliver(t, s.secret, time.Now().Add(4*time.Second), []byte(`{"rule":"x","host":"ACME-WS-001"}`))
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.ErrorMessage(t), "the alert has no tenant") {
			t.Errorf("alert without tenant = %d %s", r.Status, r.Body)
		}
	})

	t.Run("OtherTenant", func(t *testing.T) {
		triages := len(s.invocations(t, "endpoint-triage"))
		body := []byte(`{"id":"SIEM-GLOBEX-77","tenant":"globex","rule":"Encoded PowerShell","severity":"high","host":"GLOBEX-WS-001","user":"jsmith","time":"2026-11-06T09:00:00Z"}`)
		r := s.deliver(t, s.secret, time.Now().Add(5*time.Second), body)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.ErrorMessage(t), "forbidden") {
			t.Fatalf("globex alert = %d %s", r.Status, r.Body)
		}
		if n := len(s.tickets(t, map[string]any{"tenant": "globex"})); n != 0 {
			t.Errorf("%d globex tickets, want none", n)
		}
		if n := len(s.invocations(t, "endpoint-triage")); n != triages {
			t.Errorf("a triage started for the globex alert")
		}
	})

	t.Run("NoIDCorrelates", func(t *testing.T) {
		body := func(sev string) []byte {
			return []byte(`{"title":"Beacon to rare destination","severity":"` + sev + `","customer":"acme","hostname":"ACME-WS-003","dst_ip":"198.51.100.23"}`)
		}
		var a, b intakeOutput
		r := s.deliver(t, s.secret, time.Now().Add(6*time.Second), body("7"))
		json.Unmarshal(r.Body, &a)
		r2 := s.deliver(t, s.secret, time.Now().Add(7*time.Second), body("9"))
		json.Unmarshal(r2.Body, &b)
		outputs = append(outputs, r.Body, r2.Body)
		if !a.Created || !b.Duplicate || a.Ticket != b.Ticket {
			t.Errorf("id-less alerts: %s / %s", r.Body, r2.Body)
		}
	})

	for i, out := range outputs {
		assertNoGlobexIn(t, fmt.Sprintf("output %d", i), out)
	}

	t.Run("GrantedBothTenants", func(t *testing.T) {
		// As the demo grants them: acme and globex. A globex alert and an
		// acme alert arrive; acme's ticket, its triage comment and the
		// outputs hold nothing of globex, and globex's ticket is triaged
		// from globex's data (so the check can fail).
		s.must(t, http.StatusOK, "PATCH", "/v1/users/alice", s.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","assets.read","endpoints.read","tickets.read","tickets.write","plugins.invoke"],"tenants":["acme","globex"]}}`))
		for name, caps := range map[string]string{
			"endpoint-triage": `["logs.read","assets.read","endpoints.read","tickets.read","tickets.write"]`,
			"alert-intake":    `["tickets.read","tickets.write","plugins.invoke"]`,
		} {
			s.must(t, http.StatusOK, "PUT", "/v1/plugins/"+name+"/grant", s.alice, []byte(`{"capabilities":`+caps+`,"tenants":["acme","globex"]}`))
		}
		at := storyAlertTime().Format(time.RFC3339)
		gHost := demodata.Hosts(demodata.TenantGlobex)[0]
		var tickets [2]intakeOutput
		for i, body := range []string{
			`{"id":"SIEM-GLOBEX-78","tenant":"globex","rule":"Suspicious logon","severity":"high","host":"` + gHost + `","time":"` + at + `"}`,
			`{"id":"SIEM-ACME-20999","tenant":"acme","rule":"Beacon to a rare destination","severity":"high","host":"` + demodata.Story.PatientZeroHost + `","dst_ip":"` + demodata.Story.C2IP + `","time":"` + at + `"}`,
		} {
			r := s.deliver(t, s.secret, time.Now().Add(time.Duration(10+i)*time.Second), []byte(body))
			if r.Status != http.StatusOK || json.Unmarshal(r.Body, &tickets[i]) != nil || !tickets[i].Created || tickets[i].TriageInvocation == "" {
				t.Fatalf("alert %d = %d %s", i, r.Status, r.Body)
			}
			if i == 1 {
				assertNoGlobexIn(t, "acme's intake output", r.Body)
			}
		}
		comment := func(tenant, id string) string {
			var body string
			waitFor(t, "the triage comment on "+id, func() bool {
				tk := s.must(t, http.StatusOK, "POST", "/v1/tickets/get", s.alice, []byte(fmt.Sprintf(`{"tenant":%q,"id":%q}`, tenant, id))).JSON(t)
				cs, _ := tk["comments"].([]any)
				if len(cs) == 0 {
					return false
				}
				raw, _ := json.Marshal(tk)
				body = string(raw)
				return true
			})
			return body
		}
		acme := comment("acme", tickets[1].Ticket)
		assertNoGlobexIn(t, "acme's ticket and triage comment", []byte(acme))
		for _, want := range []string{"| high | beaconing |", "Indicator sweep", demodata.Story.C2IP} {
			if !strings.Contains(acme, want) {
				t.Errorf("acme's triage comment lacks %q:\n%s", want, acme)
			}
		}
		if globex := comment("globex", tickets[0].Ticket); !strings.Contains(globex, "Endpoint triage: "+gHost+" (globex)") || strings.Contains(globex, demodata.Story.PatientZeroHost) {
			t.Errorf("globex's ticket was not triaged from globex's data:\n%s", globex)
		}
	})
}
