package systemtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// endpointsLines are Windows events of one host for a tenant: explorer →
// wscript → powershell → whoami, a connection, a logon, a file and a
// registry change, each marked with the tenant.
func endpointsLines(tenant string) string {
	at := func(s int) string {
		return logsT0.Add(10*time.Hour + time.Duration(s)*time.Second).Format(time.RFC3339)
	}
	evs := []string{
		`{"@timestamp":"` + at(0) + `","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\System32\\wscript.exe","CommandLine":"wscript.exe launcher.vbs","ProcessId":"100","ParentImage":"C:\\Windows\\explorer.exe","ParentProcessId":"50","User":"CORP\\alice"}`,
		`{"@timestamp":"` + at(1) + `","EventID":4688,"Channel":"Security","Hostname":"WS01.corp.local","NewProcessName":"C:\\Windows\\System32\\wscript.exe","NewProcessId":"0x64","ProcessId":"0x32","SubjectUserName":"alice","SubjectDomainName":"CORP","CommandLine":"wscript.exe launcher.vbs"}`,
		`{"@timestamp":"` + at(2) + `","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell -enc AAAA","ProcessId":"200","ParentImage":"C:\\Windows\\System32\\wscript.exe","ParentProcessId":"100","User":"CORP\\alice"}`,
		`{"@timestamp":"` + at(5) + `","EventID":4688,"Channel":"Security","Hostname":"WS01.corp.local","NewProcessName":"C:\\Windows\\System32\\whoami.exe","NewProcessId":"0x12c","ProcessId":"0xc8","SubjectUserName":"alice","CommandLine":"whoami"}`,
		`{"@timestamp":"` + at(6) + `","EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","ProcessId":"200","SourceIp":"10.0.0.5","DestinationIp":"10.10.10.5","DestinationPort":"80"}`,
		`{"@timestamp":"` + at(7) + `","EventID":4624,"Channel":"Security","Hostname":"WS01.corp.local","TargetUserName":"alice","LogonType":"2"}`,
		`{"@timestamp":"` + at(8) + `","EventID":11,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"ws01.corp.local","Image":"C:\\Windows\\explorer.exe","TargetFilename":"C:\\Users\\alice\\Desktop\\launcher.vbs"}`,
		`{"@timestamp":"` + at(9) + `","EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS01.corp.local","Image":"C:\\Windows\\regedit.exe","TargetObject":"HKLM\\Run\\x"}`,
		// Another host whose name contains this one's: never collected.
		`{"@timestamp":"` + at(10) + `","EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS010.corp.local","Image":"C:\\evil.exe","ProcessId":"7","ParentProcessId":"1"}`,
		// A firewall event with source and destination.
		`{"@timestamp":"` + at(11) + `","host":{"name":"WS01"},"source":{"ip":"10.0.0.5"},"destination":{"ip":"203.0.113.9","port":443},"event":{"dataset":"firewall"}}`,
	}
	var sb strings.Builder
	for _, e := range evs {
		// Tag each event with the tenant so a leak shows.
		sb.WriteString(strings.Replace(e, `{"@timestamp"`, `{"marker":"`+tenant+`","@timestamp"`, 1) + "\n")
	}
	return sb.String()
}

// endpointsEvents checks every event of a collection belongs to tenant.
func endpointsEvents(tb testing.TB, tenant string, c *lhk.Collection) {
	tb.Helper()
	for _, evs := range [][]lhk.Event{c.Network, c.Logons, c.Files, c.Registry} {
		logsMarkers(tb, tenant, evs)
	}
}

// endpointsFind returns the node with a process name in a tree.
func endpointsFind(nodes []*lhk.ProcessNode, name string) *lhk.ProcessNode {
	for _, n := range nodes {
		if strings.EqualFold(n.Name, name) {
			return n
		}
		if f := endpointsFind(n.Children, name); f != nil {
			return f
		}
	}
	return nil
}

