package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	demodata "github.com/lhk-soc/lhk/demo"
)

// upkeepOutput is filter-upkeep's output.
type upkeepOutput struct {
	Tenants []string
	Expired []struct {
		Tenant, Name string
		Deleted      bool
	}
	Stale     []struct{ Tenant, Name, Owner string }
	Proposals []struct {
		Tenant, Name, Why string
		Conditions        []any
		Events            int
	}
	Withheld []struct {
		Conditions []any
		Events     int
		Reason     string
	}
	Notified []string
	Summary  string
}

// filterNames lists a tenant's filters, expired ones too.
func (u *usecase) filterNames(t *testing.T, tenant string) []string {
	t.Helper()
	var names []string
	for _, f := range u.call(t, "/v1/filters/list", map[string]any{"tenant": tenant, "include_expired": true})["filters"].([]any) {
		names = append(names, f.(map[string]any)["name"].(string))
	}
	slices.Sort(names)
	return names
}

// storyConditions single out the attack story's events: its user, its C2,
// its encoded command, its service and tools.
var storyConditions = [][]any{
	{map[string]any{"field": "user.name", "op": "eq", "value": demodata.Story.User}},
	{map[string]any{"field": "user.target.name", "op": "eq", "value": demodata.Story.User}},
	{map[string]any{"field": "destination.ip", "op": "eq", "value": demodata.Story.C2IP}},
	{map[string]any{"field": "url.domain", "op": "eq", "value": demodata.Story.C2Domain}},
	{map[string]any{"field": "process.command_line", "op": "contains", "value": demodata.Story.EncodedMarker}},
	{map[string]any{"field": "process.name", "op": "eq", "value": "PSEXESVC.exe"}},
	{map[string]any{"field": "event.code", "op": "eq", "value": "7045"}},
	{map[string]any{"field": "process.parent.name", "op": "contains", "value": "WINWORD"}},
}

// conditionsOf turns a noise pattern's conditions into JSON values.
func conditionsOf(n demodata.NoisePattern) []any {
	var out []any
	b, _ := json.Marshal(n.Conditions)
	json.Unmarshal(b, &out)
	return out
}

