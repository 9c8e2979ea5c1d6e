package pdk_test

// The examples are plugin code. Under go test they run against a small
// in-memory daemon (example_daemon_test.go) holding tenant acme, so their
// output is what the daemon answers; the plugin is granted every capability
// on acme only. In a plugin, fmt's output goes to the invocation's log
// ("stdout" lines) next to pdk.Log's.

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
// match, and NextCursor fetches them.
func ExampleLogSystem_Search() {
	to := time.Now()
	res, err := pdk.Logs.Search(pdk.SearchRequest{
		Tenant: "acme",
		Query:  "powershell",
		From:   to.Add(-24 * time.Hour),
		To:     to,
		Limit:  1,
	})
	if err != nil {
		fmt.Println("search:", err)
		return
	}
	for _, e := range res.Events {
		fmt.Println(e.Time().Format(time.RFC3339), e.String("host.name"), e.String("process.name"), e.ID())
	}
	if res.Truncated {
		fmt.Println("more events match; next page:", res.NextCursor)
	}
	// Output:
	// 2026-11-02T10:03:00Z WS01 powershell.exe ev-104
	// more events match; next page: 1
}

// A field search: failed logons (event 4625) from the internal network.
// Another tenant is refused before any backend is reached.
func ExampleLogSystem_SearchFields() {
	to := time.Now()
	req := pdk.FieldSearchRequest{
		Tenant: "acme",
		Fields: []pdk.Condition{pdk.Eq("event.code", 4625), pdk.CIDR("source.ip", "10.0.0.0/8")},
		From:   to.Add(-7 * 24 * time.Hour),
		To:     to,
	}
	res, err := pdk.Logs.SearchFields(req)
	if err != nil {
		fmt.Println("search:", err)
		return
	}
	for _, e := range res.Events {
		fmt.Println(e.String("user.name"), e.String("source.ip"), e.String("host.name"))
	}
	req.Tenant = "globex"
	_, err = pdk.Logs.SearchFields(req)
	fmt.Println(pdk.IsForbidden(err), err)
	// Output:
	// bob 10.0.0.9 DC01
	// bob 10.0.0.9 DC01
	// true forbidden: tenant "globex" is not in the grant (granted tenants: acme)
}

// SearchFieldsAll reads every page of a field search.
func ExampleLogSystem_SearchFieldsAll() {
	to := time.Now()
	hosts := map[string]int{}
	err := pdk.Logs.SearchFieldsAll(pdk.FieldSearchRequest{
		Tenant: "acme",
		Fields: []pdk.Condition{pdk.Exists("host.name")},
		From:   to.Add(-7 * 24 * time.Hour),
		To:     to,
		Limit:  2, // events per page
	}, 10000, func(e pdk.Event) error {
		hosts[e.String("host.name")]++
		return nil
	})
	if err != nil {
		fmt.Println("search:", err)
		return
	}
	fmt.Println(hosts)
	// Output: map[DC01:3 WS01:2]
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
		Limit:  1,
	})
	if err != nil {
		fmt.Println("top:", err)
		return
	}
	var md strings.Builder
	md.WriteString("| user | failed logons |\n|---|---|\n")
	for _, b := range top.Buckets {
		fmt.Fprintf(&md, "| %s | %d |\n", b.Value, b.Count)
	}
	fmt.Fprintf(&md, "| (others) | %d |\n", top.Other)
	fmt.Print(md.String())
	// Output:
	// | user | failed logons |
	// |---|---|
	// | bob | 2 |
	// | (others) | 1 |
}

// Count says how many events match and when the newest was.
func ExampleLogSystem_Count() {
	to := time.Now()
	c, err := pdk.Logs.Count(pdk.CountRequest{
		Tenant: "acme",
		Fields: []pdk.Condition{pdk.Eq("process.name", "powershell.exe")},
		From:   to.Add(-24 * time.Hour),
		To:     to,
	})
	if err != nil {
		fmt.Println("count:", err)
		return
	}
	fmt.Println(c.Count, c.Last.Format(time.RFC3339))
	// Output: 2 2026-11-02T10:03:00Z
}

