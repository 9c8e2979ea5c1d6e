// Package host runs plugin versions: it implements lhk.Runtime on the extism
// go-sdk and wazero, and is the only package that imports them.
//
// A Runtime compiles each plugin version once (and keeps machine code in an
// on-disk cache so a restart does not recompile), keeps a small pool of warm
// instances per version, bounds the calls running at once per plugin, applies
// each call's limits, captures the plugin's logs and serves lhk's host
// functions to it. See docs/ARCHITECTURE.md for the design.
//
// Extism vars live in an instance: they survive from one call to the next
// only while the same pooled instance is reused, and are lost when it is
// closed (after a failure, an idle period, an eviction or a restart). Plugins
// must not rely on them for state.
package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"

	"github.com/lhk-soc/lhk"
)

var _ lhk.Runtime = (*Runtime)(nil)

// Defaults for Options.
const (
	DefaultMaxIdlePerVersion = 1
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultCodeIdleTimeout   = 30 * time.Minute
	// DefaultMemoryBudget keeps 100 warm standard-Go plugins well under 1 GiB
	// of RSS (docs/performance.md).
	DefaultMemoryBudget = 640 << 20
	// MaxHostRequestBytes caps the JSON request a plugin may pass to one host
	// function; larger requests get an "invalid" reply without reaching it.
	MaxHostRequestBytes = 8 << 20
	// maxVarBytes caps the Extism vars of one instance.
	maxVarBytes = 1 << 20
	// maxHTTPResponseBytes bounds a response to the guest's outbound HTTP.
	maxHTTPResponseBytes = 16 << 20
	// wasmPageSize is the size of one WebAssembly memory page.
	wasmPageSize = 64 << 10
)

// Options configure a Runtime. Zero fields take the defaults above.
type Options struct {
	// CacheDir holds compiled machine code across restarts; "" keeps it in
	// memory only.
	CacheDir string
	// Functions are the host functions plugins may import from module "lhk".
	Functions []lhk.HostFunction
	// Logger receives the runtime's own logs (never the plugins'); nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxIdlePerVersion is how many warm instances a plugin version keeps at
	// rest (default 1). After a burst it keeps up to the plugin's concurrency
	// and closes those beyond MaxIdlePerVersion after 10 s without use.
	MaxIdlePerVersion int
	// MemoryBudget bounds the estimated memory of compiled code and instances
	// (default DefaultMemoryBudget). Over it, idle instances and then idle
	// compiled code are released, least recently used first; released code
	// reloads from the on-disk cache on its next call.
	MemoryBudget int64
	// IdleTimeout closes a warm instance unused for this long.
	IdleTimeout time.Duration
	// CodeIdleTimeout drops a version's compiled code when it has had no
	// instance for this long; it is reloaded from CacheDir when next called.
	CodeIdleTimeout time.Duration
	// ObserveHostCall, when set, is called after every host-function call
	// with the function's name, its outcome ("ok" or the error code the guest
	// got) and its duration. It must be quick and safe for concurrent use.
	ObserveHostCall func(function, outcome string, d time.Duration)
}

// Runtime runs plugin versions; it implements lhk.Runtime. It is safe for
// concurrent use.
type Runtime struct {
	opts      Options
	log       *slog.Logger
	cache     wazero.CompilationCache
	funcs     map[string]lhk.HostFunction
	extFuncs  []extism.HostFunction
	inspectRT wazero.Runtime
	fast      bool // use the fast call path (the SDK's private fields were found)

	mu       sync.Mutex
	versions map[versionKey]*version
	slots    map[string]*slots // per plugin that was called since its last eviction
	closed   bool
	calls    sync.WaitGroup
	stop     chan struct{}
	stopped  chan struct{}
}

// versionKey identifies compiled code: the memory limit is part of the
// wazero runtime's configuration, so a change of limit needs new code.
type versionKey struct {
	plugin  string
	version int
	sha256  string
	pages   uint32
}

