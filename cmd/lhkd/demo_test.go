package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
	demodata "github.com/lhk-soc/lhk/demo"
	"github.com/lhk-soc/lhk/httpapi"
)

// demoTestEvents keeps the test's dataset small (events a day per tenant).
const demoTestEvents = 200

// startDemo runs `lhkd demo --listen 127.0.0.1:0 --data dir` from the
// repository root and waits for its whole start-up message. It returns the
// daemon and that message.
func startDemo(t *testing.T, dir string) (*testDaemon, string) {
	t.Helper()
	t.Setenv("LHK_ADMIN_TOKEN", "")
	t.Setenv(demoEventsEnv, fmt.Sprint(demoTestEvents))
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--data", dir}, pw, &stderr)
		pw.Close()
	}()
	ready := make(chan string, 1)
	go func() {
		var out strings.Builder
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !sent && strings.HasPrefix(sc.Text(), "Stop with Ctrl-C") {
				ready <- out.String()
				sent = true
			}
		}
		if !sent {
			ready <- out.String()
		}
		close(ready)
	}()
	var msg string
	select {
	case msg = <-ready:
	case <-time.After(10 * time.Minute): // plugins build from source: generous, never a measure
		cancel()
		t.Fatalf("lhkd demo did not start\n%s", stderr.String())
	}
	m := regexp.MustCompile(`(?m)^lhkd listening on (\S+)$`).FindStringSubmatch(msg)
	if m == nil {
		cancel()
		t.Fatalf("lhkd demo exited before listening: %v\n%s\n%s", <-done, msg, stderr.String())
	}
	d := &testDaemon{URL: m[1], Admin: demoAdminToken}
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("lhkd demo shutdown: %v\n%s", err, stderr.String())
		}
	}
	t.Cleanup(d.stop)
	return d, msg
}

