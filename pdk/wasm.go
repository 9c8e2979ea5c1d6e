//go:build wasip1

package pdk

import (
	extism "github.com/extism/go-pdk"
)

// The log imports are declared here rather than taken from go-pdk, whose
// trace logging goes to log_error.

//go:wasmimport extism:host/env log_trace
func extismLogTrace(offset uint64)

//go:wasmimport extism:host/env log_debug
func extismLogDebug(offset uint64)

//go:wasmimport extism:host/env log_info
func extismLogInfo(offset uint64)

//go:wasmimport extism:host/env log_warn
func extismLogWarn(offset uint64)

//go:wasmimport extism:host/env log_error
func extismLogError(offset uint64)

//go:wasmimport extism:host/env get_log_level
func extismGetLogLevel() int32

// Input returns the invocation's input.
func Input() []byte { return extism.Input() }

// Output sets the invocation's output. The last call wins.
func Output(b []byte) { extism.Output(b) }

// Config returns the value of the plugin's configuration key and whether it
// is set.
func Config(key string) (string, bool) { return extism.GetConfig(key) }

// Var returns the value of an instance variable, or nil when it is not set.
// Vars live as long as the plugin's instance; see the package documentation.
func Var(key string) []byte { return extism.GetVar(key) }

// SetVar sets an instance variable. The daemon caps the total size of an
// instance's vars (1 MiB) and fails the invocation beyond it.
func SetVar(key string, value []byte) { extism.SetVar(key, value) }

// DeleteVar removes an instance variable.
func DeleteVar(key string) { extism.RemoveVar(key) }

func setError(msg string) { extism.SetErrorString(msg) }

func logMessage(level Level, msg string) {
	if int32(level) < extismGetLogLevel() {
		return
	}
	// The host frees the block after reading it.
	mem := extism.AllocateString(msg)
	off := mem.Offset()
	switch level {
	case LevelTrace:
		extismLogTrace(off)
	case LevelDebug:
		extismLogDebug(off)
	case LevelInfo:
		extismLogInfo(off)
	case LevelWarn:
		extismLogWarn(off)
	default:
		extismLogError(off)
	}
}

func invoke(fn HostFunc, req []byte) ([]byte, error) {
	in := extism.AllocateBytes(req)
	off := fn(in.Offset())
	in.Free()
	if off == 0 {
		return nil, &Error{Code: CodeInternal, Message: "host function returned no reply"}
	}
	out := extism.FindMemory(off)
	b := out.ReadBytes()
	out.Free()
	return b, nil
}

// extismMethods maps HTTP methods to go-pdk's.
var extismMethods = map[string]extism.HTTPMethod{
	"GET": extism.MethodGet, "HEAD": extism.MethodHead, "POST": extism.MethodPost,
	"PUT": extism.MethodPut, "PATCH": extism.MethodPatch, "DELETE": extism.MethodDelete,
	"OPTIONS": extism.MethodOptions,
}

func sendHTTP(req HTTPRequest) (*HTTPResponse, error) {
	r := extism.NewHTTPRequest(extismMethods[req.Method], req.URL)
	for k, v := range req.Header {
		r.SetHeader(k, v)
	}
	if len(req.Body) > 0 {
		r.SetBody(req.Body)
	}
	resp := r.Send()
	out := &HTTPResponse{Status: int(resp.Status()), Header: resp.Headers(), Body: resp.Body()}
	if mem := resp.Memory(); mem.Length() > 0 {
		mem.Free()
	}
	return out, nil
}
