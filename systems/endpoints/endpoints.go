// Package endpoints implements lhk.EndpointService on top of any
// lhk.LogService: Collect reads a host's telemetry from the logs, Isolate
// sends a response action to a webhook (an EDR's or a SOAR's) and records it
// in the audit log.
package endpoints

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/lhk-soc/lhk"
)

var _ lhk.EndpointService = (*Service)(nil)

// Limits of endpoint requests.
const (
	DefaultLimit   = 200              // events per section when a request names no limit
	MaxHost        = 255              // bytes of a host name
	MaxReason      = 4096             // bytes of an isolation reason
	WebhookTimeout = 10 * time.Second // how long Isolate waits for the webhook
	// maxPages bounds the log pages Collect reads for one section: host names
	// are matched case-insensitively by the store's contains and then exactly
	// here, so a page may hold other hosts' events.
	maxPages = 10
)

// Service is the endpoint service. It is safe for concurrent use.
type Service struct {
	logs    lhk.LogService
	audit   lhk.AuditStore
	webhook string
	client  *http.Client
	now     func() time.Time
}

// New returns a service reading telemetry from logs and writing response
// actions to audit. webhookURL, when set, receives each isolation as a JSON
// POST; client may be nil for a default client (the webhook call is always
// bounded by WebhookTimeout).
func New(logs lhk.LogService, audit lhk.AuditStore, webhookURL string, client *http.Client) *Service {
	if client == nil {
		client = &http.Client{}
	}
	return &Service{logs: logs, audit: audit, webhook: webhookURL, client: client,
		now: func() time.Time { return time.Now().UTC() }}
}

// checkHost validates a host name.
func checkHost(host string) error {
	switch {
	case strings.TrimSpace(host) == "":
		return lhk.Errorf(lhk.EINVALID, "host is required")
	case len(host) > MaxHost:
		return lhk.Errorf(lhk.EINVALID, "host is %d bytes, at most %d allowed", len(host), MaxHost)
	case !printable(host):
		return lhk.Errorf(lhk.EINVALID, "host must be printable UTF-8")
	}
	return nil
}

