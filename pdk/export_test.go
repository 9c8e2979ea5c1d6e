//go:build !wasip1

package pdk

import "encoding/json"

// SetDaemon makes the host functions of this test binary call daemon, with
// the import name ("logs_search"…) and the JSON request, and outbound HTTP
// call http, instead of failing with ErrNotWasm. The runnable examples use
// it (example_daemon_test.go) so that they run with a daemon's answers;
// tests that need the fallbacks call outsideWasm.
func SetDaemon(daemon func(imp string, req json.RawMessage) []byte, http func(HTTPRequest) *HTTPResponse) {
	invoke = func(fn HostFunc, req []byte) ([]byte, error) {
		stubCalled = ""
		fn(0)
		if stubCalled == "" { // not an lhk import, e.g. a HostFunc of ExampleCall
			return nil, ErrNotWasm
		}
		return daemon(stubCalled, req), nil
	}
	sendHTTP = func(req HTTPRequest) (*HTTPResponse, error) { return http(req), nil }
}