// A query past the daemon's query budget fails with CodeTimeout: narrow the
// range and try again.
func ExampleIsTimeout() {
	search := func(from, to time.Time) (*pdk.SearchResult, error) {
		if to.Sub(from) > 30*24*time.Hour { // as if the store took too long
			return nil, &pdk.Error{Code: pdk.CodeTimeout, Message: "the query ran past its 5s budget: narrow the time range or add conditions"}
		}
		return &pdk.SearchResult{}, nil
	}
	to := time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
	for days := 90; days > 0; days /= 3 {
		_, err := search(to.AddDate(0, 0, -days), to)
		if pdk.IsTimeout(err) {
			fmt.Printf("%d days: %v\n", days, err)
			continue
		}
		fmt.Printf("%d days: ok\n", days)
		break
	}
	// Output:
	// 90 days: timeout: the query ran past its 5s budget: narrow the time range or add conditions
	// 30 days: ok
}

// List reads a tenant's analysis filters.
func ExampleFilterSystem_List() {
	fs, err := pdk.Filters.List("acme", false)
	if err != nil {
		fmt.Println("filters:", err)
		return
	}
	for _, f := range fs {
		b, _ := json.Marshal(f.Conditions)
		fmt.Println(f.Name, string(b), f.HitCount, f.Reason)
	}
	// Output: backup-noise [{"field":"process.name","op":"eq","value":"backup.exe"}] 412 nightly backup job
}

// Stats finds filters that no longer match anything.
func ExampleFilterSystem_Stats() {
	to := time.Now()
	stats, err := pdk.Filters.Stats("acme", to.Add(-30*24*time.Hour), to)
	if err != nil {
		fmt.Println("stats:", err)
		return
	}
	for _, s := range stats {
		if s.Hits == 0 {
			fmt.Printf("%s: no hits in 30 days (expired: %v)\n", s.Name, s.Expired)
		}
	}
	// Output: old-scanner: no hits in 30 days (expired: true)
}

// Upsert creates or replaces a filter; ExpiresAt nil keeps it for good.
func ExampleFilterSystem_Upsert() {
	f, err := pdk.Filters.Upsert(pdk.Filter{
		Tenant:     "acme",
		Name:       "vuln-scanner",
		Conditions: []pdk.Condition{pdk.Eq("source.ip", "10.0.9.9"), pdk.Eq("event.code", 4625)},
		Reason:     "weekly authenticated scan",
	})
	if err != nil {
		fmt.Println("upsert:", err)
		return
	}
	fmt.Println(f.Name, f.Owner, len(f.Conditions))
	_, err = pdk.Filters.Upsert(pdk.Filter{Tenant: "acme", Name: "empty"})
	fmt.Println(pdk.IsInvalid(err))
	// Output:
	// vuln-scanner alice 2
	// true
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
		fmt.Println("opened", t.ID)
	case pdk.IsConflict(err):
		list, err := pdk.Tickets.Search(pdk.TicketQuery{Tenant: "acme", ExternalKey: alertID, Limit: 1})
		if err == nil && len(list.Tickets) > 0 {
			t, _ := pdk.Tickets.Comment("acme", list.Tickets[0].ID, "The SIEM raised the alert again.")
			fmt.Println("commented on", t.ID, "-", len(t.Comments), "comment")
		}
	case pdk.IsForbidden(err):
		fmt.Println("grant the plugin tickets.write on acme:", err)
	}
	// Output: commented on T-1001 - 1 comment
}

// An update is built with TicketUpdate's methods: no pointers.
func ExampleTicketSystem_Update() {
	t, err := pdk.Tickets.Update("acme", "T-1001", pdk.TicketUpdate{}.
		SetStatus(pdk.TicketInProgress).
		SetAssignee("bob").
		AddEvent("ev-103").
		AddObservable(pdk.Observable{Type: pdk.ObservableIP, Value: "203.0.113.7"}))
	if err != nil {
		fmt.Println("update:", err)
		return
	}
	fmt.Println(t.Status, t.Assignee, t.Events, t.Observables)

	_, err = pdk.Tickets.Update("acme", "T-9999", pdk.TicketUpdate{}.SetStatus(pdk.TicketClosed))
	fmt.Println(pdk.IsNotFound(err))
	// Output:
	// in_progress bob [ev-103] [{user alice} {ip 203.0.113.7}]
	// true
}

