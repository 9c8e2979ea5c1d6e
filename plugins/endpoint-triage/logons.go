package main

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lhk-soc/lhk/pdk"
)

// Host roles for the lateral-logon rule.
const (
	RoleServer      = "server"
	RoleWorkstation = "workstation"
)

// HostRole tells a server from a workstation by its inventory entry (OS and
// tags) and, failing that, by naming conventions (-SRV, -DC, -FS- … for
// servers; -WS-, WORKSTATION, LAPTOP, DESKTOP … for workstations). It answers
// "" when it cannot tell.
func HostRole(a *pdk.Asset, name string) string {
	if a != nil {
		for _, t := range a.Tags {
			switch t := strings.ToLower(t); {
			case strings.Contains(t, "server") || t == "dc" || t == "domain-controller" || t == "file-share":
				return RoleServer
			case t == "workstation" || t == "laptop" || t == "desktop" || t == "endpoint":
				return RoleWorkstation
			}
		}
		os := strings.ToLower(a.OS)
		switch {
		case strings.Contains(os, "server"):
			return RoleServer
		case strings.Contains(os, "windows 1") || strings.Contains(os, "windows 7") || strings.Contains(os, "macos") || strings.Contains(os, "workstation"):
			return RoleWorkstation
		}
		if name == "" {
			name = a.Name
		}
	}
	n := strings.ToUpper(name)
	n, _, _ = strings.Cut(n, ".")
	if strings.HasPrefix(n, "DC0") || strings.HasPrefix(n, "SRV") {
		return RoleServer
	}
	for _, s := range []string{"-SRV", "SERVER", "-DC", "-FS-", "-FS0", "-SQL", "-EXCH", "-APP", "-WEB", "-FILE"} {
		if strings.Contains(n, s) {
			return RoleServer
		}
	}
	for _, s := range []string{"-WS-", "-WS0", "WS-", "WORKSTATION", "LAPTOP", "DESKTOP", "-LT-", "-PC", "PC-"} {
		if strings.Contains(n, s) {
			return RoleWorkstation
		}
	}
	return ""
}

// logonType returns the Windows logon type of a logon event as its number
// ("3", "10"…), reading both the number and Winlogbeat's names.
func logonType(e pdk.Event) string {
	t := str(e, "winlog.logon.type", "winlog.event_data.LogonType", "LogonType", "logon.type")
	switch strings.ToLower(strings.ReplaceAll(t, " ", "")) {
	case "network":
		return "3"
	case "remoteinteractive":
		return "10"
	case "interactive":
		return "2"
	case "newcredentials":
		return "9"
	case "networkcleartext":
		return "8"
	}
	return t
}

// lateral is one source, target and account of network logons.
type lateral struct {
	src, srcIP, dst, user, kind string
	outbound                    bool
	ev                          []string
	n                           int
}

