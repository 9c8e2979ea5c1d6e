package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Alert is a SIEM alert in the plugin's terms.
type Alert struct {
	ID          string
	Rule        string
	Severity    string // low, medium, high or critical
	RawSeverity string // as the SIEM sent it
	Tenant      string
	Host        string
	User        string
	SrcIP       string
	DstIP       string
	Domain      string
	URL         string
	Hash        string
	Time        time.Time
	Raw         string // the "raw" field, or the whole alert
}

// aliases lists, for each field of Alert, the names SIEMs use for it, lower
// case and most specific first. Nested objects are flattened with dots.
var aliases = map[string][]string{
	"id":       {"id", "alert_id", "alertid", "alert.id", "alert.uuid", "uuid", "kibana.alert.uuid", "incident_id", "systemalertid", "_id"},
	"rule":     {"rule", "rule.name", "rule_name", "rulename", "title", "alert.name", "alert_name", "alertname", "name", "search_name", "kibana.alert.rule.name", "signature", "detection"},
	"severity": {"severity", "rule.severity", "alert.severity", "kibana.alert.severity", "severity_label", "level", "rule.level", "priority", "urgency", "event.severity", "risk_score", "riskscore", "kibana.alert.risk_score"},
	"tenant":   {"tenant", "tenant.name", "tenant_id", "customer", "customer.name", "org", "organization", "organization.name", "organisation", "client"},
	"host":     {"host", "host.name", "hostname", "host_name", "host.hostname", "computer", "computer_name", "computername", "device", "device_name", "devicename", "dest_host", "dvc_host", "agent.hostname", "endpoint"},
	"user":     {"user", "user.name", "username", "user_name", "account", "account_name", "src_user"},
	"src_ip":   {"src_ip", "source_ip", "srcip", "source.ip", "source_address", "src", "client_ip"},
	"dst_ip":   {"dst_ip", "dest_ip", "destination_ip", "dstip", "destination.ip", "destination_address", "dest", "dst", "remote_ip"},
	"domain":   {"domain", "destination.domain", "url.domain", "dns.question.name", "dest_domain", "fqdn", "query"},
	"url":      {"url", "url.full", "url.original", "uri"},
	"hash":     {"hash", "sha256", "file.hash.sha256", "process.hash.sha256", "file_hash", "filehash", "sha1", "file.hash.sha1", "md5", "file.hash.md5"},
	"time":     {"time", "@timestamp", "timestamp", "_time", "event_time", "eventtime", "kibana.alert.original_time", "detected_at", "first_seen", "start_time", "created_at", "date"},
	"raw":      {"raw", "_raw", "message"},
}

// maxRaw bounds the raw alert kept in a ticket's description.
const maxRaw = 4096

// ParseAlert reads a SIEM alert. A body that is not a JSON object is an
// error; a missing tenant or host is not (Intake checks them, after config).
func ParseAlert(body []byte) (Alert, error) {
	var a Alert
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return a, errors.New("the alert is empty: send the SIEM alert as a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return a, fmt.Errorf("the alert is not valid JSON: %w", err)
	}
	if d.More() {
		return a, errors.New("the alert is not valid JSON: more than one value in the body")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return a, fmt.Errorf("the alert must be a JSON object, got a JSON %s", kind(v))
	}
	flat := map[string]any{}
	flatten("", obj, flat)
	get := func(field string) string {
		for _, prefix := range []string{"", "result.", "alert.", "data."} {
			for _, k := range aliases[field] {
				if s := scalar(flat[prefix+k]); s != "" {
					return s
				}
			}
		}
		return ""
	}
	a.ID, a.Rule, a.Tenant, a.Host, a.User = get("id"), get("rule"), get("tenant"), get("host"), get("user")
	a.Domain, a.URL, a.Hash = strings.ToLower(get("domain")), get("url"), strings.ToLower(get("hash"))
	a.SrcIP, a.DstIP = ipOrEmpty(get("src_ip")), ipOrEmpty(get("dst_ip"))
	a.RawSeverity = get("severity")
	a.Severity = MapSeverity(a.RawSeverity)
	if t := get("time"); t != "" {
		a.Time = parseTime(t)
	}
	if a.Raw = get("raw"); a.Raw == "" {
		if r, ok := flat["raw"]; ok { // an object or list under "raw"
			b, _ := json.Marshal(r)
			a.Raw = string(b)
		} else {
			a.Raw = string(body)
		}
	}
	if len(a.Raw) > maxRaw {
		a.Raw = a.Raw[:maxRaw] + "…"
	}
	return a, nil
}

// kind names a JSON value's type for error messages.
func kind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}

// flatten copies obj into out with lower-case dotted keys. Objects inside
// lists are not entered; a list of scalars stays a list.
func flatten(prefix string, obj map[string]any, out map[string]any) {
	for k, v := range obj {
		key := prefix + strings.ToLower(k)
		if m, ok := v.(map[string]any); ok {
			flatten(key+".", m, out)
			if key == "raw" {
				out[key] = m
			}
			continue
		}
		if _, seen := out[key]; !seen || prefix == "" {
			out[key] = v
		}
	}
}

