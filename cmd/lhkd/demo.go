package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
	demodata "github.com/lhk-soc/lhk/demo"
)

// Demo users and their fixed tokens: the demo is for a laptop, so the commands
// it prints can be pasted as they are.
var demoUsers = []struct {
	name  string
	role  lhk.Role
	token string
}{
	{"alice", lhk.RoleAnalyst, "lhk_demo_alice"},
	{"victor", lhk.RoleViewer, "lhk_demo_victor"},
}

const (
	demoAdminToken = "lhk_demo_admin"
	demoAliceToken = "lhk_demo_alice"
	// demoEventsEnv sizes the demo dataset (events a day per tenant) at first
	// start; tests set it small. Unset, the dataset has demodata.DefaultEventsPerDay.
	demoEventsEnv = "LHK_DEMO_EVENTS_PER_DAY"
)

// demoTenants are the tenants the demo's users and plugins work on.
var demoTenants = []string{demodata.TenantAcme, demodata.TenantGlobex}

// demoPlugin is the setup lhkd demo gives a shipped plugin when plugins/
// holds it: its grant on demoTenants, a schedule, a webhook.
type demoPlugin struct {
	name         string
	capabilities []string // capabilities lhk does not know (yet) are left out
	schedule     *demoSchedule
	webhook      bool
	config       map[string]string // set once, when the plugin has no config yet
}

// demoSchedule is the body of PUT /v1/plugins/{name}/schedule.
type demoSchedule struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Input    string `json:"input"`
	Enabled  bool   `json:"enabled"`
}

