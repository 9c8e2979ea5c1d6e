package hostfuncs

import (
	"context"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/logquery"
)

// exclusions returns the conditions of the tenant's active filters when asked.
func exclusions(ctx context.Context, s Systems, tenant string, apply bool) ([][]lhk.Condition, error) {
	if !apply {
		return nil, nil
	}
	if s.Filters == nil {
		return nil, unavailable("filters")
	}
	fs, err := s.Filters.Filters(ctx, tenant, false)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var out [][]lhk.Condition
	for _, f := range fs {
		if f.Active(now) && len(f.Conditions) > 0 {
			out = append(out, f.Conditions)
		}
	}
	return out, nil
}

func logOps(s Systems) []Op {
	// timeout: the query passed the query budget (a narrower range or
	// more conditions may pass).
	errs := []string{lhk.ETIMEOUT, lhk.EUNAVAILABLE}
	return []Op{
		op(Op{System: "logs", Name: "search", Capability: lhk.CapLogsRead, Response: lhk.SearchResult{}, Errors: errs,
			Doc: "Free-text search over whole events of one tenant: every word of `query` must appear. `from` and `to` (RFC 3339) are required and span at most 400 days; `limit` defaults to 100 and is capped at 1000; events come newest first; `truncated` says more match and `next_cursor` fetches them. `apply_filters` drops events the tenant's active analysis filters match. A query that runs past the query budget (5 s by default) answers `timeout`: narrow the time range or add words."},
			func(r *lhk.SearchRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.SearchRequest) (any, error) {
				if s.Logs == nil {
					return nil, unavailable("logs")
				}
				var err error
				if r.Exclude, err = exclusions(ctx, s, r.Tenant, r.ApplyFilters); err != nil {
					return nil, err
				}
				return s.Logs.Search(ctx, *r)
			}),
		op(Op{System: "logs", Name: "search_fields", Capability: lhk.CapLogsRead, Response: lhk.SearchResult{}, Errors: errs,
			Doc: "Field search: `fields` is a list of conditions `{field, op, value}`, AND-ed, with `op` one of eq, contains, prefix, cidr, gt, lt, exists, on ECS field names (`host.name`, `source.ip`…). Time range, limit, paging and `apply_filters` as for logs_search."},
			func(r *lhk.FieldSearchRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.FieldSearchRequest) (any, error) {
				if s.Logs == nil {
					return nil, unavailable("logs")
				}
				var err error
				if r.Exclude, err = exclusions(ctx, s, r.Tenant, r.ApplyFilters); err != nil {
					return nil, err
				}
				return s.Logs.SearchFields(ctx, *r)
			}),
		op(Op{System: "logs", Name: "top", Capability: lhk.CapLogsRead, Response: lhk.TopResult{}, Errors: errs,
			Doc: "Counts events by the values of one `field` (for reports: top hosts, users, destinations), optionally narrowed by `fields` conditions and a free-text `query`. `limit` buckets (default 10, at most 100), most frequent first; `total` counts every matching event with the field and `other` those outside the buckets."},
			func(r *lhk.TopRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.TopRequest) (any, error) {
				if s.Logs == nil {
					return nil, unavailable("logs")
				}
				if r.Limit == 0 {
					r.Limit = 10
				}
				var err error
				if r.Exclude, err = exclusions(ctx, s, r.Tenant, r.ApplyFilters); err != nil {
					return nil, err
				}
				return s.Logs.Top(ctx, *r)
			}),
		op(Op{System: "logs", Name: "count", Capability: lhk.CapLogsRead, Response: lhk.CountResult{}, Errors: errs,
			Doc: "Counts the events matching `fields` conditions in a time range, and says when the newest was."},
			func(r *lhk.CountRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.CountRequest) (any, error) {
				if s.Logs == nil {
					return nil, unavailable("logs")
				}
				return s.Logs.Count(ctx, *r)
			}),
	}
}

// FiltersListRequest asks for a tenant's analysis filters.
type FiltersListRequest struct {
	Tenant         string `json:"tenant"`
	IncludeExpired bool   `json:"include_expired"`
}

// FiltersListResponse lists filters by name.
type FiltersListResponse struct {
	Filters []*lhk.Filter `json:"filters"`
}

