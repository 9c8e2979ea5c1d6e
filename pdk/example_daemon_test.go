//go:build !wasip1

package pdk_test

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// TestMain runs the tests and the examples with exampleDaemon standing in for
// lhkd, so that the examples show a daemon's answers. Tests that need the
// fallbacks of a build outside WebAssembly restore them (outsideWasm).
func TestMain(m *testing.M) {
	d := newExampleDaemon()
	pdk.SetDaemon(d.serve, d.http)
	os.Exit(m.Run())
}

// exampleDaemon is a small in-memory lhkd for the examples: tenant acme
// with a few events, a filter, a ticket, an asset and a report; a plugin
// granted every capability on acme and outbound HTTP to api.example.com.
// It checks what the examples rely on the daemon to check (the tenant, the
// time range, known channels and plugins, unique external keys) and answers
// with the daemon's error codes and envelopes. It answers writes as lhkd
// would but keeps nothing, so every example starts from the same data and
// runs alone or repeated with the same output.
type exampleDaemon struct {
	events  []map[string]any
	tickets []*pdk.Ticket
	reports []*pdk.Report
	kv      map[string]string
}

func newExampleDaemon() *exampleDaemon {
	ev := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			panic(err)
		}
		return m
	}
	return &exampleDaemon{
		events: []map[string]any{ // newest first
			ev(`{"@timestamp":"2026-11-02T10:03:00Z","_id":"ev-104","tenant":"acme","host.name":"WS01","event.code":3,"process.name":"powershell.exe","source.ip":"10.0.0.5","destination.ip":"203.0.113.7","destination.port":443}`),
			ev(`{"@timestamp":"2026-11-02T10:01:00Z","_id":"ev-103","tenant":"acme","host.name":"WS01","event.code":4688,"user.name":"alice","process.name":"powershell.exe","process.command_line":"powershell -nop -enc SQBFAFgA","process.parent.name":"WINWORD.EXE"}`),
			ev(`{"@timestamp":"2026-11-02T09:12:00Z","_id":"ev-102","tenant":"acme","host.name":"DC01","event.code":4625,"user.name":"bob","source.ip":"10.0.0.9"}`),
			ev(`{"@timestamp":"2026-11-02T09:11:00Z","_id":"ev-101","tenant":"acme","host.name":"DC01","event.code":4625,"user.name":"bob","source.ip":"10.0.0.9"}`),
			ev(`{"@timestamp":"2026-11-02T09:10:00Z","_id":"ev-100","tenant":"acme","host.name":"DC01","event.code":4625,"user.name":"admin","source.ip":"198.51.100.23"}`),
		},
		tickets: []*pdk.Ticket{{
			ID: "T-1001", Tenant: "acme", Title: "Impossible travel for alice", Status: pdk.TicketOpen,
			Severity: pdk.SeverityHigh, Reporter: "alice (plugin alert-intake)", ExternalKey: "siem-8812",
			Observables: []pdk.Observable{{Type: pdk.ObservableUser, Value: "alice"}}, Events: []string{},
		}},
		reports: []*pdk.Report{{ // oldest first
			ID: "R-0006", Tenant: "acme", Title: "Weekly security report: acme, 2026-10-19 – 2026-10-25",
			Markdown: "# Weekly security report\n\n5 tickets opened.\n", HTML: "<h1>Weekly security report</h1>\n<p>5 tickets opened.</p>\n",
			Plugin: "report", Author: "alice",
		}, {
			ID: "R-0007", Tenant: "acme", Title: "Weekly security report: acme, 2026-10-26 – 2026-11-01",
			Markdown: "# Weekly security report\n\n3 tickets opened.\n", HTML: "<h1>Weekly security report</h1>\n<p>3 tickets opened.</p>\n",
			Plugin: "report", Author: "alice",
		}},
		kv: map[string]string{"last-run": "2026-11-02T09:00:00Z", "seen/siem-8810": "T-0998", "seen/siem-8811": "T-0999"},
	}
}

// fault is an error answer of the daemon.
type fault struct{ code, msg string }

func faultf(code, format string, args ...any) *fault {
	return &fault{code, fmt.Sprintf(format, args...)}
}

