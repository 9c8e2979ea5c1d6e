package demo

import "github.com/lhk-soc/lhk"

// NoisePattern is a benign, frequent pattern of a tenant's background that an
// analyst would suppress with an analysis filter, and that the filter-upkeep
// plugin should propose. Its events run around the clock at a regular pace.
type NoisePattern struct {
	Tenant string
	// Name is a short filter-like name, the same for the same shape in every tenant.
	Name        string
	Description string
	// Conditions match exactly this pattern's events (as field-search
	// conditions on the ingested, ECS-mapped events) and nothing else.
	Conditions []lhk.Condition
	// PerMille is the share of the tenant's daily events the pattern makes up,
	// in thousandths (rounded down per day).
	PerMille int
}

// Noise lists the noise patterns of both tenants. Each tenant has the same
// three shapes with its own hosts, accounts and names.
var Noise = []NoisePattern{
	backupNoise(TenantAcme), monitoringNoise(TenantAcme), netbiosNoise(TenantAcme),
	backupNoise(TenantGlobex), monitoringNoise(TenantGlobex), netbiosNoise(TenantGlobex),
}

// Noise pattern names.
const (
	NoiseBackupLogonFailures = "backup-agent-logon-failures"
	NoiseMonitoringDNS       = "monitoring-dns-lookups"
	NoiseNetBIOSDenies       = "netbios-broadcast-denies"
)

func backupNoise(tenant string) NoisePattern {
	p := profiles[tenant]
	return NoisePattern{
		Tenant: tenant, Name: NoiseBackupLogonFailures, PerMille: 60,
		Description: "The backup agent on " + p.bk.name + " retries a stale password of " + p.backupSvc +
			" against " + p.fs.name + ": Security 4625, logon type 3, every few minutes.",
		Conditions: []lhk.Condition{
			{Field: "event.code", Op: lhk.OpEq, Value: "4625"},
			{Field: "user.target.name", Op: lhk.OpEq, Value: p.backupSvc},
			{Field: "source.ip", Op: lhk.OpEq, Value: p.bk.ip},
		},
	}
}

func monitoringNoise(tenant string) NoisePattern {
	return NoisePattern{
		Tenant: tenant, Name: NoiseMonitoringDNS, PerMille: 80,
		Description: "The Zabbix agent on every host resolves its server zabbix." + profiles[tenant].dnsSuffix +
			" before each check: Sysmon 22.",
		Conditions: []lhk.Condition{
			{Field: "event.code", Op: lhk.OpEq, Value: "22"},
			{Field: "process.name", Op: lhk.OpEq, Value: monitorExe},
			{Field: "dns.question.name", Op: lhk.OpEq, Value: "zabbix." + profiles[tenant].dnsSuffix},
		},
	}
}

func netbiosNoise(tenant string) NoisePattern {
	return NoisePattern{
		Tenant: tenant, Name: NoiseNetBIOSDenies, PerMille: 50,
		Description: "Workstations broadcast NetBIOS name queries (udp/137) to " + profiles[tenant].broadcast +
			" and the firewall denies and logs each.",
		Conditions: []lhk.Condition{
			{Field: "event.dataset", Op: lhk.OpEq, Value: "firewall"},
			{Field: "event.action", Op: lhk.OpEq, Value: "deny"},
			{Field: "destination.port", Op: lhk.OpEq, Value: "137"},
		},
	}
}

// monitorExe is the monitoring agent's program.
const monitorExe = "zabbix_agent2.exe"
