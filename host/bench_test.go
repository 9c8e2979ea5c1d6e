package host

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/lhk-soc/lhk"
)

// BenchmarkCompile compiles a standard-Go plugin (the echo fixture, ~2.3 MB)
// and makes its first instance: cold, with an empty cache dir, and cached, with
// a new Runtime on a dir an earlier Runtime filled (a restart).
func BenchmarkCompile(b *testing.B) {
	echo := fixture(b, "echo")
	req := request("echo", echo, "run", "")
	lim := lhk.Limits{}.WithDefaults()
	compile := func(b *testing.B, dir string) {
		r, err := New(context.Background(), Options{CacheDir: dir, Functions: testFunctions})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.compiled(context.Background(), &req, lim); err != nil {
			b.Fatal(err)
		}
		_ = r.Close(context.Background())
	}
	b.Run("cold", func(b *testing.B) {
		for range b.N {
			compile(b, b.TempDir())
		}
	})
	b.Run("cached", func(b *testing.B) {
		dir := b.TempDir()
		compile(b, dir)
		b.ResetTimer()
		for range b.N {
			compile(b, dir)
		}
	})
}

// BenchmarkFirstOutput measures a new instance of a compiled standard-Go
// plugin up to its first output (instantiation, Go runtime initialisation and
// the call), against a warm call of a pooled instance.
func BenchmarkFirstOutput(b *testing.B) {
	r := newRuntime(b, Options{})
	echo := fixture(b, "echo")
	req := request("echo", echo, "run", "hi")
	lim := req.Limits.WithDefaults()
	v, err := r.compiled(context.Background(), &req, lim)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("new-instance", func(b *testing.B) {
		for range b.N {
			in, err := r.newInstance(context.Background(), v)
			if err != nil {
				b.Fatal(err)
			}
			res, _, err := in.call(context.Background(), r, &req, "run", lim)
			if err != nil || string(res.Output) != "hi" {
				b.Fatalf("output %q, %v", res.Output, err)
			}
			in.close()
		}
	})
	b.Run("pooled-instance", func(b *testing.B) {
		for range b.N {
			if _, err := r.Call(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWarmCall calls a no-op standard-Go plugin on a warm instance:
// the plain extism CallWithContext (baseline), the fast path alone, and
// Runtime.Call end to end with the fast path and with the SDK path.
func BenchmarkWarmCall(b *testing.B) {
	ctx := context.Background()
	noop := fixture(b, "noop")
	b.Run("extism-CallWithContext", func(b *testing.B) {
		extism.SetLogLevel(extism.LogLevelTrace)
		cp, err := extism.NewCompiledPlugin(ctx, extism.Manifest{Wasm: []extism.Wasm{extism.WasmData{Data: noop}}},
			extism.PluginConfig{EnableWasi: true, RuntimeConfig: wazero.NewRuntimeConfig().WithCloseOnContextDone(true)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer cp.Close(ctx)
		p, err := cp.Instance(ctx, extism.PluginInstanceConfig{})
		if err != nil {
			b.Fatal(err)
		}
		p.SetLogger(func(extism.LogLevel, string) {})
		if _, _, err := p.CallWithContext(ctx, "run", nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if _, _, err := p.CallWithContext(ctx, "run", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	r := newRuntime(b, Options{})
	req := request("noop", noop, "run", "")
	b.Run("fast-path", func(b *testing.B) {
		lim := req.Limits.WithDefaults()
		v, err := r.compiled(ctx, &req, lim)
		if err != nil {
			b.Fatal(err)
		}
		in, err := r.get(ctx, v)
		if err != nil {
			b.Fatal(err)
		}
		defer r.put(v, in, true)
		if _, _, err := in.call(ctx, r, &req, "run", lim); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if o := in.fastCall(ctx, "run", nil, 1<<20); o.err != nil || o.rc != 0 {
				b.Fatal(o.err)
			}
		}
	})
	for _, fast := range []bool{true, false} {
		name := "Runtime.Call/fast"
		if !fast {
			name = "Runtime.Call/sdk"
		}
		b.Run(name, func(b *testing.B) {
			r.fast = fast
			r.Evict("noop")
			if _, err := r.Call(ctx, req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := r.Call(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	r.fast = sdkFields.ok
}

// BenchmarkInstanceMemory reports the memory one pooled instance of a
// standard-Go plugin holds, from the growth of the Go heap and of the
// process's resident set while 32 warm instances are kept.
func BenchmarkInstanceMemory(b *testing.B) {
	const n = 32
	echo := fixture(b, "echo")
	for range b.N {
		r := newRuntime(b, Options{MaxIdlePerVersion: n})
		req := request("echo", echo, "run", "x")
		lim := req.Limits.WithDefaults()
		v, err := r.compiled(context.Background(), &req, lim)
		if err != nil {
			b.Fatal(err)
		}
		heap0, rss0 := memNow()
		ins := make([]*instance, n)
		for i := range ins {
			if ins[i], err = r.get(context.Background(), v); err != nil {
				b.Fatal(err)
			}
			if _, _, err := ins[i].call(context.Background(), r, &req, "run", lim); err != nil {
				b.Fatal(err)
			}
		}
		heap1, rss1 := memNow()
		b.ReportMetric(float64(heap1-heap0)/n/(1<<20), "heap-MiB/instance")
		b.ReportMetric(float64(rss1-rss0)/n/(1<<20), "rss-MiB/instance")
		for _, in := range ins {
			r.put(v, in, true)
		}
		_ = r.Close(context.Background())
	}
}

// memNow returns the live Go heap after a GC and the resident set size.
func memNow() (heap, rss int64) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			rss = pages * int64(os.Getpagesize())
		}
	}
	return int64(ms.HeapAlloc), rss
}

// BenchmarkHostCall measures the host-function round trip (plugin → host →
// plugin) for a tiny JSON request: the hostcall fixture's loop export calls
// lhk.test_echo n times in one invocation; the per-call cost is the difference
// between n=1000 and n=0, divided by 1000; loopjson does the guest's JSON work
// alone, to tell the boundary's cost from the guest's. The baseline is the same handler
// called from Go with the JSON encoding a host function does.
func BenchmarkHostCall(b *testing.B) {
	r := newRuntime(b, Options{})
	wasm := fixture(b, "hostcall")
	grant := lhk.Grant{Capabilities: []string{lhk.CapKV}}
	run := func(fn string, n int) time.Duration {
		req := request("hostcall", wasm, fn, strconv.Itoa(n))
		req.Grant = grant
		req.Limits = lhk.DefaultLimits
		start := time.Now()
		if _, err := r.Call(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	run("loop", 1) // compile and warm
	b.Run("round-trip", func(b *testing.B) {
		const n = 1000
		var with, json, without time.Duration
		for range b.N {
			with += run("loop", n)
			json += run("loopjson", n)
			without += run("loop", 0)
		}
		b.ReportMetric(float64((with-without).Nanoseconds())/float64(b.N*n), "ns/hostcall")
		b.ReportMetric(float64((with-json).Nanoseconds())/float64(b.N*n), "ns/hostcall-without-guest-json")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("native-baseline", func(b *testing.B) {
		h := testFunctions[0].Handle
		call := &lhk.HostCall{Plugin: "hostcall", Grant: grant}
		for i := range b.N {
			req, _ := json.Marshal(map[string]int{"i": i})
			data, err := h(context.Background(), call, req)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(map[string]any{"data": data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