// TestUseCaseFilterUpkeep: on the demo data, filter-upkeep reports acme's
// expired and stale filters, proposes suppressions for the noise patterns
// and never for the attack, creates no filter, notifies the soc channel, and
// shows nothing of globex.
func TestUseCaseFilterUpkeep(t *testing.T) {
	// The week ends at today's midnight: all of it lies in the plugin's
	// window, which ends now.
	u := newUsecase(t, 1500, time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -7))
	u.install(t, "filter-upkeep", "logs.read", "filters.read", "filters.write", "notify.send")

	yesterday := time.Now().UTC().Add(-24 * time.Hour).Format(time.RFC3339)
	netbios := acmeNoise(t, demodata.NoiseNetBIOSDenies)
	for _, f := range []map[string]any{
		{"tenant": "acme", "name": "pentest-2026-10", "reason": "October's penetration test", "expires_at": yesterday,
			"conditions": []any{map[string]any{"field": "source.ip", "op": "eq", "value": "10.99.0.1"}}},
		{"tenant": "acme", "name": "old-av-updates", "reason": "the retired antivirus' updates",
			"conditions": []any{map[string]any{"field": "process.name", "op": "eq", "value": "oldav_update.exe"}}},
		{"tenant": "acme", "name": "netbios-denies", "reason": netbios.Description, "conditions": conditionsOf(netbios)},
		{"tenant": "globex", "name": "globex-expired-rule", "reason": "GLOBEX only", "expires_at": yesterday,
			"conditions": []any{map[string]any{"field": "source.ip", "op": "eq", "value": "10.99.0.2"}}},
		{"tenant": "globex", "name": "globex-stale-rule", "reason": "GLOBEX only",
			"conditions": []any{map[string]any{"field": "process.name", "op": "eq", "value": "nothing.exe"}}},
	} {
		u.call(t, "/v1/filters/upsert", f)
	}
	before := u.filterNames(t, "acme")

	res := u.must(t, http.StatusOK, "POST", "/v1/plugins/filter-upkeep/invoke", u.alice, []byte(`{"tenant":"acme","stale_days":30}`))
	var out upkeepOutput
	if err := json.Unmarshal(res.Body, &out); err != nil {
		t.Fatalf("output: %v: %s", err, res.Body)
	}
	t.Logf("summary:\n%s", out.Summary)

	if len(out.Expired) != 1 || out.Expired[0].Name != "pentest-2026-10" || out.Expired[0].Deleted {
		t.Errorf("expired = %+v, want pentest-2026-10 reported, not deleted", out.Expired)
	}
	if len(out.Stale) != 1 || out.Stale[0].Name != "old-av-updates" || out.Stale[0].Owner != "admin" {
		t.Errorf("stale = %+v, want old-av-updates", out.Stale)
	}
	if after := u.filterNames(t, "acme"); !slices.Equal(after, before) {
		t.Errorf("filters changed: before %v, after %v", before, after)
	}

	// Proposals: at least one is exactly a noise pattern of acme's; none
	// covers an event of the attack or of the filtered NetBIOS noise.
	if len(out.Proposals) == 0 {
		t.Fatalf("no proposals; withheld %+v", out.Withheld)
	}
	noiseFound := map[string]bool{}
	for _, p := range out.Proposals {
		if p.Tenant != "acme" || len(p.Conditions) == 0 || p.Why == "" {
			t.Errorf("proposal %+v", p)
		}
		n := u.count(t, "acme", p.Conditions)
		if n != p.Events || n == 0 {
			t.Errorf("proposal %s says %d events; its conditions match %d", p.Name, p.Events, n)
		}
		for _, sc := range storyConditions {
			if m := u.count(t, "acme", p.Conditions, sc); m > 0 {
				t.Errorf("proposal %s covers %d events of the attack (%v)", p.Name, m, sc)
			}
		}
		if m := u.count(t, "acme", p.Conditions, conditionsOf(netbios)); m > 0 {
			t.Errorf("proposal %s covers %d events already filtered", p.Name, m)
		}
		for _, np := range demodata.Noise {
			if np.Tenant == "acme" && u.count(t, "acme", p.Conditions, conditionsOf(np)) == n {
				noiseFound[np.Name] = true
			}
		}
	}
	if !noiseFound[demodata.NoiseBackupLogonFailures] || !noiseFound[demodata.NoiseMonitoringDNS] {
		t.Errorf("noise patterns proposed: %v; want the backup agent's logon failures and the monitoring DNS lookups", noiseFound)
	}
	if len(out.Withheld) == 0 {
		t.Errorf("the attack's frequent patterns (beacons) were not considered and withheld")
	}

	// One notification, about acme only.
	select {
	case m := <-u.notes:
		b, _ := json.Marshal(m)
		if !strings.Contains(string(b), "acme") || !strings.Contains(string(b), "pentest-2026-10") {
			t.Errorf("notification = %s", b)
		}
		assertNoGlobex(t, "the notification", string(b))
	case <-time.After(10 * time.Second):
		t.Fatal("no notification arrived")
	}
	if !slices.Equal(out.Notified, []string{"acme"}) {
		t.Errorf("notified = %v", out.Notified)
	}
	assertNoGlobex(t, "the output", string(res.Body))
	if logs := u.invocationLogs(t, res); !strings.Contains(logs, "acme: 1 expired, 1 stale") {
		t.Errorf("logs do not say what was found: %s", logs)
	}

	t.Run("GrantedBothTenants", func(t *testing.T) {
		// As the demo grants it: acme and globex. One notification each;
		// acme's notification and its part of the output hold nothing of globex, and
		// globex's names its own filters (so the check can fail).
		both, _ := json.Marshal(map[string]any{"capabilities": []string{"logs.read", "filters.read", "filters.write", "notify.send"}, "tenants": []string{"acme", "globex"}})
		u.must(t, http.StatusOK, "PUT", "/v1/plugins/filter-upkeep/grant", u.alice, both)
		t.Cleanup(func() {
			u.must(t, http.StatusOK, "PUT", "/v1/plugins/filter-upkeep/grant", u.alice, []byte(`{"capabilities":["logs.read","filters.read","filters.write","notify.send"],"tenants":["acme"]}`))
		})
		res := u.must(t, http.StatusOK, "POST", "/v1/plugins/filter-upkeep/invoke", u.alice, []byte(`{"tenant":"*","stale_days":30}`))
		var out struct {
			Tenants   []string
			Proposals []struct {
				Tenant     string
				Conditions []any
			}
			Notified []string
		}
		if err := json.Unmarshal(res.Body, &out); err != nil || !slices.Equal(out.Tenants, []string{"acme", "globex"}) || !slices.Equal(out.Notified, []string{"acme", "globex"}) {
			t.Fatalf("output: %v %s", err, res.Body)
		}
		for _, p := range out.Proposals {
			if p.Tenant != "acme" {
				continue
			}
			b, _ := json.Marshal(p)
			assertNoGlobex(t, "an acme proposal", string(b))
		}
		notes := map[string]string{}
		for range 2 {
			select {
			case m := <-u.notes:
				b, _ := json.Marshal(m)
				notes[fmt.Sprint(m["tenant"])] = string(b)
			case <-time.After(10 * time.Second):
				t.Fatalf("notifications: got %d of 2", len(notes))
			}
		}
		assertNoGlobex(t, "acme's notification", notes["acme"])
		if strings.Contains(notes["acme"], "10.30.") {
			t.Errorf("acme's notification holds a globex address: %s", notes["acme"])
		}
		if !strings.Contains(notes["acme"], "pentest-2026-10") || !strings.Contains(notes["globex"], "globex-stale-rule") {
			t.Errorf("notifications: acme %.200s…, globex %.200s…", notes["acme"], notes["globex"])
		}
	})
	t.Run("DeleteExpired", func(t *testing.T) {
		u.must(t, http.StatusOK, "PATCH", "/v1/plugins/filter-upkeep", u.alice, []byte(`{"config":{"delete_expired":"true","channel":"nowhere"}}`))
		res := u.must(t, http.StatusOK, "POST", "/v1/plugins/filter-upkeep/invoke", u.alice, []byte(`{"tenant":"*"}`))
		var out upkeepOutput
		json.Unmarshal(res.Body, &out)
		if !slices.Equal(out.Tenants, []string{"acme"}) || len(out.Expired) != 1 || !out.Expired[0].Deleted {
			t.Fatalf("tenants %v, expired %+v", out.Tenants, out.Expired)
		}
		want := slices.DeleteFunc(slices.Clone(before), func(n string) bool { return n == "pentest-2026-10" })
		if after := u.filterNames(t, "acme"); !slices.Equal(after, want) {
			t.Errorf("filters after deleting the expired one: %v, want %v", after, want)
		}
		if g := u.filterNames(t, "globex"); len(g) != 2 {
			t.Errorf("globex's filters touched: %v", g)
		}
		// The missing channel is logged, not fatal.
		if logs := u.invocationLogs(t, res); !strings.Contains(logs, `channel \"nowhere\" is not configured`) {
			t.Errorf("logs do not mention the missing channel: %s", logs)
		}
		if len(out.Notified) != 0 {
			t.Errorf("notified %v on a missing channel", out.Notified)
		}
	})
	t.Run("ErrNotGranted", func(t *testing.T) {
		r := u.must(t, http.StatusUnprocessableEntity, "POST", "/v1/plugins/filter-upkeep/invoke", u.alice, []byte(`{"tenant":"globex"}`))
		if !strings.Contains(string(r.Body), `tenant \"globex\" is not in the plugin's grant`) {
			t.Fatalf("globex: %s", r.Body)
		}
		if g := u.filterNames(t, "globex"); len(g) != 2 {
			t.Errorf("globex's filters touched: %v", g)
		}
	})
}
