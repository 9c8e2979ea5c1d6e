package hostfuncs

import (
	"context"
	"errors"
	"time"

	"github.com/lhk-soc/lhk"
)

// TicketRef names one ticket.
type TicketRef struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

// TicketUpdateRequest names a ticket and the changes to make.
type TicketUpdateRequest struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
	lhk.TicketUpdate
}

// TicketCommentRequest adds a comment to a ticket.
type TicketCommentRequest struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
	Body   string `json:"body"`
}

func ticketOps(s Systems) []Op {
	errs := []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE}
	need := func() error {
		if s.Tickets == nil {
			return unavailable("tickets")
		}
		return nil
	}
	return []Op{
		op(Op{System: "tickets", Name: "create", Capability: lhk.CapTicketsWrite, Response: lhk.Ticket{}, Errors: []string{lhk.ECONFLICT, lhk.EUNAVAILABLE},
			Doc: "Opens a ticket for a tenant: `title` (required), `description`, `severity` (low, medium, high, critical; default medium), `assignee`, linked `events` (ids from log searches) and `observables` ({type: ip|hash|domain|url|user|host|email, value}). An `external_key` (e.g. the SIEM's alert id) is unique per tenant: a second create with it is conflict, which de-duplicates alerts. The reporter defaults to the caller."},
			func(r *lhk.Ticket) string { return r.Tenant },
			func(ctx context.Context, call *lhk.HostCall, r *lhk.Ticket) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				if r.Reporter == "" {
					r.Reporter = call.Caller
				}
				// Identity, history and times belong to the store.
				r.ID, r.Comments = "", nil
				r.CreatedAt, r.UpdatedAt = time.Time{}, time.Time{}
				return s.Tickets.CreateTicket(ctx, r)
			}),
		op(Op{System: "tickets", Name: "get", Capability: lhk.CapTicketsRead, Response: lhk.Ticket{}, Errors: errs,
			Doc: "Returns one ticket of a tenant with its events, observables and comments."},
			func(r *TicketRef) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *TicketRef) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				return s.Tickets.Ticket(ctx, r.Tenant, r.ID)
			}),
		op(Op{System: "tickets", Name: "update", Capability: lhk.CapTicketsWrite, Response: lhk.Ticket{}, Errors: errs,
			Doc: "Changes a ticket's title, description, status (open, in_progress, resolved, closed), severity or assignee, and links more `add_events` and `add_observables` (duplicates are ignored)."},
			func(r *TicketUpdateRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *TicketUpdateRequest) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				return s.Tickets.UpdateTicket(ctx, r.Tenant, r.ID, r.TicketUpdate)
			}),
		op(Op{System: "tickets", Name: "comment", Capability: lhk.CapTicketsWrite, Response: lhk.Ticket{}, Errors: errs,
			Doc: "Adds a comment (Markdown `body`) to a ticket, authored by the caller."},
			func(r *TicketCommentRequest) string { return r.Tenant },
			func(ctx context.Context, call *lhk.HostCall, r *TicketCommentRequest) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				return s.Tickets.CommentTicket(ctx, r.Tenant, r.ID, lhk.Comment{Author: commentAuthor(call), Body: r.Body})
			}),
		op(Op{System: "tickets", Name: "search", Capability: lhk.CapTicketsRead, Response: lhk.TicketList{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Searches a tenant's tickets, newest first, by status, severity, assignee, free `text` (title, description, comments), an `observable` value, an `external_key`, and a creation window; pages with `cursor`."},
			func(r *lhk.TicketQuery) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.TicketQuery) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				return s.Tickets.SearchTickets(ctx, *r)
			}),
	}
}

// commentAuthor names a comment's author: the caller, and the plugin that
// wrote it on their behalf.
func commentAuthor(call *lhk.HostCall) string {
	if call.Plugin != "" {
		return call.Caller + " (plugin " + call.Plugin + ")"
	}
	return call.Caller
}

// AssetLookupRequest finds a host by name or IP.
type AssetLookupRequest struct {
	Tenant string `json:"tenant"`
	Host   string `json:"host"`
}

func assetOps(s Systems) []Op {
	return []Op{
		op(Op{System: "assets", Name: "lookup", Capability: lhk.CapAssetsRead, Response: lhk.Asset{}, Errors: []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE},
			Doc: "Looks up a tenant's host by name (case-insensitive) or by one of its IP addresses: owner, OS, criticality and tags."},
			func(r *AssetLookupRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *AssetLookupRequest) (any, error) {
				if s.Assets == nil {
					return nil, unavailable("assets")
				}
				if r.Host == "" {
					return nil, lhk.Errorf(lhk.EINVALID, "host is required: a host name or an IP address")
				}
				return s.Assets.LookupAsset(ctx, r.Tenant, r.Host)
			}),
	}
}