// FiltersStatsRequest asks how often each filter matched in a window.
type FiltersStatsRequest struct {
	Tenant string    `json:"tenant"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// FilterStat is one filter's hits in the window.
type FilterStat struct {
	Name      string     `json:"name"`
	Hits      int64      `json:"hits"`
	LastHit   *time.Time `json:"last_hit"`
	ExpiresAt *time.Time `json:"expires_at"`
	Expired   bool       `json:"expired"`
}

// FiltersStatsResponse holds one stat per filter, by name.
type FiltersStatsResponse struct {
	Stats []FilterStat `json:"stats"`
}

// FilterKey names one filter.
type FilterKey struct {
	Tenant string `json:"tenant"`
	Name   string `json:"name"`
}

func filterOps(s Systems) []Op {
	errs := []string{lhk.EUNAVAILABLE}
	// filters_stats counts with log queries, which may pass their budget.
	statsErrs := []string{lhk.ETIMEOUT, lhk.EUNAVAILABLE}
	return []Op{
		op(Op{System: "filters", Name: "list", Capability: lhk.CapFiltersRead, Response: FiltersListResponse{}, Errors: errs,
			Doc: "Lists a tenant's analysis filters by name with their conditions, reason, owner, expiry, hit count and last hit; expired ones only with `include_expired`."},
			func(r *FiltersListRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *FiltersListRequest) (any, error) {
				if s.Filters == nil {
					return nil, unavailable("filters")
				}
				fs, err := s.Filters.Filters(ctx, r.Tenant, r.IncludeExpired)
				if err != nil {
					return nil, err
				}
				if fs == nil {
					fs = []*lhk.Filter{}
				}
				return FiltersListResponse{Filters: fs}, nil
			}),
		op(Op{System: "filters", Name: "stats", Capability: lhk.CapFiltersRead, Response: FiltersStatsResponse{}, Errors: statsErrs,
			Doc: "Counts, from the logs, how many events each of the tenant's filters (expired ones too) matched between `from` and `to`, and records it as the filter's hit count and last hit."},
			func(r *FiltersStatsRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *FiltersStatsRequest) (any, error) {
				if s.Filters == nil || s.Logs == nil {
					return nil, unavailable("filters")
				}
				// The range is checked here, not only by each count: with
				// no filters there is no count to refuse it.
				if err := logquery.CheckRange(r.From, r.To); err != nil {
					return nil, err
				}
				fs, err := s.Filters.Filters(ctx, r.Tenant, true)
				if err != nil {
					return nil, err
				}
				now := s.Now()
				out := FiltersStatsResponse{Stats: []FilterStat{}}
				for _, f := range fs {
					c, err := s.Logs.Count(ctx, lhk.CountRequest{Tenant: r.Tenant, Fields: f.Conditions, From: r.From, To: r.To})
					if err != nil {
						return nil, err
					}
					if err := s.Filters.SetHits(ctx, r.Tenant, f.Name, c.Count, c.Last); err != nil {
						return nil, err
					}
					out.Stats = append(out.Stats, FilterStat{Name: f.Name, Hits: c.Count, LastHit: c.Last, ExpiresAt: f.ExpiresAt, Expired: !f.Active(now)})
				}
				return out, nil
			}),
		op(Op{System: "filters", Name: "upsert", Capability: lhk.CapFiltersWrite, Response: lhk.Filter{}, Errors: errs,
			Doc: "Creates or replaces a filter by tenant and name: `conditions` in the field-search language, a `reason`, an optional `expires_at`. The owner defaults to the caller. Keeps the creation time and hit statistics of an existing filter."},
			func(r *lhk.Filter) string { return r.Tenant },
			func(ctx context.Context, call *lhk.HostCall, r *lhk.Filter) (any, error) {
				if s.Filters == nil {
					return nil, unavailable("filters")
				}
				if r.Owner == "" {
					r.Owner = call.Caller
				}
				// Statistics come from filters_stats, never from the caller.
				r.HitCount, r.LastHit, r.CreatedAt = 0, nil, time.Time{}
				return s.Filters.UpsertFilter(ctx, r)
			}),
		op(Op{System: "filters", Name: "delete", Capability: lhk.CapFiltersWrite, Response: empty{}, Errors: []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE},
			Doc: "Deletes a filter by tenant and name."},
			func(r *FilterKey) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *FilterKey) (any, error) {
				if s.Filters == nil {
					return nil, unavailable("filters")
				}
				return empty{}, s.Filters.DeleteFilter(ctx, r.Tenant, r.Name)
			}),
	}
}
