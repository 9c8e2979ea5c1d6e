package pdk

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Level is the severity of a log line.
type Level int

// The log levels, from the most verbose to the most severe. The daemon records
// every level.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

// String returns the level's name as it appears in the invocation log.
func (l Level) String() string {
	switch l {
	case LevelTrace:
		return "trace"
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return fmt.Sprintf("level(%d)", int(l))
}

// Log writes msg to the invocation's log at the given level.
func Log(level Level, msg string) { logMessage(level, msg) }

// Logf formats its arguments like fmt.Sprintf and writes the result to the
// invocation's log at the given level.
func Logf(level Level, format string, args ...any) {
	logMessage(level, fmt.Sprintf(format, args...))
}

// InputString returns the invocation's input as a string.
func InputString() string { return string(Input()) }

// InputJSON decodes the invocation's input as JSON into v. An empty input is
// an error naming what was expected.
func InputJSON(v any) error {
	in := Input()
	if len(in) == 0 {
		return fmt.Errorf("input: expected JSON, got an empty input")
	}
	if err := json.Unmarshal(in, v); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	return nil
}

// OutputString sets the invocation's output to s.
func OutputString(s string) { Output([]byte(s)) }

// OutputJSON encodes v as JSON and sets it as the invocation's output.
func OutputJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	Output(b)
	return nil
}

// Run calls fn and returns the status an exported function returns to the
// daemon: 0 when fn returns nil, otherwise 1 after recording the error's
// message as the invocation's error. Use it as the body of every
// //go:wasmexport function:
//
//	//go:wasmexport run
//	func run() int32 { return pdk.Run(doRun) }
func Run(fn func() error) int32 {
	if err := fn(); err != nil {
		SetError(err)
		return 1
	}
	return 0
}

// SetError records err's message as the invocation's error. The exported
// function should then return a non-zero status; [Run] does both.
func SetError(err error) {
	if err == nil {
		return
	}
	setError(err.Error())
}

// Error codes a host function may return, the Code of an [*Error]. They
// match the daemon's error codes and the codes of its HTTP API.
const (
	CodeInvalid     = "invalid"     // the request is malformed or breaks a rule or limit
	CodeNotFound    = "not_found"   // the named thing does not exist (or is another tenant's)
	CodeConflict    = "conflict"    // the request clashes with the current state, e.g. a ticket's external key is taken
	CodeForbidden   = "forbidden"   // the plugin's grant lacks the capability or the tenant
	CodeTooLarge    = "too_large"   // a request or a field is over its size limit
	CodeUnavailable = "unavailable" // the system behind the call is down; retrying later may work
	CodeTimeout     = "timeout"     // a log query ran past the daemon's query budget; narrow it
	CodeInternal    = "internal"    // a bug or an unexpected failure in the daemon
)

// Error is an error returned by a host function: a code such as
// [CodeForbidden] and a message safe to log or show, e.g. "capability
// tickets.write is not granted". Test for a code with [IsForbidden],
// [IsNotFound]… or [ErrorCode]; errors.As works too:
//
//	var e *pdk.Error
//	if errors.As(err, &e) { pdk.Logf(pdk.LevelWarn, "%s: %s", e.Code, e.Message) }
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error returns "code: message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorCode returns the code of the first [*Error] in err's chain, "" for nil
// and [CodeInternal] for any other error (including [ErrNotWasm]).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// hasCode reports whether err's chain holds an [*Error] with the code.
func hasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// IsInvalid reports whether err is an [*Error] with [CodeInvalid]: the
// request broke a rule, e.g. a search without a time range.
func IsInvalid(err error) bool { return hasCode(err, CodeInvalid) }

// IsNotFound reports whether err is an [*Error] with [CodeNotFound]: the
// ticket, asset, filter or channel does not exist for that tenant.
func IsNotFound(err error) bool { return hasCode(err, CodeNotFound) }

// IsConflict reports whether err is an [*Error] with [CodeConflict], e.g. a
// ticket whose external key the tenant already uses.
func IsConflict(err error) bool { return hasCode(err, CodeConflict) }

// IsForbidden reports whether err is an [*Error] with [CodeForbidden]: the
// plugin's grant lacks the capability or the tenant of the call.
func IsForbidden(err error) bool { return hasCode(err, CodeForbidden) }

// IsTooLarge reports whether err is an [*Error] with [CodeTooLarge].
func IsTooLarge(err error) bool { return hasCode(err, CodeTooLarge) }

// IsUnavailable reports whether err is an [*Error] with [CodeUnavailable]:
// the system behind the call is down, and a later invocation may succeed.
func IsUnavailable(err error) bool { return hasCode(err, CodeUnavailable) }

// IsTimeout reports whether err is an [*Error] with [CodeTimeout]: a log
// query (a search, a top, a count, and the filter stats and endpoint
// collection built on them) ran past the daemon's query budget, 5 s by
// default. Narrow the time range or add conditions and try again.
func IsTimeout(err error) bool { return hasCode(err, CodeTimeout) }

// IsInternal reports whether err is an [*Error] with [CodeInternal], a
// failure inside the daemon. Unlike [ErrorCode], it is false for errors
// that are not an [*Error].
func IsInternal(err error) bool { return hasCode(err, CodeInternal) }

// ErrNotWasm is returned by host calls made outside WebAssembly, e.g. from a
// unit test running on the developer's machine.
var ErrNotWasm = errors.New("pdk: host functions are only available inside a wasm plugin")

// HostFunc is a raw host function of the "lhk" import module: it takes the
// offset of a request in Extism memory and returns the offset of its reply.
// Declare one per host function and pass it to [Call]:
//
//	//go:wasmimport lhk logs_search
//	func logsSearch(uint64) uint64
//
//	err := pdk.Call(logsSearch, req, &resp)
//
// The typed systems ([Logs], [Filters], [Tickets], [Assets], [Endpoints],
// [Reports], [KV], [Notify], [CurrentGrant]) do this for every lhk host
// function; Call is for a host function newer than this package.
type HostFunc func(offset uint64) uint64

// Call calls the host function fn with req encoded as JSON. On success it
// decodes the reply's data into resp, unless resp is nil. When the host
// refuses or fails the call, the error is an [*Error] with the host's code and
// message; other errors say what went wrong in encoding or decoding.
func Call(fn HostFunc, req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("host call: encode request: %w", err)
	}
	reply, err := invoke(fn, b)
	if err != nil {
		return err
	}
	return decodeReply(reply, resp)
}

// reply is the JSON envelope every lhk host function returns.
type reply struct {
	Data  json.RawMessage `json:"data"`
	Error *Error          `json:"error"`
}

// decodeReply unpacks a host function's envelope into resp or an *Error.
func decodeReply(b []byte, resp any) error {
	var r reply
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("host call: decode reply: %w", err)
	}
	if r.Error != nil {
		if r.Error.Code == "" {
			r.Error.Code = CodeInternal
		}
		return r.Error
	}
	if resp == nil || len(r.Data) == 0 || string(r.Data) == "null" {
		return nil
	}
	if err := json.Unmarshal(r.Data, resp); err != nil {
		return fmt.Errorf("host call: decode data: %w", err)
	}
	return nil
}
