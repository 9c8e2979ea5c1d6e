package systemtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// LogsBenchT0 is the start of the benchmark events, which span
// LogsBenchDays days.
var LogsBenchT0 = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// LogsBenchDays is how many days the benchmark events span.
const LogsBenchDays = 30

// LogsBenchEvent generates event i of n: Sysmon process and network events,
// Security logons and firewall flows over 500 hosts and 300 users, with
// mimikatz.exe once in 2000 events. The log stores' benchmarks share it, so
// their figures compare.
func LogsBenchEvent(r *rand.Rand, i, n int) map[string]any {
	host := fmt.Sprintf("WS%04d.corp.example", r.IntN(500))
	user := fmt.Sprintf("user%03d", r.IntN(300))
	procs := []string{"svchost.exe", "chrome.exe", "explorer.exe", "powershell.exe", "cmd.exe", "outlook.exe",
		"teams.exe", "msedge.exe", "winword.exe", "excel.exe", "rundll32.exe", "wmiprvse.exe", "conhost.exe", "mimikatz.exe"}
	weights := []int{30, 20, 10, 6, 6, 8, 6, 5, 3, 3, 1, 1, 1}
	p := procs[len(procs)-1]
	if r.IntN(2000) != 0 { // mimikatz: 1 in 2000
		w := r.IntN(100)
		for j, wt := range weights {
			if w < wt {
				p = procs[j]
				break
			}
			w -= wt
		}
		if w >= 0 && p == "mimikatz.exe" {
			p = procs[0]
		}
	}
	ts := LogsBenchT0.Add(time.Duration(float64(i) / float64(n) * float64(LogsBenchDays*24*time.Hour)))
	e := map[string]any{"@timestamp": ts.Format(time.RFC3339Nano), "Hostname": host}
	cmd := fmt.Sprintf(`C:\Windows\System32\%s`, p)
	if p == "powershell.exe" && r.IntN(4) == 0 {
		cmd += " -noP -enc " + strconv.FormatUint(r.Uint64(), 36)
	} else {
		cmd += fmt.Sprintf(" /task %d", r.IntN(1000))
	}
	switch k := r.IntN(10); {
	case k < 5:
		e["EventID"], e["Channel"] = 1, "Microsoft-Windows-Sysmon/Operational"
		e["Image"], e["CommandLine"], e["User"] = `C:\Windows\System32\`+p, cmd, `CORP\`+user
		e["ProcessId"], e["ParentProcessId"] = strconv.Itoa(r.IntN(60000)), strconv.Itoa(r.IntN(60000))
		e["ParentImage"] = `C:\Windows\explorer.exe`
	case k < 7:
		e["EventID"], e["Channel"] = 3, "Microsoft-Windows-Sysmon/Operational"
		e["Image"], e["User"], e["ProcessId"] = `C:\Windows\System32\`+p, `CORP\`+user, strconv.Itoa(r.IntN(60000))
		e["SourceIp"] = fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256))
		e["DestinationIp"] = fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), r.IntN(256))
		e["DestinationPort"] = []string{"443", "80", "53", "445", "8080"}[r.IntN(5)]
	case k < 9:
		e["EventID"], e["Channel"] = []int{4624, 4625}[r.IntN(2)], "Security"
		e["TargetUserName"], e["LogonType"] = user, []string{"2", "3", "10"}[r.IntN(3)]
		e["IpAddress"] = fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256))
	default:
		e = map[string]any{"@timestamp": ts.Format(time.RFC3339Nano),
			"host":        map[string]any{"name": host},
			"event":       map[string]any{"dataset": "firewall", "action": []string{"allow", "deny"}[r.IntN(2)]},
			"source":      map[string]any{"ip": fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), r.IntN(256)), "port": 1024 + r.IntN(60000)},
			"destination": map[string]any{"ip": fmt.Sprintf("%d.%d.%d.%d", 1+r.IntN(220), r.IntN(256), r.IntN(256), r.IntN(256)), "port": 443},
		}
	}
	return e
}

// LogsBenchFile writes n generated events (LogsBenchEvent, the same on every
// call) as NDJSON in dir: for tenant acme, and a tenth as many for globex,
// so tenant filtering is part of every measurement.
func LogsBenchFile(tb testing.TB, dir string, n int) (path string, size int64) {
	tb.Helper()
	path = filepath.Join(dir, "events.ndjson")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	enc := json.NewEncoder(w)
	for i := range n {
		e := LogsBenchEvent(r, i, n)
		e["tenant"] = "acme"
		if i%10 == 9 {
			e["tenant"] = "globex"
		}
		if err := enc.Encode(e); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return path, st.Size()
}

// LogsBenchRange is a week of the month of events, starting on a different
// day for each i so caches do not hide the work.
func LogsBenchRange(i int) (time.Time, time.Time) {
	from := LogsBenchT0.Add(time.Duration(i%23) * 24 * time.Hour)
	return from, from.Add(7 * 24 * time.Hour)
}

// LogsBenchTimed runs fn b.N times (i counts the runs) and reports the p50
// and p99 of its durations in milliseconds, as every log store's benchmarks
// report them.
func LogsBenchTimed(b *testing.B, fn func(i int)) {
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		fn(i)
		ds = append(ds, time.Since(t))
	}
	b.StopTimer()
	if len(ds) == 0 {
		return
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[min(len(ds)-1, len(ds)*99/100)].Microseconds())/1000, "p99-ms")
}
