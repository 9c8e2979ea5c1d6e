package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
)

// readCommand is a read of another system: GET path with --tenant, printed as
// JSON or as a table of the given columns of the list under key.
func (a *app) readCommand(use, short, path, key string, columns []string, extra map[string]string) *cobra.Command {
	var tenant string
	var limit int
	params := map[string]*string{}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			kv := []string{"tenant", tenant}
			if cmd.Flags().Lookup("limit") != nil {
				kv = append(kv, "limit", strconv.Itoa(limit))
			}
			for k, v := range params {
				kv = append(kv, k, *v)
			}
			var ans map[string]any
			raw, err := c.json(cmd.Context(), "GET", path+query(kv...), nil, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			items, _ := ans[key].([]any)
			t := newTable(a.stdout, upper(columns)...)
			for _, it := range items {
				m, _ := it.(map[string]any)
				cells := make([]string, len(columns))
				for i, col := range columns {
					cells[i] = shorten(dash(fieldString(m, col)), 60)
				}
				t.row(cells...)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
	_ = cmd.MarkFlagRequired("tenant")
	if key != "assets" && key != "filters" {
		cmd.Flags().IntVar(&limit, "limit", 50, "at most this many")
	}
	for name, usage := range extra {
		v := new(string)
		params[name] = v
		cmd.Flags().StringVar(v, name, "", usage)
	}
	return cmd
}

func (a *app) ticketsCommand() *cobra.Command {
	return a.readCommand("tickets --tenant T [--status S --severity S --assignee U --q TEXT]", "List tickets", "/v1/tickets", "tickets",
		[]string{"id", "severity", "status", "assignee", "title"},
		map[string]string{"status": "only this status", "severity": "only this severity", "assignee": "only this assignee", "q": "free text"})
}

func (a *app) assetsCommand() *cobra.Command {
	return a.readCommand("assets --tenant T", "List assets", "/v1/assets", "assets",
		[]string{"name", "ips", "owner", "criticality", "os"}, nil)
}

func (a *app) filtersCommand() *cobra.Command {
	cmd := a.readCommand("filters --tenant T", "List analysis filters", "/v1/filters", "filters",
		[]string{"name", "owner", "reason", "hit_count", "expires_at"}, map[string]string{"include_expired": "true to include expired filters"})
	return cmd
}

func (a *app) reportsCommand() *cobra.Command {
	return a.readCommand("reports --tenant T", "List published reports", "/v1/reports", "reports",
		[]string{"id", "title", "plugin", "created_at"}, nil)
}

func (a *app) ticketCommand() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "ticket ID --tenant T",
		Short: "Show one ticket",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			raw, err := c.json(cmd.Context(), "GET", "/v1/tickets/"+pathEscape(argv[0])+query("tenant", tenant), nil, nil)
			if err != nil {
				return err
			}
			if !a.jsonOutput() {
				fmt.Fprintf(a.stdout, "ticket %s:\n", argv[0])
			}
			return a.printJSON(raw)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}
