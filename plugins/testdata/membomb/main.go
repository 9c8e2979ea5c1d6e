// Command membomb is a test fixture: run allocates until memory runs out,
// small allocates a little and succeeds.
package main

import "github.com/lhk-soc/lhk/pdk"

var keep [][]byte

//go:wasmexport run
func run() int32 {
	for {
		b := make([]byte, 1<<20)
		for i := range b {
			b[i] = byte(i)
		}
		keep = append(keep, b)
	}
}

//go:wasmexport small
func small() int32 {
	b := make([]byte, 1<<20)
	b[0] = 'o'
	b[1] = 'k'
	pdk.Output(b[:2])
	return 0
}

func main() {}
