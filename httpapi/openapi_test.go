package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

// TestOpenAPICoversRoutes fails when a registered route is missing from
// openapi.json, or the document names a route that does not exist.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	srv := New(Config{
		Functions: []lhk.HostFunction{{Name: "logs_search", Capability: lhk.CapLogsRead}, {Name: "kv_get", Capability: lhk.CapKV}},
		UI:        http.NotFoundHandler(),
	})
	if err := json.Unmarshal(srv.doc, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version = %q, want 3.x", doc.OpenAPI)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+param.ReplaceAllString(path, "{}")] = true
		}
	}
	registered := map[string]bool{}
	colon := regexp.MustCompile(`:[^/]+`)
	for _, r := range srv.Echo().Routes() {
		if strings.HasSuffix(r.Path, "/*") || r.Method == "echo_route_not_found" {
			continue
		}
		registered[r.Method+" "+colon.ReplaceAllString(r.Path, "{}")] = true
	}
	if len(registered) < 20 {
		t.Fatalf("only %d routes registered; the route listing is broken", len(registered))
	}
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("openapi.json documents %s, which is not a route", d)
		}
	}
}
