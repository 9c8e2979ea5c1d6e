package main

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// RuleIndicatorElsewhere flags a ticket's indicator seen on other hosts of
// the tenant in the window (the free-text sweep).
const RuleIndicatorElsewhere = "indicator-elsewhere"

// Limits of the sweep.
const (
	maxSweeps  = 8   // indicators searched per triage
	sweepLimit = 500 // events read per indicator
	sweepHosts = 10  // hosts listed per indicator
)

// Sources of a swept indicator.
const (
	SourceConfig = "config" // the config key iocs: known bad
	SourceTicket = "ticket" // an observable of the ticket triaged
)

// Sweep is one indicator searched for as free text (logs_search) in the
// tenant's logs over the triage window, and where it was seen.
type Sweep struct {
	Indicator string      `json:"indicator"`
	Type      string      `json:"type"`   // ip, domain, hash or url
	Source    string      `json:"source"` // config or ticket
	Query     string      `json:"query"`  // the free-text query sent
	Events    int         `json:"events"` // events holding it (read; see Truncated)
	Truncated bool        `json:"truncated"`
	Hosts     []HostCount `json:"hosts"` // the hosts it was seen on, most first
	host      []pdk.Event // the events on the triaged host
}

// HostCount is a host and how many of a sweep's events it has.
type HostCount struct {
	Host   string `json:"host"`
	Events int    `json:"events"`
}

// sweepIndicators lists what the sweep searches for: the config's
// indicators, then the ticket's ip (outside the organisation), domain, hash
// and url observables; once each, at most maxSweeps.
func sweepIndicators(iocs []string, t *pdk.Ticket) []Sweep {
	var out []Sweep
	seen := map[string]bool{}
	add := func(v, typ, src string) {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" || seen[v] || len(out) == maxSweeps {
			return
		}
		seen[v] = true
		out = append(out, Sweep{Indicator: v, Type: typ, Source: src, Query: `"` + strings.ReplaceAll(v, `"`, "") + `"`, Hosts: []HostCount{}})
	}
	for _, ioc := range iocs {
		add(ioc, iocKind(ioc), SourceConfig)
	}
	if t != nil {
		for _, o := range t.Observables {
			switch o.Type {
			case pdk.ObservableIP:
				if ip, err := netip.ParseAddr(strings.TrimSpace(o.Value)); err == nil && external(ip) {
					add(ip.String(), o.Type, SourceTicket)
				}
			case pdk.ObservableDomain, pdk.ObservableHash, pdk.ObservableURL:
				add(o.Value, o.Type, SourceTicket)
			}
		}
	}
	return out
}

// sweep runs the free-text search of each indicator over [from, to) and
// counts its events by host: host.name, or for events without one (proxy and
// firewall logs) source.ip, which counts as the triaged host when it is one
// of ips, the host's addresses. Events whose text holds the indicator only as
// part of a longer word (a longer address, a subdomain of another name) are
// not counted.
func sweep(sys Systems, tenant, host string, ips []string, sws []Sweep, from, to time.Time, note func(string, ...any)) []Sweep {
	for i := range sws {
		sw := &sws[i]
		res, err := sys.Search(pdk.SearchRequest{Tenant: tenant, Query: sw.Query, From: from, To: to, Limit: sweepLimit})
		if err != nil {
			note("search for %s: %v", sw.Indicator, err)
			continue
		}
		sw.Truncated = res.Truncated
		if res.Truncated {
			note("more than %d events hold %s; the counts are of the newest", sweepLimit, sw.Indicator)
		}
		counts := map[string]int{}
		kind := sw.Type
		if kind == pdk.ObservableURL {
			kind = pdk.ObservableDomain // a URL is compared as a whole word, like a name
		}
		for _, e := range res.Events {
			if eventHolds(e, sw.Indicator, kind) == "" {
				continue
			}
			sw.Events++
			h := str(e, "host.name")
			if h == "" {
				h = str(e, "source.ip")
				if slices.Contains(ips, h) {
					h = host
				}
			}
			if h == "" {
				h = unattributed
			}
			counts[h]++
			if sameHost(h, host) {
				sw.host = append(sw.host, e)
			}
		}
		for h, n := range counts {
			sw.Hosts = append(sw.Hosts, HostCount{Host: h, Events: n})
		}
		slices.SortFunc(sw.Hosts, func(a, b HostCount) int { return cmp.Or(b.Events-a.Events, strings.Compare(a.Host, b.Host)) })
	}
	return sws
}

// unattributed stands for the events of a sweep with neither host.name nor
// source.ip.
const unattributed = "(no host or source address)"

// sweepFindings flags indicators seen on other hosts than the one triaged:
// a known-bad one (config iocs) seen on the triaged host too high as
// ioc-match (it spread), a ticket's observable medium as
// indicator-elsewhere. A known-bad indicator the triaged host never saw is
// no finding about it: the sweep lists where it was.
func sweepFindings(sws []Sweep, host string) []Finding {
	var fs []Finding
	for _, sw := range sws {
		if sw.Source == SourceConfig && len(sw.host) == 0 {
			continue
		}
		var others []string
		n, hosts := 0, 0
		for _, h := range sw.Hosts {
			if sameHost(h.Host, host) || h.Host == unattributed {
				continue
			}
			n += h.Events
			if hosts++; hosts <= sweepHosts {
				others = append(others, fmt.Sprintf("%s (%d)", h.Host, h.Events))
			}
		}
		if n == 0 {
			continue
		}
		if hosts > sweepHosts {
			others = append(others, fmt.Sprintf("and %d more hosts", hosts-sweepHosts))
		}
		f := Finding{Evidence: []string{fmt.Sprintf("logs_search %s: %s", sw.Query, strings.Join(others, ", "))},
			Observables: []pdk.Observable{{Type: sw.Type, Value: sw.Indicator}}}
		if sw.Source == SourceConfig {
			f.Severity, f.Rule = pdk.SeverityHigh, RuleIOCMatch
			f.What = fmt.Sprintf("Known indicator %s (%s, config iocs) also seen on other hosts: %d events", sw.Indicator, sw.Type, n)
		} else {
			f.Severity, f.Rule = pdk.SeverityMedium, RuleIndicatorElsewhere
			f.What = fmt.Sprintf("The ticket's indicator %s (%s) also seen on other hosts: %d events", sw.Indicator, sw.Type, n)
		}
		fs = append(fs, f)
	}
	return fs
}

// sweptOnHost returns the events of the config's indicators on the triaged
// host that the collection's event sections do not hold, for ioc-match
// (process events among them carry what the process tree lacks, such as
// file hashes).
func sweptOnHost(sws []Sweep, c *pdk.Collection) []pdk.Event {
	have := map[string]bool{}
	for _, sec := range [][]pdk.Event{c.Network, c.Logons, c.Files, c.Registry} {
		for _, e := range sec {
			have[e.ID()] = true
		}
	}
	var out []pdk.Event
	for _, sw := range sws {
		if sw.Source != SourceConfig {
			continue
		}
		for _, e := range sw.host {
			if id := e.ID(); id == "" || !have[id] {
				have[id] = true
				out = append(out, e)
			}
		}
	}
	return out
}