var demoPlugins = []demoPlugin{
	{name: "report",
		capabilities: []string{lhk.CapLogsRead, lhk.CapTicketsRead, lhk.CapFiltersRead, lhk.CapReportsWrite},
		config:       map[string]string{"timezone": "Asia/Tokyo"},
		schedule:     &demoSchedule{Cron: "0 6 * * 1", Timezone: "Asia/Tokyo", Input: `{"tenant":"acme"}`, Enabled: true}},
	{name: "filter-upkeep",
		capabilities: []string{lhk.CapLogsRead, lhk.CapFiltersRead, lhk.CapFiltersWrite, lhk.CapNotifySend},
		schedule:     &demoSchedule{Cron: "0 7 * * *", Timezone: "Asia/Tokyo", Input: `{"tenant":"*","stale_days":30}`, Enabled: true}},
	{name: "endpoint-triage",
		capabilities: []string{lhk.CapLogsRead, lhk.CapAssetsRead, lhk.CapEndpointsRead, lhk.CapTicketsRead, lhk.CapTicketsWrite},
		// The story's lateral logon comes about 110 minutes after its alert.
		config: map[string]string{"window_minutes": "120"}},
	{name: "alert-intake",
		capabilities: []string{lhk.CapTicketsRead, lhk.CapTicketsWrite, "plugins.invoke", lhk.CapLogsRead},
		webhook:      true},
	{name: "ioc-extract",
		schedule: &demoSchedule{Cron: "@every 1m", Timezone: "Asia/Tokyo", Enabled: true,
			Input: "Beacon from WS01 to 203.0.113.7 (evil-c2.example.net), payload sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
}

// demoState is what seedDemo loaded, for the start-up message.
type demoState struct {
	events        map[string]int64 // per tenant, in the dataset's range
	ingested      bool             // this start generated and ingested the dataset
	took          time.Duration    // how long generating and ingesting took
	assets        map[string]int   // per tenant
	plugins       []string         // registered from plugins/, by name
	webhookSecret string           // alert-intake's secret, when set by this start
}

// demo runs lhkd with demo users, the demo dataset in the logs store, the
// demo assets, and the plugins in ./plugins built from source, registered,
// granted and scheduled.
func demo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return fmt.Errorf("the demo uses well-known tokens: listen on a loopback address, not %s", cfg.Listen)
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = demoAdminToken
	}
	d, err := open(ctx, cfg, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := seedDemo(ctx, d, cfg, stdout)
	if err != nil {
		d.close(context.Background())
		return fmt.Errorf("seed demo: %w", err)
	}
	printDemo(stdout, d, cfg, st)
	return d.serveUntil(ctx)
}

// seedDemo makes the demo's state: users, assets, the dataset (at first
// start), and the plugins with their setup. A second start on the same data
// directory changes nothing that is already there.
func seedDemo(ctx context.Context, d *daemon, cfg config, stdout io.Writer) (*demoState, error) {
	st := &demoState{assets: map[string]int{}}
	actx := lhk.NewContextWithActor(ctx, "lhkd")
	for _, u := range demoUsers {
		if _, err := d.db.User(ctx, u.name); err == nil {
			continue
		}
		user := &lhk.User{Name: u.name, Role: u.role}
		if u.role == lhk.RoleAnalyst {
			user.Ceiling = lhk.Ceiling{Capabilities: lhk.Capabilities, Tenants: demoTenants}
		}
		if err := d.db.CreateUser(actx, user, lhk.TokenHash(u.token)); err != nil {
			return nil, fmt.Errorf("create user %s: %w", u.name, err)
		}
	}
	for _, a := range demodata.Assets() {
		if _, err := d.state.UpsertAsset(actx, &a); err != nil {
			return nil, fmt.Errorf("upsert asset %s: %w", a.Name, err)
		}
		st.assets[a.Tenant]++
	}

	// The dataset loads while the plugins build: both take a while at first start.
	type loaded struct {
		events   map[string]int64
		ingested bool
		took     time.Duration
		err      error
	}
	done := make(chan loaded, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		var l loaded
		start := time.Now()
		l.ingested, l.err = loadDemoData(lctx, d, cfg.Data, stdout)
		l.took = time.Since(start)
		if l.err == nil {
			l.events, l.err = demoEventCounts(lctx, d)
		}
		done <- l
	}()
	plugins, err := registerDemoPlugins(ctx, d, cfg, stdout, st)
	if err != nil {
		cancel()
		<-done
		return nil, err
	}
	st.plugins = plugins
	l := <-done
	if l.err != nil {
		return nil, l.err
	}
	st.events, st.ingested, st.took = l.events, l.ingested, l.took
	return st, nil
}

// demoRange is the time range of the demo dataset.
func demoRange() (from, to time.Time) {
	return demodata.DefaultStart, demodata.DefaultStart.AddDate(0, 0, demodata.DefaultDays)
}

// demoEventCounts counts each demo tenant's events in the dataset's range.
func demoEventCounts(ctx context.Context, d *daemon) (map[string]int64, error) {
	from, to := demoRange()
	counts := map[string]int64{}
	for _, t := range demoTenants {
		r, err := d.logs.Count(ctx, lhk.CountRequest{Tenant: t, From: from, To: to})
		if err != nil {
			return nil, fmt.Errorf("count %s events: %w", t, err)
		}
		counts[t] = r.Count
	}
	return counts, nil
}

// demoMarker, in the data directory, records that the dataset loaded whole.
const demoMarker = "demo-dataset.json"

// loadDemoData generates the demo dataset into the logs store unless the
// store already holds demo events (a second start), and marks the data
// directory once it loaded whole.
func loadDemoData(ctx context.Context, d *daemon, dataDir string, stdout io.Writer) (bool, error) {
	counts, err := demoEventCounts(ctx, d)
	if err != nil {
		return false, err
	}
	marker := filepath.Join(dataDir, demoMarker)
	for _, n := range counts {
		if n > 0 {
			if _, err := os.Stat(marker); err != nil {
				fmt.Fprintf(stdout, "warning: the demo dataset in %s may be incomplete (an earlier first start stopped while loading it): delete the folder to load it again\n", dataDir)
			}
			return false, nil
		}
	}
	opts := demodata.Options{}
	if v := os.Getenv(demoEventsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > demodata.MaxEventsPerDay {
			return false, fmt.Errorf("%s=%q: want a number of events a day from 1 to %d", demoEventsEnv, v, demodata.MaxEventsPerDay)
		}
		opts.EventsPerDay = n
	}
	fmt.Fprintln(stdout, "generating and loading the demo dataset…")
	pr, pw := io.Pipe()
	gen := make(chan error, 1)
	go func() {
		_, err := demodata.Generate(opts, pw)
		pw.CloseWithError(err)
		gen <- err
	}()
	res, err := d.logs.Ingest(ctx, "", pr)
	pr.CloseWithError(io.ErrClosedPipe) // stops the generator if ingest gave up early
	if gerr := <-gen; gerr != nil && err == nil {
		err = gerr
	}
	if err != nil {
		return false, fmt.Errorf("load demo dataset: %w", err)
	}
	if res.Rejected > 0 {
		return true, fmt.Errorf("load demo dataset: %d events rejected, first: %+v", res.Rejected, res.Errors[0])
	}
	if err := os.WriteFile(marker, mustJSON(map[string]any{"options": opts, "accepted": res.Accepted, "loaded_at": time.Now().UTC()}), 0o600); err != nil {
		return true, fmt.Errorf("load demo dataset: %w", err)
	}
	return true, nil
}

// registerDemoPlugins builds every plugin in ./plugins, uploads it as alice,
// and gives the shipped ones their grant, schedule and webhook as admin, once:
// a plugin that already has a grant or schedule keeps it.
func registerDemoPlugins(ctx context.Context, d *daemon, cfg config, stdout io.Writer, st *demoState) ([]string, error) {
	mains, _ := filepath.Glob(filepath.Join("plugins", "*", "main.go"))
	if len(mains) == 0 {
		fmt.Fprintln(stdout, "no plugins/ folder here: run the demo from the repository root to get demo plugins")
		return nil, nil
	}
	var names []string
	for _, main := range mains {
		dir := filepath.Dir(main)
		name := filepath.Base(dir)
		fmt.Fprintf(stdout, "building plugin %s…\n", name)
		wasm, err := buildPlugin(ctx, dir, filepath.Join(cfg.Data, "build", name+".wasm"))
		if err != nil {
			return nil, err
		}
		if err := demoUpload(d, name, wasm); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	for _, dp := range demoPlugins {
		if !slices.Contains(names, dp.name) {
			continue
		}
		p, err := d.db.Plugin(ctx, dp.name)
		if err != nil {
			return nil, fmt.Errorf("read plugin %s: %w", dp.name, err)
		}
		caps := slices.DeleteFunc(slices.Clone(dp.capabilities), func(c string) bool { return !lhk.ValidCapability(c) })
		if len(caps) > 0 && len(p.Grant.Capabilities) == 0 {
			g := lhk.Grant{Capabilities: caps, Tenants: demoTenants, AllowedHosts: []string{}}
			if _, err := demoRequest(d, cfg.AdminToken, "PUT", "/v1/plugins/"+dp.name+"/grant", mustJSON(g)); err != nil {
				return nil, err
			}
		}
		if dp.schedule != nil && p.Schedule == nil {
			if _, err := demoRequest(d, cfg.AdminToken, "PUT", "/v1/plugins/"+dp.name+"/schedule", mustJSON(dp.schedule)); err != nil {
				return nil, err
			}
		}
		if len(dp.config) > 0 && len(p.Config) == 0 {
			body := mustJSON(map[string]any{"config": dp.config})
			if _, err := demoRequest(d, cfg.AdminToken, "PATCH", "/v1/plugins/"+dp.name, body); err != nil {
				return nil, err
			}
		}
		if dp.webhook {
			if _, err := d.db.WebhookSecret(ctx, dp.name); lhk.ErrorCode(err) == lhk.ENOTFOUND {
				b, err := demoRequest(d, cfg.AdminToken, "POST", "/v1/plugins/"+dp.name+"/webhook", []byte("{}"))
				if err != nil {
					return nil, err
				}
				var res struct{ Secret string }
				if err := json.Unmarshal(b, &res); err != nil || res.Secret == "" {
					return nil, fmt.Errorf("set webhook of %s: no secret in %s", dp.name, b)
				}
				st.webhookSecret = res.Secret
			} else if err != nil {
				return nil, fmt.Errorf("read webhook of %s: %w", dp.name, err)
			}
		}
	}
	return names, nil
}

// demoUpload uploads a plugin module as alice, unless it is the plugin's
// current version already.
func demoUpload(d *daemon, name string, wasm []byte) error {
	if p, err := d.db.Plugin(context.Background(), name); err == nil {
		if v := p.Current(); v != nil && v.SHA256 == sha256Hex(wasm) {
			return nil
		}
	}
	_, err := demoRequest(d, demoAliceToken, "POST", "/v1/plugins/"+name+"/versions", wasm)
	return err
}

// demoRequest sends one API request through the daemon's handler with a
// user's token, so it is checked and audited like any other, and returns the
// response body.
func demoRequest(d *daemon, token, method, path string, body []byte) ([]byte, error) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if method != "POST" || !strings.HasSuffix(path, "/versions") {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	d.api.ServeHTTP(rec, req)
	if rec.Code == http.StatusUnauthorized && token != demoAliceToken {
		return nil, fmt.Errorf("%s %s: the admin token was refused: start the demo with the LHK_ADMIN_TOKEN of its first start, or delete its data directory", method, path)
	}
	if rec.Code >= 300 {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return rec.Body.Bytes(), nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// printDemo prints what the demo loaded and commands to try.
func printDemo(w io.Writer, d *daemon, cfg config, st *demoState) {
	ctx := context.Background()
	from, to := demoRange()
	how := "loaded earlier"
	if st.ingested {
		how = fmt.Sprintf("generated and loaded in %.1fs", st.took.Seconds())
	}
	fmt.Fprintf(w, "\nDemo data (%s): %d events in acme, %d in globex, %s to %s; assets: %d in acme, %d in globex.\n",
		how, st.events[demodata.TenantAcme], st.events[demodata.TenantGlobex], from.Format(time.DateOnly), to.Add(-time.Second).Format(time.DateOnly),
		st.assets[demodata.TenantAcme], st.assets[demodata.TenantGlobex])
	fmt.Fprintf(w, "The attack story is in acme: %s opens %s on %s at %s.\n",
		demodata.Story.User, demodata.Story.Attachment, demodata.Story.PatientZeroHost, demodata.StoryTime(from).Format(time.RFC3339))
	if len(st.plugins) > 0 {
		fmt.Fprintln(w, "Plugins (owner alice):")
	}
	for _, name := range st.plugins {
		p, err := d.db.Plugin(ctx, name)
		if err != nil {
			continue
		}
		line := fmt.Sprintf("  %-16s v%d", name, p.CurrentVersion)
		if len(p.Grant.Capabilities) > 0 {
			line += fmt.Sprintf("  grant %s on %s", strings.Join(p.Grant.Capabilities, ","), strings.Join(p.Grant.Tenants, ","))
		}
		if s := p.Schedule; s != nil {
			line += fmt.Sprintf("  schedule %q %s", s.Cron, s.Timezone)
			if s.Input != "" && len(s.Input) < 60 {
				line += " input " + s.Input
			}
		}
		fmt.Fprintln(w, line)
	}

	url := d.URL()
	fmt.Fprintf(w, "\nlhkd listening on %s\n", url)
	span := fmt.Sprintf(`"from":"%s","to":"%s"`, from.Format(time.RFC3339), to.Format(time.RFC3339))
	fmt.Fprintf(w, `
Demo users: admin (token %s), alice the analyst (%s), victor the viewer (lhk_demo_victor).
Web UI: %s/ (sign in with one of those tokens)
Try:
  export LHK=%s TOKEN=%s
  # free text: the encoded PowerShell of the attack (the same in globex finds nothing)
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"acme","query":"powershell -enc",%s,"limit":5}' $LHK/v1/logs/search
  # fields: what WINWORD.EXE started
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"acme","fields":[{"field":"process.parent.name","op":"eq","value":"WINWORD.EXE"},{"field":"host.name","op":"eq","value":"%s"}],%s}' $LHK/v1/logs/search_fields
  # the plugins, and a run of ioc-extract
  curl -s -H "Authorization: Bearer $TOKEN" $LHK/v1/plugins
  curl -s -H "Authorization: Bearer $TOKEN" --data 'Callback to 198.51.100.23 and hxxp://bad.example.org/x' $LHK/v1/plugins/ioc-extract/invoke
  # what cron ran
  curl -s -H "Authorization: Bearer $TOKEN" "$LHK/v1/invocations?trigger=cron&limit=5"
`, cfg.AdminToken, demoAliceToken, url, url, demoAliceToken, span, demodata.Story.PatientZeroHost, span)
	if slices.Contains(st.plugins, "endpoint-triage") {
		fmt.Fprintf(w, `  # triage the first victim's host around the attack
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"acme","host":"%s","time":"%s","window_minutes":120}' $LHK/v1/plugins/endpoint-triage/invoke
`, demodata.Story.PatientZeroHost, demodata.StoryTime(from).Add(30*time.Minute).Format(time.RFC3339))
	}
	if slices.Contains(st.plugins, "report") {
		fmt.Fprintf(w, `  # the weekly report of acme for the demo week
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"acme",%s}' $LHK/v1/plugins/report/invoke
`, span)
	}
	if st.webhookSecret != "" {
		fmt.Fprintf(w, `
alert-intake's webhook secret (shown once; rotate with POST $LHK/v1/plugins/alert-intake/webhook):
  %s
Send it the SIEM alert of the attack, signed:
  BODY='%s'
  TS=$(date +%%s)
  SIG=$(printf '%%s.%%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac '%s' | awk '{print $NF}')
  curl -s -H "X-Lhk-Timestamp: $TS" -H "X-Lhk-Signature: sha256=$SIG" --data "$BODY" $LHK/hooks/alert-intake
`, st.webhookSecret, demodata.StoryAlert(from), st.webhookSecret)
	} else if slices.Contains(st.plugins, "alert-intake") {
		fmt.Fprintln(w, "\nalert-intake's webhook secret was shown at first start; rotate it with:\n  curl -s -X POST -H \"Authorization: Bearer "+cfg.AdminToken+"\" $LHK/v1/plugins/alert-intake/webhook")
	}
	fmt.Fprintf(w, "Stop with Ctrl-C; data stays in %s (delete it to start again).\n", cfg.Data)
}

// buildPlugin compiles a Go plugin package to out with the standard toolchain.
func buildPlugin(ctx context.Context, dir, out string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-buildmode=c-shared", "-o", abs, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %v\n%s", dir, err, b)
	}
	return os.ReadFile(abs)
}
