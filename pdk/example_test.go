package pdk_test

import (
	"fmt"
	"strings"

	"github.com/lhk-soc/lhk/pdk"
)

// A plugin's exported function reads its input, does its work in plain Go and
// writes its output; Run turns a returned error into a failed invocation.
func ExampleRun() {
	run := func() int32 { // in a plugin: //go:wasmexport run
		return pdk.Run(func() error {
			var in struct {
				Host string `json:"host"`
			}
			if err := pdk.InputJSON(&in); err != nil {
				return err
			}
			pdk.Logf(pdk.LevelInfo, "triaging %s", in.Host)
			return pdk.OutputJSON(map[string]string{"summary": "# " + strings.ToUpper(in.Host)})
		})
	}
	// Outside WebAssembly the input is empty, so the function fails.
	fmt.Println(run())
	// Output: 1
}

// Host functions are declared with //go:wasmimport in module "lhk" and called
// through Call, which handles memory and the reply envelope.
func ExampleCall() {
	// In a plugin:
	//
	//	//go:wasmimport lhk tickets_create
	//	func ticketsCreate(uint64) uint64
	var ticketsCreate pdk.HostFunc = func(uint64) uint64 { return 0 }

	var created struct {
		ID string `json:"id"`
	}
	err := pdk.Call(ticketsCreate, map[string]string{"tenant": "acme", "title": "Suspicious login"}, &created)
	switch pdk.ErrorCode(err) {
	case "":
		fmt.Println("created", created.ID)
	case pdk.CodeForbidden:
		fmt.Println("not granted:", err)
	default:
		fmt.Println("failed:", err)
	}
	// Output: failed: pdk: host functions are only available inside a wasm plugin
}
