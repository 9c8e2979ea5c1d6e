package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/host"
	"github.com/lhk-soc/lhk/httpapi"
	"github.com/lhk-soc/lhk/metrics"
)

// opsDaemon is a daemon opened in-process, so a test can reach its parts
// (runtime, handler, metrics listener) while it serves and drains.
type opsDaemon struct {
	*testDaemon
	dm     *daemon
	log    *lockedBuffer
	cancel context.CancelFunc
	done   chan error
	waited bool // the test took serveUntil's error itself
}

// openDaemon opens and serves a daemon on 127.0.0.1:0 with extra flags.
// Cleanup stops it (if the test did not) and checks the shutdown.
func openDaemon(t *testing.T, extra ...string) *opsDaemon {
	t.Helper()
	t.Setenv("LHK_ADMIN_TOKEN", adminToken)
	cfg, err := parseConfig("serve", append([]string{"--listen", "127.0.0.1:0", "--data", t.TempDir()}, extra...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &opsDaemon{log: &lockedBuffer{}, cancel: cancel, done: make(chan error, 1)}
	if o.dm, err = open(ctx, cfg, io.Discard, o.log); err != nil {
		cancel()
		t.Fatal(err)
	}
	o.testDaemon = &testDaemon{URL: o.dm.URL(), Admin: adminToken}
	go func() { o.done <- o.dm.serveUntil(ctx) }()
	t.Cleanup(func() {
		if o.waited {
			return
		}
		cancel()
		if err := o.wait(t, time.Minute); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return o
}

// wait waits for serveUntil to return, at most within.
func (o *opsDaemon) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-o.done:
		o.waited = true
		return err
	case <-time.After(within):
		t.Fatalf("lhkd did not stop within %v\n%s", within, o.log.String())
		return nil
	}
}

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads url's metrics in the text format.
func scrape(t *testing.T, url string) []sample {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, res.StatusCode)
	}
	var out []sample
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		s := sample{name: line[:i], labels: map[string]string{}, value: v}
		if j := strings.IndexByte(s.name, '{'); j >= 0 {
			for _, kv := range strings.Split(strings.TrimSuffix(s.name[j+1:], "}"), ",") {
				k, val, _ := strings.Cut(kv, "=")
				s.labels[k] = strings.Trim(val, `"`)
			}
			s.name = s.name[:j]
		}
		out = append(out, s)
	}
	return out
}

// value sums the samples named name whose labels include labels; ok is
// false when there is none.
func value(samples []sample, name string, labels ...string) (sum float64, ok bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if s.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		sum += s.value
		ok = true
	}
	return sum, ok
}

