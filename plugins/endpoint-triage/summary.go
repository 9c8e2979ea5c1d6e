package main

import (
	"fmt"
	"strings"
	"time"
)

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// code formats text as inline code, whatever backticks it holds.
func code(s string) string {
	return "`" + strings.ReplaceAll(strings.NewReplacer("\n", " ", "\r", " ").Replace(s), "`", "'") + "`"
}

// Markdown renders the triage for a ticket comment or a chat message: the
// window and asset, a table of findings, their evidence and notes.
func Markdown(o *Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Endpoint triage: %s (%s)\n\n", o.Host, o.Tenant)
	fmt.Fprintf(&b, "Window %s – %s", o.From.UTC().Format(time.RFC3339), o.To.UTC().Format(time.RFC3339))
	if a := o.Asset; a != nil {
		var parts []string
		for _, p := range []struct{ k, v string }{{"owner", a.Owner}, {"OS", a.OS}, {"criticality", a.Criticality}, {"IPs", strings.Join(a.IPs, ", ")}, {"tags", strings.Join(a.Tags, ", ")}} {
			if p.v != "" {
				parts = append(parts, p.k+" "+p.v)
			}
		}
		fmt.Fprintf(&b, " · asset %s: %s", a.Name, strings.Join(parts, ", "))
	} else {
		b.WriteString(" · not in the asset inventory")
	}
	fmt.Fprintf(&b, ".\nCollected %d processes, %d connections, %d logons (+%d made from the host elsewhere), %d file and %d registry changes, %d scheduled-task and WMI events",
		o.Counts["processes"], o.Counts["network"], o.Counts["logons"], o.Counts["logons_from_host"], o.Counts["files"], o.Counts["registry"], o.Counts["persistence"])
	if o.Truncated {
		b.WriteString(" (some sections cut at the collection limit)")
	}
	b.WriteString(".\n\n")
	if len(o.Findings) == 0 {
		b.WriteString("**No findings.** None of the rules matched in this window.\n")
	} else {
		var sev []string
		for _, s := range []string{"critical", "high", "medium", "low"} {
			if n := o.Counts["findings_"+s]; n > 0 {
				sev = append(sev, fmt.Sprintf("%d %s", n, s))
			}
		}
		fmt.Fprintf(&b, "**%s.**\n\n| severity | rule | what |\n| --- | --- | --- |\n", strings.Join(sev, ", "))
		for _, f := range o.Findings {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", f.Severity, f.Rule, cell(f.What))
		}
		b.WriteString("\n### Evidence\n")
		for i, f := range o.Findings {
			fmt.Fprintf(&b, "\n%d. **%s** (%s)\n", i+1, f.Rule, f.Severity)
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "   - %s\n", code(e))
			}
			if len(f.Observables) > 0 {
				var obs []string
				for _, ob := range f.Observables {
					obs = append(obs, ob.Type+" "+code(ob.Value))
				}
				fmt.Fprintf(&b, "   - observables: %s\n", strings.Join(obs, ", "))
			}
		}
	}
	if len(o.Sweeps) > 0 {
		b.WriteString("\n### Indicator sweep\n\nEach indicator searched for as free text in the tenant's logs over the window:\n\n")
		for _, sw := range o.Sweeps {
			var hosts []string
			for _, h := range sw.Hosts {
				hosts = append(hosts, fmt.Sprintf("%s (%d)", h.Host, h.Events))
			}
			seen := "not seen"
			if sw.Events > 0 {
				seen = fmt.Sprintf("%d events on %s", sw.Events, strings.Join(hosts, ", "))
				if sw.Truncated {
					seen = "at least " + seen
				}
			}
			from := "config iocs"
			if sw.Source == SourceTicket {
				from = "the ticket"
			}
			fmt.Fprintf(&b, "- %s (%s, from %s): %s\n", code(sw.Indicator), sw.Type, from, seen)
		}
	}
	if len(o.Notes) > 0 {
		b.WriteString("\n### Notes\n\n")
		for _, n := range o.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	b.WriteString("\n_Rules: encoded-powershell, office-spawns-shell, run-key-persistence, service-persistence, scheduled-task-persistence, startup-folder-persistence, wmi-persistence, beaconing, lateral-logon, ioc-match, indicator-elsewhere (endpoint-triage)._\n")
	return b.String()
}
