package endpoints_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/systems/endpoints"
	"github.com/lhk-soc/lhk/systems/logsqlite"
	"github.com/lhk-soc/lhk/systems/systemtest"
)

// auditLog is an in-memory lhk.AuditStore.
type auditLog struct {
	mu      sync.Mutex
	entries []lhk.AuditEntry
	fail    error
}

func (a *auditLog) Audit(_ context.Context, e lhk.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.entries = append(a.entries, e)
	return nil
}

func (a *auditLog) AuditEntries(context.Context, lhk.AuditFilter) ([]*lhk.AuditEntry, error) {
	return nil, nil
}

// openLogs returns an empty log store.
func openLogs(tb testing.TB) *logsqlite.Store {
	tb.Helper()
	s, err := logsqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "logs.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	systemtest.RunEndpoints(t, func(tb testing.TB) (lhk.LogService, lhk.EndpointService) {
		logs := openLogs(tb)
		return logs, endpoints.New(logs, &auditLog{}, "", nil)
	})
}

func TestDataset(t *testing.T) {
	logs := openLogs(t)
	systemtest.RunEndpointsDataset(t, logs, endpoints.New(logs, &auditLog{}, "", nil))
}

func TestIsolate(t *testing.T) {
	type got struct {
		body map[string]any
		ct   string
	}
	for _, tc := range []struct {
		name   string
		status int
		url    string // overrides the test server
		want   string
		detail string
	}{
		{"Sent", http.StatusAccepted, "", "sent", "202"},
		{"Failed", http.StatusInternalServerError, "", "failed", "500"},
		{"Unreachable", 0, "http://127.0.0.1:1/hook?token=secret", "failed", "unreachable"},
		{"BadURL", 0, "::not a url?token=secret", "failed", "invalid"},
		{"Recorded", 0, "-", "recorded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := make(chan got, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var b map[string]any
				data, _ := io.ReadAll(r.Body)
				json.Unmarshal(data, &b)
				calls <- got{b, r.Header.Get("Content-Type")}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			url := srv.URL + "/hook?token=secret"
			switch tc.url {
			case "":
			case "-":
				url = ""
			default:
				url = tc.url
			}
			audit := &auditLog{}
			s := endpoints.New(openLogs(t), audit, url, srv.Client())
			ctx := lhk.NewContextWithActor(context.Background(), "alice")
			a, err := s.Isolate(ctx, "acme", "WS01", "beacon to 10.10.10.5")
			if err != nil {
				t.Fatal(err)
			}
			if a.Status != tc.want || !strings.Contains(a.Detail, tc.detail) || strings.Contains(a.Detail, "secret") {
				t.Fatalf("status %q detail %q, want %q with %q", a.Status, a.Detail, tc.want, tc.detail)
			}
			if tc.status != 0 {
				c := <-calls
				if c.ct != "application/json" {
					t.Errorf("content type %q", c.ct)
				}
				for k, want := range map[string]string{"action": "isolate", "tenant": "acme", "host": "WS01",
					"reason": "beacon to 10.10.10.5", "actor": "alice", "id": a.ID} {
					if c.body[k] != want {
						t.Errorf("webhook %s = %v, want %q", k, c.body[k], want)
					}
				}
				if at, _ := c.body["at"].(string); at == "" {
					t.Error("webhook body lacks at")
				}
			}
			if len(audit.entries) != 1 {
				t.Fatalf("%d audit entries, want 1", len(audit.entries))
			}
			e := audit.entries[0]
			if e.Action != "endpoint.isolate" || e.Target != "host/acme/WS01" || e.Actor != "alice" ||
				strings.Contains(e.Detail, "secret") || !strings.Contains(e.Detail, a.ID) || !strings.Contains(e.Detail, tc.want) {
				t.Fatalf("audit entry %+v", e)
			}
		})
	}
}

func TestIsolateSlowWebhook(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := endpoints.New(openLogs(t), &auditLog{}, srv.URL, srv.Client())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	a, err := s.Isolate(ctx, "acme", "WS01", "x")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != "failed" {
		t.Fatalf("status %q detail %q", a.Status, a.Detail)
	}
}

func TestIsolateAuditFails(t *testing.T) {
	s := endpoints.New(openLogs(t), &auditLog{fail: lhk.Errorf(lhk.EUNAVAILABLE, "down")}, "", nil)
	_, err := s.Isolate(context.Background(), "acme", "WS01", "x")
	if lhk.ErrorCode(err) != lhk.EUNAVAILABLE {
		t.Fatalf("error %v, want the audit store's", err)
	}
}