// TestMetrics invokes plugins through HTTP and cron and checks that the
// counters moved with the right labels.
func TestMetrics(t *testing.T) {
	d := openDaemon(t)
	alice := d.user(t, "alice", "analyst")
	for name, dir := range map[string]string{"echo": "plugins/testdata/echo", "kvcounter": "plugins/testdata/kvcounter"} {
		if r := d.upload(t, alice, name, dir); r.Status != http.StatusCreated {
			t.Fatalf("upload %s = %d: %s", name, r.Status, r.Body)
		}
	}
	d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("one"))
	d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("two"))
	// Without the kv capability kv_get is forbidden and the run fails; with
	// it (granted by an admin) both kv calls succeed.
	d.must(t, http.StatusUnprocessableEntity, "POST", "/v1/plugins/kvcounter/invoke", alice, nil)
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/kvcounter/grant", d.Admin, []byte(`{"capabilities":["kv"],"tenants":[],"allowed_hosts":[]}`))
	d.must(t, http.StatusOK, "POST", "/v1/plugins/kvcounter/invoke", alice, nil)
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@every 1s","input":"tick"}`))

	var m []sample
	waitFor(t, "a cron run in the metrics", func() bool {
		m = scrape(t, d.URL+"/metrics")
		n, _ := value(m, "lhk_cron_lag_seconds_count")
		c, _ := value(m, "lhk_invocations_total", "plugin", "echo", "trigger", "cron", "status", "ok")
		return n >= 1 && c >= 1
	})
	d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo/schedule", alice, nil)

	for _, c := range []struct {
		name   string
		labels []string
		want   float64 // at least
	}{
		{"lhk_invocations_total", []string{"plugin", "echo", "trigger", "http", "status", "ok"}, 2},
		{"lhk_invocations_total", []string{"plugin", "kvcounter", "trigger", "http", "status", "error"}, 1},
		{"lhk_invocations_total", []string{"plugin", "kvcounter", "trigger", "http", "status", "ok"}, 1},
		{"lhk_invocation_duration_seconds_count", []string{"plugin", "echo", "trigger", "http"}, 2},
		{"lhk_hostfunc_calls_total", []string{"function", "kv_get", "outcome", "forbidden"}, 1},
		{"lhk_hostfunc_calls_total", []string{"function", "kv_get", "outcome", "ok"}, 1},
		{"lhk_hostfunc_calls_total", []string{"function", "kv_set", "outcome", "ok"}, 1},
		{"lhk_hostfunc_call_duration_seconds_count", []string{"function", "kv_set"}, 1},
		{"lhk_http_requests_total", []string{"method", "POST", "route", "/v1/plugins/:name/invoke", "status", "200"}, 3},
		{"lhk_http_requests_total", []string{"method", "POST", "route", "/v1/plugins/:name/invoke", "status", "422"}, 1},
		{"lhk_http_request_duration_seconds_count", []string{"method", "POST", "route", "/v1/plugins/:name/versions"}, 2},
		{"lhk_pool_instances", []string{"plugin", "echo", "state", "idle"}, 1},
		{"lhk_compiled_versions", []string{"plugin", "echo"}, 1},
		{"lhk_runtime_memory_estimate_bytes", nil, 1},
		{"lhk_runtime_memory_budget_bytes", nil, 1},
		{"lhk_build_info", []string{"version", version}, 1},
		{"go_goroutines", nil, 1},
	} {
		got, ok := value(m, c.name, c.labels...)
		if !ok || got < c.want {
			t.Errorf("%s%v = %v (found %v), want at least %v", c.name, c.labels, got, ok, c.want)
		}
	}
	if got, ok := value(m, "lhk_draining"); !ok || got != 0 {
		t.Errorf("lhk_draining = %v (found %v), want 0", got, ok)
	}
	// No raw paths, invocation ids or users as labels.
	for _, s := range m {
		for k, v := range s.labels {
			if strings.Contains(v, "/v1/plugins/echo") || k == "invocation" || k == "user" || v == "alice" {
				t.Errorf("label %s=%q in %s", k, v, s.name)
			}
		}
	}
}

// TestMetricsListen serves the metrics on a listener of their own.
func TestMetricsListen(t *testing.T) {
	d := openDaemon(t, "--metrics-listen", "127.0.0.1:0")
	d.must(t, http.StatusNotFound, "GET", "/metrics", "", nil)
	m := scrape(t, "http://"+d.dm.metricsLn.Addr().String()+"/metrics")
	if _, ok := value(m, "lhk_http_requests_total", "route", "/metrics", "status", "404"); !ok {
		t.Fatal("the metrics listener does not count the main listener's requests")
	}
	t.Run("Off", func(t *testing.T) {
		d := openDaemon(t, "--metrics-listen", "off")
		d.must(t, http.StatusNotFound, "GET", "/metrics", "", nil)
		if d.dm.metricsLn != nil {
			t.Fatal("metrics off, but a metrics listener is open")
		}
	})
}

// readyz asks the daemon's handler directly: during a drain the listener no
// longer accepts, but the handler tells what a probe on an open connection
// would get.
func readyz(d *opsDaemon) (int, map[string]string) {
	w := httptest.NewRecorder()
	d.dm.srv.Handler.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	var body map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return w.Code, body
}

