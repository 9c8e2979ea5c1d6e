// Package pdk is the lhk plugin development kit for Go: everything a plugin
// needs to read its input, write its output, log, read its configuration, keep
// per-instance variables, report errors and call lhk's host functions.
//
// A plugin is a Go main package built with the standard toolchain, no TinyGo:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// Each function the daemon may call is exported with //go:wasmexport, takes no
// arguments and returns an int32 status (0 for success). The default function
// is "run"; others are called by name (POST /v1/plugins/{name}/invoke/{function}).
// [Run] turns a Go error into that status and the error message the caller sees:
//
//	package main
//
//	import "github.com/lhk-soc/lhk/pdk"
//
//	//go:wasmexport run
//	func run() int32 {
//		return pdk.Run(func() error {
//			var in struct{ Name string `json:"name"` }
//			if err := pdk.InputJSON(&in); err != nil {
//				return err
//			}
//			pdk.Logf(pdk.LevelInfo, "greeting %s", in.Name)
//			return pdk.OutputJSON(map[string]string{"greeting": "hello " + in.Name})
//		})
//	}
//
//	func main() {}
//
// # What lives where
//
//   - Input and output are bytes ([Input], [Output]) or JSON ([InputJSON],
//     [OutputJSON]). The daemon caps both (max_input_bytes, max_output_bytes).
//   - [Log] and [Logf] write to the invocation's log, shown in the invocation
//     history next to anything written to os.Stdout ("stdout") and os.Stderr
//     ("stderr"). The number of lines per invocation is capped (max_log_lines).
//   - [Config] reads the plugin's configuration, set by its owner with
//     PATCH /v1/plugins/{name} {"config": {...}}.
//   - [Var], [SetVar] and [DeleteVar] keep small values in the running instance
//     of the plugin. The daemon reuses instances, so a var may survive from one
//     invocation to the next, but it is lost whenever the instance is replaced
//     (an error, an idle period, a restart, another replica). Never rely on it
//     for state; use the kv system for that.
//   - [Call] calls a host function of the "lhk" import module (a system
//     operation such as searching logs or creating a ticket) with a JSON
//     request, and returns its reply or an [*Error] with a code such as
//     [CodeForbidden] when the plugin's grant does not allow it. Typed wrappers
//     for each system are built on it.
//
// Outside WebAssembly (go test, go vet on the developer's machine) the package
// compiles with fallbacks: input is empty, output and logs are discarded and
// host calls fail with [ErrNotWasm]. Keep a plugin's logic in plain functions
// so it can be unit-tested on the host.
//
// A panic in a plugin ends the invocation: the daemon reports it as failed
// with the panic's first line and starts a fresh instance for the next call.
package pdk
