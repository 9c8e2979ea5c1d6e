package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type versionJSON struct {
	Version    int       `json:"version"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	UploadedBy string    `json:"uploaded_by"`
	UploadedAt time.Time `json:"uploaded_at"`
	Exports    []string  `json:"exports"`
}

type grantJSON struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
	AllowedHosts []string `json:"allowed_hosts"`
}

type scheduleJSON struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Input    string `json:"input"`
	Enabled  bool   `json:"enabled"`
}

type pluginJSON struct {
	Name           string            `json:"name"`
	Owner          string            `json:"owner"`
	Description    string            `json:"description"`
	Entrypoint     string            `json:"entrypoint"`
	CurrentVersion int               `json:"current_version"`
	Config         map[string]string `json:"config"`
	Grant          grantJSON         `json:"grant"`
	Schedule       *scheduleJSON     `json:"schedule"`
	Versions       []versionJSON     `json:"versions"`
	NextRuns       []time.Time       `json:"next_runs"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

type pluginList struct {
	Plugins []pluginJSON `json:"plugins"`
}

func (s *scheduleJSON) String() string {
	if s == nil {
		return "-"
	}
	out := s.Cron + " " + s.Timezone
	if !s.Enabled {
		out += " (disabled)"
	}
	return out
}

func (a *app) pluginsCommand() *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "plugins",
		Short: "List plugins",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var list pluginList
			raw, err := c.json(cmd.Context(), "GET", "/v1/plugins"+query("owner", owner, "limit", "1000"), nil, &list)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout, "NAME", "OWNER", "VERSION", "SCHEDULE", "DESCRIPTION")
			for _, p := range list.Plugins {
				t.row(p.Name, p.Owner, strconv.Itoa(p.CurrentVersion), p.Schedule.String(), shorten(p.Description, 50))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&owner, "owner", "", "only plugins owned by this user")
	return cmd
}

func (a *app) pluginCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Show, remove, roll back or grant one plugin",
	}
	show := &cobra.Command{
		Use:               "show NAME",
		Short:             "Show a plugin: versions, grant, schedule and next runs",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var p pluginJSON
			raw, err := c.json(cmd.Context(), "GET", "/v1/plugins/"+pathEscape(argv[0]), nil, &p)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.showPlugin(p)
			return nil
		},
	}
	rm := &cobra.Command{
		Use:               "rm NAME",
		Short:             "Delete a plugin with all its versions (owner or admin)",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.json(cmd.Context(), "DELETE", "/v1/plugins/"+pathEscape(argv[0]), nil, nil); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"plugin": argv[0], "deleted": true})
			}
			fmt.Fprintf(a.stdout, "plugin %s deleted\n", argv[0])
			return nil
		},
	}
	rollback := &cobra.Command{
		Use:               "rollback NAME VERSION",
		Short:             "Make an earlier version the current one",
		Args:              args(cobra.ExactArgs(2)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			v, err := strconv.Atoi(strings.TrimPrefix(argv[1], "v"))
			if err != nil || v < 1 {
				return usageErrorf("rollback: VERSION must be a version number, got %q", argv[1])
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var p pluginJSON
			raw, err := c.json(cmd.Context(), "PATCH", "/v1/plugins/"+pathEscape(argv[0]), map[string]int{"current_version": v}, &p)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "plugin %s: current version is now %d\n", p.Name, p.CurrentVersion)
			return nil
		},
	}
	var g grantJSON
	grant := &cobra.Command{
		Use:   "grant NAME --cap CAP… --tenant TENANT… [--host HOST…]",
		Short: "Set a plugin's grant: capabilities, tenants and outbound hosts",
		Long: `grant replaces the plugin's grant with the capabilities, tenants (or *) and
allowed outbound hosts given. Repeat a flag or separate values with commas.
An empty grant (no flags) takes every right away.`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			body := grantJSON{Capabilities: nonNil(g.Capabilities), Tenants: nonNil(g.Tenants), AllowedHosts: nonNil(g.AllowedHosts)}
			var out grantJSON
			raw, err := c.json(cmd.Context(), "PUT", "/v1/plugins/"+pathEscape(argv[0])+"/grant", body, &out)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "plugin %s granted: capabilities %s; tenants %s; hosts %s\n", argv[0], list(out.Capabilities), list(out.Tenants), list(out.AllowedHosts))
			return nil
		},
	}
	grant.Flags().StringSliceVar(&g.Capabilities, "cap", nil, "capability, e.g. logs.read (repeatable)")
	grant.Flags().StringSliceVar(&g.Tenants, "tenant", nil, "tenant, or * for all (repeatable)")
	grant.Flags().StringSliceVar(&g.AllowedHosts, "host", nil, "outbound host for capability http (repeatable)")
	_ = grant.RegisterFlagCompletionFunc("cap", cobra.FixedCompletions(capabilities, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(show, rm, rollback, grant)
	return cmd
}

// capabilities are the known capabilities, for completion.
var capabilities = []string{"logs.read", "filters.read", "filters.write", "tickets.read", "tickets.write", "assets.read", "endpoints.read", "endpoints.respond", "reports.write", "kv", "notify.send", "http"}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ",")
}

func (a *app) showPlugin(p pluginJSON) {
	t := newTable(a.stdout)
	t.row("name:", p.Name)
	t.row("owner:", p.Owner)
	t.row("description:", dash(p.Description))
	t.row("entrypoint:", p.Entrypoint)
	t.row("current version:", strconv.Itoa(p.CurrentVersion))
	t.row("grant:", fmt.Sprintf("capabilities %s; tenants %s; hosts %s", list(p.Grant.Capabilities), list(p.Grant.Tenants), list(p.Grant.AllowedHosts)))
	t.row("schedule:", p.Schedule.String())
	for i, n := range p.NextRuns {
		label := ""
		if i == 0 {
			label = "next runs:"
		}
		t.row(label, inZone(n, p.Schedule))
	}
	_ = t.flush()
	fmt.Fprintln(a.stdout)
	t = newTable(a.stdout, "VERSION", "SHA256", "SIZE", "UPLOADED BY", "UPLOADED AT", "EXPORTS")
	for _, v := range p.Versions {
		mark := strconv.Itoa(v.Version)
		if v.Version == p.CurrentVersion {
			mark += " *"
		}
		t.row(mark, shortSHA(v.SHA256), strconv.FormatInt(v.Size, 10), v.UploadedBy, ago(v.UploadedAt), strings.Join(v.Exports, ","))
	}
	_ = t.flush()
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// inZone shows a run time in the schedule's timezone.
func inZone(t time.Time, s *scheduleJSON) string {
	if s != nil && s.Timezone != "" {
		if loc, err := time.LoadLocation(s.Timezone); err == nil {
			t = t.In(loc)
		}
	}
	return t.Format("Mon 2006-01-02 15:04 MST")
}
