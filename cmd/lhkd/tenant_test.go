package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// globexMark is in every globex record these tests seed, so an acme answer
// that carries one is caught by a plain substring check.
const globexMark = "globexmark"

// seedGlobex stores, as admin, globex data that acme's queries would match
// if the tenant were not applied: endpoint telemetry of every section on
// acme's host name, a filter and a ticket like acme's, and a report.
func (l *library) seedGlobex(t *testing.T) (ticketID, reportID string) {
	t.Helper()
	var evs bytes.Buffer
	host := `"host.name":"WORKSTATION5.theshire.local"`
	for i, e := range []string{
		`"event.category":"network","destination.ip":"10.66.66.66","destination.port":443,"process.name":"globexmark.exe"`,
		`"event.category":"authentication","user.name":"globexmark-admin","source.ip":"10.66.66.67"`,
		`"event.category":"file","file.path":"C:\\globexmark\\payroll.xlsx"`,
		`"event.category":"registry","registry.path":"HKLM\\Software\\globexmark"`,
		`"event.category":"process","event.type":"start","process.name":"globexmark.exe","process.pid":4242`,
		`"user.domain":"GLOBEX","user.name":"globexmark-ceo","event.code":"22"`,
	} {
		fmt.Fprintf(&evs, `{"@timestamp":"2020-09-04T20:10:%02dZ","tenant":"globex",%s,%s}`+"\n", i, host, e)
	}
	if r := l.must(t, http.StatusOK, "POST", "/v1/logs", l.Admin, evs.Bytes()).JSON(t); r["rejected"] != 0.0 {
		t.Fatalf("globex seed: %v", r)
	}
	l.must(t, http.StatusOK, "POST", "/v1/filters/upsert", l.Admin, []byte(`{"tenant":"globex","name":"globexmark-filter","reason":"globexmark","conditions":[{"field":"user.domain","op":"eq","value":"GLOBEX"}]}`))
	tk := l.must(t, http.StatusOK, "POST", "/v1/tickets/create", l.Admin, []byte(`{"tenant":"globex","title":"Empire launcher globexmark","severity":"critical","external_key":"siem-1",
		"observables":[{"type":"host","value":"WORKSTATION5"},{"type":"ip","value":"10.66.66.66"}]}`)).JSON(t)
	rep := l.must(t, http.StatusOK, "POST", "/v1/reports/publish", l.Admin, []byte(`{"tenant":"globex","title":"Weekly globexmark","markdown":"# globexmark"}`)).JSON(t)
	return tk["id"].(string), rep["id"].(string)
}

