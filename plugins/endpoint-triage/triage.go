package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Input is what the plugin is asked to triage: a host around a time, or a
// ticket.
type Input struct {
	Tenant        string    `json:"tenant"`
	Host          string    `json:"host"`
	Time          time.Time `json:"time"`
	WindowMinutes int       `json:"window_minutes"`
	Ticket        string    `json:"ticket"`
}

// Config holds the plugin's configuration with its defaults applied.
type Config struct {
	IOCs          []string      // indicators to flag: IPs, domains, hashes
	Window        time.Duration // half of the triage window
	CollectLimit  int           // events per section of the collection
	BeaconMin     int           // connections to one address before timing is judged
	BeaconJitter  float64       // how far an interval may stray from the median, as a fraction
	RareHosts     int           // a destination seen from at most this many hosts is rare
	MaxLookups    int           // asset lookups to classify logon peers
	LogonSearches int           // log searches for logons from the host's addresses
}

// Limits of the plugin's work.
const (
	// defaultCollectLimit is the events per section collected by default:
	// decoding the collection inside the plugin costs about 1 ms per event,
	// so 500 keeps a busy host's triage near two seconds.
	defaultCollectLimit = 500

	maxWindow          = 24 * time.Hour
	maxBeaconProbes    = 5   // prevalence counts per triage
	maxOutboundLogons  = 200 // logon events read per address of the host
	maxEvidence        = 10  // evidence entries kept per finding
	prevalenceLookback = 24 * time.Hour
	maxLogonHistory    = 20  // logon histories counted per triage
	maxBeaconFetches   = 3   // destinations whose connections are read again on a busy host
	beaconFetchLimit   = 150 // connections read per such destination
	logonLookback      = 7 * 24 * time.Hour
)

// DefaultConfig is the configuration without any key set.
func DefaultConfig() Config {
	return Config{Window: time.Hour, CollectLimit: defaultCollectLimit, BeaconMin: 8, BeaconJitter: 0.25,
		RareHosts: 2, MaxLookups: 8, LogonSearches: 2}
}

// ParseConfig reads the configuration through get (pdk.Config in the plugin).
// A malformed value is an error naming the key.
func ParseConfig(get func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	if v, ok := get("iocs"); ok {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' }) {
			c.IOCs = append(c.IOCs, strings.ToLower(strings.TrimSpace(s)))
		}
	}
	ints := []struct {
		key      string
		dst      *int
		min, max int
	}{
		{"collect_limit", &c.CollectLimit, 1, pdk.MaxLogLimit},
		{"beacon_min", &c.BeaconMin, 3, 10000},
		{"rare_hosts", &c.RareHosts, 1, 10000},
	}
	for _, it := range ints {
		v, ok := get(it.key)
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < it.min || n > it.max {
			return c, fmt.Errorf("config %s=%q: want an integer from %d to %d", it.key, v, it.min, it.max)
		}
		*it.dst = n
	}
	if v, ok := get("window_minutes"); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || time.Duration(n)*time.Minute > maxWindow {
			return c, fmt.Errorf("config window_minutes=%q: want minutes from 1 to %d", v, int(maxWindow/time.Minute))
		}
		c.Window = time.Duration(n) * time.Minute
	}
	if v, ok := get("beacon_jitter"); ok && strings.TrimSpace(v) != "" {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f <= 0 || f >= 1 {
			return c, fmt.Errorf("config beacon_jitter=%q: want a fraction between 0 and 1", v)
		}
		c.BeaconJitter = f
	}
	return c, nil
}

// ParseInput decodes the plugin's input.
func ParseInput(b []byte) (Input, error) {
	var in Input
	if len(strings.TrimSpace(string(b))) == 0 {
		return in, errors.New(`input is empty: want {"tenant","host","time","window_minutes"} or {"ticket","tenant"}`)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return in, fmt.Errorf(`input is not {"tenant","host","time","window_minutes"} or {"ticket","tenant"}: %w`, err)
	}
	in.Tenant, in.Host, in.Ticket = strings.TrimSpace(in.Tenant), strings.TrimSpace(in.Host), strings.TrimSpace(in.Ticket)
	switch {
	case in.WindowMinutes < 0 || time.Duration(in.WindowMinutes)*time.Minute > maxWindow:
		return in, fmt.Errorf("window_minutes must be from 1 to %d, got %d", int(maxWindow/time.Minute), in.WindowMinutes)
	case in.Ticket == "" && in.Host == "":
		return in, errors.New(`input needs "host" (with "tenant") or "ticket"`)
	case in.Ticket == "" && in.Tenant == "":
		return in, errors.New(`input needs "tenant" with "host"`)
	}
	return in, nil
}

