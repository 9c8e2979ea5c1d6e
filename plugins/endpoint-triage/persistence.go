package main

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Persistence beyond Run keys and services: scheduled tasks, the Startup
// folder and WMI event subscriptions.
const (
	RuleScheduledTask = "scheduled-task-persistence" // Security 4698, schtasks /create, Register-ScheduledTask, a task file written
	RuleStartupFolder = "startup-folder-persistence" // a file created in a Start Menu\Programs\Startup folder (Sysmon 11)
	RuleWMI           = "wmi-persistence"            // a WMI event filter, consumer or binding created (Sysmon 19, 20, 21)
)

// persistenceCodes are the event codes the collection does not hold (the
// logs store gives them no event.category) that the plugin searches for
// itself: Security 4698 (a scheduled task created) and Sysmon 19, 20 and 21
// (WMI event filter, consumer and binding).
var persistenceCodes = []string{"4698", "19", "20", "21"}

// maxPersistenceEvents is how many events of each persistenceCodes code are
// read per triage.
const maxPersistenceEvents = 100

// persistenceEvents reads the host's events of persistenceCodes in
// [from, to): one field search per code, host names matched as the
// collection matches them.
func persistenceEvents(sys Systems, tenant, host string, from, to time.Time, note func(string, ...any)) []pdk.Event {
	label, _, _ := strings.Cut(host, ".")
	var out []pdk.Event
	for _, code := range persistenceCodes {
		res, err := sys.SearchFields(pdk.FieldSearchRequest{Tenant: tenant,
			Fields: []pdk.Condition{pdk.Eq("event.code", code), pdk.Contains("host.name", label)},
			From:   from, To: to, Limit: maxPersistenceEvents})
		if err != nil {
			note("events %s of %s: %v", code, host, err)
			continue
		}
		if res.Truncated {
			note("more than %d events %s on %s; the newest are analysed", maxPersistenceEvents, code, host)
		}
		for _, e := range res.Events {
			if sameHost(str(e, "host.name"), host) {
				out = append(out, e)
			}
		}
	}
	return out
}

// sameHost reports whether an event's host name is the host triaged,
// ignoring case: the same name, or the same first label when one of them is
// not qualified ("WS5" and "ws5.corp.local").
func sameHost(name, host string) bool {
	if strings.EqualFold(name, host) {
		return true
	}
	a, _, _ := strings.Cut(name, ".")
	b, _, _ := strings.Cut(host, ".")
	return strings.EqualFold(a, b) && (!strings.Contains(name, ".") || !strings.Contains(host, "."))
}

var (
	// reTaskCreate is a scheduled task created from a command line.
	reTaskCreate = regexp.MustCompile(`(?i)(?:\bschtasks(?:\.exe)?["']?\s.*?[/-]create\b|\bregister-scheduledtask\b)`)
	// reTaskCommand and reTaskArguments read a task's action from the XML
	// of Security 4698's TaskContent.
	reTaskCommand   = regexp.MustCompile(`(?is)<Command>(.*?)</Command>`)
	reTaskArguments = regexp.MustCompile(`(?is)<Arguments>(.*?)</Arguments>`)
	// reStartup is a path inside a user's or all users' Startup folder.
	reStartup = regexp.MustCompile(`(?i)\\start menu\\programs\\startup\\[^\\]+$`)
	// reTaskFile is a task's definition file.
	reTaskFile = regexp.MustCompile(`(?i)^[a-z]:\\windows\\(?:system32\\)?tasks\\`)
	// runnable are extensions of files that run when opened from the
	// Startup folder without a shortcut's indirection.
	runnable = []string{".exe", ".scr", ".com", ".bat", ".cmd", ".ps1", ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".dll", ".cpl"}
)

// taskProcessFindings flags scheduled tasks created from a command line
// (schtasks /create, Register-ScheduledTask): high when the task runs
// something suspect or an Office or script host created it, else medium.
func taskProcessFindings(procs []*proc) []Finding {
	var fs []Finding
	for _, p := range procs {
		if !reTaskCreate.MatchString(p.CommandLine) {
			continue
		}
		// The program itself (powershell for Register-ScheduledTask) does not
		// count: what the task runs does.
		_, args, _ := strings.Cut(strings.TrimSpace(p.CommandLine), " ")
		sev := pdk.SeverityMedium
		if suspicious(strings.ToLower(args)) || nameIn(p.parentName(), officeAndScriptHosts) {
			sev = pdk.SeverityHigh
		}
		fs = append(fs, Finding{Severity: sev, Rule: RuleScheduledTask,
			What:     fmt.Sprintf("A scheduled task created from the command line by %s", p.Name),
			Evidence: []string{procEvidence(p)}})
	}
	return mergeFindings(fs)
}

// persistenceFindings applies the scheduled-task, Startup-folder and WMI
// rules to events: the persistence events the plugin searched for
// (persistenceEvents) and the collection's file changes. Deletions are
// ignored.
func persistenceFindings(events, files []pdk.Event) []Finding {
	var fs []Finding
	for _, e := range events {
		if f, ok := taskOrWMIFinding(e); ok {
			fs = append(fs, f)
		}
	}
	for _, e := range files {
		if f, ok := fileFinding(e); ok {
			fs = append(fs, f)
		}
	}
	return mergeFindings(fs)
}

