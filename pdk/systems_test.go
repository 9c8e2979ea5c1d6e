//go:build !wasip1

package pdk

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t1 = time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
)

// A sample of every response's data, with every field the daemon sends.
const (
	searchResultJSON = `{"events":[{"@timestamp":"2026-11-02T10:00:00Z","_id":"ev1","tenant":"acme","host.name":"WS01","process.command_line":"powershell -enc SQBFAFgA","event.code":4688}],"next_cursor":"c2","truncated":true}`
	topResultJSON    = `{"field":"user.name","buckets":[{"value":"alice","count":12},{"value":"bob","count":3}],"total":20,"other":5}`
	countResultJSON  = `{"count":42,"last":"2026-11-07T23:59:00Z"}`
	filterJSON       = `{"tenant":"acme","name":"backup-noise","conditions":[{"field":"process.name","op":"eq","value":"backup.exe"}],"reason":"nightly backup","owner":"alice","created_at":"2026-10-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z","hit_count":7,"last_hit":"2026-11-07T02:00:00Z"}`
	ticketJSON       = `{"id":"T-01JC3Z8Q4W","tenant":"acme","title":"Encoded PowerShell on WS01","description":"seen by the hunt","status":"open","severity":"high","assignee":"bob","reporter":"plugin:hunt","external_key":"alert-17","events":["ev1"],"observables":[{"type":"host","value":"WS01"}],"comments":[{"author":"bob","body":"looking","at":"2026-11-02T11:00:00Z"}],"created_at":"2026-11-02T10:05:00Z","updated_at":"2026-11-02T11:00:00Z"}`
	assetJSON        = `{"tenant":"acme","name":"WS01","ips":["10.0.0.5"],"owner":"alice","os":"Windows 11","criticality":"high","tags":["finance"],"updated_at":"2026-10-30T00:00:00Z"}`
	collectionJSON   = `{"tenant":"acme","host":"WS01","from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","processes":[{"pid":"4","name":"explorer.exe","executable":"C:\\Windows\\explorer.exe","command_line":"explorer.exe","user":"alice","start":"2026-11-02T09:00:00Z","parent_pid":"1","parent_name":"userinit.exe","event_id":"ev0","children":[{"pid":"9","name":"powershell.exe","executable":"C:\\ps.exe","command_line":"powershell -enc x","user":"alice","start":"2026-11-02T10:00:00Z","parent_pid":"4","parent_name":"explorer.exe","event_id":"ev1","children":null}]}],"network":[{"destination.ip":"203.0.113.7"}],"logons":[{"user.name":"alice"}],"files":[],"registry":[],"truncated":false}`
	actionJSON       = `{"id":"RA-1","tenant":"acme","host":"WS01","action":"isolate","reason":"ransomware","actor":"plugin:triage","status":"sent","detail":"202 Accepted","at":"2026-11-02T12:00:00Z"}`
	reportJSON       = `{"id":"R-1","tenant":"acme","title":"Weekly","markdown":"# Weekly","html":"<h1>Weekly</h1>\n","plugin":"report","author":"plugin:report","created_at":"2026-11-08T09:00:00Z"}`
	grantJSON        = `{"capabilities":["logs.read","kv"],"tenants":["acme"],"allowed_hosts":["*.example.com"]}`
)

// data wraps JSON in the success envelope.
func data(s string) string { return `{"data":` + s + `}` }

// systemCase is one typed method: the import it must call, the request it
// must send and the result it must decode from a full sample reply.
type systemCase struct {
	name    string
	imp     string
	call    func() (any, error)
	wantReq string
	reply   string // the reply's data
	want    string // the result as JSON; reply when empty
}

