package ui

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lhk-soc/lhk"
)

func get(t *testing.T, h http.Handler, method, path string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestHandler(t *testing.T) {
	h := Handler()
	tests := []struct {
		name, method, path string
		status             int
		ctype              string
	}{
		{"Index", "GET", "/ui/", 200, "text/html; charset=utf-8"},
		{"IndexByName", "GET", "/ui/index.html", 200, "text/html; charset=utf-8"},
		{"Module", "GET", "/ui/js/main.js", 200, "text/javascript; charset=utf-8"},
		{"Style", "GET", "/ui/app.css", 200, "text/css; charset=utf-8"},
		{"Messages", "GET", "/ui/i18n/ja.json", 200, "application/json"},
		{"Icon", "GET", "/ui/favicon.svg", 200, "image/svg+xml"},
		{"Head", "HEAD", "/ui/js/main.js", 200, "text/javascript; charset=utf-8"},
		{"Missing", "GET", "/ui/nope.js", 404, ""},
		{"Dir", "GET", "/ui/js/", 404, ""},
		{"Traversal", "GET", "/ui/js/../../ui.go", 404, ""},
		{"OutsidePrefix", "GET", "/v1/plugins", 404, ""},
		{"Post", "POST", "/ui/", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.method, tt.path)
			if w.Code != tt.status {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.status)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != CSP {
				t.Errorf("CSP %q", got)
			}
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
				if w.Header().Get(k) != v {
					t.Errorf("%s = %q, want %q", k, w.Header().Get(k), v)
				}
			}
			if tt.ctype != "" && w.Header().Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", w.Header().Get("Content-Type"), tt.ctype)
			}
		})
	}
	t.Run("Revalidate", func(t *testing.T) {
		w := get(t, h, "GET", "/ui/js/main.js")
		etag := w.Header().Get("ETag")
		if etag == "" || w.Header().Get("Cache-Control") != "no-cache" {
			t.Fatalf("ETag %q Cache-Control %q", etag, w.Header().Get("Cache-Control"))
		}
		if w := get(t, h, "GET", "/ui/js/main.js", "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("revalidation = %d with %d bytes, want 304 and none", w.Code, w.Body.Len())
		}
	})
}

// TestCSP keeps the policy strict: only lhkd's own scripts, no inline code.
func TestCSP(t *testing.T) {
	for _, want := range []string{"script-src 'self'", "default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %s", want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data:"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP allows %s", bad)
		}
	}
}

func readStatic(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(static, "static/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func scripts(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := fs.ReadDir(static, "static/js")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		out[e.Name()] = readStatic(t, "js/"+e.Name())
	}
	if len(out) < 5 {
		t.Fatalf("only %d scripts found", len(out))
	}
	return out
}

