package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/wasmtest"
)

// testFunctions are the host functions the hostcall fixture imports.
var testFunctions = []lhk.HostFunction{
	{Name: "test_echo", Capability: lhk.CapKV, Doc: "Returns the request and who called.",
		Handle: func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
			return map[string]any{"req": json.RawMessage(req), "plugin": call.Plugin, "invocation": call.InvocationID}, nil
		}},
	{Name: "test_panic", Capability: lhk.CapKV, Doc: "Panics.",
		Handle: func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
			panic("test_panic: boom")
		}},
	{Name: "test_fail", Doc: "Fails with not_found.",
		Handle: func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
			return nil, lhk.Errorf(lhk.ENOTFOUND, "ticket T-9 not found")
		}},
	{Name: "test_internal", Doc: "Fails with a plain error.",
		Handle: func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
			return nil, errors.New("database password is hunter2")
		}},
	{Name: "test_tickets", Capability: lhk.CapTicketsWrite, Doc: "Needs tickets.write.",
		Handle: func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
			return "created", nil
		}},
}

// sharedCacheDir is the compilation cache of the runtimes that ask for none:
// the fixtures compile once per test binary instead of once per test (which,
// under the race detector, takes tens of seconds each).
var sharedCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lhk-host-test-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedCacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newRuntime(tb testing.TB, opts Options) *Runtime {
	tb.Helper()
	if opts.Functions == nil {
		opts.Functions = testFunctions
	}
	if opts.CacheDir == "" {
		opts.CacheDir = sharedCacheDir
	}
	r, err := New(context.Background(), opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return r
}

var (
	fixtureMu sync.Mutex
	fixtures  = map[string][]byte{}
)

// fixture builds plugins/testdata/<name> or another plugins/ dir once per test binary.
func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if b, ok := fixtures[name]; ok {
		return b
	}
	dir := "plugins/testdata/" + name
	if strings.Contains(name, "/") {
		dir = name
	}
	b := wasmtest.Build(tb, dir)
	fixtures[name] = b
	return b
}

// request returns a CallRequest of version 1 of plugin name running wasm.
func request(name string, wasm []byte, fn string, input string) lhk.CallRequest {
	sum := sha256.Sum256(wasm)
	return lhk.CallRequest{
		Plugin:       name,
		Version:      1,
		SHA256:       hex.EncodeToString(sum[:]),
		Wasm:         func(context.Context) ([]byte, error) { return wasm, nil },
		Function:     fn,
		Input:        []byte(input),
		InvocationID: "inv-1",
		Caller:       "alice",
	}
}

// wantCode fails unless err has the code and its message contains every part.
func wantCode(tb testing.TB, err error, code string, parts ...string) {
	tb.Helper()
	if got := lhk.ErrorCode(err); got != code {
		tb.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
	msg := lhk.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			tb.Fatalf("error message %q does not contain %q", msg, p)
		}
	}
	if strings.Contains(msg, "goroutine ") || strings.Contains(msg, "wasm stack trace") {
		tb.Fatalf("error message carries a stack dump: %q", msg)
	}
}

func call(tb testing.TB, r *Runtime, req lhk.CallRequest) *lhk.CallResult {
	tb.Helper()
	res, err := r.Call(context.Background(), req)
	if err != nil {
		tb.Fatalf("Call(%s.%s): %v", req.Plugin, req.Function, err)
	}
	return res
}

func TestCallEcho(t *testing.T) {
	r := newRuntime(t, Options{})
	echo := fixture(t, "echo")
	tests := []struct {
		name, fn, input, want string
	}{
		{"Run", "", "hello", "hello"},
		{"RunAgainWarm", "run", "second call", "second call"},
		{"NamedExport", "upper", "shout", "SHOUT"},
		{"EmptyInput", "run", "", ""},
		{"Binary", "run", "\x00\x01\xff", "\x00\x01\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, r, request("echo", echo, tt.fn, tt.input))
			if string(res.Output) != tt.want {
				t.Fatalf("output = %q, want %q", res.Output, tt.want)
			}
		})
	}
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := r.Call(context.Background(), request("echo", echo, "nope", ""))
		wantCode(t, err, lhk.ENOTFOUND, `"nope"`)
	})
}

