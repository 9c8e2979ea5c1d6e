package host

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/lhk-soc/lhk"
)

// callKey carries the *callState of the call in progress to host functions.
type callKey struct{}

// callState is what host functions learn about the call that invoked them.
type callState struct {
	call lhk.HostCall
}

// Call runs one function of a plugin version under req.Limits. See
// lhk.Runtime for the errors it returns; the result carries the logs of
// failed calls too.
func (r *Runtime) Call(ctx context.Context, req lhk.CallRequest) (*lhk.CallResult, error) {
	lim := req.Limits.WithDefaults()
	fn := req.Function
	if fn == "" {
		fn = lhk.DefaultEntrypoint
	}
	if len(req.Input) > lim.MaxInputBytes {
		return nil, lhk.Errorf(lhk.ETOOLARGE, "input of %d bytes is over the limit of %d bytes (max_input_bytes)", len(req.Input), lim.MaxInputBytes)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, lhk.Errorf(lhk.EUNAVAILABLE, "runtime is shutting down")
	}
	r.calls.Add(1)
	r.mu.Unlock()
	defer r.calls.Done()

	release, err := r.acquire(ctx, req.Plugin, lim.Concurrency)
	if err != nil {
		return nil, err
	}
	defer release()
	v, err := r.compiled(ctx, &req, lim)
	if err != nil {
		return nil, err
	}
	if !v.exports[fn] {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "plugin %q version %d has no function %q", req.Plugin, req.Version, fn)
	}
	in, err := r.get(ctx, v)
	if err != nil {
		return nil, err
	}
	res, healthy, err := in.call(ctx, r, &req, fn, lim)
	r.put(v, in, healthy)
	return res, err
}

// instance is one instantiated plugin: the SDK's plugin plus what the fast
// path caches. It serves one call at a time.
type instance struct {
	plugin *extism.Plugin
	kernel *kernelModule // nil without the fast path
	main   api.Module    // the guest module; nil without the fast path
	fns    map[string]api.Function
	stack  [2]uint64
	// initialized is set after the first call, made through the SDK, which
	// runs the guest's runtime initialisation (_initialize, hs_init…).
	initialized bool
	lastUsed    time.Time

	logs           *collector // of the call in progress; nil between calls
	sdkCall        bool       // the call in progress goes through the SDK
	stdout, stderr lineWriter
}

