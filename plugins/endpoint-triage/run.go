//go:build wasip1

package main

import (
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		cfg, err := ParseConfig(pdk.Config)
		if err != nil {
			return err
		}
		in, err := ParseInput(pdk.Input())
		if err != nil {
			return err
		}
		out, err := Triage(pdkSystems{}, in, cfg, time.Now().UTC())
		if out != nil {
			if oerr := pdk.OutputJSON(out); oerr != nil && err == nil {
				err = oerr
			}
		}
		if err != nil {
			return err
		}
		pdk.Logf(pdk.LevelInfo, "triaged %s of %s: %d findings (%d high)", out.Host, out.Tenant, len(out.Findings), out.Counts["findings_high"])
		return nil
	})
}