// Finding is one flagged behaviour with what shows it.
type Finding struct {
	Severity    string           `json:"severity"`
	Rule        string           `json:"rule"`
	What        string           `json:"what"`
	Evidence    []string         `json:"evidence"`
	Observables []pdk.Observable `json:"observables"`
}

// Output is the plugin's result.
type Output struct {
	Tenant    string         `json:"tenant"`
	Host      string         `json:"host"`
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Ticket    string         `json:"ticket,omitempty"`
	Asset     *pdk.Asset     `json:"asset"`
	Findings  []Finding      `json:"findings"`
	Sweeps    []Sweep        `json:"sweeps"`
	Counts    map[string]int `json:"counts"`
	Truncated bool           `json:"truncated"`
	Notes     []string       `json:"notes"`
	Summary   string         `json:"summary"`
}

// arrays makes every list of the output an empty list rather than null,
// so clients can always iterate.
func (o *Output) arrays() {
	if o.Findings == nil {
		o.Findings = []Finding{}
	}
	for i := range o.Findings {
		f := &o.Findings[i]
		if f.Evidence == nil {
			f.Evidence = []string{}
		}
		if f.Observables == nil {
			f.Observables = []pdk.Observable{}
		}
	}
	if o.Sweeps == nil {
		o.Sweeps = []Sweep{}
	}
	for i := range o.Sweeps {
		if o.Sweeps[i].Hosts == nil {
			o.Sweeps[i].Hosts = []HostCount{}
		}
	}
	if o.Notes == nil {
		o.Notes = []string{}
	}
	if a := o.Asset; a != nil {
		if a.IPs == nil {
			a.IPs = []string{}
		}
		if a.Tags == nil {
			a.Tags = []string{}
		}
	}
}

// Systems is what the triage needs from the daemon; the plugin passes the
// PDK's systems, tests a fake.
type Systems interface {
	Grant() (*pdk.Grant, error)
	GetTicket(tenant, id string) (*pdk.Ticket, error)
	CommentTicket(tenant, id, body string) (*pdk.Ticket, error)
	UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error)
	LookupAsset(tenant, host string) (*pdk.Asset, error)
	Collect(req pdk.CollectRequest) (*pdk.Collection, error)
	Search(req pdk.SearchRequest) (*pdk.SearchResult, error)
	SearchFields(req pdk.FieldSearchRequest) (*pdk.SearchResult, error)
	Top(req pdk.TopRequest) (*pdk.TopResult, error)
	Count(req pdk.CountRequest) (*pdk.CountResult, error)
	Logf(level pdk.Level, format string, args ...any)
}

