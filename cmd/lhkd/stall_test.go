package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSlowQueriesDoNotStall: one plugin keeps the log store's readers busy
// with expensive queries (more at once than there are reader connections),
// and another plugin's kv and tickets calls keep answering meanwhile. Each
// fast call must start and end while slow ones are in flight; no duration
// is asserted.
func TestSlowQueriesDoNotStall(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 100,000 events")
	}
	l := newLibrary(t)
	// Events with a distinct message each make logs_top by message group
	// every event of the range: the worst top within the query budget.
	for chunk := range 10 {
		var b bytes.Buffer
		for i := range 10_000 {
			n := chunk*10_000 + i
			fmt.Fprintf(&b, `{"@timestamp":"2020-06-%02dT%02d:%02d:%02dZ","host.name":"ws-%d","message":"powershell download cradle %d","user.name":"u%d"}`+"\n",
				1+n%28, n%24, n%60, (n/60)%60, n%500, n, n%1000)
		}
		l.must(t, http.StatusOK, "POST", "/v1/logs?tenant=acme", l.Admin, b.Bytes())
	}
	l.must(t, http.StatusOK, "PUT", "/v1/plugins/probe/grant", l.alice, []byte(`{"capabilities":["logs.read"],"tenants":["acme"]}`))
	if r := l.upload(t, l.alice, "fast", "plugins/testdata/probe"); r.Status != http.StatusCreated {
		t.Fatalf("upload fast = %d %s", r.Status, r.Body)
	}
	l.must(t, http.StatusOK, "PUT", "/v1/plugins/fast/grant", l.alice, []byte(`{"capabilities":["kv","tickets.write","tickets.read"],"tenants":["acme"]}`))

	slow, _ := json.Marshal(map[string]any{"fn": "logs_top", "request": map[string]any{
		"tenant": "acme", "from": "2020-01-01T00:00:00Z", "to": "2020-12-31T00:00:00Z",
		"field": "message", "query": "powershell cradle", "limit": 1000,
	}})
	const slowers = 8 // twice the log store's reader connections on a small machine
	var (
		inflight, slowDone atomic.Int64
		stop               = make(chan struct{})
		started            = make(chan struct{}, slowers)
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		slowErrs           []string
	)
	for range slowers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for {
				select {
				case <-stop:
					return
				default:
				}
				inflight.Add(1)
				if first {
					started <- struct{}{}
					first = false
				}
				status, body, err := post(l.URL+"/v1/plugins/probe/invoke", l.alice, slow)
				inflight.Add(-1)
				var out struct {
					Error *struct{ Code, Message string }
				}
				json.Unmarshal(body, &out)
				// A slow query may be cut by its budget (timeout); any
				// other answer is a failure.
				if err != nil || status != http.StatusOK || (out.Error != nil && out.Error.Code != "timeout") {
					mu.Lock()
					slowErrs = append(slowErrs, fmt.Sprintf("%v %d %.200s", err, status, body))
					mu.Unlock()
				}
				slowDone.Add(1)
			}
		}()
	}
	for range slowers {
		<-started
	}
	fast := func(fn string, req map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"fn": fn, "request": req})
		before := inflight.Load()
		out := l.must(t, http.StatusOK, "POST", "/v1/plugins/fast/invoke", l.alice, body).JSON(t)
		after := inflight.Load()
		if out["error"] != nil {
			t.Errorf("fast %s: %v", fn, out["error"])
		}
		if before == 0 || after == 0 {
			t.Errorf("fast %s ran with no slow query in flight (before %d, after %d): the test proves nothing", fn, before, after)
		}
	}
	const fastCalls = 20
	for i := range fastCalls {
		fast("kv_set", map[string]any{"key": fmt.Sprint("k", i), "value": "v"})
		fast("tickets_create", map[string]any{"tenant": "acme", "title": fmt.Sprint("while hunting ", i)})
		fast("tickets_search", map[string]any{"tenant": "acme", "limit": 1})
	}
	close(stop)
	wg.Wait()
	t.Logf("%d fast calls answered while %d slow log queries ran (%d at once)", 3*fastCalls, slowDone.Load(), slowers)
	for _, e := range slowErrs {
		t.Errorf("slow query: %s", e)
	}
	// The log store answers again once the hunt stops.
	l.must(t, http.StatusOK, "POST", "/v1/logs/count", l.Admin, []byte(`{"tenant":"acme","from":"2020-01-01T00:00:00Z","to":"2020-12-31T00:00:00Z"}`))
}

// post is do for goroutines other than the test's: it returns the error
// instead of failing the test.
func post(url, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}