func systemCases() []systemCase {
	return []systemCase{
		{
			name: "Logs.Search", imp: "logs_search",
			call: func() (any, error) {
				return Logs.Search(SearchRequest{Tenant: "acme", Query: "powershell -enc", From: t0, To: t1, Limit: 100, ApplyFilters: true})
			},
			wantReq: `{"tenant":"acme","query":"powershell -enc","from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","limit":100,"cursor":"","apply_filters":true}`,
			reply:   searchResultJSON,
		},
		{
			name: "Logs.SearchFields", imp: "logs_search_fields",
			call: func() (any, error) {
				return Logs.SearchFields(FieldSearchRequest{Tenant: "acme", Fields: []Condition{Eq("host.name", "WS01"), CIDR("source.ip", "10.0.0.0/8")}, From: t0, To: t1, Cursor: "c1"})
			},
			wantReq: `{"tenant":"acme","fields":[{"field":"host.name","op":"eq","value":"WS01"},{"field":"source.ip","op":"cidr","value":"10.0.0.0/8"}],"from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","limit":0,"cursor":"c1","apply_filters":false}`,
			reply:   searchResultJSON,
		},
		{
			name: "Logs.Top", imp: "logs_top",
			call: func() (any, error) {
				return Logs.Top(TopRequest{Tenant: "acme", Field: "user.name", Fields: []Condition{Eq("event.code", 4625)}, Query: "failed", From: t0, To: t1, Limit: 10, ApplyFilters: true})
			},
			wantReq: `{"tenant":"acme","field":"user.name","fields":[{"field":"event.code","op":"eq","value":4625}],"query":"failed","from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","limit":10,"apply_filters":true}`,
			reply:   topResultJSON,
		},
		{
			name: "Logs.Count", imp: "logs_count",
			call: func() (any, error) {
				return Logs.Count(CountRequest{Tenant: "acme", Fields: []Condition{Exists("process.name")}, From: t0, To: t1})
			},
			wantReq: `{"tenant":"acme","fields":[{"field":"process.name","op":"exists"}],"from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z"}`,
			reply:   countResultJSON,
		},
		{
			name: "Filters.List", imp: "filters_list",
			call:    func() (any, error) { return Filters.List("acme", true) },
			wantReq: `{"tenant":"acme","include_expired":true}`,
			reply:   `{"filters":[` + filterJSON + `]}`,
			want:    `[` + filterJSON + `]`,
		},
		{
			name: "Filters.Stats", imp: "filters_stats",
			call:    func() (any, error) { return Filters.Stats("acme", t0, t1) },
			wantReq: `{"tenant":"acme","from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z"}`,
			reply:   `{"stats":[{"name":"backup-noise","hits":7,"last_hit":"2026-11-07T02:00:00Z","expires_at":"2027-01-01T00:00:00Z","expired":false},{"name":"old","hits":0,"last_hit":null,"expires_at":"2026-01-01T00:00:00Z","expired":true}]}`,
			want:    `[{"name":"backup-noise","hits":7,"last_hit":"2026-11-07T02:00:00Z","expires_at":"2027-01-01T00:00:00Z","expired":false},{"name":"old","hits":0,"last_hit":null,"expires_at":"2026-01-01T00:00:00Z","expired":true}]`,
		},
		{
			name: "Filters.Upsert", imp: "filters_upsert",
			call: func() (any, error) {
				return Filters.Upsert(Filter{Tenant: "acme", Name: "backup-noise", Conditions: []Condition{Eq("process.name", "backup.exe")}, Reason: "nightly backup", ExpiresAt: Ptr(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))})
			},
			wantReq: `{"tenant":"acme","name":"backup-noise","conditions":[{"field":"process.name","op":"eq","value":"backup.exe"}],"reason":"nightly backup","owner":"","created_at":"0001-01-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z","hit_count":0,"last_hit":null}`,
			reply:   filterJSON,
		},
		{
			name: "Filters.Delete", imp: "filters_delete",
			call:    func() (any, error) { return nil, Filters.Delete("acme", "backup-noise") },
			wantReq: `{"tenant":"acme","name":"backup-noise"}`,
			reply:   `{}`, want: `null`,
		},
		{
			name: "Tickets.Create", imp: "tickets_create",
			call: func() (any, error) {
				return Tickets.Create(Ticket{Tenant: "acme", Title: "Encoded PowerShell on WS01", Severity: SeverityHigh, ExternalKey: "alert-17", Events: []string{"ev1"}, Observables: []Observable{{ObservableHost, "WS01"}}})
			},
			wantReq: `{"id":"","tenant":"acme","title":"Encoded PowerShell on WS01","description":"","status":"","severity":"high","assignee":"","reporter":"","external_key":"alert-17","events":["ev1"],"observables":[{"type":"host","value":"WS01"}],"comments":null,"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z"}`,
			reply:   ticketJSON,
		},
		{
			name: "Tickets.Get", imp: "tickets_get",
			call:    func() (any, error) { return Tickets.Get("acme", "T-01JC3Z8Q4W") },
			wantReq: `{"tenant":"acme","id":"T-01JC3Z8Q4W"}`,
			reply:   ticketJSON,
		},
		{
			name: "Tickets.Update", imp: "tickets_update",
			call: func() (any, error) {
				return Tickets.Update("acme", "T-01JC3Z8Q4W", TicketUpdate{Status: Ptr(TicketResolved), Assignee: Ptr(""), AddEvents: []string{"ev2"}, AddObservables: []Observable{{ObservableIP, "203.0.113.7"}}})
			},
			wantReq: `{"tenant":"acme","id":"T-01JC3Z8Q4W","status":"resolved","assignee":"","add_events":["ev2"],"add_observables":[{"type":"ip","value":"203.0.113.7"}]}`,
			reply:   ticketJSON,
		},
		{
			name: "Tickets.UpdateSet", imp: "tickets_update",
			call: func() (any, error) {
				return Tickets.Update("acme", "T-01JC3Z8Q4W", TicketUpdate{}.SetStatus(TicketResolved).SetAssignee("").AddEvent("ev2").AddObservable(Observable{ObservableIP, "203.0.113.7"}))
			},
			wantReq: `{"tenant":"acme","id":"T-01JC3Z8Q4W","status":"resolved","assignee":"","add_events":["ev2"],"add_observables":[{"type":"ip","value":"203.0.113.7"}]}`,
			reply:   ticketJSON,
		},
		{
			name: "Tickets.Comment", imp: "tickets_comment",
			call:    func() (any, error) { return Tickets.Comment("acme", "T-01JC3Z8Q4W", "isolated") },
			wantReq: `{"tenant":"acme","id":"T-01JC3Z8Q4W","body":"isolated"}`,
			reply:   ticketJSON,
		},
		{
			name: "Tickets.Search", imp: "tickets_search",
			call: func() (any, error) {
				return Tickets.Search(TicketQuery{Tenant: "acme", Status: TicketOpen, Observable: "WS01", From: Ptr(t0), Limit: 10})
			},
			wantReq: `{"tenant":"acme","status":"open","severity":"","assignee":"","text":"","observable":"WS01","external_key":"","from":"2026-11-01T00:00:00Z","limit":10,"cursor":""}`,
			reply:   `{"tickets":[` + ticketJSON + `],"next_cursor":"n","truncated":true}`,
		},
		{
			name: "Assets.Lookup", imp: "assets_lookup",
			call:    func() (any, error) { return Assets.Lookup("acme", "10.0.0.5") },
			wantReq: `{"tenant":"acme","host":"10.0.0.5"}`,
			reply:   assetJSON,
		},
		{
			name: "Endpoints.Collect", imp: "endpoints_collect",
			call: func() (any, error) {
				return Endpoints.Collect(CollectRequest{Tenant: "acme", Host: "WS01", From: t0, To: t1, Limit: 50})
			},
			wantReq: `{"tenant":"acme","host":"WS01","from":"2026-11-01T00:00:00Z","to":"2026-11-08T00:00:00Z","limit":50}`,
			reply:   collectionJSON,
		},
		{
			name: "Endpoints.Isolate", imp: "endpoints_isolate",
			call:    func() (any, error) { return Endpoints.Isolate("acme", "WS01", "ransomware") },
			wantReq: `{"tenant":"acme","host":"WS01","reason":"ransomware"}`,
			reply:   actionJSON,
		},
		{
			name: "Reports.Publish", imp: "reports_publish",
			call:    func() (any, error) { return Reports.Publish("acme", "Weekly", "# Weekly") },
			wantReq: `{"tenant":"acme","title":"Weekly","markdown":"# Weekly"}`,
			reply:   reportJSON,
		},
		{
			name: "Reports.List", imp: "reports_list",
			call:    func() (any, error) { return Reports.List("acme", 1, "c1") },
			wantReq: `{"tenant":"acme","limit":1,"cursor":"c1"}`,
			reply:   `{"reports":[{"id":"R-1","tenant":"acme","title":"Weekly","markdown":"","html":"","plugin":"report","author":"plugin:report","created_at":"2026-11-08T09:00:00Z"}],"next_cursor":"c2","truncated":true}`,
		},
		{
			name: "Reports.Get", imp: "reports_get",
			call:    func() (any, error) { return Reports.Get("acme", "R-1") },
			wantReq: `{"tenant":"acme","id":"R-1"}`,
			reply:   reportJSON,
		},
		{
			name: "KV.Get", imp: "kv_get",
			call: func() (any, error) {
				v, found, err := KV.Get("count")
				return map[string]any{"value": v, "found": found}, err
			},
			wantReq: `{"key":"count"}`,
			reply:   `{"key":"count","value":"41","found":true}`,
			want:    `{"value":"41","found":true}`,
		},
		{
			name: "Plugins.Start", imp: "plugins_start",
			call: func() (any, error) {
				id, err := Plugins.Start("endpoint-triage", "", `{"ticket":"T-1"}`)
				if err != nil {
					return nil, err
				}
				return map[string]any{"invocation": id}, nil
			},
			wantReq: `{"plugin":"endpoint-triage","input":"{\"ticket\":\"T-1\"}"}`,
			reply:   `{"invocation":"inv-9"}`,
		},
		{
			name: "KV.Set", imp: "kv_set",
			call:    func() (any, error) { return nil, KV.Set("count", "42") },
			wantReq: `{"key":"count","value":"42"}`,
			reply:   `{}`, want: `null`,
		},
		{
			name: "KV.Delete", imp: "kv_delete",
			call:    func() (any, error) { return nil, KV.Delete("count") },
			wantReq: `{"key":"count"}`,
			reply:   `{}`, want: `null`,
		},
		{
			name: "KV.List", imp: "kv_list",
			call:    func() (any, error) { return KV.List("seen/", "seen/a", 2) },
			wantReq: `{"prefix":"seen/","after":"seen/a","limit":2}`,
			reply:   `{"entries":[{"key":"seen/b","value":"1"},{"key":"seen/c","value":"2"}]}`,
			want:    `[{"key":"seen/b","value":"1"},{"key":"seen/c","value":"2"}]`,
		},
		{
			name: "Notify.Send", imp: "notify_send",
			call: func() (any, error) {
				return nil, Notify.Send(Notification{Channel: "soc", Tenant: "acme", Title: "Isolated WS01", Text: "by triage", Severity: SeverityCritical, Fields: map[string]string{"host": "WS01"}})
			},
			wantReq: `{"channel":"soc","tenant":"acme","title":"Isolated WS01","text":"by triage","severity":"critical","fields":{"host":"WS01"}}`,
			reply:   `{}`, want: `null`,
		},
		{
			name: "CurrentGrant", imp: "grant_get",
			call:    func() (any, error) { return CurrentGrant() },
			wantReq: `{}`,
			reply:   grantJSON,
		},
	}
}