// Triage runs the whole investigation step: resolve the target, collect,
// apply the rules, and report on the ticket when there is one. now is the
// default time.
func Triage(sys Systems, in Input, cfg Config, now time.Time) (*Output, error) {
	var ticket *pdk.Ticket
	if in.Ticket != "" {
		t, err := findTicket(sys, in.Tenant, in.Ticket)
		if err != nil {
			return nil, err
		}
		ticket, in.Tenant = t, t.Tenant
		if in.Host == "" {
			h, err := ticketHost(sys, t)
			if err != nil {
				return nil, err
			}
			in.Host = h
		}
		if in.Time.IsZero() {
			in.Time = ticketTime(t)
		}
	}
	if in.Time.IsZero() {
		in.Time = now
	}
	window := cfg.Window
	if in.WindowMinutes > 0 {
		window = time.Duration(in.WindowMinutes) * time.Minute
	}
	out := &Output{Tenant: in.Tenant, Host: in.Host, From: in.Time.Add(-window).UTC(), To: in.Time.Add(window).UTC(),
		Findings: []Finding{}, Sweeps: []Sweep{}, Counts: map[string]int{}, Notes: []string{}}
	if ticket != nil {
		out.Ticket = ticket.ID
	}
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		out.Notes = append(out.Notes, msg)
		sys.Logf(pdk.LevelWarn, "%s", msg)
	}

	var timings []string
	lap := time.Now()
	stage := func(name string) {
		now := time.Now()
		timings = append(timings, fmt.Sprintf("%s %s", name, now.Sub(lap).Round(time.Millisecond)))
		lap = now
	}
	defer func() { sys.Logf(pdk.LevelInfo, "timings: %s", strings.Join(timings, ", ")) }()

	assets := newAssetCache(sys, in.Tenant, cfg.MaxLookups, note)
	out.Asset = assets.lookup(in.Host)
	stage("asset")

	col, err := sys.Collect(pdk.CollectRequest{Tenant: in.Tenant, Host: in.Host, From: out.From, To: out.To, Limit: cfg.CollectLimit})
	if err != nil {
		return nil, fmt.Errorf("collect telemetry of %q in %s: %w", in.Host, in.Tenant, err)
	}
	out.Truncated = col.Truncated
	if col.Truncated {
		note("some sections of the collection hit the limit of %d events; the newest are analysed", cfg.CollectLimit)
	}
	stage("collect")
	procs := flatten(col.Processes)
	out.Counts["processes"] = len(procs)
	out.Counts["network"] = len(col.Network)
	out.Counts["logons"] = len(col.Logons)
	out.Counts["files"] = len(col.Files)
	out.Counts["registry"] = len(col.Registry)

	// Persistence the collection does not hold: scheduled tasks (4698) and
	// WMI subscriptions (Sysmon 19–21).
	persist := persistenceEvents(sys, in.Tenant, in.Host, out.From, out.To, note)
	out.Counts["persistence"] = len(persist)
	stage("persistence search")

	// The indicators (config iocs, the ticket's observables) in the whole
	// tenant's logs, by free text.
	ips := hostIPs(out.Asset, col.Network, cfg.LogonSearches)
	out.Sweeps = sweep(sys, in.Tenant, in.Host, ips, sweepIndicators(cfg.IOCs, ticket), out.From, out.To, note)
	stage("sweep")

	// Processes, registry, files, indicators.
	var fs []Finding
	fs = append(fs, processFindings(procs)...)
	fs = append(fs, taskProcessFindings(procs)...)
	fs = append(fs, registryFindings(col.Registry, procs)...)
	fs = append(fs, persistenceFindings(persist, col.Files)...)
	fs = append(fs, iocFindings(cfg.IOCs, col, procs, sweptOnHost(out.Sweeps, col))...)
	fs = append(fs, sweepFindings(out.Sweeps, in.Host)...)

	stage("rules")

	// Beaconing: judge timing locally, then ask the logs how common each
	// candidate destination is in the tenant.
	cands := beaconCandidates(col.Network, cfg)
	if len(col.Network) >= cfg.CollectLimit {
		// A busy host: the newest connections cover too short a time to
		// show a beat. Count connections by destination over the whole
		// window and read the timing of the busiest external ones.
		cands = append(cands, busyBeacons(sys, in.Tenant, col.Network, cands, out.From, out.To, cfg, note)...)
	}
	if len(cands) > maxBeaconProbes {
		note("%d beaconing candidates; prevalence checked for the %d most regular", len(cands), maxBeaconProbes)
	}
	for i := range cands {
		cands[i].Hosts = -1
		if i >= maxBeaconProbes {
			continue
		}
		top, err := sys.Top(pdk.TopRequest{Tenant: in.Tenant, Field: "host.name",
			Fields: []pdk.Condition{pdk.Eq("destination.ip", cands[i].IP)},
			From:   out.To.Add(-prevalenceLookback), To: out.To, Limit: cfg.RareHosts + 1})
		if err != nil {
			note("prevalence of %s: %v", cands[i].IP, err)
			continue
		}
		cands[i].Hosts = len(top.Buckets)
	}
	fs = append(fs, beaconFindings(cands, cfg)...)
	stage("beaconing")

	// Lateral movement: logons on this host, and logons elsewhere from its
	// addresses.
	logons := slices.Clone(col.Logons)
	for _, ip := range ips {
		res, err := sys.SearchFields(pdk.FieldSearchRequest{Tenant: in.Tenant,
			Fields: []pdk.Condition{pdk.Eq("event.category", "authentication"), pdk.Eq("source.ip", ip)},
			From:   out.From, To: out.To, Limit: maxOutboundLogons})
		if err != nil {
			note("logons from %s: %v", ip, err)
			continue
		}
		if res.Truncated {
			note("more than %d logons from %s; the newest are analysed", maxOutboundLogons, ip)
		}
		logons = append(logons, res.Events...)
	}
	out.Counts["logons_from_host"] = len(logons) - len(col.Logons)
	stage("logon search")
	hostHigh := slices.ContainsFunc(fs, func(f Finding) bool { return f.Severity == pdk.SeverityHigh })
	lats := lateralCandidates(in.Host, out.Asset, ips, logons, assets.lookup)
	checked := 0
	for _, l := range lats {
		if l.SrcIP == "" || checked == maxLogonHistory {
			continue
		}
		checked++
		n, err := sys.Count(pdk.CountRequest{Tenant: in.Tenant,
			Fields: []pdk.Condition{pdk.Eq("event.code", "4624"), pdk.Eq("host.name", l.DstName), pdk.Eq("source.ip", l.SrcIP)},
			From:   out.From.Add(-logonLookback), To: out.From})
		if err != nil {
			note("logon history of %s to %s: %v", l.SrcIP, l.DstName, err)
			continue
		}
		l.Before = int(n.Count)
	}
	fs = append(fs, lateralFindings(lats, hostHigh)...)
	stage("lateral")

	sortFindings(fs)
	out.Findings = fs
	out.arrays()
	for _, f := range fs {
		out.Counts["findings_"+f.Severity]++
	}
	out.Summary = Markdown(out)

	if ticket != nil {
		if _, err := sys.CommentTicket(in.Tenant, ticket.ID, out.Summary); err != nil {
			return out, fmt.Errorf("comment triage on ticket %s: %w", ticket.ID, err)
		}
		if obs := findingObservables(fs); len(obs) > 0 {
			if _, err := sys.UpdateTicket(in.Tenant, ticket.ID, pdk.TicketUpdate{AddObservables: obs}); err != nil {
				return out, fmt.Errorf("add %d observables to ticket %s: %w", len(obs), ticket.ID, err)
			}
		}
	}
	return out, nil
}

