package main

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

// Beacon timing rules.
const (
	// minRegularShare is the share of intervals that must fit the beat.
	minRegularShare = 0.8
	// minBeat is the shortest median interval taken for a beat: faster
	// repeats are a session, not a beacon.
	minBeat = 5 * time.Second
	// sameConnection merges records of one connection from several logs.
	sameConnection = time.Second
)

// Beacon is a destination the host connected to at regular intervals.
type Beacon struct {
	IP       string
	Domain   string
	Ports    []string
	Count    int           // distinct connections
	Beat     time.Duration // the median interval
	Regular  float64       // share of intervals within the jitter of a multiple of Beat
	First    time.Time
	Last     time.Time
	Evidence []string
	Hosts    int // hosts of the tenant seen connecting to IP; -1 when unknown
}

// external reports whether an address is outside the organisation: global
// unicast, not private (RFC 1918, ULA) and not carrier-grade NAT.
func external(ip netip.Addr) bool {
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !cgnat.Contains(ip)
}

// beaconCandidates groups the host's connections by external destination and
// returns those with at least cfg.BeaconMin connections whose intervals are
// regular: at least minRegularShare of them within cfg.BeaconJitter of one,
// two or three times the median interval (a missed beat is still a beat).
// The most regular come first.
func beaconCandidates(network []pdk.Event, cfg Config) []Beacon {
	type group struct {
		times  []time.Time
		ports  map[string]bool
		domain string
		ev     []string
	}
	groups := map[string]*group{}
	domains := dnsAnswers(network)
	for _, e := range network {
		ip, err := netip.ParseAddr(str(e, "destination.ip"))
		if err != nil || !external(ip) {
			continue
		}
		if d := strings.ToLower(str(e, "network.direction")); d == "inbound" || d == "ingress" {
			continue
		}
		k := ip.String()
		g := groups[k]
		if g == nil {
			g = &group{ports: map[string]bool{}}
			groups[k] = g
		}
		if t := e.Time(); !t.IsZero() {
			g.times = append(g.times, t)
		}
		if p := str(e, "destination.port"); p != "" {
			g.ports[p] = true
		}
		if g.domain == "" {
			g.domain = strings.ToLower(str(e, "destination.domain", "url.domain", "tls.server.name", "server.domain"))
		}
		if len(g.ev) < 3 {
			g.ev = append(g.ev, eventEvidence(e, fmt.Sprintf("%s → %s:%s", str(e, "process.name", "source.ip"), k, str(e, "destination.port"))))
		}
	}
	var out []Beacon
	for ip, g := range groups {
		times := distinctTimes(g.times)
		if len(times) < cfg.BeaconMin {
			continue
		}
		beat, regular := Periodicity(times, cfg.BeaconJitter)
		if beat < minBeat || regular < minRegularShare {
			continue
		}
		b := Beacon{IP: ip, Domain: g.domain, Count: len(times), Beat: beat, Regular: regular,
			First: times[0], Last: times[len(times)-1], Evidence: g.ev, Hosts: -1}
		if b.Domain == "" {
			b.Domain = domains[ip]
		}
		for p := range g.ports {
			b.Ports = append(b.Ports, p)
		}
		slices.Sort(b.Ports)
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b Beacon) int {
		return cmp.Or(cmp.Compare(b.Regular, a.Regular), b.Count-a.Count, strings.Compare(a.IP, b.IP))
	})
	return out
}

// distinctTimes sorts times and drops those within sameConnection of the
// previous one (one connection logged by Sysmon and the firewall).
func distinctTimes(ts []time.Time) []time.Time {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	var out []time.Time
	for _, t := range ts {
		if len(out) > 0 && t.Sub(out[len(out)-1]) < sameConnection {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Periodicity returns the median interval of sorted times and the share of
// intervals within jitter (a fraction of the median) of one, two or three
// times the median.
func Periodicity(times []time.Time, jitter float64) (beat time.Duration, regular float64) {
	if len(times) < 3 {
		return 0, 0
	}
	iv := make([]time.Duration, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		iv = append(iv, times[i].Sub(times[i-1]))
	}
	sorted := slices.Clone(iv)
	slices.Sort(sorted)
	beat = sorted[len(sorted)/2]
	if beat <= 0 {
		return 0, 0
	}
	n := 0
	for _, d := range iv {
		k := math.Round(float64(d) / float64(beat))
		if k >= 1 && k <= 3 && math.Abs(float64(d)-k*float64(beat)) <= jitter*float64(beat) {
			n++
		}
	}
	return beat, float64(n) / float64(len(iv))
}

// dnsAnswers maps addresses to the names DNS events of the host resolved
// to them (Sysmon 22's answers, ECS dns.answers / dns.resolved_ip).
func dnsAnswers(network []pdk.Event) map[string]string {
	out := map[string]string{}
	for _, e := range network {
		name := strings.ToLower(str(e, "dns.question.name", "QueryName"))
		if name == "" {
			continue
		}
		var answers []string
		for _, k := range []string{"dns.resolved_ip", "dns.answers.data", "dns.answers", "QueryResults", "winlog.event_data.QueryResults"} {
			for _, v := range strs(e, k) {
				answers = append(answers, strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })...)
			}
		}
		for _, a := range answers {
			a = strings.TrimPrefix(a, "::ffff:")
			if ip, err := netip.ParseAddr(a); err == nil {
				if _, ok := out[ip.String()]; !ok {
					out[ip.String()] = name
				}
			}
		}
	}
	return out
}

// beaconFindings turns candidates into findings: high when the destination
// is rare in the tenant (seen from at most cfg.RareHosts hosts in the last
// day), with its address and domain as observables; low when it is common
// (an update or telemetry service); medium when its prevalence is unknown.
func beaconFindings(cands []Beacon, cfg Config) []Finding {
	var fs []Finding
	for _, b := range cands {
		dest := b.IP
		if b.Domain != "" {
			dest += " (" + b.Domain + ")"
		}
		port := ""
		if len(b.Ports) > 0 {
			port = " port " + strings.Join(b.Ports, ",")
		}
		what := fmt.Sprintf("Beaconing to %s%s: %d connections about every %s (%.0f%% regular) from %s to %s",
			dest, port, b.Count, b.Beat.Round(time.Second), 100*b.Regular,
			b.First.UTC().Format("15:04:05"), b.Last.UTC().Format("15:04:05"))
		f := Finding{Rule: RuleBeaconing, Evidence: b.Evidence}
		switch {
		case b.Hosts < 0:
			f.Severity = pdk.SeverityMedium
			f.What = what + "; how many hosts reach it is unknown"
		case b.Hosts <= cfg.RareHosts:
			f.Severity = pdk.SeverityHigh
			f.What = fmt.Sprintf("%s; a rare destination, reached by %d host(s) of the tenant in the last day", what, b.Hosts)
			f.Observables = []pdk.Observable{{Type: pdk.ObservableIP, Value: b.IP}}
			if b.Domain != "" {
				f.Observables = append(f.Observables, pdk.Observable{Type: pdk.ObservableDomain, Value: b.Domain})
			}
		default:
			f.Severity = pdk.SeverityLow
			f.What = fmt.Sprintf("%s; a common destination, reached by more than %d hosts of the tenant in the last day", what, cfg.RareHosts)
		}
		fs = append(fs, f)
	}
	return fs
}
