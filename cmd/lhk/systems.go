package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// libraryOp is one operation of the library: a host function, served over
// HTTP at POST /v1/<system>/<op> with the same JSON.
type libraryOp struct {
	System, Op string
	Capability string
	Command    string // the lhk command built on it; "" for write operations, reached with 'lhk call'
}

// libraryOps lists the operations of docs/hostfuncs.md. A test checks it
// against the daemon's OpenAPI document, so a new operation is noticed.
var libraryOps = []libraryOp{
	{"logs", "search", "logs.read", "logs search"},
	{"logs", "search_fields", "logs.read", "logs find"},
	{"logs", "top", "logs.read", "logs top"},
	{"logs", "count", "logs.read", "logs count"},
	{"filters", "list", "filters.read", "filters list"},
	{"filters", "stats", "filters.read", "filters stats"},
	{"filters", "upsert", "filters.write", ""},
	{"filters", "delete", "filters.write", ""},
	{"tickets", "create", "tickets.write", ""},
	{"tickets", "get", "tickets.read", "tickets get"},
	{"tickets", "update", "tickets.write", ""},
	{"tickets", "comment", "tickets.write", ""},
	{"tickets", "search", "tickets.read", "tickets search"},
	{"assets", "lookup", "assets.read", "assets lookup"},
	{"endpoints", "collect", "endpoints.read", "endpoints collect"},
	{"endpoints", "isolate", "endpoints.respond", ""},
	{"reports", "publish", "reports.write", ""},
	{"reports", "list", "reports.read", "reports list"},
	{"reports", "get", "reports.read", "reports get"},
	{"kv", "get", "kv", "kv get"},
	{"kv", "set", "kv", ""},
	{"kv", "delete", "kv", ""},
	{"kv", "list", "kv", "kv list"},
	{"notify", "send", "notify.send", ""},
	{"plugins", "start", "plugins.invoke", ""},
	{"grant", "get", "", "ceiling"},
}

// callOp posts body as JSON to POST /v1/<system>/<op>, the route of a library
// operation, and decodes the answer into out.
func (a *app) callOp(ctx context.Context, system, op, q string, body, out any) ([]byte, error) {
	c, err := a.client()
	if err != nil {
		return nil, err
	}
	return c.json(ctx, "POST", "/v1/"+pathEscape(system)+"/"+pathEscape(op)+q, body, out)
}

// optionalRange resolves r only when one of its flags is given.
func (r *timeRange) optional(now time.Time) (from, to string, err error) {
	if r.since == 0 && r.from == "" && r.to == "" {
		return "", "", nil
	}
	return r.resolve(now)
}

// tenantFlag adds the required --tenant flag.
func tenantFlag(cmd *cobra.Command, tenant *string) {
	cmd.Flags().StringVar(tenant, "tenant", "", "tenant (required)")
	_ = cmd.MarkFlagRequired("tenant")
}

// pageNote tells on standard error how many came and how to get more.
func (a *app) pageNote(n int, what string, truncated bool, cursor string) {
	if n == 1 {
		what = strings.TrimSuffix(what, "s")
	}
	note := fmt.Sprintf("%d %s", n, what)
	if truncated {
		note += "; more match"
		if cursor != "" {
			note += ": add --cursor " + cursor + " for the next page"
		}
	}
	a.notef("%s\n", note)
}

// ---- filters

type filterJSON struct {
	Name       string      `json:"name"`
	Conditions []condition `json:"conditions"`
	Reason     string      `json:"reason"`
	Owner      string      `json:"owner"`
	ExpiresAt  *time.Time  `json:"expires_at"`
	HitCount   int64       `json:"hit_count"`
	LastHit    *time.Time  `json:"last_hit"`
}

func agoPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ago(*t)
}

// conditionsString writes conditions back in the 'lhk logs find' syntax.
func conditionsString(cs []condition) string {
	ops := map[string]string{"eq": "=", "contains": "~", "prefix": "^", "cidr": "/", "gt": ">", "lt": "<"}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		if c.Op == "exists" {
			out = append(out, c.Field+"?")
		} else if o, ok := ops[c.Op]; ok {
			out = append(out, c.Field+o+c.Value)
		} else {
			out = append(out, c.Field+" "+c.Op+" "+c.Value)
		}
	}
	return strings.Join(out, " ")
}

