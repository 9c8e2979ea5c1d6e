//go:build wasip1

package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// hostLibrary is the Library of the running plugin: the lhk host functions.
type hostLibrary struct{}

func (hostLibrary) ListFilters(tenant string, includeExpired bool) ([]pdk.Filter, error) {
	return pdk.Filters.List(tenant, includeExpired)
}
func (hostLibrary) FilterStats(tenant string, from, to time.Time) ([]pdk.FilterStat, error) {
	return pdk.Filters.Stats(tenant, from, to)
}
func (hostLibrary) DeleteFilter(tenant, name string) error             { return pdk.Filters.Delete(tenant, name) }
func (hostLibrary) Top(r pdk.TopRequest) (*pdk.TopResult, error)       { return pdk.Logs.Top(r) }
func (hostLibrary) Count(r pdk.CountRequest) (*pdk.CountResult, error) { return pdk.Logs.Count(r) }

//go:wasmexport run
func run() int32 {
	return pdk.Run(func() error {
		in, err := parseInput(pdk.Input())
		if err != nil {
			return err
		}
		cfg, err := parseConfig(pdk.Config)
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
		now := time.Now().UTC()
		pdk.Logf(pdk.LevelInfo, "filter upkeep of %s, stale after %d days, delete_expired=%v", strings.Join(tenants, ", "), in.StaleDays, cfg.DeleteExpired)
		out := Output{Tenants: []string{}, Expired: []Expired{}, Stale: []Stale{}, Proposals: []Proposal{}, Withheld: []Withheld{}}
		var parts []string
		for _, tenant := range tenants {
			r, err := Upkeep(hostLibrary{}, tenant, now, in.StaleDays, cfg)
			if err != nil {
				pdk.Logf(pdk.LevelError, "%v", err)
				out.Errors = append(out.Errors, TenantError{Tenant: tenant, Error: err.Error()})
				parts = append(parts, fmt.Sprintf("## Filter upkeep: %s\n\nFailed: %s\n", tenant, text(err.Error())))
				continue
			}
			out.add(r)
			md := Markdown(r, cfg.DeleteExpired)
			parts = append(parts, md)
			pdk.Logf(pdk.LevelInfo, "%s (%d filters, %d events, %d queries)", Headline(r), r.Filters, r.Events, r.Calls)
			for _, e := range r.Expired {
				if e.Deleted {
					pdk.Logf(pdk.LevelInfo, "deleted expired filter %s/%s (expired %s)", tenant, e.Name, e.ExpiresAt.Format(time.RFC3339))
				} else if e.Error != "" {
					pdk.Logf(pdk.LevelWarn, "could not delete expired filter %s/%s: %s", tenant, e.Name, e.Error)
				}
			}
			if !r.Findings() {
				pdk.Logf(pdk.LevelInfo, "%s: nothing to report, no notification", tenant)
				continue
			}
			switch err := pdk.Notify.Send(Notification(r, cfg.Channel, md)); {
			case err == nil:
				out.Notified = append(out.Notified, tenant)
			case pdk.IsNotFound(err):
				pdk.Logf(pdk.LevelWarn, "notification channel %q is not configured in lhkd (--notify): %v", cfg.Channel, err)
			default:
				pdk.Logf(pdk.LevelWarn, "notify %s about %s: %v", cfg.Channel, tenant, err)
			}
		}
		out.Summary = strings.Join(parts, "\n")
		if err := pdk.OutputJSON(out); err != nil {
			return err
		}
		if len(out.Tenants) == 0 {
			return fmt.Errorf("filter upkeep failed for every tenant: %s", out.Errors[0].Error)
		}
		return nil
	})
}
