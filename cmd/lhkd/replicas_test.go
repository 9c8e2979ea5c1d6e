package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/httpapi"
	"github.com/lhk-soc/lhk/internal/pgdb"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// replica is one lhkd process of a test cluster on PostgreSQL.
type replica struct {
	testDaemon
	name   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
}

var (
	lhkdBinOnce sync.Once
	lhkdBinPath string
	lhkdBinErr  error
)

// lhkdBinary builds lhkd once per test process.
func lhkdBinary(t testing.TB) string {
	t.Helper()
	lhkdBinOnce.Do(func() {
		root, err := wasmtest.RepoRoot()
		if err != nil {
			lhkdBinErr = err
			return
		}
		dir, err := os.MkdirTemp("", "lhkd-bin-")
		if err != nil {
			lhkdBinErr = err
			return
		}
		lhkdBinPath = filepath.Join(dir, "lhkd")
		cmd := exec.Command("go", "build", "-o", lhkdBinPath, "./cmd/lhkd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			lhkdBinErr = fmt.Errorf("go build ./cmd/lhkd: %v\n%s", err, out)
		}
	})
	if lhkdBinErr != nil {
		t.Fatal(lhkdBinErr)
	}
	return lhkdBinPath
}

// startReplica starts `lhkd serve --db url` as its own process and waits until
// it listens. Cleanup interrupts it (if still running) and checks it drained.
func startReplica(t *testing.T, name, dbURL string, extra ...string) *replica {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--db", dbURL, "--replica", name}, extra...)
	cmd := exec.Command(lhkdBinary(t), args...)
	cmd.Env = append(os.Environ(), "LHK_ADMIN_TOKEN="+adminToken)
	r := &replica{name: name, cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = r.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "lhkd listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			cmd.Wait()
			t.Fatalf("replica %s exited before listening:\n%s", name, r.stderr.String())
		}
		r.URL, r.Admin = u, adminToken
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("replica %s did not listen within a minute:\n%s", name, r.stderr.String())
	}
	t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return // killed by the test
		}
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("replica %s shutdown: %v\n%s", name, err, r.stderr.String())
		}
		if strings.Contains(r.stderr.String(), adminToken) {
			t.Errorf("the admin token appears in replica %s's log", name)
		}
	})
	return r
}

// kill9 kills the replica without letting it clean up.
func (r *replica) kill9(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
}

