package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/host"
)

// datasetPath is the real attack telemetry shared with the project.
const datasetPath = "../../../shared/datasets/empire_launcher_vbs.zip"

// datasetNDJSON returns the Empire launcher telemetry, or skips.
func datasetNDJSON(t *testing.T) []byte {
	t.Helper()
	z, err := zip.OpenReader(datasetPath)
	if err != nil {
		t.Skipf("dataset not available (%v): the shared datasets folder is absent", err)
	}
	defer z.Close()
	var out bytes.Buffer
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&out, rc)
		rc.Close()
	}
	return out.Bytes()
}

// library is a daemon with acme (the real dataset) and globex (look-alike
// events on the same host and words) ingested, alice owning the probe plugin
// granted everything on acme only, and a notification receiver.
type library struct {
	*testDaemon
	alice, victor string
	notes         chan map[string]any
	from, to      string
}

// newLibrary starts the daemon with extra flags added to serve's.
func newLibrary(t *testing.T, extra ...string) *library {
	t.Helper()
	notes := make(chan map[string]any, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		notes <- m
	}))
	t.Cleanup(recv.Close)
	d := startDaemon(t, t.TempDir(), append([]string{"--notify", "soc=" + recv.URL}, extra...)...)
	l := &library{testDaemon: d, notes: notes, from: "2020-01-01T00:00:00Z", to: "2020-12-31T00:00:00Z"}
	l.alice = d.user(t, "alice", "analyst")
	l.victor = d.user(t, "victor", "viewer")
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","filters.read","filters.write","tickets.read","tickets.write","assets.read","endpoints.read","endpoints.respond","reports.read","reports.write","kv","notify.send","plugins.invoke"],"tenants":["acme"]}}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/users/victor", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read","tickets.write"],"tenants":["acme"]}}`))

	r := d.must(t, http.StatusOK, "POST", "/v1/logs?tenant=acme", d.Admin, datasetNDJSON(t)).JSON(t)
	if r["rejected"] != 0.0 || r["accepted"].(float64) < 2000 {
		t.Fatalf("dataset ingest = %v", r)
	}
	var globex bytes.Buffer
	for i := range 50 {
		fmt.Fprintf(&globex, `{"@timestamp":"2020-09-04T16:%02d:00Z","tenant":"globex","Hostname":"WORKSTATION5.theshire.local","EventID":1,"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell -enc globexsecret%d","SourceIp":"10.0.0.%d","User":"GLOBEX\\ceo"}`+"\n", i%60, i, i)
	}
	d.must(t, http.StatusOK, "POST", "/v1/logs", d.Admin, globex.Bytes())
	d.must(t, http.StatusOK, "PUT", "/v1/assets", d.Admin, []byte(`{"tenant":"acme","name":"WORKSTATION5","ips":["172.18.39.5"],"owner":"pgustavo","os":"Windows 10","criticality":"high","tags":["finance"]}`))
	d.must(t, http.StatusOK, "PUT", "/v1/assets", d.Admin, []byte(`{"tenant":"globex","name":"WORKSTATION5","ips":["10.9.9.9"],"owner":"globex-ceo","criticality":"critical"}`))

	up := d.upload(t, l.alice, "probe", "plugins/testdata/probe")
	if up.Status != http.StatusCreated {
		t.Fatalf("upload probe = %d %s", up.Status, up.Body)
	}
	caps := up.JSON(t)["capabilities_required"].([]any)
	for _, c := range []string{"logs.read", "tickets.write", "kv", "notify.send", "endpoints.respond"} {
		if !slices.Contains(caps, any(c)) {
			t.Fatalf("capabilities_required %v lacks %s", caps, c)
		}
	}
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/probe", l.alice, []byte(`{"max_output_bytes":33554432}`))
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/probe/grant", l.alice, []byte(`{"capabilities":["logs.read","filters.read","filters.write","tickets.read","tickets.write","assets.read","endpoints.read","endpoints.respond","reports.read","reports.write","kv","notify.send","plugins.invoke"],"tenants":["acme"]}`))
	return l
}

