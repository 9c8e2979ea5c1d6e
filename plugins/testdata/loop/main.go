// Command loop is a test fixture: run never returns, ping returns "pong".
package main

import "github.com/lhk-soc/lhk/pdk"

var n int

//go:wasmexport run
func run() int32 {
	for {
		n++
	}
}

//go:wasmexport ping
func ping() int32 {
	pdk.OutputString("pong")
	return 0
}

func main() {}
