package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestIsolateWebhook: with --isolate-webhook, endpoints_isolate called from a
// plugin POSTs the action to the receiver (actor, host, tenant, reason) and
// the action's status says whether it was sent; the audit entry agrees.
func TestIsolateWebhook(t *testing.T) {
	got := make(chan map[string]any, 4)
	var status atomic.Int32
	status.Store(http.StatusAccepted)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		m["content-type"] = r.Header.Get("Content-Type")
		got <- m
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(recv.Close)
	l := newLibrary(t, "--isolate-webhook", recv.URL+"/isolate?token=hook-secret")

	act := l.ok(t, "endpoints_isolate", map[string]any{"tenant": "acme", "host": "WORKSTATION5", "reason": "Empire C2"})
	if act["status"] != "sent" || act["actor"] != "alice" || act["host"] != "WORKSTATION5" || act["tenant"] != "acme" {
		t.Fatalf("action = %v, want sent by alice", act)
	}
	var m map[string]any
	select {
	case m = <-got:
	default:
		t.Fatal("the receiver got nothing, yet the action says sent")
	}
	for k, want := range map[string]any{"action": "isolate", "actor": "alice", "host": "WORKSTATION5", "tenant": "acme",
		"reason": "Empire C2", "id": act["id"], "content-type": "application/json"} {
		if m[k] != want {
			t.Errorf("webhook %s = %v, want %v (body %v)", k, m[k], want, m)
		}
	}

	status.Store(http.StatusInternalServerError)
	act = l.ok(t, "endpoints_isolate", map[string]any{"tenant": "acme", "host": "WORKSTATION6", "reason": "again"})
	if act["status"] != "failed" || !strings.Contains(act["detail"].(string), "500") {
		t.Fatalf("action after a 500 = %v, want failed saying 500", act)
	}
	<-got

	audit := string(l.must(t, http.StatusOK, "GET", "/v1/audit?actor=alice", l.Admin, nil).Body)
	for _, want := range []string{"host/acme/WORKSTATION5", `\"status\":\"sent\"`, "host/acme/WORKSTATION6", `\"status\":\"failed\"`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s: %.1000s", want, audit)
		}
	}
	if strings.Contains(audit, "hook-secret") {
		t.Error("the webhook URL's token is in the audit log")
	}
}