// checkTenant validates a tenant name.
func checkTenant(tenant string) error {
	switch {
	case tenant == "":
		return lhk.Errorf(lhk.EINVALID, "tenant is required")
	case tenant == "*":
		return lhk.Errorf(lhk.EINVALID, `tenant "*" means all tenants: name one tenant`)
	case len(tenant) > 128 || !printable(tenant):
		return lhk.Errorf(lhk.EINVALID, "tenant must be 1–128 bytes of printable UTF-8")
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// hostMatches reports whether an event's host.name is the host asked for,
// ignoring case: the same name, or the same first label ("WORKSTATION5"
// matches "workstation5.theshire.local" and the reverse).
func hostMatches(name, host string) bool {
	if strings.EqualFold(name, host) {
		return true
	}
	short := func(s string) string { s, _, _ = strings.Cut(s, "."); return s }
	return strings.EqualFold(short(name), short(host)) && (!strings.Contains(name, ".") || !strings.Contains(host, "."))
}

// section is one kind of telemetry: the conditions that find it.
type section struct {
	name  string
	conds [][]lhk.Condition // alternatives; their results are merged
}

var (
	processSection  = section{"processes", [][]lhk.Condition{{{Field: "event.category", Op: lhk.OpEq, Value: "process"}, {Field: "event.type", Op: lhk.OpEq, Value: "start"}}}}
	networkSection  = section{"network", [][]lhk.Condition{{{Field: "event.category", Op: lhk.OpEq, Value: "network"}}, {{Field: "destination.ip", Op: lhk.OpExists}}}}
	logonSection    = section{"logons", [][]lhk.Condition{{{Field: "event.category", Op: lhk.OpEq, Value: "authentication"}}}}
	fileSection     = section{"files", [][]lhk.Condition{{{Field: "event.category", Op: lhk.OpEq, Value: "file"}}}}
	registrySection = section{"registry", [][]lhk.Condition{{{Field: "event.category", Op: lhk.OpEq, Value: "registry"}}}}
)

// Collect builds a host's process tree, network connections, logons, file
// and registry changes over [From, To) from the tenant's logs. Each section
// holds at most Limit events (DefaultLimit when zero, lowered to
// lhk.MaxLogLimit), the newest; Truncated says some section had more.
// Processes are linked to their parents by process id and time (the latest
// start of the parent's pid before the child); processes whose parent did not
// start in the window are roots. Sysmon 1 and Security 4688 records of one
// process are merged.
func (s *Service) Collect(ctx context.Context, req lhk.CollectRequest) (*lhk.Collection, error) {
	if err := checkTenant(req.Tenant); err != nil {
		return nil, err
	}
	if err := checkHost(req.Host); err != nil {
		return nil, err
	}
	if req.From.IsZero() || req.To.IsZero() {
		return nil, lhk.Errorf(lhk.EINVALID, `a time range is required: set "from" and "to" (RFC 3339)`)
	}
	limit := req.Limit
	switch {
	case limit < 0:
		return nil, lhk.Errorf(lhk.EINVALID, "limit must not be negative, got %d", limit)
	case limit == 0:
		limit = DefaultLimit
	case limit > lhk.MaxLogLimit:
		limit = lhk.MaxLogLimit
	}
	c := &lhk.Collection{Tenant: req.Tenant, Host: req.Host, From: req.From, To: req.To,
		Processes: []*lhk.ProcessNode{}, Network: []lhk.Event{}, Logons: []lhk.Event{}, Files: []lhk.Event{}, Registry: []lhk.Event{}}
	for _, sec := range []struct {
		section
		dst *[]lhk.Event
	}{
		{networkSection, &c.Network}, {logonSection, &c.Logons}, {fileSection, &c.Files}, {registrySection, &c.Registry},
	} {
		evs, trunc, err := s.section(ctx, req, sec.section, limit)
		if err != nil {
			return nil, fmt.Errorf("collect %s of %q: %w", sec.name, req.Host, err)
		}
		*sec.dst = evs
		c.Truncated = c.Truncated || trunc
	}
	procs, trunc, err := s.section(ctx, req, processSection, limit)
	if err != nil {
		return nil, fmt.Errorf("collect processes of %q: %w", req.Host, err)
	}
	c.Truncated = c.Truncated || trunc
	c.Processes = buildTree(procs)
	return c, nil
}

// section reads up to limit events of one section on the host, newest
// first, and says whether there were more.
func (s *Service) section(ctx context.Context, req lhk.CollectRequest, sec section, limit int) ([]lhk.Event, bool, error) {
	seen := map[string]bool{}
	var out []lhk.Event
	truncated := false
	for _, alt := range sec.conds {
		conds := append([]lhk.Condition{{Field: "host.name", Op: lhk.OpContains, Value: hostLabel(req.Host)}}, alt...)
		cursor := ""
		matched := 0
		for page := 0; ; page++ {
			if page == maxPages {
				truncated = true
				break
			}
			res, err := s.logs.SearchFields(ctx, lhk.FieldSearchRequest{Tenant: req.Tenant, Fields: conds,
				From: req.From, To: req.To, Limit: lhk.MaxLogLimit, Cursor: cursor})
			if err != nil {
				return nil, false, err
			}
			for _, e := range res.Events {
				if !hostMatches(str(e["host.name"]), req.Host) {
					continue
				}
				matched++
				id := str(e["_id"])
				if seen[id] {
					continue
				}
				seen[id] = true
				out = append(out, e)
			}
			if !res.Truncated || matched > limit {
				truncated = truncated || matched > limit
				break
			}
			cursor = res.NextCursor
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).After(eventTime(out[j])) })
	if len(out) > limit {
		out, truncated = out[:limit], true
	}
	if out == nil {
		out = []lhk.Event{}
	}
	return out, truncated, nil
}

// hostLabel is what Collect asks the store for: the host's first label, so
// both short and fully qualified names are found.
func hostLabel(host string) string {
	h, _, _ := strings.Cut(host, ".")
	return h
}

// str formats a field value.
func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprint(v)
}

// eventTime reads an event's @timestamp.
func eventTime(e lhk.Event) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(e["@timestamp"]))
	return t
}

// mergeWindow is how far apart two records of one process creation may be
// (Sysmon and the Security log stamp them separately).
const mergeWindow = 5 * time.Second

