package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// timeRange holds --since, --from and --to.
type timeRange struct {
	since    time.Duration
	from, to string
}

func (r *timeRange) flags(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&r.since, "since", 0, "search the last DURATION, e.g. 24h or 90m (default 24h unless --from)")
	cmd.Flags().StringVar(&r.from, "from", "", "start of the range, RFC 3339 or YYYY-MM-DD")
	cmd.Flags().StringVar(&r.to, "to", "", "end of the range, RFC 3339 or YYYY-MM-DD (default now)")
}

// resolve returns from and to as RFC 3339.
func (r *timeRange) resolve(now time.Time) (string, string, error) {
	if r.since != 0 && r.from != "" {
		return "", "", usageErrorf("give --since or --from, not both")
	}
	to := now.UTC()
	if r.to != "" {
		t, err := parseTime(r.to)
		if err != nil {
			return "", "", usageErrorf("--to: %v", err)
		}
		to = t
	}
	from := to.Add(-24 * time.Hour)
	switch {
	case r.from != "":
		t, err := parseTime(r.from)
		if err != nil {
			return "", "", usageErrorf("--from: %v", err)
		}
		from = t
	case r.since < 0:
		return "", "", usageErrorf("--since must be positive")
	case r.since > 0:
		from = to.Add(-r.since)
	}
	return from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), nil
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-11-01T09:00:00Z) nor a date (2026-11-01)", s)
}

type searchAnswer struct {
	Events     []map[string]any `json:"events"`
	NextCursor string           `json:"next_cursor"`
	Truncated  bool             `json:"truncated"`
}

// condition is one field condition of logs.search_fields.
type condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
}

// findOps maps the operator characters of 'lhk logs find' to search_fields ops.
var findOps = map[byte]string{'=': "eq", '~': "contains", '^': "prefix", '/': "cidr", '>': "gt", '<': "lt"}

// parseCondition reads FIELD=VALUE, FIELD~VALUE, FIELD^VALUE, FIELD/CIDR,
// FIELD>VALUE, FIELD<VALUE or FIELD? (exists). A field name is letters,
// digits and . _ @ -; the first other character is the operator and the
// rest, whatever it holds, the value.
func parseCondition(s string) (condition, error) {
	i := 0
	for i < len(s) && isFieldChar(s[i]) {
		i++
	}
	if i == 0 {
		return condition{}, usageErrorf("condition %q: start with a field name, e.g. host.name=WS01", s)
	}
	if i == len(s) {
		return condition{}, usageErrorf("condition %q: no operator; use = ~ ^ / > < or ? (see 'lhk logs find --help')", s)
	}
	field, opc, value := s[:i], s[i], s[i+1:]
	if opc == '?' {
		if value != "" {
			return condition{}, usageErrorf("condition %q: FIELD? takes no value", s)
		}
		return condition{Field: field, Op: "exists"}, nil
	}
	op, ok := findOps[opc]
	if !ok {
		return condition{}, usageErrorf("condition %q: unknown operator %q; use = ~ ^ / > < or ?", s, string(opc))
	}
	return condition{Field: field, Op: op, Value: value}, nil
}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '@' || c == '-'
}

func (a *app) logsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Search, find, count and ingest log events",
	}
	cmd.AddCommand(a.logsSearchCommand(), a.logsFindCommand(), a.logsTopCommand(), a.logsCountCommand(), a.logsIngestCommand())
	return cmd
}

// searchOpts are the flags both search styles share.
type searchOpts struct {
	tenant       string
	limit        int
	cursor       string
	columns      []string
	applyFilters bool
	r            timeRange
}

func (o *searchOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.tenant, "tenant", "", "tenant to search (required)")
	f.IntVar(&o.limit, "limit", 100, "at most this many events (the server caps it at 1000)")
	f.StringVar(&o.cursor, "cursor", "", "continue from a previous search's next cursor")
	f.StringSliceVar(&o.columns, "columns", []string{"@timestamp", "event.dataset", "host.name", "user.name", "process.name", "source.ip", "destination.ip"}, "fields to show in the table")
	f.BoolVar(&o.applyFilters, "apply-filters", false, "leave out events the tenant's active analysis filters match")
	o.r.flags(cmd)
	_ = cmd.MarkFlagRequired("tenant")
}