// TestReadyzDrain checks the drain sequence: ready while serving; from the
// signal on /readyz answers 503 and new connections are refused, while an
// in-flight invocation finishes with its own answer.
func TestReadyzDrain(t *testing.T) {
	d := openDaemon(t)
	alice := d.user(t, "alice", "analyst")
	d.upload(t, alice, "loop", "plugins/testdata/loop")
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/loop", alice, []byte(`{"timeout_ms":3000}`))
	if r := d.must(t, http.StatusOK, "GET", "/readyz", "", nil); r.JSON(t)["status"] != "ready" {
		t.Fatalf("readyz = %s", r.Body)
	}

	inflight := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", d.URL+"/v1/plugins/loop/invoke", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- -1
			return
		}
		res.Body.Close()
		inflight <- res.StatusCode
	}()
	waitFor(t, "the loop to run", func() bool { return d.dm.rt.Stats().Plugins["loop"].Busy == 1 })
	start := time.Now()
	d.cancel()
	waitFor(t, "readyz to answer 503", func() bool { code, _ := readyz(d); return code == http.StatusServiceUnavailable })
	if code, body := readyz(d); body["reason"] != "draining: lhkd is shutting down" {
		t.Fatalf("readyz during drain = %d %v", code, body)
	}
	waitFor(t, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", d.dm.ln.Addr().String(), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	if got := <-inflight; got != http.StatusGatewayTimeout {
		t.Fatalf("in-flight invocation during drain = %d, want its own 504", got)
	}
	if err := d.wait(t, time.Minute); err != nil {
		t.Fatalf("drain: %v", err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("drain took %v", el)
	}
	if !strings.Contains(d.log.String(), "lhkd draining") {
		t.Fatalf("no drain line in the log:\n%s", d.log.String())
	}
}

// TestDrainTimeout checks that --drain-timeout bounds the drain: a request
// still going past it (here an upload whose body never comes) is cut off.
func TestDrainTimeout(t *testing.T) {
	d := openDaemon(t, "--drain-timeout", "1s")
	conn, err := net.Dial("tcp", d.dm.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/plugins/slow/versions HTTP/1.1\r\nHost: lhkd\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/wasm\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n", d.Admin)
	// The server says "100 Continue" when the handler starts reading the body.
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "100") {
		t.Fatalf("no 100 Continue: %q, %v", status, err)
	}
	start := time.Now()
	d.cancel()
	if err := d.wait(t, time.Minute); err == nil {
		t.Error("a drain cut short by --drain-timeout returned no error")
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("drain with --drain-timeout 1s took %v", el)
	}
	if !strings.Contains(d.log.String(), "HTTP drain incomplete") {
		t.Fatalf("no incomplete drain in the log:\n%s", d.log.String())
	}
}

