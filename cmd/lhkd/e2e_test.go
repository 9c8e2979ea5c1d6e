package main

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/httpapi"
)

func TestUploadAndOwnership(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	bob := d.user(t, "bob", "analyst")
	victor := d.user(t, "victor", "viewer")

	t.Run("OK", func(t *testing.T) {
		r := d.upload(t, alice, "echo", "plugins/testdata/echo")
		if r.Status != http.StatusCreated {
			t.Fatalf("upload = %d: %s", r.Status, r.Body)
		}
		m := r.JSON(t)
		if m["version"] != 1.0 || m["owner"] != "alice" || m["plugin"] != "echo" || len(fmt.Sprint(m["sha256"])) != 64 {
			t.Fatalf("upload answer = %v", m)
		}
		if _, ok := m["capabilities_required"].([]any); !ok {
			t.Fatalf("capabilities_required missing: %v", m)
		}
		r = d.upload(t, alice, "echo", "plugins/testdata/echo")
		if r.Status != http.StatusCreated || r.JSON(t)["version"] != 2.0 {
			t.Fatalf("second upload = %d: %s", r.Status, r.Body)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		if r := d.upload(t, bob, "echo", "plugins/testdata/echo"); r.Status != http.StatusForbidden {
			t.Fatalf("non-owner upload = %d: %s", r.Status, r.Body)
		} else if !strings.Contains(r.ErrorMessage(t), "alice") {
			t.Fatalf("message should name the owner: %s", r.Body)
		}
		if r := d.upload(t, victor, "other", "plugins/testdata/echo"); r.Status != http.StatusForbidden {
			t.Fatalf("viewer upload = %d: %s", r.Status, r.Body)
		}
	})
	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, tok := range []string{"", "lhk_wrong"} {
			if r := d.do(t, "POST", "/v1/plugins/x/versions", tok, []byte("\x00asm")); r.Status != http.StatusUnauthorized {
				t.Fatalf("token %q: upload = %d: %s", tok, r.Status, r.Body)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		cases := []struct {
			name, body, want string
		}{
			{"empty", "", "empty body"},
			{"not wasm", "MZ\x90\x00 this is not wasm", "webassembly"},
			{"truncated wasm", "\x00asm\x01\x00\x00\x00\x01\x05", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := d.must(t, http.StatusBadRequest, "POST", "/v1/plugins/bad/versions", alice, []byte(c.body))
				if msg := r.ErrorMessage(t); msg == "" || !strings.Contains(strings.ToLower(msg), c.want) {
					t.Fatalf("message %q should mention %q", msg, c.want)
				}
			})
		}
		d.must(t, http.StatusNotFound, "GET", "/v1/plugins/bad", alice, nil)
		d.must(t, http.StatusBadRequest, "POST", "/v1/plugins/Bad_Name/versions", alice, []byte("\x00asm"))
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := bytes.Repeat([]byte{0}, 33<<20)
		d.must(t, http.StatusRequestEntityTooLarge, "POST", "/v1/plugins/big/versions", alice, big)
	})
}

func TestInvoke(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	bob := d.user(t, "bob", "analyst")
	victor := d.user(t, "victor", "viewer")
	if r := d.upload(t, alice, "echo", "plugins/testdata/echo"); r.Status != http.StatusCreated {
		t.Fatalf("upload = %d: %s", r.Status, r.Body)
	}

	t.Run("OK", func(t *testing.T) {
		r := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", bob, []byte("hello lhk"))
		if string(r.Body) != "hello lhk" {
			t.Fatalf("output = %q", r.Body)
		}
		id := r.Header.Get(httpapi.HeaderInvocation)
		if id == "" {
			t.Fatal("no invocation header")
		}
		inv := d.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, victor, nil).JSON(t)
		if inv["status"] != "ok" || inv["caller"] != "bob" || inv["trigger"] != "http" || inv["output"] != "hello lhk" || inv["function"] != "run" {
			t.Fatalf("invocation = %v", inv)
		}
	})
	t.Run("NamedExport", func(t *testing.T) {
		r := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke/upper", alice, []byte("quiet"))
		if string(r.Body) != "QUIET" {
			t.Fatalf("output = %q", r.Body)
		}
	})
	t.Run("Async", func(t *testing.T) {
		r := d.must(t, http.StatusAccepted, "POST", "/v1/plugins/echo/invoke?async=true", alice, []byte("later"))
		id := fmt.Sprint(r.JSON(t)["invocation"])
		waitFor(t, "async invocation to finish", func() bool {
			inv := d.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, alice, nil).JSON(t)
			return inv["status"] == "ok" && inv["output"] == "later"
		})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		d.must(t, http.StatusNotFound, "POST", "/v1/plugins/nope/invoke", alice, nil)
		r := d.do(t, "POST", "/v1/plugins/echo/invoke/nosuchexport", alice, nil)
		if r.Status < 400 || r.Status > 499 || !strings.Contains(r.ErrorMessage(t), "nosuchexport") {
			t.Fatalf("unknown export = %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		d.must(t, http.StatusForbidden, "POST", "/v1/plugins/echo/invoke", victor, []byte("x"))
	})
}

