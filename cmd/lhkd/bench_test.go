package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// benchDaemon starts a real daemon for a benchmark with one plugin uploaded.
func benchDaemon(b *testing.B, plugin, dir string) (*daemon, string) {
	return benchDaemonIdle(b, plugin, dir, 0)
}

func benchDaemonIdle(b *testing.B, plugin, dir string, idle time.Duration) (*daemon, string) {
	return benchDaemonDB(b, plugin, dir, idle, "")
}

// benchDaemonDB is benchDaemonIdle with the registry and systems at db (a
// postgres:// URL; empty: SQLite in a temporary directory).
func benchDaemonDB(b *testing.B, plugin, dir string, idle time.Duration, db string) (*daemon, string) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config{Listen: "127.0.0.1:0", Data: b.TempDir(), AdminToken: adminToken, IdleTimeout: idle, DB: db}
	d, err := open(ctx, cfg, io.Discard, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.serveUntil(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	req, _ := http.NewRequest("POST", d.URL()+"/v1/plugins/"+plugin+"/versions", bytes.NewReader(wasmtest.Build(b, dir)))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusCreated {
		b.Fatalf("upload: %v %v", err, res)
	}
	res.Body.Close()
	return d, d.URL() + "/v1/plugins/" + plugin + "/invoke"
}

// loadHTTP posts body to url from `workers` keep-alive clients for b.N requests
// in all, and reports requests per second and p50/p99 latency.
func loadHTTP(b *testing.B, url string, body []byte, workers int) {
	b.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DialContext: (&net.Dialer{}).DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	lat := make([][]time.Duration, workers)
	var next sync.WaitGroup
	per := b.N / workers
	if per == 0 {
		per = 1
	}
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		next.Add(1)
		go func() {
			defer next.Done()
			for range per {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || !bytes.Equal(out, body) {
					b.Errorf("status %d, output %q", res.StatusCode, out)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	next.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkHTTPInvoke compares invoking a trivial plugin (echo: output = input)
// through lhkd with a native echo handler doing the same work in the same run.
func BenchmarkHTTPInvoke(b *testing.B) {
	body := []byte(`{"alert":"beacon","host":"WS01"}`)
	workers := 4 * runtime.GOMAXPROCS(0)
	b.Run("native-echo", func(b *testing.B) {
		e := echo.New()
		e.POST("/echo", func(c echo.Context) error {
			if !strings.HasPrefix(c.Request().Header.Get("Authorization"), "Bearer ") {
				return c.NoContent(http.StatusUnauthorized)
			}
			in, err := io.ReadAll(c.Request().Body)
			if err != nil {
				return err
			}
			return c.Blob(http.StatusOK, "application/json", in)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: e}
		go srv.Serve(ln)
		defer srv.Close()
		loadHTTP(b, "http://"+ln.Addr().String()+"/echo", body, workers)
	})
	b.Run("lhkd-echo-plugin", func(b *testing.B) {
		_, url := benchDaemon(b, "echo", "plugins/testdata/echo")
		loadHTTP(b, url, body, workers)
	})
	// The registry on PostgreSQL (LHK_TEST_POSTGRES): each invocation still
	// reads plugin metadata from a cache and writes its record in batches.
	b.Run("lhkd-echo-plugin-postgres", func(b *testing.B) {
		_, url := benchDaemonDB(b, "echo", "plugins/testdata/echo", 0, pgdb.TestURL(b, ""))
		loadHTTP(b, url, body, workers)
	})
}

// BenchmarkMemory reports the daemon's resident memory idle, and with plugins
// registered and warm (each called once, so one pooled instance each).
func BenchmarkMemory(b *testing.B) {
	counts := []int{0, 10, 100}
	if s := os.Getenv("LHK_BENCH_PLUGINS"); s != "" {
		n, _ := strconv.Atoi(s)
		counts = []int{n}
	}
	for _, n := range counts {
		b.Run("plugins="+strconv.Itoa(n), func(b *testing.B) {
			const idle = 20 * time.Second
			d, _ := benchDaemonIdle(b, "seed", "plugins/testdata/echo", idle)
			wasm := wasmtest.Build(b, "plugins/testdata/echo")
			post := func(path string, body []byte) {
				req, _ := http.NewRequest("POST", d.URL()+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+adminToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode >= 300 {
					b.Fatalf("POST %s: %v %v", path, err, res)
				}
				res.Body.Close()
			}
			for i := range n {
				// Each plugin gets its own module bytes (a custom section makes the
				// sha differ), as distinct plugins would.
				post("/v1/plugins/p"+strconv.Itoa(i)+"/versions", append(slices.Clone(wasm), customSection("lhk-bench", strconv.Itoa(i))...))
			}
			rss, _ := settledMemory()
			b.ReportMetric(rss, "RSS-uploaded-MiB")
			for i := range n {
				post("/v1/plugins/p"+strconv.Itoa(i)+"/invoke", []byte("x"))
			}
			rss, heap := settledMemory()
			b.ReportMetric(rss, "RSS-MiB")
			b.ReportMetric(heap, "heap-MiB")
			// Idle instances are released after the idle time-out; compiled code stays.
			time.Sleep(2 * idle)
			rss, _ = settledMemory()
			b.ReportMetric(rss, "RSS-trimmed-MiB")
			for range b.N {
			}
		})
	}
}

// settledMemory collects garbage (twice, so finalizers that unmap compiled code
// run) and returns the RSS and the Go heap in use, in MiB.
func settledMemory() (rss, heap float64) {
	debug.FreeOSMemory()
	time.Sleep(200 * time.Millisecond)
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(rssBytes()) / (1 << 20), float64(ms.HeapInuse) / (1 << 20)
}

// customSection encodes a wasm custom section named name holding data.
func customSection(name, data string) []byte {
	payload := append(uleb(len(name)), name...)
	payload = append(payload, data...)
	return append(append([]byte{0}, uleb(len(payload))...), payload...)
}

func uleb(n int) []byte {
	var out []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}

// rssBytes reads the process's resident set size from /proc (Linux), or 0.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