// TestLogsKeepSecrets makes requests carrying tokens, a webhook secret and
// signatures, at debug level in JSON, and fails if any of them reaches the log.
func TestLogsKeepSecrets(t *testing.T) {
	d := openDaemon(t, "--log-format", "json", "--log-level", "debug")
	alice := d.user(t, "alice", "analyst")
	d.must(t, http.StatusOK, "GET", "/v1/plugins", alice, nil)
	fresh := fmt.Sprint(d.must(t, http.StatusOK, "POST", "/v1/users/alice/token", alice, nil).JSON(t)["token"])
	d.must(t, http.StatusUnauthorized, "GET", "/v1/plugins", alice, nil) // the old token
	d.must(t, http.StatusNotFound, "POST", "/v1/plugins/echo/invoke", fresh, []byte("hello"))
	d.must(t, http.StatusUnauthorized, "GET", "/v1/plugins", "lhk_wrong_token_in_header", nil)
	now := time.Now().Unix()
	body := []byte(`{"alert":"beacon"}`)
	sig := httpapi.Sign("whsec_some_secret", now, body)
	for _, s := range []string{sig, httpapi.Sign("whsec_wrong", now, body)} {
		req, _ := http.NewRequest("POST", d.URL+"/hooks/echo", strings.NewReader(string(body)))
		req.Header.Set(httpapi.HeaderTimestamp, strconv.FormatInt(now, 10))
		req.Header.Set(httpapi.HeaderSignature, s)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	d.cancel()
	if err := d.wait(t, time.Minute); err != nil {
		t.Fatal(err)
	}
	log := d.log.String()
	if !strings.Contains(log, `"route":"/hooks/:name"`) || !strings.Contains(log, `"route":"/v1/plugins/:name/invoke"`) {
		t.Fatalf("the access log lacks the requests:\n%s", log)
	}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("--log-format json wrote a line that is not JSON: %q", line)
		}
	}
	for what, s := range map[string]string{
		"the admin token": adminToken, "alice's old token": alice, "alice's new token": fresh,
		"a wrong token":         "lhk_wrong_token_in_header",
		"the webhook signature": strings.TrimPrefix(sig, "sha256="), "Authorization": "Bearer",
	} {
		if strings.Contains(log, s) {
			t.Errorf("%s appears in the log", what)
		}
	}
}

func TestOpsFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"ErrLogFormat":    {"--log-format", "xml"},
		"ErrLogLevel":     {"--log-level", "loud"},
		"ErrDrainTimeout": {"--drain-timeout", "0s"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseConfig("serve", args, io.Discard); err == nil {
				t.Fatalf("%v accepted", args)
			}
		})
	}
	t.Run("Env", func(t *testing.T) {
		t.Setenv("LHK_DRAIN_TIMEOUT", "45s")
		t.Setenv("LHK_LOG_FORMAT", "json")
		t.Setenv("LHK_LOG_LEVEL", "warn")
		t.Setenv("LHK_METRICS_LISTEN", "127.0.0.1:9090")
		c, err := parseConfig("serve", nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.DrainTimeout != 45*time.Second || c.LogFormat != "json" || c.LogLevel != "warn" || c.MetricsListen != "127.0.0.1:9090" {
			t.Fatalf("config from env = %+v", c)
		}
		t.Setenv("LHK_DRAIN_TIMEOUT", "soon")
		if _, err := parseConfig("serve", nil, io.Discard); err == nil {
			t.Fatal("LHK_DRAIN_TIMEOUT=soon accepted")
		}
	})
}

// pingRegistry is a registry whose Ping answers err.
type pingRegistry struct {
	registryStore
	err error
}

func (p pingRegistry) Ping(context.Context) error { return p.err }

// TestReady checks each reason /readyz can give, and that the registry's
// error stays in the log.
func TestReady(t *testing.T) {
	rt, err := host.New(context.Background(), host.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var logBuf lockedBuffer
	d := &daemon{log: slog.New(slog.NewTextHandler(&logBuf, nil)), rt: rt, metrics: metrics.New("test"), db: pingRegistry{}}
	ctx := context.Background()
	if err := d.ready(ctx); err != nil {
		t.Fatalf("ready: %v", err)
	}
	d.db = pingRegistry{err: errors.New("dial tcp 10.9.8.7:5432: connection refused")}
	if err := d.ready(ctx); lhk.ErrorMessage(err) != "registry unavailable" {
		t.Fatalf("registry down: %v", err)
	}
	if !strings.Contains(logBuf.String(), "10.9.8.7") {
		t.Fatalf("the registry's error is not in the log:\n%s", logBuf.String())
	}
	d.db = pingRegistry{}
	d.startDraining()
	if err := d.ready(ctx); !strings.HasPrefix(lhk.ErrorMessage(err), "draining") {
		t.Fatalf("draining: %v", err)
	}
	d.draining.Store(false)
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.ready(ctx); lhk.ErrorMessage(err) != "plugin runtime closed" {
		t.Fatalf("runtime closed: %v", err)
	}
}
