package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// code formats a value as an inline code span safe inside a table cell.
func code(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "|", `\|`).Replace(s)
	if s == "" {
		return "(empty)"
	}
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// text makes free text (a filter's reason) safe inside a table cell.
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

// conditions formats conditions in one line: field op value AND ….
func conditions(cs []pdk.Condition) string {
	var parts []string
	for _, c := range cs {
		if c.Op == pdk.OpExists {
			parts = append(parts, code(c.Field+" exists"))
			continue
		}
		parts = append(parts, code(fmt.Sprintf("%s %s %v", c.Field, c.Op, c.Value)))
	}
	return strings.Join(parts, " AND ")
}

func date(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02")
}

// maxWithheldShown bounds the withheld patterns the Markdown lists.
const maxWithheldShown = 8

// Findings reports whether r holds anything a person should act on.
func (r *Result) Findings() bool {
	return len(r.Expired)+len(r.Stale)+len(r.Proposals) > 0
}

// Markdown renders one tenant's upkeep.
func Markdown(r *Result, deleteExpired bool) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Filter upkeep: %s\n\n", r.Tenant)
	w("%d filters; window %s – %s (%d days, %d events).\n\n",
		r.Filters, r.Window.From.UTC().Format("2006-01-02"), r.Window.To.UTC().Format("2006-01-02"), staleWindowDays(r.Window), r.Events)

	w("### Expired filters (%d)\n\n", len(r.Expired))
	if len(r.Expired) == 0 {
		w("None.\n\n")
	} else {
		w("| filter | owner | expired | action |\n| --- | --- | --- | --- |\n")
		for _, e := range r.Expired {
			action := "reported: renew it or delete it (config delete_expired=true deletes expired filters)"
			switch {
			case e.Deleted:
				action = "deleted"
			case e.Error != "":
				action = "delete failed: " + text(e.Error)
			case deleteExpired:
				action = "kept"
			}
			w("| %s | %s | %s | %s |\n", code(e.Name), code(e.Owner), date(&e.ExpiresAt), action)
		}
		w("\n")
	}

	w("### Stale filters: no hits in %d days (%d)\n\n", staleWindowDays(r.Window), len(r.Stale))
	if len(r.Stale) == 0 {
		w("None.\n\n")
	} else {
		w("| filter | owner | created | expires | reason |\n| --- | --- | --- | --- | --- |\n")
		for _, s := range r.Stale {
			w("| %s | %s | %s | %s | %s |\n", code(s.Name), code(s.Owner), date(&s.CreatedAt), date(s.ExpiresAt), text(s.Reason))
		}
		w("\nA stale filter may be obsolete (the noise is gone) or wrong (a typo in a field or value); review it with its owner.\n\n")
	}

	w("### Proposed suppressions (%d)\n\n", len(r.Proposals))
	if len(r.Proposals) == 0 {
		w("None: no frequent pattern outside the filters passed the checks.\n\n")
	}
	for i, p := range r.Proposals {
		w("%d. **%s**: %s events (%.1f%%), %s\n\n", i+1, code(p.Name), strconv.FormatInt(p.Events, 10), p.Share, conditions(p.Conditions))
		w("   %s\n\n", text(p.Why))
		body, _ := json.Marshal(p.Filter)
		w("   ```json\n   %s\n   ```\n\n", body)
	}
	if len(r.Proposals) > 0 {
		w("Nothing was changed: to accept a proposal, review it and POST its JSON to `/v1/filters/upsert`.\n\n")
	}
	if len(r.Withheld) > 0 {
		w("Frequent patterns not proposed:\n\n")
		for i, x := range r.Withheld {
			if i == maxWithheldShown {
				w("- and %d more (see the output's withheld list)\n", len(r.Withheld)-i)
				break
			}
			w("- %s (%d events): %s\n", conditions(x.Conditions), x.Events, text(x.Reason))
		}
		w("\n")
	}
	return b.String()
}

// Headline is the one-line summary of a tenant's upkeep, for notifications.
func Headline(r *Result) string {
	return fmt.Sprintf("%s: %d expired, %d stale, %d proposed suppressions", r.Tenant, len(r.Expired), len(r.Stale), len(r.Proposals))
}

// Notification builds the message about a tenant's upkeep.
func Notification(r *Result, channel, markdown string) pdk.Notification {
	sev := pdk.SeverityLow
	if len(r.Expired) > 0 || len(r.Stale) > 0 {
		sev = pdk.SeverityMedium
	}
	return pdk.Notification{
		Channel: channel, Tenant: r.Tenant, Severity: sev,
		Title: "Filter upkeep " + Headline(r),
		Text:  markdown,
		Fields: map[string]string{
			"expired":   strconv.Itoa(len(r.Expired)),
			"stale":     strconv.Itoa(len(r.Stale)),
			"proposals": strconv.Itoa(len(r.Proposals)),
		},
	}
}
