package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/lhk-soc/lhk"
)

// Import modules a plugin may use.
const (
	moduleExtism = "extism:host/env"
	moduleWASI   = "wasi_snapshot_preview1"
)

var wasmMagic = []byte("\x00asm")

// Inspect validates a module and reports its imports, exports, sha256 and the
// capabilities its lhk imports need. It compiles the module, which fills the
// on-disk cache so that the first call of the version does not compile again.
func (r *Runtime) Inspect(ctx context.Context, wasm []byte) (*lhk.Module, error) {
	switch {
	case len(wasm) == 0:
		return nil, lhk.Errorf(lhk.EINVALID, "empty module: send the .wasm file as the body")
	case !bytes.HasPrefix(wasm, wasmMagic):
		return nil, lhk.Errorf(lhk.EINVALID, "not a WebAssembly module: it does not start with \\0asm")
	}
	if err := precheck(wasm); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	cm, err := r.inspectRT.CompileModule(ctx, wasm)
	if err != nil {
		return nil, lhk.Errorf(lhk.EINVALID, "module does not compile: %s", firstLine(err.Error()))
	}
	defer cm.Close(context.WithoutCancel(ctx))

	m := &lhk.Module{SHA256: hex.EncodeToString(sum[:]), Imports: []lhk.Import{}, Exports: []string{}, Capabilities: []string{}}
	var foreign, unknown, badType []string
	for _, mem := range cm.ImportedMemories() {
		mod, name, _ := mem.Import()
		foreign = append(foreign, "memory "+mod+"."+name)
	}
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		m.Imports = append(m.Imports, lhk.Import{Module: mod, Name: name})
		switch mod {
		case moduleExtism, moduleWASI:
		case lhk.HostModule:
			hf, ok := r.funcs[name]
			if !ok {
				unknown = append(unknown, mod+"."+name)
				continue
			}
			if !isI64ToI64(f) {
				badType = append(badType, mod+"."+name)
			}
			if hf.Capability != "" {
				m.Capabilities = append(m.Capabilities, hf.Capability)
			}
		default:
			foreign = append(foreign, mod+"."+name)
		}
	}
	switch {
	case len(foreign) > 0:
		return nil, lhk.Errorf(lhk.EINVALID, "module imports %s; plugins may import only from %s, %s and %s",
			strings.Join(foreign, ", "), moduleExtism, moduleWASI, lhk.HostModule)
	case len(unknown) > 0:
		return nil, lhk.Errorf(lhk.EINVALID, "module imports unknown lhk host functions: %s", strings.Join(unknown, ", "))
	case len(badType) > 0:
		return nil, lhk.Errorf(lhk.EINVALID, "lhk host functions %s must be imported with type (i64) -> i64", strings.Join(badType, ", "))
	}
	for name := range cm.ExportedFunctions() {
		m.Exports = append(m.Exports, name)
	}
	slices.Sort(m.Exports)
	slices.Sort(m.Capabilities)
	m.Capabilities = slices.Compact(m.Capabilities)
	return m, nil
}

func isI64ToI64(f api.FunctionDefinition) bool {
	p, r := f.ParamTypes(), f.ResultTypes()
	return len(p) == 1 && p[0] == api.ValueTypeI64 && len(r) == 1 && r[0] == api.ValueTypeI64
}