func TestCallLimits(t *testing.T) {
	r := newRuntime(t, Options{})
	echo := fixture(t, "echo")
	t.Run("ErrInputTooLarge", func(t *testing.T) {
		req := request("echo", echo, "run", strings.Repeat("x", 101))
		req.Limits.MaxInputBytes = 100
		_, err := r.Call(context.Background(), req)
		wantCode(t, err, lhk.ETOOLARGE, "101", "100")
	})
	t.Run("ErrOutputTooLarge", func(t *testing.T) {
		for i := range 2 { // first call through the SDK, then the fast path
			req := request("echo", echo, "run", strings.Repeat("y", 200))
			req.Limits.MaxInputBytes = 1000
			req.Limits.MaxOutputBytes = 100
			_, err := r.Call(context.Background(), req)
			wantCode(t, err, lhk.EFAILED, "max_output_bytes", "200")
			_ = i
		}
	})
	t.Run("OKAfterwards", func(t *testing.T) {
		res := call(t, r, request("echo", echo, "run", "fine"))
		if string(res.Output) != "fine" {
			t.Fatalf("output = %q", res.Output)
		}
	})
}

func TestTimeout(t *testing.T) {
	r := newRuntime(t, Options{})
	loop := fixture(t, "loop")
	echo := fixture(t, "echo")
	call(t, r, request("echo", echo, "run", "warm"))

	stop := make(chan struct{})
	echoed := make(chan error, 1)
	go func() { // another plugin keeps answering while one loops
		n := 0
		for {
			select {
			case <-stop:
				if n == 0 {
					echoed <- errors.New("echo never answered")
				} else {
					echoed <- nil
				}
				return
			default:
			}
			in := fmt.Sprintf("echo %d", n)
			res, err := r.Call(context.Background(), request("echo", echo, "run", in))
			if err != nil || string(res.Output) != in {
				echoed <- fmt.Errorf("echo during loop: %v, output %q", err, res.Output)
				return
			}
			n++
		}
	}()

	req := request("loop", loop, "run", "")
	req.Limits.TimeoutMS = 300
	for range 2 {
		_, err := r.Call(context.Background(), req)
		wantCode(t, err, lhk.ETIMEOUT, "300 ms")
	}
	close(stop)
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
	res := call(t, r, request("loop", loop, "ping", ""))
	if string(res.Output) != "pong" {
		t.Fatalf("ping after time-out = %q, want pong", res.Output)
	}
}

func TestCancel(t *testing.T) {
	r := newRuntime(t, Options{})
	loop := fixture(t, "loop")
	call(t, r, request("loop", loop, "ping", ""))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := r.Call(ctx, request("loop", loop, "run", ""))
		done <- err
	}()
	cancel()
	err := <-done
	if code := lhk.ErrorCode(err); code != lhk.EUNAVAILABLE && code != lhk.ETIMEOUT {
		t.Fatalf("cancelled call = %v, want unavailable", err)
	}
	call(t, r, request("loop", loop, "ping", ""))
}

func TestTrap(t *testing.T) {
	r := newRuntime(t, Options{})
	trap := fixture(t, "trap")
	tests := []struct {
		name  string
		wasm  []byte
		fn    string
		parts []string
	}{
		{"GoPanic", trap, "run", []string{"panic: trap fixture: boom"}},
		{"GoPanicAgain", trap, "run", []string{"panic: trap fixture: boom"}},
		{"GoNilDereference", trap, "nil", []string{"nil pointer dereference"}},
		{"Unreachable", wasmModule(nil, opUnreachable), "run", []string{"trapped", "unreachable"}},
		{"UnreachableAgain", wasmModule(nil, opUnreachable), "run", []string{"unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Call(context.Background(), request("trap-"+strings.ToLower(tt.name[:2]), tt.wasm, tt.fn, ""))
			wantCode(t, err, lhk.EFAILED, tt.parts...)
			if tt.wasm[10] == trap[10] && res == nil {
				t.Fatal("no result with the logs of a failed call")
			}
		})
	}
}

