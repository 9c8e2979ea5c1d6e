package pdk_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// A plugin's exported function reads its input, does its work in plain Go and
// writes its output; Run turns a returned error into a failed invocation.
func ExampleRun() {
	run := func() int32 { // in a plugin: //go:wasmexport run
		return pdk.Run(func() error {
			var in struct {
				Host string `json:"host"`
			}
			if err := pdk.InputJSON(&in); err != nil {
				return err
			}
			pdk.Logf(pdk.LevelInfo, "triaging %s", in.Host)
			return pdk.OutputJSON(map[string]string{"summary": "# " + strings.ToUpper(in.Host)})
		})
	}
	// Outside WebAssembly the input is empty, so the function fails.
	fmt.Println(run())
	// Output: 1
}

// Host functions are declared with //go:wasmimport in module "lhk" and called
// through Call, which handles memory and the reply envelope.
func ExampleCall() {
	// In a plugin:
	//
	//	//go:wasmimport lhk tickets_create
	//	func ticketsCreate(uint64) uint64
	var ticketsCreate pdk.HostFunc = func(uint64) uint64 { return 0 }

	var created struct {
		ID string `json:"id"`
	}
	err := pdk.Call(ticketsCreate, map[string]string{"tenant": "acme", "title": "Suspicious login"}, &created)
	switch pdk.ErrorCode(err) {
	case "":
		fmt.Println("created", created.ID)
	case pdk.CodeForbidden:
		fmt.Println("not granted:", err)
	default:
		fmt.Println("failed:", err)
	}
	// Output: failed: pdk: host functions are only available inside a wasm plugin
}

// Field conditions are built with Eq, Contains, Prefix, CIDR, GT, LT and
// Exists, and are AND-ed.
func ExampleEq() {
	conds := []pdk.Condition{
		pdk.Eq("host.name", "WS01"),
		pdk.CIDR("source.ip", "10.0.0.0/8"),
		pdk.GT("destination.port", 1024),
		pdk.Exists("process.parent.name"),
	}
	b, _ := json.Marshal(conds)
	fmt.Println(string(b))
	// Output: [{"field":"host.name","op":"eq","value":"WS01"},{"field":"source.ip","op":"cidr","value":"10.0.0.0/8"},{"field":"destination.port","op":"gt","value":1024},{"field":"process.parent.name","op":"exists"}]
}

// A free-text search over the last day; a truncated result says more events
// match.
func ExampleLogSystem_Search() {
	to := time.Now()
	res, err := pdk.Logs.Search(pdk.SearchRequest{
		Tenant: "acme",
		Query:  "powershell -enc",
		From:   to.Add(-24 * time.Hour),
		To:     to,
		Limit:  100,
	})
	if err != nil {
		pdk.Logf(pdk.LevelError, "search: %v", err)
		return
	}
	for _, e := range res.Events {
		pdk.Logf(pdk.LevelInfo, "%s %s: %s", e.Time().Format(time.RFC3339), e.String("host.name"), e.String("process.command_line"))
	}
	if res.Truncated {
		pdk.Logf(pdk.LevelWarn, "more events match; next page: %s", res.NextCursor)
	}
}

// SearchFieldsAll reads every page of a field search.
func ExampleLogSystem_SearchFieldsAll() {
	to := time.Now()
	hosts := map[string]int{}
	err := pdk.Logs.SearchFieldsAll(pdk.FieldSearchRequest{
		Tenant: "acme",
		Fields: []pdk.Condition{pdk.Eq("event.code", 4625), pdk.CIDR("source.ip", "10.0.0.0/8")},
		From:   to.Add(-7 * 24 * time.Hour),
		To:     to,
		Limit:  pdk.MaxLogLimit,
	}, 10000, func(e pdk.Event) error {
		hosts[e.String("host.name")]++
		return nil
	})
	if err != nil {
		pdk.Logf(pdk.LevelError, "search: %v", err)
	}
}

// Top counts the values of one field, for a report.
func ExampleLogSystem_Top() {
	to := time.Now()
	top, err := pdk.Logs.Top(pdk.TopRequest{
		Tenant: "acme",
		Field:  "user.name",
		Fields: []pdk.Condition{pdk.Eq("event.code", 4625)},
		From:   to.Add(-7 * 24 * time.Hour),
		To:     to,
		Limit:  10,
	})
	if err != nil {
		return
	}
	var md strings.Builder
	md.WriteString("| user | failed logons |\n|---|---|\n")
	for _, b := range top.Buckets {
		fmt.Fprintf(&md, "| %s | %d |\n", b.Value, b.Count)
	}
	fmt.Fprintf(&md, "| (others) | %d |\n", top.Other)
}

