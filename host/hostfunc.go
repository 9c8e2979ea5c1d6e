package host

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"

	"github.com/lhk-soc/lhk"
)

// hostFunction wraps f as the import lhk.<f.Name> with the Extism host ABI:
// one i64 parameter, the offset of a JSON request in Extism memory, and one
// i64 result, the offset of a JSON envelope {"data": …} or
// {"error": {"code", "message"}}. The guest owns both blocks and may free them.
func (r *Runtime) hostFunction(f lhk.HostFunction) extism.HostFunction {
	hf := extism.NewHostFunctionWithStack(f.Name, func(ctx context.Context, p *extism.CurrentPlugin, stack []uint64) {
		stack[0] = r.serveHostCall(ctx, p, f, stack[0])
	}, []extism.ValueType{extism.ValueTypeI64}, []extism.ValueType{extism.ValueTypeI64})
	hf.SetNamespace(lhk.HostModule)
	return hf
}

// envelope is the reply of every lhk host function.
type envelope struct {
	Data  any            `json:"data,omitempty"`
	Error *envelopeError `json:"error,omitempty"`
}

type envelopeError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func errorEnvelope(code, format string, args ...any) envelope {
	return envelope{Error: &envelopeError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// serveHostCall reads the request at offset, checks the grant, runs f and
// writes the envelope, returning its offset (0 when it cannot be written).
func (r *Runtime) serveHostCall(ctx context.Context, p *extism.CurrentPlugin, f lhk.HostFunction, offset uint64) uint64 {
	k := kernelFrom(ctx)
	if k == nil {
		r.log.Error("host: host function called without a kernel in context", "function", f.Name)
		return 0
	}
	start := time.Now()
	env := r.hostCall(ctx, k, f, offset)
	if obs := r.opts.ObserveHostCall; obs != nil {
		outcome := "ok"
		if env.Error != nil {
			outcome = env.Error.Code
		}
		obs(f.Name, outcome, time.Since(start))
	}
	b, err := json.Marshal(env)
	if err != nil {
		cs, _ := ctx.Value(callKey{}).(*callState)
		r.log.Error("host: encode host function reply", "function", f.Name, "plugin", pluginOf(cs), "err", err)
		b, _ = json.Marshal(errorEnvelope(lhk.EINTERNAL, "lhk.%s: internal error", f.Name))
	}
	out, err := writeBlock(ctx, k, b)
	if err != nil {
		r.log.Warn("host: write host function reply", "function", f.Name, "bytes", len(b), "err", err)
		return 0
	}
	return out
}

func (r *Runtime) hostCall(ctx context.Context, k api.Module, f lhk.HostFunction, offset uint64) envelope {
	cs, _ := ctx.Value(callKey{}).(*callState)
	if cs == nil {
		return errorEnvelope(lhk.EINTERNAL, "lhk.%s: no call in progress", f.Name)
	}
	n, err := callKernel(ctx, k, "length", offset)
	if err != nil {
		return errorEnvelope(lhk.EINVALID, "lhk.%s: request at offset %d is not an Extism memory block", f.Name, offset)
	}
	if n > MaxHostRequestBytes {
		return errorEnvelope(lhk.EINVALID, "lhk.%s: request of %d bytes is over the limit of %d bytes", f.Name, n, MaxHostRequestBytes)
	}
	raw, ok := k.ExportedMemory("memory").Read(uint32(offset), uint32(n))
	if !ok {
		return errorEnvelope(lhk.EINVALID, "lhk.%s: request at offset %d is out of memory range", f.Name, offset)
	}
	req := make([]byte, len(raw))
	copy(req, raw)
	if f.Capability != "" && !cs.call.Grant.Allows(f.Capability) {
		return errorEnvelope(lhk.EFORBIDDEN, "lhk.%s needs capability %q, which plugin %q is not granted", f.Name, f.Capability, cs.call.Plugin)
	}
	data, err := r.handle(ctx, f, cs, req)
	if err != nil {
		code := lhk.ErrorCode(err)
		if code == lhk.EINTERNAL && err != errHostPanic {
			r.log.Error("host: host function failed", "function", f.Name, "plugin", cs.call.Plugin, "invocation", cs.call.InvocationID, "err", err)
		}
		return errorEnvelope(code, "%s", lhk.ErrorMessage(err))
	}
	return envelope{Data: data}
}

// errHostPanic is the error of a host function that panicked (and was logged).
var errHostPanic = &lhk.Error{Code: lhk.EINTERNAL, Message: "internal error"}

// handle runs f.Handle, turning a panic into an internal error.
func (r *Runtime) handle(ctx context.Context, f lhk.HostFunction, cs *callState, req []byte) (data any, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("host: host function panicked", "function", f.Name, "plugin", cs.call.Plugin,
				"invocation", cs.call.InvocationID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			data, err = nil, errHostPanic
		}
	}()
	call := cs.call
	return f.Handle(ctx, &call, req)
}

// kernelFrom returns the Extism kernel module the SDK or the fast path put
// into the context of the call in progress.
func kernelFrom(ctx context.Context) api.Module {
	m, _ := ctx.Value(extism.PluginCtxKey("extism")).(api.Module)
	return m
}

func callKernel(ctx context.Context, k api.Module, name string, arg uint64) (uint64, error) {
	f := k.ExportedFunction(name)
	if f == nil {
		return 0, fmt.Errorf("extism kernel has no function %q", name)
	}
	stack := []uint64{arg}
	if err := f.CallWithStack(ctx, stack); err != nil {
		return 0, err
	}
	return stack[0], nil
}

// writeBlock allocates an Extism memory block holding b.
func writeBlock(ctx context.Context, k api.Module, b []byte) (uint64, error) {
	off, err := callKernel(ctx, k, "alloc", uint64(len(b)))
	if err != nil {
		return 0, err
	}
	if off == 0 && len(b) > 0 {
		return 0, fmt.Errorf("alloc of %d bytes failed", len(b))
	}
	if !k.ExportedMemory("memory").Write(uint32(off), b) {
		return 0, fmt.Errorf("write %d bytes at %d: out of range", len(b), off)
	}
	return off, nil
}

func pluginOf(cs *callState) string {
	if cs == nil {
		return ""
	}
	return cs.call.Plugin
}