// busyBeacons finds beaconing candidates beyond the collection on a busy
// host: the host's external destinations with at least cfg.BeaconMin
// connections in the window (logs_top), of which the busiest
// maxBeaconFetches not already judged from the collection have their newest
// beaconFetchLimit connections read and judged.
func busyBeacons(sys Systems, tenant string, network []pdk.Event, known []Beacon, from, to time.Time, cfg Config, note func(string, ...any)) []Beacon {
	hostName := ""
	for _, e := range network {
		if hostName = str(e, "host.name"); hostName != "" {
			break
		}
	}
	if hostName == "" {
		return nil
	}
	top, err := sys.Top(pdk.TopRequest{Tenant: tenant, Field: "destination.ip", Fields: []pdk.Condition{pdk.Eq("host.name", hostName)},
		From: from, To: to, Limit: pdk.MaxTopBuckets})
	if err != nil {
		note("connections of %s by destination: %v", hostName, err)
		return nil
	}
	// Destinations the collection already holds enough connections of were
	// judged there.
	seen := map[string]int{}
	for _, e := range network {
		seen[str(e, "destination.ip")]++
	}
	var out []Beacon
	fetched := 0
	for _, bk := range top.Buckets {
		ip, err := netip.ParseAddr(bk.Value)
		if err != nil || !external(ip) || bk.Count < int64(cfg.BeaconMin) || seen[ip.String()] >= cfg.BeaconMin ||
			slices.ContainsFunc(known, func(b Beacon) bool { return b.IP == ip.String() }) {
			continue
		}
		if fetched == maxBeaconFetches {
			note("more destinations with %d+ connections than the %d whose timing was read", cfg.BeaconMin, maxBeaconFetches)
			break
		}
		fetched++
		res, err := sys.SearchFields(pdk.FieldSearchRequest{Tenant: tenant,
			Fields: []pdk.Condition{pdk.Eq("host.name", hostName), pdk.Eq("destination.ip", ip.String())},
			From:   from, To: to, Limit: beaconFetchLimit})
		if err != nil {
			note("connections of %s to %s: %v", hostName, ip, err)
			continue
		}
		out = append(out, beaconCandidates(res.Events, cfg)...)
	}
	return out
}

// findTicket reads the ticket from tenant, or from each granted tenant when
// tenant is empty.
func findTicket(sys Systems, tenant, id string) (*pdk.Ticket, error) {
	if tenant != "" {
		t, err := sys.GetTicket(tenant, id)
		if err != nil {
			return nil, fmt.Errorf("read ticket %s of %s: %w", id, tenant, err)
		}
		return t, nil
	}
	g, err := sys.Grant()
	if err != nil {
		return nil, fmt.Errorf("read the grant to find ticket %s: %w", id, err)
	}
	if g.AllTenants() {
		return nil, fmt.Errorf(`ticket %s: the grant covers every tenant, so name the ticket's "tenant"`, id)
	}
	for _, tn := range g.Tenants {
		t, err := sys.GetTicket(tn, id)
		if err == nil {
			return t, nil
		}
		if !pdk.IsNotFound(err) && !pdk.IsForbidden(err) {
			return nil, fmt.Errorf("read ticket %s of %s: %w", id, tn, err)
		}
	}
	return nil, fmt.Errorf("ticket %s: not found in the granted tenants %v", id, g.Tenants)
}