// probe calls one host function through the probe plugin and returns data, or
// the error code and message.
func (l *library) probe(t *testing.T, fn string, req any) (data any, code, msg string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"fn": fn, "request": req})
	r := l.must(t, http.StatusOK, "POST", "/v1/plugins/probe/invoke", l.alice, body)
	var out struct {
		Data  any `json:"data"`
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("probe output: %v: %s", err, r.Body)
	}
	if out.Error != nil {
		return nil, out.Error.Code, out.Error.Message
	}
	return out.Data, "", ""
}

// ok is probe that fails the test on an error.
func (l *library) ok(t *testing.T, fn string, req any) map[string]any {
	t.Helper()
	data, code, msg := l.probe(t, fn, req)
	if code != "" {
		t.Fatalf("%s: %s: %s", fn, code, msg)
	}
	m, _ := data.(map[string]any)
	return m
}

func TestLibraryFromPlugins(t *testing.T) {
	l := newLibrary(t)
	span := map[string]any{"tenant": "acme", "from": l.from, "to": l.to}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range span {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}

	t.Run("Logs", func(t *testing.T) {
		res := l.ok(t, "logs_search", with("query", "powershell", "limit", 5))
		evs := res["events"].([]any)
		if len(evs) == 0 || res["truncated"] != true || res["next_cursor"] == "" {
			t.Fatalf("free text: %d events, truncated %v", len(evs), res["truncated"])
		}
		res = l.ok(t, "logs_search_fields", with("fields", []any{
			map[string]any{"field": "process.parent.name", "op": "eq", "value": "wscript.exe"},
			map[string]any{"field": "process.name", "op": "eq", "value": "powershell.exe"},
		}))
		if len(res["events"].([]any)) == 0 {
			t.Fatal("no powershell child of wscript.exe by fields")
		}
		top := l.ok(t, "logs_top", with("field", "event.code", "limit", 3))
		if len(top["buckets"].([]any)) != 3 || top["total"].(float64) < 2000 {
			t.Fatalf("top = %v", top)
		}
		c := l.ok(t, "logs_count", with("fields", []any{map[string]any{"field": "host.name", "op": "prefix", "value": "WORKSTATION5"}}))
		if c["count"].(float64) == 0 {
			t.Fatalf("count = %v", c)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		l.ok(t, "filters_upsert", map[string]any{"tenant": "acme", "name": "noisy-sysmon-dns", "reason": "benign DNS", "conditions": []any{map[string]any{"field": "event.code", "op": "eq", "value": "22"}}})
		fs := l.ok(t, "filters_list", map[string]any{"tenant": "acme"})["filters"].([]any)
		if len(fs) != 1 || fs[0].(map[string]any)["owner"] != "alice" {
			t.Fatalf("filters = %v", fs)
		}
		st := l.ok(t, "filters_stats", span)["stats"].([]any)
		if len(st) != 1 {
			t.Fatalf("stats = %v", st)
		}
		all := l.ok(t, "logs_count", span)["count"].(float64)
		hits := st[0].(map[string]any)["hits"].(float64)
		res := l.ok(t, "logs_search_fields", with("fields", []any{map[string]any{"field": "event.code", "op": "eq", "value": "22"}}, "apply_filters", true))
		if len(res["events"].([]any)) != 0 {
			t.Fatalf("apply_filters left %d filtered events (filter hits %v of %v)", len(res["events"].([]any)), hits, all)
		}
		l.ok(t, "filters_delete", map[string]any{"tenant": "acme", "name": "noisy-sysmon-dns"})
	})
	t.Run("Tickets", func(t *testing.T) {
		tk := l.ok(t, "tickets_create", map[string]any{"tenant": "acme", "title": "Empire launcher on WORKSTATION5", "severity": "high", "external_key": "siem-1",
			"observables": []any{map[string]any{"type": "host", "value": "WORKSTATION5"}}})
		id := tk["id"].(string)
		if _, code, _ := l.probe(t, "tickets_create", map[string]any{"tenant": "acme", "title": "again", "external_key": "siem-1"}); code != "conflict" {
			t.Fatalf("duplicate external_key: %q", code)
		}
		l.ok(t, "tickets_update", map[string]any{"tenant": "acme", "id": id, "status": "in_progress", "assignee": "alice"})
		got := l.ok(t, "tickets_comment", map[string]any{"tenant": "acme", "id": id, "body": "triage attached"})
		if got["status"] != "in_progress" || len(got["comments"].([]any)) != 1 {
			t.Fatalf("ticket = %v", got)
		}
		list := l.ok(t, "tickets_search", map[string]any{"tenant": "acme", "text": "empire"})["tickets"].([]any)
		if len(list) != 1 {
			t.Fatalf("search = %v", list)
		}
		if got := l.ok(t, "tickets_get", map[string]any{"tenant": "acme", "id": id}); got["title"] == nil {
			t.Fatalf("get = %v", got)
		}
	})
	t.Run("AssetsAndEndpoints", func(t *testing.T) {
		a := l.ok(t, "assets_lookup", map[string]any{"tenant": "acme", "host": "172.18.39.5"})
		if a["owner"] != "pgustavo" {
			t.Fatalf("asset = %v", a)
		}
		col := l.ok(t, "endpoints_collect", map[string]any{"tenant": "acme", "host": "WORKSTATION5.theshire.local", "from": l.from, "to": l.to})
		tree, _ := json.Marshal(col["processes"])
		if !strings.Contains(strings.ToLower(string(tree)), "wscript.exe") || !strings.Contains(strings.ToLower(string(tree)), "powershell.exe") {
			t.Fatalf("process tree lacks wscript/powershell: %.500s", tree)
		}
		if strings.Contains(string(tree), "globexsecret") {
			t.Fatal("globex data in acme's collection")
		}
		act := l.ok(t, "endpoints_isolate", map[string]any{"tenant": "acme", "host": "WORKSTATION5", "reason": "Empire C2"})
		if act["status"] != "recorded" || act["actor"] != "alice" {
			t.Fatalf("isolate = %v", act)
		}
		audit := l.must(t, http.StatusOK, "GET", "/v1/audit?actor=alice", l.Admin, nil)
		if !strings.Contains(string(audit.Body), "endpoint.isolate") {
			t.Fatalf("isolation not audited: %s", audit.Body)
		}
	})
	t.Run("PluginsStart", func(t *testing.T) {
		if r := l.upload(t, l.alice, "echo", "plugins/testdata/echo"); r.Status != http.StatusCreated {
			t.Fatalf("upload echo = %d", r.Status)
		}
		id := l.ok(t, "plugins_start", map[string]any{"plugin": "echo", "input": "handed over"})["invocation"].(string)
		waitFor(t, "the started plugin to finish", func() bool {
			inv := l.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, l.alice, nil).JSON(t)
			return inv["status"] == "ok" && inv["output"] == "handed over" && inv["trigger"] == "plugin" && inv["caller"] == "alice"
		})
		if _, code, _ := l.probe(t, "plugins_start", map[string]any{"plugin": "probe"}); code != "invalid" {
			t.Fatalf("self-start: %q", code)
		}
		if _, code, _ := l.probe(t, "plugins_start", map[string]any{"plugin": "nope"}); code != "not_found" {
			t.Fatalf("unknown plugin: %q", code)
		}
	})
	t.Run("ReportsKVNotify", func(t *testing.T) {
		rep := l.ok(t, "reports_publish", map[string]any{"tenant": "acme", "title": "Weekly", "markdown": "# Weekly\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![chart](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=) ![x](javascript:alert(1))"})
		html := rep["html"].(string)
		if rep["plugin"] != "probe" || strings.Contains(html, "<script>") || strings.Contains(html, "javascript") || !strings.Contains(html, "<table>") || !strings.Contains(html, `<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="`) {
			t.Fatalf("report = %v", rep)
		}
		l.must(t, http.StatusOK, "GET", "/v1/reports/"+rep["id"].(string)+"?tenant=acme", l.alice, nil)
		dl := l.must(t, http.StatusOK, "GET", "/v1/reports/"+rep["id"].(string)+"/download?tenant=acme&format=md", l.alice, nil)
		if !strings.HasPrefix(string(dl.Body), "# Weekly") {
			t.Fatalf("download = %q", dl.Body)
		}
		l.ok(t, "kv_set", map[string]any{"key": "last-alert", "value": "42"})
		if v := l.ok(t, "kv_get", map[string]any{"key": "last-alert"}); v["value"] != "42" || v["found"] != true {
			t.Fatalf("kv_get = %v", v)
		}
		if v := l.ok(t, "kv_list", map[string]any{"prefix": "last"}); len(v["entries"].([]any)) != 1 {
			t.Fatalf("kv_list = %v", v)
		}
		l.ok(t, "kv_delete", map[string]any{"key": "last-alert"})
		if v := l.ok(t, "kv_get", map[string]any{"key": "last-alert"}); v["found"] != false {
			t.Fatalf("kv_get after delete = %v", v)
		}
		l.ok(t, "notify_send", map[string]any{"channel": "soc", "tenant": "acme", "title": "lhk", "text": "hello"})
		select {
		case m := <-l.notes:
			if m["title"] != "lhk" {
				t.Fatalf("notification = %v", m)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notification arrived")
		}
		if _, code, _ := l.probe(t, "notify_send", map[string]any{"channel": "nope", "title": "x", "text": "y"}); code != "not_found" {
			t.Fatalf("unknown channel: %q", code)
		}
	})
}

// TestTenantIsolation: a plugin granted acme can never read, count or infer
// globex data, through any operation.
func TestTenantIsolation(t *testing.T) {
	l := newLibrary(t)
	globex := map[string]any{"tenant": "globex", "from": l.from, "to": l.to}
	for _, c := range []struct {
		fn  string
		req map[string]any
	}{
		{"logs_search", map[string]any{"query": "powershell"}},
		{"logs_search_fields", map[string]any{"fields": []any{map[string]any{"field": "host.name", "op": "exists"}}}},
		{"logs_top", map[string]any{"field": "host.name"}},
		{"logs_count", map[string]any{}},
		{"filters_list", map[string]any{}},
		{"filters_stats", map[string]any{}},
		{"filters_upsert", map[string]any{"name": "x", "conditions": []any{map[string]any{"field": "a", "op": "exists"}}}},
		{"filters_delete", map[string]any{"name": "x"}},
		{"tickets_create", map[string]any{"title": "x"}},
		{"tickets_get", map[string]any{"id": "T-1"}},
		{"tickets_update", map[string]any{"id": "T-1", "status": "closed"}},
		{"tickets_comment", map[string]any{"id": "T-1", "body": "x"}},
		{"tickets_search", map[string]any{}},
		{"assets_lookup", map[string]any{"host": "WORKSTATION5"}},
		{"endpoints_collect", map[string]any{"host": "WORKSTATION5"}},
		{"endpoints_isolate", map[string]any{"host": "WORKSTATION5", "reason": "x"}},
		{"reports_publish", map[string]any{"title": "x", "markdown": "x"}},
		{"notify_send", map[string]any{"channel": "soc", "title": "x", "text": "x"}},
	} {
		t.Run(c.fn, func(t *testing.T) {
			req := map[string]any{}
			for k, v := range globex {
				if k == "tenant" || strings.HasPrefix(c.fn, "logs_") || c.fn == "filters_stats" || c.fn == "endpoints_collect" {
					req[k] = v
				}
			}
			for k, v := range c.req {
				req[k] = v
			}
			_, code, msg := l.probe(t, c.fn, req)
			if code != "forbidden" || !strings.Contains(msg, "globex") {
				t.Fatalf("%s on globex: %q %q, want forbidden naming globex", c.fn, code, msg)
			}
		})
	}
	t.Run("NoLeakInAcme", func(t *testing.T) {
		// acme's own answers never carry globex's events, hosts or counts.
		span := map[string]any{"tenant": "acme", "from": l.from, "to": l.to}
		for _, c := range []struct {
			fn  string
			req map[string]any
		}{
			{"logs_search", map[string]any{"query": "globexsecret1", "limit": 1000}},
			{"logs_search", map[string]any{"query": "powershell", "limit": 1000}},
			{"logs_search_fields", map[string]any{"fields": []any{map[string]any{"field": "source.ip", "op": "cidr", "value": "10.0.0.0/8"}}, "limit": 1000}},
			{"logs_top", map[string]any{"field": "user.name", "limit": 100}},
			{"logs_count", map[string]any{"fields": []any{map[string]any{"field": "user.domain", "op": "eq", "value": "GLOBEX"}}}},
		} {
			req := map[string]any{}
			for k, v := range span {
				req[k] = v
			}
			for k, v := range c.req {
				req[k] = v
			}
			data := l.ok(t, c.fn, req)
			b, _ := json.Marshal(data)
			if strings.Contains(string(b), "globex") || strings.Contains(string(b), "GLOBEX") || strings.Contains(string(b), `"count":50`) {
				t.Fatalf("%s answered globex data: %.300s", c.fn, b)
			}
		}
		if a := l.ok(t, "assets_lookup", map[string]any{"tenant": "acme", "host": "WORKSTATION5"}); a["owner"] != "pgustavo" {
			t.Fatalf("acme asset = %v", a)
		}
		if _, code, _ := l.probe(t, "assets_lookup", map[string]any{"tenant": "acme", "host": "10.9.9.9"}); code != "not_found" {
			t.Fatalf("globex IP looked up in acme: %q", code)
		}
	})
}

func TestLibraryDenied(t *testing.T) {
	l := newLibrary(t)
	// Narrow the grant: no tickets.write, no kv.
	l.must(t, http.StatusOK, "PUT", "/v1/plugins/probe/grant", l.alice, []byte(`{"capabilities":["logs.read","tickets.read"],"tenants":["acme"]}`))
	for fn, capability := range map[string]string{"tickets_create": "tickets.write", "kv_set": "kv", "notify_send": "notify.send", "endpoints_isolate": "endpoints.respond"} {
		_, code, msg := l.probe(t, fn, map[string]any{"tenant": "acme", "title": "x", "key": "k", "host": "h", "reason": "r", "channel": "soc", "text": "t"})
		if code != "forbidden" || !strings.Contains(msg, capability) {
			t.Errorf("%s without %s: %q %q", fn, capability, code, msg)
		}
	}
	if _, code, _ := l.probe(t, "tickets_search", map[string]any{"tenant": "acme"}); code != "" {
		t.Errorf("granted tickets_search refused: %s", code)
	}
	// No http capability: outbound HTTP is refused.
	if _, code, _ := l.probe(t, "http", map[string]any{"method": "GET", "url": "http://127.0.0.1:1/"}); code != "forbidden" {
		t.Errorf("http without the capability: %q", code)
	}
	// Hostile requests get invalid or a bounded answer. The probe's input
	// limit is raised so the 10 MB query reaches the host function, whose
	// own request limit must refuse it. Decoding 10 MB of JSON in a
	// standard-Go guest takes seconds, more under the race detector on a
	// busy machine, hence the longer time-out.
	l.must(t, http.StatusOK, "PATCH", "/v1/plugins/probe", l.alice, []byte(`{"max_input_bytes":16777216,"timeout_ms":180000}`))
	span := map[string]any{"tenant": "acme", "from": l.from, "to": l.to}
	for _, c := range []struct {
		name string
		req  map[string]any
		want string // in the invalid message; "" means a bounded answer
	}{
		{"huge limit", map[string]any{"query": "x", "limit": 1 << 30}, ""},
		{"10 MB query", map[string]any{"query": strings.Repeat("a ", 5<<20)}, fmt.Sprintf("over the limit of %d bytes", host.MaxHostRequestBytes)},
		{"unknown operator", map[string]any{"fields": []any{map[string]any{"field": "a", "op": "regex", "value": ".*"}}}, "regex"},
		{"100 years", map[string]any{"query": "x", "from": "1970-01-01T00:00:00Z", "to": "2070-01-01T00:00:00Z"}, "at most"},
		{"no range", map[string]any{"query": "x", "from": nil, "to": nil}, "time range is required"},
	} {
		fn := "logs_search"
		if _, ok := c.req["fields"]; ok {
			fn = "logs_search_fields"
		}
		full := map[string]any{}
		for k, v := range span {
			full[k] = v
		}
		for k, v := range c.req {
			full[k] = v
			if v == nil {
				delete(full, k)
			}
		}
		data, code, msg := l.probe(t, fn, full)
		switch {
		case c.want == "" && code != "":
			t.Errorf("%s: %s %s, want a bounded answer", c.name, code, msg)
		case c.want == "":
			if n := len(data.(map[string]any)["events"].([]any)); n > lhk.MaxLogLimit {
				t.Errorf("%s: %d events, over %d", c.name, n, lhk.MaxLogLimit)
			}
		case code != "invalid" || !strings.Contains(msg, c.want):
			t.Errorf("%s: %q %.200q, want invalid naming %q", c.name, code, msg, c.want)
		}
	}
	// The daemon is still up and answering.
	l.ok(t, "logs_count", span)
}

func TestLibraryOverHTTP(t *testing.T) {
	l := newLibrary(t)
	q := func(tenant string) []byte {
		return []byte(fmt.Sprintf(`{"tenant":%q,"query":"powershell","from":%q,"to":%q,"limit":3}`, tenant, l.from, l.to))
	}
	r := l.must(t, http.StatusOK, "POST", "/v1/logs/search", l.alice, q("acme")).JSON(t)
	if len(r["events"].([]any)) != 3 {
		t.Fatalf("search over HTTP = %v", r)
	}
	if r := l.must(t, http.StatusForbidden, "POST", "/v1/logs/search", l.alice, q("globex")); !strings.Contains(r.ErrorMessage(t), "globex") {
		t.Fatalf("message: %s", r.Body)
	}
	l.must(t, http.StatusOK, "POST", "/v1/logs/search", l.victor, q("acme"))
	// A viewer's ceiling is cut to reads, even when it lists a write.
	l.must(t, http.StatusForbidden, "POST", "/v1/tickets/create", l.victor, []byte(`{"tenant":"acme","title":"x"}`))
	l.must(t, http.StatusForbidden, "POST", "/v1/logs?tenant=acme", l.victor, []byte(`{"@timestamp":"2020-09-04T00:00:00Z"}`))
	// An analyst cannot ingest into a tenant outside the ceiling, even inside the body.
	l.must(t, http.StatusForbidden, "POST", "/v1/logs?tenant=acme", l.alice, []byte(`{"@timestamp":"2020-09-04T00:00:00Z","tenant":"globex","message":"planted"}`))
	// kv over HTTP works on a plugin the caller owns.
	l.must(t, http.StatusOK, "POST", "/v1/kv/set?plugin=probe", l.alice, []byte(`{"key":"k","value":"v"}`))
	if v := l.must(t, http.StatusOK, "POST", "/v1/kv/get?plugin=probe", l.alice, []byte(`{"key":"k"}`)).JSON(t); v["value"] != "v" {
		t.Fatalf("kv over HTTP = %v", v)
	}
	l.must(t, http.StatusBadRequest, "POST", "/v1/kv/get", l.alice, []byte(`{"key":"k"}`))
	// grant_get over HTTP answers the ceiling.
	if g := l.must(t, http.StatusOK, "POST", "/v1/grant/get", l.alice, nil).JSON(t); fmt.Sprint(g["tenants"]) != "[acme]" {
		t.Fatalf("grant over HTTP = %v", g)
	}
	if l.must(t, http.StatusOK, "GET", "/v1/tickets?tenant=acme", l.alice, nil).Status != http.StatusOK {
		t.Fatal("ticket list")
	}
	l.must(t, http.StatusForbidden, "GET", "/v1/assets?tenant=globex", l.alice, nil)
}

// TestOutboundHTTP: Extism's outbound HTTP reaches only the grant's allowed
// hosts, and nothing without the http capability.
func TestOutboundHTTP(t *testing.T) {
	l := newLibrary(t)
	intel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"verdict":"malicious"}`)
	}))
	t.Cleanup(intel.Close)
	get := map[string]any{"method": "GET", "url": intel.URL + "/ip/203.0.113.66"}
	grant := func(body string) {
		l.must(t, http.StatusOK, "PUT", "/v1/plugins/probe/grant", l.Admin, []byte(body))
	}
	grant(`{"capabilities":["http"],"tenants":["acme"],"allowed_hosts":["127.0.0.1"]}`)
	data, code, msg := l.probe(t, "http", get)
	if code != "" {
		t.Fatalf("allowed host: %s %s", code, msg)
	}
	if m := data.(map[string]any); m["status"] != 200.0 || !strings.Contains(fmt.Sprint(m["body"]), "malicious") {
		t.Fatalf("answer = %v", m)
	}
	grant(`{"capabilities":["http"],"tenants":["acme"],"allowed_hosts":["intel.example.com"]}`)
	if _, code, msg := l.probe(t, "http", get); code != "forbidden" || !strings.Contains(msg, "127.0.0.1") {
		t.Fatalf("host outside allowed_hosts: %q %q", code, msg)
	}
	grant(`{"capabilities":[],"tenants":["acme"],"allowed_hosts":["127.0.0.1"]}`)
	if _, code, _ := l.probe(t, "http", get); code != "forbidden" {
		t.Fatalf("without the http capability: %q", code)
	}

	// A redirect is followed only to an allowed host: an allowed server
	// cannot bounce the plugin to one it may not reach.
	_, intelPort, _ := net.SplitHostPort(strings.TrimPrefix(intel.URL, "http://"))
	bounce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	}))
	t.Cleanup(bounce.Close)
	_, bouncePort, _ := net.SplitHostPort(strings.TrimPrefix(bounce.URL, "http://"))
	via := func(to string) map[string]any {
		return map[string]any{"method": "GET", "url": "http://localhost:" + bouncePort + "/go?to=" + url.QueryEscape(to)}
	}
	grant(`{"capabilities":["http"],"tenants":["acme"],"allowed_hosts":["localhost"]}`)
	data, code, msg = l.probe(t, "http", via("http://127.0.0.1:"+intelPort+"/ip/203.0.113.66"))
	if code != "" {
		t.Fatalf("redirect to a host outside allowed_hosts: %s %s", code, msg)
	}
	if m := data.(map[string]any); m["status"] != 302.0 || strings.Contains(fmt.Sprint(m["body"]), "malicious") ||
		!strings.Contains(fmt.Sprint(m["header"]), "location:http://127.0.0.1:"+intelPort) {
		t.Fatalf("redirect to a host outside allowed_hosts was followed: %v", m)
	}
	data, code, msg = l.probe(t, "http", via("http://localhost:"+intelPort+"/ip/203.0.113.66"))
	if code != "" {
		t.Fatalf("redirect within allowed_hosts: %s %s", code, msg)
	}
	if m := data.(map[string]any); m["status"] != 200.0 || !strings.Contains(fmt.Sprint(m["body"]), "malicious") {
		t.Fatalf("redirect within allowed_hosts: %v", m)
	}
}

// TestUploadUnknownHostFunction: an import of an unknown lhk function is
// refused at upload with its name.
func TestUploadUnknownHostFunction(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	r := d.must(t, http.StatusBadRequest, "POST", "/v1/plugins/bad/versions", d.Admin, moduleImporting("lhk", "logs_nuke"))
	if !strings.Contains(r.ErrorMessage(t), "lhk.logs_nuke") {
		t.Fatalf("message: %s", r.Body)
	}
}

// moduleImporting assembles a module that imports one function () -> i32 and
// exports run calling nothing.
func moduleImporting(module, name string) []byte {
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	sec := func(id byte, body []byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	out := []byte("\x00asm\x01\x00\x00\x00")
	out = append(out, sec(1, []byte{1, 0x60, 0, 1, 0x7f})...)
	imp := append([]byte{1}, str(module)...)
	imp = append(imp, str(name)...)
	out = append(out, sec(2, append(imp, 0, 0))...)
	out = append(out, sec(3, []byte{1, 0})...)
	out = append(out, sec(7, append(append([]byte{1}, str("run")...), 0, 1))...)
	out = append(out, sec(10, []byte{1, 4, 0, 0x41, 0, 0x0b})...)
	return out
}