// buildTree links process-start events into trees, oldest first.
func buildTree(evs []lhk.Event) []*lhk.ProcessNode {
	nodes := make([]*lhk.ProcessNode, 0, len(evs))
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		e := evs[i]
		n := &lhk.ProcessNode{
			PID:         str(e["process.pid"]),
			Name:        str(e["process.name"]),
			Executable:  str(e["process.executable"]),
			CommandLine: str(e["process.command_line"]),
			User:        userOf(e),
			Start:       eventTime(e),
			ParentPID:   str(e["process.parent.pid"]),
			ParentName:  str(e["process.parent.name"]),
			EventID:     str(e["_id"]),
			Children:    []*lhk.ProcessNode{},
		}
		if n.PID == "" {
			continue
		}
		// The same creation from another log: keep the richer record.
		if dup := findDup(nodes, n); dup != nil {
			mergeNode(dup, n)
			continue
		}
		nodes = append(nodes, n)
	}
	roots := []*lhk.ProcessNode{}
	for i, n := range nodes {
		var parent *lhk.ProcessNode
		for j := i - 1; j >= 0; j-- { // the latest earlier start of the parent's pid
			if nodes[j].PID == n.ParentPID && n.ParentPID != "" && !nodes[j].Start.After(n.Start.Add(mergeWindow)) {
				parent = nodes[j]
				break
			}
		}
		if parent == nil {
			roots = append(roots, n)
			continue
		}
		if n.ParentName == "" {
			n.ParentName = parent.Name
		}
		parent.Children = append(parent.Children, n)
	}
	return roots
}

// findDup returns the node recording the same process creation as n.
func findDup(nodes []*lhk.ProcessNode, n *lhk.ProcessNode) *lhk.ProcessNode {
	for j := len(nodes) - 1; j >= 0; j-- {
		o := nodes[j]
		if n.Start.Sub(o.Start) > mergeWindow {
			break
		}
		if o.PID == n.PID && strings.EqualFold(o.Name, n.Name) {
			return o
		}
	}
	return nil
}

// mergeNode fills the empty fields of dst from src.
func mergeNode(dst, src *lhk.ProcessNode) {
	fill := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	fill(&dst.Executable, src.Executable)
	fill(&dst.CommandLine, src.CommandLine)
	fill(&dst.User, src.User)
	fill(&dst.ParentPID, src.ParentPID)
	fill(&dst.ParentName, src.ParentName)
}

// userOf formats an event's user as DOMAIN\name when it has a domain.
func userOf(e lhk.Event) string {
	name, dom := str(e["user.name"]), str(e["user.domain"])
	if dom != "" && name != "" {
		return dom + `\` + name
	}
	return name
}

// Isolate asks for a host to be cut off the network. With a webhook it POSTs
// {"action":"isolate","tenant","host","reason","actor","id","at"} and the
// action's status is "sent" (2xx) or "failed" (with the reason in Detail);
// without one it is "recorded". Either way an audit entry is written:
// action "endpoint.isolate", target "host/<tenant>/<host>". A failed
// webhook is not an error of Isolate: the returned action says so.
func (s *Service) Isolate(ctx context.Context, tenant, host, reason string) (*lhk.ResponseAction, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if err := checkHost(host); err != nil {
		return nil, err
	}
	if len(reason) > MaxReason || !utf8.ValidString(reason) {
		return nil, lhk.Errorf(lhk.EINVALID, "reason must be valid UTF-8 of at most %d bytes", MaxReason)
	}
	a := &lhk.ResponseAction{
		ID: uuid.NewString(), Tenant: tenant, Host: host, Action: "isolate", Reason: reason,
		Actor: lhk.ActorFromContext(ctx), Status: "recorded", At: s.now(),
	}
	if s.webhook != "" {
		a.Status, a.Detail = s.send(ctx, a)
	}
	detail, err := json.Marshal(map[string]string{"id": a.ID, "reason": a.Reason, "status": a.Status, "detail": a.Detail})
	if err != nil {
		return nil, fmt.Errorf("encode audit detail: %w", err)
	}
	// The record is written even when the caller's context ended meanwhile.
	if err := s.audit.Audit(context.WithoutCancel(ctx), lhk.AuditEntry{Time: a.At, Actor: a.Actor, Action: "endpoint.isolate",
		Target: "host/" + tenant + "/" + host, Detail: string(detail)}); err != nil {
		return nil, fmt.Errorf("audit isolation of %q: %w", host, err)
	}
	return a, nil
}

// send posts the action to the webhook and returns its status and detail.
// The detail never holds the webhook's URL (it may carry a token).
func (s *Service) send(ctx context.Context, a *lhk.ResponseAction) (status, detail string) {
	body, err := json.Marshal(map[string]any{"action": a.Action, "tenant": a.Tenant, "host": a.Host,
		"reason": a.Reason, "actor": a.Actor, "id": a.ID, "at": a.At})
	if err != nil {
		return "failed", "encode request: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.webhook, bytes.NewReader(body))
	if err != nil {
		return "failed", "invalid webhook URL"
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "failed", fmt.Sprintf("webhook did not answer in time (at most %s)", WebhookTimeout)
		}
		return "failed", "webhook unreachable"
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "failed", fmt.Sprintf("webhook answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return "sent", fmt.Sprintf("webhook answered %d", resp.StatusCode)
}