// version is one compiled plugin version and its pool of warm instances.
type version struct {
	key   versionKey
	ready chan struct{} // closed when compiled or err is set
	code  *extism.CompiledPlugin
	err   error
	// exports lists the module's exported functions; set before ready.
	exports map[string]bool

	// Guarded by Runtime.mu.
	cache    wazero.CompilationCache // this version's; closed with its code
	size     int64                   // bytes of the module, for the memory estimate
	idle     []*instance             // warm instances, most recently used last
	maxIdle  int                     // idle instances kept: enough for the plugin's concurrency
	live     int                     // instances not closed: idle and busy
	lastUsed time.Time
	evicted  bool // dropped from the map; close code when live reaches 0
}

// New returns a Runtime. It sets the extism SDK's process-wide log level to
// trace so that plugins log at every level; the runtime routes each plugin's
// logs to its own invocation.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxIdlePerVersion <= 0 {
		opts.MaxIdlePerVersion = DefaultMaxIdlePerVersion
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.CodeIdleTimeout <= 0 {
		opts.CodeIdleTimeout = DefaultCodeIdleTimeout
	}
	if opts.MemoryBudget <= 0 {
		opts.MemoryBudget = DefaultMemoryBudget
	}
	r := &Runtime{
		opts:     opts,
		log:      opts.Logger,
		funcs:    make(map[string]lhk.HostFunction),
		fast:     sdkFields.ok,
		versions: make(map[versionKey]*version),
		slots:    make(map[string]*slots),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	for _, f := range opts.Functions {
		switch {
		case f.Name == "":
			return nil, errors.New("new runtime: host function with an empty name")
		case f.Handle == nil:
			return nil, fmt.Errorf("new runtime: host function %q has no Handle", f.Name)
		case f.Capability != "" && !lhk.ValidCapability(f.Capability):
			return nil, fmt.Errorf("new runtime: host function %q needs unknown capability %q", f.Name, f.Capability)
		}
		if _, dup := r.funcs[f.Name]; dup {
			return nil, fmt.Errorf("new runtime: host function %q registered twice", f.Name)
		}
		r.funcs[f.Name] = f
		r.extFuncs = append(r.extFuncs, r.hostFunction(f))
	}
	if opts.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opts.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("new runtime: compilation cache %s: %w", opts.CacheDir, err)
		}
		r.cache = c
	} else {
		r.cache = wazero.NewCompilationCache()
	}
	r.inspectRT = wazero.NewRuntimeWithConfig(ctx, r.runtimeConfig(r.cache, 0))
	if !r.fast {
		r.log.Warn("host: extism SDK internals not found; using the slower SDK call path", "reason", sdkFields.reason)
	}
	extism.SetLogLevel(extism.LogLevelTrace)
	go r.janitor()
	return r, nil
}

// runtimeConfig is the wazero configuration of every runtime: a compilation
// cache, calls stopped when their context is done and, when pages > 0, a
// memory limit.
func (r *Runtime) runtimeConfig(cache wazero.CompilationCache, pages uint32) wazero.RuntimeConfig {
	c := wazero.NewRuntimeConfig().WithCompilationCache(cache).WithCloseOnContextDone(true)
	if pages > 0 {
		c = c.WithMemoryLimitPages(pages)
	}
	return c
}

// compiled returns the compiled code of req's version, compiling it once when
// several calls ask at the same time.
func (r *Runtime) compiled(ctx context.Context, req *lhk.CallRequest, lim lhk.Limits) (*version, error) {
	key := versionKey{plugin: req.Plugin, version: req.Version, sha256: req.SHA256, pages: uint32(lim.MemoryMB * (1 << 20) / wasmPageSize)}
	r.mu.Lock()
	v, ok := r.versions[key]
	if !ok {
		v = &version{key: key, ready: make(chan struct{}), lastUsed: time.Now(), maxIdle: max(r.opts.MaxIdlePerVersion, lim.Concurrency)}
		r.versions[key] = v
	}
	r.mu.Unlock()
	if !ok {
		// Compile on behalf of every waiter: do not let this caller's
		// cancellation fail the others.
		v.err = r.compile(context.WithoutCancel(ctx), v, req)
		if v.err != nil {
			r.mu.Lock()
			if r.versions[key] == v {
				delete(r.versions, key)
			}
			r.mu.Unlock()
		}
		close(v.ready)
		if v.err == nil {
			r.enforceBudget()
		}
	} else {
		select {
		case <-v.ready:
		case <-ctx.Done():
			return nil, ctxError(ctx, fmt.Sprintf("waiting for plugin %q version %d to compile", req.Plugin, req.Version))
		}
	}
	if v.err != nil {
		return nil, v.err
	}
	return v, nil
}

