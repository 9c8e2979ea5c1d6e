package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/hostfuncs"
)

// answer is one library call's result: data, or an error code and message.
type answer struct {
	via       string // "plugin" (probe → PDK → host) or "http" (the op's route)
	data      any
	code, msg string
}

// call sends req to op as the probe plugin does, PDK to host; an op the probe
// does not know yet (newer than the fixture) goes to its HTTP route
// /v1/<system>/<name> instead, which runs the same handler with token's
// ceiling as the grant.
func (l *library) call(t *testing.T, o hostfuncs.Op, token string, req any) answer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"fn": o.Import(), "request": req})
	r := l.do(t, "POST", "/v1/plugins/probe/invoke", l.alice, body)
	if r.Status == http.StatusOK {
		var out struct {
			Data  any `json:"data"`
			Error *struct{ Code, Message string }
		}
		if err := json.Unmarshal(r.Body, &out); err != nil {
			t.Fatalf("probe output: %v: %.300s", err, r.Body)
		}
		if out.Error != nil {
			return answer{via: "plugin", code: out.Error.Code, msg: out.Error.Message}
		}
		return answer{via: "plugin", data: out.Data}
	}
	if !strings.Contains(string(r.Body), "unknown fn") {
		t.Fatalf("probe %s = %d %.300s", o.Import(), r.Status, r.Body)
	}
	raw, _ := json.Marshal(req)
	return l.callHTTP(t, o, token, raw)
}

// callHTTP sends a raw body to op's HTTP route.
func (l *library) callHTTP(t *testing.T, o hostfuncs.Op, token string, raw []byte) answer {
	t.Helper()
	path := "/v1/" + o.System + "/" + o.Name
	if o.Capability == lhk.CapKV {
		path += "?plugin=probe"
	}
	r := l.do(t, "POST", path, token, raw)
	var out struct {
		Error *struct{ Code, Message string }
	}
	json.Unmarshal(r.Body, &out)
	if r.Status != http.StatusOK {
		if out.Error == nil {
			t.Fatalf("%s = %d without an error object: %.300s", path, r.Status, r.Body)
		}
		return answer{via: "http", code: out.Error.Code, msg: out.Error.Message}
	}
	var data any
	if err := json.Unmarshal(r.Body, &data); err != nil {
		t.Fatalf("%s: %v: %.300s", path, err, r.Body)
	}
	return answer{via: "http", data: data}
}

// requestFields says which JSON fields op's request has, by kind: "limit"
// (an int), "range" (from and to, times) and "conditions" (a field of
// []lhk.Condition), so the cases below apply to a new op on their own.
func requestFields(o hostfuncs.Op) map[string]string {
	out := map[string]string{}
	t := reflect.TypeOf(o.Request)
	if t == nil || t.Kind() != reflect.Struct {
		return out
	}
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "limit" && f.Type.Kind() == reflect.Int:
			out["limit"] = name
		case (name == "from" || name == "to") && f.Type == reflect.TypeOf(time.Time{}):
			out[name] = name
		case f.Type == reflect.TypeOf([]lhk.Condition{}):
			out["conditions"] = name
		}
	}
	if out["from"] != "" && out["to"] != "" {
		out["range"] = "from,to"
	}
	return out
}

// baseRequest is a request op would accept for tenant acme; ops without a
// case here get the tenant and time range their request has.
func (l *library) baseRequest(o hostfuncs.Op) map[string]any {
	known := map[string]map[string]any{
		"logs_search":        {"query": "theshire"},
		"logs_search_fields": {"fields": []any{map[string]any{"field": "host.name", "op": "exists"}}},
		"logs_top":           {"field": "host.name"},
		"filters_upsert":     {"name": "hostile", "reason": "r", "conditions": []any{map[string]any{"field": "event.code", "op": "eq", "value": "22"}}},
		"filters_delete":     {"name": "nope"},
		"tickets_create":     {"title": "hostile"},
		"tickets_get":        {"id": "T-1"},
		"tickets_update":     {"id": "T-1", "status": "closed"},
		"tickets_comment":    {"id": "T-1", "body": "x"},
		"assets_lookup":      {"host": "WORKSTATION5"},
		"endpoints_collect":  {"host": "WORKSTATION5.theshire.local"},
		"endpoints_isolate":  {"host": "WORKSTATION5", "reason": "x"},
		"reports_publish":    {"title": "x", "markdown": "x"},
		"kv_get":             {"key": "k"},
		"kv_set":             {"key": "k", "value": "v"},
		"kv_delete":          {"key": "k"},
		"notify_send":        {"channel": "soc", "title": "x", "text": "x"},
		"plugins_start":      {"plugin": "nope"},
	}
	req := map[string]any{}
	if o.Tenanted {
		req["tenant"] = "acme"
	}
	if requestFields(o)["range"] != "" {
		req["from"], req["to"] = l.from, l.to
	}
	for k, v := range known[o.Import()] {
		req[k] = v
	}
	return req
}