// Get reads one ticket; another tenant's is refused.
func ExampleTicketSystem_Get() {
	t, err := pdk.Tickets.Get("acme", "T-1001")
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	fmt.Println(t.ID, t.Severity, t.Title)
	_, err = pdk.Tickets.Get("globex", "T-1001")
	fmt.Println(pdk.ErrorCode(err))
	// Output:
	// T-1001 high Impossible travel for alice
	// forbidden
}

// Lookup finds a host of the inventory by name or IP.
func ExampleAssetSystem_Lookup() {
	a, err := pdk.Assets.Lookup("acme", "10.0.0.5")
	if err != nil {
		fmt.Println("lookup:", err)
		return
	}
	fmt.Println(a.Name, a.Owner, a.Criticality, a.Tags)
	if _, err := pdk.Assets.Lookup("acme", "LAPTOP-99"); pdk.IsNotFound(err) {
		fmt.Println("LAPTOP-99 is not in the inventory")
	}
	// Output:
	// WS01 alice high [finance]
	// LAPTOP-99 is not in the inventory
}

// Collect gathers what happened on a host: here the process tree.
func ExampleEndpointSystem_Collect() {
	to := time.Now()
	c, err := pdk.Endpoints.Collect(pdk.CollectRequest{Tenant: "acme", Host: "WS01", From: to.Add(-time.Hour), To: to})
	if err != nil {
		fmt.Println("collect:", err)
		return
	}
	var walk func(p *pdk.ProcessNode, depth int)
	walk = func(p *pdk.ProcessNode, depth int) {
		fmt.Printf("%s%s (%s)\n", strings.Repeat("  ", depth), p.CommandLine, p.PID)
		for _, ch := range p.Children {
			walk(ch, depth+1)
		}
	}
	for _, p := range c.Processes {
		walk(p, 0)
	}
	fmt.Println(len(c.Network), "connection(s), truncated:", c.Truncated)
	// Output:
	// WINWORD.EXE /n invoice.docm (4120)
	//   powershell -nop -enc SQBFAFgA (5532)
	// 1 connection(s), truncated: false
}

// Isolate records the action; its Status says whether it was delivered.
func ExampleEndpointSystem_Isolate() {
	a, err := pdk.Endpoints.Isolate("acme", "WS01", "encoded PowerShell from a macro")
	if err != nil {
		fmt.Println("isolate:", err)
		return
	}
	fmt.Println(a.ID, a.Action, a.Host, a.Status+":", a.Detail)
	// Output: RA-0031 isolate WS01 recorded: no response webhook is configured
}

// Publish stores a Markdown report, rendered to HTML.
func ExampleReportSystem_Publish() {
	r, err := pdk.Reports.Publish("acme", "Weekly security report: acme, 2026-11-02 – 2026-11-08", "# Weekly security report\n\nNo incidents.\n")
	if err != nil {
		fmt.Println("publish:", err)
		return
	}
	fmt.Println(r.ID, r.Plugin, r.HTML)
	// Output: R-0008 example <h1>Weekly security report</h1>
}

// List pages through a tenant's reports, newest first.
func ExampleReportSystem_List() {
	for cursor := ""; ; {
		page, err := pdk.Reports.List("acme", 1, cursor)
		if err != nil {
			fmt.Println("list:", err)
			return
		}
		for _, r := range page.Reports {
			fmt.Println(r.ID, r.Title)
		}
		if !page.Truncated {
			break
		}
		cursor = page.NextCursor
	}
	// Output:
	// R-0007 Weekly security report: acme, 2026-10-26 – 2026-11-01
	// R-0006 Weekly security report: acme, 2026-10-19 – 2026-10-25
}

// Get reads one report with its Markdown, e.g. to compare with last week's.
func ExampleReportSystem_Get() {
	r, err := pdk.Reports.Get("acme", "R-0007")
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	fmt.Print(r.Markdown)
	_, err = pdk.Reports.Get("acme", "R-0999")
	fmt.Println(pdk.IsNotFound(err))
	// Output:
	// # Weekly security report
	//
	// 3 tickets opened.
	// true
}

