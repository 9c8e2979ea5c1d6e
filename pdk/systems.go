package pdk

import (
	"slices"
	"time"
)

// Ptr returns a pointer to a copy of v, for the optional fields of
// [Filter] and [TicketQuery]. A [TicketUpdate] needs none: build it with its
// Set methods.
func Ptr[T any](v T) *T { return &v }

// Filter is an analysis filter: conditions in the field-search language that
// mark a tenant's events as known noise. Active filters (ExpiresAt nil or in
// the future) are what a search with ApplyFilters drops. The daemon sets
// Owner, CreatedAt, HitCount and LastHit; the plugin sets the rest.
type Filter struct {
	Tenant     string      `json:"tenant"`
	Name       string      `json:"name"`
	Conditions []Condition `json:"conditions"`
	Reason     string      `json:"reason"`
	Owner      string      `json:"owner"`
	CreatedAt  time.Time   `json:"created_at"`
	ExpiresAt  *time.Time  `json:"expires_at"`
	HitCount   int64       `json:"hit_count"`
	LastHit    *time.Time  `json:"last_hit"`
}

// Active reports whether the filter applies at t.
func (f *Filter) Active(t time.Time) bool { return f.ExpiresAt == nil || t.Before(*f.ExpiresAt) }

// FilterStat is how often one filter matched events in a time range and
// when it last did (nil when it never did).
type FilterStat struct {
	Name    string     `json:"name"`
	Hits    int64      `json:"hits"`
	LastHit *time.Time `json:"last_hit"`
	// ExpiresAt is the filter's expiry, nil when it never expires.
	ExpiresAt *time.Time `json:"expires_at"`
	// Expired says the filter was past its expiry when the stats were taken.
	Expired bool `json:"expired"`
}

// FilterSystem is the type of [Filters]; see there.
type FilterSystem struct{}

// Filters keeps a tenant's analysis filters, keyed by name. Reading needs the
// capability "filters.read", changing needs "filters.write", and every call
// needs a tenant of the plugin's grant; otherwise it fails with
// [CodeForbidden].
var Filters FilterSystem

// List returns a tenant's filters by name, expired ones only when
// includeExpired is true (host function filters_list, capability
// filters.read).
func (FilterSystem) List(tenant string, includeExpired bool) ([]Filter, error) {
	req := struct {
		Tenant         string `json:"tenant"`
		IncludeExpired bool   `json:"include_expired"`
	}{tenant, includeExpired}
	var res struct {
		Filters []Filter `json:"filters"`
	}
	if err := Call(hostFiltersList, req, &res); err != nil {
		return nil, err
	}
	return res.Filters, nil
}

// Stats counts, for each of a tenant's filters, the events it matched in the
// time range [from, to) and its last hit, computed from the logs (host
// function filters_stats, capability filters.read). The time range is
// required and may cover at most [MaxLogRange]; a count past the daemon's
// query budget fails with [CodeTimeout]. Use it to find stale filters.
func (FilterSystem) Stats(tenant string, from, to time.Time) ([]FilterStat, error) {
	req := struct {
		Tenant string    `json:"tenant"`
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
	}{tenant, from, to}
	var res struct {
		Stats []FilterStat `json:"stats"`
	}
	if err := Call(hostFiltersStats, req, &res); err != nil {
		return nil, err
	}
	return res.Stats, nil
}