func (a *app) logsSearchCommand() *cobra.Command {
	var o searchOpts
	cmd := &cobra.Command{
		Use:   `search "FREE TEXT" --tenant T [--since 24h | --from T --to T] [--limit N]`,
		Short: "Free-text search: every word must appear in the event (logs.search)",
		Example: `  lhk logs search "powershell -enc" --tenant acme --since 24h
  lhk logs search 203.0.113.7 --tenant acme --from 2026-11-01 --to 2026-11-08 -o json`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			from, to, err := o.r.resolve(time.Now())
			if err != nil {
				return err
			}
			body := map[string]any{"tenant": o.tenant, "query": strings.Join(argv, " "), "from": from, "to": to, "limit": o.limit, "cursor": o.cursor, "apply_filters": o.applyFilters}
			return a.search(cmd.Context(), "/v1/logs/search", body, o)
		},
	}
	o.flags(cmd)
	return cmd
}

func (a *app) logsFindCommand() *cobra.Command {
	var o searchOpts
	cmd := &cobra.Command{
		Use:   "find CONDITION… --tenant T [--since 24h | --from T --to T] [--limit N]",
		Short: "Field search: conditions on event fields, all of which must hold (logs.search_fields)",
		Long: `find searches by field with POST /v1/logs/search_fields. Each CONDITION is
a field name, an operator and a value; all must hold:

` + conditionsHelp + `

The field name ends at the first character that is not a letter, digit, '.',
'_', '@' or '-'; everything after the operator is the value, so quote it for
the shell when it holds spaces or shell characters ('user.name~adm in').`,
		Example: `  lhk logs find process.parent.name=WINWORD.EXE host.name=ACME-WS-017 --tenant acme --since 168h
  lhk logs find source.ip/10.20.0.0/16 'destination.port>1024' --tenant acme -o json`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			conds, err := parseConditions(argv)
			if err != nil {
				return err
			}
			from, to, err := o.r.resolve(time.Now())
			if err != nil {
				return err
			}
			body := map[string]any{"tenant": o.tenant, "fields": conds, "from": from, "to": to, "limit": o.limit, "cursor": o.cursor, "apply_filters": o.applyFilters}
			return a.search(cmd.Context(), "/v1/logs/search_fields", body, o)
		},
	}
	o.flags(cmd)
	return cmd
}

func (a *app) search(ctx context.Context, path string, body map[string]any, o searchOpts) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var ans searchAnswer
	raw, err := c.json(ctx, "POST", path, body, &ans)
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(raw)
	}
	t := newTable(a.stdout, upper(o.columns)...)
	for _, ev := range ans.Events {
		cells := make([]string, len(o.columns))
		for i, col := range o.columns {
			cells[i] = shorten(dash(fieldString(ev, col)), 80)
		}
		t.row(cells...)
	}
	if err := t.flush(); err != nil {
		return err
	}
	a.pageNote(len(ans.Events), "events", ans.Truncated, ans.NextCursor)
	return nil
}

