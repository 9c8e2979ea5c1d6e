package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/systems/systemtest"
)

// rssData is the data directory of BenchmarkDaemonSearchRSS, filled once
// per test process (the benchmark function runs more than once) and removed
// by TestMain.
var rssData struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if rssData.dir != "" {
		os.RemoveAll(rssData.dir)
	}
	os.Exit(code)
}

// rssStore fills a data directory with n generated events through
// `lhkd ingest` and returns it.
func rssStore(b *testing.B, bin string, n int) string {
	b.Helper()
	rssData.once.Do(func() {
		if rssData.dir, rssData.err = os.MkdirTemp("", "lhkd-rss-bench-"); rssData.err != nil {
			return
		}
		events, _ := systemtest.LogsBenchFile(b, rssData.dir, n)
		ingest := exec.Command(bin, "ingest", "--data", filepath.Join(rssData.dir, "data"), events)
		ingest.Env = append(os.Environ(), "LHK_DB=")
		if out, err := ingest.CombinedOutput(); err != nil {
			rssData.err = fmt.Errorf("lhkd ingest: %v\n%s", err, out)
		}
		os.Remove(events) // the page cache should hold the store, not the file
	})
	if rssData.err != nil {
		b.Fatal(rssData.err)
	}
	return filepath.Join(rssData.dir, "data")
}

// BenchmarkDaemonSearchRSS measures the memory of a real lhkd process on a
// logs store of LHK_BENCH_EVENTS generated events (default 20,000;
// docs/performance.md records the size it used): the store is filled with
// `lhkd ingest`, then `lhkd serve` runs as its own process and two clients
// send free-text, field and top searches over HTTP (b.N in all) while the
// benchmark reads the daemon's /proc/PID/status. It reports the RSS idle
// (started, before any search), the largest RSS sampled while searching and
// the high-water mark (VmHWM) at the end, and the searches' p50/p99. Linux
// only.
func BenchmarkDaemonSearchRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("needs /proc (Linux)")
	}
	n := 20_000
	if v := os.Getenv("LHK_BENCH_EVENTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("LHK_BENCH_EVENTS: %v", err)
		}
	}
	bin := lhkdBinary(b)
	data := rssStore(b, bin, n)
	env := append(os.Environ(), "LHK_ADMIN_TOKEN="+adminToken, "LHK_DB=")

	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--metrics-listen", "off")
	cmd.Env = env
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	var url string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "lhkd listening on "); ok {
			url = u
			break
		}
	}
	if url == "" {
		b.Fatalf("lhkd did not listen:\n%s", stderr.String())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	status := func(key string) float64 {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			return 0
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, key+":"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				return kb / 1024
			}
		}
		return 0
	}
	idle := status("VmRSS")

	host := func(i int) string { return fmt.Sprintf("WS%04d.corp.example", i%500) }
	query := func(i int) (string, map[string]any) {
		from, to := systemtest.LogsBenchRange(i)
		req := map[string]any{"tenant": "acme", "from": from, "to": to}
		switch i % 4 {
		case 0:
			req["query"] = "mimikatz"
			return "/v1/logs/search", req
		case 1:
			req["query"] = "powershell -enc"
			return "/v1/logs/search", req
		case 2:
			req["fields"] = []any{map[string]any{"field": "host.name", "op": "eq", "value": host(i)}, map[string]any{"field": "process.name", "op": "eq", "value": "powershell.exe"}}
			return "/v1/logs/search_fields", req
		default:
			req["field"] = "user.name"
			req["fields"] = []any{map[string]any{"field": "event.code", "op": "eq", "value": "4625"}}
			return "/v1/logs/top", req
		}
	}

	var (
		peak     atomic.Int64 // kB
		stop     = make(chan struct{})
		sampled  = make(chan struct{})
		next     atomic.Int64
		mu       sync.Mutex
		ds       []time.Duration
		firstErr error
	)
	go func() {
		defer close(sampled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if kb := int64(status("VmRSS") * 1024); kb > peak.Load() {
				peak.Store(kb)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				path, req := query(i)
				body, _ := json.Marshal(req)
				start := time.Now()
				code, resp, err := post(url+path, adminToken, body)
				d := time.Since(start)
				mu.Lock()
				ds = append(ds, d)
				if firstErr == nil && (err != nil || code != http.StatusOK) {
					firstErr = fmt.Errorf("%s: %v %d %.200s", path, err, code, resp)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(stop)
	<-sampled
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(idle, "idle-rss-MB")
	b.ReportMetric(float64(peak.Load())/1024, "search-rss-MB")
	b.ReportMetric(status("VmHWM"), "hwm-MB")
	b.ReportMetric(float64(n), "events")
}