// TestTenantInference: with globex data seeded that acme's queries would
// match, acme's answers (from a plugin granted acme, and over HTTP for an
// analyst whose ceiling is acme) carry none of it: no globex hosts, IPs,
// users, names or counts, and globex's records by id are not found.
func TestTenantInference(t *testing.T) {
	l := newLibrary(t)
	ticketID, reportID := l.seedGlobex(t)
	span := map[string]any{"from": l.from, "to": l.to}

	noMark := func(t *testing.T, what string, v any) {
		t.Helper()
		b, _ := json.Marshal(v)
		if s := strings.ToLower(string(b)); strings.Contains(s, globexMark) || strings.Contains(s, "globexsecret") || strings.Contains(s, "globex-ceo") {
			t.Fatalf("%s answered globex data: %.400s", what, b)
		}
	}

	t.Run("SeedIsVisibleToGlobex", func(t *testing.T) {
		// The checks below would pass vacuously if the seed matched nothing.
		col := l.must(t, http.StatusOK, "POST", "/v1/endpoints/collect", l.Admin, mustJSON(with(span, "tenant", "globex", "host", "WORKSTATION5.theshire.local"))).JSON(t)
		for _, sec := range []string{"processes", "network", "logons", "files", "registry"} {
			if b, _ := json.Marshal(col[sec]); !strings.Contains(string(b), globexMark) {
				t.Errorf("globex's own collect lacks its %s: %.300s", sec, b)
			}
		}
		list := l.must(t, http.StatusOK, "POST", "/v1/tickets/search", l.Admin, []byte(`{"tenant":"globex","text":"empire"}`)).JSON(t)
		if len(list["tickets"].([]any)) != 1 {
			t.Errorf("globex's own ticket search = %v", list)
		}
	})

	t.Run("Plugin", func(t *testing.T) {
		// An acme filter with globex's condition: acme has no GLOBEX users,
		// so its hits must be zero whatever globex holds.
		l.ok(t, "filters_upsert", map[string]any{"tenant": "acme", "name": "same-condition", "reason": "r",
			"conditions": []any{map[string]any{"field": "user.domain", "op": "eq", "value": "GLOBEX"}}})
		st := l.ok(t, "filters_stats", with(span, "tenant", "acme"))
		noMark(t, "filters_stats", st)
		if stats := st["stats"].([]any); len(stats) != 1 || stats[0].(map[string]any)["hits"] != 0.0 || stats[0].(map[string]any)["last_hit"] != nil {
			t.Fatalf("acme's stats = %v, want one filter with no hits", stats)
		}
		noMark(t, "filters_list", l.ok(t, "filters_list", map[string]any{"tenant": "acme", "include_expired": true}))

		for _, q := range []map[string]any{
			{"tenant": "acme", "text": "empire"},
			{"tenant": "acme", "text": "globexmark"},
			{"tenant": "acme", "observable": "10.66.66.66"},
			{"tenant": "acme", "external_key": "siem-1"},
			{"tenant": "acme", "severity": "critical"},
			{"tenant": "acme", "limit": 1000},
		} {
			list := l.ok(t, "tickets_search", q)
			noMark(t, fmt.Sprintf("tickets_search %v", q), list)
			if n := len(list["tickets"].([]any)); n != 0 {
				t.Fatalf("tickets_search %v found %d tickets; acme has none", q, n)
			}
		}
		if _, code, msg := l.probe(t, "tickets_get", map[string]any{"tenant": "acme", "id": ticketID}); code != "not_found" || strings.Contains(msg, globexMark) {
			t.Fatalf("globex's ticket by id in acme: %q %q", code, msg)
		}
		// acme may reuse globex's external key: the key is per tenant and
		// a conflict would tell acme that globex holds it.
		l.ok(t, "tickets_create", map[string]any{"tenant": "acme", "title": "acme's own", "external_key": "siem-1"})

		col := l.ok(t, "endpoints_collect", with(span, "tenant", "acme", "host", "WORKSTATION5.theshire.local", "limit", 1000))
		noMark(t, "endpoints_collect", col)
		for _, ip := range []string{"10.66.66.66", "10.66.66.67"} {
			if b, _ := json.Marshal(col); strings.Contains(string(b), ip) {
				t.Fatalf("acme's collect holds globex's %s", ip)
			}
		}
		if _, code, _ := l.probe(t, "assets_lookup", map[string]any{"tenant": "acme", "host": "10.9.9.9"}); code != "not_found" {
			t.Fatalf("globex's asset IP in acme: %q", code)
		}
	})

	t.Run("HTTP", func(t *testing.T) {
		type route struct {
			path   string
			status int // for alice, whose ceiling is acme
		}
		for _, r := range []route{
			{"/v1/reports?tenant=globex", http.StatusForbidden},
			{"/v1/reports", http.StatusBadRequest},
			{"/v1/reports/" + reportID + "?tenant=globex", http.StatusForbidden},
			{"/v1/reports/" + reportID + "?tenant=acme", http.StatusNotFound},
			{"/v1/reports/" + reportID + "/download?tenant=globex", http.StatusForbidden},
			{"/v1/reports/" + reportID + "/download?tenant=acme&format=html", http.StatusNotFound},
			{"/v1/reports/" + reportID + "/view?tenant=acme", http.StatusNotFound},
			{"/v1/filters?tenant=globex", http.StatusForbidden},
			{"/v1/tickets?tenant=globex", http.StatusForbidden},
			{"/v1/tickets/" + ticketID + "?tenant=globex", http.StatusForbidden},
			{"/v1/tickets/" + ticketID + "?tenant=acme", http.StatusNotFound},
			{"/v1/tickets/" + ticketID, http.StatusBadRequest},
			{"/v1/assets?tenant=globex", http.StatusForbidden},
		} {
			res := l.do(t, "GET", r.path, l.alice, nil)
			if res.Status != r.status {
				t.Errorf("GET %s = %d, want %d: %.200s", r.path, res.Status, r.status, res.Body)
			}
			if strings.Contains(strings.ToLower(string(res.Body)), globexMark) {
				t.Errorf("GET %s leaks globex data: %.300s", r.path, res.Body)
			}
		}
		for _, path := range []string{"/v1/reports?tenant=acme", "/v1/filters?tenant=acme&include_expired=true", "/v1/tickets?tenant=acme&q=empire", "/v1/tickets?tenant=acme&limit=500", "/v1/assets?tenant=acme"} {
			res := l.must(t, http.StatusOK, "GET", path, l.alice, nil)
			if strings.Contains(strings.ToLower(string(res.Body)), globexMark) {
				t.Errorf("GET %s leaks globex data: %.300s", path, res.Body)
			}
		}
		// The admin sees globex's records at the same URLs, so the 404s
		// above are the tenant at work and not wrong ids.
		l.must(t, http.StatusOK, "GET", "/v1/reports/"+reportID+"?tenant=globex", l.Admin, nil)
		l.must(t, http.StatusOK, "GET", "/v1/tickets/"+ticketID+"?tenant=globex", l.Admin, nil)
	})
}