// Upsert creates the filter f.Tenant/f.Name or replaces it, keeping its
// creation time and hit statistics, and returns it as stored (host function
// filters_upsert, capability filters.write). A filter without a name or
// conditions, or with an unknown operator, fails with [CodeInvalid].
func (FilterSystem) Upsert(f Filter) (*Filter, error) {
	var res Filter
	if err := Call(hostFiltersUpsert, f, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Delete removes a tenant's filter (host function filters_delete, capability
// filters.write); [CodeNotFound] when there is none by that name.
func (FilterSystem) Delete(tenant, name string) error {
	req := struct {
		Tenant string `json:"tenant"`
		Name   string `json:"name"`
	}{tenant, name}
	return Call(hostFiltersDelete, req, nil)
}

// Ticket statuses and severities. Severities are also used by
// [Notification] and [Asset.Criticality].
const (
	TicketOpen       = "open"
	TicketInProgress = "in_progress"
	TicketResolved   = "resolved"
	TicketClosed     = "closed"

	SeverityLow      = "low"
	SeverityMedium   = "medium"
	SeverityHigh     = "high"
	SeverityCritical = "critical"
)

// Ticket is a case an analyst works on, for one tenant. On create the
// plugin sets Tenant, Title and usually Description, Severity, Events,
// Observables and ExternalKey; the daemon sets ID, Reporter (the plugin),
// Comments and the times, and Status defaults to [TicketOpen].
type Ticket struct {
	ID          string `json:"id"`
	Tenant      string `json:"tenant"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Severity    string `json:"severity"`
	Assignee    string `json:"assignee"`
	Reporter    string `json:"reporter"`
	// ExternalKey de-duplicates tickets opened from outside alerts (the
	// SIEM's alert id, a correlation key); unique per tenant when set.
	ExternalKey string       `json:"external_key,omitempty"`
	Events      []string     `json:"events"`      // ids ("_id") of linked log events
	Observables []Observable `json:"observables"` // IPs, hashes, domains, users…
	Comments    []Comment    `json:"comments"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Observable kinds, the Type of an [Observable].
const (
	ObservableIP     = "ip"
	ObservableHash   = "hash"
	ObservableDomain = "domain"
	ObservableURL    = "url"
	ObservableUser   = "user"
	ObservableHost   = "host"
	ObservableEmail  = "email"
)

// Observable is an indicator linked to a ticket, e.g.
// {Type: [ObservableIP], Value: "203.0.113.7"}.
type Observable struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Comment is one note on a ticket; the daemon sets Author and At.
type Comment struct {
	Author string    `json:"author"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// TicketUpdate changes a ticket: what is not set stays as it is, and linked
// events and observables are appended, skipping those the ticket already
// has. Build it with its methods, which return the changed update and can
// be chained; no pointers are needed:
//
//	upd := pdk.TicketUpdate{}.SetStatus(pdk.TicketInProgress).SetAssignee("bob").AddEvent(e.ID())
//
// The fields are the JSON of host function tickets_update: a nil field
// stays as it is, so setting one directly needs a pointer ([Ptr]); plugins
// written that way keep working.
type TicketUpdate struct {
	Title          *string      `json:"title,omitempty"`
	Description    *string      `json:"description,omitempty"`
	Status         *string      `json:"status,omitempty"`
	Severity       *string      `json:"severity,omitempty"`
	Assignee       *string      `json:"assignee,omitempty"`
	AddEvents      []string     `json:"add_events,omitempty"`
	AddObservables []Observable `json:"add_observables,omitempty"`
}

// SetTitle returns u changed to set the ticket's title.
func (u TicketUpdate) SetTitle(title string) TicketUpdate { u.Title = &title; return u }

// SetDescription returns u changed to set the ticket's description
// (Markdown).
func (u TicketUpdate) SetDescription(description string) TicketUpdate {
	u.Description = &description
	return u
}

// SetStatus returns u changed to set the ticket's status: [TicketOpen],
// [TicketInProgress], [TicketResolved] or [TicketClosed]; the daemon refuses
// another with [CodeInvalid].
func (u TicketUpdate) SetStatus(status string) TicketUpdate { u.Status = &status; return u }

// SetSeverity returns u changed to set the ticket's severity:
// [SeverityLow] … [SeverityCritical].
func (u TicketUpdate) SetSeverity(severity string) TicketUpdate { u.Severity = &severity; return u }

// SetAssignee returns u changed to assign the ticket to a user; "" leaves it
// unassigned.
func (u TicketUpdate) SetAssignee(assignee string) TicketUpdate { u.Assignee = &assignee; return u }

// AddEvent returns u changed to link more log events, by their ids
// ([Event.ID]).
func (u TicketUpdate) AddEvent(ids ...string) TicketUpdate {
	u.AddEvents = append(slices.Clip(u.AddEvents), ids...)
	return u
}

// AddObservable returns u changed to link more observables.
func (u TicketUpdate) AddObservable(obs ...Observable) TicketUpdate {
	u.AddObservables = append(slices.Clip(u.AddObservables), obs...)
	return u
}

// TicketQuery searches a tenant's tickets, newest first. Empty fields match
// every ticket. Text is searched in titles, descriptions and comments;
// Observable matches any observable with that value; ExternalKey matches
// exactly. From and To bound the creation time ([From, To)). Limit 0 takes
// the daemon's default and a limit over its maximum is lowered to it (50 and
// 500 with the embedded backend); Cursor pages on as in [SearchRequest].
type TicketQuery struct {
	Tenant      string     `json:"tenant"`
	Status      string     `json:"status"`
	Severity    string     `json:"severity"`
	Assignee    string     `json:"assignee"`
	Text        string     `json:"text"`
	Observable  string     `json:"observable"`
	ExternalKey string     `json:"external_key"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
	Limit       int        `json:"limit"`
	Cursor      string     `json:"cursor"`
}

// TicketList is a page of tickets. Truncated says that more tickets match;
// NextCursor fetches them.
type TicketList struct {
	Tickets    []*Ticket `json:"tickets"`
	NextCursor string    `json:"next_cursor"`
	Truncated  bool      `json:"truncated"`
}

// TicketSystem is the type of [Tickets]; see there.
type TicketSystem struct{}

// Tickets keeps a tenant's tickets (cases). Reading needs the capability
// "tickets.read", creating and changing "tickets.write", and every call needs
// a tenant of the plugin's grant; otherwise it fails with [CodeForbidden].
// Another tenant's ticket id is [CodeNotFound], as is an unknown one.
var Tickets TicketSystem

// Create opens a ticket and returns it with its new ID (host function
// tickets_create, capability tickets.write). A ticket without a title, or
// with an unknown status or severity, fails with [CodeInvalid]; one whose
// ExternalKey the tenant already uses fails with [CodeConflict], so a plugin
// can open one ticket per alert:
//
//	t, err := pdk.Tickets.Create(pdk.Ticket{Tenant: "acme", Title: title, ExternalKey: alertID})
//	if pdk.IsConflict(err) {
//		// already opened; find it with Search(TicketQuery{ExternalKey: alertID})
//	}
func (TicketSystem) Create(t Ticket) (*Ticket, error) {
	var res Ticket
	if err := Call(hostTicketsCreate, t, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Get returns one of a tenant's tickets (host function tickets_get,
// capability tickets.read); [CodeNotFound] when the tenant has no ticket
// with that id.
func (TicketSystem) Get(tenant, id string) (*Ticket, error) {
	req := struct {
		Tenant string `json:"tenant"`
		ID     string `json:"id"`
	}{tenant, id}
	var res Ticket
	if err := Call(hostTicketsGet, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// TicketUpdateRequest is the request of host function tickets_update: the
// ticket and the change. [TicketSystem.Update] builds it.
type TicketUpdateRequest struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
	TicketUpdate
}

// Update changes a ticket and returns it (host function tickets_update,
// capability tickets.write); [CodeNotFound] when the tenant has no ticket
// with that id:
//
//	t, err := pdk.Tickets.Update("acme", id, pdk.TicketUpdate{}.
//		SetStatus(pdk.TicketInProgress).
//		AddObservable(pdk.Observable{Type: pdk.ObservableIP, Value: ip}))
func (TicketSystem) Update(tenant, id string, upd TicketUpdate) (*Ticket, error) {
	var res Ticket
	if err := Call(hostTicketsUpdate, TicketUpdateRequest{tenant, id, upd}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Comment appends a comment with the plugin as author and returns the
// ticket (host function tickets_comment, capability tickets.write). An empty
// body fails with [CodeInvalid].
func (TicketSystem) Comment(tenant, id, body string) (*Ticket, error) {
	req := struct {
		Tenant string `json:"tenant"`
		ID     string `json:"id"`
		Body   string `json:"body"`
	}{tenant, id, body}
	var res Ticket
	if err := Call(hostTicketsComment, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Search lists a tenant's tickets matching q, newest first (host function
// tickets_search, capability tickets.read).
func (TicketSystem) Search(q TicketQuery) (*TicketList, error) {
	var res TicketList
	if err := Call(hostTicketsSearch, q, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Asset is a host in a tenant's inventory.
type Asset struct {
	Tenant      string    `json:"tenant"`
	Name        string    `json:"name"` // host name, matched case-insensitively
	IPs         []string  `json:"ips"`
	Owner       string    `json:"owner"`
	OS          string    `json:"os"`
	Criticality string    `json:"criticality"` // low, medium, high, critical
	Tags        []string  `json:"tags"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// AssetSystem is the type of [Assets]; see there.
type AssetSystem struct{}

// Assets reads a tenant's asset inventory. It needs the capability
// "assets.read" and a tenant of the plugin's grant; otherwise it fails with
// [CodeForbidden].
var Assets AssetSystem

// Lookup finds a tenant's host by name (ignoring case) or by one of its IP
// addresses (host function assets_lookup, capability assets.read);
// [CodeNotFound] when the inventory has no such host.
func (AssetSystem) Lookup(tenant, host string) (*Asset, error) {
	req := struct {
		Tenant string `json:"tenant"`
		Host   string `json:"host"`
	}{tenant, host}
	var res Asset
	if err := Call(hostAssetsLookup, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CollectRequest asks for the first data collection of an endpoint
// investigation: what happened on Host (a name or an IP) over the time
// range [From, To), which is required. Limit bounds the events of each
// section (default 200, at most [MaxLogLimit]).
type CollectRequest struct {
	Tenant string    `json:"tenant"`
	Host   string    `json:"host"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Limit  int       `json:"limit"`
}

// Collection is the endpoint telemetry of a host over a window, by kind:
// the process tree (its roots), network connections, logons, file and
// registry changes. Truncated says that some section hit the request's
// limit.
type Collection struct {
	Tenant    string         `json:"tenant"`
	Host      string         `json:"host"`
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Processes []*ProcessNode `json:"processes"`
	Network   []Event        `json:"network"`
	Logons    []Event        `json:"logons"`
	Files     []Event        `json:"files"`
	Registry  []Event        `json:"registry"`
	Truncated bool           `json:"truncated"`
}

// ProcessNode is one process of a [Collection] with its children.
type ProcessNode struct {
	PID         string         `json:"pid"`
	Name        string         `json:"name"`
	Executable  string         `json:"executable"`
	CommandLine string         `json:"command_line"`
	User        string         `json:"user"`
	Start       time.Time      `json:"start"`
	ParentPID   string         `json:"parent_pid"`
	ParentName  string         `json:"parent_name"`
	EventID     string         `json:"event_id"` // "_id" of the creation event
	Children    []*ProcessNode `json:"children"`
}

// ResponseAction is a response taken on an endpoint. Action is "isolate";
// Status is "sent", "failed" or "recorded" (no response webhook is
// configured); Actor is the plugin.
type ResponseAction struct {
	ID     string    `json:"id"`
	Tenant string    `json:"tenant"`
	Host   string    `json:"host"`
	Action string    `json:"action"`
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	Status string    `json:"status"`
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// EndpointSystem is the type of [Endpoints]; see there.
type EndpointSystem struct{}

// Endpoints collects endpoint telemetry and takes response actions on a
// tenant's hosts. Collecting needs the capability "endpoints.read",
// responding "endpoints.respond", and every call needs a tenant of the
// plugin's grant; otherwise it fails with [CodeForbidden].
var Endpoints EndpointSystem

// Collect builds the process tree, network connections, logons, file and
// registry changes of a host from the tenant's logs (host function
// endpoints_collect, capability endpoints.read). A request without a host or
// a time range fails with [CodeInvalid]; a log query past the daemon's query
// budget with [CodeTimeout].
func (EndpointSystem) Collect(req CollectRequest) (*Collection, error) {
	var res Collection
	if err := Call(hostEndpointsCollect, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Isolate asks for a host to be cut off the network and returns the recorded
// action (host function endpoints_isolate, capability endpoints.respond).
// The reason is required and kept with the plugin as actor; check the
// action's Status: a failed delivery is an action with Status "failed", not
// an error.
func (EndpointSystem) Isolate(tenant, host, reason string) (*ResponseAction, error) {
	req := struct {
		Tenant string `json:"tenant"`
		Host   string `json:"host"`
		Reason string `json:"reason"`
	}{tenant, host, reason}
	var res ResponseAction
	if err := Call(hostEndpointsIsolate, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Report is a published Markdown report. HTML is the Markdown rendered with
// raw HTML escaped; Plugin and Author name who published it.
type Report struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Title     string    `json:"title"`
	Markdown  string    `json:"markdown"`
	HTML      string    `json:"html"`
	Plugin    string    `json:"plugin"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// ReportList is a page of reports, newest first, without their Markdown and
// HTML ([ReportSystem.Get] has them). Truncated says that more reports
// follow; NextCursor fetches them.
type ReportList struct {
	Reports    []*Report `json:"reports"`
	NextCursor string    `json:"next_cursor"`
	Truncated  bool      `json:"truncated"`
}

// ReportSystem is the type of [Reports]; see there.
type ReportSystem struct{}

// Reports publishes and reads a tenant's Markdown reports. Publishing needs
// the capability "reports.write", reading "reports.read", and every call
// needs a tenant of the plugin's grant; otherwise it fails with
// [CodeForbidden]. Another tenant's report id is [CodeNotFound], as is an
// unknown one.
var Reports ReportSystem

// List returns a page of a tenant's reports, newest first, without their
// Markdown and HTML (host function reports_list, capability reports.read).
// Limit 0 takes the daemon's default and a limit over its maximum is
// lowered to it (50 and 500); pass the previous page's NextCursor as cursor
// for the next page ("" for the first):
//
//	for cursor := ""; ; {
//		page, err := pdk.Reports.List("acme", 50, cursor)
//		if err != nil {
//			return err
//		}
//		// … page.Reports …
//		if !page.Truncated {
//			break
//		}
//		cursor = page.NextCursor
//	}
func (ReportSystem) List(tenant string, limit int, cursor string) (*ReportList, error) {
	req := struct {
		Tenant string `json:"tenant"`
		Limit  int    `json:"limit"`
		Cursor string `json:"cursor"`
	}{tenant, limit, cursor}
	var res ReportList
	if err := Call(hostReportsList, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Get returns one of a tenant's reports with its Markdown and rendered HTML,
// what the daemon offers for download (host function reports_get,
// capability reports.read); [CodeNotFound] when the tenant has no report
// with that id.
func (ReportSystem) Get(tenant, id string) (*Report, error) {
	req := struct {
		Tenant string `json:"tenant"`
		ID     string `json:"id"`
	}{tenant, id}
	var res Report
	if err := Call(hostReportsGet, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Publish renders markdown to HTML and stores it as a new report of the
// tenant (host function reports_publish, capability reports.write). An empty
// title fails with [CodeInvalid]; an oversized report with [CodeTooLarge].
func (ReportSystem) Publish(tenant, title, markdown string) (*Report, error) {
	req := struct {
		Tenant   string `json:"tenant"`
		Title    string `json:"title"`
		Markdown string `json:"markdown"`
	}{tenant, title, markdown}
	var res Report
	if err := Call(hostReportsPublish, req, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Limits of the kv system.
const (
	MaxKVKey   = 512     // bytes of a key
	MaxKVValue = 1 << 20 // bytes of a value
)

// KVEntry is one key and its value.
type KVEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KVSystem is the type of [KV]; see there.
type KVSystem struct{}

// KV is the plugin's own persistent key-value store: state that outlives the
// instance, such as the time of the last run or a counter. Each plugin has
// its own namespace, so keys need no prefix and no tenant; keys and values
// are strings (store JSON for structure). Every method needs the capability
// "kv"; otherwise it fails with [CodeForbidden]. Keys beyond [MaxKVKey] and
// values beyond [MaxKVValue] fail with [CodeInvalid] or [CodeTooLarge].
var KV KVSystem

// Get returns the value of key and whether it is set (host function kv_get,
// capability kv). An absent key is not an error:
//
//	last, found, err := pdk.KV.Get("last-run")
func (KVSystem) Get(key string) (value string, found bool, err error) {
	req := struct {
		Key string `json:"key"`
	}{key}
	var res struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Found bool   `json:"found"`
	}
	if err := Call(hostKVGet, req, &res); err != nil {
		return "", false, err
	}
	return res.Value, res.Found, nil
}

// Set stores value under key (host function kv_set, capability kv).
func (KVSystem) Set(key, value string) error {
	req := KVEntry{Key: key, Value: value}
	return Call(hostKVSet, req, nil)
}

// Delete removes key (host function kv_delete, capability kv); deleting an
// absent key is not an error.
func (KVSystem) Delete(key string) error {
	req := struct {
		Key string `json:"key"`
	}{key}
	return Call(hostKVDelete, req, nil)
}

// List returns at most limit entries whose keys start with prefix, in key
// order, starting after the key after ("" for the first page) (host function
// kv_list, capability kv). Limit 0 takes the daemon's default and a limit
// over its maximum is lowered to it (100 and 1000 with the embedded
// backend). To page, pass the last key returned as after.
func (KVSystem) List(prefix, after string, limit int) ([]KVEntry, error) {
	req := struct {
		Prefix string `json:"prefix"`
		After  string `json:"after"`
		Limit  int    `json:"limit"`
	}{prefix, after, limit}
	var res struct {
		Entries []KVEntry `json:"entries"`
	}
	if err := Call(hostKVList, req, &res); err != nil {
		return nil, err
	}
	return res.Entries, nil
}

// Notification is a message to one of the daemon's configured channels
// (chat, mail…). Tenant names the tenant it is about and must be in the
// plugin's grant; Severity is one of the severities ("low" … "critical"); Fields are shown
// as a table where the channel supports it.
type Notification struct {
	Channel  string            `json:"channel"`
	Tenant   string            `json:"tenant"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Severity string            `json:"severity"`
	Fields   map[string]string `json:"fields"`
}

// NotifySystem is the type of [Notify]; see there.
type NotifySystem struct{}

// Notify sends notifications to the daemon's configured channels. It needs
// the capability "notify.send" and the notification's tenant in the plugin's
// grant; otherwise it fails with [CodeForbidden].
var Notify NotifySystem

// Send delivers n to its channel (host function notify_send, capability
// notify.send). An unknown channel fails with [CodeNotFound], a receiver that
// fails with [CodeUnavailable].
func (NotifySystem) Send(n Notification) error { return Call(hostNotifySend, n, nil) }

// Capabilities, the entries of a [Grant]: each allows a group of host
// functions, always for the grant's tenants only.
const (
	CapLogsRead         = "logs.read"         // Logs
	CapFiltersRead      = "filters.read"      // Filters.List, Filters.Stats
	CapFiltersWrite     = "filters.write"     // Filters.Upsert, Filters.Delete
	CapTicketsRead      = "tickets.read"      // Tickets.Get, Tickets.Search
	CapTicketsWrite     = "tickets.write"     // Tickets.Create, Update, Comment
	CapAssetsRead       = "assets.read"       // Assets
	CapEndpointsRead    = "endpoints.read"    // Endpoints.Collect
	CapEndpointsRespond = "endpoints.respond" // Endpoints.Isolate
	CapReportsRead      = "reports.read"      // Reports.List, Reports.Get
	CapReportsWrite     = "reports.write"     // Reports.Publish
	CapKV               = "kv"                // KV
	CapNotifySend       = "notify.send"       // Notify
	CapHTTP             = "http"              // HTTP, to AllowedHosts only
	CapPluginsInvoke    = "plugins.invoke"    // Plugins.Start
)

// PluginSystem is the type of [Plugins]; see there.
type PluginSystem struct{}

// Plugins starts other plugins: a webhook plugin that opens a ticket can hand
// the investigation to a triage plugin and return at once. Needs the
// capability "plugins.invoke".
var Plugins PluginSystem

// Start runs plugin's entrypoint (or function, when not "") in the background
// with input, on behalf of the same caller, and returns the new invocation's
// id (host function plugins_start, capability plugins.invoke). The started
// plugin runs with its own grant; a plugin cannot start itself. An unknown
// plugin is [CodeNotFound].
//
//	id, err := pdk.Plugins.Start("endpoint-triage", "", `{"ticket":"T-…"}`)
func (PluginSystem) Start(plugin, function, input string) (string, error) {
	req := struct {
		Plugin   string `json:"plugin"`
		Function string `json:"function,omitempty"`
		Input    string `json:"input"`
	}{plugin, function, input}
	var res struct {
		Invocation string `json:"invocation"`
	}
	if err := Call(hostPluginsStart, req, &res); err != nil {
		return "", err
	}
	return res.Invocation, nil
}

// Grant is what the calling plugin may use: its capabilities, its tenants
// ("*" for every tenant) and the hosts it may reach over HTTP. The plugin's
// owner or an admin sets it (PUT /v1/plugins/{name}/grant).
type Grant struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
	AllowedHosts []string `json:"allowed_hosts"`
}

// Allows reports whether the grant holds capability c, such as
// [CapTicketsWrite].
func (g *Grant) Allows(c string) bool { return slices.Contains(g.Capabilities, c) }

// AllowsTenant reports whether the grant covers tenant t.
func (g *Grant) AllowsTenant(t string) bool {
	return t != "" && (slices.Contains(g.Tenants, "*") || slices.Contains(g.Tenants, t))
}

// AllTenants reports whether the grant covers every tenant ("*"); then
// Tenants does not list them.
func (g *Grant) AllTenants() bool { return slices.Contains(g.Tenants, "*") }

// CurrentGrant returns the calling plugin's grant (host function grant_get; it
// needs no capability). Plugins that work on "all their tenants", or that
// degrade gracefully without a capability, read it first. The grant may
// change between invocations; read it in each.
func CurrentGrant() (*Grant, error) {
	var g Grant
	if err := Call(hostGrantGet, struct{}{}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}
