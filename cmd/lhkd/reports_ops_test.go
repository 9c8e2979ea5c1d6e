package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// reportReaderSource is a plugin that reads reports through the PDK's typed
// API: input {"op":"list"|"get","tenant","id","limit","cursor"}, output
// {"data": …} or {"error": {"code","message"}}, so the test reads the code
// of a refused call.
const reportReaderSource = `package main

import "github.com/lhk-soc/lhk/pdk"

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		var in struct {
			Op, Tenant, ID, Cursor string
			Limit                  int
		}
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		var data any
		var err error
		switch in.Op {
		case "list":
			data, err = pdk.Reports.List(in.Tenant, in.Limit, in.Cursor)
		case "get":
			data, err = pdk.Reports.Get(in.Tenant, in.ID)
		}
		if err != nil {
			return pdk.OutputJSON(map[string]any{"error": map[string]string{"code": pdk.ErrorCode(err), "message": err.Error()}})
		}
		return pdk.OutputJSON(map[string]any{"data": data})
	})
}

func main() {}
`

// buildReportReader builds reportReaderSource as a module of its own next to
// the repository's pdk (plugins/ belongs to the shipped plugins).
func buildReportReader(t *testing.T) []byte {
	t.Helper()
	root, err := wasmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "pdk", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	mod := "module reportreader\n\ngo 1.24\n\nrequire github.com/lhk-soc/lhk/pdk v0.0.0\n\nrequire github.com/extism/go-pdk v1.1.3 // indirect\n\nreplace github.com/lhk-soc/lhk/pdk => " + filepath.Join(root, "pdk") + "\n"
	for name, content := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "main.go": []byte(reportReaderSource)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "reader.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build report reader: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReportsFromPlugins: a plugin lists and gets its tenant's reports with
// capability reports.read, never sees another tenant's (by tenant or by id),
// and without the capability is refused by name; over HTTP every user reads
// the reports of their tenants at /v1/reports/list and /v1/reports/get.
func TestReportsFromPlugins(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	victor := d.user(t, "victor", "viewer")
	d.must(t, http.StatusOK, "PATCH", "/v1/users/alice", d.Admin, []byte(`{"ceiling":{"capabilities":["reports.read","reports.write"],"tenants":["acme"]}}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/users/victor", d.Admin, []byte(`{"ceiling":{"capabilities":["logs.read"],"tenants":["acme"]}}`))

	publish := func(tenant, title string) string {
		body := fmt.Sprintf(`{"tenant":%q,"title":%q,"markdown":"# %s\n\nbody of %s"}`, tenant, title, title, title)
		return d.must(t, http.StatusOK, "POST", "/v1/reports/publish", d.Admin, []byte(body)).JSON(t)["id"].(string)
	}
	var acmeIDs []string
	for i := range 3 {
		acmeIDs = append(acmeIDs, publish("acme", fmt.Sprintf("Weekly acme %d", i)))
	}
	globexID := publish("globex", "Globex board secret")

	up := d.do(t, "POST", "/v1/plugins/reader/versions", alice, buildReportReader(t))
	if up.Status != http.StatusCreated {
		t.Fatalf("upload = %d %s", up.Status, up.Body)
	}
	if caps := up.JSON(t)["capabilities_required"].([]any); !slices.Contains(caps, any("reports.read")) || slices.Contains(caps, any("reports.write")) {
		t.Fatalf("capabilities_required = %v, want reports.read only", caps)
	}
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/reader/grant", alice, []byte(`{"capabilities":["reports.read"],"tenants":["acme"]}`))

	type answer struct {
		Data  json.RawMessage
		Error *struct{ Code, Message string }
	}
	call := func(t *testing.T, in map[string]any) answer {
		t.Helper()
		body, _ := json.Marshal(in)
		r := d.must(t, http.StatusOK, "POST", "/v1/plugins/reader/invoke", alice, body)
		var a answer
		if err := json.Unmarshal(r.Body, &a); err != nil {
			t.Fatalf("output %s: %v", r.Body, err)
		}
		return a
	}
	type page struct {
		Reports []struct {
			ID, Tenant, Title, Markdown string
		}
		NextCursor string `json:"next_cursor"`
		Truncated  bool
	}

	t.Run("List", func(t *testing.T) {
		var got []string
		cursor := ""
		for i := 0; ; i++ {
			a := call(t, map[string]any{"op": "list", "tenant": "acme", "limit": 2, "cursor": cursor})
			if a.Error != nil {
				t.Fatalf("list: %+v", a.Error)
			}
			var p page
			json.Unmarshal(a.Data, &p)
			for _, r := range p.Reports {
				if r.Tenant != "acme" || r.Markdown != "" {
					t.Fatalf("listed %+v", r)
				}
				got = append(got, r.ID)
			}
			if i == 0 && (len(p.Reports) != 2 || !p.Truncated || p.NextCursor == "") {
				t.Fatalf("first page = %s, want 2 reports and truncated", a.Data)
			}
			if !p.Truncated {
				break
			}
			cursor = p.NextCursor
		}
		want := slices.Clone(acmeIDs)
		slices.Reverse(want) // newest first
		if !slices.Equal(got, want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
	})
	t.Run("Get", func(t *testing.T) {
		a := call(t, map[string]any{"op": "get", "tenant": "acme", "id": acmeIDs[1]})
		var r struct{ ID, Markdown, HTML string }
		json.Unmarshal(a.Data, &r)
		if a.Error != nil || r.ID != acmeIDs[1] || !strings.Contains(r.Markdown, "body of Weekly acme 1") || !strings.Contains(r.HTML, "<h1>Weekly acme 1</h1>") {
			t.Fatalf("get = %s %+v", a.Data, a.Error)
		}
	})
	t.Run("ErrOtherTenant", func(t *testing.T) {
		for name, in := range map[string]map[string]any{
			"GlobexIDAsAcme": {"op": "get", "tenant": "acme", "id": globexID},
			"GetGlobex":      {"op": "get", "tenant": "globex", "id": globexID},
			"ListGlobex":     {"op": "list", "tenant": "globex"},
		} {
			a := call(t, in)
			want := "forbidden"
			if in["tenant"] == "acme" {
				want = "not_found"
			}
			if a.Error == nil || a.Error.Code != want || strings.Contains(a.Error.Message, "secret") || strings.Contains(string(a.Data), "secret") {
				t.Errorf("%s: %s %+v, want %s without the title", name, a.Data, a.Error, want)
			}
			if want == "forbidden" && !strings.Contains(a.Error.Message, "globex") {
				t.Errorf("%s: %q should name the tenant", name, a.Error.Message)
			}
		}
	})
	t.Run("ErrForbiddenWithoutCapability", func(t *testing.T) {
		d.must(t, http.StatusOK, "PUT", "/v1/plugins/reader/grant", alice, []byte(`{"capabilities":["reports.write"],"tenants":["acme"]}`))
		defer d.must(t, http.StatusOK, "PUT", "/v1/plugins/reader/grant", alice, []byte(`{"capabilities":["reports.read"],"tenants":["acme"]}`))
		for _, op := range []string{"list", "get"} {
			a := call(t, map[string]any{"op": op, "tenant": "acme", "id": acmeIDs[0]})
			if a.Error == nil || a.Error.Code != "forbidden" || !strings.Contains(a.Error.Message, "reports.read") {
				t.Errorf("%s without reports.read: %s %+v", op, a.Data, a.Error)
			}
		}
	})
	t.Run("OverHTTP", func(t *testing.T) {
		// victor's ceiling lacks reports.read: every user reads their tenants' reports.
		r := d.must(t, http.StatusOK, "POST", "/v1/reports/list", victor, []byte(`{"tenant":"acme","limit":2}`)).JSON(t)
		if len(r["reports"].([]any)) != 2 || r["truncated"] != true {
			t.Fatalf("reports/list = %v", r)
		}
		g := d.must(t, http.StatusOK, "GET", "/v1/reports?tenant=acme&limit=2", victor, nil).JSON(t)
		if fmt.Sprint(g["reports"]) != fmt.Sprint(r["reports"]) || g["truncated"] != true || g["next_cursor"] != r["next_cursor"] {
			t.Fatalf("GET /v1/reports = %v\nPOST /v1/reports/list = %v", g, r)
		}
		one := d.must(t, http.StatusOK, "POST", "/v1/reports/get", victor, []byte(`{"tenant":"acme","id":"`+acmeIDs[0]+`"}`)).JSON(t)
		if one["id"] != acmeIDs[0] || one["markdown"] == "" {
			t.Fatalf("reports/get = %v", one)
		}
		if r := d.must(t, http.StatusNotFound, "POST", "/v1/reports/get", victor, []byte(`{"tenant":"acme","id":"`+globexID+`"}`)); bytes.Contains(r.Body, []byte("secret")) {
			t.Fatalf("globex's report id leaked: %s", r.Body)
		}
		d.must(t, http.StatusForbidden, "POST", "/v1/reports/get", victor, []byte(`{"tenant":"globex","id":"`+globexID+`"}`))
		d.must(t, http.StatusForbidden, "POST", "/v1/reports/publish", victor, []byte(`{"tenant":"acme","title":"x","markdown":"x"}`))
		// The ceiling itself is unchanged: granting reports.read still needs it there.
		if g := d.must(t, http.StatusOK, "POST", "/v1/grant/get", victor, nil).JSON(t); fmt.Sprint(g["capabilities"]) != "[logs.read]" {
			t.Fatalf("victor's ceiling = %v", g)
		}
	})
}