// taskOrWMIFinding judges one Security 4698 or Sysmon 19–21 event.
func taskOrWMIFinding(e pdk.Event) (Finding, bool) {
	user := str(e, "user.name", "SubjectUserName", "winlog.event_data.SubjectUserName", "User")
	by := ""
	if user != "" {
		by = " by " + user
	}
	switch str(e, "event.code", "EventID", "winlog.event_id") {
	case "4698":
		name := str(e, "TaskName", "winlog.event_data.TaskName")
		content := html.UnescapeString(str(e, "TaskContent", "winlog.event_data.TaskContent"))
		action := ""
		if m := reTaskCommand.FindStringSubmatch(content); m != nil {
			action = strings.TrimSpace(m[1])
			if a := reTaskArguments.FindStringSubmatch(content); a != nil {
				action += " " + strings.TrimSpace(a[1])
			}
		}
		low := strings.ToLower(action)
		sev := pdk.SeverityMedium
		switch {
		case suspicious(low):
			sev = pdk.SeverityHigh
		case strings.HasPrefix(strings.ToLower(name), `\microsoft\`) && (action == "" || installed(strings.Trim(low, `"`))):
			sev = pdk.SeverityLow // Windows' own tasks
		}
		what := "Scheduled task " + name + " created" + by
		detail := "task " + name
		if action != "" {
			what += " to run " + code(clip(action, 160))
			detail += " runs " + clip(action, 200)
		}
		return Finding{Severity: sev, Rule: RuleScheduledTask, What: what, Evidence: []string{eventEvidence(e, detail)}}, true
	case "19", "20", "21":
		op := strings.ToLower(str(e, "Operation", "winlog.event_data.Operation"))
		if strings.Contains(op, "delet") {
			return Finding{}, false
		}
		name := str(e, "Name", "winlog.event_data.Name")
		sev, what, detail := pdk.SeverityMedium, "", ""
		switch str(e, "event.code", "EventID", "winlog.event_id") {
		case "19":
			q := str(e, "Query", "winlog.event_data.Query")
			what = fmt.Sprintf("WMI event filter %s created%s", name, by)
			detail = "filter " + name + ": " + clip(q, 200)
		case "20":
			dest := str(e, "Destination", "winlog.event_data.Destination")
			typ := str(e, "Type", "winlog.event_data.Type")
			sev = pdk.SeverityHigh // a consumer runs code when its filter fires
			what = fmt.Sprintf("WMI event consumer %s (%s) created%s", name, typ, by)
			if dest != "" {
				what += " to run " + code(clip(dest, 160))
			}
			detail = "consumer " + name + ": " + clip(dest, 200)
		case "21":
			consumer := str(e, "Consumer", "winlog.event_data.Consumer")
			filter := str(e, "Filter", "winlog.event_data.Filter")
			sev = pdk.SeverityHigh // a binding makes the subscription live
			what = fmt.Sprintf("WMI subscription bound%s: %s → %s", by, filter, consumer)
			detail = "binding " + filter + " → " + consumer
		}
		return Finding{Severity: sev, Rule: RuleWMI, What: what, Evidence: []string{eventEvidence(e, detail)}}, true
	}
	return Finding{}, false
}

// fileFinding judges one file change of the collection: a file created in a
// Startup folder, or a task definition written by something other than the
// Task Scheduler service.
func fileFinding(e pdk.Event) (Finding, bool) {
	path := str(e, "file.path", "TargetFilename", "winlog.event_data.TargetFilename")
	typ := strings.ToLower(str(e, "event.type", "event.action"))
	id := str(e, "event.code", "EventID")
	if path == "" || strings.Contains(typ, "delet") || id == "23" || id == "26" {
		return Finding{}, false
	}
	writer := baseName(str(e, "process.name", "process.executable", "Image"))
	by := ""
	if writer != "" {
		by = " by " + writer
	}
	low := strings.ToLower(path)
	switch {
	case reStartup.MatchString(path):
		sev := pdk.SeverityMedium
		for _, ext := range runnable {
			if strings.HasSuffix(low, ext) {
				sev = pdk.SeverityHigh
			}
		}
		if nameIn(writer, suspiciousWriters) || suspicious(low) {
			sev = pdk.SeverityHigh
		}
		return Finding{Severity: sev, Rule: RuleStartupFolder,
			What:     "Startup-folder persistence: " + path + " created" + by,
			Evidence: []string{eventEvidence(e, path+" created"+by)}}, true
	case reTaskFile.MatchString(path) && !strings.EqualFold(writer, "svchost.exe"):
		sev := pdk.SeverityMedium
		if nameIn(writer, suspiciousWriters) {
			sev = pdk.SeverityHigh
		}
		return Finding{Severity: sev, Rule: RuleScheduledTask,
			What:     "Scheduled task file " + path + " written" + by + ", not by the Task Scheduler service",
			Evidence: []string{eventEvidence(e, path+" written"+by)}}, true
	}
	return Finding{}, false
}
