package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// demoTimezone is the time zone of the demo's schedules and reports: the
// dataset's days are UTC days, so a report of "the previous week" and its day
// rows line up with them.
const demoTimezone = "UTC"

var demoPlugins = []demoPlugin{
	// Every Monday, the week just ended for both tenants ("*": every tenant
	// of the grant).
	{name: "report",
		capabilities: []string{lhk.CapLogsRead, lhk.CapTicketsRead, lhk.CapFiltersRead, lhk.CapReportsWrite},
		config:       map[string]string{"timezone": demoTimezone},
		schedule:     &demoSchedule{Cron: "0 6 * * 1", Timezone: demoTimezone, Input: `{"tenant":"*"}`, Enabled: true}},
	// delete_expired stays unset, so no filters.write: expired filters are
	// reported to their owners, not deleted (docs/plugins.md).
	{name: "filter-upkeep",
		capabilities: []string{lhk.CapLogsRead, lhk.CapFiltersRead, lhk.CapNotifySend},
		schedule:     &demoSchedule{Cron: "0 7 * * *", Timezone: demoTimezone, Input: `{"tenant":"*","stale_days":30}`, Enabled: true}},
	{name: "endpoint-triage",
		capabilities: []string{lhk.CapLogsRead, lhk.CapAssetsRead, lhk.CapEndpointsRead, lhk.CapTicketsRead, lhk.CapTicketsWrite},
		// The story's lateral logon comes about 110 minutes after its alert;
		// the known-bad indicators are the story's C2 address and domain, as
		// a threat feed would list them.
		config: map[string]string{"window_minutes": "120", "iocs": strings.Join(demodata.IOCs(), ",")}},
	// alert-intake searches and writes tickets and starts endpoint-triage;
	// it reads no logs.
	{name: "alert-intake",
		capabilities: []string{lhk.CapTicketsRead, lhk.CapTicketsWrite, lhk.CapPluginsInvoke},
		webhook:      true},
	{name: "ioc-extract",
		schedule: &demoSchedule{Cron: "@every 1m", Timezone: demoTimezone, Enabled: true,
			Input: "Beacon from WS01 to 203.0.113.7 (evil-c2.example.net), payload sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
}

// demoState is what seedDemo set up, for the start-up message.
type demoState struct {
	today         time.Time // the day the demo takes for today
	week          demoWeek
	assets        map[string]int // per tenant
	plugins       []string       // registered from plugins/, by name
	webhookSecret string         // alert-intake's secret, when set by this start
	load          *demoLoad      // the dataset's loading; nil when it loaded earlier
	events        map[string]int64
	inbox         *demoInbox // the demo's notification channel; nil when --notify names it
}

// demoWeek is the week the demo dataset covers.
type demoWeek struct {
	Start    time.Time // Monday 00:00 UTC
	Complete bool      // every event of it loaded
	Earlier  bool      // an earlier start loaded it
}

// Range is the half-open time range of the week's data.
func (w demoWeek) Range() (from, to time.Time) {
	return w.Start, w.Start.AddDate(0, 0, demodata.DefaultDays)
}

// demo runs lhkd with demo users and assets, the plugins in ./plugins built
// from source, registered, granted and scheduled, and a notification channel
// "soc" kept in the process; it serves as soon as those are there, while the
// dataset of the last whole week and the demo's filters and tickets load.
func demo(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if host, _, err := net.SplitHostPort(cfg.Listen); err == nil && host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return fmt.Errorf("the demo uses well-known tokens: listen on a loopback address, not %s", cfg.Listen)
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = demoAdminToken
	}
	today, err := demoToday()
	if err != nil {
		return err
	}
	// Compiling the plugins' machine code is most of a start on a new data
	// directory; like Go's build cache, the demo keeps it in the user's
	// cache directory (it is keyed by the module's hash and the runtime).
	if dir, err := os.UserCacheDir(); err == nil {
		cfg.CompileCache = filepath.Join(dir, "lhk", "compile-cache")
	}
	inbox, err := listenDemoInbox(&cfg)
	if err != nil {
		return err
	}
	d, err := open(ctx, cfg, stdout, stderr)
	if err != nil {
		inbox.close()
		return err
	}
	inbox.serve(d.log)
	defer inbox.close()
	st, err := seedDemo(ctx, d, cfg, today, stdout)
	if err != nil {
		d.close(context.Background())
		return fmt.Errorf("seed demo: %w", err)
	}
	st.inbox = inbox
	printDemo(stdout, d, cfg, st)
	if st.load == nil {
		return d.serveUntil(ctx)
	}
	// The loading stops before the daemon drains and closes its stores.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		select {
		case <-ctx.Done():
			st.load.cancel()
			<-st.load.done
		case <-st.load.done:
			<-ctx.Done()
		}
		stop()
	}()
	go func() {
		<-st.load.done
		if err := st.load.err; err != nil {
			if ctx.Err() == nil {
				d.log.Error("loading the demo data failed", "err", err)
				fmt.Fprintf(stdout, "\nloading the demo data failed: %v\n", err)
			}
			return
		}
		printDemoLoaded(stdout, st.week, st.load)
	}()
	return d.serveUntil(sctx)
}