func (a *app) filtersCommand() *cobra.Command {
	cmd := a.filtersListCommand("filters --tenant T [--include-expired]")
	cmd.Short = "List a tenant's analysis filters; 'filters stats' counts their hits"
	list := a.filtersListCommand("list --tenant T [--include-expired]")
	cmd.AddCommand(list, a.filtersStatsCommand())
	return cmd
}

func (a *app) filtersListCommand(use string) *cobra.Command {
	var tenant string
	var expired bool
	cmd := &cobra.Command{
		Use:   use,
		Short: "List a tenant's analysis filters (filters.list)",
		Long: `list shows the tenant's analysis filters with POST /v1/filters/list: their
conditions in the 'lhk logs find' syntax, reason, owner, expiry and hits.`,
		Example: `  lhk filters --tenant acme
  lhk filters list --tenant acme --include-expired -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ans struct {
				Filters []filterJSON `json:"filters"`
			}
			raw, err := a.callOp(cmd.Context(), "filters", "list", "", map[string]any{"tenant": tenant, "include_expired": expired}, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "NAME", "CONDITIONS", "REASON", "OWNER", "HITS", "LAST HIT", "EXPIRES")
			for _, f := range ans.Filters {
				t.row(f.Name, shorten(conditionsString(f.Conditions), 50), shorten(dash(f.Reason), 40), f.Owner,
					strconv.FormatInt(f.HitCount, 10), agoPtr(f.LastHit), agoPtr(f.ExpiresAt))
			}
			return t.flush()
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().BoolVar(&expired, "include-expired", false, "show expired filters too")
	return cmd
}

func (a *app) filtersStatsCommand() *cobra.Command {
	var tenant string
	var r timeRange
	cmd := &cobra.Command{
		Use:   "stats --tenant T [--since 24h | --from T --to T]",
		Short: "Count each filter's hits in the logs over a time range (filters.stats)",
		Long: `stats counts, with POST /v1/filters/stats, how many events each of the
tenant's filters (expired ones too) matched in the time range, and records it as
the filter's hit count and last hit. A filter without hits is a candidate for
removal.`,
		Example: `  lhk filters stats --tenant acme --since 720h`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := r.resolve(time.Now())
			if err != nil {
				return err
			}
			var ans struct {
				Stats []struct {
					Name      string     `json:"name"`
					Hits      int64      `json:"hits"`
					LastHit   *time.Time `json:"last_hit"`
					ExpiresAt *time.Time `json:"expires_at"`
					Expired   bool       `json:"expired"`
				} `json:"stats"`
			}
			raw, err := a.callOp(cmd.Context(), "filters", "stats", "", map[string]any{"tenant": tenant, "from": from, "to": to}, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "NAME", "HITS", "LAST HIT", "EXPIRES", "EXPIRED")
			for _, s := range ans.Stats {
				t.row(s.Name, strconv.FormatInt(s.Hits, 10), agoPtr(s.LastHit), agoPtr(s.ExpiresAt), strconv.FormatBool(s.Expired))
			}
			return t.flush()
		},
	}
	tenantFlag(cmd, &tenant)
	r.flags(cmd)
	return cmd
}

// ---- tickets

type observableJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type ticketJSON struct {
	ID          string           `json:"id"`
	Tenant      string           `json:"tenant"`
	Title       string           `json:"title"`
	Description string           `json:"description"`
	Status      string           `json:"status"`
	Severity    string           `json:"severity"`
	Assignee    string           `json:"assignee"`
	Reporter    string           `json:"reporter"`
	ExternalKey string           `json:"external_key"`
	Events      []string         `json:"events"`
	Observables []observableJSON `json:"observables"`
	Comments    []struct {
		Author string    `json:"author"`
		Body   string    `json:"body"`
		At     time.Time `json:"at"`
	} `json:"comments"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (a *app) ticketsCommand() *cobra.Command {
	cmd := a.ticketsSearchCommand("tickets --tenant T [--status S] [--severity S] [--assignee U] [--text TEXT]")
	cmd.Short = "Search a tenant's tickets; 'tickets get ID' shows one"
	cmd.AddCommand(a.ticketsSearchCommand("search --tenant T [--status S] [--severity S] [--assignee U] [--text TEXT]"), a.ticketGetCommand("get ID --tenant T"))
	return cmd
}

func (a *app) ticketCommand() *cobra.Command {
	cmd := a.ticketGetCommand("ticket ID --tenant T")
	cmd.Short = "Show one ticket (the same as 'tickets get')"
	return cmd
}

func (a *app) ticketsSearchCommand(use string) *cobra.Command {
	var q struct {
		tenant, status, severity, assignee, text, observable, externalKey, cursor string
		limit                                                                     int
	}
	var r timeRange
	cmd := &cobra.Command{
		Use:   use,
		Short: "Search a tenant's tickets, newest first (tickets.search)",
		Long: `search lists the tenant's tickets newest first with POST /v1/tickets/search.
All filters are optional: --text is free text in the title, description and
comments, --observable an IP, hash, domain, user or host linked to the ticket,
--since/--from/--to the creation time.`,
		Example: `  lhk tickets --tenant acme --status open --severity high
  lhk tickets search --tenant acme --observable 203.0.113.7 -o json`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := r.optional(time.Now())
			if err != nil {
				return err
			}
			body := map[string]any{"tenant": q.tenant, "status": q.status, "severity": q.severity, "assignee": q.assignee,
				"text": q.text, "observable": q.observable, "external_key": q.externalKey, "limit": q.limit, "cursor": q.cursor}
			if from != "" {
				body["from"], body["to"] = from, to
			}
			var ans struct {
				Tickets    []ticketJSON `json:"tickets"`
				NextCursor string       `json:"next_cursor"`
				Truncated  bool         `json:"truncated"`
			}
			raw, err := a.callOp(cmd.Context(), "tickets", "search", "", body, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "ID", "SEVERITY", "STATUS", "ASSIGNEE", "CREATED", "TITLE")
			for _, tk := range ans.Tickets {
				t.row(tk.ID, tk.Severity, tk.Status, dash(tk.Assignee), ago(tk.CreatedAt), shorten(tk.Title, 60))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.pageNote(len(ans.Tickets), "tickets", ans.Truncated, ans.NextCursor)
			return nil
		},
	}
	f := cmd.Flags()
	tenantFlag(cmd, &q.tenant)
	f.StringVar(&q.status, "status", "", "open, in_progress, resolved or closed")
	f.StringVar(&q.severity, "severity", "", "low, medium, high or critical")
	f.StringVar(&q.assignee, "assignee", "", "only tickets assigned to this user")
	f.StringVar(&q.text, "text", "", "free text in title, description and comments")
	f.StringVar(&q.observable, "observable", "", "an observable value linked to the ticket, e.g. an IP")
	f.StringVar(&q.externalKey, "external-key", "", "the outside alert's key, exactly")
	f.IntVar(&q.limit, "limit", 50, "at most this many")
	f.StringVar(&q.cursor, "cursor", "", "continue from a previous search's next cursor")
	r.flags(cmd)
	f.Lookup("since").Usage = "only tickets created in the last DURATION"
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"open", "in_progress", "resolved", "closed"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("severity", cobra.FixedCompletions([]string{"low", "medium", "high", "critical"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) ticketGetCommand(use string) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     use,
		Short:   "Show one ticket with its events, observables and comments (tickets.get)",
		Example: `  lhk ticket 01J… --tenant acme`,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var tk ticketJSON
			raw, err := a.callOp(cmd.Context(), "tickets", "get", "", map[string]string{"tenant": tenant, "id": argv[0]}, &tk)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout)
			t.row("id:", tk.ID)
			t.row("tenant:", tk.Tenant)
			t.row("title:", tk.Title)
			t.row("status:", tk.Status)
			t.row("severity:", tk.Severity)
			t.row("assignee:", dash(tk.Assignee))
			t.row("reporter:", dash(tk.Reporter))
			if tk.ExternalKey != "" {
				t.row("external key:", tk.ExternalKey)
			}
			t.row("created:", ago(tk.CreatedAt))
			t.row("updated:", ago(tk.UpdatedAt))
			obs := make([]string, 0, len(tk.Observables))
			for _, o := range tk.Observables {
				obs = append(obs, o.Type+" "+o.Value)
			}
			t.row("observables:", dash(strings.Join(obs, ", ")))
			t.row("events:", dash(strings.Join(tk.Events, ", ")))
			_ = t.flush()
			if tk.Description != "" {
				fmt.Fprintf(a.stdout, "\ndescription:\n%s\n", indent(strings.TrimRight(tk.Description, "\n")))
			}
			if len(tk.Comments) > 0 {
				fmt.Fprintln(a.stdout, "\ncomments:")
				for _, c := range tk.Comments {
					fmt.Fprintf(a.stdout, "  %s %s:\n%s\n", ago(c.At), c.Author, indent(indent(strings.TrimRight(c.Body, "\n"))))
				}
			}
			return nil
		},
	}
	tenantFlag(cmd, &tenant)
	return cmd
}

// ---- assets

type assetJSON struct {
	Tenant      string    `json:"tenant"`
	Name        string    `json:"name"`
	IPs         []string  `json:"ips"`
	Owner       string    `json:"owner"`
	OS          string    `json:"os"`
	Criticality string    `json:"criticality"`
	Tags        []string  `json:"tags"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (a *app) assetsCommand() *cobra.Command {
	cmd := a.assetsListCommand("assets --tenant T")
	cmd.Short = "List a tenant's assets; 'assets lookup HOST' finds one by name or IP"
	cmd.AddCommand(a.assetsListCommand("list --tenant T"), a.assetLookupCommand("lookup HOST|IP --tenant T"))
	return cmd
}

func (a *app) assetCommand() *cobra.Command {
	cmd := a.assetLookupCommand("asset HOST|IP --tenant T")
	cmd.Short = "Look up one asset by host name or IP (the same as 'assets lookup')"
	return cmd
}

func (a *app) assetsListCommand(use string) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     use,
		Short:   "List a tenant's assets (GET /v1/assets)",
		Example: `  lhk assets --tenant acme`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var ans struct {
				Assets []assetJSON `json:"assets"`
			}
			raw, err := c.json(cmd.Context(), "GET", "/v1/assets"+query("tenant", tenant), nil, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "NAME", "IPS", "OWNER", "CRITICALITY", "OS", "TAGS")
			for _, as := range ans.Assets {
				t.row(as.Name, dash(strings.Join(as.IPs, ",")), dash(as.Owner), dash(as.Criticality), shorten(dash(as.OS), 30), dash(strings.Join(as.Tags, ",")))
			}
			return t.flush()
		},
	}
	tenantFlag(cmd, &tenant)
	return cmd
}

func (a *app) assetLookupCommand(use string) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   use,
		Short: "Look up an asset by host name (any case) or one of its IPs (assets.lookup)",
		Example: `  lhk asset ACME-WS-017 --tenant acme
  lhk assets lookup 10.20.1.5 --tenant acme -o json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var as assetJSON
			raw, err := a.callOp(cmd.Context(), "assets", "lookup", "", map[string]string{"tenant": tenant, "host": argv[0]}, &as)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout)
			t.row("name:", as.Name)
			t.row("tenant:", as.Tenant)
			t.row("ips:", dash(strings.Join(as.IPs, ", ")))
			t.row("owner:", dash(as.Owner))
			t.row("os:", dash(as.OS))
			t.row("criticality:", dash(as.Criticality))
			t.row("tags:", dash(strings.Join(as.Tags, ", ")))
			t.row("updated:", ago(as.UpdatedAt))
			return t.flush()
		},
	}
	tenantFlag(cmd, &tenant)
	return cmd
}