// An external key makes ticket creation idempotent: a conflict means the
// ticket exists, and the plugin adds to it instead.
func ExampleTicketSystem_Create() {
	alertID := "siem-8812"
	t, err := pdk.Tickets.Create(pdk.Ticket{
		Tenant:      "acme",
		Title:       "Impossible travel for alice",
		Severity:    pdk.SeverityHigh,
		ExternalKey: alertID,
		Observables: []pdk.Observable{{Type: pdk.ObservableUser, Value: "alice"}},
	})
	switch {
	case err == nil:
		pdk.Logf(pdk.LevelInfo, "opened %s", t.ID)
	case pdk.IsConflict(err):
		list, err := pdk.Tickets.Search(pdk.TicketQuery{Tenant: "acme", ExternalKey: alertID, Limit: 1})
		if err == nil && len(list.Tickets) > 0 {
			pdk.Tickets.Comment("acme", list.Tickets[0].ID, "The SIEM raised the alert again.")
		}
	case pdk.IsForbidden(err):
		pdk.Logf(pdk.LevelError, "grant the plugin tickets.write on acme: %v", err)
	}
}

// Optional fields of an update are pointers: Ptr makes one.
func ExampleTicketSystem_Update() {
	_, err := pdk.Tickets.Update("acme", "T-01JC3Z8Q4W", pdk.TicketUpdate{
		Status:         pdk.Ptr(pdk.TicketInProgress),
		Assignee:       pdk.Ptr("bob"),
		AddEvents:      []string{"ev-123"},
		AddObservables: []pdk.Observable{{Type: pdk.ObservableIP, Value: "203.0.113.7"}},
	})
	if pdk.IsNotFound(err) {
		pdk.Log(pdk.LevelWarn, "no such ticket in acme")
	}
}

// The kv store keeps state between invocations, here the end of the last
// run's time range.
func ExampleKVSystem_Get() {
	from := time.Now().Add(-time.Hour)
	if v, found, err := pdk.KV.Get("last-run"); err == nil && found {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			from = t
		}
	}
	to := time.Now()
	// … work on [from, to) …
	_ = pdk.KV.Set("last-run", to.UTC().Format(time.RFC3339))
	_ = from
}

// A plugin granted "*" or several tenants reads its grant to work on each.
func ExampleCurrentGrant() {
	g, err := pdk.CurrentGrant()
	if err != nil {
		return
	}
	if g.AllTenants() {
		pdk.Log(pdk.LevelInfo, "granted every tenant: name one in the input")
		return
	}
	for _, tenant := range g.Tenants {
		pdk.Logf(pdk.LevelInfo, "working on %s", tenant)
	}
	if !g.Allows(pdk.CapNotifySend) {
		pdk.Log(pdk.LevelInfo, "not granted notify.send: results go to the output only")
	}
}

// Outbound HTTP reaches only the grant's allowed hosts.
func ExampleHTTPClient_Get() {
	status, body, err := pdk.HTTP.Get("https://api.example.com/v1/ip/203.0.113.7")
	switch {
	case pdk.IsForbidden(err):
		pdk.Log(pdk.LevelError, "add api.example.com to the plugin's allowed_hosts")
	case err != nil:
		pdk.Logf(pdk.LevelError, "lookup: %v", err)
	case status != 200:
		pdk.Logf(pdk.LevelWarn, "lookup: status %d", status)
	default:
		var info struct {
			Country string `json:"country"`
		}
		_ = json.Unmarshal(body, &info)
	}
}

// Notify sends a message to one of the daemon's channels.
func ExampleNotifySystem_Send() {
	err := pdk.Notify.Send(pdk.Notification{
		Channel:  "soc-chat",
		Tenant:   "acme",
		Title:    "WS01 isolated",
		Text:     "Encoded PowerShell followed by credential dumping.",
		Severity: pdk.SeverityCritical,
		Fields:   map[string]string{"host": "WS01", "ticket": "T-01JC3Z8Q4W"},
	})
	if pdk.IsNotFound(err) {
		pdk.Log(pdk.LevelWarn, "no channel soc-chat is configured")
	}
}

// Error codes are tested with the Is… helpers.
func ExampleIsForbidden() {
	err := fmt.Errorf("open ticket: %w", &pdk.Error{Code: pdk.CodeForbidden, Message: "tenant globex is not granted"})
	fmt.Println(pdk.IsForbidden(err), pdk.IsNotFound(err), pdk.ErrorCode(err))
	// Output: true false forbidden
}
