package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

type logLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
}

type invocationJSON struct {
	ID              string    `json:"id"`
	Plugin          string    `json:"plugin"`
	Version         int       `json:"version"`
	Function        string    `json:"function"`
	Trigger         string    `json:"trigger"`
	Caller          string    `json:"caller"`
	Status          string    `json:"status"`
	StartedAt       time.Time `json:"started_at"`
	DurationMS      float64   `json:"duration_ms"`
	Output          *string   `json:"output"`
	OutputEncoding  string    `json:"output_encoding"`
	OutputTruncated bool      `json:"output_truncated"`
	Logs            []logLine `json:"logs"`
	Error           string    `json:"error"`
}

func (a *app) runsCommand() *cobra.Command {
	var trigger, status, caller string
	var limit int
	var follow bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "runs [NAME] [--trigger T] [--status S] [--limit N] [--follow]",
		Short: "List invocations, newest first; --follow keeps printing new ones",
		Long: `runs lists invocations newest first. With --follow it prints the list oldest
first, then polls the server and prints each new invocation, and again when a
running one finishes, until interrupted. With -o json --follow it prints one
JSON object per line.`,
		Args:              args(cobra.MaximumNArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			plugin := ""
			if len(argv) == 1 {
				plugin = argv[0]
			}
			path := "/v1/invocations" + query("plugin", plugin, "trigger", trigger, "status", status, "caller", caller, "limit", strconv.Itoa(limit))
			var list struct {
				Invocations []invocationJSON `json:"invocations"`
			}
			raw, err := c.json(cmd.Context(), "GET", path, nil, &list)
			if err != nil {
				return err
			}
			if !follow {
				if a.jsonOutput() {
					return a.printJSON(raw)
				}
				t := newTable(a.stdout, runHeader...)
				for _, inv := range list.Invocations {
					t.row(runRow(inv)...)
				}
				return t.flush()
			}
			return a.followRuns(cmd.Context(), c, path, list.Invocations, interval)
		},
	}
	f := cmd.Flags()
	f.StringVar(&trigger, "trigger", "", "only this trigger: http, cron, webhook or cli")
	f.StringVar(&status, "status", "", "only this status: running, ok, error, timeout or skipped")
	f.StringVar(&caller, "caller", "", "only runs by this user")
	f.IntVar(&limit, "limit", 20, "at most this many (the server caps it at 1000)")
	f.BoolVarP(&follow, "follow", "f", false, "keep polling and print new invocations")
	f.DurationVar(&interval, "interval", 2*time.Second, "how often --follow polls")
	_ = cmd.RegisterFlagCompletionFunc("trigger", cobra.FixedCompletions([]string{"http", "cron", "webhook", "cli"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"running", "ok", "error", "timeout", "skipped"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

var runHeader = []string{"ID", "PLUGIN", "VERSION", "FUNCTION", "TRIGGER", "CALLER", "STATUS", "STARTED", "DURATION", "ERROR"}

func runRow(inv invocationJSON) []string {
	return []string{inv.ID, inv.Plugin, strconv.Itoa(inv.Version), inv.Function, inv.Trigger, inv.Caller, inv.Status,
		ago(inv.StartedAt), fmt.Sprintf("%.1fms", inv.DurationMS), shorten(dash(inv.Error), 60)}
}

// followRuns prints invocations oldest first, then polls for new ones and for
// status changes of those seen, until ctx ends.
func (a *app) followRuns(ctx context.Context, c *client, path string, first []invocationJSON, interval time.Duration) error {
	seen := map[string]string{}
	t := newTable(io.Discard)
	if !a.jsonOutput() {
		t = newTable(a.stdout, runHeader...)
	}
	emit := func(invs []invocationJSON) error {
		slices.Reverse(invs)
		for _, inv := range invs {
			if st, ok := seen[inv.ID]; ok && st == inv.Status {
				continue
			}
			seen[inv.ID] = inv.Status
			if a.jsonOutput() {
				b, _ := json.Marshal(inv)
				fmt.Fprintf(a.stdout, "%s\n", b)
				continue
			}
			t.row(runRow(inv)...)
		}
		return t.flush()
	}
	if err := emit(first); err != nil {
		return err
	}
	tick := time.NewTicker(max(interval, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		var list struct {
			Invocations []invocationJSON `json:"invocations"`
		}
		if _, err := c.json(ctx, "GET", path, nil, &list); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := emit(list.Invocations); err != nil {
			return err
		}
	}
}

func (a *app) runCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run ID",
		Short: "Show one invocation with its output and logs",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var inv invocationJSON
			raw, err := c.json(cmd.Context(), "GET", "/v1/invocations/"+pathEscape(argv[0]), nil, &inv)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			t := newTable(a.stdout)
			t.row("id:", inv.ID)
			t.row("plugin:", fmt.Sprintf("%s v%d, function %s", inv.Plugin, inv.Version, inv.Function))
			t.row("trigger:", inv.Trigger+" by "+inv.Caller)
			t.row("status:", inv.Status)
			t.row("started:", ago(inv.StartedAt))
			t.row("duration:", fmt.Sprintf("%.1f ms", inv.DurationMS))
			if inv.Error != "" {
				t.row("error:", inv.Error)
			}
			_ = t.flush()
			fmt.Fprintln(a.stdout, "\noutput:")
			if inv.Output != nil && *inv.Output != "" {
				out := *inv.Output
				if inv.OutputEncoding == "base64" {
					out = "(binary, base64) " + out
				}
				fmt.Fprintln(a.stdout, strings.TrimRight(indent(out), "\n"))
				if inv.OutputTruncated {
					fmt.Fprintln(a.stdout, "  (stored copy truncated to 64 KiB)")
				}
			} else {
				fmt.Fprintln(a.stdout, "  (none)")
			}
			fmt.Fprintln(a.stdout, "\nlogs:")
			if len(inv.Logs) == 0 {
				fmt.Fprintln(a.stdout, "  (none)")
			}
			for _, l := range inv.Logs {
				fmt.Fprintf(a.stdout, "  %s %-6s %s\n", l.Time.Local().Format("15:04:05.000"), l.Level, l.Message)
			}
			return nil
		},
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func (a *app) invokeCommand() *cobra.Command {
	var data string
	var async bool
	cmd := &cobra.Command{
		Use:   "invoke NAME [FUNCTION] [--data @FILE|-|TEXT] [--async]",
		Short: "Run a plugin and print its output",
		Long: `invoke runs the plugin's entrypoint (or FUNCTION) with the input given by
--data: @FILE reads a file, - reads standard input, anything else is the input
itself. The output goes to standard output as the plugin wrote it; the
invocation id goes to standard error. A failed or timed-out run prints the
server's message and exits 1. --async starts the run and prints its id.`,
		Args:              args(cobra.RangeArgs(1, 2)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			input, err := a.readData(data)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			path := "/v1/plugins/" + pathEscape(argv[0]) + "/invoke"
			if len(argv) == 2 {
				path += "/" + pathEscape(argv[1])
			}
			if async {
				path += "?async=true"
			}
			res, err := c.do(cmd.Context(), request{method: "POST", path: path, body: bytes.NewReader(input),
				ctype: "application/octet-stream", headers: map[string]string{"X-Lhk-Trigger": "cli"}})
			if err != nil {
				return err
			}
			defer res.Body.Close()
			id := res.Header.Get("X-Lhk-Invocation")
			if async {
				if a.jsonOutput() {
					return a.printValue(map[string]string{"invocation": id})
				}
				fmt.Fprintln(a.stdout, id)
				a.notef("started; see 'lhk run %s'\n", id)
				return nil
			}
			out, err := io.ReadAll(res.Body)
			if err != nil {
				return &unreachableError{server: c.server, err: err}
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"invocation": id, "output": string(out)})
			}
			if _, err := a.stdout.Write(out); err != nil {
				return err
			}
			if len(out) > 0 && out[len(out)-1] != '\n' && isTerminal(a.stdout) {
				fmt.Fprintln(a.stdout)
			}
			a.notef("invocation %s\n", id)
			return nil
		},
	}
	cmd.Flags().StringVarP(&data, "data", "d", "", "input: @FILE, - for standard input, or the text itself")
	cmd.Flags().BoolVar(&async, "async", false, "start the run and print its invocation id")
	return cmd
}

// readData reads --data: @FILE, - (stdin) or the text itself.
func (a *app) readData(data string) ([]byte, error) {
	switch {
	case data == "-":
		b, err := io.ReadAll(a.stdin)
		if err != nil {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		return b, nil
	case strings.HasPrefix(data, "@"):
		b, err := os.ReadFile(data[1:])
		if err != nil {
			return nil, usageErrorf("--data %s: %v", data, err)
		}
		return b, nil
	default:
		return []byte(data), nil
	}
}