// demoTodayEnv sets the day the demo takes for today (YYYY-MM-DD), which
// picks the week of a new dataset; tests set it. Unset, it is today in UTC.
const demoTodayEnv = "LHK_DEMO_TODAY"

// demoToday is the day the demo takes for today.
func demoToday() (time.Time, error) {
	v := os.Getenv(demoTodayEnv)
	if v == "" {
		return time.Now().UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, fmt.Errorf("%s=%q: want a day such as 2026-11-27", demoTodayEnv, v)
	}
	return t, nil
}

// seedDemo makes the demo's state: users, assets, the plugins with their
// setup, and at first start begins loading the dataset of the week before
// today with the demo's filters and tickets (see demoLoad). A later start on
// the same data directory keeps what is there, and its week.
func seedDemo(ctx context.Context, d *daemon, cfg config, today time.Time, stdout io.Writer) (*demoState, error) {
	st := &demoState{today: today, assets: map[string]int{}}
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
	opts, err := demoOptions()
	if err != nil {
		return nil, err
	}
	week, err := readDemoWeek(ctx, d, cfg.Data, today)
	if err != nil {
		return nil, err
	}
	st.week = week
	// The plugins first, with every core: the daemon serves once they are
	// registered, and the dataset loads after.
	plugins, err := registerDemoPlugins(ctx, d, cfg, stdout, st)
	if err != nil {
		return nil, err
	}
	st.plugins = plugins
	if week.Earlier {
		if st.events, err = demoEventCounts(ctx, d, week); err != nil {
			return nil, err
		}
		return st, nil
	}
	opts.Start = week.Start
	if err := writeDemoMarker(cfg.Data, demoMarkerData{Start: week.Start.Format(time.DateOnly), Options: opts}); err != nil {
		return nil, err
	}
	st.load = startDemoLoad(ctx, d, cfg.Data, opts, stdout)
	return st, nil
}

// demoOptions are the generator's options, sized by demoEventsEnv.
func demoOptions() (demodata.Options, error) {
	opts := demodata.Options{}
	if v := os.Getenv(demoEventsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > demodata.MaxEventsPerDay {
			return opts, fmt.Errorf("%s=%q: want a number of events a day from 1 to %d", demoEventsEnv, v, demodata.MaxEventsPerDay)
		}
		opts.EventsPerDay = n
	}
	return opts, nil
}

