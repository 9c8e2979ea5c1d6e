package httpapi

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// openAPIDoc is the hand-written part of the OpenAPI 3 document: every route
// except the library operations, whose paths are generated from Functions. A
// test checks that every registered route appears in the served document.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPIDocument adds a path per library operation to the static document.
func (s *Server) openAPIDocument() []byte {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		panic("httpapi: openapi.json does not parse: " + err.Error())
	}
	paths := doc["paths"].(map[string]any)
	for _, f := range s.cfg.Functions {
		system, op, ok := strings.Cut(f.Name, "_")
		if !ok {
			continue
		}
		desc := f.Doc + " Capability: " + f.Capability + ". Same JSON as the host function lhk." + f.Name + " (docs/hostfuncs.md)."
		if slices.Contains(everyoneCapabilities, f.Capability) {
			desc += " Over HTTP every user has " + f.Capability + " on the tenants of their ceiling."
		}
		if f.Capability == "kv" {
			desc += " Query parameter plugin names the plugin whose store to use (its owner or an admin)."
		}
		paths["/v1/"+system+"/"+op] = map[string]any{
			"post": map[string]any{
				"tags":        []string{"library"},
				"summary":     "lhk." + f.Name,
				"description": desc,
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
				"responses": map[string]any{
					"200": map[string]any{"description": "the operation's data", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}},
					"400": map[string]any{"$ref": "#/components/responses/Error"},
					"403": map[string]any{"$ref": "#/components/responses/Error"},
					"404": map[string]any{"$ref": "#/components/responses/Error"},
				},
			},
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("httpapi: marshal OpenAPI document: " + err.Error())
	}
	return b
}

func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.doc)
}
