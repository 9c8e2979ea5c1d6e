// Command filter-upkeep is an lhk plugin that looks after a tenant's analysis
// filters, the conditions that mark known noise so analysts do not see it.
//
// For each tenant it:
//   - lists the filters past their expiry date, and deletes them only when
//     the config says delete_expired=true (by default it reports them: an
//     expired filter already suppresses nothing, and its owner may want to
//     renew it);
//   - lists the active filters that matched no event in the last stale_days
//     days (from the filters' statistics over that window);
//   - proposes suppressions for the noisiest benign patterns not covered by a
//     filter: the most frequent pairs such as (host.name, process.name) or
//     (event.code, user.target.name) whose events show no detection marker
//     (encoded PowerShell, a child of an Office program, credential-dumping
//     tools, a Run key, a cleared audit log, a new service) and whose host or
//     user showed none either. Each proposal has field-search conditions a
//     person can paste into a filter, the event count and why. The plugin
//     never creates or changes a filter.
//
// It then sends one notification per tenant with findings to a channel.
//
// Input: JSON {"tenant": "acme", "stale_days": 30}; "tenant" "*" (or absent)
// means every tenant of the plugin's grant; stale_days defaults to 30.
//
// Output: JSON {"tenants", "expired", "stale", "proposals", "withheld",
// "errors", "summary"} where summary is Markdown.
//
// Capabilities: logs.read, filters.read, notify.send, and filters.write only
// with delete_expired=true.
//
// Config: channel (default "soc"; a missing channel is logged, not fatal),
// delete_expired (default false), max_proposals (default 5), min_share (the
// least share of the window's events, in percent, a pattern must have to be
// proposed; default 1), min_events (default 100), expire_days (the expiry
// proposed for new filters, default 90).
package main

func main() {}
