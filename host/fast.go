package host

import (
	"context"
	"fmt"
	"reflect"
	"unsafe"

	extism "github.com/extism/go-sdk"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// The fast call path.
//
// The SDK's Plugin.CallWithContext asks wazero for an api.Function by name for
// every kernel call (reset, alloc, input_set, error_get, output_offset,
// output_length) and so does its extism:host/env module for every kernel call
// the guest makes. Each ExportedFunction allocates a call engine with a 10 KB
// stack, which dominates a warm call. The fast path keeps the functions per
// instance in kernelModule, puts that into the context under the key the env
// module reads, and drives the call sequence with them. It needs the SDK's
// private fields Plugin.extism and Plugin.mainModule, found by reflection;
// when an SDK upgrade removes them the runtime falls back to CallWithContext
// (and TestSDKFields fails).

// sdkFields locates the SDK's private fields once.
var sdkFields = findSDKFields()

type fieldOffsets struct {
	ok           bool
	reason       string
	extism, main uintptr
}

func findSDKFields() fieldOffsets {
	t := reflect.TypeFor[extism.Plugin]()
	modT := reflect.TypeFor[api.Module]()
	e, ok := t.FieldByName("extism")
	if !ok || e.Type != modT {
		return fieldOffsets{reason: "field extism.Plugin.extism of type api.Module not found"}
	}
	m, ok := t.FieldByName("mainModule")
	if !ok || m.Type != modT {
		return fieldOffsets{reason: "field extism.Plugin.mainModule of type api.Module not found"}
	}
	return fieldOffsets{ok: true, extism: e.Offset, main: m.Offset}
}

// sdkModules returns the kernel and guest modules of p. Only call it when
// sdkFields.ok.
func sdkModules(p *extism.Plugin) (kernel, main api.Module) {
	base := unsafe.Pointer(p)
	kernel = *(*api.Module)(unsafe.Add(base, sdkFields.extism))
	main = *(*api.Module)(unsafe.Add(base, sdkFields.main))
	return kernel, main
}

// kernelModule is the Extism kernel module of one instance with its exported
// functions cached. It is used by one goroutine at a time, like its instance.
// Kernel functions never call back into the host, so a cached function is
// never re-entered.
//
// Its functions run with ctx, the context of the call in progress without
// its cancellation: wazero watches a cancellable context with a goroutine per
// function call, which would cost more than the kernel function itself.
// Kernel functions are short and always end; the guest's own function still
// stops at the deadline.
type kernelModule struct {
	api.Module
	fns map[string]api.Function
	mem api.Memory
	ctx context.Context
}

func newKernelModule(m api.Module) *kernelModule {
	return &kernelModule{Module: m, fns: make(map[string]api.Function, 24), mem: m.ExportedMemory("memory"), ctx: context.Background()}
}

// ExportedFunction returns the cached function, looking it up on first use.
func (k *kernelModule) ExportedFunction(name string) api.Function {
	if f, ok := k.fns[name]; ok {
		return f
	}
	var f api.Function
	if real := k.Module.ExportedFunction(name); real != nil {
		f = kernelFunc{Function: real, k: k}
		k.fns[name] = f
	}
	return f
}

// kernelFunc is a kernel function that runs with its module's ctx.
type kernelFunc struct {
	api.Function
	k *kernelModule
}

// Call implements api.Function.
func (f kernelFunc) Call(_ context.Context, params ...uint64) ([]uint64, error) {
	return f.Function.Call(f.k.ctx, params...)
}

// CallWithStack implements api.Function.
func (f kernelFunc) CallWithStack(_ context.Context, stack []uint64) error {
	return f.Function.CallWithStack(f.k.ctx, stack)
}

// ExportedMemory returns the kernel's memory, cached.
func (k *kernelModule) ExportedMemory(name string) api.Memory {
	if name == "memory" {
		return k.mem
	}
	return k.Module.ExportedMemory(name)
}

// call runs a kernel function with args on stack and returns stack[0].
func (k *kernelModule) call(ctx context.Context, stack []uint64, name string) (uint64, error) {
	f := k.ExportedFunction(name)
	if f == nil {
		return 0, fmt.Errorf("extism kernel has no function %q", name)
	}
	if err := f.CallWithStack(ctx, stack); err != nil {
		return 0, err
	}
	if len(stack) == 0 {
		return 0, nil
	}
	return stack[0], nil
}

// export returns the guest's function name, cached.
func (in *instance) export(name string) api.Function {
	if f, ok := in.fns[name]; ok {
		return f
	}
	f := in.main.ExportedFunction(name)
	if f != nil {
		in.fns[name] = f
	}
	return f
}

// fastCall does what extism's Plugin.CallWithContext does, with cached
// functions: the same context values, WASI exit codes, error_get and output
// copy. It checks the output's size before copying it.
func (in *instance) fastCall(ctx context.Context, name string, input []byte, maxOut int) (o outcome) {
	if in.main.IsClosed() {
		o.err = fmt.Errorf("module is closed")
		return o
	}
	k := in.kernel
	k.ctx = context.WithoutCancel(ctx)
	defer func() { k.ctx = context.Background() }()
	ctx = context.WithValue(ctx, extism.PluginCtxKey("extism"), api.Module(k))
	ctx = context.WithValue(ctx, extism.PluginCtxKey("plugin"), in.plugin)
	s := in.stack[:]

	if _, err := k.call(ctx, s[:0:2], "reset"); err != nil {
		o.err = err
		return o
	}
	s[0] = uint64(len(input))
	ptr, err := k.call(ctx, s, "alloc")
	if err != nil {
		o.err = err
		return o
	}
	if !k.mem.Write(uint32(ptr), input) {
		o.err = fmt.Errorf("write input of %d bytes at %d: out of range", len(input), ptr)
		return o
	}
	s[0], s[1] = ptr, uint64(len(input))
	if _, err := k.call(ctx, s, "input_set"); err != nil {
		o.err = err
		return o
	}
	ctx = context.WithValue(ctx, extism.InputOffsetKey("inputOffset"), ptr)

	f := in.export(name)
	if f == nil {
		o.rc, o.err = 1, fmt.Errorf("unknown function: %s", name)
		return o
	}
	def := f.Definition()
	nres := len(def.ResultTypes())
	if nres > 1 {
		o.rc, o.err = 1, fmt.Errorf("function %s has %v results, expected 0 or 1", name, nres)
		return o
	}
	var res []uint64
	if len(def.ParamTypes()) == 0 {
		s[0] = 0
		err = f.CallWithStack(ctx, s[:1])
		if nres == 1 {
			res = s[:1]
		}
	} else {
		res, err = f.Call(ctx) // fails like the SDK's call does
	}
	if exitErr, ok := err.(*sys.ExitError); ok {
		if exitErr.ExitCode() == 0 {
			err = nil
		}
		if len(res) == 0 {
			res = []uint64{api.EncodeU32(exitErr.ExitCode())}
		}
	}
	switch {
	case len(res) > 0:
		o.rc = api.DecodeU32(res[0])
	case err != nil:
		o.rc = 1
	}
	if err != nil {
		o.err = err
		return o
	}

	off, err := k.call(ctx, s, "error_get")
	if err == nil && off != 0 {
		s[0] = off
		if n, err := k.call(ctx, s, "length"); err == nil {
			if b, ok := k.mem.Read(uint32(off), uint32(n)); ok {
				o.pluginErr = string(b)
			}
		}
	}
	if o.pluginErr != "" {
		return o
	}
	off, err = k.call(ctx, s, "output_offset")
	if err != nil {
		o.err = fmt.Errorf("failed to get output: %v", err)
		return o
	}
	n, err := k.call(ctx, s, "output_length")
	if err != nil {
		o.err = fmt.Errorf("failed to get output: %v", err)
		return o
	}
	o.outLen = n
	if n > uint64(maxOut) {
		return o
	}
	b, _ := k.mem.Read(uint32(off), uint32(n))
	o.out = make([]byte, len(b))
	copy(o.out, b)
	return o
}
