// Command configvar is a test fixture: run returns the config value named by
// its input (an error when unset); count increments the var "count" and
// returns it.
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
		v, ok := pdk.Config(key)
		if !ok {
			return fmt.Errorf("config key %q is not set", key)
		}
		pdk.OutputString(v)
		return nil
	})
}

//go:wasmexport count
func count() int32 {
	n, _ := strconv.Atoi(string(pdk.Var("count")))
	n++
	pdk.SetVar("count", []byte(strconv.Itoa(n)))
	pdk.OutputString(strconv.Itoa(n))
	return 0
}

func main() {}
