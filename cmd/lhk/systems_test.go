package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestLibraryOps checks lhk's list of library operations against the
// daemon's OpenAPI document, and that every read operation has a command.
func TestLibraryOps(t *testing.T) {
	res, err := http.Get(daemonURL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var served, known []string
	for path, ops := range doc.Paths {
		var post struct{ Summary string }
		if raw, ok := ops["post"]; ok && json.Unmarshal(raw, &post) == nil && strings.HasPrefix(post.Summary, "lhk.") {
			served = append(served, path)
		}
	}
	c := newCLI(t)
	for _, o := range libraryOps {
		known = append(known, "/v1/"+o.System+"/"+o.Op)
		read := !strings.HasSuffix(o.Capability, ".write") && o.Capability != "endpoints.respond" && o.Capability != "notify.send" && o.Capability != "plugins.invoke" &&
			!(o.System == "kv" && (o.Op == "set" || o.Op == "delete"))
		if read && o.Command == "" {
			t.Errorf("read operation %s.%s has no command", o.System, o.Op)
		}
		if o.Command != "" {
			if r := c.ok(append(strings.Fields(o.Command), "--help")...); !strings.Contains(r.Stdout, o.System+"."+o.Op) && !strings.Contains(r.Stdout, "/v1/"+o.System+"/"+o.Op) {
				t.Errorf("'lhk %s --help' does not name %s.%s or its route:\n%s", o.Command, o.System, o.Op, r.Stdout)
			}
		}
	}
	sort.Strings(served)
	sort.Strings(known)
	if strings.Join(served, " ") != strings.Join(known, " ") {
		t.Errorf("library operations:\nserved %v\nlhk    %v", served, known)
	}
	// 'lhk call' lists them all.
	var list struct {
		Operations []struct{ System, Op, Route string }
	}
	decodeJSON(t, c.ok("call", "-o", "json").Stdout, &list)
	if len(list.Operations) != len(libraryOps) || list.Operations[0].Route != "POST /v1/logs/search" {
		t.Errorf("call -o json: %+v", list.Operations)
	}
	if r := c.ok("__complete", "call", "tic"); !strings.Contains(r.Stdout, "tickets") {
		t.Errorf("completion of systems: %s", r.Stdout)
	}
	if r := c.ok("__complete", "call", "tickets", ""); !strings.Contains(r.Stdout, "comment") || strings.Contains(r.Stdout, "lookup") {
		t.Errorf("completion of operations: %s", r.Stdout)
	}
}

// TestSystems runs the read commands of every system, and 'lhk call' for the
// writes that set up their data.
func TestSystems(t *testing.T) {
	c := asAdmin(t)
	now := time.Now().UTC()
	at := func(min int) string { return now.Add(-time.Duration(min) * time.Minute).Format(time.RFC3339) }
	events := []map[string]any{
		{"@timestamp": at(50), "host.name": "SYS-WS01", "event.category": "process", "event.type": "start", "process.pid": 100, "process.name": "WINWORD.EXE", "process.command_line": "WINWORD.EXE /n invoice.docm", "user.name": "hsato"},
		{"@timestamp": at(40), "host.name": "SYS-WS01", "event.category": "process", "event.type": "start", "process.pid": 200, "process.parent.pid": 100, "process.parent.name": "WINWORD.EXE", "process.name": "powershell.exe", "process.command_line": "powershell.exe -nop -enc JABj", "user.name": "hsato"},
		{"@timestamp": at(30), "host.name": "SYS-WS01", "event.category": "network", "process.name": "powershell.exe", "source.ip": "10.20.1.5", "destination.ip": "203.0.113.7", "destination.port": 443},
		{"@timestamp": at(20), "host.name": "SYS-WS01", "event.category": "authentication", "event.code": "4624", "event.outcome": "success", "user.name": "hsato", "source.ip": "10.20.1.9"},
		{"@timestamp": at(10), "host.name": "SYS-WS02", "event.category": "network", "process.name": "chrome.exe", "source.ip": "10.20.1.6", "destination.ip": "198.51.100.2", "destination.port": 443},
		{"@timestamp": at(5), "host.name": "SYS-WS02", "event.category": "network", "process.name": "chrome.exe", "source.ip": "10.20.1.6", "destination.ip": "198.51.100.2", "destination.port": 443},
	}
	var buf bytes.Buffer
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		buf.Write(append(b, '\n'))
	}
	file := filepath.Join(t.TempDir(), "sys.ndjson")
	os.WriteFile(file, buf.Bytes(), 0o644)
	c.ok("logs", "ingest", file, "--tenant", "sys-t")

	t.Run("LogsTop", func(t *testing.T) {
		c.t = t
		r := c.ok("logs", "top", "host.name", "--tenant", "sys-t", "--since", "2h")
		if !strings.HasPrefix(r.Stdout, "HOST.NAME  COUNT  SHARE\nSYS-WS01   4      66.7%\nSYS-WS02   2      33.3%\n(total)    6") {
			t.Errorf("top:\n%s", r.Stdout)
		}
		var top struct {
			Field   string
			Buckets []struct {
				Value string
				Count int
			}
			Total, Other int
		}
		decodeJSON(t, c.ok("logs", "top", "destination.ip", "event.category=network", "--tenant", "sys-t", "--limit", "1", "-o", "json").Stdout, &top)
		if top.Field != "destination.ip" || len(top.Buckets) != 1 || top.Buckets[0].Value != "198.51.100.2" || top.Buckets[0].Count != 2 || top.Total != 3 || top.Other != 1 {
			t.Errorf("top -o json: %+v", top)
		}
		if r := c.ok("logs", "top", "destination.ip", "--tenant", "sys-t", "--limit", "1"); !strings.Contains(r.Stdout, "(other values)  1") {
			t.Errorf("top with other:\n%s", r.Stdout)
		}
		decodeJSON(t, c.ok("logs", "top", "user.name", "--query", "powershell", "--tenant", "sys-t", "-o", "json").Stdout, &top)
		if top.Total != 1 || top.Buckets[0].Value != "hsato" {
			t.Errorf("top --query: %+v", top)
		}
		c.fails(exitUsage, "requires at least 1 arg", "logs", "top", "--tenant", "sys-t")
	})
	t.Run("LogsCount", func(t *testing.T) {
		c.t = t
		if r := c.ok("logs", "count", "host.name=SYS-WS01", "--tenant", "sys-t"); !strings.HasPrefix(r.Stdout, "4 events, the newest at ") {
			t.Errorf("count: %q", r.Stdout)
		}
		var n struct {
			Count int
			Last  time.Time
		}
		decodeJSON(t, c.ok("logs", "count", "--tenant", "sys-t", "--since", "2h", "-o", "json").Stdout, &n)
		if n.Count != 6 || n.Last.Format(time.RFC3339) != at(5) {
			t.Errorf("count -o json: %+v", n)
		}
		if r := c.ok("logs", "count", "host.name=NOPE", "--tenant", "sys-t"); r.Stdout != "0 events\n" {
			t.Errorf("count of none: %q", r.Stdout)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		c.t = t
		c.ok("call", "filters", "upsert", "--data", `{"tenant":"sys-t","name":"chrome-443","conditions":[{"field":"process.name","op":"eq","value":"chrome.exe"},{"field":"destination.port","op":"eq","value":"443"}],"reason":"browsing noise"}`)
		r := c.ok("filters", "--tenant", "sys-t")
		if !strings.Contains(r.Stdout, "chrome-443") || !strings.Contains(r.Stdout, "process.name=chrome.exe destination.port=443") || !strings.Contains(r.Stdout, "browsing noise") {
			t.Errorf("filters:\n%s", r.Stdout)
		}
		r = c.ok("filters", "stats", "--tenant", "sys-t", "--since", "2h")
		if !strings.Contains(r.Stdout, "chrome-443  2 ") {
			t.Errorf("filters stats:\n%s", r.Stdout)
		}
		var list struct{ Filters []filterJSON }
		decodeJSON(t, c.ok("filters", "list", "--tenant", "sys-t", "-o", "json").Stdout, &list)
		if len(list.Filters) != 1 || list.Filters[0].HitCount != 2 || list.Filters[0].Owner != "admin" {
			t.Errorf("filters list -o json after stats: %+v", list.Filters)
		}
		// --apply-filters leaves the filtered events out of searches and counts.
		var top struct{ Total int }
		decodeJSON(t, c.ok("logs", "top", "host.name", "--tenant", "sys-t", "--apply-filters", "-o", "json").Stdout, &top)
		if top.Total != 4 {
			t.Errorf("top --apply-filters: %+v", top)
		}
		for _, tc := range []struct {
			args []string
			want int
		}{{nil, 4}, {[]string{"--apply-filters"}, 2}} {
			var ans searchAnswer
			decodeJSON(t, c.ok(append([]string{"logs", "find", "source.ip/10.20.1.0/24", "--tenant", "sys-t", "-o", "json"}, tc.args...)...).Stdout, &ans)
			if len(ans.Events) != tc.want {
				t.Errorf("find %v: %d events, want %d", tc.args, len(ans.Events), tc.want)
			}
		}
		var ans searchAnswer
		decodeJSON(t, c.ok("logs", "search", "chrome.exe", "--tenant", "sys-t", "--apply-filters", "-o", "json").Stdout, &ans)
		if len(ans.Events) != 0 {
			t.Errorf("search --apply-filters: %d events", len(ans.Events))
		}
		c.ok("call", "filters", "delete", "--data", `{"tenant":"sys-t","name":"chrome-443"}`)
		c.fails(exitFailed, "not_found", "call", "filters", "delete", "--data", `{"tenant":"sys-t","name":"chrome-443"}`)
	})

	t.Run("Tickets", func(t *testing.T) {
		c.t = t
		var tk ticketJSON
		decodeJSON(t, c.ok("call", "tickets", "create", "--data", `{"tenant":"sys-t","title":"Macro spawned PowerShell on SYS-WS01","severity":"high","description":"WINWORD → powershell -enc","observables":[{"type":"ip","value":"203.0.113.7"}]}`).Stdout, &tk)
		c.ok("call", "tickets_create", "--data", `{"tenant":"sys-t","title":"Low noise","severity":"low"}`)
		c.ok("call", "lhk.tickets_comment", "--data", `{"tenant":"sys-t","id":"`+tk.ID+`","body":"Isolated the host.\nHash sent to the sandbox."}`)
		c.ok("call", "tickets.update", "--data", `{"tenant":"sys-t","id":"`+tk.ID+`","status":"in_progress","assignee":"hsato"}`)

		r := c.ok("tickets", "--tenant", "sys-t")
		if !strings.HasPrefix(r.Stdout, "ID ") || !strings.Contains(r.Stdout, tk.ID) || !strings.Contains(r.Stdout, "Low noise") || r.Stderr != "2 tickets\n" {
			t.Errorf("tickets:\n%s%s", r.Stdout, r.Stderr)
		}
		var list struct {
			Tickets    []ticketJSON
			NextCursor string `json:"next_cursor"`
			Truncated  bool
		}
		for _, tc := range []struct {
			name string
			args []string
			want int
		}{
			{"Status", []string{"--status", "in_progress"}, 1},
			{"Severity", []string{"--severity", "low"}, 1},
			{"Assignee", []string{"--assignee", "hsato"}, 1},
			{"Text", []string{"--text", "sandbox"}, 1},
			{"Observable", []string{"--observable", "203.0.113.7"}, 1},
			{"Since", []string{"--since", "1h"}, 2},
			{"Before", []string{"--from", "2020-01-01", "--to", "2020-01-02"}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.t = t
				list.Tickets = nil
				decodeJSON(t, c.ok(append([]string{"tickets", "search", "--tenant", "sys-t", "-o", "json"}, tc.args...)...).Stdout, &list)
				if len(list.Tickets) != tc.want {
					t.Errorf("tickets search %v: %d tickets, want %d", tc.args, len(list.Tickets), tc.want)
				}
			})
		}
		c.t = t
		decodeJSON(t, c.ok("tickets", "--tenant", "sys-t", "--limit", "1", "-o", "json").Stdout, &list)
		if len(list.Tickets) != 1 || !list.Truncated || list.NextCursor == "" {
			t.Fatalf("tickets --limit 1: %+v", list)
		}
		first := list.Tickets[0].ID
		decodeJSON(t, c.ok("tickets", "--tenant", "sys-t", "--limit", "1", "--cursor", list.NextCursor, "-o", "json").Stdout, &list)
		if len(list.Tickets) != 1 || list.Tickets[0].ID == first {
			t.Errorf("next page: %+v", list)
		}

		r = c.ok("ticket", tk.ID, "--tenant", "sys-t")
		for _, want := range []string{"status:       in_progress", "assignee:     hsato", "observables:  ip 203.0.113.7", "description:\n  WINWORD → powershell -enc", " admin:\n    Isolated the host.\n    Hash sent to the sandbox.\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("ticket: no %q in\n%s", want, r.Stdout)
			}
		}
		var got ticketJSON
		decodeJSON(t, c.ok("tickets", "get", tk.ID, "--tenant", "sys-t", "-o", "json").Stdout, &got)
		if got.ID != tk.ID || len(got.Comments) != 1 || got.Status != "in_progress" {
			t.Errorf("tickets get -o json: %+v", got)
		}
		c.fails(exitFailed, "not_found", "ticket", "T-nope", "--tenant", "sys-t")
		c.fails(exitFailed, "not_found", "ticket", tk.ID, "--tenant", "other")
		c.ok("call", "tickets", "create", "--data", `{"tenant":"sys-t-dup","title":"dup","external_key":"k1"}`)
		c.fails(exitFailed, "conflict", "call", "tickets", "create", "--data", `{"tenant":"sys-t-dup","title":"dup","external_key":"k1"}`)
	})

	t.Run("Assets", func(t *testing.T) {
		c.t = t
		api(t, "PUT", "/v1/assets", `{"tenant":"sys-t","name":"SYS-WS01","ips":["10.20.1.5"],"owner":"hsato","os":"Windows 11","criticality":"high","tags":["finance","vip"]}`, nil)
		if r := c.ok("assets", "--tenant", "sys-t"); !strings.Contains(r.Stdout, "SYS-WS01  10.20.1.5  hsato  high") {
			t.Errorf("assets:\n%s", r.Stdout)
		}
		r := c.ok("asset", "sys-ws01", "--tenant", "sys-t")
		if !strings.Contains(r.Stdout, "name:         SYS-WS01") || !strings.Contains(r.Stdout, "tags:         finance, vip") {
			t.Errorf("asset:\n%s", r.Stdout)
		}
		var as assetJSON
		decodeJSON(t, c.ok("assets", "lookup", "10.20.1.5", "--tenant", "sys-t", "-o", "json").Stdout, &as)
		if as.Name != "SYS-WS01" || as.Criticality != "high" {
			t.Errorf("assets lookup by IP: %+v", as)
		}
		c.fails(exitFailed, "not_found", "asset", "nope", "--tenant", "sys-t")
	})

	t.Run("Endpoints", func(t *testing.T) {
		c.t = t
		r := c.ok("endpoints", "collect", "sys-ws01", "--tenant", "sys-t", "--since", "2h")
		for _, want := range []string{"processes (2):", "  WINWORD.EXE  ", "└─ powershell.exe", "powershell.exe -nop -enc JABj", "network (1):", "203.0.113.7", "logons (1):", "4624", "files (0):"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("collect: no %q in\n%s", want, r.Stdout)
			}
		}
		var col collectionJSON
		decodeJSON(t, c.ok("endpoints", "collect", "SYS-WS01", "--tenant", "sys-t", "--since", "2h", "-o", "json").Stdout, &col)
		if len(col.Processes) != 1 || len(col.Processes[0].Children) != 1 || col.Processes[0].Children[0].Name != "powershell.exe" || len(col.Network) != 1 {
			t.Errorf("collect -o json: %+v", col)
		}
		c.fails(exitUsage, `required flag(s) "tenant" not set`, "endpoints", "collect", "SYS-WS01")
	})

	t.Run("Reports", func(t *testing.T) {
		c.t = t
		var rep reportJSON
		decodeJSON(t, c.ok("call", "reports", "publish", "--data", `{"tenant":"sys-t","title":"Weekly","markdown":"# Weekly\n\n- 4 events on SYS-WS01\n"}`).Stdout, &rep)
		if r := c.ok("reports", "--tenant", "sys-t"); !strings.Contains(r.Stdout, rep.ID) || !strings.Contains(r.Stdout, "Weekly") {
			t.Errorf("reports:\n%s", r.Stdout)
		}
		if r := c.ok("report", rep.ID, "--tenant", "sys-t"); r.Stdout != "# Weekly\n\n- 4 events on SYS-WS01\n" {
			t.Errorf("report: %q", r.Stdout)
		}
		if r := c.ok("reports", "get", rep.ID, "--tenant", "sys-t", "--format", "html"); !strings.Contains(r.Stdout, "<h1>Weekly</h1>") {
			t.Errorf("report --format html: %q", r.Stdout)
		}
		var got reportJSON
		decodeJSON(t, c.ok("report", rep.ID, "--tenant", "sys-t", "-o", "json").Stdout, &got)
		if got.ID != rep.ID || got.Author != "admin" {
			t.Errorf("report -o json: %+v", got)
		}
		c.fails(exitUsage, `--format "pdf"`, "report", rep.ID, "--tenant", "sys-t", "--format", "pdf")
		c.fails(exitFailed, "not_found", "report", "R-nope", "--tenant", "sys-t")
	})

	t.Run("KV", func(t *testing.T) {
		c.t = t
		c.ok("push", filepath.Join(repoRoot, "plugins", "testdata", "echo"), "--name", "cli-kv")
		c.ok("call", "kv", "set", "--plugin", "cli-kv", "--data", `{"key":"seen/1","value":"alpha"}`)
		c.run(`{"key":"seen/2","value":"beta"}`, "call", "kv", "set", "--plugin", "cli-kv", "--data", "-")
		c.ok("call", "kv", "set", "--plugin", "cli-kv", "--data", `{"key":"other","value":"x"}`)
		if r := c.ok("kv", "get", "seen/1", "--plugin", "cli-kv"); r.Stdout != "alpha\n" {
			t.Errorf("kv get: %q", r.Stdout)
		}
		if r := c.ok("kv", "list", "seen/", "--plugin", "cli-kv"); r.Stdout != "KEY     VALUE\nseen/1  alpha\nseen/2  beta\n" {
			t.Errorf("kv list:\n%s", r.Stdout)
		}
		r := c.ok("kv", "list", "--plugin", "cli-kv", "--limit", "1")
		if !strings.Contains(r.Stderr, "--after other") {
			t.Errorf("kv list --limit 1: %s", r.Stderr)
		}
		var page struct{ Entries []struct{ Key string } }
		decodeJSON(t, c.ok("kv", "list", "--plugin", "cli-kv", "--after", "other", "-o", "json").Stdout, &page)
		if len(page.Entries) != 2 || page.Entries[0].Key != "seen/1" {
			t.Errorf("kv list --after: %+v", page)
		}
		r = c.fails(exitFailed, `no key "nope"`, "kv", "get", "nope", "--plugin", "cli-kv", "-o", "json")
		var miss struct{ Found *bool }
		decodeJSON(t, r.Stdout, &miss)
		if miss.Found == nil || *miss.Found {
			t.Errorf("kv get of a missing key -o json: %s", r.Stdout)
		}
		c.ok("call", "kv", "delete", "--plugin", "cli-kv", "--data", `{"key":"seen/1"}`)
		c.fails(exitFailed, "not_found", "kv", "get", "seen/1", "--plugin", "cli-kv")
		c.fails(exitUsage, "--plugin NAME is required", "call", "kv", "get", "--data", `{"key":"x"}`)
		c.fails(exitFailed, "not_found", "kv", "get", "x", "--plugin", "no-such-plugin")
	})

	t.Run("Ceiling", func(t *testing.T) {
		tok := createUser(t, "sys-ana", "analyst", `{"capabilities":["logs.read","tickets.read"],"tenants":["sys-t"]}`)
		ana := newCLI(t, "LHK_SERVER="+daemonURL, "LHK_TOKEN="+tok)
		if r := ana.ok("ceiling"); r.Stdout != "capabilities:  logs.read,tickets.read\ntenants:       sys-t\n" {
			t.Errorf("ceiling: %q", r.Stdout)
		}
		var g grantJSON
		decodeJSON(t, ana.ok("ceiling", "-o", "json").Stdout, &g)
		if strings.Join(g.Tenants, ",") != "sys-t" {
			t.Errorf("ceiling -o json: %+v", g)
		}
		// The ceiling bounds the reads: another tenant or capability is refused.
		ana.ok("logs", "count", "--tenant", "sys-t")
		ana.fails(exitFailed, "forbidden", "logs", "count", "--tenant", "other")
		ana.fails(exitFailed, "forbidden: assets_lookup needs capability assets.read", "asset", "SYS-WS01", "--tenant", "sys-t")
	})

	t.Run("Call", func(t *testing.T) {
		c.t = t
		file := filepath.Join(t.TempDir(), "count.json")
		os.WriteFile(file, []byte(`{"tenant":"sys-t","fields":[{"field":"host.name","op":"eq","value":"SYS-WS02"}],"from":"`+at(120)+`","to":"`+at(0)+`"}`), 0o644)
		var n struct{ Count int }
		decodeJSON(t, c.ok("call", "logs", "count", "--data", "@"+file).Stdout, &n)
		if n.Count != 2 {
			t.Errorf("call logs count @file: %+v", n)
		}
		c.fails(exitUsage, "not valid JSON", "call", "logs", "count", "--data", "{bad")
		c.fails(exitFailed, `unknown field "bogus"`, "call", "logs", "count", "--data", `{"bogus":1}`)
		c.fails(exitFailed, "no operation nope op on this server", "call", "nope", "op")
		c.fails(exitUsage, "give SYSTEM and OP", "call", "nope")
	})
}
