// Command hostcall is a test fixture for lhk host functions. Its input is
// {"fn": "echo|panic|fail|internal|tickets", "req": <any JSON>}; run calls the
// host function lhk.test_<fn> with req and outputs {"data": …} on success or
// {"error": {"code", "message"}} when the call failed.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmimport lhk test_echo
func testEcho(uint64) uint64

//go:wasmimport lhk test_panic
func testPanic(uint64) uint64

//go:wasmimport lhk test_fail
func testFail(uint64) uint64

//go:wasmimport lhk test_internal
func testInternal(uint64) uint64

//go:wasmimport lhk test_tickets
func testTickets(uint64) uint64

var funcs = map[string]pdk.HostFunc{
	"echo":     testEcho,
	"panic":    testPanic,
	"fail":     testFail,
	"internal": testInternal,
	"tickets":  testTickets,
}

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		var in struct {
			Fn  string          `json:"fn"`
			Req json.RawMessage `json:"req"`
		}
		if err := pdk.InputJSON(&in); err != nil {
			return err
		}
		fn, ok := funcs[in.Fn]
		if !ok {
			return fmt.Errorf("unknown fn %q", in.Fn)
		}
		var data json.RawMessage
		err := pdk.Call(fn, in.Req, &data)
		if err != nil {
			var e *pdk.Error
			if !asError(err, &e) {
				return err
			}
			return pdk.OutputJSON(map[string]any{"error": e})
		}
		return pdk.OutputJSON(map[string]any{"data": data})
	})
}

// loop calls lhk.test_echo with a tiny request as many times as its input
// says (a decimal number), for measuring the host-function round trip.
//
//go:wasmexport loop
func loop() int32 {
	return pdk.Run(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		req := map[string]int{"i": 0}
		var resp json.RawMessage
		for i := range n {
			req["i"] = i
			if err := pdk.Call(testEcho, req, &resp); err != nil {
				return err
			}
		}
		return nil
	})
}

// loopjson does loop's JSON work without calling the host, so the difference
// between the two is the round trip itself.
//
//go:wasmexport loopjson
func loopjson() int32 {
	return pdk.Run(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return err
		}
		req := map[string]int{"i": 0}
		var resp json.RawMessage
		for i := range n {
			req["i"] = i
			b, err := json.Marshal(req)
			if err != nil {
				return err
			}
			reply, _ := json.Marshal(map[string]any{"data": map[string]any{"req": json.RawMessage(b), "plugin": "hostcall", "invocation": "01234567-89ab-cdef-0123-456789abcdef"}})
			var env struct {
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(reply, &env); err != nil {
				return err
			}
			resp = env.Data
		}
		_ = resp
		return nil
	})
}

func asError(err error, target **pdk.Error) bool {
	e, ok := err.(*pdk.Error)
	if ok {
		*target = e
	}
	return ok
}

func main() {}
