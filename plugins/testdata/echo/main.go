// Command echo is a test fixture: run returns its input, upper returns it in
// upper case.
package main

import (
	"bytes"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	pdk.Output(pdk.Input())
	return 0
}

//go:wasmexport upper
func upper() int32 {
	pdk.Output(bytes.ToUpper(pdk.Input()))
	return 0
}

func main() {}