func (r *Runtime) newInstance(ctx context.Context, v *version) (*instance, error) {
	in := &instance{}
	in.stdout = lineWriter{in: in, level: "stdout"}
	in.stderr = lineWriter{in: in, level: "stderr", keepTail: true}
	// WASI without a filesystem, sockets, environment or arguments; real
	// clocks and randomness.
	mc := wazero.NewModuleConfig().
		WithStdout(&in.stdout).
		WithStderr(&in.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	p, err := v.code.Instance(ctx, extism.PluginInstanceConfig{ModuleConfig: mc})
	if err != nil {
		return nil, lhk.Errorf(lhk.EFAILED, "instantiate plugin %q version %d: %s", v.key.plugin, v.key.version, firstLine(err.Error()))
	}
	p.SetLogger(in.logExtism)
	p.Config = map[string]string{}
	in.plugin = p
	if v.exports == nil {
		exports := make(map[string]bool)
		for name := range p.Module().ExportedFunctions() {
			exports[name] = true
		}
		v.exports = exports // written by compile, before v.ready is closed
	}
	if r.fast {
		kernel, main := sdkModules(p)
		in.kernel = newKernelModule(kernel)
		in.main = main
		in.fns = make(map[string]api.Function)
	}
	return in, nil
}

func (in *instance) close() {
	_ = in.plugin.Close(context.Background())
}

// call runs fn and reports whether the instance may be reused.
func (in *instance) call(ctx context.Context, r *Runtime, req *lhk.CallRequest, fn string, lim lhk.Limits) (*lhk.CallResult, bool, error) {
	in.logs = newCollector(lim.MaxLogLines)
	in.stdout.reset()
	in.stderr.reset()
	defer func() { in.logs = nil }()
	in.plugin.Config = req.Config
	if in.plugin.Config == nil {
		in.plugin.Config = map[string]string{}
	}
	// Extism's outbound HTTP reaches only the grant's hosts, and nothing
	// without the http capability (the SDK denies every host of an empty list).
	in.plugin.AllowedHosts = nil
	if req.Grant.Allows(lhk.CapHTTP) {
		in.plugin.AllowedHosts = req.Grant.AllowedHosts
	}
	ctx = context.WithValue(ctx, callKey{}, &callState{call: lhk.HostCall{
		Plugin:       req.Plugin,
		Version:      req.Version,
		InvocationID: req.InvocationID,
		Caller:       req.Caller,
		Grant:        req.Grant,
	}})
	tctx, cancel := context.WithTimeout(ctx, time.Duration(lim.TimeoutMS)*time.Millisecond)
	defer cancel()

	var o outcome
	if in.kernel != nil && in.initialized {
		o = in.fastCall(tctx, fn, req.Input, lim.MaxOutputBytes)
	} else {
		o = in.sdkCallWith(tctx, fn, req.Input)
	}
	in.initialized = true
	in.stdout.flush()
	in.stderr.flush()
	res := &lhk.CallResult{Logs: in.logs.finish()}
	what := fmt.Sprintf("function %q of plugin %q", fn, req.Plugin)

	if o.err != nil {
		if tctx.Err() != nil {
			if errors.Is(tctx.Err(), context.DeadlineExceeded) {
				return res, false, lhk.Errorf(lhk.ETIMEOUT, "%s ran past its time-out of %d ms", what, lim.TimeoutMS)
			}
			return res, false, lhk.Errorf(lhk.EUNAVAILABLE, "%s: call cancelled", what)
		}
		var exit *sys.ExitError
		if errors.As(o.err, &exit) {
			msg := fmt.Sprintf("%s exited with code %d", what, exit.ExitCode())
			if line := in.stderr.reason(); line != "" {
				msg += ": " + line
			}
			return res, false, &lhk.Error{Code: lhk.EFAILED, Message: msg}
		}
		// A Go guest prints its panic to stderr before trapping.
		if line := in.stderr.reason(); isCrashLine(line) {
			return res, false, lhk.Errorf(lhk.EFAILED, "%s crashed: %s (%s)", what, line, trapMessage(o.err))
		}
		return res, false, lhk.Errorf(lhk.EFAILED, "%s trapped: %s", what, trapMessage(o.err))
	}
	if o.pluginErr != "" {
		return res, true, lhk.Errorf(lhk.EFAILED, "%s", o.pluginErr)
	}
	if o.rc != 0 {
		return res, true, lhk.Errorf(lhk.EFAILED, "%s returned %d", what, o.rc)
	}
	if o.outLen > uint64(lim.MaxOutputBytes) {
		return res, true, lhk.Errorf(lhk.EFAILED, "%s: output of %d bytes is over the limit of %d bytes (max_output_bytes)", what, o.outLen, lim.MaxOutputBytes)
	}
	res.Output = o.out
	return res, true, nil
}

// outcome is what one guest call produced.
type outcome struct {
	rc        uint32
	out       []byte
	outLen    uint64
	pluginErr string // set through error_set
	err       error  // trap, exit or context
}

// sdkCallWith calls fn through the SDK's CallWithContext: the first call of
// every instance (the SDK initialises the guest runtime) and every call when
// the fast path is off.
func (in *instance) sdkCallWith(ctx context.Context, fn string, input []byte) outcome {
	in.sdkCall = true
	rc, out, err := in.plugin.CallWithContext(ctx, fn, input)
	in.sdkCall = false
	o := outcome{rc: rc, out: out, outLen: uint64(len(out))}
	if err == nil {
		return o
	}
	// CallWithContext returns the guest's error_set message as a plain error;
	// tell it apart from a trap by asking the kernel for it.
	if msg := in.plugin.GetErrorWithContext(context.Background()); msg != "" && msg == err.Error() {
		o.pluginErr = msg
		return o
	}
	o.err = err
	return o
}

// trapMessage keeps the first line of a wazero error, without the wasm stack
// trace and without wazero's "(recovered by wazero)" note.
func trapMessage(err error) string {
	s := firstLine(err.Error())
	s = strings.TrimSuffix(strings.TrimSpace(s), "(recovered by wazero)")
	return strings.TrimSpace(s)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