func TestHostilePlugins(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	for name, dir := range map[string]string{"echo": "plugins/testdata/echo", "loop": "plugins/testdata/loop", "trap": "plugins/testdata/trap", "membomb": "plugins/testdata/membomb"} {
		if r := d.upload(t, alice, name, dir); r.Status != http.StatusCreated {
			t.Fatalf("upload %s = %d: %s", name, r.Status, r.Body)
		}
	}
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/loop", alice, []byte(`{"timeout_ms":1000}`))
	d.must(t, http.StatusOK, "PATCH", "/v1/plugins/membomb", alice, []byte(`{"memory_mb":32}`))

	t.Run("EndlessLoop", func(t *testing.T) {
		// While the loop spins, the echo plugin keeps answering.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		echoes := 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := d.do(t, "POST", "/v1/plugins/echo/invoke", alice, []byte("alive"))
				if r.Status != http.StatusOK || string(r.Body) != "alive" {
					t.Errorf("echo during loop = %d %q", r.Status, r.Body)
					return
				}
				echoes++
			}
		}()
		for i := range 2 { // the second call proves the plugin still runs after a time-out
			r := d.do(t, "POST", "/v1/plugins/loop/invoke", alice, nil)
			if r.Status != http.StatusGatewayTimeout {
				t.Fatalf("loop call %d = %d: %s", i, r.Status, r.Body)
			}
			if r.Header.Get(httpapi.HeaderInvocation) == "" || r.JSON(t)["error"].(map[string]any)["invocation"] == nil {
				t.Fatalf("time-out should carry the invocation id: %s", r.Body)
			}
		}
		close(stop)
		wg.Wait()
		if echoes == 0 {
			t.Fatal("echo never answered while the loop ran")
		}
		// The plugin itself answers again after its time-outs.
		if r := d.must(t, http.StatusOK, "POST", "/v1/plugins/loop/invoke/ping", alice, nil); string(r.Body) != "pong" {
			t.Fatalf("ping after the time-outs = %q", r.Body)
		}
		runs := d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=loop&status=timeout", alice, nil).JSON(t)
		if n := len(runs["invocations"].([]any)); n != 2 {
			t.Fatalf("%d timeout records, want 2", n)
		}
	})
	t.Run("Trap", func(t *testing.T) {
		r := d.must(t, http.StatusUnprocessableEntity, "POST", "/v1/plugins/trap/invoke", alice, nil)
		if msg := r.ErrorMessage(t); !strings.Contains(msg, "boom") {
			t.Fatalf("trap message %q should carry the panic", msg)
		}
	})
	t.Run("MemoryBomb", func(t *testing.T) {
		r := d.must(t, http.StatusUnprocessableEntity, "POST", "/v1/plugins/membomb/invoke", alice, nil)
		if msg := r.ErrorMessage(t); msg == "" {
			t.Fatal("no message for the memory bomb")
		}
		if r := d.must(t, http.StatusOK, "POST", "/v1/plugins/membomb/invoke/small", alice, nil); string(r.Body) != "ok" {
			t.Fatalf("after the bomb, small = %q", r.Body)
		}
	})
	d.must(t, http.StatusOK, "GET", "/healthz", "", nil)
}

