//go:build wasip1

package main

import (
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		a, err := ParseAlert(pdk.Input())
		if err != nil {
			return err
		}
		out, err := Intake(pdkSystems{}, a, ParseConfig(pdk.Config), time.Now().UTC())
		if err != nil {
			return err
		}
		pdk.Logf(pdk.LevelInfo, "alert %q on %s: ticket %s (created %t, duplicate %t), triage %q",
			a.ID, a.Host, out.Ticket, out.Created, out.Duplicate, out.TriageInvocation)
		return pdk.OutputJSON(out)
	})
}
