package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// noUsers knows no token.
type noUsers struct{ lhk.UserStore }

func (noUsers) UserByTokenHash(context.Context, string) (*lhk.User, error) {
	return nil, lhk.Errorf(lhk.ENOTFOUND, "no such token")
}

func serve(s *Server, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func TestReadyz(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		w := serve(New(Config{}), "GET", "/readyz", nil)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"ready"`) {
			t.Fatalf("readyz = %d %s", w.Code, w.Body)
		}
	})
	t.Run("NotReady", func(t *testing.T) {
		s := New(Config{Ready: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the readiness check has no deadline")
			}
			return lhk.Errorf(lhk.EUNAVAILABLE, "draining: lhkd is shutting down")
		}})
		w := serve(s, "GET", "/readyz", nil)
		var body map[string]string
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != http.StatusServiceUnavailable || body["status"] != "not ready" || body["reason"] != "draining: lhkd is shutting down" {
			t.Fatalf("readyz = %d %v", w.Code, body)
		}
	})
	t.Run("InternalDetailsHidden", func(t *testing.T) {
		s := New(Config{Ready: func(context.Context) error { return errFake("dial tcp 10.1.2.3:5432: password authentication failed") }})
		w := serve(s, "GET", "/readyz", nil)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "10.1.2.3") {
			t.Fatalf("readyz = %d %s", w.Code, w.Body)
		}
	})
}

type errFake string

func (e errFake) Error() string { return string(e) }

func TestMetricsRoute(t *testing.T) {
	if w := serve(New(Config{}), "GET", "/metrics", nil); w.Code != http.StatusNotFound {
		t.Fatalf("metrics without a handler = %d", w.Code)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("lhk_up 1\n")) })
	if w := serve(New(Config{Metrics: h}), "GET", "/metrics", nil); w.Code != http.StatusOK || w.Body.String() != "lhk_up 1\n" {
		t.Fatalf("metrics = %d %s", w.Code, w.Body)
	}
}

func TestAccessLog(t *testing.T) {
	var (
		logBuf bytes.Buffer
		mu     sync.Mutex
		seen   []string
	)
	s := New(Config{
		Users:  noUsers{},
		Logger: slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelInfo})),
		ObserveRequest: func(method, route string, status int, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, method+" "+route+" "+http.StatusText(status))
		},
	})
	const token = "lhk_secret_token_do_not_log"
	w := serve(s, "GET", "/v1/plugins/alpha?secret=querysecret", http.Header{"Authorization": {"Bearer " + token}, HeaderRequestID: {"req-42"}})
	if w.Code != http.StatusUnauthorized || w.Header().Get(HeaderRequestID) != "req-42" {
		t.Fatalf("GET with an unknown token = %d, request id %q", w.Code, w.Header().Get(HeaderRequestID))
	}
	w = serve(s, "GET", "/no/such/route/x1y2", http.Header{HeaderRequestID: {"bad id\nwith newline"}})
	if w.Code != http.StatusNotFound {
		t.Fatalf("unknown route = %d", w.Code)
	}
	if id := w.Header().Get(HeaderRequestID); id == "" || strings.Contains(id, " ") {
		t.Fatalf("a bad request id was not replaced: %q", id)
	}
	serve(s, "FROB", "/healthz", nil)
	serve(s, "GET", "/healthz", nil) // debug level: not in an info log

	log := logBuf.String()
	for _, secret := range []string{token, "querysecret", "bad id"} {
		if strings.Contains(log, secret) {
			t.Errorf("the access log contains %q:\n%s", secret, log)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "http request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3 (the GET /healthz is debug):\n%s", len(lines), log)
	}
	first := lines[0]
	if first["route"] != "/v1/plugins/:name" || first["path"] != "/v1/plugins/alpha" || first["status"] != float64(401) ||
		first["request_id"] != "req-42" || first["method"] != "GET" || first["level"] != "INFO" {
		t.Fatalf("access log line = %v", first)
	}
	if _, ok := first["duration_ms"].(float64); !ok {
		t.Fatalf("no duration_ms in %v", first)
	}
	if lines[1]["route"] != "unmatched" {
		t.Fatalf("unknown route logged as %v", lines[1]["route"])
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"GET /v1/plugins/:name Unauthorized", "GET unmatched Not Found", "FROB /healthz Method Not Allowed", "GET /healthz OK"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("observed %q, want %q", seen, want)
	}
}
