package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// barWidth is the length in characters of a full bar.
const barWidth = 24

// bar draws n out of max as a bar of Unicode block characters, with eighths
// for the last character; a non-zero n always shows at least a sliver.
func bar(n, max int64, width int) string {
	if n <= 0 || max <= 0 || width <= 0 {
		return ""
	}
	if n > max {
		n = max
	}
	eighths := int(n * int64(width) * 8 / max)
	if eighths == 0 {
		eighths = 1
	}
	partial := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + partial[eighths%8]
}

// count is n with commas and the noun it counts, singular for one: count(1,
// "event") is "1 event", count(2401, "event") "2,401 events".
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// percent formats n/total as a percentage with one decimal.
func percent(n, total int64) string {
	if total <= 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(n)*100/float64(total), 'f', 1, 64) + "%"
}

// code formats a value from the logs as an inline code span safe inside a
// table cell: newlines become spaces, pipes are escaped, backticks fenced.
func code(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(s)
	if len(s) > 120 {
		s = s[:117] + "…"
	}
	if s == "" {
		return "(empty)"
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// text makes free text (ticket titles) safe inside a table cell or a list
// item: no newlines, and the characters of emphasis, links, code, tables and
// raw HTML escaped.
func text(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Title returns the report's title.
func Title(st *Stats, loc *time.Location) string {
	kind := "Security report"
	if isWeek(st.Period, loc) {
		kind = "Weekly security report"
	}
	return fmt.Sprintf("%s: %s, %s", kind, st.Tenant, periodLabel(st.Period, loc))
}

// maxCount returns the largest count in xs.
func maxCount[T any](xs []T, count func(T) int64) int64 {
	var m int64
	for _, x := range xs {
		m = max(m, count(x))
	}
	return m
}

// Markdown renders the tenant's report.
func Markdown(st *Stats, loc *time.Location) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# %s\n\n", Title(st, loc))
	w("Period: %s to %s (%s, end excluded). Events: **%s**.\n\n",
		st.Period.From.In(loc).Format("Mon 2006-01-02 15:04"), st.Period.To.In(loc).Format("Mon 2006-01-02 15:04"), loc, thousands(st.Total))

	w("## Highlights\n\n")
	for _, h := range Highlights(st) {
		w("- %s\n", h)
	}

	w("\n## Events by day\n\n")
	var days []string
	var counts []int64
	for _, d := range st.Timeline {
		days = append(days, d.From.In(loc).Format("Mon 01-02"))
		counts = append(counts, d.Count)
	}
	w("%s\n\n", svgBarChart("Events by day", days, counts))
	w("| day | events | |\n| --- | ---: | --- |\n")
	peak := maxCount(st.Timeline, func(x Bucket) int64 { return x.Count })
	for _, d := range st.Timeline {
		label := d.From.In(loc).Format("Mon 2006-01-02")
		if d.To.Sub(d.From) > 24*time.Hour+time.Hour {
			label = "week of " + d.From.In(loc).Format("2006-01-02")
		}
		w("| %s | %s | %s |\n", label, thousands(d.Count), bar(d.Count, peak, barWidth))
	}

	w("\n## Events by dataset\n\n")
	topTable(&b, "dataset", st.Datasets, st.Total)

	w("\n## Detections\n\n")
	w("Events covered by the tenant's active analysis filters (known benign noise) are counted apart and not highlighted.\n\n")
	w("| detection | severity | events | covered by filters | hosts with the most |\n| --- | --- | ---: | ---: | --- |\n")
	for _, d := range st.Detections {
		var hosts []string
		for _, h := range d.Hosts {
			hosts = append(hosts, code(h.Value)+" ("+thousands(h.Count)+")")
		}
		w("| %s | %s | %s | %s | %s |\n", d.Name, d.Severity, thousands(d.Count), thousands(d.Suppressed), strings.Join(hosts, ", "))
	}

	for _, t := range st.Tops {
		w("\n## Top %s\n\n", t.Title)
		if t.Field == "host.name" && t.Result != nil && len(t.Result.Buckets) > 0 {
			var names []string
			var counts []int64
			for _, x := range t.Result.Buckets {
				names = append(names, x.Value)
				counts = append(counts, x.Count)
			}
			w("%s\n\n", svgHBarChart("Top hosts by events", names, counts, nil))
		}
		topTable(&b, t.Field, t.Result, st.Total)
	}

	w("\n## Alerts received in the period\n\n")
	if st.Alerts == nil {
		w("Not available (see Notes).\n")
	} else {
		al := st.Alerts
		more := ""
		if al.Truncated {
			more = " (at least; only the first " + thousands(maxTickets) + " tickets were read)"
		}
		w("Alerts are what the SIEM sent: alert-intake opens a ticket for the first delivery of an alert and comments on it for each repeat.\n\n")
		w("**%s alerts**%s: %s opened a ticket, %s repeated an alert already tracked.\n\n", thousands(int64(al.Total)), more, thousands(int64(al.Opened)), thousands(int64(al.Repeats)))
		if al.Total > 0 {
			var names []string
			var counts []int64
			var colors []string
			for _, sev := range severities {
				if n := al.BySeverity[sev]; n > 0 {
					names, counts, colors = append(names, sev), append(counts, int64(n)), append(colors, severityColors[sev])
				}
			}
			w("%s\n\n", svgHBarChart("Alerts by severity", names, counts, colors))
			countTable(&b, "severity", "alerts", al.BySeverity, severities)
			b.WriteString("\n")
		}
	}
	if st.Alerts != nil && st.Tickets != nil {
		var days []string
		for _, d := range st.Timeline {
			days = append(days, d.From.In(loc).Format("Mon 01-02"))
		}
		w("%s\n", svgGroupedChart("Alerts and tickets opened by day", days, []Series{
			{Name: "alerts", Color: chartRed, Values: st.Alerts.ByDay}, {Name: "tickets", Color: chartBlue, Values: st.Tickets.ByDay}}))
	}

	w("\n## Tickets opened in the period\n\n")
	if st.Tickets == nil {
		w("Not available (see Notes).\n")
	} else {
		tk := st.Tickets
		more := ""
		if tk.Truncated {
			more = " (at least; only the first " + thousands(maxTickets) + " were counted)"
		}
		w("%s tickets opened%s.\n\n", thousands(int64(tk.Total)), more)
		if tk.Total > 0 {
			countTable(&b, "status", "tickets", tk.ByStatus, []string{pdk.TicketOpen, pdk.TicketInProgress, pdk.TicketResolved, pdk.TicketClosed})
			b.WriteString("\n")
			countTable(&b, "severity", "tickets", tk.BySeverity, severities)
		}
		if len(tk.Notable) > 0 {
			w("\nHigh and critical tickets:\n\n")
			for _, t := range tk.Notable {
				w("- %s %s (%s, %s, opened %s)\n", code(t.ID), text(t.Title), t.Severity, t.Status, t.CreatedAt.In(loc).Format("2006-01-02 15:04"))
			}
		}
	}

	w("\n## Analysis filters\n\n")
	switch {
	case st.Filters == nil:
		w("Not available (see Notes).\n")
	case len(st.Filters) == 0:
		w("The tenant has no analysis filters.\n")
	default:
		var hidden int64
		for _, f := range st.Filters {
			hidden += f.Hits
		}
		w("The filters matched %s events in the period (%s of all events).\n\n", thousands(hidden), percent(hidden, st.Total))
		w("| filter | hits | last hit | |\n| --- | ---: | --- | --- |\n")
		fs := slices.Clone(st.Filters)
		slices.SortStableFunc(fs, func(x, y pdk.FilterStat) int {
			if x.Hits != y.Hits {
				if x.Hits > y.Hits {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Name, y.Name)
		})
		peak := maxCount(fs, func(x pdk.FilterStat) int64 { return x.Hits })
		for _, f := range fs {
			last := "never in the period"
			if f.LastHit != nil {
				last = f.LastHit.In(loc).Format("2006-01-02 15:04")
			}
			w("| %s | %s | %s | %s |\n", code(f.Name), thousands(f.Hits), last, bar(f.Hits, peak, barWidth))
		}
	}

	w("\n## Notes\n\n")
	for _, n := range st.Notes {
		w("- %s\n", n)
	}
	w("- Charts are inline SVG images and Unicode bars in the tables; counts come from the tenant's logs, tickets and filters through lhk (%d queries).\n", st.Calls)
	w("- Alerts are counted from the tickets alert-intake keeps: its tickets opened in the period, and its comments on a repeated alert in the period on tickets opened up to %d days before.\n", int(repeatLookback.Hours()/24))
	return b.String()
}

// topTable writes a top list as a table with shares and bars.
func topTable(b *strings.Builder, field string, r *pdk.TopResult, total int64) {
	if r == nil || len(r.Buckets) == 0 {
		fmt.Fprintf(b, "No events with %s.\n", code(field))
		return
	}
	fmt.Fprintf(b, "| %s | events | share | |\n| --- | ---: | ---: | --- |\n", field)
	peak := maxCount(r.Buckets, func(x pdk.Bucket) int64 { return x.Count })
	for _, x := range r.Buckets {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", code(x.Value), thousands(x.Count), percent(x.Count, total), bar(x.Count, peak, barWidth))
	}
	if r.Other > 0 {
		fmt.Fprintf(b, "| (others) | %s | %s | |\n", thousands(r.Other), percent(r.Other, total))
	}
}

// severities are the ticket severities, most severe first.
var severities = []string{pdk.SeverityCritical, pdk.SeverityHigh, pdk.SeverityMedium, pdk.SeverityLow}

// countTable writes counts (of what, e.g. "tickets") by key, the known keys
// first in order, then any other key alphabetically.
func countTable(b *strings.Builder, name, what string, m map[string]int, order []string) {
	keys := slices.Clone(order)
	var rest []string
	for k := range m {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	keys = append(keys, rest...)
	peak := int64(0)
	for _, k := range keys {
		peak = max(peak, int64(m[k]))
	}
	fmt.Fprintf(b, "| %s | %s | |\n| --- | ---: | --- |\n", name, what)
	for _, k := range keys {
		if m[k] == 0 {
			continue
		}
		label := text(k)
		if label == "" {
			label = "(none)"
		}
		fmt.Fprintf(b, "| %s | %d | %s |\n", label, m[k], bar(int64(m[k]), peak, barWidth))
	}
}

// Highlights are the few lines a reader should see first: detections that
// fired on events no analysis filter covers, most severe first, the busiest
// host, alerts, tickets and filter hits. Detections only the filters' known
// noise made are named on one line, after the others.
func Highlights(st *Stats) []string {
	var out []string
	fired := 0
	var noise []string
	ds := slices.Clone(st.Detections)
	slices.SortStableFunc(ds, func(a, b Detection) int {
		return slices.Index(severities, a.Severity) - slices.Index(severities, b.Severity)
	})
	for _, d := range ds {
		if d.Count == 0 && d.Suppressed > 0 {
			noise = append(noise, fmt.Sprintf("%s (%s events)", d.Name, thousands(d.Suppressed)))
		}
		if d.Count == 0 {
			continue
		}
		fired++
		line := fmt.Sprintf("**%s**: %s", d.Name, count(d.Count, "event"))
		if len(d.Hosts) > 0 {
			var hs []string
			for _, h := range d.Hosts[:min(3, len(d.Hosts))] {
				hs = append(hs, code(h.Value))
			}
			line += " on " + strings.Join(hs, ", ")
		}
		out = append(out, line+".")
	}
	if fired == 0 {
		out = append(out, "No detection fired in the period.")
	}
	if len(noise) > 0 {
		out = append(out, "Only known noise covered by analysis filters: "+strings.Join(noise, ", ")+".")
	}
	for _, t := range st.Tops {
		if t.Field == "host.name" && t.Result != nil && len(t.Result.Buckets) > 0 {
			h := t.Result.Buckets[0]
			out = append(out, fmt.Sprintf("Busiest host: %s with %s events (%s).", code(h.Value), thousands(h.Count), percent(h.Count, st.Total)))
		}
	}
	if al := st.Alerts; al != nil {
		hc := al.BySeverity[pdk.SeverityHigh] + al.BySeverity[pdk.SeverityCritical]
		out = append(out, fmt.Sprintf("%s received from the SIEM (%d new, %s), %d of them high or critical.", count(int64(al.Total), "alert"), al.Opened, count(int64(al.Repeats), "repeat"), hc))
	}
	if st.Tickets != nil {
		hc := st.Tickets.BySeverity[pdk.SeverityHigh] + st.Tickets.BySeverity[pdk.SeverityCritical]
		out = append(out, fmt.Sprintf("%s opened, %d of them high or critical; %d still open.", count(int64(st.Tickets.Total), "ticket"), hc, st.Tickets.ByStatus[pdk.TicketOpen]+st.Tickets.ByStatus[pdk.TicketInProgress]))
	}
	if st.Filters != nil {
		var hidden int64
		for _, f := range st.Filters {
			hidden += f.Hits
		}
		out = append(out, fmt.Sprintf("%s matched %s.", count(int64(len(st.Filters)), "analysis filter"), count(hidden, "event")))
	}
	return out
}

// Summary is the one-paragraph line of the plugin's output for a tenant.
func Summary(st *Stats, id, title string) string {
	var fired []string
	for _, d := range st.Detections {
		if d.Count > 0 {
			fired = append(fired, fmt.Sprintf("%s %s", d.Name, thousands(d.Count)))
		}
	}
	det := "no detections"
	if len(fired) > 0 {
		det = "detections: " + strings.Join(fired, ", ")
	}
	tickets := ""
	if st.Alerts != nil {
		tickets = ", " + count(int64(st.Alerts.Total), "alert")
	}
	if st.Tickets != nil {
		tickets += ", " + count(int64(st.Tickets.Total), "ticket") + " opened"
	}
	return fmt.Sprintf("- **%s** (%s): %s events, %s%s.", text(title), code(id), thousands(st.Total), det, tickets)
}
