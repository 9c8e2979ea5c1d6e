package main

import (
	"fmt"
	"maps"
	"slices"
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
	TimeoutMS      int               `json:"timeout_ms"`
	MemoryMB       int               `json:"memory_mb"`
	MaxInputBytes  int               `json:"max_input_bytes"`
	MaxOutputBytes int               `json:"max_output_bytes"`
	MaxLogLines    int               `json:"max_log_lines"`
	Concurrency    int               `json:"concurrency"`
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
		Short: "Show, change, transfer, roll back, grant or remove one plugin",
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
	cmd.AddCommand(show, a.pluginSetCommand(), a.pluginTransferCommand(), rollback, grant, rm)
	return cmd
}

// capabilities are the known capabilities, for completion.
var capabilities = []string{"logs.read", "filters.read", "filters.write", "tickets.read", "tickets.write", "assets.read", "endpoints.read", "endpoints.respond", "reports.read", "reports.write", "kv", "notify.send", "http", "plugins.invoke"}

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
	t.row("limits:", fmt.Sprintf("timeout %s, memory %d MiB, input %s, output %s, %d log lines, %d concurrent runs",
		time.Duration(p.TimeoutMS)*time.Millisecond, p.MemoryMB, mib(int64(p.MaxInputBytes)), mib(int64(p.MaxOutputBytes)), p.MaxLogLines, p.Concurrency))
	keys := slices.Sorted(maps.Keys(p.Config))
	t.row("config:", dash(strings.Join(keys, ", ")))
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

func (a *app) pluginSetCommand() *cobra.Command {
	var description, entrypoint string
	var timeout time.Duration
	var memory, maxInput, maxOutput, maxLogs, concurrency int
	var config, unset []string
	var replace bool
	cmd := &cobra.Command{
		Use:   "set NAME [--description TEXT] [--entrypoint FN] [--timeout 45s] [--memory MiB] [--config KEY=VALUE…]",
		Short: "Change a plugin's description, entrypoint, limits or config (owner or admin)",
		Long: `set changes only the settings given, with PATCH /v1/plugins/NAME.

--config KEY=VALUE sets one key of the plugin's config (Extism config, read by
the plugin with pdk.Config) and keeps the others; --unset KEY removes one;
--replace-config makes the config exactly the --config pairs given. Config
values are never shown by lhk or written to the audit log, only their keys.

Limits: --timeout (a duration), --memory (MiB), --max-input and --max-output
(bytes), --max-log-lines, --concurrency; 0 restores the default (30s, 64 MiB,
1 MiB in and out, 1000 log lines, 8 concurrent runs).`,
		Example: `  lhk plugin set report --description "weekly tenant report" --timeout 2m --memory 128
  lhk plugin set alert-intake --config channel=soc-alerts --config severity=high
  lhk plugin set alert-intake --unset severity`,
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			f := cmd.Flags()
			body := map[string]any{}
			if f.Changed("description") {
				body["description"] = description
			}
			if f.Changed("entrypoint") {
				body["entrypoint"] = entrypoint
			}
			if f.Changed("timeout") {
				if timeout < 0 || (timeout > 0 && timeout < time.Millisecond) {
					return usageErrorf("plugin set: --timeout %s: give at least 1ms, or 0 for the default", timeout)
				}
				body["timeout_ms"] = timeout.Milliseconds()
			}
			for _, l := range []struct {
				flag, field string
				v           int
			}{{"memory", "memory_mb", memory}, {"max-input", "max_input_bytes", maxInput}, {"max-output", "max_output_bytes", maxOutput},
				{"max-log-lines", "max_log_lines", maxLogs}, {"concurrency", "concurrency", concurrency}} {
				if !f.Changed(l.flag) {
					continue
				}
				if l.v < 0 {
					return usageErrorf("plugin set: --%s must not be negative", l.flag)
				}
				body[l.field] = l.v
			}
			pairs := map[string]string{}
			for _, kv := range config {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return usageErrorf("plugin set: --config %q: want KEY=VALUE", kv)
				}
				pairs[k] = v
			}
			if replace && len(unset) > 0 {
				return usageErrorf("plugin set: --replace-config and --unset do not go together")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			// The server changes the named keys in its own transaction, so
			// people changing other keys at the same time keep theirs.
			switch {
			case replace:
				body["config"] = pairs
			default:
				if len(pairs) > 0 {
					body["config_set"] = pairs
				}
				if len(unset) > 0 {
					body["config_unset"] = unset
				}
			}
			if len(body) == 0 {
				return usageErrorf("plugin set: nothing to change; see 'lhk plugin set --help'")
			}
			var p pluginJSON
			raw, err := c.json(cmd.Context(), "PATCH", "/v1/plugins/"+pathEscape(argv[0]), body, &p)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			changed := slices.Sorted(maps.Keys(body))
			for i, k := range changed {
				if strings.HasPrefix(k, "config_") {
					changed[i] = "config"
				}
			}
			changed = slices.Compact(changed)
			fmt.Fprintf(a.stdout, "plugin %s: %s changed\n", p.Name, strings.Join(changed, ", "))
			a.showPlugin(p)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&description, "description", "", "what the plugin does, for people")
	f.StringVar(&entrypoint, "entrypoint", "", "the export run by invoke, cron and webhooks (default run)")
	f.DurationVar(&timeout, "timeout", 0, "how long a run may take, e.g. 45s or 2m (0: the default)")
	f.IntVar(&memory, "memory", 0, "memory limit in MiB (0: the default)")
	f.IntVar(&maxInput, "max-input", 0, "largest input in bytes (0: the default)")
	f.IntVar(&maxOutput, "max-output", 0, "largest output in bytes (0: the default)")
	f.IntVar(&maxLogs, "max-log-lines", 0, "log lines kept per run (0: the default)")
	f.IntVar(&concurrency, "concurrency", 0, "runs at the same time (0: the default)")
	f.StringArrayVar(&config, "config", nil, "config KEY=VALUE to set (repeatable)")
	f.StringArrayVar(&unset, "unset", nil, "config KEY to remove (repeatable)")
	f.BoolVar(&replace, "replace-config", false, "make the config exactly the --config pairs (none: empty)")
	return cmd
}

func (a *app) pluginTransferCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "transfer NAME USER",
		Short: "Give a plugin to another owner (owner or admin)",
		Long: `transfer makes USER (an analyst or admin) the plugin's owner with
PATCH /v1/plugins/NAME {"owner": USER}. Cron runs then run as the new owner,
and you can no longer change the plugin unless you are an admin.`,
		Example:           `  lhk plugin transfer report bob`,
		Args:              args(cobra.ExactArgs(2)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var p pluginJSON
			raw, err := c.json(cmd.Context(), "PATCH", "/v1/plugins/"+pathEscape(argv[0]), map[string]string{"owner": argv[1]}, &p)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "plugin %s is now owned by %s\n", p.Name, p.Owner)
			return nil
		},
	}
}
