// Command trap is a test fixture: run panics, nil writes through a nil pointer.
package main

import "github.com/lhk-soc/lhk/pdk"

//go:wasmexport run
func run() int32 {
	pdk.Log(pdk.LevelInfo, "about to panic")
	panic("trap fixture: boom")
}

var p *struct{ x int }

//go:wasmexport nil
func nilDeref() int32 {
	p.x = 1
	return 0
}

func main() {}