func TestDemo(t *testing.T) {
	t.Chdir(filepath.Join("..", ".."))
	mains, _ := filepath.Glob(filepath.Join("plugins", "*", "main.go"))
	var plugins []string
	for _, m := range mains {
		plugins = append(plugins, filepath.Base(filepath.Dir(m)))
	}
	want, err := demodata.Generate(demodata.Options{EventsPerDay: demoTestEvents}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	from, to := demoRange()
	span := fmt.Sprintf(`"from":%q,"to":%q`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	dir := t.TempDir()

	d, out := startDemo(t, dir)
	alice := demoAliceToken
	count := func(t *testing.T, d *testDaemon, tenant string) int {
		t.Helper()
		r := d.must(t, http.StatusOK, "POST", "/v1/logs/count", alice, []byte(fmt.Sprintf(`{"tenant":%q,%s}`, tenant, span)))
		return int(r.JSON(t)["count"].(float64))
	}
	search := func(t *testing.T, path, body string) []map[string]any {
		t.Helper()
		r := d.must(t, http.StatusOK, "POST", path, alice, []byte(body))
		var res struct{ Events []map[string]any }
		if err := json.Unmarshal(r.Body, &res); err != nil {
			t.Fatal(err)
		}
		return res.Events
	}

	t.Run("Output", func(t *testing.T) {
		for _, s := range []string{"generated and loaded", "lhk_demo_alice", "/v1/logs/search", "/v1/logs/search_fields", "ioc-extract/invoke", "trigger=cron"} {
			if !strings.Contains(out, s) {
				t.Errorf("start-up message lacks %q:\n%s", s, out)
			}
		}
		for _, p := range plugins {
			if !strings.Contains(out, "  "+p+" ") {
				t.Errorf("start-up message does not list plugin %s:\n%s", p, out)
			}
		}
	})
	t.Run("Events", func(t *testing.T) {
		for _, tn := range demoTenants {
			if got := count(t, d, tn); got != want.ByTenant[tn] {
				t.Errorf("%s: %d events, want %d", tn, got, want.ByTenant[tn])
			}
			prefix := strings.ToUpper(tn) + "-"
			evs := search(t, "/v1/logs/search_fields", fmt.Sprintf(`{"tenant":%q,"fields":[{"field":"host.name","op":"exists"}],%s,"limit":50}`, tn, span))
			if len(evs) == 0 {
				t.Fatalf("%s: no events with host.name", tn)
			}
			for _, e := range evs {
				if h := fmt.Sprint(e["host.name"]); !strings.HasPrefix(h, prefix) || e["tenant"] != tn {
					t.Fatalf("%s: event of host %s, tenant %v", tn, h, e["tenant"])
				}
			}
		}
	})
	t.Run("Story", func(t *testing.T) {
		cases := []struct{ name, path, query string }{
			{"FreeTextMarker", "/v1/logs/search", fmt.Sprintf(`"query":%q`, demodata.Story.EncodedMarker)},
			{"FreeTextWords", "/v1/logs/search", `"query":"powershell -enc"`},
			{"Fields", "/v1/logs/search_fields", `"fields":[{"field":"process.parent.name","op":"eq","value":"WINWORD.EXE"},{"field":"process.name","op":"eq","value":"powershell.exe"}]`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for _, tn := range demoTenants {
					evs := search(t, c.path, fmt.Sprintf(`{"tenant":%q,%s,%s}`, tn, c.query, span))
					if tn == demodata.Story.Tenant {
						if len(evs) == 0 {
							t.Fatalf("no event in %s", tn)
						}
						if !slices.ContainsFunc(evs, func(e map[string]any) bool {
							return fmt.Sprint(e["process.command_line"]) == demodata.StoryCommandLine
						}) {
							t.Fatalf("%d events found, not the encoded PowerShell: %v", len(evs), evs[0])
						}
					} else if len(evs) > 0 {
						t.Fatalf("%d events in %s: %v", len(evs), tn, evs[0])
					}
				}
			})
		}
	})
	t.Run("Assets", func(t *testing.T) {
		for _, tn := range demoTenants {
			r := d.must(t, http.StatusOK, "GET", "/v1/assets?tenant="+tn, alice, nil)
			var res struct{ Assets []lhk.Asset }
			if err := json.Unmarshal(r.Body, &res); err != nil {
				t.Fatal(err)
			}
			names := map[string]lhk.Asset{}
			for _, a := range res.Assets {
				names[a.Name] = a
			}
			for _, h := range demodata.Hosts(tn) {
				if _, ok := names[h]; !ok {
					t.Errorf("%s: asset %s missing", tn, h)
				}
			}
			if tn == demodata.Story.Tenant && names[demodata.Story.LateralHost].Criticality != "high" {
				t.Errorf("%s = %+v, want criticality high", demodata.Story.LateralHost, names[demodata.Story.LateralHost])
			}
		}
	})
	t.Run("Plugins", func(t *testing.T) {
		if len(plugins) == 0 {
			t.Skip("no plugins in plugins/")
		}
		for _, name := range plugins {
			r := d.must(t, http.StatusOK, "GET", "/v1/plugins/"+name, alice, nil)
			var p lhk.Plugin
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Owner != "alice" || p.CurrentVersion < 1 {
				t.Errorf("%s: owner %s, version %d", name, p.Owner, p.CurrentVersion)
			}
			i := slices.IndexFunc(demoPlugins, func(dp demoPlugin) bool { return dp.name == name })
			if i < 0 {
				continue
			}
			dp := demoPlugins[i]
			caps := slices.DeleteFunc(slices.Clone(dp.capabilities), func(c string) bool { return !lhk.ValidCapability(c) })
			if !sameSet(p.Grant.Capabilities, caps) || (len(caps) > 0 && !sameSet(p.Grant.Tenants, demoTenants)) {
				t.Errorf("%s: grant %+v, want %v on %v", name, p.Grant, caps, demoTenants)
			}
			switch {
			case dp.schedule == nil && p.Schedule != nil:
				t.Errorf("%s: unexpected schedule %+v", name, p.Schedule)
			case dp.schedule != nil && (p.Schedule == nil || p.Schedule.Cron != dp.schedule.Cron || p.Schedule.Input != dp.schedule.Input || !p.Schedule.Enabled):
				t.Errorf("%s: schedule %+v, want %+v", name, p.Schedule, dp.schedule)
			}
			if len(caps) > 0 {
				r := d.must(t, http.StatusOK, "GET", "/v1/audit?actor=admin&target=plugin/"+name, demoAdminToken, nil)
				if !strings.Contains(string(r.Body), "grant") {
					t.Errorf("%s: the audit log shows no grant by admin: %s", name, r.Body)
				}
			}
		}
	})
	t.Run("Webhook", func(t *testing.T) {
		if !slices.Contains(plugins, "alert-intake") {
			t.Skip("no alert-intake plugin")
		}
		m := regexp.MustCompile(`-hmac '(whsec_[0-9a-f]+)'`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no webhook example with its secret in the start-up message:\n%s", out)
		}
		body := demodata.StoryAlert(demodata.DefaultStart)
		ts := time.Now().Unix() - 60 // not the second of the shell example below
		req, _ := http.NewRequest("POST", d.URL+"/hooks/alert-intake", strings.NewReader(string(body)))
		req.Header.Set(httpapi.HeaderTimestamp, fmt.Sprint(ts))
		req.Header.Set(httpapi.HeaderSignature, httpapi.Sign(m[1], ts, body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusUnauthorized {
			t.Fatal("the printed secret does not sign a webhook")
		}
		// The printed shell example works as pasted, where its tools exist.
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("no openssl here")
		}
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("no curl here")
		}
		_, example, _ := strings.Cut(out, "Send it the SIEM alert of the attack, signed:\n")
		example, _, _ = strings.Cut(example, "Stop with Ctrl-C")
		cmd := exec.Command("bash", "-c", "LHK="+d.URL+"\n"+example+"\necho; echo status done")
		b, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(b), "invalid webhook signature") || !strings.Contains(string(b), "status done") {
			t.Fatalf("the webhook example fails: %v\n%s\n%s", err, example, b)
		}
	})

	d.stop()
	d2, out2 := startDemo(t, dir)
	t.Run("SecondStart", func(t *testing.T) {
		if !strings.Contains(out2, "loaded earlier") || strings.Contains(out2, "generating") {
			t.Errorf("second start loads the dataset again:\n%s", out2)
		}
		if strings.Contains(out2, "warning:") {
			t.Errorf("second start warns:\n%s", out2)
		}
		if strings.Contains(out2, "whsec_") {
			t.Errorf("second start prints a webhook secret again:\n%s", out2)
		}
		for _, tn := range demoTenants {
			if got := count(t, d2, tn); got != want.ByTenant[tn] {
				t.Errorf("%s: %d events after a second start, want %d", tn, got, want.ByTenant[tn])
			}
		}
		// An unchanged plugin is not uploaded again (one edited in between is).
		for _, name := range plugins {
			r := d2.must(t, http.StatusOK, "GET", "/v1/plugins/"+name, alice, nil)
			var p lhk.Plugin
			if err := json.Unmarshal(r.Body, &p); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, v := range p.Versions {
				if seen[v.SHA256] {
					t.Errorf("%s: the same module uploaded twice: %+v", name, p.Versions)
				}
				seen[v.SHA256] = true
			}
		}
	})

	// A first start stopped while loading leaves events but no marker: the
	// next start says the dataset may be incomplete rather than load it twice.
	d2.stop()
	if err := os.Remove(filepath.Join(dir, demoMarker)); err != nil {
		t.Fatal(err)
	}
	d3, out3 := startDemo(t, dir)
	t.Run("IncompleteLoad", func(t *testing.T) {
		if !strings.Contains(out3, "warning: the demo dataset") {
			t.Errorf("no warning about an incomplete dataset:\n%s", out3)
		}
		if got := count(t, d3, demodata.TenantAcme); got != want.ByTenant[demodata.TenantAcme] {
			t.Errorf("acme: %d events, want %d", got, want.ByTenant[demodata.TenantAcme])
		}
	})
}

func TestDemoLoopbackOnly(t *testing.T) {
	err := run(context.Background(), []string{"demo", "--listen", "0.0.0.0:0", "--data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("demo on 0.0.0.0: err = %v, want the loopback guard", err)
	}
}

func TestDemoEventsEnv(t *testing.T) {
	t.Chdir(t.TempDir()) // no plugins/ here
	t.Setenv("LHK_ADMIN_TOKEN", "")
	t.Setenv(demoEventsEnv, "lots")
	err := run(context.Background(), []string{"demo", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), demoEventsEnv) {
		t.Fatalf("err = %v, want one naming %s", err, demoEventsEnv)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
