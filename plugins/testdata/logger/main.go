// Command logger is a test fixture: run logs as many lines as its input says
// (a decimal number), cycling through the levels, then writes one line to
// stdout and one to stderr.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		n, err := strconv.Atoi(pdk.InputString())
		if err != nil {
			return fmt.Errorf("input must be a number: %w", err)
		}
		levels := []pdk.Level{pdk.LevelTrace, pdk.LevelDebug, pdk.LevelInfo, pdk.LevelWarn, pdk.LevelError}
		for i := 0; i < n; i++ {
			l := levels[i%len(levels)]
			pdk.Logf(l, "line %d at %s", i, l)
		}
		fmt.Fprintln(os.Stdout, "hello stdout")
		fmt.Fprint(os.Stderr, "hello stderr\nsecond stderr line")
		pdk.OutputString("logged")
		return nil
	})
}

func main() {}
