//go:build wasip1

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the timezone config needs the zone database inside WebAssembly

	"github.com/lhk-soc/lhk/pdk"
)

// hostLibrary is the Library of the running plugin: the lhk host functions.
type hostLibrary struct{}

func (hostLibrary) Top(r pdk.TopRequest) (*pdk.TopResult, error)       { return pdk.Logs.Top(r) }
func (hostLibrary) Count(r pdk.CountRequest) (*pdk.CountResult, error) { return pdk.Logs.Count(r) }
func (hostLibrary) SearchTickets(q pdk.TicketQuery) (*pdk.TicketList, error) {
	return pdk.Tickets.Search(q)
}
func (hostLibrary) FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error) {
	return pdk.Filters.Stats(tenant, from, to)
}

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		in, err := parseInput(pdk.Input())
		if err != nil {
			return err
		}
		loc, opts, err := config()
		if err != nil {
			return err
		}
		p, err := resolvePeriod(in, time.Now(), loc)
		if err != nil {
			return err
		}
		grant, err := pdk.CurrentGrant()
		if err != nil {
			return fmt.Errorf("read the plugin's grant: %w", err)
		}
		tenants, err := tenantsFor(in.Tenant, grant)
		if err != nil {
			return err
		}
		pdk.Logf(pdk.LevelInfo, "reporting on %s for %s", strings.Join(tenants, ", "), periodLabel(p, loc))
		out := Output{Reports: []Published{}}
		var lines []string
		for _, tenant := range tenants {
			st, err := Gather(hostLibrary{}, tenant, p, opts)
			if err == nil {
				title := Title(st, loc)
				var rep *pdk.Report
				if rep, err = pdk.Reports.Publish(tenant, title, Markdown(st, loc)); err == nil {
					out.Reports = append(out.Reports, Published{Tenant: tenant, ID: rep.ID, Title: title})
					lines = append(lines, Summary(st, rep.ID, title))
					pdk.Logf(pdk.LevelInfo, "published %s for %s: %d events, %d queries", rep.ID, tenant, st.Total, st.Calls)
					continue
				}
				err = fmt.Errorf("publish the report of %s: %w", tenant, err)
			}
			pdk.Logf(pdk.LevelError, "%v", err)
			out.Errors = append(out.Errors, TenantError{Tenant: tenant, Error: err.Error()})
			lines = append(lines, fmt.Sprintf("- **%s**: no report: %s", tenant, text(err.Error())))
		}
		out.Summary = fmt.Sprintf("## Reports for %s\n\n%s\n", periodLabel(p, loc), strings.Join(lines, "\n"))
		if len(out.Reports) == 0 {
			if err := pdk.OutputJSON(out); err != nil {
				return err
			}
			return fmt.Errorf("no report published: %s", out.Errors[0].Error)
		}
		return pdk.OutputJSON(out)
	})
}

// config reads the plugin's configuration: timezone, top and web_dataset.
func config() (*time.Location, Options, error) {
	loc := time.UTC
	if tz, ok := pdk.Config("timezone"); ok && tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, Options{}, fmt.Errorf("config timezone: %w", err)
		}
		loc = l
	}
	opts := Options{Loc: loc, Top: 10, WebDataset: DefaultWebDataset}
	if v, ok := pdk.Config("web_dataset"); ok && v != "" {
		opts.WebDataset = v
	}
	if v, ok := pdk.Config("top"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > pdk.MaxTopBuckets {
			return nil, Options{}, fmt.Errorf("config top: %q is not a number from 1 to %d", v, pdk.MaxTopBuckets)
		}
		opts.Top = n
	}
	return loc, opts, nil
}
