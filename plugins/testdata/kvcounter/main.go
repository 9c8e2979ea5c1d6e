// Command kvcounter is a test fixture for the kv system: run increments the
// counter named by its input ("counter" when the input is empty) in the
// plugin's kv store and outputs {"key", "count"}. Unlike an instance var,
// the count survives new instances and restarts. It needs the capability
// "kv"; without it the invocation fails with the host's "forbidden: …"
// message.
package main

import (
	"fmt"
	"strconv"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		key := pdk.InputString()
		if key == "" {
			key = "counter"
		}
		v, _, err := pdk.KV.Get(key)
		if err != nil {
			return err
		}
		n := 0
		if v != "" {
			if n, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("kv %s holds %q, not a number", key, v)
			}
		}
		n++
		if err := pdk.KV.Set(key, strconv.Itoa(n)); err != nil {
			return err
		}
		pdk.Logf(pdk.LevelInfo, "%s is now %d", key, n)
		return pdk.OutputJSON(map[string]any{"key": key, "count": n})
	})
}

func main() {}