func TestCron(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	d.upload(t, alice, "echo", "plugins/testdata/echo")

	t.Run("ErrInvalid", func(t *testing.T) {
		for spec, want := range map[string]string{
			"61 * * * *":  "61",
			"* * *":       "expected",
			"@every soon": "soon",
		} {
			r := d.must(t, http.StatusBadRequest, "PUT", "/v1/plugins/echo/schedule", alice, []byte(fmt.Sprintf(`{"cron":%q}`, spec)))
			if msg := r.ErrorMessage(t); !strings.Contains(msg, want) {
				t.Errorf("spec %q: message %q should mention %q", spec, msg, want)
			}
		}
		r := d.must(t, http.StatusBadRequest, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@hourly","timezone":"Mars/Olympus"}`))
		if !strings.Contains(r.ErrorMessage(t), "Mars/Olympus") {
			t.Errorf("bad timezone message: %s", r.Body)
		}
	})
	t.Run("EverySecond", func(t *testing.T) {
		r := d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"@every 1s","timezone":"Asia/Tokyo","input":"tick"}`))
		if n := len(r.JSON(t)["next_runs"].([]any)); n != 5 {
			t.Fatalf("next_runs has %d entries", n)
		}
		// The answer is the stored schedule, with its author and time.
		if sch := r.JSON(t)["schedule"].(map[string]any); sch["updated_by"] != "alice" || strings.HasPrefix(fmt.Sprint(sch["updated_at"]), "0001") || sch["timezone"] != "Asia/Tokyo" {
			t.Fatalf("schedule answered = %v", sch)
		}
		var first map[string]any
		waitFor(t, "two cron invocations", func() bool {
			runs := d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo&trigger=cron", alice, nil).JSON(t)["invocations"].([]any)
			for _, r := range runs { // the newest may still be running
				if r := r.(map[string]any); r["status"] != "running" && len(runs) >= 2 {
					first = r
					return true
				}
			}
			return false
		})
		if first["caller"] != "alice" || first["status"] != "ok" {
			t.Fatalf("cron invocation = %v", first)
		}
		inv := d.must(t, http.StatusOK, "GET", "/v1/invocations/"+fmt.Sprint(first["id"]), alice, nil).JSON(t)
		if inv["output"] != "tick" {
			t.Fatalf("cron output = %v", inv["output"])
		}
	})
	t.Run("Delete", func(t *testing.T) {
		d.must(t, http.StatusNoContent, "DELETE", "/v1/plugins/echo/schedule", alice, nil)
		count := func() int {
			return len(d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo&trigger=cron&limit=1000", alice, nil).JSON(t)["invocations"].([]any))
		}
		time.Sleep(1500 * time.Millisecond) // a run that had started may still land
		before := count()
		time.Sleep(2500 * time.Millisecond)
		if after := count(); after != before {
			t.Fatalf("cron ran %d more times after the schedule was deleted", after-before)
		}
		d.must(t, http.StatusNotFound, "DELETE", "/v1/plugins/echo/schedule", alice, nil)
	})
}

func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	alice := d.user(t, "alice", "analyst")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	d.must(t, http.StatusOK, "PUT", "/v1/plugins/echo/schedule", alice, []byte(`{"cron":"0 9 * * 1","timezone":"Asia/Tokyo","input":"weekly"}`))
	id := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("before restart")).Header.Get(httpapi.HeaderInvocation)
	d.stop()

	d = startDaemon(t, dir)
	p := d.must(t, http.StatusOK, "GET", "/v1/plugins/echo", alice, nil).JSON(t)
	if p["owner"] != "alice" || p["current_version"] != 2.0 || len(p["versions"].([]any)) != 2 {
		t.Fatalf("plugin after restart = %v", p)
	}
	if s, _ := p["schedule"].(map[string]any); s == nil || s["cron"] != "0 9 * * 1" || s["timezone"] != "Asia/Tokyo" || s["input"] != "weekly" {
		t.Fatalf("schedule after restart = %v", p["schedule"])
	}
	inv := d.must(t, http.StatusOK, "GET", "/v1/invocations/"+id, alice, nil).JSON(t)
	if inv["output"] != "before restart" {
		t.Fatalf("history after restart = %v", inv)
	}
	if r := d.must(t, http.StatusOK, "POST", "/v1/plugins/echo/invoke", alice, []byte("after")); string(r.Body) != "after" {
		t.Fatalf("invoke after restart = %q", r.Body)
	}
}

// TestHammer: concurrent invocations of one plugin each get their own output.
func TestHammer(t *testing.T) {
	d := startDaemon(t, t.TempDir())
	alice := d.user(t, "alice", "analyst")
	d.upload(t, alice, "echo", "plugins/testdata/echo")
	const n = 64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := "input-" + strconv.Itoa(i) + strings.Repeat("x", i*37)
			r := d.do(t, "POST", "/v1/plugins/echo/invoke", alice, []byte(in))
			if r.Status != http.StatusOK || string(r.Body) != in {
				t.Errorf("call %d = %d, output %.40q…", i, r.Status, r.Body)
			}
		}()
	}
	wg.Wait()
	runs := d.must(t, http.StatusOK, "GET", "/v1/invocations?plugin=echo&status=ok&limit=1000", alice, nil).JSON(t)
	if got := len(runs["invocations"].([]any)); got != n {
		t.Fatalf("%d ok invocation records, want %d", got, n)
	}
}