// TestNoHTMLSinks fails when a script could parse data as HTML or code: the UI
// builds every element with DOM APIs and text nodes.
func TestNoHTMLSinks(t *testing.T) {
	sinks := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc|createContextualFragment|DOMParser|setAttribute\(\s*['"]on`)
	for name, src := range scripts(t) {
		for i, line := range strings.Split(src, "\n") {
			if sinks.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("js/%s:%d uses an HTML or code sink: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
	index := readStatic(t, "index.html")
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(index) || !strings.Contains(index, `<script type="module" src="js/main.js">`) {
		t.Errorf("index.html has inline script or lacks the module")
	}
	if regexp.MustCompile(`\s(style|on[a-z]+)=`).MatchString(index) {
		t.Errorf("index.html has an inline style or event handler attribute, which the CSP refuses")
	}
}

// TestImports checks every module import and asset reference resolves, so a
// typo fails here rather than as a blank page.
func TestImports(t *testing.T) {
	imp := regexp.MustCompile(`from '\./([a-z]+\.js)'`)
	srcs := scripts(t)
	for name, src := range srcs {
		for _, m := range imp.FindAllStringSubmatch(src, -1) {
			if _, ok := srcs[m[1]]; !ok {
				t.Errorf("js/%s imports %s, which does not exist", name, m[1])
			}
		}
	}
	index := readStatic(t, "index.html")
	for _, m := range regexp.MustCompile(`(?:src|href)="([a-z/.]+)"`).FindAllStringSubmatch(index, -1) {
		if _, err := fs.Stat(static, "static/"+m[1]); err != nil {
			t.Errorf("index.html refers to %s: %v", m[1], err)
		}
	}
}

// TestMessages checks that English and Japanese hold the same keys, with the
// same placeholders, and every key the scripts use.
func TestMessages(t *testing.T) {
	dicts := map[string]map[string]string{}
	for _, l := range []string{"en", "ja"} {
		var d map[string]string
		if err := json.Unmarshal([]byte(readStatic(t, "i18n/"+l+".json")), &d); err != nil {
			t.Fatalf("%s.json: %v", l, err)
		}
		dicts[l] = d
	}
	en, ja := dicts["en"], dicts["ja"]
	ph := regexp.MustCompile(`\{\w+\}`)
	for k, v := range en {
		jv, ok := ja[k]
		if !ok {
			t.Errorf("ja.json lacks %s", k)
			continue
		}
		a, b := ph.FindAllString(v, -1), ph.FindAllString(jv, -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: placeholders %v in English, %v in Japanese", k, a, b)
		}
	}
	for k := range ja {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %s", k)
		}
	}
	used := regexp.MustCompile(`\bt\('([a-zA-Z_.]+)'`)
	for name, src := range scripts(t) {
		for _, m := range used.FindAllStringSubmatch(src, -1) {
			if strings.HasSuffix(m[1], ".") {
				continue // a prefix completed at run time; checked below
			}
			if _, ok := en[m[1]]; !ok {
				t.Errorf("js/%s uses message %s, which en.json lacks", name, m[1])
			}
		}
	}
	dynamic := map[string][]string{
		"status.":  {lhk.StatusRunning, lhk.StatusOK, lhk.StatusError, lhk.StatusTimeout, lhk.StatusSkipped},
		"trigger.": {lhk.TriggerHTTP, lhk.TriggerCron, lhk.TriggerWebhook, lhk.TriggerCLI, lhk.TriggerPlugin},
		"role.":    {string(lhk.RoleAdmin), string(lhk.RoleAnalyst), string(lhk.RoleViewer)},
		"ticket.":  {lhk.TicketOpen, lhk.TicketInProgress, lhk.TicketResolved, lhk.TicketClosed},
		"sev.":     {lhk.SeverityLow, lhk.SeverityMedium, lhk.SeverityHigh, lhk.SeverityCritical},
		"limit.":   {"timeout_ms", "memory_mb", "max_input_bytes", "max_output_bytes", "max_log_lines", "concurrency"},
		"tab.":     {"run", "history", "versions", "schedule", "settings", "grant", "owner"},
		"op.":      lhk.Ops,
	}
	for prefix, names := range dynamic {
		for _, n := range names {
			if _, ok := en[prefix+n]; !ok {
				t.Errorf("en.json lacks %s%s", prefix, n)
			}
		}
	}
}

// TestCapabilities keeps the grant form's list equal to lhk.Capabilities.
func TestCapabilities(t *testing.T) {
	src := readStatic(t, "js/plugin.js")
	m := regexp.MustCompile(`(?s)export const CAPABILITIES = \[(.*?)\];`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("plugin.js has no CAPABILITIES list")
	}
	var got []string
	for _, q := range regexp.MustCompile(`'([a-z.]+)'`).FindAllStringSubmatch(m[1], -1) {
		got = append(got, q[1])
	}
	if !slices.Equal(got, lhk.Capabilities) {
		t.Errorf("plugin.js CAPABILITIES = %v, want lhk.Capabilities %v", got, lhk.Capabilities)
	}
}

// TestOps keeps the filter form's operators equal to lhk.Ops.
func TestOps(t *testing.T) {
	src := readStatic(t, "js/filters.js")
	m := regexp.MustCompile(`(?s)export const OPS = \[(.*?)\];`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("filters.js has no OPS list")
	}
	var got []string
	for _, q := range regexp.MustCompile(`'([a-z]+)'`).FindAllStringSubmatch(m[1], -1) {
		got = append(got, q[1])
	}
	if !slices.Equal(got, lhk.Ops) {
		t.Errorf("filters.js OPS = %v, want lhk.Ops %v", got, lhk.Ops)
	}
}