// scalar formats a string or a number, or the first of a list of them.
func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case []any:
		for _, x := range v {
			if s := scalar(x); s != "" {
				return s
			}
		}
	}
	return ""
}

// ipOrEmpty returns an address in canonical form, or "" when s is not one.
func ipOrEmpty(s string) string {
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		if ap, err := netip.ParseAddrPort(s); err == nil {
			return ap.Addr().String()
		}
		return ""
	}
	return ip.String()
}

// parseTime reads RFC 3339, or Unix seconds or milliseconds; the zero time
// when it can do neither.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return time.Time{}
	}
	if f > 1e12 { // milliseconds
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// MapSeverity maps a SIEM's severity to a ticket severity. Words:
// critical/severe/urgent/emergency/fatal → critical, high/error/major →
// high, medium/moderate/warning → medium, low/info/informational/minor →
// low; P1–P4 and sev1–sev4 count down from critical. Numbers are scores where
// higher is worse: on 0–10 (≤ 10) ≥ 9 critical, ≥ 7 high, ≥ 4 medium; on
// 0–100 ≥ 90 critical, ≥ 70 high, ≥ 40 medium; below, low. Anything else
// (or nothing) is medium.
func MapSeverity(s string) string {
	w := strings.ToLower(strings.TrimSpace(s))
	switch w {
	case "critical", "crit", "severe", "urgent", "emergency", "fatal", "p1", "sev1", "sev-1":
		return pdk.SeverityCritical
	case "high", "error", "major", "important", "p2", "sev2", "sev-2":
		return pdk.SeverityHigh
	case "medium", "med", "moderate", "warning", "warn", "p3", "sev3", "sev-3":
		return pdk.SeverityMedium
	case "low", "info", "informational", "information", "minor", "notice", "debug", "p4", "p5", "sev4", "sev-4", "sev5":
		return pdk.SeverityLow
	}
	f, err := strconv.ParseFloat(w, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return pdk.SeverityMedium
	}
	if f > 10 {
		f /= 10
	}
	switch {
	case f >= 9:
		return pdk.SeverityCritical
	case f >= 7:
		return pdk.SeverityHigh
	case f >= 4:
		return pdk.SeverityMedium
	}
	return pdk.SeverityLow
}

// Title is the ticket title of an alert: the rule on the host.
func (a Alert) Title() string {
	rule := a.Rule
	if rule == "" {
		rule = "SIEM alert"
	}
	t := rule + " on " + a.Host
	if r := []rune(t); len(r) > 200 {
		t = string(r[:200]) + "…"
	}
	return t
}

// Observables are the alert's indicators as ticket observables: host, user,
// addresses, domain, URL and hash.
func (a Alert) Observables() []pdk.Observable {
	var out []pdk.Observable
	for _, o := range []pdk.Observable{
		{Type: pdk.ObservableHost, Value: a.Host}, {Type: pdk.ObservableUser, Value: a.User},
		{Type: pdk.ObservableIP, Value: a.SrcIP}, {Type: pdk.ObservableIP, Value: a.DstIP},
		{Type: pdk.ObservableDomain, Value: a.Domain}, {Type: pdk.ObservableURL, Value: a.URL},
		{Type: pdk.ObservableHash, Value: a.Hash},
	} {
		if o.Value != "" {
			out = append(out, o)
		}
	}
	return out
}

// Description renders the alert for the ticket. Its "time:" line is what
// endpoint-triage reads as the time to investigate; its opening words
// "SIEM alert" are how the report plugin tells alert tickets apart.
func (a Alert) Description() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIEM alert")
	if a.ID != "" {
		fmt.Fprintf(&b, " `%s`", strings.ReplaceAll(a.ID, "`", "'"))
	}
	fmt.Fprintf(&b, ": %s\n\n", a.Title())
	if !a.Time.IsZero() {
		fmt.Fprintf(&b, "- time: %s\n", a.Time.UTC().Format(time.RFC3339))
	}
	sev := a.Severity
	if a.RawSeverity != "" && !strings.EqualFold(a.RawSeverity, a.Severity) {
		sev += fmt.Sprintf(" (SIEM: %q)", a.RawSeverity)
	}
	fmt.Fprintf(&b, "- severity: %s\n", sev)
	for _, f := range []struct{ k, v string }{{"host", a.Host}, {"user", a.User}, {"source ip", a.SrcIP},
		{"destination ip", a.DstIP}, {"domain", a.Domain}, {"url", a.URL}, {"hash", a.Hash}} {
		if f.v != "" {
			fmt.Fprintf(&b, "- %s: %s\n", f.k, f.v)
		}
	}
	fence := "```"
	for strings.Contains(a.Raw, fence) {
		fence += "`"
	}
	fmt.Fprintf(&b, "\nRaw alert:\n\n%s\n%s\n%s\n", fence, a.Raw, fence)
	return b.String()
}