func (r *Runtime) compile(ctx context.Context, v *version, req *lhk.CallRequest) error {
	if req.Wasm == nil {
		return lhk.Errorf(lhk.EINTERNAL, "plugin %q version %d: no module loader", req.Plugin, req.Version)
	}
	wasm, err := req.Wasm(ctx)
	if err != nil {
		return fmt.Errorf("load plugin %q version %d: %w", req.Plugin, req.Version, err)
	}
	if req.SHA256 != "" {
		sum := sha256.Sum256(wasm)
		if hex.EncodeToString(sum[:]) != req.SHA256 {
			return lhk.Errorf(lhk.EINTERNAL, "stored module of plugin %q version %d does not match its sha256", req.Plugin, req.Version)
		}
	}
	start := time.Now()
	manifest := extism.Manifest{
		Wasm:   []extism.Wasm{extism.WasmData{Data: wasm}},
		Memory: &extism.ManifestMemory{MaxVarBytes: maxVarBytes, MaxHttpResponseBytes: maxHTTPResponseBytes},
	}
	// Each version has its own in-memory cache over the shared directory: code
	// compiled into a cache shared by all runtimes stays in that cache's engine
	// until the cache closes (the SDK never closes its compiled modules), so a
	// shared one would keep every version's machine code forever.
	cache, err := r.versionCache()
	if err != nil {
		return err
	}
	code, err := extism.NewCompiledPlugin(ctx, manifest, extism.PluginConfig{
		RuntimeConfig: r.runtimeConfig(cache, v.key.pages),
		EnableWasi:    true,
		// Plugins read response headers (rate limits, a redirect's
		// location) through http_headers.
		EnableHttpResponseHeaders: true,
	}, r.extFuncs)
	if err != nil {
		_ = cache.Close(ctx)
		return lhk.Errorf(lhk.EFAILED, "compile plugin %q version %d: %s", req.Plugin, req.Version, firstLine(err.Error()))
	}
	v.code = code
	v.cache = cache
	v.size = int64(len(wasm))
	// A first instance tells the module's exports and warms the pool.
	in, err := r.newInstance(ctx, v)
	if err != nil {
		v.closeCode()
		return err
	}
	r.mu.Lock()
	v.live++
	v.idle = append(v.idle, in)
	in.lastUsed = time.Now()
	r.mu.Unlock()
	r.log.Debug("host: compiled", "plugin", req.Plugin, "version", req.Version, "bytes", len(wasm), "duration", time.Since(start))
	return nil
}

// slots counts the running calls of one plugin. The count outlives evictions
// and limit changes, so the plugin's concurrency holds across them: calls
// that started under an old limit count against the new one.
type slots struct {
	running int
	// freed is made by the first call that waits for a slot and closed by
	// the next call that ends; nil while nobody waits.
	freed chan struct{}
}

// acquire waits until fewer than n calls of plugin run, counts one more and
// returns its release.
func (r *Runtime) acquire(ctx context.Context, plugin string, n int) (func(), error) {
	for {
		r.mu.Lock()
		s := r.slots[plugin]
		if s == nil {
			s = &slots{}
			r.slots[plugin] = s
		}
		if s.running < n {
			s.running++
			r.mu.Unlock()
			return func() { r.release(s) }, nil
		}
		if s.freed == nil {
			s.freed = make(chan struct{})
		}
		freed := s.freed
		r.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, ctxError(ctx, fmt.Sprintf("waiting for a free slot of plugin %q (concurrency %d)", plugin, n))
		}
	}
}

// release ends a call counted by acquire and wakes the calls waiting for a slot.
func (r *Runtime) release(s *slots) {
	r.mu.Lock()
	s.running--
	if s.freed != nil {
		close(s.freed)
		s.freed = nil
	}
	r.mu.Unlock()
}