// ---- endpoints

type processJSON struct {
	PID         string         `json:"pid"`
	Name        string         `json:"name"`
	CommandLine string         `json:"command_line"`
	User        string         `json:"user"`
	Start       time.Time      `json:"start"`
	Children    []*processJSON `json:"children"`
}

type collectionJSON struct {
	Tenant    string           `json:"tenant"`
	Host      string           `json:"host"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	Processes []*processJSON   `json:"processes"`
	Network   []map[string]any `json:"network"`
	Logons    []map[string]any `json:"logons"`
	Files     []map[string]any `json:"files"`
	Registry  []map[string]any `json:"registry"`
	Truncated bool             `json:"truncated"`
}

func (a *app) endpointsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "endpoints",
		Short: "Collect a host's endpoint telemetry (isolate: 'lhk call endpoints isolate')",
	}
	var tenant string
	var limit int
	var r timeRange
	collect := &cobra.Command{
		Use:   "collect HOST --tenant T [--since 24h | --from T --to T] [--limit N]",
		Short: "A host's process tree, network, logons, file and registry changes (endpoints.collect)",
		Long: `collect is the first data collection of an endpoint investigation, with
POST /v1/endpoints/collect: the host's process tree, network connections,
logons, file and registry changes in the time range, built from the tenant's
Sysmon/EDR events. Each section holds at most --limit events, the newest.`,
		Example: `  lhk endpoints collect ACME-WS-017 --tenant acme --since 2h
  lhk endpoints collect ACME-WS-017 --tenant acme --from 2026-11-03T08:00:00Z --to 2026-11-03T10:00:00Z -o json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			from, to, err := r.resolve(time.Now())
			if err != nil {
				return err
			}
			var col collectionJSON
			raw, err := a.callOp(cmd.Context(), "endpoints", "collect", "", map[string]any{"tenant": tenant, "host": argv[0], "from": from, "to": to, "limit": limit}, &col)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.printCollection(col)
			return nil
		},
	}
	tenantFlag(collect, &tenant)
	collect.Flags().IntVar(&limit, "limit", 200, "at most this many events per section")
	r.flags(collect)
	cmd.AddCommand(collect)
	return cmd
}

