package lhk

import (
	"context"
)

// Module describes an uploaded WebAssembly module after validation.
type Module struct {
	SHA256  string
	Imports []Import
	Exports []string
	// Capabilities are those the module's lhk imports need, sorted.
	Capabilities []string
}

// CallRequest is one call into a plugin version, as the runtime sees it.
type CallRequest struct {
	Plugin  string
	Version int
	SHA256  string
	// Wasm loads the module bytes when the runtime has not compiled this version yet.
	Wasm     func(ctx context.Context) ([]byte, error)
	Function string
	Input    []byte
	Config   map[string]string
	Limits   Limits
	Grant    Grant
	// InvocationID and Caller identify the run to host functions and logs.
	InvocationID string
	Caller       string
}

// CallResult is what one call produced. Output is empty when Err is set.
type CallResult struct {
	Output []byte
	Logs   []LogLine
}

// Runtime runs plugin versions in a sandbox. host.Runtime implements it.
type Runtime interface {
	// Inspect validates a module and reports its imports, exports and the
	// capabilities it needs. Invalid modules are EINVALID with a message saying why.
	Inspect(ctx context.Context, wasm []byte) (*Module, error)
	// Call runs one function. A time-out is ETIMEOUT; a trap, a memory limit or
	// a plugin error is EFAILED with the plugin's message; an unknown function
	// is ENOTFOUND naming it.
	Call(ctx context.Context, req CallRequest) (*CallResult, error)
	// Evict drops compiled code and pooled instances of a plugin's versions.
	Evict(plugin string)
	// Close releases everything.
	Close(ctx context.Context) error
}