// TestKVIsolation: a plugin reads only its own kv store, end to end, and over
// HTTP a person reads only the kv of plugins they may change.
func TestKVIsolation(t *testing.T) {
	l := newLibrary(t)
	bob := l.user(t, "bob", "analyst")
	l.must(t, http.StatusOK, "PATCH", "/v1/users/bob", l.Admin, []byte(`{"ceiling":{"capabilities":["kv","plugins.invoke"],"tenants":["acme"]}}`))
	if r := l.upload(t, bob, "probe-b", "plugins/testdata/probe"); r.Status != http.StatusCreated {
		t.Fatalf("upload probe-b = %d %s", r.Status, r.Body)
	}
	l.must(t, http.StatusOK, "PUT", "/v1/plugins/probe-b/grant", bob, []byte(`{"capabilities":["kv"],"tenants":["acme"]}`))
	invokeB := func(fn string, req map[string]any) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"fn": fn, "request": req})
		out := l.must(t, http.StatusOK, "POST", "/v1/plugins/probe-b/invoke", bob, body).JSON(t)
		if out["error"] != nil {
			t.Fatalf("probe-b %s: %v", fn, out["error"])
		}
		return out["data"].(map[string]any)
	}
	invokeB("kv_set", map[string]any{"key": "secret", "value": "bob's " + globexMark})

	if v := l.ok(t, "kv_get", map[string]any{"key": "secret"}); v["found"] != false || v["value"] != "" {
		t.Fatalf("probe read probe-b's key: %v", v)
	}
	if v := l.ok(t, "kv_list", map[string]any{"prefix": ""}); len(v["entries"].([]any)) != 0 {
		t.Fatalf("probe listed probe-b's keys: %v", v)
	}
	l.ok(t, "kv_delete", map[string]any{"key": "secret"}) // deletes nothing of probe-b's
	l.ok(t, "kv_set", map[string]any{"key": "secret", "value": "alice's"})
	if v := invokeB("kv_get", map[string]any{"key": "secret"}); v["value"] != "bob's "+globexMark {
		t.Fatalf("probe-b's key after probe wrote its own = %v", v)
	}

	// Over HTTP: each owner reads their plugin's store; not the other's.
	if v := l.must(t, http.StatusOK, "POST", "/v1/kv/get?plugin=probe-b", bob, []byte(`{"key":"secret"}`)).JSON(t); v["value"] != "bob's "+globexMark {
		t.Fatalf("bob's own kv over HTTP = %v", v)
	}
	for _, c := range []struct{ token, plugin, op string }{
		{l.alice, "probe-b", "get"}, {l.alice, "probe-b", "list"}, {l.alice, "probe-b", "set"}, {l.alice, "probe-b", "delete"},
		{bob, "probe", "get"}, {bob, "probe", "list"},
	} {
		res := l.do(t, "POST", "/v1/kv/"+c.op+"?plugin="+c.plugin, c.token, []byte(`{"key":"secret","value":"x"}`))
		if res.Status != http.StatusForbidden || strings.Contains(string(res.Body), "bob's") || strings.Contains(string(res.Body), "alice's") {
			t.Errorf("kv %s of %s by a non-owner = %d %s, want 403", c.op, c.plugin, res.Status, res.Body)
		}
	}
	if v := invokeB("kv_get", map[string]any{"key": "secret"}); v["value"] != "bob's "+globexMark {
		t.Fatalf("probe-b's key after refused writes = %v", v)
	}
}