// ticketHost picks the host to triage from a ticket: its first host
// observable, else the asset owning its first internal ip observable (or the
// address itself when the inventory has none).
func ticketHost(sys Systems, t *pdk.Ticket) (string, error) {
	for _, o := range t.Observables {
		if o.Type == pdk.ObservableHost && strings.TrimSpace(o.Value) != "" {
			return strings.TrimSpace(o.Value), nil
		}
	}
	var ips []string
	for _, o := range t.Observables {
		if o.Type == pdk.ObservableIP {
			if a, err := netip.ParseAddr(strings.TrimSpace(o.Value)); err == nil {
				if a.IsPrivate() {
					ips = slices.Insert(ips, 0, a.String())
				} else {
					ips = append(ips, a.String())
				}
			}
		}
	}
	for _, ip := range ips {
		a, err := sys.LookupAsset(t.Tenant, ip)
		if err == nil {
			return a.Name, nil
		}
		if !pdk.IsNotFound(err) {
			sys.Logf(pdk.LevelWarn, "asset lookup of %s: %v", ip, err)
		}
	}
	if len(ips) > 0 {
		return ips[0], nil
	}
	return "", fmt.Errorf(`ticket %s has no host or ip observable: pass "host" in the input`, t.ID)
}

// reTicketTime finds "time: <RFC 3339>" in a ticket's description, with
// Markdown decoration allowed around the label ("**Time**: `…`").
var reTicketTime = regexp.MustCompile("(?im)\\btime\\W{0,6}:\\W{0,4}(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:\\.\\d+)?(?:Z|[+-]\\d\\d:\\d\\d))")

// ticketTime is when a ticket's activity happened: a "time:" line of the
// description, else its creation.
func ticketTime(t *pdk.Ticket) time.Time {
	if m := reTicketTime.FindStringSubmatch(t.Description); m != nil {
		if ts, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
			return ts
		}
	}
	return t.CreatedAt
}

// hostIPs returns up to n internal addresses of the host: its inventoried
// ones, else the most frequent internal source addresses of its connections.
func hostIPs(a *pdk.Asset, network []pdk.Event, n int) []string {
	var out []string
	if a != nil {
		for _, s := range a.IPs {
			if ip, err := netip.ParseAddr(s); err == nil && !ip.IsLoopback() {
				out = append(out, ip.String())
			}
		}
	}
	if len(out) == 0 {
		counts := map[string]int{}
		for _, e := range network {
			if ip, err := netip.ParseAddr(e.String("source.ip")); err == nil && ip.IsPrivate() {
				counts[ip.String()]++
			}
		}
		for ip := range counts {
			out = append(out, ip)
		}
		slices.SortFunc(out, func(a, b string) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a, b)) })
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// assetCache looks up assets at most max times per triage.
type assetCache struct {
	sys    Systems
	tenant string
	left   int
	seen   map[string]*pdk.Asset
	note   func(string, ...any)
	warned bool
}

func newAssetCache(sys Systems, tenant string, max int, note func(string, ...any)) *assetCache {
	return &assetCache{sys: sys, tenant: tenant, left: max + 1, seen: map[string]*pdk.Asset{}, note: note}
}

// lookup returns the asset named or addressed by host, nil when unknown or
// when the lookup budget is spent.
func (c *assetCache) lookup(host string) *pdk.Asset {
	key := strings.ToLower(host)
	if a, ok := c.seen[key]; ok {
		return a
	}
	if c.left == 0 {
		return nil
	}
	c.left--
	a, err := c.sys.LookupAsset(c.tenant, host)
	if err != nil {
		a = nil
		if !pdk.IsNotFound(err) && !c.warned {
			c.warned = true
			c.note("asset lookup of %s: %v", host, err)
		}
	}
	c.seen[key] = a
	return a
}

// severityRank orders severities, most severe first.
func severityRank(s string) int {
	switch s {
	case pdk.SeverityCritical:
		return 0
	case pdk.SeverityHigh:
		return 1
	case pdk.SeverityMedium:
		return 2
	}
	return 3
}

// sortFindings orders findings by severity, then rule, then description.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(severityRank(a.Severity)-severityRank(b.Severity), strings.Compare(a.Rule, b.Rule), strings.Compare(a.What, b.What))
	})
}

// findingObservables collects the findings' observables, once each.
func findingObservables(fs []Finding) []pdk.Observable {
	var out []pdk.Observable
	seen := map[pdk.Observable]bool{}
	for _, f := range fs {
		for _, o := range f.Observables {
			o.Value = strings.ToLower(o.Value)
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	return out
}