// endpointsCount counts the nodes of a tree.
func endpointsCount(nodes []*lhk.ProcessNode) int {
	n := 0
	for _, p := range nodes {
		n += 1 + endpointsCount(p.Children)
	}
	return n
}

// RunEndpoints runs the conformance suite of lhk.EndpointService. open
// returns an empty log store and an endpoint service reading it, with no
// webhook configured.
func RunEndpoints(t *testing.T, open func(tb testing.TB) (lhk.LogService, lhk.EndpointService)) {
	ctx := context.Background()
	logs, eps := open(t)
	for _, tenant := range []string{"acme", "globex"} {
		if _, err := logs.Ingest(ctx, tenant, strings.NewReader(endpointsLines(tenant))); err != nil {
			t.Fatal(err)
		}
	}
	from, to := logsT0.Add(9*time.Hour), logsT0.Add(11*time.Hour)

	t.Run("Collect", func(t *testing.T) {
		for _, host := range []string{"WS01", "ws01", "WS01.corp.local"} {
			c, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "acme", Host: host, From: from, To: to})
			if err != nil {
				t.Fatal(err)
			}
			endpointsEvents(t, "acme", c)
			if c.Tenant != "acme" || c.Host != host || c.Truncated {
				t.Fatalf("%s: header %+v", host, c)
			}
			if len(c.Processes) != 1 || c.Processes[0].Name != "wscript.exe" || c.Processes[0].ParentName != "explorer.exe" {
				t.Fatalf("%s: roots %+v, want wscript.exe alone", host, c.Processes)
			}
			if n := endpointsCount(c.Processes); n != 3 {
				t.Fatalf("%s: %d processes, want 3 (Sysmon and Security records merged)", host, n)
			}
			ps := endpointsFind(c.Processes[0].Children, "powershell.exe")
			if ps == nil || ps.PID != "200" || ps.CommandLine != "powershell -enc AAAA" || ps.User != `CORP\alice` || ps.EventID == "" {
				t.Fatalf("%s: powershell node %+v", host, ps)
			}
			if w := endpointsFind(ps.Children, "whoami.exe"); w == nil {
				t.Fatalf("%s: whoami.exe is not powershell's child", host)
			}
			if len(c.Network) != 2 || len(c.Logons) != 1 || len(c.Files) != 1 || len(c.Registry) != 1 {
				t.Fatalf("%s: network %d logons %d files %d registry %d, want 2 1 1 1", host,
					len(c.Network), len(c.Logons), len(c.Files), len(c.Registry))
			}
		}
	})

	t.Run("Limit", func(t *testing.T) {
		c, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "acme", Host: "WS01", From: from, To: to, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Truncated || len(c.Network) != 1 || endpointsCount(c.Processes) > 1 {
			t.Fatalf("limit 1: truncated %v, network %d, processes %d", c.Truncated, len(c.Network), endpointsCount(c.Processes))
		}
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		c, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "globex", Host: "WS01", From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		endpointsEvents(t, "globex", c)
		c, err = eps.Collect(ctx, lhk.CollectRequest{Tenant: "initech", Host: "WS01", From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Processes)+len(c.Network)+len(c.Logons)+len(c.Files)+len(c.Registry) != 0 {
			t.Fatalf("a tenant without events sees %+v", c)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  lhk.CollectRequest
		}{
			{"NoTenant", lhk.CollectRequest{Host: "WS01", From: from, To: to}},
			{"AllTenants", lhk.CollectRequest{Tenant: "*", Host: "WS01", From: from, To: to}},
			{"NoHost", lhk.CollectRequest{Tenant: "acme", From: from, To: to}},
			{"NoRange", lhk.CollectRequest{Tenant: "acme", Host: "WS01"}},
			{"Reversed", lhk.CollectRequest{Tenant: "acme", Host: "WS01", From: to, To: from}},
			{"100Years", lhk.CollectRequest{Tenant: "acme", Host: "WS01", From: from.AddDate(-100, 0, 0), To: to}},
			{"NegativeLimit", lhk.CollectRequest{Tenant: "acme", Host: "WS01", From: from, To: to, Limit: -1}},
			{"HostileHost", lhk.CollectRequest{Tenant: "acme", Host: "WS01\x00", From: from, To: to}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := eps.Collect(ctx, tc.req)
				logsCode(t, err, lhk.EINVALID)
			})
		}
		for _, h := range []string{"%", "_", `"`, "*", "' OR 1=1"} {
			c, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "acme", Host: h, From: from, To: to})
			if err != nil {
				logsCode(t, err, lhk.EINVALID)
				continue
			}
			if endpointsCount(c.Processes)+len(c.Network) != 0 {
				t.Fatalf("host %q collects %+v", h, c)
			}
		}
	})

	t.Run("Isolate", func(t *testing.T) {
		actx := lhk.NewContextWithActor(ctx, "alice")
		a, err := eps.Isolate(actx, "acme", "WS01", "Empire beacon")
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == "" || a.Tenant != "acme" || a.Host != "WS01" || a.Action != "isolate" || a.Actor != "alice" ||
			a.Reason != "Empire beacon" || a.At.IsZero() || a.Status != "recorded" {
			t.Fatalf("action %+v", a)
		}
		for _, tc := range []struct{ tenant, host string }{{"", "WS01"}, {"*", "WS01"}, {"acme", ""}, {"acme", "  "}} {
			_, err := eps.Isolate(actx, tc.tenant, tc.host, "x")
			logsCode(t, err, lhk.EINVALID)
		}
	})
}

