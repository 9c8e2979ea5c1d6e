//go:build !wasip1

package pdk

import (
	"encoding/json"
	"os"
	"testing"
)

// hostCall is one call a fake daemon received.
type hostCall struct {
	Import  string
	Request string
}

// fakeHost stands in for the daemon until the test ends: each call records
// the import and the request, and gets replies[import] as its envelope, or
// {"data":{}} when replies has none. Outbound HTTP fails with ErrNotWasm.
func fakeHost(tb testing.TB, replies map[string]string) *[]hostCall {
	tb.Helper()
	var calls []hostCall
	outsideWasm(tb)
	invoke = func(fn HostFunc, req []byte) ([]byte, error) {
		stubCalled = ""
		fn(0)
		if stubCalled == "" {
			tb.Fatalf("host call through a function that is not an lhk import")
		}
		if !json.Valid(req) {
			tb.Fatalf("%s: request is not JSON: %s", stubCalled, req)
		}
		calls = append(calls, hostCall{stubCalled, string(req)})
		if r, ok := replies[stubCalled]; ok {
			return []byte(r), nil
		}
		return []byte(`{"data":{}}`), nil
	}
	return &calls
}

// outsideWasm restores the fallbacks of a build outside WebAssembly until
// the test ends: host calls and outbound HTTP fail with ErrNotWasm. The
// examples' daemon (SetDaemon) stands in for them otherwise.
func outsideWasm(tb testing.TB) {
	tb.Helper()
	savedInvoke, savedHTTP := invoke, sendHTTP
	tb.Cleanup(func() { invoke, sendHTTP = savedInvoke, savedHTTP })
	invoke, sendHTTP = notWasm, notWasmHTTP
}

// sameJSON fails the test unless got and want hold the same JSON value.
func sameJSON(tb testing.TB, what, got, want string) {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		tb.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("%s: bad want: %v", what, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		tb.Fatalf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

func readFile(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}