func (a *app) printCollection(col collectionJSON) {
	w := a.stdout
	fmt.Fprintf(w, "host %s, tenant %s, %s to %s\n", col.Host, col.Tenant, ago(col.From), ago(col.To))
	n := 0
	var count func([]*processJSON)
	count = func(ps []*processJSON) {
		for _, p := range ps {
			n++
			count(p.Children)
		}
	}
	count(col.Processes)
	fmt.Fprintf(w, "\nprocesses (%d):\n", n)
	t := newTable(w, "  STARTED", "PID", "USER", "PROCESS", "COMMAND LINE")
	var walk func([]*processJSON, int)
	walk = func(ps []*processJSON, depth int) {
		for _, p := range ps {
			name := dash(p.Name)
			if depth > 0 {
				name = strings.Repeat("   ", depth-1) + "└─ " + name
			}
			t.row("  "+ago(p.Start), dash(p.PID), dash(p.User), name, shorten(dash(p.CommandLine), 70))
			walk(p.Children, depth+1)
		}
	}
	walk(col.Processes, 0)
	_ = t.flush()
	sections := []struct {
		name    string
		events  []map[string]any
		columns []string
	}{
		{"network", col.Network, []string{"@timestamp", "process.name", "source.ip", "destination.ip", "destination.port", "url.full"}},
		{"logons", col.Logons, []string{"@timestamp", "event.code", "event.outcome", "user.name", "source.ip"}},
		{"files", col.Files, []string{"@timestamp", "event.action", "process.name", "file.path"}},
		{"registry", col.Registry, []string{"@timestamp", "event.action", "process.name", "registry.path"}},
	}
	for _, s := range sections {
		fmt.Fprintf(w, "\n%s (%d):\n", s.name, len(s.events))
		if len(s.events) == 0 {
			continue
		}
		head := upper(s.columns)
		head[0] = "  " + head[0]
		t := newTable(w, head...)
		for _, ev := range s.events {
			cells := make([]string, len(s.columns))
			for i, c := range s.columns {
				cells[i] = shorten(dash(fieldString(ev, c)), 60)
			}
			cells[0] = "  " + cells[0]
			t.row(cells...)
		}
		_ = t.flush()
	}
	if col.Truncated {
		a.notef("some sections hit --limit; narrow the time range or raise --limit\n")
	}
}