// TestSystems checks that every typed method calls its import with the
// request JSON of the catalog and decodes every field of the reply.
func TestSystems(t *testing.T) {
	for _, tc := range systemCases() {
		t.Run(tc.name, func(t *testing.T) {
			calls := fakeHost(t, map[string]string{tc.imp: data(tc.reply)})
			got, err := tc.call()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(*calls) != 1 {
				t.Fatalf("%s made %d host calls, want 1", tc.name, len(*calls))
			}
			c := (*calls)[0]
			if c.Import != tc.imp {
				t.Fatalf("%s called lhk.%s, want lhk.%s", tc.name, c.Import, tc.imp)
			}
			sameJSON(t, "request", c.Request, tc.wantReq)
			want := tc.want
			if want == "" {
				want = tc.reply
			}
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "result", string(b), want)
		})
	}
}

// TestSystemsErrors checks that every typed method returns the host's error
// as an *Error and no result.
func TestSystemsErrors(t *testing.T) {
	for _, tc := range systemCases() {
		t.Run(tc.name, func(t *testing.T) {
			fakeHost(t, map[string]string{tc.imp: `{"error":{"code":"forbidden","message":"tenant globex is not granted"}}`})
			got, err := tc.call()
			if !IsForbidden(err) {
				t.Fatalf("%s error = %v, want forbidden", tc.name, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Message != "tenant globex is not granted" {
				t.Fatalf("%s error = %#v, want the host's message", tc.name, err)
			}
			switch v := got.(type) {
			case nil:
			case map[string]any: // KV.Get
				if v["value"] != "" || v["found"] != false {
					t.Fatalf("%s returned %v with an error", tc.name, v)
				}
			default:
				if b, _ := json.Marshal(got); string(b) != "null" {
					t.Fatalf("%s returned %s with an error", tc.name, b)
				}
			}
		})
	}
}

func TestCallOutsideWasm(t *testing.T) {
	outsideWasm(t)
	err := Call(func(uint64) uint64 { return 0 }, map[string]string{"q": "x"}, nil)
	if !errors.Is(err, ErrNotWasm) {
		t.Fatalf("Call outside wasm = %v, want ErrNotWasm", err)
	}
}

// TestSystemsOutsideWasm checks that every typed method fails with
// ErrNotWasm on the developer's machine.
func TestSystemsOutsideWasm(t *testing.T) {
	outsideWasm(t)
	for _, tc := range systemCases() {
		if _, err := tc.call(); !errors.Is(err, ErrNotWasm) {
			t.Errorf("%s outside wasm = %v, want ErrNotWasm", tc.name, err)
		}
	}
}

func TestKVGetNotFound(t *testing.T) {
	fakeHost(t, map[string]string{"kv_get": data(`{"key":"count","value":"","found":false}`)})
	v, found, err := KV.Get("count")
	if err != nil || found || v != "" {
		t.Fatalf(`KV.Get of an absent key = %q, %v, %v; want "", false, nil`, v, found, err)
	}
}

// TestImports checks that the wasm imports and their host stand-ins name
// the same host functions, one per function of the catalog.
func TestImports(t *testing.T) {
	catalog := []string{
		"logs_search", "logs_search_fields", "logs_top", "logs_count",
		"filters_list", "filters_stats", "filters_upsert", "filters_delete",
		"tickets_create", "tickets_get", "tickets_update", "tickets_comment", "tickets_search",
		"assets_lookup", "endpoints_collect", "endpoints_isolate", "reports_publish", "reports_list", "reports_get",
		"kv_get", "kv_set", "kv_delete", "kv_list", "notify_send", "grant_get",
		"plugins_start",
	}
	wasm := importsOf(t, "imports_wasm.go", "//go:wasmimport lhk ", "func ")
	host := importsOf(t, "imports_host.go", "", "")
	for _, name := range catalog {
		if wasm[name] == "" {
			t.Errorf("imports_wasm.go does not import lhk.%s", name)
		}
		if host[name] == "" {
			t.Errorf("imports_host.go has no stand-in for lhk.%s", name)
		}
		if wasm[name] != host[name] {
			t.Errorf("lhk.%s is %s in wasm builds but %s on the host", name, wasm[name], host[name])
		}
	}
	if len(wasm) != len(catalog) || len(host) != len(catalog) {
		t.Errorf("%d wasm imports and %d stand-ins, want %d each", len(wasm), len(host), len(catalog))
	}
	// Every method of the test table is tested.
	var tested []string
	for _, tc := range systemCases() {
		tested = append(tested, tc.imp)
	}
	for _, name := range catalog {
		if !slices.Contains(tested, name) {
			t.Errorf("no typed method calls lhk.%s", name)
		}
	}
}

// importsOf maps import names to Go identifiers as declared in file: in
// imports_wasm.go a directive line followed by "func hostX(", in
// imports_host.go `hostX = stub("name")`.
func importsOf(t *testing.T, file, directive, fn string) map[string]string {
	t.Helper()
	b, err := readFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	lines := strings.Split(b, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if directive != "" {
			if name, ok := strings.CutPrefix(l, directive); ok && i+1 < len(lines) {
				id, _, _ := strings.Cut(strings.TrimPrefix(lines[i+1], fn), "(")
				m[name] = id
			}
			continue
		}
		if id, rest, ok := strings.Cut(l, "= stub(\""); ok {
			m[strings.TrimSuffix(rest, "\")")] = strings.TrimSpace(id)
		}
	}
	return m
}

// TestTicketUpdateBuilders: each method returns a changed copy, so one base
// update can be extended twice without the two sharing what they add, and
// the result is the JSON an update with pointers sends.
func TestTicketUpdateBuilders(t *testing.T) {
	base := TicketUpdate{}.SetSeverity(SeverityHigh).AddEvent("ev1")
	a := base.AddEvent("ev2").SetTitle("a")
	b := base.AddEvent("ev3").SetDescription("b")
	if base.Title != nil || len(base.AddEvents) != 1 {
		t.Fatalf("base changed: %+v", base)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	sameJSON(t, "a", string(ja), `{"title":"a","severity":"high","add_events":["ev1","ev2"]}`)
	sameJSON(t, "b", string(jb), `{"description":"b","severity":"high","add_events":["ev1","ev3"]}`)
	old, _ := json.Marshal(TicketUpdate{Status: Ptr(TicketClosed), Assignee: Ptr("bob")})
	built, _ := json.Marshal(TicketUpdate{}.SetStatus(TicketClosed).SetAssignee("bob"))
	sameJSON(t, "pointer-free", string(built), string(old))
}
