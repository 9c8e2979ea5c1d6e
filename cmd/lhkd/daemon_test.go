package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// testDaemon is a real lhkd started through run() on 127.0.0.1:0.
type testDaemon struct {
	URL   string
	Admin string // admin token
	stop  func()
	// stderr is lhkd's log (startDaemon only).
	stderr *lockedBuffer
}

const adminToken = "lhk_test_admin_token"

// startDaemon runs `lhkd serve --listen 127.0.0.1:0 --data dir` and waits until
// it listens. Cleanup stops it and checks it shut down cleanly.
func startDaemon(t *testing.T, dir string, extra ...string) *testDaemon {
	t.Helper()
	t.Setenv("LHK_ADMIN_TOKEN", adminToken)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dir}, extra...), pw, &stderr)
		pw.Close()
	}()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "lhkd listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	var url string
	select {
	case u, ok := <-urls:
		if !ok {
			cancel()
			t.Fatalf("lhkd exited before listening: %v\n%s", <-done, stderr.String())
		}
		url = u
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("lhkd did not listen within a minute\n%s", stderr.String())
	}
	var once sync.Once
	d := &testDaemon{URL: url, Admin: adminToken, stderr: &stderr}
	d.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("lhkd shutdown: %v\n%s", err, stderr.String())
			}
			if strings.Contains(stderr.String(), adminToken) {
				t.Errorf("the admin token appears in lhkd's log")
			}
		})
	}
	t.Cleanup(d.stop)
	return d
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// response is an HTTP answer read whole.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map for quick assertions.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// ErrorMessage returns error.message of a JSON error body.
func (r response) ErrorMessage(t *testing.T) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error object in %s", r.Body)
	}
	return fmt.Sprint(e["message"])
}

func (d *testDaemon) do(t testing.TB, method, path, token string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, d.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if strings.HasSuffix(path, "/versions") {
		req.Header.Set("Content-Type", "application/wasm")
	} else if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// must is do that fails the test unless the status is want.
func (d *testDaemon) must(t testing.TB, want int, method, path, token string, body []byte) response {
	t.Helper()
	r := d.do(t, method, path, token, body)
	if r.Status != want {
		t.Fatalf("%s %s = %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// user creates a user with a role and returns its token.
func (d *testDaemon) user(t *testing.T, name, role string) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"role":%q}`, name, role)
	r := d.must(t, http.StatusCreated, "POST", "/v1/users", d.Admin, []byte(body))
	return fmt.Sprint(r.JSON(t)["token"])
}

// upload uploads a fixture plugin built from source and returns the response.
func (d *testDaemon) upload(t *testing.T, token, name, dir string) response {
	t.Helper()
	return d.do(t, "POST", "/v1/plugins/"+name+"/versions", token, wasmtest.Build(t, dir))
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