// logonFindings applies the lateral-logon rule: a successful network (type
// 3), cleartext (8) or remote interactive (10) logon, or an explicit
// credential logon (4648), from a workstation to a server. Machine accounts
// and anonymous logons are ignored. host is the triaged host, hostAsset its
// inventory entry; lookup finds other hosts' entries by name or address. A
// logon from the triaged host is high when the host has other high findings
// (stolen credentials in use), else medium.
func logonFindings(host string, hostAsset *pdk.Asset, logons []pdk.Event, lookup func(string) *pdk.Asset, hostHigh bool) []Finding {
	isHost := func(name string) bool {
		short := func(s string) string { s, _, _ = strings.Cut(strings.ToLower(s), "."); return s }
		return name != "" && short(name) == short(host)
	}
	hostIPs := map[string]bool{}
	if hostAsset != nil {
		for _, ip := range hostAsset.IPs {
			hostIPs[ip] = true
		}
	}
	seen := map[string]bool{}
	groups := map[string]*lateral{}
	var order []string
	for _, e := range logons {
		if id := e.ID(); id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		code := str(e, "event.code", "EventID")
		outcome := strings.ToLower(str(e, "event.outcome"))
		if outcome == "failure" || code == "4625" || code == "4634" || code == "4647" || code == "4672" {
			continue
		}
		if t := strings.ToLower(str(e, "event.type")); t == "end" || t == "info" {
			continue
		}
		typ := logonType(e)
		var src, srcIP, dst, kind string
		switch {
		case code == "4648":
			src = str(e, "host.name")
			dst = str(e, "TargetServerName", "winlog.event_data.TargetServerName", "destination.domain", "destination.address", "destination.ip")
			kind = "explicit-credential logon"
			if strings.EqualFold(dst, "localhost") || dst == "" {
				continue
			}
		case typ == "3" || typ == "8" || typ == "10":
			dst = str(e, "host.name")
			srcIP = str(e, "source.ip")
			src = str(e, "source.domain", "WorkstationName", "winlog.event_data.WorkstationName", "source.address")
			kind = map[string]string{"3": "network logon (type 3)", "8": "network cleartext logon (type 8)", "10": "remote interactive logon (type 10)"}[typ]
		default:
			continue
		}
		user := str(e, "user.target.name", "TargetUserName", "winlog.event_data.TargetUserName", "user.name")
		if user == "" || strings.HasSuffix(user, "$") || strings.EqualFold(user, "ANONYMOUS LOGON") {
			continue
		}
		if dom := str(e, "user.target.domain", "TargetDomainName", "user.domain"); dom != "" && !strings.Contains(user, `\`) {
			user = dom + `\` + user
		}
		if ip, err := netip.ParseAddr(srcIP); err == nil && ip.IsLoopback() {
			continue
		}
		outbound := isHost(src) || hostIPs[srcIP]
		// Name the source from the inventory when only its address is known.
		var srcAsset *pdk.Asset
		switch {
		case isHost(src) || hostIPs[srcIP]:
			srcAsset, src = hostAsset, host
		case srcIP != "":
			if srcAsset = lookup(srcIP); srcAsset != nil {
				src = srcAsset.Name
			} else if src == "" {
				src = srcIP
			}
		case src != "":
			srcAsset = lookup(src)
		}
		if src == "" || strings.EqualFold(src, dst) {
			continue
		}
		var dstAsset *pdk.Asset
		if isHost(dst) {
			dstAsset = hostAsset
		} else {
			dstAsset = lookup(dst)
		}
		if HostRole(srcAsset, src) != RoleWorkstation || HostRole(dstAsset, dst) != RoleServer {
			continue
		}
		if dstAsset != nil && dstAsset.Name != "" {
			dst = dstAsset.Name
		}
		k := strings.ToLower(src + "\x00" + dst + "\x00" + user + "\x00" + kind)
		g := groups[k]
		if g == nil {
			g = &lateral{src: src, srcIP: srcIP, dst: dst, user: user, kind: kind, outbound: outbound}
			groups[k] = g
			order = append(order, k)
		}
		g.n++
		if len(g.ev) < maxEvidence {
			g.ev = append(g.ev, eventEvidence(e, fmt.Sprintf("%s on %s as %s from %s", kind, str(e, "host.name"), user, cmp.Or(srcIP, src))))
		}
	}
	var fs []Finding
	for _, k := range order {
		g := groups[k]
		sev := pdk.SeverityMedium
		if g.outbound && hostHigh {
			sev = pdk.SeverityHigh
		}
		from := g.src
		if g.srcIP != "" && !strings.EqualFold(g.srcIP, g.src) {
			from += " (" + g.srcIP + ")"
		}
		what := fmt.Sprintf("Lateral movement: %s as %s from workstation %s to server %s", g.kind, g.user, from, g.dst)
		if g.n > 1 {
			what += fmt.Sprintf(", %d times", g.n)
		}
		if sev == pdk.SeverityHigh {
			what += ", from a host with high-severity findings"
		}
		fs = append(fs, Finding{Severity: sev, Rule: RuleLateralLogon, What: what, Evidence: g.ev})
	}
	slices.SortStableFunc(fs, func(a, b Finding) int { return strings.Compare(a.What, b.What) })
	return fs
}
