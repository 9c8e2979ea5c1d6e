package lhk

import (
	"context"
	"time"
)

// Filter is an analysis filter: conditions in the field-search language that
// mark events as known noise for one tenant. Active filters (not expired) are
// what apply_filters drops.
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

// FilterService keeps analysis filters, per tenant, keyed by name.
type FilterService interface {
	// Filters lists a tenant's filters by name; expired ones only when asked.
	Filters(ctx context.Context, tenant string, includeExpired bool) ([]*Filter, error)
	// UpsertFilter creates or replaces a filter by tenant and name, keeping its
	// creation time and hit statistics when it exists.
	UpsertFilter(ctx context.Context, f *Filter) (*Filter, error)
	// DeleteFilter removes a filter; ENOTFOUND if absent.
	DeleteFilter(ctx context.Context, tenant, name string) error
	// SetHits records a filter's hit count and last hit, as computed from the logs.
	SetHits(ctx context.Context, tenant, name string, count int64, last *time.Time) error
}

// Ticket statuses and severities.
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

// Ticket is a case an analyst works on, for one tenant.
type Ticket struct {
	ID          string `json:"id"`
	Tenant      string `json:"tenant"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Severity    string `json:"severity"`
	Assignee    string `json:"assignee"`
	Reporter    string `json:"reporter"`
	// ExternalKey de-duplicates tickets opened from outside alerts (e.g. the
	// SIEM's alert id or a correlation key); unique per tenant when set.
	ExternalKey string       `json:"external_key,omitempty"`
	Events      []string     `json:"events"`      // ids of linked log events
	Observables []Observable `json:"observables"` // IPs, hashes, domains, users…
	Comments    []Comment    `json:"comments"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Observable kinds.
const (
	ObservableIP     = "ip"
	ObservableHash   = "hash"
	ObservableDomain = "domain"
	ObservableURL    = "url"
	ObservableUser   = "user"
	ObservableHost   = "host"
	ObservableEmail  = "email"
)

// Observable is an indicator linked to a ticket.
type Observable struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// Comment is one note on a ticket.
type Comment struct {
	Author string    `json:"author"`
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// TicketUpdate changes a ticket; nil fields stay, Add* fields are appended
// without duplicates.
type TicketUpdate struct {
	Title          *string      `json:"title,omitempty"`
	Description    *string      `json:"description,omitempty"`
	Status         *string      `json:"status,omitempty"`
	Severity       *string      `json:"severity,omitempty"`
	Assignee       *string      `json:"assignee,omitempty"`
	AddEvents      []string     `json:"add_events,omitempty"`
	AddObservables []Observable `json:"add_observables,omitempty"`
}

// TicketQuery searches a tenant's tickets, newest first. Empty fields match all.
type TicketQuery struct {
	Tenant      string     `json:"tenant"`
	Status      string     `json:"status"`
	Severity    string     `json:"severity"`
	Assignee    string     `json:"assignee"`
	Text        string     `json:"text"`           // in title, description and comments
	Observable  string     `json:"observable"`     // any observable with this value
	ExternalKey string     `json:"external_key"`   // exact
	From        *time.Time `json:"from,omitempty"` // created at or after
	To          *time.Time `json:"to,omitempty"`   // created before
	Limit       int        `json:"limit"`
	Cursor      string     `json:"cursor"`
}

// TicketList is a page of tickets.
type TicketList struct {
	Tickets    []*Ticket `json:"tickets"`
	NextCursor string    `json:"next_cursor"`
	Truncated  bool      `json:"truncated"`
}

// TicketService keeps tickets. Every method is scoped to the tenant it names.
type TicketService interface {
	// CreateTicket stores t with a new ID; ECONFLICT when its ExternalKey is taken.
	CreateTicket(ctx context.Context, t *Ticket) (*Ticket, error)
	// Ticket returns one ticket of a tenant; ENOTFOUND for another tenant's id.
	Ticket(ctx context.Context, tenant, id string) (*Ticket, error)
	// UpdateTicket applies upd.
	UpdateTicket(ctx context.Context, tenant, id string, upd TicketUpdate) (*Ticket, error)
	// CommentTicket appends a comment.
	CommentTicket(ctx context.Context, tenant, id string, c Comment) (*Ticket, error)
	// SearchTickets lists tickets matching q.
	SearchTickets(ctx context.Context, q TicketQuery) (*TicketList, error)
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

// AssetService keeps the asset inventory.
type AssetService interface {
	// LookupAsset finds a tenant's host by name or by one of its IPs; ENOTFOUND otherwise.
	LookupAsset(ctx context.Context, tenant, nameOrIP string) (*Asset, error)
	// UpsertAsset creates or replaces an asset by tenant and name.
	UpsertAsset(ctx context.Context, a *Asset) (*Asset, error)
	// Assets lists a tenant's assets by name.
	Assets(ctx context.Context, tenant string) ([]*Asset, error)
}

// CollectRequest asks for the first data collection of an endpoint
// investigation: what happened on a host over a window.
type CollectRequest struct {
	Tenant string    `json:"tenant"`
	Host   string    `json:"host"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	// Limit bounds the events of each section (default 200, at most MaxLogLimit).
	Limit int `json:"limit"`
}

// Collection is the endpoint telemetry of a host over a window, by kind.
type Collection struct {
	Tenant    string         `json:"tenant"`
	Host      string         `json:"host"`
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Processes []*ProcessNode `json:"processes"` // roots of the process tree
	Network   []Event        `json:"network"`
	Logons    []Event        `json:"logons"`
	Files     []Event        `json:"files"`
	Registry  []Event        `json:"registry"`
	Truncated bool           `json:"truncated"` // some section hit its limit
}

// ProcessNode is one process with its children.
type ProcessNode struct {
	PID         string         `json:"pid"`
	Name        string         `json:"name"`
	Executable  string         `json:"executable"`
	CommandLine string         `json:"command_line"`
	User        string         `json:"user"`
	Start       time.Time      `json:"start"`
	ParentPID   string         `json:"parent_pid"`
	ParentName  string         `json:"parent_name"`
	EventID     string         `json:"event_id"` // _id of the creation event
	Children    []*ProcessNode `json:"children"`
}

// ResponseAction is a response taken on an endpoint, e.g. isolation.
type ResponseAction struct {
	ID     string    `json:"id"`
	Tenant string    `json:"tenant"`
	Host   string    `json:"host"`
	Action string    `json:"action"` // isolate
	Reason string    `json:"reason"`
	Actor  string    `json:"actor"`
	Status string    `json:"status"` // sent, failed, recorded (no webhook configured)
	Detail string    `json:"detail"`
	At     time.Time `json:"at"`
}

// EndpointService collects endpoint telemetry and takes response actions.
type EndpointService interface {
	// Collect builds the process tree, network connections, logons, file and
	// registry changes of a host from the tenant's logs.
	Collect(ctx context.Context, req CollectRequest) (*Collection, error)
	// Isolate records an isolation request with its actor (ActorFromContext) and
	// sends it to the configured webhook.
	Isolate(ctx context.Context, tenant, host, reason string) (*ResponseAction, error)
}

// Report is a published Markdown report, rendered to HTML.
type Report struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Title     string    `json:"title"`
	Markdown  string    `json:"markdown"`
	HTML      string    `json:"html"` // rendered with raw HTML escaped: safe to show
	Plugin    string    `json:"plugin"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

// ReportService keeps reports.
type ReportService interface {
	// PublishReport renders r.Markdown to HTML and stores the report with a new ID.
	PublishReport(ctx context.Context, r *Report) (*Report, error)
	// Report returns one report of a tenant.
	Report(ctx context.Context, tenant, id string) (*Report, error)
	// Reports lists a tenant's reports newest first, without Markdown and HTML.
	Reports(ctx context.Context, tenant string, limit int, cursor string) ([]*Report, string, error)
}

// KV limits.
const (
	MaxKVKey   = 512
	MaxKVValue = 1 << 20
)

// KVEntry is one key and its value.
type KVEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KVService is per-namespace persistent key-value state; lhk gives every
// plugin its own namespace (its name).
type KVService interface {
	// Get returns a value; ENOTFOUND when the key is absent.
	Get(ctx context.Context, ns, key string) (string, error)
	// Set stores a value.
	Set(ctx context.Context, ns, key, value string) error
	// Delete removes a key; deleting an absent key is not an error.
	Delete(ctx context.Context, ns, key string) error
	// List returns keys with a prefix in key order, at most limit, after the
	// key `after` (for paging).
	List(ctx context.Context, ns, prefix, after string, limit int) ([]KVEntry, error)
}

// Notification is a message to a configured channel.
type Notification struct {
	Channel  string            `json:"channel"`
	Tenant   string            `json:"tenant"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	Severity string            `json:"severity"`
	Fields   map[string]string `json:"fields"`
}

// NotifyService sends notifications.
type NotifyService interface {
	// Notify delivers n to its channel; ENOTFOUND for an unknown channel,
	// EUNAVAILABLE when the receiver fails.
	Notify(ctx context.Context, n Notification) error
	// Channels lists the configured channel names.
	Channels() []string
}
