// Package lhk holds the domain of lhk: the words (plugin, version, owner, grant,
// invocation…), the interfaces every backend implements, and the error codes used
// from the registry up to the HTTP API and the plugin ABI.
//
// It imports nothing of the project. Each technology lives in its own package
// (registry/sqlite, host, httpapi, trigger/cron…) and cmd/lhkd wires them together.
package lhk

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. The HTTP layer maps them to statuses in one
// place; host functions put the same codes into the guest's JSON envelope.
const (
	EINVALID      = "invalid"      // the request is malformed or breaks a rule
	ENOTFOUND     = "not_found"    // the named thing does not exist
	ECONFLICT     = "conflict"     // the request clashes with the current state
	EFORBIDDEN    = "forbidden"    // the caller may not do this
	EUNAUTHORIZED = "unauthorized" // no caller could be identified
	ETOOLARGE     = "too_large"    // a body or field is over its limit
	ETIMEOUT      = "timeout"      // a plugin ran past its time-out, or a log query past its budget
	EFAILED       = "failed"       // a plugin trapped, panicked or returned an error
	EUNAVAILABLE  = "unavailable"  // a dependency is down or shutting down
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// Error is the application error: a code from the list above and a message that
// is safe to show to the caller. Internal details belong in logs, not here.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("lhk error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for any other non-nil error so internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