// parseConditions parses the CONDITION arguments of find, top and count.
func parseConditions(argv []string) ([]condition, error) {
	conds := make([]condition, 0, len(argv))
	for _, s := range argv {
		c, err := parseCondition(s)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// conditionsHelp is the CONDITION syntax, for --help.
const conditionsHelp = `  FIELD=VALUE    equals            host.name=ACME-WS-017
  FIELD~VALUE    contains          process.command_line~-enc
  FIELD^VALUE    starts with       host.name^ACME-
  FIELD/CIDR     IP in network     source.ip/10.0.0.0/8
  FIELD>VALUE    greater than      destination.port>1024
  FIELD<VALUE    less than         event.code<5000
  FIELD?         has the field     url.full?`

func (a *app) logsTopCommand() *cobra.Command {
	var tenant, text string
	var limit int
	var applyFilters bool
	var r timeRange
	cmd := &cobra.Command{
		Use:   "top FIELD [CONDITION…] --tenant T [--query TEXT] [--since 24h | --from T --to T] [--limit N]",
		Short: "The most frequent values of a field, with their counts (logs.top)",
		Long: `top counts events by the values of FIELD with POST /v1/logs/top, most frequent
first, optionally narrowed by CONDITIONs (as in 'lhk logs find') and a
free-text --query. --limit buckets (default 10, at most 100). The table ends
with the events outside the buckets and the total of events with the field.

` + conditionsHelp,
		Example: `  lhk logs top host.name --tenant acme --since 168h
  lhk logs top destination.ip event.category=network 'destination.port>1024' --tenant acme --limit 20
  lhk logs top user.name --query "powershell -enc" --tenant acme -o json`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			conds, err := parseConditions(argv[1:])
			if err != nil {
				return err
			}
			from, to, err := r.resolve(time.Now())
			if err != nil {
				return err
			}
			var ans struct {
				Field   string `json:"field"`
				Buckets []struct {
					Value string `json:"value"`
					Count int64  `json:"count"`
				} `json:"buckets"`
				Total int64 `json:"total"`
				Other int64 `json:"other"`
			}
			body := map[string]any{"tenant": tenant, "field": argv[0], "fields": conds, "query": text, "from": from, "to": to, "limit": limit, "apply_filters": applyFilters}
			raw, err := a.callOp(cmd.Context(), "logs", "top", "", body, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			share := func(n int64) string {
				if ans.Total == 0 {
					return "-"
				}
				return fmt.Sprintf("%.1f%%", float64(n)*100/float64(ans.Total))
			}
			t := newTable(a.stdout, strings.ToUpper(ans.Field), "COUNT", "SHARE")
			for _, b := range ans.Buckets {
				t.row(shorten(b.Value, 80), strconv.FormatInt(b.Count, 10), share(b.Count))
			}
			if ans.Other > 0 {
				t.row("(other values)", strconv.FormatInt(ans.Other, 10), share(ans.Other))
			}
			t.row("(total)", strconv.FormatInt(ans.Total, 10), "")
			return t.flush()
		},
	}
	tenantFlag(cmd, &tenant)
	cmd.Flags().StringVar(&text, "query", "", "free text every counted event must hold")
	cmd.Flags().IntVar(&limit, "limit", 10, "at most this many values (the server caps it at 100)")
	cmd.Flags().BoolVar(&applyFilters, "apply-filters", false, "leave out events the tenant's active analysis filters match")
	r.flags(cmd)
	return cmd
}

func (a *app) logsCountCommand() *cobra.Command {
	var tenant string
	var r timeRange
	cmd := &cobra.Command{
		Use:   "count [CONDITION…] --tenant T [--since 24h | --from T --to T]",
		Short: "Count the events matching conditions, and when the newest was (logs.count)",
		Long: `count counts the tenant's events matching every CONDITION (none: all events)
in the time range with POST /v1/logs/count, and says when the newest was.

` + conditionsHelp,
		Example: `  lhk logs count host.name=ACME-WS-017 --tenant acme --since 168h
  lhk logs count event.dataset=sysmon --tenant acme -o json`,
		Args: args(cobra.ArbitraryArgs),
		RunE: func(cmd *cobra.Command, argv []string) error {
			conds, err := parseConditions(argv)
			if err != nil {
				return err
			}
			from, to, err := r.resolve(time.Now())
			if err != nil {
				return err
			}
			var ans struct {
				Count int64      `json:"count"`
				Last  *time.Time `json:"last"`
			}
			raw, err := a.callOp(cmd.Context(), "logs", "count", "", map[string]any{"tenant": tenant, "fields": conds, "from": from, "to": to}, &ans)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			if ans.Last == nil {
				fmt.Fprintf(a.stdout, "%d events\n", ans.Count)
				return nil
			}
			fmt.Fprintf(a.stdout, "%d events, the newest at %s\n", ans.Count, ago(*ans.Last))
			return nil
		},
	}
	tenantFlag(cmd, &tenant)
	r.flags(cmd)
	return cmd
}

func upper(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.ToUpper(x)
	}
	return out
}

// fieldString finds a dotted field in an event, flat ("host.name") or nested.
func fieldString(ev map[string]any, field string) string {
	if v, ok := ev[field]; ok {
		return valueString(v)
	}
	head, rest, ok := strings.Cut(field, ".")
	for ok {
		if m, isMap := ev[head].(map[string]any); isMap {
			if s := fieldString(m, rest); s != "" {
				return s
			}
		}
		var next string
		next, rest, ok = strings.Cut(rest, ".")
		head += "." + next
	}
	return ""
}

func valueString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// ingestBatch bounds one POST /v1/logs (the server takes up to 256 MiB).
const ingestBatch = 32 << 20

type ingestAnswer struct {
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Errors   []ingestError `json:"errors"`
}

type ingestError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

func (a *app) logsIngestCommand() *cobra.Command {
	var tenant string
	var batch int
	cmd := &cobra.Command{
		Use:   "ingest FILE|- --tenant T",
		Short: "Load NDJSON events (one JSON object a line) into the logs store",
		Long: `ingest posts NDJSON events to POST /v1/logs. Each event needs @timestamp
(RFC 3339); events without a tenant get --tenant. Large files go in batches of
32 MiB split at line boundaries; rejected lines are reported with their line
numbers in the file. On a terminal, standard error shows the bytes sent and
the events accepted while it goes (-q hides it). It exits 1 when every event
was rejected.`,
		Example: `  lhk logs ingest events.ndjson --tenant acme
  zcat sysmon.ndjson.gz | lhk logs ingest - --tenant acme -o json`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var in io.Reader = a.stdin
			var size int64 = -1
			label := "ingesting standard input"
			if argv[0] != "-" {
				f, err := os.Open(argv[0])
				if err != nil {
					return usageErrorf("ingest: %v", err)
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
					size = st.Size()
				}
				in = f
				label = "ingesting " + filepath.Base(argv[0])
			}
			p := a.startProgress(label, size)
			total, err := a.ingest(cmd.Context(), c, in, tenant, max(batch, 1), p)
			p.finish()
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(total)
			}
			fmt.Fprintf(a.stdout, "accepted %d, rejected %d\n", total.Accepted, total.Rejected)
			for _, e := range total.Errors {
				fmt.Fprintf(a.stdout, "  line %d: %s\n", e.Line, e.Message)
			}
			if total.Rejected > 0 && total.Accepted == 0 {
				return &exitError{code: exitFailed, msg: fmt.Sprintf("ingest: every event (%d) was rejected", total.Rejected)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant of events that name none")
	cmd.Flags().IntVar(&batch, "batch-bytes", ingestBatch, "bytes per request")
	_ = cmd.Flags().MarkHidden("batch-bytes")
	return cmd
}

// ingest sends in as batches of whole lines and adds up the answers, with
// line numbers counted over the whole input. p counts the bytes as they are
// sent and shows the events sent and accepted.
func (a *app) ingest(ctx context.Context, c *client, in io.Reader, tenant string, batch int, p *progress) (ingestAnswer, error) {
	total := ingestAnswer{}
	r := bufio.NewReaderSize(in, 1<<20)
	var buf bytes.Buffer
	line, batchStart := 0, 0
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		body := p.reader(bytes.NewReader(buf.Bytes()))
		res, err := c.do(ctx, request{method: "POST", path: "/v1/logs" + query("tenant", tenant), body: body, length: int64(buf.Len()), ctype: "application/x-ndjson"})
		if err != nil {
			return err
		}
		var ans ingestAnswer
		err = json.NewDecoder(res.Body).Decode(&ans)
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("ingest: unexpected answer: %v", err)
		}
		total.Accepted += ans.Accepted
		total.Rejected += ans.Rejected
		for _, e := range ans.Errors {
			e.Line += batchStart
			total.Errors = append(total.Errors, e)
		}
		buf.Reset()
		batchStart = line
		p.setNote(fmt.Sprintf("%d lines sent, %d events accepted", line, total.Accepted))
		return nil
	}
	for {
		b, err := r.ReadBytes('\n')
		if len(b) > 0 {
			line++
			buf.Write(b)
			if b[len(b)-1] != '\n' {
				buf.WriteByte('\n')
			}
			if buf.Len() >= batch {
				if err := flush(); err != nil {
					return total, err
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, fmt.Errorf("ingest: read: %w", err)
		}
	}
	if err := flush(); err != nil {
		return total, err
	}
	if total.Errors == nil {
		total.Errors = []ingestError{}
	}
	return total, nil
}

// mib formats a byte count for people.
func mib(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