func TestMemoryBomb(t *testing.T) {
	r := newRuntime(t, Options{})
	bomb := fixture(t, "membomb")
	req := request("membomb", bomb, "run", "")
	req.Limits.MemoryMB = 32
	for range 2 {
		_, err := r.Call(context.Background(), req)
		wantCode(t, err, lhk.EFAILED, "out of memory")
	}
	req.Function = "small"
	res, err := r.Call(context.Background(), req)
	if err != nil || string(res.Output) != "ok" {
		t.Fatalf("call after the memory bomb = %q, %v; want ok", res.Output, err)
	}
}

func TestPluginError(t *testing.T) {
	r := newRuntime(t, Options{})
	fail := fixture(t, "fail")
	for range 3 { // SDK path, then fast path on the same (healthy) instance
		_, err := r.Call(context.Background(), request("fail", fail, "run", ""))
		wantCode(t, err, lhk.EFAILED, "fail fixture: no tenant given")
		if msg := lhk.ErrorMessage(err); msg != "fail fixture: no tenant given" {
			t.Fatalf("message = %q, want the plugin's message as it is", msg)
		}
	}
}

func TestLogs(t *testing.T) {
	r := newRuntime(t, Options{})
	logger := fixture(t, "logger")
	t.Run("AllLevelsAndStreams", func(t *testing.T) {
		for i := range 2 {
			res := call(t, r, request("logger", logger, "run", "5"))
			var got []string
			for _, l := range res.Logs {
				got = append(got, l.Level+": "+l.Message)
				if l.Time.IsZero() {
					t.Errorf("log line %q has no time", l.Message)
				}
			}
			want := []string{
				"trace: line 0 at trace", "debug: line 1 at debug", "info: line 2 at info",
				"warn: line 3 at warn", "error: line 4 at error",
				"stdout: hello stdout", "stderr: hello stderr", "stderr: second stderr line",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("call %d logs:\n%s\nwant:\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})
	t.Run("Capped", func(t *testing.T) {
		req := request("logger", logger, "run", "10")
		req.Limits.MaxLogLines = 4
		res := call(t, r, req)
		if len(res.Logs) != 5 {
			t.Fatalf("got %d log lines, want 4 and a note: %+v", len(res.Logs), res.Logs)
		}
		last := res.Logs[4]
		if last.Level != "lhk" || !strings.Contains(last.Message, "9 more log lines dropped") {
			t.Fatalf("last line = %+v, want a note that 9 lines were dropped", last)
		}
	})
}

func TestConfigAndVars(t *testing.T) {
	r := newRuntime(t, Options{})
	cv := fixture(t, "configvar")
	t.Run("Config", func(t *testing.T) {
		for _, v := range []string{"hi", "changed"} {
			req := request("configvar", cv, "run", "greeting")
			req.Config = map[string]string{"greeting": v}
			if res := call(t, r, req); string(res.Output) != v {
				t.Fatalf("config greeting = %q, want %q", res.Output, v)
			}
		}
	})
	t.Run("ErrConfigUnset", func(t *testing.T) {
		_, err := r.Call(context.Background(), request("configvar", cv, "run", "missing"))
		wantCode(t, err, lhk.EFAILED, `config key "missing" is not set`)
	})
	t.Run("VarsLiveWithTheInstance", func(t *testing.T) {
		req := request("configvar-vars", cv, "count", "")
		req.Limits.Concurrency = 1
		for want := 1; want <= 3; want++ {
			if res := call(t, r, req); string(res.Output) != fmt.Sprint(want) {
				t.Fatalf("count = %q, want %d", res.Output, want)
			}
		}
		r.Evict("configvar-vars")
		if res := call(t, r, req); string(res.Output) != "1" {
			t.Fatalf("count on a fresh instance = %q, want 1", res.Output)
		}
	})
}

func TestHostFunctions(t *testing.T) {
	r := newRuntime(t, Options{})
	hc := fixture(t, "hostcall")
	grant := lhk.Grant{Capabilities: []string{lhk.CapKV}, Tenants: []string{"acme"}}
	tests := []struct {
		name, fn string
		want     string // substring of the output
	}{
		{"OK", "echo", `{"data":{"invocation":"inv-1","plugin":"hostcall","req":{"q":1}}}`},
		{"ErrForbidden", "tickets", `{"error":{"code":"forbidden","message":"lhk.test_tickets needs capability \"tickets.write\", which plugin \"hostcall\" is not granted"}}`},
		{"ErrPanic", "panic", `{"error":{"code":"internal","message":"internal error"}}`},
		{"ErrNotFound", "fail", `{"error":{"code":"not_found","message":"ticket T-9 not found"}}`},
		{"ErrInternalHidden", "internal", `{"error":{"code":"internal","message":"internal error"}}`},
		{"OKAfterPanic", "echo", `"req":{"q":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request("hostcall", hc, "run", fmt.Sprintf(`{"fn":%q,"req":{"q":1}}`, tt.fn))
			req.Grant = grant
			res := call(t, r, req)
			if !strings.Contains(string(res.Output), tt.want) {
				t.Fatalf("output = %s, want it to contain %s", res.Output, tt.want)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	r := newRuntime(t, Options{})
	tests := []struct {
		name  string
		wasm  []byte
		code  string
		parts []string
	}{
		{"ErrEmpty", nil, lhk.EINVALID, []string{"empty module"}},
		{"ErrGarbage", []byte("#!/bin/sh\necho hi\n"), lhk.EINVALID, []string{"not a WebAssembly module"}},
		{"ErrTruncated", fixture(t, "noop")[:5000], lhk.EINVALID, []string{"malformed", "section 10"}},
		{"ErrTruncatedCode", truncateLastSection(fixture(t, "noop")), lhk.EINVALID, []string{"does not compile"}},
		{"ErrHugeVector", []byte("\x00asm\x01\x00\x00\x00\x02\x06\xff\xff\xff\xff\x0f\x00"), lhk.EINVALID, []string{"malformed", "4294967295 entries"}},
		{"ErrForeignModule", wasmModule([][2]string{{"env", "foo"}, {"extism:host/user", "bar"}}, opConst0), lhk.EINVALID, []string{"env.foo", "extism:host/user.bar"}},
		{"ErrUnknownLHKFunction", wasmModule([][2]string{{"lhk", "logs_nuke"}}, opConst0), lhk.EINVALID, []string{"lhk.logs_nuke"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Inspect(context.Background(), tt.wasm)
			wantCode(t, err, tt.code, tt.parts...)
		})
	}
	t.Run("OKHostcall", func(t *testing.T) {
		wasm := fixture(t, "hostcall")
		m, err := r.Inspect(context.Background(), wasm)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(m.Capabilities, ","), "kv,tickets.write"; got != want {
			t.Errorf("capabilities = %s, want %s", got, want)
		}
		sum := sha256.Sum256(wasm)
		if m.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("sha256 = %s", m.SHA256)
		}
		if !contains(m.Exports, "run") {
			t.Errorf("exports %v lack run", m.Exports)
		}
		var lhkImports []string
		for _, im := range m.Imports {
			if im.Module == lhk.HostModule {
				lhkImports = append(lhkImports, im.Name)
			}
		}
		if len(lhkImports) != 5 {
			t.Errorf("lhk imports = %v, want the 5 test functions", lhkImports)
		}
	})
	t.Run("OKNoImports", func(t *testing.T) {
		m, err := r.Inspect(context.Background(), wasmModule(nil, opConst0))
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Imports) != 0 || len(m.Capabilities) != 0 || strings.Join(m.Exports, ",") != "run" {
			t.Fatalf("module = %+v", m)
		}
	})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestNoImports(t *testing.T) {
	r := newRuntime(t, Options{})
	for range 3 {
		res := call(t, r, request("bare", wasmModule(nil, opConst0), "run", "ignored"))
		if len(res.Output) != 0 {
			t.Fatalf("output = %q, want none", res.Output)
		}
	}
}

// TestSDKModules runs modules built with other Extism PDKs, unmodified.
func TestSDKModules(t *testing.T) {
	r := newRuntime(t, Options{})
	tests := []struct {
		name, file, fn, input string
		config                map[string]string
		want                  string // substring of the output
		wantLog               string // substring of some log line
	}{
		{name: "Rust", file: "count_vowels.wasm", fn: "count_vowels", input: "Hello World", want: `"count":3`},
		{name: "Haskell", file: "hello_haskell.wasm", fn: "testing", input: "John", config: map[string]string{"greeting": "Howdy"}, want: "Howdy, John"},
		{name: "Config", file: "config.wasm", fn: "run_test", config: map[string]string{"thing": "lhk"}, want: "lhk"},
		{name: "Log", file: "log.wasm", fn: "run_test", wantLog: "this is a trace log"},
		{name: "Noop", file: "noop.wasm", fn: "run_test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wasm := wasmtest.SDKWasm(t, tt.file)
			for i := range 2 {
				req := request("sdk-"+strings.ToLower(tt.name), wasm, tt.fn, tt.input)
				req.Config = tt.config
				res := call(t, r, req)
				if !strings.Contains(string(res.Output), tt.want) {
					t.Fatalf("call %d output = %q, want it to contain %q", i, res.Output, tt.want)
				}
				if tt.wantLog != "" && !hasLog(res.Logs, tt.wantLog) {
					t.Fatalf("call %d logs %+v lack %q", i, res.Logs, tt.wantLog)
				}
			}
		})
	}
	// No WASI filesystem: a Rust module that reads a file fails, whether or
	// not the path exists on the daemon's machine.
	t.Run("NoFilesystem", func(t *testing.T) {
		for _, path := range []string{"/etc/hostname", "/mnt/test.txt", "."} {
			req := request("sdk-fs", wasmtest.SDKWasm(t, "read_write.wasm"), "try_read", "")
			req.Config = map[string]string{"path": path}
			res, err := r.Call(context.Background(), req)
			if err == nil {
				t.Fatalf("reading %s: output %q, want an error", path, res.Output)
			}
			req.Function, req.Input = "try_write", []byte("written by a plugin")
			req.Config = map[string]string{"path": filepath.Join(t.TempDir(), "out.txt")}
			if _, err := r.Call(context.Background(), req); err == nil {
				t.Fatalf("writing %s succeeded, want an error", req.Config["path"])
			}
			if _, err := os.Stat(req.Config["path"]); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the plugin's write reached the disk: %v", err)
			}
		}
	})
	t.Run("PluginError", func(t *testing.T) {
		wasm := wasmtest.SDKWasm(t, "fail.wasm")
		for range 2 {
			_, err := r.Call(context.Background(), request("sdk-fail", wasm, "run_test", ""))
			wantCode(t, err, lhk.EFAILED, "Some error message")
		}
	})
}

func hasLog(logs []lhk.LogLine, part string) bool {
	for _, l := range logs {
		if strings.Contains(l.Message, part) {
			return true
		}
	}
	return false
}

func TestIOCExtract(t *testing.T) {
	r := newRuntime(t, Options{})
	wasm := fixture(t, "plugins/ioc-extract")
	req := request("ioc-extract", wasm, "run", `{"text":"C2 hxxps://evil[.]example[.]com/x from 203.0.113.7"}`)
	req.Config = map[string]string{"defang": "true"}
	res := call(t, r, req)
	var out struct {
		IPv4    []string `json:"ipv4"`
		URLs    []string `json:"urls"`
		Summary string   `json:"summary"`
	}
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	if len(out.IPv4) != 1 || out.IPv4[0] != "203[.]0[.]113[.]7" || len(out.URLs) != 1 || out.URLs[0] != "hxxps://evil[.]example[.]com/x" {
		t.Fatalf("output = %s", res.Output)
	}
	if !strings.Contains(out.Summary, "## Indicators of compromise") || !hasLog(res.Logs, "found 3 indicators") {
		t.Fatalf("summary %q, logs %+v", out.Summary, res.Logs)
	}
}

func TestCompileCacheReused(t *testing.T) {
	dir := t.TempDir()
	echo := fixture(t, "echo")
	r1 := newRuntime(t, Options{CacheDir: dir})
	call(t, r1, request("echo", echo, "run", "one"))
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache dir after a compile: %d entries, %v; want some", len(entries), err)
	}
	before := cacheFiles(t, dir)
	r2 := newRuntime(t, Options{CacheDir: dir})
	if res := call(t, r2, request("echo", echo, "run", "two")); string(res.Output) != "two" {
		t.Fatalf("second runtime output = %q", res.Output)
	}
	// A runtime that compiled again would write its machine code anew: the
	// cache writes a temporary file and renames it over the entry.
	after := cacheFiles(t, dir)
	if len(after) != len(before) {
		t.Fatalf("cache files: %d before the restart, %d after; want the same", len(before), len(after))
	}
	for path, fi := range before {
		if !os.SameFile(fi, after[path]) {
			t.Fatalf("cache entry %s was written again after the restart: the module was recompiled", path)
		}
	}
}

// cacheFiles returns the regular files under dir by path.
func cacheFiles(t *testing.T, dir string) map[string]os.FileInfo {
	t.Helper()
	files := map[string]os.FileInfo{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := os.Stat(path)
		files[path] = fi
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestHammer runs many concurrent calls; run it with -race.
func TestHammer(t *testing.T) {
	r := newRuntime(t, Options{MaxIdlePerVersion: 3})
	echo := fixture(t, "echo")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fmt.Sprintf("input %d %s", i, strings.Repeat("z", i*37))
			fn := "run"
			want := in
			if i%3 == 0 {
				fn, want = "upper", strings.ToUpper(in)
			}
			req := request("echo", echo, fn, in)
			req.Limits.Concurrency = 5
			res, err := r.Call(context.Background(), req)
			switch {
			case err != nil:
				errs <- fmt.Errorf("call %d: %v", i, err)
			case string(res.Output) != want:
				errs <- fmt.Errorf("call %d: output %.40q, want %.40q", i, res.Output, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.versions {
		// Pools keep up to the plugin's concurrency (5) idle after a burst.
		if len(v.idle) > 5 || v.live != len(v.idle) {
			t.Errorf("version %v: %d idle, %d live after the hammer; want at most 5 idle and none busy", v.key, len(v.idle), v.live)
		}
	}
}

func TestEvictAndTrim(t *testing.T) {
	r := newRuntime(t, Options{})
	echo := fixture(t, "echo")
	call(t, r, request("echo", echo, "run", "a"))
	r.Evict("echo")
	r.mu.Lock()
	n := len(r.versions)
	r.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d versions after Evict, want 0", n)
	}
	call(t, r, request("echo", echo, "run", "b"))

	r.trim(timeNowPlus(r.opts.IdleTimeout + 1))
	r.mu.Lock()
	for _, v := range r.versions {
		if len(v.idle) != 0 || v.live != 0 {
			t.Errorf("after trim: %d idle, %d live, want none", len(v.idle), v.live)
		}
	}
	r.mu.Unlock()
	r.trim(timeNowPlus(r.opts.CodeIdleTimeout + 1))
	r.mu.Lock()
	n = len(r.versions)
	r.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d versions after trimming unused code, want 0", n)
	}
	call(t, r, request("echo", echo, "run", "c"))
}

// TestMemoryBudget: over the budget, idle instances and then idle code of the
// least recently used plugins are released; they still run afterwards.
func TestMemoryBudget(t *testing.T) {
	echo := fixture(t, "echo")
	// Room for one compiled echo plugin and a half: at most two stay.
	r := newRuntime(t, Options{MemoryBudget: 3 * int64(len(echo)) * codeBytesPerModuleByte / 2})
	for _, name := range []string{"a", "b", "c", "d"} {
		if res := call(t, r, request(name, echo, "run", name)); string(res.Output) != name {
			t.Fatalf("%s: output %q", name, res.Output)
		}
	}
	compiled := func() map[string]bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		m := map[string]bool{}
		for k := range r.versions {
			m[k.plugin] = true
		}
		return m
	}
	got := compiled()
	if len(got) > 2 || !got["d"] {
		t.Fatalf("compiled after four plugins under a two-plugin budget: %v (want at most 2, including the newest)", got)
	}
	if got["a"] {
		t.Fatalf("the least recently used plugin kept its code: %v", got)
	}
	// A released plugin reloads and runs.
	if res := call(t, r, request("a", echo, "run", "again")); string(res.Output) != "again" {
		t.Fatalf("a after release: %q", res.Output)
	}
}

// TestSlowPath checks that the SDK's call path, used when the SDK's private
// fields are missing, gives the same results.
func TestSlowPath(t *testing.T) {
	r := newRuntime(t, Options{})
	r.fast = false
	echo := fixture(t, "echo")
	for range 2 {
		if res := call(t, r, request("echo", echo, "upper", "slow")); string(res.Output) != "SLOW" {
			t.Fatalf("output = %q", res.Output)
		}
	}
	for range 2 {
		req := request("echo", echo, "run", strings.Repeat("y", 200))
		req.Limits.MaxOutputBytes = 100
		_, err := r.Call(context.Background(), req)
		wantCode(t, err, lhk.EFAILED, "max_output_bytes")
	}
	for range 2 {
		_, err := r.Call(context.Background(), request("fail", fixture(t, "fail"), "run", ""))
		wantCode(t, err, lhk.EFAILED, "fail fixture: no tenant given")
	}
}

// TestSDKFields fails when an extism go-sdk upgrade removes the private
// fields the fast path reads; the runtime then falls back to the SDK's
// slower call path until the fast path is adapted.
func TestSDKFields(t *testing.T) {
	if !sdkFields.ok {
		t.Fatalf("fast path disabled: %s", sdkFields.reason)
	}
}

func TestNewErrors(t *testing.T) {
	h := func(context.Context, *lhk.HostCall, []byte) (any, error) { return nil, nil }
	tests := []struct {
		name  string
		funcs []lhk.HostFunction
	}{
		{"ErrEmptyName", []lhk.HostFunction{{Handle: h}}},
		{"ErrNoHandle", []lhk.HostFunction{{Name: "x"}}},
		{"ErrUnknownCapability", []lhk.HostFunction{{Name: "x", Capability: "root", Handle: h}}},
		{"ErrDuplicate", []lhk.HostFunction{{Name: "x", Handle: h}, {Name: "x", Handle: h}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(context.Background(), Options{Functions: tt.funcs}); err == nil {
				t.Fatal("New succeeded, want an error")
			}
		})
	}
}

// TestConcurrencyBound: a plugin never runs more calls at once than its
// concurrency, also across an eviction and a change of the limit, when calls
// started before still run.
func TestConcurrencyBound(t *testing.T) {
	var running, peak atomic.Int32
	entered := make(chan struct{}, 16)
	gate := make(chan struct{})
	fns := slices.Clone(testFunctions)
	fns[0].Handle = func(ctx context.Context, call *lhk.HostCall, req []byte) (any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		entered <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return "ok", nil
	}
	r := newRuntime(t, Options{Functions: fns})
	hc := fixture(t, "hostcall")
	req := func(concurrency int) lhk.CallRequest {
		q := request("bounded", hc, "run", `{"fn":"echo","req":{}}`)
		q.Grant = lhk.Grant{Capabilities: []string{lhk.CapKV}}
		q.Limits.Concurrency = concurrency
		return q
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := r.Call(context.Background(), req(2)); err != nil {
				t.Errorf("bounded call: %v", err)
			}
		})
	}
	<-entered
	<-entered
	// Both slots are taken. Neither an eviction nor a lower limit frees one.
	r.Evict("bounded")
	for _, c := range []int{2, 1} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := r.Call(ctx, req(c))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "free slot") {
			t.Fatalf("call with concurrency %d while 2 run: %v, want a wait for a free slot", c, err)
		}
	}
	// A higher limit lets one more in.
	wg.Go(func() {
		if _, err := r.Call(context.Background(), req(3)); err != nil {
			t.Errorf("call under the raised limit: %v", err)
		}
	})
	<-entered
	close(gate)
	wg.Wait()
	if p := peak.Load(); p != 3 {
		t.Fatalf("peak of calls at once = %d, want 3", p)
	}
	if s := r.slots["bounded"]; s == nil || s.running != 0 || s.freed != nil {
		t.Fatalf("slots after all calls ended: %+v, want none running or waiting", s)
	}
	r.Evict("bounded")
	if len(r.slots) != 0 {
		t.Fatalf("slots left after the eviction of an idle plugin: %v", r.slots)
	}
}
