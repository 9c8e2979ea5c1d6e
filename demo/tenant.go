package demo

import (
	"strconv"

	"github.com/lhk-soc/lhk"
)

// Tenants lists the demo's tenants in the order Generate writes them.
var Tenants = []string{TenantAcme, TenantGlobex}

// host is one Windows machine of a tenant.
type host struct {
	name   string
	ip     string
	user   string // the primary user of a workstation; "" for servers
	server bool
}

// profile is everything that tells one tenant apart: its hosts, users and
// networks. Both tenants share the shapes of their events (the same programs,
// sites and words) but never a host name, a user or an internal address, so a
// leak between tenants shows in any result.
type profile struct {
	tenant    string
	domain    string // NetBIOS domain, user.domain
	dnsSuffix string // acme.local
	mailDom   string // acme.example.com
	sid       string // domain SID; a user's is sid-<1101+index>
	users     []string
	ws        []host
	dc, fs    host
	bk, mon   host
	servers   []host
	backupSvc string // the backup agent's service account (noise)
	proxy     string // observer.name of the web proxy
	firewall  string // observer.name of the firewall
	mx        string // observer.name of the mail gateway
	publicIP  string // the firewall's outside address
	broadcast string // the subnet broadcast of NetBIOS noise
	homeNet   string // first three octets of users' home addresses (VPN)
	workShift int    // hours the work day starts after 08:00 UTC
	depts     []string
}

// acmeUsers and globexUsers are the people of each tenant, one workstation
// each: acme's ACME-WS-017 belongs to hsato, the story's patient zero.
var (
	acmeUsers = []string{
		"tkobayashi", "ywatanabe", "mito", "knakamura", "skato", "ayoshida", "hyamada", "rsasaki",
		"kyamaguchi", "nmatsumoto", "tinoue", "kkimura", "shayashi", "ashimizu", "jyamazaki", "mmori",
		"hsato", "yabe", "tikeda", "khashimoto", "myamashita", "rishikawa", "tnakajima", "kmaeda",
		"sfujita", "aogawa", "tgoto", "eokada", "rhasegawa", "mmurakami", "kkondo", "yishii",
		"tsaito", "nsakamoto", "kendo", "haoki", "sfujii", "knishimura", "yfukuda", "mota",
	}
	globexUsers = []string{
		"jsmith", "mjohnson", "lwilliams", "dbrown", "sjones", "kgarcia", "rmiller", "adavis",
		"prodriguez", "cmartinez", "bhernandez", "elopez", "ngonzalez", "twilson", "janderson", "mthomas",
		"rtaylor", "hmoore", "ljackson", "cmartin", "dlee", "kperez", "sthompson", "awhite",
		"jharris", "msanchez", "nclark", "framirez", "glewis", "erobinson",
	}
)

// profiles holds the tenants' profiles, built once.
var profiles = map[string]*profile{
	TenantAcme: newProfile(profile{
		tenant: TenantAcme, domain: "ACME", dnsSuffix: "acme.local", mailDom: "acme.example.com",
		sid: "S-1-5-21-1004336348-1177238915-682003330", users: acmeUsers, backupSvc: "svc_backup",
		publicIP: "192.0.2.10", homeNet: "198.51.100", workShift: 0,
		depts: []string{"sales", "finance", "engineering", "hr", "it"},
	}, "ACME", "10.20"),
	TenantGlobex: newProfile(profile{
		tenant: TenantGlobex, domain: "GLOBEX", dnsSuffix: "globex.local", mailDom: "globex.example.com",
		sid: "S-1-5-21-3623811015-3361044348-30300820", users: globexUsers, backupSvc: "svc_veeam",
		publicIP: "192.0.2.20", homeNet: "100.64.20", workShift: 1,
		depts: []string{"sales", "finance", "research", "legal", "it"},
	}, "GLOBEX", "10.30"),
}

// newProfile fills in a tenant's hosts from its users: workstation N is
// PREFIX-WS-00N at NET.1.N, servers are at NET.0.x.
func newProfile(p profile, prefix, net string) *profile {
	for i, u := range p.users {
		n := i + 1
		p.ws = append(p.ws, host{name: prefix + "-WS-" + pad3(n), ip: net + ".1." + strconv.Itoa(n), user: u})
	}
	p.dc = host{name: prefix + "-DC-01", ip: net + ".0.5", server: true}
	p.fs = host{name: prefix + "-FS-01", ip: net + ".0.10", server: true}
	p.bk = host{name: prefix + "-BK-01", ip: net + ".0.30", server: true}
	p.mon = host{name: prefix + "-MON-01", ip: net + ".0.40", server: true}
	p.servers = []host{p.dc, p.fs, p.bk, p.mon}
	p.proxy = prefix + "-PRX-01"
	p.firewall = prefix + "-FW-01"
	p.mx = prefix + "-MX-01"
	p.broadcast = net + ".255.255"
	return &p
}

// pad3 formats n with at least three digits.
func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// userSID returns the SID of workstation user i.
func (p *profile) userSID(i int) string { return p.sid + "-" + strconv.Itoa(1101+i) }

// Hosts returns the host names of a tenant's machines, workstations first;
// nil for an unknown tenant.
func Hosts(tenant string) []string {
	p, ok := profiles[tenant]
	if !ok {
		return nil
	}
	var names []string
	for _, h := range p.ws {
		names = append(names, h.name)
	}
	for _, h := range p.servers {
		names = append(names, h.name)
	}
	return names
}

// Users returns the user names of a tenant: its people, then its backup
// agent's service account; nil for an unknown tenant.
func Users(tenant string) []string {
	p, ok := profiles[tenant]
	if !ok {
		return nil
	}
	return append(append([]string(nil), p.users...), p.backupSvc)
}

// Assets returns the asset inventory of both tenants: every workstation
// (owned by its user, tagged with the user's department) and the servers,
// with the domain controller critical and the file and backup servers high.
func Assets() []lhk.Asset {
	var out []lhk.Asset
	for _, t := range Tenants {
		p := profiles[t]
		for i, h := range p.ws {
			dept := p.depts[i%len(p.depts)]
			crit := "low"
			if dept == "finance" || dept == "it" {
				crit = "medium"
			}
			out = append(out, lhk.Asset{
				Tenant: t, Name: h.name, IPs: []string{h.ip}, Owner: h.user,
				OS: "Windows 11 Enterprise 23H2", Criticality: crit,
				Tags: []string{"workstation", "dept:" + dept},
			})
		}
		servers := []struct {
			h    host
			crit string
			tags []string
		}{
			{p.dc, "critical", []string{"server", "domain-controller", "tier0"}},
			{p.fs, "high", []string{"server", "file-server", "pii"}},
			{p.bk, "high", []string{"server", "backup"}},
			{p.mon, "medium", []string{"server", "monitoring"}},
		}
		for _, s := range servers {
			out = append(out, lhk.Asset{
				Tenant: t, Name: s.h.name, IPs: []string{s.h.ip}, Owner: "it-infra",
				OS: "Windows Server 2022", Criticality: s.crit, Tags: s.tags,
			})
		}
	}
	return out
}
