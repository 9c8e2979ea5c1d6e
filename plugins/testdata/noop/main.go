// Command noop is a test fixture whose run does nothing and succeeds.
package main

//go:wasmexport run
func run() int32 { return 0 }

func main() {}