// ---- reports

type reportJSON struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Title     string    `json:"title"`
	Markdown  string    `json:"markdown"`
	Plugin    string    `json:"plugin"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
}

func (a *app) reportsCommand() *cobra.Command {
	cmd := a.reportsListCommand("reports --tenant T")
	cmd.Short = "List a tenant's published reports; 'reports get ID' prints one"
	cmd.AddCommand(a.reportsListCommand("list --tenant T"), a.reportGetCommand("get ID --tenant T [--format md|html]"))
	return cmd
}

func (a *app) reportCommand() *cobra.Command {
	cmd := a.reportGetCommand("report ID --tenant T [--format md|html]")
	cmd.Short = "Print one report (the same as 'reports get')"
	return cmd
}

func (a *app) reportsListCommand(use string) *cobra.Command {
	var tenant, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:     use,
		Short:   "List a tenant's published reports, newest first (GET /v1/reports, as reports.list)",
		Example: `  lhk reports --tenant acme`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var ans struct {
				Reports    []reportJSON `json:"reports"`
				NextCursor string       `json:"next_cursor"`
			}
			raw, err := c.json(cmd.Context(), "GET", "/v1/reports"+query("tenant", tenant, "limit", strconv.Itoa(limit), "cursor", cursor), nil, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "ID", "CREATED", "PLUGIN", "AUTHOR", "TITLE")
			for _, r := range ans.Reports {
				t.row(r.ID, ago(r.CreatedAt), dash(r.Plugin), dash(r.Author), shorten(r.Title, 60))
			}
			if err := t.flush(); err != nil {
				return err
			}
			a.pageNote(len(ans.Reports), "reports", ans.NextCursor != "", ans.NextCursor)
			return nil
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many")
	cmd.Flags().StringVar(&cursor, "cursor", "", "continue from a previous list's next cursor")
	return cmd
}

func (a *app) reportGetCommand(use string) *cobra.Command {
	var tenant, format string
	cmd := &cobra.Command{
		Use:   use,
		Short: "Print a report: its Markdown, or a standalone HTML page with --format html",
		Long: `get prints the report's Markdown (or, with --format html, the standalone HTML
