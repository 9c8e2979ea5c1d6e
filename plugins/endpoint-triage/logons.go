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

// Lateral is one source, target, account and kind of logon from a
// workstation to a server, with what makes it stand out.
type Lateral struct {
	Src, SrcIP string // the source host (named from the inventory when known) and address
	Dst        string // the target server
	DstName    string // the target's host.name as its events have it
	User       string
	Kind       string // "network logon (type 3)"…
	NTLM       bool   // authenticated with NTLM (pass-the-hash, PsExec with a password) rather than Kerberos
	Outbound   bool   // made from the triaged host
	Count      int
	Evidence   []string
	// Before is how many logons from SrcIP to DstName the logs hold for the
	// week before the window; -1 when unknown.
	Before int
}

// lateralCandidates applies the first part of the lateral-logon rule: a
// successful network (type 3), cleartext (8) or remote interactive (10)
// logon, or an explicit credential logon (4648), from a workstation to a
// server, grouped by source, target, account and kind. Machine accounts and
// anonymous logons are ignored. host is the triaged host, hostAsset its
// inventory entry (nil when unknown) and ips its addresses; lookup finds
// other hosts' entries by name or address.
func lateralCandidates(host string, hostAsset *pdk.Asset, ips []string, logons []pdk.Event, lookup func(string) *pdk.Asset) []*Lateral {
	isHost := func(name string) bool {
		short := func(s string) string { s, _, _ = strings.Cut(strings.ToLower(s), "."); return s }
		return name != "" && short(name) == short(host)
	}
	hostIPs := map[string]bool{}
	for _, ip := range ips {
		hostIPs[ip] = true
	}
	if hostAsset != nil {
		for _, ip := range hostAsset.IPs {
			hostIPs[ip] = true
		}
	}
	seen := map[string]bool{}
	groups := map[string]*Lateral{}
	var out []*Lateral
	for _, e := range logons {
		if id := e.ID(); id != "" {
			if seen[id] {
				continue
			}
			seen[id] = true
		}
		code := str(e, "event.code", "EventID")
		if strings.ToLower(str(e, "event.outcome")) == "failure" || code == "4625" || code == "4634" || code == "4647" || code == "4672" {
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
		case outbound:
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
		dstName := dst
		if dstAsset != nil && dstAsset.Name != "" {
			dst = dstAsset.Name
		}
		ntlm := strings.Contains(strings.ToLower(str(e, "AuthenticationPackageName", "winlog.event_data.AuthenticationPackageName", "LogonProcessName", "winlog.event_data.LogonProcessName")), "ntlm")
		k := strings.ToLower(src + "\x00" + dst + "\x00" + user + "\x00" + kind + "\x00" + fmt.Sprint(ntlm))
		g := groups[k]
		if g == nil {
			g = &Lateral{Src: src, SrcIP: srcIP, Dst: dst, DstName: dstName, User: user, Kind: kind, NTLM: ntlm, Outbound: outbound, Before: -1}
			groups[k] = g
			out = append(out, g)
		}
		g.Count++
		if len(g.Evidence) < maxEvidence {
			g.Evidence = append(g.Evidence, eventEvidence(e, fmt.Sprintf("%s on %s as %s from %s", kind, str(e, "host.name"), user, cmp.Or(srcIP, src))))
		}
	}
	// Outbound and NTLM first: they are the ones worth a look-back.
	slices.SortStableFunc(out, func(a, b *Lateral) int {
		rank := func(l *Lateral) int {
			r := 0
			if l.Outbound {
				r -= 2
			}
			if l.NTLM {
				r--
			}
			return r
		}
		return rank(a) - rank(b)
	})
	return out
}

// maxRoutineLogons is how many low lateral-logon findings are listed one by
// one; the rest are counted in one more finding.
const maxRoutineLogons = 5

// lateralFindings applies the second part of the lateral-logon rule. Three
// signals count: the logon is new (no logon from that address to that
// server in the week before), it used NTLM, and it was made from the triaged
// host while that host shows other high-severity findings. Two or more make
// it high ("possible lateral movement"), one medium, none (a routine Kerberos
// logon, or one whose history was not checked) low. Beyond maxRoutineLogons,
// low ones are summed up in one finding.
func lateralFindings(cands []*Lateral, hostHigh bool) []Finding {
	var fs []Finding
	routine, more := 0, 0
	for _, l := range cands {
		var signals []string
		if l.Before == 0 {
			signals = append(signals, "first logon from this address to this server in a week")
		}
		if l.NTLM {
			signals = append(signals, "NTLM")
		}
		if l.Outbound && hostHigh {
			signals = append(signals, "from a host with high-severity findings")
		}
		sev := pdk.SeverityLow
		switch len(signals) {
		case 0:
			if routine++; routine > maxRoutineLogons {
				more += l.Count
				continue
			}
		case 1:
			sev = pdk.SeverityMedium
		default:
			sev = pdk.SeverityHigh
		}
		from := l.Src
		if l.SrcIP != "" && !strings.EqualFold(l.SrcIP, l.Src) {
			from += " (" + l.SrcIP + ")"
		}
		what := fmt.Sprintf("%s as %s from workstation %s to server %s", l.Kind, l.User, from, l.Dst)
		if sev == pdk.SeverityHigh {
			what = "Possible lateral movement: " + what
		} else {
			what = strings.ToUpper(what[:1]) + what[1:]
		}
		if l.Count > 1 {
			what += fmt.Sprintf(", %d times", l.Count)
		}
		switch {
		case len(signals) > 0:
			what += "; " + strings.Join(signals, ", ")
		case l.Before > 0:
			what += fmt.Sprintf("; routine: %d such logons in the week before", l.Before)
		default:
			what += "; its history was not checked"
		}
		fs = append(fs, Finding{Severity: sev, Rule: RuleLateralLogon, What: what, Evidence: l.Evidence})
	}
	if more > 0 {
		fs = append(fs, Finding{Severity: pdk.SeverityLow, Rule: RuleLateralLogon,
			What:     fmt.Sprintf("%d more logons from workstations to servers without any signal", more),
			Evidence: []string{}})
	}
	return fs
}