// get returns a warm instance of v or a new one.
func (r *Runtime) get(ctx context.Context, v *version) (*instance, error) {
	r.mu.Lock()
	if n := len(v.idle); n > 0 {
		in := v.idle[n-1]
		v.idle[n-1] = nil
		v.idle = v.idle[:n-1]
		r.mu.Unlock()
		return in, nil
	}
	v.live++
	r.mu.Unlock()
	in, err := r.newInstance(ctx, v)
	if err != nil {
		r.put(v, nil, false)
		return nil, err
	}
	return in, nil
}

// put returns in to v's pool when it is healthy and there is room, and closes
// it otherwise. in may be nil to give back a slot whose instance never came.
func (r *Runtime) put(v *version, in *instance, healthy bool) {
	now := time.Now()
	r.mu.Lock()
	v.lastUsed = now
	if in != nil && healthy && !v.evicted && !r.closed && len(v.idle) < v.maxIdle {
		in.lastUsed = now
		v.idle = append(v.idle, in)
		r.mu.Unlock()
		return
	}
	v.live--
	closeCode := v.evicted && v.live == 0
	r.mu.Unlock()
	if in != nil {
		in.close()
	}
	if closeCode {
		v.closeCode()
	}
}

func (v *version) closeCode() {
	if v.code != nil {
		_ = v.code.Close(context.Background())
	}
	if v.cache != nil {
		_ = v.cache.Close(context.Background())
	}
}

// versionCache returns a new in-memory compilation cache over the on-disk one.
func (r *Runtime) versionCache() (wazero.CompilationCache, error) {
	if r.opts.CacheDir == "" {
		return wazero.NewCompilationCache(), nil
	}
	c, err := wazero.NewCompilationCacheWithDir(r.opts.CacheDir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache %s: %w", r.opts.CacheDir, err)
	}
	return c, nil
}

// Evict drops the compiled code and warm instances of every version of
// plugin. Calls in progress finish on the old code.
func (r *Runtime) Evict(plugin string) {
	var idle []*instance
	var codes []*version
	r.mu.Lock()
	for k, v := range r.versions {
		if k.plugin != plugin {
			continue
		}
		delete(r.versions, k)
		idle, codes = r.dropLocked(v, idle, codes)
	}
	if s := r.slots[plugin]; s != nil && s.running == 0 && s.freed == nil {
		delete(r.slots, plugin) // nothing runs or waits: forget a deleted plugin
	}
	r.mu.Unlock()
	closeAll(idle, codes)
}

// dropLocked marks v evicted and collects what can be closed at once.
func (r *Runtime) dropLocked(v *version, idle []*instance, codes []*version) ([]*instance, []*version) {
	select {
	case <-v.ready:
	default:
		// Still compiling: the compiling call will find it evicted later.
		v.evicted = true
		return idle, codes
	}
	v.evicted = true
	idle = append(idle, v.idle...)
	v.live -= len(v.idle)
	v.idle = nil
	if v.live == 0 {
		codes = append(codes, v)
	}
	return idle, codes
}

func closeAll(idle []*instance, codes []*version) {
	for _, in := range idle {
		in.close()
	}
	for _, v := range codes {
		v.closeCode()
	}
}

// janitor closes idle instances and unused code.
func (r *Runtime) janitor() {
	defer close(r.stopped)
	every := min(r.opts.IdleTimeout/2, burstIdleTimeout/2)
	every = max(every, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			r.trim(now)
		}
	}
}

// burstIdleTimeout closes the instances a burst of concurrent calls left
// beyond MaxIdlePerVersion sooner than the last ones.
const burstIdleTimeout = 10 * time.Second

// Memory estimates, measured on standard-Go plugins (docs/performance.md):
// compiled code costs about five times the module's size (machine code plus
// wazero's decoded module), an instance about its linear memory.
const (
	codeBytesPerModuleByte = 5
	instanceOverhead       = 256 << 10
)

func (in *instance) memBytes() int64 {
	n := int64(instanceOverhead)
	// Memory() of a module without memory is a typed nil: ask for definitions first.
	if in.main != nil && len(in.main.ExportedMemoryDefinitions()) > 0 {
		n += int64(in.main.Memory().Size())
	} else {
		n += 4 << 20
	}
	return n
}

