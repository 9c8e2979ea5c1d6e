//go:build wasip1

package main

import (
	"encoding/json"
	"strconv"

	"github.com/lhk-soc/lhk/pdk"
)

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		text := inputText(pdk.Input())
		defang := false
		if v, ok := pdk.Config("defang"); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				pdk.Logf(pdk.LevelWarn, "config defang=%q is not a boolean; not defanging", v)
			}
			defang = b
		}
		r := Extract(text)
		pdk.Logf(pdk.LevelInfo, "found %d indicators: %d ipv4, %d ipv6, %d domains, %d urls, %d emails, %d sha256, %d sha1, %d md5",
			r.Count, len(r.IPv4), len(r.IPv6), len(r.Domains), len(r.URLs), len(r.Emails), len(r.SHA256), len(r.SHA1), len(r.MD5))
		if defang {
			r = r.Defanged()
		}
		r.Summary = r.Markdown()
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		pdk.Output(b)
		return nil
	})
}
