package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

type scheduleAnswer struct {
	Plugin   string       `json:"plugin"`
	Schedule scheduleJSON `json:"schedule"`
	Cron     string       `json:"cron"`
	Timezone string       `json:"timezone"`
	NextRuns []time.Time  `json:"next_runs"`
}

func (a *app) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Set, remove or preview a plugin's cron schedule",
		Long: `A schedule is a cron spec (5 fields, or @hourly, @daily, @weekly, @monthly,
@every 5m) in an IANA timezone (default UTC). Next runs are shown in that timezone.`,
	}
	var tz, input string
	var disabled bool
	set := &cobra.Command{
		Use:               "set NAME SPEC [--tz ZONE] [--input TEXT]",
		Short:             "Set (or replace) a plugin's schedule",
		Example:           `  lhk schedule set report "0 9 * * 1" --tz Asia/Tokyo --input '{"tenant":"acme"}'`,
		Args:              args(cobra.ExactArgs(2)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			data, err := a.readData(input)
			if err != nil {
				return err
			}
			raw, err := a.setSchedule(cmd.Context(), c, argv[0], argv[1], tz, string(data), !disabled)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.printScheduleAnswer(raw)
			return nil
		},
	}
	set.Flags().StringVar(&tz, "tz", "UTC", "IANA timezone, e.g. Asia/Tokyo")
	set.Flags().StringVar(&input, "input", "", "input of each run: @FILE, - or the text itself")
	set.Flags().BoolVar(&disabled, "disabled", false, "store the schedule but do not run it")
	rm := &cobra.Command{
		Use:               "rm NAME",
		Short:             "Remove a plugin's schedule",
		Args:              args(cobra.ExactArgs(1)),
		ValidArgsFunction: a.completePlugins,
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if _, err := c.json(cmd.Context(), "DELETE", "/v1/plugins/"+pathEscape(argv[0])+"/schedule", nil, nil); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"plugin": argv[0], "schedule": nil})
			}
			fmt.Fprintf(a.stdout, "plugin %s: schedule removed\n", argv[0])
			return nil
		},
	}
	var nextTZ string
	var count int
	next := &cobra.Command{
		Use:   "next SPEC [--tz ZONE] [--count N]",
		Short: "Show the next runs of a spec without saving anything",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			raw, err := c.json(cmd.Context(), "POST", "/v1/schedules/preview", map[string]any{"cron": argv[0], "timezone": nextTZ, "count": count}, nil)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.printScheduleAnswer(raw)
			return nil
		},
	}
	next.Flags().StringVar(&nextTZ, "tz", "UTC", "IANA timezone, e.g. Asia/Tokyo")
	next.Flags().IntVar(&count, "count", 5, "how many runs")
	cmd.AddCommand(set, rm, next)
	return cmd
}

// setSchedule puts a schedule and returns the server's answer.
func (a *app) setSchedule(ctx context.Context, c *client, name, spec, tz, input string, enabled bool) ([]byte, error) {
	body := map[string]any{"cron": spec, "timezone": tz, "input": input, "enabled": enabled}
	return c.json(ctx, "PUT", "/v1/plugins/"+pathEscape(name)+"/schedule", body, nil)
}

// printScheduleAnswer shows a schedule answer (set or preview) for people,
// with the next runs in the schedule's timezone.
func (a *app) printScheduleAnswer(raw []byte) {
	var ans scheduleAnswer
	if json.Unmarshal(raw, &ans) != nil {
		_ = a.printJSON(raw)
		return
	}
	sch := &ans.Schedule
	if ans.Plugin == "" {
		sch = &scheduleJSON{Cron: ans.Cron, Timezone: ans.Timezone, Enabled: true}
	} else {
		fmt.Fprintf(a.stdout, "plugin %s: schedule %s\n", ans.Plugin, sch.String())
	}
	if len(ans.NextRuns) == 0 {
		fmt.Fprintln(a.stdout, "next runs: none")
		return
	}
	fmt.Fprintf(a.stdout, "next runs (%s):\n", sch.Timezone)
	for _, t := range ans.NextRuns {
		fmt.Fprintf(a.stdout, "  %s\n", inZone(t, sch))
	}
}