// demoEventCounts counts each demo tenant's events in the week.
func demoEventCounts(ctx context.Context, d *daemon, w demoWeek) (map[string]int64, error) {
	from, to := w.Range()
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

// demoMarker, in the data directory, records the week of the dataset the
// directory holds and whether it loaded whole.
const demoMarker = "demo-dataset.json"

// demoMarkerData is the content of demoMarker.
type demoMarkerData struct {
	Start    string           `json:"start"` // the week's Monday, YYYY-MM-DD
	Options  demodata.Options `json:"options"`
	Complete bool             `json:"complete"` // every event loaded, filters and tickets seeded
	Accepted int              `json:"accepted,omitempty"`
	LoadedAt *time.Time       `json:"loaded_at,omitempty"`
}

func writeDemoMarker(dir string, m demoMarkerData) error {
	if err := os.WriteFile(filepath.Join(dir, demoMarker), mustJSON(m), 0o600); err != nil {
		return fmt.Errorf("record the demo dataset: %w", err)
	}
	return nil
}

// readDemoWeek says which week the data directory holds: the marker's, or
// for a directory of a version that marked no week, the fixed week it
// loaded (demodata.DefaultStart); for a new directory the last whole week
// before today.
func readDemoWeek(ctx context.Context, d *daemon, dir string, today time.Time) (demoWeek, error) {
	b, err := os.ReadFile(filepath.Join(dir, demoMarker))
	switch {
	case err == nil:
		var m demoMarkerData
		if err := json.Unmarshal(b, &m); err != nil {
			return demoWeek{}, fmt.Errorf("read %s: %w (delete the data directory to start again)", demoMarker, err)
		}
		if m.Start == "" { // marked by a version that loaded one fixed week, whole
			return demoWeek{Start: demodata.DefaultStart, Complete: true, Earlier: true}, nil
		}
		start, err := time.Parse(time.DateOnly, m.Start)
		if err != nil {
			return demoWeek{}, fmt.Errorf("read %s: start %q: %w", demoMarker, m.Start, err)
		}
		return demoWeek{Start: start, Complete: m.Complete, Earlier: true}, nil
	case !errors.Is(err, fs.ErrNotExist):
		return demoWeek{}, fmt.Errorf("read %s: %w", demoMarker, err)
	}
	// No marker: a new directory, unless the fixed week of an older version
	// started loading there and stopped.
	old := demoWeek{Start: demodata.DefaultStart, Earlier: true}
	counts, err := demoEventCounts(ctx, d, old)
	if err != nil {
		return demoWeek{}, err
	}
	for _, n := range counts {
		if n > 0 {
			return old, nil
		}
	}
	return demoWeek{Start: demodata.WeekStart(today)}, nil
}

// demoLoad is the loading of the demo dataset, then of the demo's filters
// and tickets, in the background. Progress shows on /readyz until it ends.
type demoLoad struct {
	cancel   context.CancelFunc
	done     chan struct{} // closed when it ended; then err, took and events are set
	expected int64         // background events, a lower bound of the events to read
	read     atomic.Int64  // events read so far
	err      error
	took     time.Duration
	events   map[string]int64
	filters  int
	tickets  int
}

// startDemoLoad generates the dataset of opts into the logs store, seeds
// the filters and tickets, and marks the data directory complete.
func startDemoLoad(ctx context.Context, d *daemon, dataDir string, opts demodata.Options, stdout io.Writer) *demoLoad {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &demoLoad{cancel: cancel, done: make(chan struct{})}
	l.expected = int64(demodata.DefaultDays) * int64(cmp.Or(opts.EventsPerDay, demodata.DefaultEventsPerDay)) * int64(len(demoTenants))
	week := demoWeek{Start: opts.Start}
	from, to := week.Range()
	fmt.Fprintf(stdout, "loading the demo data of %s – %s in the background…\n", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	d.notReady = l.progress // set before serving; progress says when it is over
	go func() {
		defer close(l.done)
		start := time.Now()
		res, err := l.ingest(ctx, d, opts)
		if err == nil {
			l.filters, l.tickets, err = seedDemoCases(ctx, d, opts.Start)
		}
		if err == nil {
			l.events, err = demoEventCounts(ctx, d, week)
		}
		if err == nil {
			now := time.Now().UTC()
			err = writeDemoMarker(dataDir, demoMarkerData{Start: opts.Start.Format(time.DateOnly), Options: opts, Complete: true, Accepted: res.Accepted, LoadedAt: &now})
		}
		l.took, l.err = time.Since(start), err
		if err == nil {
			d.log.Info("demo data loaded", "events", res.Accepted, "filters", l.filters, "tickets", l.tickets, "took", l.took.Round(time.Millisecond).String())
		}
	}()
	// The log says how far it got at each tenth.
	go func() {
		last := 0
		for {
			select {
			case <-l.done:
				return
			case <-time.After(250 * time.Millisecond):
			}
			if p := l.percent(); p/10 > last/10 {
				last = p
				d.log.Info("loading demo data", "percent", p)
			}
		}
	}()
	return l
}

// ingest streams the generator's output into the logs store.
func (l *demoLoad) ingest(ctx context.Context, d *daemon, opts demodata.Options) (*lhk.IngestResult, error) {
	pr, pw := io.Pipe()
	gen := make(chan error, 1)
	go func() {
		_, err := demodata.Generate(opts, pw)
		pw.CloseWithError(err)
		gen <- err
	}()
	res, err := d.logs.Ingest(ctx, "", &countingReader{r: pr, lines: &l.read})
	pr.CloseWithError(io.ErrClosedPipe) // stops the generator if ingest gave up early
	if gerr := <-gen; gerr != nil && err == nil {
		err = gerr
	}
	if err != nil {
		return nil, fmt.Errorf("load demo dataset: %w", err)
	}
	if res.Rejected > 0 {
		return nil, fmt.Errorf("load demo dataset: %d events rejected, first: %+v", res.Rejected, res.Errors[0])
	}
	return res, nil
}

// percent is how much of the dataset was read, 0–99 until the loading ends.
func (l *demoLoad) percent() int {
	p := int(l.read.Load() * 100 / max(l.expected, 1))
	return min(p, 99)
}

// progress is the reason /readyz gives while the data loads.
func (l *demoLoad) progress() string {
	select {
	case <-l.done:
		if l.err != nil {
			return "loading demo data failed: see the log"
		}
		return ""
	default:
	}
	if l.read.Load() >= l.expected {
		return "loading demo data: filters and tickets"
	}
	return fmt.Sprintf("loading demo data: %d%%", l.percent())
}

// countingReader counts the lines read through it.
type countingReader struct {
	r     io.Reader
	lines *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.lines.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}

// seedDemoCases gives each tenant the demo's analysis filters, with their
// hits of the last 30 days counted in the logs, and tickets.
func seedDemoCases(ctx context.Context, d *daemon, start time.Time) (filters, tickets int, err error) {
	actx := lhk.NewContextWithActor(ctx, "lhkd")
	now := time.Now().UTC()
	for _, f := range demodata.Filters(start, "alice") {
		if _, err := d.state.UpsertFilter(actx, &f); err != nil {
			return filters, tickets, fmt.Errorf("seed filter %s/%s: %w", f.Tenant, f.Name, err)
		}
		c, err := d.logs.Count(ctx, lhk.CountRequest{Tenant: f.Tenant, Fields: f.Conditions, From: now.AddDate(0, 0, -30), To: now})
		if err != nil {
			return filters, tickets, fmt.Errorf("count the hits of filter %s/%s: %w", f.Tenant, f.Name, err)
		}
		if err := d.state.SetHits(actx, f.Tenant, f.Name, c.Count, c.Last); err != nil {
			return filters, tickets, fmt.Errorf("seed filter %s/%s: %w", f.Tenant, f.Name, err)
		}
		filters++
	}
	for _, t := range demodata.Tickets(start) {
		if _, err := d.state.CreateTicket(actx, &t); err != nil {
			return filters, tickets, fmt.Errorf("seed ticket %q: %w", t.Title, err)
		}
		tickets++
	}
	return filters, tickets, nil
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
	// Building and compiling take a core each: one plugin per core at a time.
	var names []string
	errs := make([]error, len(mains))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, main := range mains {
		dir := filepath.Dir(main)
		name := filepath.Base(dir)
		names = append(names, name)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fmt.Fprintf(stdout, "building plugin %s…\n", name)
			wasm, err := buildPlugin(ctx, dir, filepath.Join(cfg.Data, "build", name+".wasm"))
			if err == nil {
				err = demoUpload(d, name, wasm)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
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

// printDemo prints what the demo set up and commands to try.
func printDemo(w io.Writer, d *daemon, cfg config, st *demoState) {
	ctx := context.Background()
	from, to := st.week.Range()
	days := fmt.Sprintf("%s (Monday) to %s (Sunday), UTC", from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly))
	switch {
	case st.load != nil:
		fmt.Fprintf(w, "\nDemo data: the week of %s, loading in the background (progress on /readyz and in the log).\n", days)
	default:
		fmt.Fprintf(w, "\nDemo data (loaded earlier): the week of %s: %d events in acme, %d in globex.\n",
			days, st.events[demodata.TenantAcme], st.events[demodata.TenantGlobex])
		if !st.week.Complete {
			fmt.Fprintf(w, "warning: the demo dataset in %s may be incomplete (an earlier first start stopped while loading it): delete the folder to load it again\n", cfg.Data)
		}
		if last := demodata.WeekStart(st.today); !st.week.Start.Equal(last) {
			fmt.Fprintf(w, "It is not last week (%s): reports without dates cover a week with no data. Delete %s for a new week.\n", last.Format(time.DateOnly), cfg.Data)
		}
	}
	fmt.Fprintf(w, "Assets: %d in acme, %d in globex.\n", st.assets[demodata.TenantAcme], st.assets[demodata.TenantGlobex])
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
	if st.inbox != nil {
		fmt.Fprintf(w, "Notifications to channel %q are kept in this process: each is logged, and\n  curl -s %s\nlists the last %d.\n", demoChannel, st.inbox.url, demoInboxKeep)
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
  # the tickets and analysis filters of acme
  curl -s -H "Authorization: Bearer $TOKEN" "$LHK/v1/tickets?tenant=acme"
  curl -s -H "Authorization: Bearer $TOKEN" "$LHK/v1/filters?tenant=acme&include_expired=true"
  # what cron ran
  curl -s -H "Authorization: Bearer $TOKEN" "$LHK/v1/invocations?trigger=cron&limit=5"
`, cfg.AdminToken, demoAliceToken, url, url, demoAliceToken, span, demodata.Story.PatientZeroHost, span)
	if slices.Contains(st.plugins, "endpoint-triage") {
		fmt.Fprintf(w, `  # triage the first victim's host around the attack (its iocs flag the C2)
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"acme","host":"%s","time":"%s","window_minutes":120}' $LHK/v1/plugins/endpoint-triage/invoke
`, demodata.Story.PatientZeroHost, demodata.StoryTime(from).Add(30*time.Minute).Format(time.RFC3339))
	}
	if slices.Contains(st.plugins, "report") {
		fmt.Fprintf(w, `  # the weekly reports of acme and globex, as Monday's run makes them (the previous week, UTC)
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"*",%s}' $LHK/v1/plugins/report/invoke
`, span)
	}
	if slices.Contains(st.plugins, "filter-upkeep") {
		fmt.Fprintln(w, `  # today's filter upkeep of both tenants: expired and stale filters, proposals, a notification
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"tenant":"*","stale_days":30}' $LHK/v1/plugins/filter-upkeep/invoke`)
	}
	if st.webhookSecret != "" {
		fmt.Fprintf(w, `
alert-intake's webhook secret (shown once; rotate with POST $LHK/v1/plugins/alert-intake/webhook):
  %s
Send it the SIEM alert of the attack, signed (its ticket is there already: alert-intake comments on it):
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

// printDemoLoaded says that the demo data finished loading.
func printDemoLoaded(w io.Writer, week demoWeek, l *demoLoad) {
	from, to := week.Range()
	fmt.Fprintf(w, "\nDemo data loaded in %.1fs: %d events in acme, %d in globex (%s – %s); %d analysis filters and %d tickets.\n",
		l.took.Seconds(), l.events[demodata.TenantAcme], l.events[demodata.TenantGlobex],
		from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly), l.filters, l.tickets)
}

// demoChannel is the notification channel the demo's plugins use
// (filter-upkeep's default).
const demoChannel = "soc"

// demoInboxKeep is how many notifications the demo's inbox keeps.
const demoInboxKeep = 50

// demoInbox is the demo's notification channel when --notify names no
// "soc": a receiver on a loopback port of the same process that logs each
// notification and lists the last ones on GET, so notifications work on a
// machine with nothing else running.
type demoInbox struct {
	url string
	ln  net.Listener
	srv *http.Server
	log *slog.Logger

	mu   sync.Mutex
	msgs []json.RawMessage
}

// listenDemoInbox opens the inbox and adds it to cfg.Notify as channel
// demoChannel, unless cfg names that channel already; then it returns nil.
func listenDemoInbox(cfg *config) (*demoInbox, error) {
	for _, v := range cfg.Notify {
		if name, _, _ := strings.Cut(strings.TrimSpace(v), "="); name == demoChannel {
			return nil, nil
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("open the demo's notification inbox: %w", err)
	}
	in := &demoInbox{ln: ln, url: "http://" + ln.Addr().String() + "/"}
	cfg.Notify = append(slices.Clone(cfg.Notify), demoChannel+"="+in.url)
	return in, nil
}

// serve starts answering; notifications are logged to log.
func (in *demoInbox) serve(log *slog.Logger) {
	if in == nil {
		return
	}
	in.log = log
	in.srv = &http.Server{Handler: in, ReadHeaderTimeout: 10 * time.Second}
	go in.srv.Serve(in.ln)
}

func (in *demoInbox) close() {
	if in == nil {
		return
	}
	if in.srv != nil {
		in.srv.Close()
		return
	}
	in.ln.Close()
}

// ServeHTTP keeps a POSTed notification and lists the kept ones on GET.
func (in *demoInbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		in.mu.Lock()
		b := mustJSON(map[string]any{"notifications": in.msgs})
		in.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case http.MethodPost:
		var n struct {
			lhk.Notification
			SentAt time.Time `json:"sent_at"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			err = json.Unmarshal(b, &n)
		}
		if err != nil {
			http.Error(w, "want lhk's JSON notification", http.StatusBadRequest)
			return
		}
		in.log.Info("notification", "channel", n.Channel, "tenant", n.Tenant, "severity", n.Severity, "title", n.Title, "text", n.Text)
		in.mu.Lock()
		in.msgs = append(in.msgs, json.RawMessage(b))
		if len(in.msgs) > demoInboxKeep {
			in.msgs = slices.Delete(in.msgs, 0, len(in.msgs)-demoInboxKeep)
		}
		in.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET lists the notifications, POST adds one", http.StatusMethodNotAllowed)
	}
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