page the UI offers for download) to standard output; -o json gives the whole
report with its metadata, as reports.get answers it.`,
		Example: `  lhk report 01J… --tenant acme > weekly.md
  lhk report 01J… --tenant acme --format html > weekly.html`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if format != "md" && format != "html" {
				return usageErrorf("--format %q: use md or html", format)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			path := "/v1/reports/" + pathEscape(argv[0])
			if a.jsonOutput() {
				raw, err := c.json(cmd.Context(), "GET", path+query("tenant", tenant), nil, nil)
				if err != nil {
					return err
				}
				return a.printJSON(raw)
			}
			res, err := c.do(cmd.Context(), request{method: "GET", path: path + "/download" + query("tenant", tenant, "format", format)})
			if err != nil {
				return err
			}
			defer res.Body.Close()
			_, err = io.Copy(a.stdout, res.Body)
			return err
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().StringVar(&format, "format", "md", "md (Markdown) or html")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"md", "html"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// ---- kv

func (a *app) kvCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kv",
		Short: "Read a plugin's key-value store (writes: 'lhk call kv set|delete')",
		Long: `A plugin keeps state between runs in its own key-value store. Its owner and
admins can read it: --plugin names the plugin.`,
	}
	var plugin string
	get := &cobra.Command{
		Use:   "get KEY --plugin NAME",
		Short: "Print the value of a key (kv.get); exit 1 when the key is missing",
		Example: `  lhk kv get last-alert --plugin alert-intake
  lhk kv get last-alert --plugin alert-intake -o json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var ans struct {
				Key   string `json:"key"`
				Value string `json:"value"`
				Found bool   `json:"found"`
			}
			raw, err := a.callOp(cmd.Context(), "kv", "get", query("plugin", plugin), map[string]string{"key": argv[0]}, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				if err := a.printJSON(raw); err != nil {
					return err
				}
			} else if ans.Found {
				fmt.Fprintln(a.stdout, ans.Value)
			}
			if !ans.Found {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("not_found: no key %q in the store of plugin %s", argv[0], plugin)}
			}
			return nil
		},
	}
	get.Flags().StringVar(&plugin, "plugin", "", "the plugin whose store to read (required)")
	_ = get.MarkFlagRequired("plugin")
	_ = get.RegisterFlagCompletionFunc("plugin", a.completePlugins)

	var listPlugin, after string
	var limit int
	lst := &cobra.Command{
		Use:   "list [PREFIX] --plugin NAME [--after KEY] [--limit N]",
		Short: "List keys with a prefix and their values, in key order (kv.list)",
		Example: `  lhk kv list --plugin alert-intake
  lhk kv list seen/ --plugin alert-intake --limit 500 -o json`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			prefix := ""
			if len(argv) == 1 {
				prefix = argv[0]
			}
			var ans struct {
				Entries []struct {
					Key   string `json:"key"`
					Value string `json:"value"`
				} `json:"entries"`
			}
			raw, err := a.callOp(cmd.Context(), "kv", "list", query("plugin", listPlugin), map[string]any{"prefix": prefix, "after": after, "limit": limit}, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "KEY", "VALUE")
			for _, e := range ans.Entries {
				t.row(e.Key, shorten(e.Value, 80))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if len(ans.Entries) == limit && limit > 0 {
				a.notef("%d keys; more may follow: add --after %s\n", len(ans.Entries), ans.Entries[len(ans.Entries)-1].Key)
			}
			return nil
		},
	}
	lst.Flags().StringVar(&listPlugin, "plugin", "", "the plugin whose store to read (required)")
	lst.Flags().StringVar(&after, "after", "", "start after this key (paging)")
	lst.Flags().IntVar(&limit, "limit", 100, "at most this many (the server caps it at 1000)")
	_ = lst.MarkFlagRequired("plugin")
	_ = lst.RegisterFlagCompletionFunc("plugin", a.completePlugins)
	cmd.AddCommand(get, lst)
	return cmd
}