// with returns a copy of m with kv set.
func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// longestArray is the length of the longest JSON array in v.
func longestArray(v any) int {
	n := 0
	switch v := v.(type) {
	case []any:
		n = len(v)
		for _, e := range v {
			n = max(n, longestArray(e))
		}
	case map[string]any:
		for _, e := range v {
			n = max(n, longestArray(e))
		}
	}
	return n
}

// TestLibraryHostile: every operation of the catalog, called from a plugin
// (or its HTTP route when the probe does not know it yet), answers invalid
// or a bounded answer to hostile input, forbidden naming the capability it
// lacks, and forbidden naming globex for a tenant outside the grant.
func TestLibraryHostile(t *testing.T) {
	l := newLibrary(t)
	carol := l.user(t, "carol", "analyst") // HTTP caller for the capability case
	ops := hostfuncs.Catalog(hostfuncs.Systems{})

	t.Run("Malformed", func(t *testing.T) {
		// The PDK only sends JSON it encoded, so a malformed request can
		// come only from a hand-written module; the route runs the same
		// handler the import does.
		for _, o := range ops {
			for name, raw := range map[string]string{
				"malformed":     `{"tenant":`,
				"unknown field": `{"tenant":"acme","tennant":"globex","key":"k"}`,
				"wrong type":    `{"tenant":42}`,
				"two values":    `{} {}`,
			} {
				a := l.callHTTP(t, o, l.alice, []byte(raw))
				if a.code != lhk.EINVALID {
					t.Errorf("%s, %s: %q %q, want invalid", o.Import(), name, a.code, a.msg)
				}
			}
		}
	})
	for _, o := range ops {
		fields := requestFields(o)
		base := l.baseRequest(o)
		t.Run(o.Import(), func(t *testing.T) {
			t.Run("HugeLimit", func(t *testing.T) {
				if fields["limit"] == "" {
					t.Skip("the request has no limit")
				}
				a := l.call(t, o, l.alice, with(base, "limit", 1<<30))
				if a.code != "" && a.code != lhk.EINVALID {
					t.Fatalf("%s %s: %s %s, want a bounded answer or invalid", a.via, o.Import(), a.code, a.msg)
				}
				if n := longestArray(a.data); n > lhk.MaxLogLimit {
					t.Fatalf("%s %s answered %d items for limit 2^30", a.via, o.Import(), n)
				}
			})
			t.Run("UnknownOperator", func(t *testing.T) {
				if fields["conditions"] == "" {
					t.Skip("the request has no conditions")
				}
				a := l.call(t, o, l.alice, with(base, fields["conditions"], []any{map[string]any{"field": "host.name", "op": "regex", "value": ".*"}}))
				if a.code != lhk.EINVALID || !strings.Contains(a.msg, "regex") {
					t.Fatalf("%s %s: %q %q, want invalid naming regex", a.via, o.Import(), a.code, a.msg)
				}
			})
			t.Run("HundredYears", func(t *testing.T) {
				if fields["range"] == "" {
					t.Skip("the request has no time range")
				}
				for name, req := range map[string]map[string]any{
					"100 years": with(base, "from", "1970-01-01T00:00:00Z", "to", "2070-01-01T00:00:00Z"),
					"no range":  with(base, "from", nil, "to", nil),
				} {
					a := l.call(t, o, l.alice, req)
					if a.code != lhk.EINVALID {
						t.Errorf("%s %s, %s: %q %q, want invalid", a.via, o.Import(), name, a.code, a.msg)
					}
				}
			})
			t.Run("ErrTenant", func(t *testing.T) {
				if !o.Tenanted {
					t.Skip("the request names no tenant")
				}
				a := l.call(t, o, l.alice, with(base, "tenant", "globex"))
				if a.code != lhk.EFORBIDDEN || !strings.Contains(a.msg, "globex") {
					t.Fatalf("%s %s on globex: %q %q, want forbidden naming globex", a.via, o.Import(), a.code, a.msg)
				}
			})
		})
	}
	t.Run("ErrCapability", func(t *testing.T) {
		// The probe keeps acme but loses every capability; carol's ceiling
		// likewise for the routes.
		l.must(t, http.StatusOK, "PUT", "/v1/plugins/probe/grant", l.alice, []byte(`{"capabilities":[],"tenants":["acme"]}`))
		l.must(t, http.StatusOK, "PATCH", "/v1/users/carol", l.Admin, []byte(`{"ceiling":{"capabilities":[],"tenants":["acme"]}}`))
		for _, o := range ops {
			if o.Capability == "" {
				continue // any plugin may call it
			}
			a := l.call(t, o, carol, l.baseRequest(o))
			if a.code != lhk.EFORBIDDEN || !strings.Contains(a.msg, o.Capability) {
				t.Errorf("%s %s without %s: %q %q, want forbidden naming it", a.via, o.Import(), o.Capability, a.code, a.msg)
			}
		}
	})
	// The daemon is still up and answering.
	l.must(t, http.StatusOK, "POST", "/v1/logs/count", l.Admin, []byte(fmt.Sprintf(`{"tenant":"acme","from":%q,"to":%q}`, l.from, l.to)))
}
