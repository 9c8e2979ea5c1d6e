package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// uiBenchPlugins and uiBenchRuns size BenchmarkUIPluginList: the volume the
// issue asks the UI to stay quick with.
const (
	uiBenchPlugins = 1000
	uiBenchRuns    = 100_000
)

// seedUIVolume fills a daemon's registry with uiBenchPlugins plugins (every
// third scheduled) and uiBenchRuns invocations spread over 30 days, skewed
// so that a few plugins run most (plugin i gets a share ∝ 1/(i+1)), with a
// 1 KiB output and five log lines each and every 20th a 32 KiB output.
// It returns the id of an invocation deep in the history, for paging.
func seedUIVolume(tb testing.TB, d *daemon) string {
	tb.Helper()
	ctx := lhk.NewContextWithActor(context.Background(), "admin")
	words := []string{"report", "triage", "intake", "upkeep", "ioc", "hunt", "enrich", "notify"}
	names := make([]string, uiBenchPlugins)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%04d", words[i%len(words)], i)
		v := &lhk.Version{Plugin: names[i], Exports: []string{"run"}}
		if _, err := d.db.CreateVersion(ctx, v, []byte("\x00asm\x01\x00\x00\x00"+names[i]), "admin"); err != nil {
			tb.Fatal(err)
		}
		if i%3 == 0 {
			if err := d.db.SetSchedule(ctx, names[i], lhk.Schedule{Cron: "*/15 * * * *", Timezone: "Asia/Tokyo", Enabled: true}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	var weights []float64
	total := 0.0
	for i := range names {
		weights = append(weights, 1/float64(i+1))
		total += weights[i]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		x := rng.Float64() * total
		for i, w := range weights {
			if x -= w; x <= 0 {
				return names[i]
			}
		}
		return names[len(names)-1]
	}
	small := []byte(`{"summary":"` + strings.Repeat("x", 1000) + `"}`)
	big := []byte(`{"summary":"` + strings.Repeat("y", 32<<10) + `"}`)
	logs := []lhk.LogLine{{Level: "info", Message: "start"}, {Level: "info", Message: "searching"}, {Level: "debug", Message: "42 events"},
		{Level: "warn", Message: "slow backend"}, {Level: "info", Message: "done"}}
	start := time.Now().Add(-30 * 24 * time.Hour)
	deep := ""
	batch := make([]*lhk.Invocation, 0, 1000)
	for i := range uiBenchRuns {
		status, trigger := lhk.StatusOK, lhk.TriggerHTTP
		switch r := rng.IntN(100); {
		case r < 7:
			status = lhk.StatusError
		case r < 9:
			status = lhk.StatusTimeout
		case r < 10:
			status = lhk.StatusSkipped
		}
		switch r := rng.IntN(10); {
		case r < 4:
			trigger = lhk.TriggerCron
		case r < 5:
			trigger = lhk.TriggerWebhook
		}
		out := small
		if i%20 == 0 {
			out = big
		}
		inv := &lhk.Invocation{ID: fmt.Sprintf("inv-%06d", i), Plugin: pick(), Version: 1, Function: "run", Trigger: trigger,
			Caller: "admin", Status: status, StartedAt: start.Add(time.Duration(i) * 26 * time.Second),
			DurationMS: 5 + rng.ExpFloat64()*40, Output: out, Logs: logs}
		if status == lhk.StatusError {
			inv.Error = "plugin returned an error: backend unavailable"
		}
		if i == uiBenchRuns/2 {
			deep = inv.ID
		}
		batch = append(batch, inv)
		if len(batch) == cap(batch) {
			if err := d.db.PutInvocations(ctx, batch); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return deep
}

// BenchmarkUIPluginList measures the API requests behind the UI's list and
// history pages on uiBenchPlugins plugins and uiBenchRuns invocations, one
// client at a time, against GET /healthz in the same run (x-healthz is the
// ratio). Every request goes through lhkd's HTTP server with a bearer token.
// With Chromium on the machine it also times the UI itself (benchBrowser).
//
//	go test -run '^$' -bench UIPluginList -benchtime=200x ./cmd/lhkd/
func BenchmarkUIPluginList(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config{Listen: "127.0.0.1:0", Data: b.TempDir(), AdminToken: adminToken}
	d, err := open(ctx, cfg, io.Discard, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.serveUntil(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	t0 := time.Now()
	deep := seedUIVolume(b, d)
	b.Logf("seeded %d plugins and %d invocations in %v", uiBenchPlugins, uiBenchRuns, time.Since(t0).Round(time.Millisecond))
	hot := "report-0000" // the plugin that ran most

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	get := func(b *testing.B, path string) int {
		req, _ := http.NewRequest("GET", d.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return int(n)
	}
	var healthz float64 // ns per request of the baseline
	cases := []struct{ name, path string }{
		{"healthz", "/healthz"},
		{"plugins-page", "/v1/plugins?limit=50&summary=true"},
		{"plugins-page-500", "/v1/plugins?limit=50&offset=500&summary=true"},
		{"plugins-search", "/v1/plugins?limit=50&summary=true&q=triage-0"},
		{"plugins-page-plain", "/v1/plugins?limit=50"},
		{"history", "/v1/invocations?limit=50"},
		{"history-deep", "/v1/invocations?limit=50&before=" + deep},
		{"history-plugin", "/v1/invocations?limit=50&plugin=" + hot},
		{"history-plugin-status", "/v1/invocations?limit=50&plugin=" + hot + "&status=timeout"},
		{"history-trigger-status", "/v1/invocations?limit=50&trigger=webhook&status=timeout"},
		{"history-rare-plugin-status", "/v1/invocations?limit=50&plugin=ioc-0996&status=error"},
		{"invocation", "/v1/invocations/" + deep},
		{"browser", ""},
	}
	for _, c := range cases {
		if c.name == "browser" {
			benchBrowser(b, d)
			continue
		}
		b.Run(c.name, func(b *testing.B) {
			get(b, c.path) // warm
			bytes := 0
			b.ResetTimer()
			for range b.N {
				bytes = get(b, c.path)
			}
			b.StopTimer()
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.name == "healthz" {
				healthz = per
			} else if healthz > 0 {
				b.ReportMetric(per/healthz, "x-healthz")
			}
			b.ReportMetric(float64(bytes)/1024, "KiB/resp")
		})
	}
}

// pageTimer is run in the page (through DevTools, which the CSP allows): it
// does one user action, then resolves with the milliseconds until the page
// shows the result and has painted a frame. ready() says the result is shown.
const pageTimer = `(async (act, ready) => {
	const t0 = performance.now();
	act();
	await new Promise(res => {
		if (ready()) return res();
		const mo = new MutationObserver(() => { if (ready()) { mo.disconnect(); res(); } });
		mo.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
	});
	await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
	return performance.now() - t0;
})`

// benchBrowser measures the UI itself in headless Chromium, when there is
// one: paging the plugin list (50 plugins with summaries a page) and
// filtering a plugin's history, from the click to the painted result, and
// the main thread's long tasks (over 50 ms, which a user feels as a stall)
// during all of it.
func benchBrowser(b *testing.B, d *daemon) {
	if _, err := chromiumPath(); err != nil {
		b.Logf("no browser, no browser figures: %v", err)
		return
	}
	br := newBrowser(b, &testDaemon{URL: d.URL(), Admin: adminToken})
	br.signIn(adminToken)
	br.waitFor("the first page", `document.querySelectorAll('table.plugins tbody tr').length === 50`)
	eval[bool](br, `(window.__long = [], new PerformanceObserver(l => window.__long.push(...l.getEntries().map(e => e.duration))).observe({type: 'longtask'}), true)`)
	run := func(name, act, ready string) {
		b.Run("browser-"+name, func(b *testing.B) {
			total := 0.0
			for range b.N {
				total += eval[float64](br, pageTimer+`(() => { `+act+` }, () => `+ready+`)`)
			}
			b.ReportMetric(total/float64(b.N), "ms/action")
			b.ReportMetric(0, "ns/op")
		})
	}
	// Next and Previous in turn: each is a page of 50 with summaries.
	run("list-page", `const next = document.querySelector('.pager button:last-child');
		window.__from = document.querySelector('p.count').textContent;
		(next.disabled ? document.querySelector('.pager button:first-child') : (document.querySelector('p.count').textContent.includes('Plugins 51') ? document.querySelector('.pager button:first-child') : next)).click();`,
		`document.querySelector('p.count').textContent !== window.__from && document.querySelector('.results').getAttribute('aria-busy') === 'false'`)
	br.open("#/plugins/report-0000/history")
	br.waitFor("the history", `document.querySelectorAll('#history tbody tr').length === 50`)
	run("history-filter", `const s = document.getElementById('filter-status');
		window.__want = s.value === 'timeout' ? 'error' : 'timeout';
		s.value = window.__want; s.dispatchEvent(new Event('change'));`,
		`document.querySelector('#history tbody tr') && [...document.querySelectorAll('#history tbody tr')].every(r => r.dataset.status === window.__want) && document.getElementById('history').getAttribute('aria-busy') === 'false'`)
	b.Run("browser-long-tasks", func(b *testing.B) {
		long := eval[[]float64](br, `window.__long`)
		worst := 0.0
		for _, l := range long {
			worst = max(worst, l)
		}
		for range b.N {
		}
		b.ReportMetric(float64(len(long)), "long-tasks")
		b.ReportMetric(worst, "longest-ms")
		b.ReportMetric(0, "ns/op")
	})
}
