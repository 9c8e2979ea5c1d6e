// Command endpoint-triage is an lhk plugin that does the first data collection
// of an endpoint investigation and flags known-bad behaviour with transparent
// rules, so the analyst starts from findings instead of raw telemetry.
//
// Input, one of:
//
//	{"tenant":"acme","host":"ACME-WS-017","time":"2026-11-06T09:00:00Z","window_minutes":60}
//	{"ticket":"<id>","tenant":"acme"}
//
// The window is centred on time: [time−window, time+window) with window
// defaulting to 60 minutes (config window_minutes) and capped at one day; time
// defaults to now. With a ticket, the host comes from the ticket's host
// observable (or an asset lookup of its ip observable) and the time from a
// "time:" line of its description (alert-intake writes one) or else its
// creation; "host" and "time" in the input override both. Without "tenant" the
// ticket is looked for in each tenant of the plugin's grant.
//
// Work: pdk.Endpoints.Collect (process tree, network, logons, file and
// registry changes; at most collect_limit events per section), an asset
// lookup, a field search per event code for the scheduled tasks (Security
// 4698) and WMI subscriptions (Sysmon 19–21) the collection leaves out, a
// free-text search of the tenant for each indicator (the config's iocs and
// the ticket's ip, domain, hash and url observables: the sweep), one field
// search for logons made from each of the host's addresses, a prevalence
// count per beaconing candidate and a few asset lookups to tell workstations
// from servers, all bounded. Rules: encoded-powershell, office-spawns-shell,
// run-key-persistence, service-persistence, scheduled-task-persistence,
// startup-folder-persistence, wmi-persistence, beaconing, lateral-logon,
// ioc-match and indicator-elsewhere (see rules.go, persistence.go,
// sweep.go).
//
// Output: {"tenant","host","from","to","ticket","asset","findings":[{"severity",
// "rule","what","evidence","observables"}],"sweeps":[{"indicator","type",
// "source","query","events","truncated","hosts":[{"host","events"}]}],
// "counts","truncated","notes","summary"}; every list is [] when empty, never
// null. With a ticket, the Markdown summary is added as a comment and the
// findings' observables (C2 IPs and domains, hashes, matched indicators) are
// added to the ticket.
//
// Capabilities: endpoints.read, assets.read, logs.read, and tickets.read and
// tickets.write for the ticket form.
//
// Config: iocs (comma-separated IPs, domains and hashes to flag),
// window_minutes (60), collect_limit (500), beacon_min (8), beacon_jitter
// (0.25), rare_hosts (2).
package main

func main() {}
