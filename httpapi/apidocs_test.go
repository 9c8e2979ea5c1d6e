package httpapi

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk/hostfuncs"
)

// TestAPIDocsSystems fails when the Systems table of docs/api.md misses a
// system route lhkd serves, lists one it does not, or names another
// capability for a library operation than the catalog.
func TestAPIDocsSystems(t *testing.T) {
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Systems\n")
	if !ok {
		t.Fatal("docs/api.md has no Systems section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([A-Z]+ /v1/[^`]*)` \\| ([^|]*) \\|")
	documented := map[string]string{} // route → capability cell
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		if _, dup := documented[m[1]]; dup {
			t.Errorf("docs/api.md lists %s twice", m[1])
		}
		documented[m[1]] = strings.TrimSpace(m[2])
	}

	ops := hostfuncs.Catalog(hostfuncs.Systems{})
	srv := New(Config{Functions: hostfuncs.Functions(ops), UI: http.NotFoundHandler()})
	systems := map[string]bool{}
	served := map[string]bool{}
	for _, o := range ops {
		route := "POST /v1/" + o.System + "/" + o.Name
		served[route] = true
		want := "none"
		if o.Capability != "" {
			want = "`" + o.Capability + "`"
		}
		if got, ok := documented[route]; ok && !strings.HasPrefix(got, want) {
			t.Errorf("docs/api.md: %s needs %s, the table says %s", route, want, got)
		}
		if o.System != "plugins" && o.System != "grant" {
			systems[o.System] = true
		}
	}
	colon := regexp.MustCompile(`:([^/]+)`)
	for _, r := range srv.Echo().Routes() {
		parts := strings.Split(r.Path, "/") // "", "v1", system, …
		if len(parts) < 3 || parts[1] != "v1" || !systems[parts[2]] || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		served[r.Method+" "+colon.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(served) < len(ops)+5 {
		t.Fatalf("only %d system routes served; the route listing is broken", len(served))
	}
	for r := range served {
		if _, ok := documented[r]; !ok {
			t.Errorf("docs/api.md's Systems table does not list %s", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("docs/api.md lists %s, which lhkd does not serve", r)
		}
	}
}