// IsolateRequest asks to isolate a host.
type IsolateRequest struct {
	Tenant string `json:"tenant"`
	Host   string `json:"host"`
	Reason string `json:"reason"`
}

func endpointOps(s Systems) []Op {
	return []Op{
		op(Op{System: "endpoints", Name: "collect", Capability: lhk.CapEndpointsRead, Response: lhk.Collection{}, Errors: []string{lhk.ETIMEOUT, lhk.EUNAVAILABLE},
			Doc: "The first data collection of an endpoint investigation: the process tree, network connections, logons, file and registry changes of `host` between `from` and `to`, built from the tenant's endpoint telemetry (Sysmon/EDR events). Each section holds at most `limit` events (default 200); `truncated` says one was cut. `timeout` when a log query behind it passes the query budget."},
			func(r *lhk.CollectRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *lhk.CollectRequest) (any, error) {
				if s.Endpoints == nil {
					return nil, unavailable("endpoints")
				}
				return s.Endpoints.Collect(ctx, *r)
			}),
		op(Op{System: "endpoints", Name: "isolate", Capability: lhk.CapEndpointsRespond, Response: lhk.ResponseAction{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Requests network isolation of a host: recorded in the audit log with the caller as actor and sent to the configured response webhook. `status` says sent, failed or recorded (no webhook configured)."},
			func(r *IsolateRequest) string { return r.Tenant },
			func(ctx context.Context, call *lhk.HostCall, r *IsolateRequest) (any, error) {
				if s.Endpoints == nil {
					return nil, unavailable("endpoints")
				}
				if r.Reason == "" {
					return nil, lhk.Errorf(lhk.EINVALID, "reason is required: say why the host must be isolated")
				}
				ctx = lhk.NewContextWithActor(ctx, call.Caller)
				return s.Endpoints.Isolate(ctx, r.Tenant, r.Host, r.Reason)
			}),
	}
}

// PublishRequest publishes a Markdown report.
type PublishRequest struct {
	Tenant   string `json:"tenant"`
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
}

// ReportsListRequest asks for a page of a tenant's reports.
type ReportsListRequest struct {
	Tenant string `json:"tenant"`
	Limit  int    `json:"limit"`
	Cursor string `json:"cursor"`
}

// ReportsListResponse is a page of reports, newest first, without their
// Markdown and HTML. Truncated says more reports follow; NextCursor fetches
// them.
type ReportsListResponse struct {
	Reports    []*lhk.Report `json:"reports"`
	NextCursor string        `json:"next_cursor"`
	Truncated  bool          `json:"truncated"`
}

// ReportRef names one report.
type ReportRef struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

func reportOps(s Systems) []Op {
	need := func() error {
		if s.Reports == nil {
			return unavailable("reports")
		}
		return nil
	}
	return []Op{
		op(Op{System: "reports", Name: "publish", Capability: lhk.CapReportsWrite, Response: lhk.Report{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Publishes a Markdown report for a tenant. It is rendered to HTML (raw HTML in the Markdown is escaped) and kept with its title, the producing plugin and the caller as author; analysts read it in the UI or download it."},
			func(r *PublishRequest) string { return r.Tenant },
			func(ctx context.Context, call *lhk.HostCall, r *PublishRequest) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				return s.Reports.PublishReport(ctx, &lhk.Report{Tenant: r.Tenant, Title: r.Title, Markdown: r.Markdown, Plugin: call.Plugin, Author: call.Caller})
			}),
		op(Op{System: "reports", Name: "list", Capability: lhk.CapReportsRead, Response: ReportsListResponse{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Lists a tenant's reports, newest first, with their title, producing plugin, author and time but without their Markdown and HTML (reports_get has them). `limit` defaults to 50 and is lowered to 500; `truncated` says more reports follow and `next_cursor` fetches them."},
			func(r *ReportsListRequest) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *ReportsListRequest) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				rs, next, err := s.Reports.Reports(ctx, r.Tenant, r.Limit, r.Cursor)
				if err != nil {
					return nil, err
				}
				if rs == nil {
					rs = []*lhk.Report{}
				}
				return ReportsListResponse{Reports: rs, NextCursor: next, Truncated: next != ""}, nil
			}),
		op(Op{System: "reports", Name: "get", Capability: lhk.CapReportsRead, Response: lhk.Report{}, Errors: []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE},
			Doc: "Returns one report of a tenant with its Markdown and its rendered HTML: what `GET /v1/reports/{id}/download` serves as a file. An id of another tenant's report is not_found, as is an unknown one."},
			func(r *ReportRef) string { return r.Tenant },
			func(ctx context.Context, _ *lhk.HostCall, r *ReportRef) (any, error) {
				if err := need(); err != nil {
					return nil, err
				}
				if r.ID == "" {
					return nil, lhk.Errorf(lhk.EINVALID, "id is required: a report id from reports_list or reports_publish")
				}
				return s.Reports.Report(ctx, r.Tenant, r.ID)
			}),
	}
}

// KVKey names one key of the plugin's store.
type KVKey struct {
	Key string `json:"key"`
}

// KVGetResponse holds a value, or found false.
type KVGetResponse struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Found bool   `json:"found"`
}

// KVSetRequest stores a value.
type KVSetRequest struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KVListRequest lists keys by prefix.
type KVListRequest struct {
	Prefix string `json:"prefix"`
	After  string `json:"after"`
	Limit  int    `json:"limit"`
}

// KVListResponse holds entries in key order.
type KVListResponse struct {
	Entries []lhk.KVEntry `json:"entries"`
}

func kvOps(s Systems) []Op {
	ns := func(call *lhk.HostCall) (string, error) {
		if s.KV == nil {
			return "", unavailable("kv")
		}
		if call.Plugin == "" {
			return "", lhk.Errorf(lhk.EINVALID, "kv needs a plugin: its keys belong to one plugin")
		}
		return call.Plugin, nil
	}
	return []Op{
		op(Op{System: "kv", Name: "get", Capability: lhk.CapKV, Response: KVGetResponse{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Reads a value from the plugin's own key-value store (state kept between runs, e.g. the last processed alert). A missing key answers `found: false`."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *KVKey) (any, error) {
				n, err := ns(call)
				if err != nil {
					return nil, err
				}
				v, err := s.KV.Get(ctx, n, r.Key)
				var e *lhk.Error
				if errors.As(err, &e) && e.Code == lhk.ENOTFOUND {
					return KVGetResponse{Key: r.Key}, nil
				} else if err != nil {
					return nil, err
				}
				return KVGetResponse{Key: r.Key, Value: v, Found: true}, nil
			}),
		op(Op{System: "kv", Name: "set", Capability: lhk.CapKV, Response: empty{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Stores a value (at most 1 MiB) under a key (at most 512 bytes) in the plugin's store."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *KVSetRequest) (any, error) {
				n, err := ns(call)
				if err != nil {
					return nil, err
				}
				return empty{}, s.KV.Set(ctx, n, r.Key, r.Value)
			}),
		op(Op{System: "kv", Name: "delete", Capability: lhk.CapKV, Response: empty{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Deletes a key from the plugin's store; deleting a missing key succeeds."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *KVKey) (any, error) {
				n, err := ns(call)
				if err != nil {
					return nil, err
				}
				return empty{}, s.KV.Delete(ctx, n, r.Key)
			}),
		op(Op{System: "kv", Name: "list", Capability: lhk.CapKV, Response: KVListResponse{}, Errors: []string{lhk.EUNAVAILABLE},
			Doc: "Lists the plugin's keys with a `prefix` in key order, at most `limit` (default 100, at most 1000), after the key `after` for paging."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *KVListRequest) (any, error) {
				n, err := ns(call)
				if err != nil {
					return nil, err
				}
				es, err := s.KV.List(ctx, n, r.Prefix, r.After, r.Limit)
				if err != nil {
					return nil, err
				}
				if es == nil {
					es = []lhk.KVEntry{}
				}
				return KVListResponse{Entries: es}, nil
			}),
	}
}

func notifyOps(s Systems) []Op {
	return []Op{
		op(Op{System: "notify", Name: "send", Capability: lhk.CapNotifySend, Response: empty{}, Errors: []string{lhk.ENOTFOUND, lhk.EUNAVAILABLE},
			Doc: "Sends a message to a configured channel (a generic JSON webhook or a Slack-compatible one): `title`, `text`, `severity` and extra `fields`. A `tenant`, when given, must be in the grant."},
			nil, func(ctx context.Context, call *lhk.HostCall, r *lhk.Notification) (any, error) {
				if s.Notify == nil {
					return nil, unavailable("notify")
				}
				if r.Tenant != "" {
					if err := checkTenant(call, r.Tenant); err != nil {
						return nil, err
					}
				}
				return empty{}, s.Notify.Notify(ctx, *r)
			}),
	}
}