// ---- grant

func (a *app) ceilingCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ceiling",
		Short: "Show what you may use of the systems over HTTP (grant.get)",
		Long: `ceiling asks POST /v1/grant/get, which answers a plugin's grant from inside a
plugin and the caller's ceiling over HTTP: the capabilities and tenants you
may use with these commands and grant to your plugins.`,
		Example: `  lhk ceiling`,
		Args:    args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var g grantJSON
			raw, err := a.callOp(cmd.Context(), "grant", "get", "", map[string]any{}, &g)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout)
			t.row("capabilities:", list(g.Capabilities))
			t.row("tenants:", list(g.Tenants))
			if len(g.AllowedHosts) > 0 {
				t.row("hosts:", list(g.AllowedHosts))
			}
			return t.flush()
		},
	}
}

// ---- call

func (a *app) callCommand() *cobra.Command {
	var data, plugin string
	cmd := &cobra.Command{
		Use:   "call SYSTEM OP [--data JSON|@FILE|-] [--plugin NAME]",
		Short: "Call any library operation with JSON: POST /v1/SYSTEM/OP",
		Long: `call sends --data (JSON: @FILE reads a file, - standard input; default {})
to POST /v1/SYSTEM/OP, the same JSON a plugin passes to the host function
lhk.SYSTEM_OP (docs/hostfuncs.md), and prints the answer as JSON. It reaches
every operation, the writes too. kv operations need --plugin, the plugin whose
store to use. 'lhk call' alone lists the operations.`,
		Example: `  lhk call tickets create --data '{"tenant":"acme","title":"Beacon from WS01","severity":"high"}'
  lhk call tickets comment --data '{"tenant":"acme","id":"01J…","body":"isolated"}'
  lhk call kv set --plugin alert-intake --data '{"key":"cursor","value":"0"}'
  lhk call logs top --data @top.json`,
		Args:              args(cobra.RangeArgs(0, 2)),
		ValidArgsFunction: completeOps,
		RunE: func(cmd *cobra.Command, argv []string) error {
			switch len(argv) {
			case 0:
				return a.listOps()
			case 1:
				// SYSTEM_OP, SYSTEM.OP or lhk.SYSTEM_OP in one word.
				s := strings.TrimPrefix(argv[0], "lhk.")
				sys, op, ok := strings.Cut(s, "_")
				if !ok {
					sys, op, ok = strings.Cut(s, ".")
				}
				if !ok {
					return usageErrorf("call: give SYSTEM and OP, e.g. 'lhk call tickets get' ('lhk call' lists them)")
				}
				argv = []string{sys, op}
			}
			if data == "" {
				data = "{}"
			}
			body, err := a.readData(data)
			if err != nil {
				return err
			}
			if !json.Valid(body) {
				return usageErrorf("call: --data is not valid JSON")
			}
			q := ""
			if plugin != "" {
				q = query("plugin", plugin)
			} else if argv[0] == "kv" {
				return usageErrorf("call kv %s: --plugin NAME is required: the plugin whose store to use", argv[1])
			}
			raw, err := a.callOp(cmd.Context(), argv[0], argv[1], q, json.RawMessage(body), nil)
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == 404 && !knownOp(argv[0], argv[1]) {
				ae.Message += fmt.Sprintf(" (no operation %s %s on this server; 'lhk call' lists them)", argv[0], argv[1])
			}
			if err != nil {
				return err
			}
			return a.printJSON(raw)
		},
	}
	cmd.Flags().StringVarP(&data, "data", "d", "", "the request JSON: @FILE, - for standard input, or the JSON itself (default {})")
	cmd.Flags().StringVar(&plugin, "plugin", "", "for kv: the plugin whose store to use")
	_ = cmd.RegisterFlagCompletionFunc("plugin", a.completePlugins)
	return cmd
}