// TestReplicas runs three lhkd processes on one PostgreSQL schema: what is
// uploaded through one is invocable on the others, each cron tick runs on
// exactly one replica, schedule changes reach every replica, and the runs a
// replica killed with SIGKILL leaves behind are marked failed by the others.
func TestReplicas(t *testing.T) {
	dbURL := pgdb.TestURL(t, "")
	a := startReplica(t, "replica-a", dbURL, "--replica-timeout", "3s")
	b := startReplica(t, "replica-b", dbURL, "--replica-timeout", "3s")
	c := startReplica(t, "replica-c", dbURL, "--replica-timeout", "3s")
	all := []*replica{a, b, c}
	alice := a.user(t, "alice", "analyst")

	t.Run("UploadOnOneInvokeOnAll", func(t *testing.T) {
		a.must(t, http.StatusCreated, "POST", "/v1/plugins/echo/versions", alice, wasmtest.Build(t, "plugins/testdata/echo"))
		for _, r := range all {
			if got := r.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("hi "+r.name)); string(got.Body) != "hi "+r.name {
				t.Fatalf("%s answered %q", r.name, got.Body)
			}
		}
		// b and c now hold version 1 in their caches; version 2 goes in
		// through a and must be what they run next.
		a.must(t, http.StatusCreated, "POST", "/v1/plugins/echo/versions", alice, wasmtest.Build(t, "plugins/testdata/echo"))
		for _, r := range []*replica{b, c} {
			start := time.Now()
			waitFor(t, r.name+" running version 2", func() bool {
				res := r.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("v?"))
				inv := r.must(t, http.StatusOK, "GET", "/v1/invocations/"+res.Header.Get("X-Lhk-Invocation"), alice, nil).JSON(t)
				return inv["version"] == float64(2)
			})
			t.Logf("%s ran version 2 after %v", r.name, time.Since(start).Round(time.Millisecond))
		}
		b.must(t, http.StatusOK, "PATCH", "/v1/plugins/echo", alice, []byte(`{"current_version":1}`))
		waitFor(t, "c rolled back", func() bool {
			res := c.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("v?"))
			inv := c.must(t, http.StatusOK, "GET", "/v1/invocations/"+res.Header.Get("X-Lhk-Invocation"), alice, nil).JSON(t)
			return inv["version"] == float64(1)
		})
	})

	t.Run("SystemsShared", func(t *testing.T) {
		now := time.Now().UTC()
		ev := fmt.Sprintf(`{"@timestamp":%q,"host.name":"WS-REPLICA","process.command_line":"powershell -enc AAAA"}`, now.Format(time.RFC3339))
		a.must(t, http.StatusOK, "POST", "/v1/logs?tenant=acme", a.Admin, []byte(ev+"\n"))
		search := fmt.Sprintf(`{"tenant":"acme","query":"powershell","from":%q,"to":%q}`, now.Add(-time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		got := b.must(t, http.StatusOK, "POST", "/v1/logs/search", b.Admin, []byte(search)).JSON(t)
		if evs, _ := got["events"].([]any); len(evs) != 1 {
			t.Fatalf("replica-b found %v for an event ingested through replica-a", got)
		}
		tk := b.must(t, http.StatusOK, "POST", "/v1/tickets/create", b.Admin, []byte(`{"tenant":"acme","title":"seen on every replica","severity":"low"}`)).JSON(t)
		id := fmt.Sprint(tk["id"])
		if id == "" || id == "<nil>" {
			t.Fatalf("ticket create answered %v", tk)
		}
		c.must(t, http.StatusOK, "POST", "/v1/tickets/get", c.Admin, []byte(fmt.Sprintf(`{"tenant":"acme","id":%q}`, id)))
	})

	t.Run("WebhookReplayRefusedOnAnotherReplica", func(t *testing.T) {
		secret := a.must(t, http.StatusOK, "POST", "/v1/plugins/echo/webhook", alice, nil).JSON(t)["secret"].(string)
		body := []byte(`{"alert":"once"}`)
		ts := time.Now().Unix()
		deliver := func(r *replica) int {
			req, _ := http.NewRequest("POST", r.URL+"/hooks/echo", bytes.NewReader(body))
			req.Header.Set(httpapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
			req.Header.Set(httpapi.HeaderSignature, httpapi.Sign(secret, ts, body))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if got := deliver(b); got != http.StatusOK {
			t.Fatalf("first delivery to replica-b = %d", got)
		}
		for _, r := range []*replica{a, c} {
			if got := deliver(r); got != http.StatusConflict {
				t.Fatalf("the same delivery replayed to %s = %d, want 409", r.name, got)
			}
		}
	})

	t.Run("SessionOnEveryReplica", func(t *testing.T) {
		req, _ := http.NewRequest("POST", a.URL+"/v1/session", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("sign in on replica-a: %v %v", err, res)
		}
		res.Body.Close()
		cookies := res.Cookies()
		if len(cookies) == 0 {
			t.Fatal("no session cookie")
		}
		who := func(r *replica) int {
			req, _ := http.NewRequest("GET", r.URL+"/v1/session", nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for _, r := range all {
			if got := who(r); got != http.StatusOK {
				t.Fatalf("the session opened on replica-a answers %d on %s", got, r.name)
			}
		}
	})

	t.Run("ScheduleReachesEveryReplica", func(t *testing.T) {
		put := time.Now()
		b.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@every 1s","input":"tick"}`))
		for _, r := range all {
			waitFor(t, r.name+" loading the schedule", func() bool {
				for _, l := range strings.Split(r.stderr.String(), "\n") {
					if strings.Contains(l, `schedule added`) && strings.Contains(l, `plugin=echo`) && strings.Contains(l, `"@every 1s"`) {
						return true
					}
				}
				return false
			})
			t.Logf("%s had the schedule %v after the PUT returned (upper bound)", r.name, time.Since(put).Round(time.Millisecond))
		}
	})

	t.Run("EachTickOnce", func(t *testing.T) {
		runs := func() []map[string]any {
			list := a.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo&trigger=cron&limit=1000", alice, nil).JSON(t)["invocations"].([]any)
			out := make([]map[string]any, len(list))
			for i, v := range list {
				out[i] = v.(map[string]any)
			}
			return out
		}
		waitFor(t, "eight cron runs", func() bool { return len(runs()) >= 8 })
		// One replica dies mid-schedule; the other two go on.
		c.kill9(t)
		n := len(runs())
		waitFor(t, "six more cron runs without replica-c", func() bool { return len(runs()) >= n+6 })
		b.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo/schedule", alice, nil)
		time.Sleep(1500 * time.Millisecond) // a run started before the delete may still land

		perTick := map[string][]string{}
		byReplica := map[string]int{}
		// A tick is recorded once, as a run or as a skip (a run still going
		// on a replica killed mid-run makes the next ticks skips until it is
		// reaped): count both.
		for _, r := range runs() {
			started, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["started_at"]))
			if err != nil {
				t.Fatal(err)
			}
			tick := started.Truncate(time.Second).Format(time.TimeOnly)
			perTick[tick] = append(perTick[tick], fmt.Sprint(r["replica"]))
			byReplica[fmt.Sprint(r["replica"])]++
		}
		var ticks []string
		for tick, on := range perTick {
			ticks = append(ticks, tick)
			if len(on) > 1 {
				t.Errorf("tick %s ran %d times, on %v", tick, len(on), on)
			}
		}
		sort.Strings(ticks)
		if len(ticks) < 14 {
			t.Errorf("only %d ticks ran: %v", len(ticks), ticks)
		}
		t.Logf("%d ticks, each once; runs by replica: %v", len(ticks), byReplica)
	})

	t.Run("KilledReplicaRunsMarkedFailed", func(t *testing.T) {
		d := startReplica(t, "replica-d", dbURL, "--replica-timeout", "3s")
		a.must(t, http.StatusCreated, "POST", "/v1/plugins/loop/versions", alice, wasmtest.Build(t, "plugins/testdata/loop"))
		a.must(t, http.StatusOK, "PATCH", "/v1/plugins/loop", alice, []byte(`{"timeout_ms":120000}`))
		id := d.must(t, http.StatusAccepted, "POST", "/v1/plugins/loop/invoke?async=true", alice, nil).JSON(t)["invocation"].(string)
		waitFor(t, "the run recorded as running", func() bool {
			r := a.do(t, "GET", "/v1/invocations/"+id, alice, nil)
			return r.Status == http.StatusOK && r.JSON(t)["status"] == "running"
		})
		d.kill9(t)
		var inv map[string]any
		waitFor(t, "the orphaned run marked failed", func() bool {
			inv = a.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, alice, nil).JSON(t)
			return inv["status"] != "running"
		})
		if inv["status"] != "error" || !strings.Contains(fmt.Sprint(inv["error"]), "replica-d") {
			t.Fatalf("orphaned run = %v %v, want error naming replica-d", inv["status"], inv["error"])
		}
		// The survivors still serve.
		b.must(t, http.StatusOK, "POST", "/v1/plugins/loop/invoke/ping", alice, nil)
	})
}
