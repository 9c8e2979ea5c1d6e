package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/lhk-soc/lhk"
)

func TestObserve(t *testing.T) {
	m := New("v1.2.3")
	m.ObserveInvocation(&lhk.Invocation{Plugin: "report", Trigger: lhk.TriggerCron, Status: lhk.StatusOK, DurationMS: 1500})
	m.ObserveInvocation(&lhk.Invocation{Plugin: "report", Trigger: lhk.TriggerCron, Status: lhk.StatusSkipped})
	m.ObserveHostCall("logs_search", "forbidden", time.Millisecond)
	m.ObserveCronTick("report", time.Time{}, time.Now()) // unknown schedule time: not observed
	now := time.Now()
	m.ObserveCronTick("report", now.Add(-2*time.Second), now)
	m.ObserveRequest("GET", "/v1/plugins/:name", 200, time.Millisecond)
	m.ObserveRequest("FROB", "unmatched", 405, time.Millisecond)
	m.SetDraining(true)

	for _, c := range []struct {
		got  float64
		want float64
		what string
	}{
		{testutil.ToFloat64(m.invocations.WithLabelValues("report", "cron", "ok")), 1, "ok runs"},
		{testutil.ToFloat64(m.invocations.WithLabelValues("report", "cron", "skipped")), 1, "skipped runs"},
		{testutil.ToFloat64(m.hostCalls.WithLabelValues("logs_search", "forbidden")), 1, "forbidden host calls"},
		{testutil.ToFloat64(m.requests.WithLabelValues("OTHER", "unmatched", "405")), 1, "odd methods as OTHER"},
		{testutil.ToFloat64(m.draining), 1, "draining"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	// Only the run that ran has a duration; only the tick with a time has a lag.
	if n := testutil.CollectAndCount(m.invocationDuration); n != 1 {
		t.Errorf("%d duration series, want 1", n)
	}
	body := scrape(t, m)
	for _, want := range []string{
		`lhk_invocation_duration_seconds_sum{plugin="report",trigger="cron"} 1.5`,
		`lhk_cron_lag_seconds_count 1`,
		`lhk_cron_lag_seconds_sum 2`,
		`lhk_build_info{goversion="go`,
		`version="v1.2.3"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestCollectRuntime(t *testing.T) {
	m := New("dev")
	plugins := map[string]PoolStats{"echo": {Versions: 2, Idle: 1, Busy: 3}}
	m.CollectRuntime(func() RuntimeStats {
		return RuntimeStats{MemoryBudget: 640 << 20, MemoryEstimate: 12345, Plugins: plugins}
	})
	body := scrape(t, m)
	for _, want := range []string{
		`lhk_pool_instances{plugin="echo",state="idle"} 1`,
		`lhk_pool_instances{plugin="echo",state="busy"} 3`,
		`lhk_compiled_versions{plugin="echo"} 2`,
		`lhk_runtime_memory_estimate_bytes 12345`,
		`lhk_runtime_memory_budget_bytes 6.7108864e+08`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	delete(plugins, "echo") // evicted or deleted: its series vanish
	if body := scrape(t, m); strings.Contains(body, `plugin="echo"`) {
		t.Error("a plugin gone from the runtime still has series")
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
