// Command alert-intake is an lhk plugin that receives SIEM alerts on a signed
// webhook (POST /hooks/alert-intake), opens or updates one ticket per alert
// and hands the investigation to endpoint-triage.
//
// Input: the SIEM's alert, a JSON object. Its fields are found by common
// names (see alert.go): id (alert_id, uuid…), rule (title, name,
// search_name, rule.name…), severity (level, priority, risk_score…),
// tenant (customer, org…), host (hostname, computer, host.name…), user,
// src_ip, dst_ip, domain, url, hash, time (@timestamp, _time…) and raw;
// nested objects (Elastic's "host":{"name":…}, Splunk's "result":{…}) are
// read too. A body that is not a JSON object, or an alert without a tenant or
// a host, fails the invocation with a message saying so (HTTP 422).
//
// De-duplication: an alert with an id opens a ticket whose external_key is
// the id; a second delivery of that id finds the ticket (tickets_search by
// external key) and comments on it instead. An alert without an id joins an
// open ticket of the same rule and host.
//
// Output: {"ticket","tenant","created","duplicate","triage_invocation",
// "triage_error","summary"}. A new ticket starts endpoint-triage with
// {"ticket","tenant"} (pdk.Plugins.Start); a failure to start is logged and
// reported in triage_error, not fatal.
//
// Capabilities: tickets.read, tickets.write, plugins.invoke.
//
// Config: triage_plugin (default "endpoint-triage"; "none" starts nothing),
// default_tenant (the tenant of alerts without one, for a SIEM serving one
// tenant).
package main

func main() {}