// serve answers one host call with the daemon's envelope.
func (d *exampleDaemon) serve(imp string, raw json.RawMessage) []byte {
	var req map[string]any
	if err := json.Unmarshal(raw, &req); err != nil {
		return envelope(nil, faultf(pdk.CodeInvalid, "invalid request: %v", err))
	}
	if t, ok := req["tenant"].(string); ok || strings.HasPrefix(imp, "logs_") {
		if t == "" && imp != "notify_send" {
			return envelope(nil, faultf(pdk.CodeInvalid, "tenant is required"))
		}
		if t != "" && t != "acme" {
			return envelope(nil, faultf(pdk.CodeForbidden, "tenant %q is not in the grant (granted tenants: acme)", t))
		}
	}
	data, f := d.handle(imp, req, raw)
	return envelope(data, f)
}

func envelope(data any, f *fault) []byte {
	var b []byte
	if f != nil {
		b, _ = json.Marshal(map[string]any{"error": map[string]string{"code": f.code, "message": f.msg}})
	} else {
		b, _ = json.Marshal(map[string]any{"data": data})
	}
	return b
}

func (d *exampleDaemon) handle(imp string, req map[string]any, raw json.RawMessage) (any, *fault) {
	str := func(k string) string {
		s, _ := req[k].(string)
		if s == "0001-01-01T00:00:00Z" { // a zero time.Time: not given
			return ""
		}
		return s
	}
	num := func(k string) int { n, _ := req[k].(float64); return int(n) }
	switch imp {
	case "logs_search", "logs_search_fields", "logs_top", "logs_count":
		if str("from") == "" || str("to") == "" {
			return nil, faultf(pdk.CodeInvalid, "from and to are required (RFC 3339)")
		}
		var conds []pdk.Condition
		if b, err := json.Marshal(req["fields"]); err == nil {
			json.Unmarshal(b, &conds)
		}
		var match []map[string]any
		for _, e := range d.events {
			if matchesText(e, str("query")) && matchesFields(e, conds) {
				match = append(match, e)
			}
		}
		switch imp {
		case "logs_count":
			if len(match) == 0 {
				return map[string]any{"count": 0}, nil
			}
			return map[string]any{"count": len(match), "last": match[0]["@timestamp"]}, nil
		case "logs_top":
			return top(match, str("field"), num("limit")), nil
		}
		return page(match, num("limit"), str("cursor")), nil
	case "filters_list":
		return map[string]any{"filters": []map[string]any{{"tenant": "acme", "name": "backup-noise",
			"conditions": []pdk.Condition{pdk.Eq("process.name", "backup.exe")}, "reason": "nightly backup job",
			"owner": "alice", "created_at": "2026-10-01T00:00:00Z", "expires_at": nil, "hit_count": 412, "last_hit": "2026-11-02T02:00:00Z"}}}, nil
	case "filters_stats":
		return map[string]any{"stats": []map[string]any{
			{"name": "backup-noise", "hits": 412, "last_hit": "2026-11-02T02:00:00Z", "expires_at": nil, "expired": false},
			{"name": "old-scanner", "hits": 0, "last_hit": nil, "expires_at": "2026-09-30T00:00:00Z", "expired": true}}}, nil
	case "filters_upsert":
		var f pdk.Filter
		json.Unmarshal(raw, &f)
		if f.Name == "" || len(f.Conditions) == 0 {
			return nil, faultf(pdk.CodeInvalid, "a filter needs a name and conditions")
		}
		f.Owner, f.CreatedAt = "alice", time.Date(2026, 11, 2, 11, 0, 0, 0, time.UTC)
		return f, nil
	case "filters_delete":
		if str("name") != "backup-noise" {
			return nil, faultf(pdk.CodeNotFound, "filter %q not found in tenant %q", str("name"), "acme")
		}
		return struct{}{}, nil
	case "tickets_create":
		var t pdk.Ticket
		json.Unmarshal(raw, &t)
		for _, o := range d.tickets {
			if t.ExternalKey != "" && o.ExternalKey == t.ExternalKey {
				return nil, faultf(pdk.CodeConflict, "tenant acme already has a ticket with external key %q", t.ExternalKey)
			}
		}
		t.ID, t.Status, t.Reporter = fmt.Sprintf("T-%d", 1001+len(d.tickets)), pdk.TicketOpen, "alice (plugin example)"
		return t, nil
	case "tickets_get", "tickets_update", "tickets_comment":
		i := slices.IndexFunc(d.tickets, func(t *pdk.Ticket) bool { return t.ID == str("id") })
		if i < 0 {
			return nil, faultf(pdk.CodeNotFound, "ticket %q not found in tenant %q", str("id"), "acme")
		}
		c := *d.tickets[i]
		t := &c
		t.Events, t.Observables, t.Comments = slices.Clone(t.Events), slices.Clone(t.Observables), slices.Clone(t.Comments)
		switch imp {
		case "tickets_update":
			var u pdk.TicketUpdateRequest
			json.Unmarshal(raw, &u)
			for p, v := range map[*string]*string{&t.Title: u.Title, &t.Description: u.Description, &t.Status: u.Status, &t.Severity: u.Severity, &t.Assignee: u.Assignee} {
				if v != nil {
					*p = *v
				}
			}
			t.Events = append(t.Events, u.AddEvents...)
			t.Observables = append(t.Observables, u.AddObservables...)
		case "tickets_comment":
			t.Comments = append(t.Comments, pdk.Comment{Author: "alice (plugin example)", Body: str("body")})
		}
		return t, nil
	case "tickets_search":
		var out []*pdk.Ticket
		for _, t := range d.tickets {
			if (str("external_key") == "" || t.ExternalKey == str("external_key")) && (str("status") == "" || t.Status == str("status")) {
				out = append(out, t)
			}
		}
		return pdk.TicketList{Tickets: out}, nil
	case "assets_lookup":
		if h := str("host"); !strings.EqualFold(h, "WS01") && h != "10.0.0.5" {
			return nil, faultf(pdk.CodeNotFound, "no asset %q in tenant %q", h, "acme")
		}
		return pdk.Asset{Tenant: "acme", Name: "WS01", IPs: []string{"10.0.0.5"}, Owner: "alice", OS: "Windows 11", Criticality: pdk.SeverityHigh, Tags: []string{"finance"}}, nil
	case "endpoints_collect":
		if str("host") == "" || str("from") == "" || str("to") == "" {
			return nil, faultf(pdk.CodeInvalid, "host, from and to are required")
		}
		return map[string]any{"tenant": "acme", "host": str("host"), "from": str("from"), "to": str("to"),
			"processes": []map[string]any{{"pid": "4120", "name": "WINWORD.EXE", "command_line": "WINWORD.EXE /n invoice.docm", "user": "alice", "event_id": "ev-099",
				"children": []map[string]any{{"pid": "5532", "name": "powershell.exe", "command_line": "powershell -nop -enc SQBFAFgA", "user": "alice", "parent_pid": "4120", "parent_name": "WINWORD.EXE", "event_id": "ev-103"}}}},
			"network": []map[string]any{d.events[0]}, "logons": []map[string]any{}, "files": []map[string]any{}, "registry": []map[string]any{}, "truncated": false}, nil
	case "endpoints_isolate":
		if str("reason") == "" {
			return nil, faultf(pdk.CodeInvalid, "reason is required: say why the host must be isolated")
		}
		return pdk.ResponseAction{ID: "RA-0031", Tenant: "acme", Host: str("host"), Action: "isolate", Reason: str("reason"), Actor: "alice", Status: "recorded", Detail: "no response webhook is configured"}, nil
	case "reports_publish":
		if str("title") == "" {
			return nil, faultf(pdk.CodeInvalid, "title is required")
		}
		r := &pdk.Report{ID: fmt.Sprintf("R-%04d", 6+len(d.reports)), Tenant: "acme", Title: str("title"), Markdown: str("markdown"),
			HTML: "<h1>" + strings.TrimPrefix(strings.SplitN(str("markdown"), "\n", 2)[0], "# ") + "</h1>\n", Plugin: "example", Author: "alice"}
		return r, nil
	case "reports_list":
		var out []pdk.Report
		for i := len(d.reports) - 1; i >= 0; i-- {
			r := *d.reports[i]
			r.Markdown, r.HTML = "", ""
			out = append(out, r)
		}
		start, _ := strconv.Atoi(str("cursor"))
		limit := num("limit")
		if limit == 0 {
			limit = 50
		}
		out = out[min(start, len(out)):]
		next := ""
		if len(out) > limit {
			out, next = out[:limit], strconv.Itoa(start+limit)
		}
		return map[string]any{"reports": out, "next_cursor": next, "truncated": next != ""}, nil
	case "reports_get":
		for _, r := range d.reports {
			if r.ID == str("id") {
				return r, nil
			}
		}
		return nil, faultf(pdk.CodeNotFound, "report %q not found in tenant %q", str("id"), "acme")
	case "kv_get":
		v, ok := d.kv[str("key")]
		return map[string]any{"key": str("key"), "value": v, "found": ok}, nil
	case "kv_set", "kv_delete":
		return struct{}{}, nil
	case "kv_list":
		var keys []string
		for k := range d.kv {
			if strings.HasPrefix(k, str("prefix")) && k > str("after") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if l := num("limit"); l > 0 && len(keys) > l {
			keys = keys[:l]
		}
		es := []pdk.KVEntry{}
		for _, k := range keys {
			es = append(es, pdk.KVEntry{Key: k, Value: d.kv[k]})
		}
		return map[string]any{"entries": es}, nil
	case "notify_send":
		if str("channel") != "soc-chat" {
			return nil, faultf(pdk.CodeNotFound, "no channel %q is configured (channels: soc-chat)", str("channel"))
		}
		return struct{}{}, nil
	case "grant_get":
		return pdk.Grant{Capabilities: []string{pdk.CapLogsRead, pdk.CapFiltersRead, pdk.CapFiltersWrite, pdk.CapTicketsRead, pdk.CapTicketsWrite,
			pdk.CapAssetsRead, pdk.CapEndpointsRead, pdk.CapEndpointsRespond, pdk.CapReportsRead, pdk.CapReportsWrite, pdk.CapKV, pdk.CapHTTP,
			pdk.CapPluginsInvoke}, Tenants: []string{"acme"}, AllowedHosts: []string{"api.example.com"}}, nil
	case "plugins_start":
		if str("plugin") != "endpoint-triage" {
			return nil, faultf(pdk.CodeNotFound, "plugin %q not found", str("plugin"))
		}
		return map[string]string{"invocation": "inv-01JC40QZ"}, nil
	}
	return nil, faultf(pdk.CodeInternal, "the example daemon has no %s", imp)
}

// matchesText reports whether every word of q appears in the event.
func matchesText(e map[string]any, q string) bool {
	b, _ := json.Marshal(e)
	text := strings.ToLower(string(b))
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// matchesFields applies eq, contains, prefix, cidr and exists conditions.
func matchesFields(e map[string]any, conds []pdk.Condition) bool {
	for _, c := range conds {
		v, ok := e[c.Field]
		s, want := fmt.Sprint(v), fmt.Sprint(c.Value)
		switch c.Op {
		case pdk.OpExists:
		case pdk.OpEq:
			ok = ok && s == want
		case pdk.OpContains:
			ok = ok && strings.Contains(strings.ToLower(s), strings.ToLower(want))
		case pdk.OpPrefix:
			ok = ok && strings.HasPrefix(s, want)
		case pdk.OpCIDR:
			p, err1 := netip.ParsePrefix(want)
			a, err2 := netip.ParseAddr(s)
			ok = ok && err1 == nil && err2 == nil && p.Contains(a)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
	return true
}

// page cuts events to limit (default 100), the cursor being an offset.
func page(events []map[string]any, limit int, cursor string) map[string]any {
	if limit == 0 {
		limit = pdk.DefaultLogLimit
	}
	start, _ := strconv.Atoi(cursor)
	events = events[min(start, len(events)):]
	next := ""
	if len(events) > limit {
		events, next = events[:limit], strconv.Itoa(start+limit)
	}
	if events == nil {
		events = []map[string]any{}
	}
	return map[string]any{"events": events, "next_cursor": next, "truncated": next != ""}
}

// top counts the values of field, most frequent first.
func top(events []map[string]any, field string, limit int) pdk.TopResult {
	counts := map[string]int64{}
	res := pdk.TopResult{Field: field}
	for _, e := range events {
		if v, ok := e[field]; ok {
			counts[fmt.Sprint(v)]++
			res.Total++
		}
	}
	for v, n := range counts {
		res.Buckets = append(res.Buckets, pdk.Bucket{Value: v, Count: n})
	}
	slices.SortFunc(res.Buckets, func(a, b pdk.Bucket) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	if limit > 0 && len(res.Buckets) > limit {
		res.Buckets = res.Buckets[:limit]
	}
	res.Other = res.Total
	for _, b := range res.Buckets {
		res.Other -= b.Count
	}
	return res
}

// http answers outbound requests as a threat-intelligence API would.
func (d *exampleDaemon) http(req pdk.HTTPRequest) *pdk.HTTPResponse {
	if ip, ok := strings.CutPrefix(req.URL, "https://api.example.com/v1/ip/"); ok {
		body := fmt.Sprintf(`{"ip":%q,"country":"NL","asn":"AS64500","reputation":"malicious"}`, ip)
		return &pdk.HTTPResponse{Status: 200, Header: map[string]string{"content-type": "application/json"}, Body: []byte(body)}
	}
	return &pdk.HTTPResponse{Status: 404, Header: map[string]string{"content-type": "text/plain"}, Body: []byte("not found")}
}