// RunEndpointsDataset ingests the Empire launcher telemetry for tenant acme
// and collects WORKSTATION5: wscript.exe with its PowerShell child in the
// process tree, and PowerShell's connection to its C2.
func RunEndpointsDataset(t *testing.T, logs lhk.LogService, eps lhk.EndpointService) {
	ctx := context.Background()
	f, err := os.Open(LogsEmpireDataset(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := logs.Ingest(ctx, "acme", f); err != nil {
		t.Fatal(err)
	}
	c, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "acme", Host: "WORKSTATION5", From: logsEmpireFrom, To: logsEmpireTo})
	if err != nil {
		t.Fatal(err)
	}
	w := endpointsFind(c.Processes, "wscript.exe")
	if w == nil {
		t.Fatalf("no wscript.exe in the process tree: %s", endpointsDump(c.Processes, ""))
	}
	ps := endpointsFind(w.Children, "powershell.exe")
	if ps == nil || !strings.Contains(ps.CommandLine, "-enc") {
		t.Fatalf("wscript.exe has no PowerShell child: %s", endpointsDump(c.Processes, ""))
	}
	found := false
	for _, e := range c.Network {
		if e["destination.ip"] == "10.10.10.5" && e["process.name"] == "powershell.exe" {
			found = true
		}
		if h := fmt.Sprint(e["host.name"]); !strings.HasPrefix(strings.ToUpper(h), "WORKSTATION5") {
			t.Errorf("network event of host %q", h)
		}
	}
	if !found {
		t.Fatalf("no PowerShell connection to 10.10.10.5 among %d network events", len(c.Network))
	}
	if len(c.Registry) == 0 || len(c.Files) == 0 {
		t.Errorf("registry %d files %d: want some of each", len(c.Registry), len(c.Files))
	}
	none, err := eps.Collect(ctx, lhk.CollectRequest{Tenant: "globex", Host: "WORKSTATION5", From: logsEmpireFrom, To: logsEmpireTo})
	if err != nil || endpointsCount(none.Processes)+len(none.Network)+len(none.Logons)+len(none.Files)+len(none.Registry) != 0 {
		t.Fatalf("globex collects acme's host: %+v, %v", none, err)
	}
}

// endpointsDump formats a process tree for a failure message.
func endpointsDump(nodes []*lhk.ProcessNode, indent string) string {
	var sb strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&sb, "\n%s%s (%s) ← %s (%s)", indent, n.Name, n.PID, n.ParentName, n.ParentPID)
		sb.WriteString(endpointsDump(n.Children, indent+"  "))
	}
	return sb.String()
}