func (a *app) listOps() error {
	if a.jsonOutput() {
		type opJSON struct {
			System     string `json:"system"`
			Op         string `json:"op"`
			Route      string `json:"route"`
			Capability string `json:"capability"`
			Command    string `json:"command,omitempty"`
		}
		out := []opJSON{}
		for _, o := range libraryOps {
			out = append(out, opJSON{o.System, o.Op, "POST /v1/" + o.System + "/" + o.Op, o.Capability, o.Command})
		}
		return a.printValue(map[string]any{"operations": out})
	}
	t := newTable(a.stdout, "SYSTEM", "OP", "CAPABILITY", "COMMAND")
	for _, o := range libraryOps {
		cmd := "lhk call " + o.System + " " + o.Op
		if o.Command != "" {
			cmd = "lhk " + o.Command
		}
		t.row(o.System, o.Op, dash(o.Capability), cmd)
	}
	return t.flush()
}

func knownOp(system, op string) bool {
	for _, o := range libraryOps {
		if o.System == system && o.Op == op {
			return true
		}
	}
	return false
}

// completeOps completes SYSTEM, then OP, from libraryOps.
func completeOps(_ *cobra.Command, argv []string, _ string) ([]string, cobra.ShellCompDirective) {
	seen := map[string]bool{}
	var out []string
	for _, o := range libraryOps {
		switch {
		case len(argv) == 0 && !seen[o.System]:
			seen[o.System] = true
			out = append(out, o.System)
		case len(argv) == 1 && o.System == argv[0]:
			out = append(out, o.Op)
		}
	}
	sort.Strings(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}
