// Command fail is a test fixture whose run returns an error through the PDK.
package main

import (
	"errors"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		return errors.New("fail fixture: no tenant given")
	})
}

func main() {}