// The kv store keeps state between invocations, here the end of the last
// run's time range, so each run reads what came since.
func ExampleKVSystem_Get() {
	to := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC) // in a plugin: time.Now()
	from := to.Add(-24 * time.Hour)                     // the first run
	if v, found, err := pdk.KV.Get("last-run"); err == nil && found {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			from = t
		}
	}
	fmt.Printf("reading [%s, %s)\n", from.Format(time.Kitchen), to.Format(time.Kitchen))
	// … work on [from, to) …
	if err := pdk.KV.Set("last-run", to.Format(time.RFC3339)); err != nil {
		fmt.Println("kv:", err)
	}
	// Output: reading [9:00AM, 10:00AM)
}

// List reads keys by prefix, a page at a time.
func ExampleKVSystem_List() {
	es, err := pdk.KV.List("seen/", "", 10)
	if err != nil {
		fmt.Println("kv:", err)
		return
	}
	for _, e := range es {
		fmt.Println(e.Key, e.Value)
	}
	// Output:
	// seen/siem-8810 T-0998
	// seen/siem-8811 T-0999
}

// A plugin granted "*" or several tenants reads its grant to work on each.
func ExampleCurrentGrant() {
	g, err := pdk.CurrentGrant()
	if err != nil {
		fmt.Println("grant:", err)
		return
	}
	if g.AllTenants() {
		fmt.Println("granted every tenant: name one in the input")
		return
	}
	for _, tenant := range g.Tenants {
		fmt.Println("working on", tenant)
	}
	if !g.Allows(pdk.CapNotifySend) {
		fmt.Println("not granted notify.send: results go to the output only")
	}
	// Output:
	// working on acme
	// not granted notify.send: results go to the output only
}

// Outbound HTTP reaches only the grant's allowed hosts.
func ExampleHTTPClient_Get() {
	for _, url := range []string{"https://api.example.com/v1/ip/203.0.113.7", "https://evil.example.net/x"} {
		status, body, err := pdk.HTTP.Get(url)
		switch {
		case pdk.IsForbidden(err):
			fmt.Println(err)
		case err != nil:
			fmt.Println("lookup:", err)
		case status != 200:
			fmt.Println("lookup: status", status)
		default:
			var info struct {
				Country    string `json:"country"`
				Reputation string `json:"reputation"`
			}
			_ = json.Unmarshal(body, &info)
			fmt.Println(info.Country, info.Reputation)
		}
	}
	// Output:
	// NL malicious
	// forbidden: http: host "evil.example.net" is not in the plugin's allowed_hosts
}

// Notify sends a message to one of the daemon's channels.
func ExampleNotifySystem_Send() {
	n := pdk.Notification{
		Channel:  "soc-chat",
		Tenant:   "acme",
		Title:    "WS01 isolated",
		Text:     "Encoded PowerShell followed by credential dumping.",
		Severity: pdk.SeverityCritical,
		Fields:   map[string]string{"host": "WS01", "ticket": "T-1001"},
	}
	fmt.Println(pdk.Notify.Send(n))
	n.Channel = "pager"
	if err := pdk.Notify.Send(n); pdk.IsNotFound(err) {
		fmt.Println(err)
	}
	// Output:
	// <nil>
	// not_found: no channel "pager" is configured (channels: soc-chat)
}

// Start hands work to another plugin and returns at once.
func ExamplePluginSystem_Start() {
	id, err := pdk.Plugins.Start("endpoint-triage", "", `{"ticket":"T-1001"}`)
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	fmt.Println("triage running as", id)
	_, err = pdk.Plugins.Start("no-such-plugin", "", "")
	fmt.Println(pdk.ErrorCode(err))
	// Output:
	// triage running as inv-01JC40QZ
	// not_found
}

// Error codes are tested with the Is… helpers.
func ExampleIsForbidden() {
	err := fmt.Errorf("open ticket: %w", &pdk.Error{Code: pdk.CodeForbidden, Message: "tenant globex is not granted"})
	fmt.Println(pdk.IsForbidden(err), pdk.IsNotFound(err), pdk.ErrorCode(err))
	// Output: true false forbidden
}
