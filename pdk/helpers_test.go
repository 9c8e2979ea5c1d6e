//go:build !wasip1

package pdk

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestConditions(t *testing.T) {
	tests := []struct {
		name string
		c    Condition
		want string
	}{
		{"Eq", Eq("host.name", "WS01"), `{"field":"host.name","op":"eq","value":"WS01"}`},
		{"EqNumber", Eq("event.code", 4625), `{"field":"event.code","op":"eq","value":4625}`},
		{"Contains", Contains("process.command_line", "-enc"), `{"field":"process.command_line","op":"contains","value":"-enc"}`},
		{"Prefix", Prefix("url.full", "https://"), `{"field":"url.full","op":"prefix","value":"https://"}`},
		{"CIDR", CIDR("source.ip", "10.0.0.0/8"), `{"field":"source.ip","op":"cidr","value":"10.0.0.0/8"}`},
		{"GT", GT("event.severity", 3), `{"field":"event.severity","op":"gt","value":3}`},
		{"GTTime", GT("@timestamp", time.Date(2026, 11, 1, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))), `{"field":"@timestamp","op":"gt","value":"2026-11-01T00:00:00Z"}`},
		{"LT", LT("destination.port", 1024), `{"field":"destination.port","op":"lt","value":1024}`},
		{"LTString", LT("user.name", "m"), `{"field":"user.name","op":"lt","value":"m"}`},
		{"Exists", Exists("process.parent.name"), `{"field":"process.parent.name","op":"exists"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got %s, want %s", b, tt.want)
			}
		})
	}
}

func TestConditionUnmarshal(t *testing.T) {
	var cs []Condition
	if err := json.Unmarshal([]byte(`[{"field":"a","op":"eq","value":"x"},{"field":"b","op":"gt","value":2},{"field":"c","op":"exists"}]`), &cs); err != nil {
		t.Fatal(err)
	}
	want := []Condition{Eq("a", "x"), GT("b", 2.0), Exists("c")}
	if fmt.Sprint(cs) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", cs, want)
	}
}

func TestErrorHelpers(t *testing.T) {
	is := map[string]func(error) bool{
		CodeInvalid: IsInvalid, CodeNotFound: IsNotFound, CodeConflict: IsConflict,
		CodeForbidden: IsForbidden, CodeTooLarge: IsTooLarge, CodeUnavailable: IsUnavailable,
		CodeTimeout: IsTimeout, CodeInternal: IsInternal,
	}
	for code := range is {
		t.Run(code, func(t *testing.T) {
			err := fmt.Errorf("open ticket: %w", &Error{Code: code, Message: "m"})
			for other, f := range is {
				if got, want := f(err), other == code; got != want {
					t.Errorf("Is…(%s) for %s = %v, want %v", code, other, got, want)
				}
			}
			if got := ErrorCode(err); got != code {
				t.Errorf("ErrorCode = %q, want %q", got, code)
			}
		})
	}
	t.Run("NotAnError", func(t *testing.T) {
		for code, f := range is {
			if f(nil) || f(errors.New(code)) || f(ErrNotWasm) {
				t.Errorf("Is… for %s is true for nil or a plain error", code)
			}
		}
		if ErrorCode(nil) != "" || ErrorCode(ErrNotWasm) != CodeInternal {
			t.Errorf("ErrorCode(nil), ErrorCode(ErrNotWasm) = %q, %q", ErrorCode(nil), ErrorCode(ErrNotWasm))
		}
	})
}

func TestEvent(t *testing.T) {
	var e Event
	if err := json.Unmarshal([]byte(`{"@timestamp":"2026-11-02T10:00:00.5Z","_id":"ev1","host.name":"WS01","event.code":4688}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.ID() != "ev1" || e.String("host.name") != "WS01" || e.String("event.code") != "" || e.String("missing") != "" {
		t.Fatalf("ID, String = %q %q %q", e.ID(), e.String("host.name"), e.String("event.code"))
	}
	if want := time.Date(2026, 11, 2, 10, 0, 0, 5e8, time.UTC); !e.Time().Equal(want) {
		t.Fatalf("Time = %v, want %v", e.Time(), want)
	}
	if !(Event{"@timestamp": "yesterday"}).Time().IsZero() {
		t.Fatal("Time of a malformed timestamp is not zero")
	}
}

func TestGrant(t *testing.T) {
	g := &Grant{Capabilities: []string{CapLogsRead}, Tenants: []string{"acme"}}
	if !g.Allows(CapLogsRead) || g.Allows(CapKV) {
		t.Error("Allows")
	}
	if !g.AllowsTenant("acme") || g.AllowsTenant("globex") || g.AllowsTenant("") || g.AllTenants() {
		t.Error("AllowsTenant for one tenant")
	}
	all := &Grant{Tenants: []string{"*"}}
	if !all.AllowsTenant("globex") || all.AllowsTenant("") || !all.AllTenants() {
		t.Error("AllowsTenant for *")
	}
}

func TestFilterActive(t *testing.T) {
	f := &Filter{}
	if !f.Active(t0) {
		t.Error("a filter without expiry is inactive")
	}
	f.ExpiresAt = Ptr(t1)
	if !f.Active(t0) || f.Active(t1) {
		t.Error("Active around the expiry")
	}
}

func TestSearchAll(t *testing.T) {
	page := func(cursor string) string {
		switch cursor {
		case "":
			return data(`{"events":[{"_id":"1"},{"_id":"2"}],"next_cursor":"c2","truncated":true}`)
		case "c2":
			return data(`{"events":[{"_id":"3"}],"next_cursor":"","truncated":false}`)
		}
		return `{"error":{"code":"invalid","message":"bad cursor"}}`
	}
	run := func(t *testing.T, max int, stopAt string) ([]string, []string, error) {
		t.Helper()
		var cursors, ids []string
		saved := invoke
		t.Cleanup(func() { invoke = saved })
		invoke = func(fn HostFunc, req []byte) ([]byte, error) {
			var r SearchRequest
			if err := json.Unmarshal(req, &r); err != nil {
				t.Fatal(err)
			}
			cursors = append(cursors, r.Cursor)
			return []byte(page(r.Cursor)), nil
		}
		err := Logs.SearchAll(SearchRequest{Tenant: "acme", From: t0, To: t1, Limit: 2}, max, func(e Event) error {
			ids = append(ids, e.ID())
			if e.ID() == stopAt {
				return errors.New("stop")
			}
			return nil
		})
		return cursors, ids, err
	}
	t.Run("OK", func(t *testing.T) {
		cursors, ids, err := run(t, 0, "")
		if err != nil || fmt.Sprint(ids) != "[1 2 3]" || fmt.Sprint(cursors) != "[ c2]" {
			t.Fatalf("ids %v cursors %q err %v", ids, cursors, err)
		}
	})
	t.Run("Max", func(t *testing.T) {
		cursors, ids, err := run(t, 2, "")
		if err != nil || fmt.Sprint(ids) != "[1 2]" || len(cursors) > 2 {
			t.Fatalf("ids %v cursors %q err %v", ids, cursors, err)
		}
	})
	t.Run("ErrFromFn", func(t *testing.T) {
		_, ids, err := run(t, 0, "2")
		if err == nil || err.Error() != "stop" || fmt.Sprint(ids) != "[1 2]" {
			t.Fatalf("ids %v err %v", ids, err)
		}
	})
}

func TestSearchFieldsAllErr(t *testing.T) {
	fakeHost(t, map[string]string{"logs_search_fields": `{"error":{"code":"invalid","message":"from and to are required"}}`})
	err := Logs.SearchFieldsAll(FieldSearchRequest{Tenant: "acme"}, 0, func(Event) error { return nil })
	if !IsInvalid(err) {
		t.Fatalf("err = %v, want invalid", err)
	}
}

func TestHTTP(t *testing.T) {
	grant := data(`{"capabilities":["http"],"tenants":[],"allowed_hosts":["api.example.com","*.virustotal.com","ip-?.test","[ab].other"]}`)
	tests := []struct {
		name     string
		req      HTTPRequest
		wantCode string // "" for a request that reaches sendHTTP (ErrNotWasm here)
	}{
		{"OK", HTTPRequest{URL: "https://api.example.com/v1/ip/1.2.3.4"}, ""},
		{"OKGlob", HTTPRequest{Method: "post", URL: "https://www.virustotal.com/api"}, ""},
		{"OKQuestionMark", HTTPRequest{URL: "http://ip-1.test:8080/"}, ""},
		{"OKLeftToDaemon", HTTPRequest{URL: "http://a.other/"}, ""},
		{"ErrForbidden", HTTPRequest{URL: "https://evil.example.net/"}, CodeForbidden},
		{"ErrForbiddenSuffix", HTTPRequest{URL: "https://api.example.com.evil.net/"}, CodeForbidden},
		{"ErrForbiddenGlobRoot", HTTPRequest{URL: "https://virustotal.com/"}, CodeForbidden},
		{"ErrScheme", HTTPRequest{URL: "file:///etc/passwd"}, CodeInvalid},
		{"ErrNoHost", HTTPRequest{URL: "https:///x"}, CodeInvalid},
		{"ErrURL", HTTPRequest{URL: "http://[::1"}, CodeInvalid},
		{"ErrMethod", HTTPRequest{Method: "BREW", URL: "https://api.example.com/"}, CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeHost(t, map[string]string{"grant_get": grant})
			_, err := HTTP.Do(tt.req)
			if tt.wantCode == "" {
				if !errors.Is(err, ErrNotWasm) {
					t.Fatalf("Do = %v, want to reach sendHTTP", err)
				}
				return
			}
			if got := ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Do = %v, want code %s", err, tt.wantCode)
			}
		})
	}
	t.Run("GetPostOutsideWasm", func(t *testing.T) {
		outsideWasm(t)
		if _, _, err := HTTP.Get("https://api.example.com/"); !errors.Is(err, ErrNotWasm) {
			t.Errorf("Get = %v", err)
		}
		if _, _, err := HTTP.Post("https://api.example.com/", "application/json", []byte("{}")); !errors.Is(err, ErrNotWasm) {
			t.Errorf("Post = %v", err)
		}
	})
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything.example", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"api.*.com", "api.x.y.com", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"?", "", false},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestHostAllowed(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"api.example.com", "api.example.com", true},
		{"api.example.com", "API.example.com.evil", false},
		{"{api,www}.example.com", "www.example.com", true},
		{"{api,www}.example.com", "www.example.net", false},
		{"ip-[0-9].test", "ip-1.test", true},
		{"ip-[0-9].test", "ip-10.test", false},
		{`a\.b`, "a.b", true},
		{`a\.b`, "a.c", false},
		{"x{a,{b,c}}.io", "xc.io", true},
		{"broken[", "broken-anything", true},
	}
	for _, tt := range tests {
		if got := hostAllowed([]string{tt.pattern}, tt.host); got != tt.want {
			t.Errorf("hostAllowed(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
	if hostAllowed(nil, "api.example.com") {
		t.Error("hostAllowed with no allowed hosts is true")
	}
}