// enforceBudget releases idle instances, then compiled code without live
// instances, least recently used first, until the estimate fits MemoryBudget.
func (r *Runtime) enforceBudget() {
	var idle []*instance
	var codes []*version
	r.mu.Lock()
	type item struct {
		v    *version
		in   *instance // nil for the version's code
		used time.Time
	}
	var total int64
	var items []item
	for _, v := range r.versions {
		select {
		case <-v.ready:
		default:
			continue
		}
		if v.code == nil {
			continue
		}
		total += v.size * codeBytesPerModuleByte
		items = append(items, item{v: v, used: v.lastUsed})
		for _, in := range v.idle {
			total += in.memBytes()
			items = append(items, item{v: v, in: in, used: in.lastUsed})
		}
		// Busy instances count too, at a typical size.
		total += int64(v.live-len(v.idle)) * (4 << 20)
	}
	if total > r.opts.MemoryBudget {
		// Instances first (cheap to recreate), then code; oldest first.
		slices.SortFunc(items, func(a, b item) int {
			if (a.in == nil) != (b.in == nil) {
				if a.in != nil {
					return -1
				}
				return 1
			}
			return a.used.Compare(b.used)
		})
		for _, it := range items {
			if total <= r.opts.MemoryBudget {
				break
			}
			v := it.v
			if it.in != nil {
				if i := slices.Index(v.idle, it.in); i >= 0 {
					v.idle = slices.Delete(v.idle, i, i+1)
					v.live--
					total -= it.in.memBytes()
					idle = append(idle, it.in)
				}
				continue
			}
			if v.live == 0 && !v.evicted {
				for k, cur := range r.versions {
					if cur == v {
						delete(r.versions, k)
					}
				}
				v.evicted = true
				total -= v.size * codeBytesPerModuleByte
				codes = append(codes, v)
			}
		}
	}
	r.mu.Unlock()
	closeAll(idle, codes)
}

// trim closes instances idle since before now-IdleTimeout and drops code
// without instances unused since before now-CodeIdleTimeout.
func (r *Runtime) trim(now time.Time) {
	var idle []*instance
	var codes []*version
	r.mu.Lock()
	for k, v := range r.versions {
		keep := v.idle[:0]
		extra := len(v.idle) - r.opts.MaxIdlePerVersion // instances kept for a burst
		for i, in := range v.idle {                     // oldest first
			timeout := r.opts.IdleTimeout
			if i < extra {
				timeout = min(timeout, burstIdleTimeout)
			}
			if now.Sub(in.lastUsed) > timeout {
				idle = append(idle, in)
				v.live--
			} else {
				keep = append(keep, in)
			}
		}
		clear(v.idle[len(keep):])
		v.idle = keep
		select {
		case <-v.ready:
			if v.live == 0 && now.Sub(v.lastUsed) > r.opts.CodeIdleTimeout {
				delete(r.versions, k)
				v.evicted = true
				codes = append(codes, v)
			}
		default:
		}
	}
	r.mu.Unlock()
	closeAll(idle, codes)
	r.enforceBudget()
}

// Close stops new calls, waits for calls in progress until ctx is done and
// releases every instance and all compiled code.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.stopped

	done := make(chan struct{})
	go func() { r.calls.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("close runtime: calls still running: %w", ctx.Err())
	}

	var idle []*instance
	var codes []*version
	r.mu.Lock()
	for k, v := range r.versions {
		delete(r.versions, k)
		idle, codes = r.dropLocked(v, idle, codes)
		if v.live > 0 && !containsVersion(codes, v) {
			codes = append(codes, v) // forced: calls still running are stopped
		}
	}
	r.mu.Unlock()
	closeAll(idle, codes)
	_ = r.inspectRT.Close(context.Background())
	if cerr := r.cache.Close(context.Background()); cerr != nil && err == nil {
		err = fmt.Errorf("close runtime: compilation cache: %w", cerr)
	}
	return err
}

func containsVersion(vs []*version, v *version) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// ctxError turns a done context into ETIMEOUT (deadline) or EUNAVAILABLE
// (cancelled), saying what was being waited for.
func ctxError(ctx context.Context, what string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return lhk.Errorf(lhk.ETIMEOUT, "%s: deadline exceeded", what)
	}
	return lhk.Errorf(lhk.EUNAVAILABLE, "%s: cancelled", what)
}
