// Command loop is a test fixture whose run never returns.
package main

var n int

//go:wasmexport run
func run() int32 {
	for {
		n++
	}
}

func main() {}
