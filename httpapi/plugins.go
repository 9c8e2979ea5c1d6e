package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// pluginJSON is a plugin as the API shows it: the stored plugin plus the next
// scheduled runs, the capabilities its current version requires and those
// its grant is missing, and, in listings asked for it, a summary of its
// recent runs.
type pluginJSON struct {
	*lhk.Plugin
	NextRuns             []time.Time    `json:"next_runs,omitempty"`
	CapabilitiesRequired []string       `json:"capabilities_required"`
	CapabilitiesMissing  []string       `json:"capabilities_missing"`
	Summary              *pluginSummary `json:"summary,omitempty"`
}

func (s *Server) pluginView(p *lhk.Plugin) pluginJSON {
	v := pluginJSON{Plugin: p, CapabilitiesRequired: []string{}, CapabilitiesMissing: []string{}}
	if p.Versions == nil {
		p.Versions = []lhk.Version{}
	}
	if p.Schedule != nil && p.Schedule.Enabled {
		v.NextRuns, _ = s.cfg.Scheduler.Next(*p.Schedule, time.Now(), 5)
	}
	if cur := p.Current(); cur != nil {
		v.CapabilitiesRequired = s.requiredCapabilities(cur.Imports)
		for _, c := range v.CapabilitiesRequired {
			if !p.Grant.Allows(c) {
				v.CapabilitiesMissing = append(v.CapabilitiesMissing, c)
			}
		}
	}
	return v
}

// capabilityOf maps each host function's import name to its capability.
func capabilityOf(fs []lhk.HostFunction) map[string]string {
	m := make(map[string]string, len(fs))
	for _, f := range fs {
		m[f.Name] = f.Capability
	}
	return m
}

// requiredCapabilities are the capabilities a module's lhk imports need,
// sorted, as the runtime reported them at upload.
func (s *Server) requiredCapabilities(imports []lhk.Import) []string {
	caps := []string{}
	for _, im := range imports {
		if im.Module != lhk.HostModule {
			continue
		}
		if c := s.names[im.Name]; c != "" {
			caps = append(caps, c)
		}
	}
	slices.Sort(caps)
	return slices.Compact(caps)
}

// canChange reports whether u may change plugin p: its owner or an admin.
func canChange(u *lhk.User, p *lhk.Plugin) error {
	if u.IsAdmin() || (u.CanWrite() && p.Owner == u.Name) {
		return nil
	}
	if !u.CanWrite() {
		return lhk.Errorf(lhk.EFORBIDDEN, "role %s may not change plugins", u.Role)
	}
	return lhk.Errorf(lhk.EFORBIDDEN, "plugin %q is owned by %s; only its owner or an admin may change it", p.Name, p.Owner)
}

// ownedPlugin loads the named plugin and checks the caller may change it.
func (s *Server) ownedPlugin(c echo.Context) (*lhk.Plugin, error) {
	p, err := s.cfg.Plugins.Plugin(ctxOf(c), c.Param("name"))
	if err != nil {
		return nil, err
	}
	if err := canChange(currentUser(c), p); err != nil {
		return nil, err
	}
	return p, nil
}

type uploadResponse struct {
	Plugin               string       `json:"plugin"`
	Version              int          `json:"version"`
	SHA256               string       `json:"sha256"`
	Size                 int64        `json:"size"`
	Owner                string       `json:"owner"`
	Imports              []lhk.Import `json:"imports"`
	Exports              []string     `json:"exports"`
	CapabilitiesRequired []string     `json:"capabilities_required"`
	CapabilitiesMissing  []string     `json:"capabilities_missing"`
}

func (s *Server) uploadVersion(c echo.Context) error {
	u := currentUser(c)
	name := c.Param("name")
	if !u.CanWrite() {
		return lhk.Errorf(lhk.EFORBIDDEN, "role %s may not upload plugins", u.Role)
	}
	if err := lhk.ValidatePluginName(name); err != nil {
		return err
	}
	existing, err := s.cfg.Plugins.Plugin(ctxOf(c), name)
	switch {
	case err == nil:
		if err := canChange(u, existing); err != nil {
			return err
		}
	case lhk.ErrorCode(err) != lhk.ENOTFOUND:
		return err
	}
	wasm, err := readBody(c, s.cfg.MaxUploadBytes, "module")
	if err != nil {
		return err
	}
	if len(wasm) == 0 {
		return lhk.Errorf(lhk.EINVALID, "empty body: send the compiled .wasm module as the request body (Content-Type: application/wasm)")
	}
	mod, err := s.cfg.Runtime.Inspect(ctxOf(c), wasm)
	if err != nil {
		return err
	}
	v := &lhk.Version{
		Plugin:     name,
		SHA256:     mod.SHA256,
		Size:       int64(len(wasm)),
		UploadedBy: u.Name,
		Imports:    mod.Imports,
		Exports:    mod.Exports,
	}
	p, err := s.cfg.Plugins.CreateVersion(ctxOf(c), v, wasm, u.Name)
	if err != nil {
		return err
	}
	s.cfg.Forget(name)
	missing := []string{}
	for _, cap := range mod.Capabilities {
		if !p.Grant.Allows(cap) {
			missing = append(missing, cap)
		}
	}
	caps := mod.Capabilities
	if caps == nil {
		caps = []string{}
	}
	imports := mod.Imports
	if imports == nil {
		imports = []lhk.Import{}
	}
	return c.JSON(http.StatusCreated, uploadResponse{
		Plugin:               p.Name,
		Version:              v.Number,
		SHA256:               v.SHA256,
		Size:                 v.Size,
		Owner:                p.Owner,
		Imports:              imports,
		Exports:              mod.Exports,
		CapabilitiesRequired: caps,
		CapabilitiesMissing:  missing,
	})
}

// Plugin listings: at most maxPlugins a page, maxSummaryPlugins with
// summaries (each costs one indexed query), summaryRuns runs in a summary.
const (
	maxPlugins        = 1000
	maxSummaryPlugins = 200
	summaryRuns       = 20
)

// pluginListJSON is the answer of GET /v1/plugins.
type pluginListJSON struct {
	Plugins []pluginJSON `json:"plugins"`
	Offset  int          `json:"offset"`
	Limit   int          `json:"limit"`
	// HasMore says the next page (offset+limit) holds more plugins.
	HasMore bool `json:"has_more"`
}

// listPlugins pages plugins by name, filtered by owner and a substring of the
// name (q); summary=true adds each plugin's recent runs.
func (s *Server) listPlugins(c echo.Context) error {
	f := lhk.PluginFilter{Owner: c.QueryParam("owner"), Query: c.QueryParam("q")}
	summary := c.QueryParam("summary") == "true"
	maxLimit := maxPlugins
	if summary {
		maxLimit = maxSummaryPlugins
	}
	var err error
	if f.Limit, err = intParam(c, "limit", 100, maxLimit); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Offset, err = intParam(c, "offset", 0, 1<<30); err != nil {
		return err
	}
	limit := f.Limit
	f.Limit++ // one more tells whether there is a next page
	ps, err := s.cfg.Plugins.Plugins(ctxOf(c), f)
	if err != nil {
		return err
	}
	out := pluginListJSON{Plugins: make([]pluginJSON, 0, len(ps)), Offset: f.Offset, Limit: limit}
	if len(ps) > limit {
		ps, out.HasMore = ps[:limit], true
	}
	for _, p := range ps {
		out.Plugins = append(out.Plugins, s.pluginView(p))
	}
	if summary {
		if err := s.summarizeAll(ctxOf(c), out.Plugins); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, out)
}

// summaryWorkers bounds the summaries read at once: SQLite's read pool
// serves them in parallel, which halves a page's time on two cores.
const summaryWorkers = 4

// summarizeAll fills in the summary of every plugin in ps.
func (s *Server) summarizeAll(ctx context.Context, ps []pluginJSON) error {
	errs := make([]error, len(ps))
	sem := make(chan struct{}, summaryWorkers)
	var wg sync.WaitGroup
	for i := range ps {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ps[i].Summary, errs[i] = s.summarize(ctx, ps[i].Name)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pluginSummary is what the plugin list shows of a plugin's history.
type pluginSummary struct {
	// Last is the newest run, nil when it never ran.
	Last *runJSON `json:"last"`
	// Recent are up to summaryRuns newest runs, oldest first, for a sparkline.
	Recent []runJSON `json:"recent"`
}

// runJSON is one run in a summary; only the last one names its id.
type runJSON struct {
	ID         string    `json:"id,omitempty"`
	Status     string    `json:"status"`
	Trigger    string    `json:"trigger"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
}

// summarize reads a plugin's newest runs without their output and logs: one
// query on the (plugin, started_at) index.
func (s *Server) summarize(ctx context.Context, plugin string) (*pluginSummary, error) {
	invs, err := s.cfg.Invocations.Invocations(ctx, lhk.InvocationFilter{Plugin: plugin, Limit: summaryRuns, Brief: true})
	if err != nil {
		return nil, err
	}
	sum := &pluginSummary{Recent: make([]runJSON, len(invs))}
	for i, inv := range invs {
		sum.Recent[len(invs)-1-i] = runJSON{Status: inv.Status, Trigger: inv.Trigger, StartedAt: inv.StartedAt, DurationMS: inv.DurationMS}
	}
	if len(invs) > 0 {
		last := sum.Recent[len(invs)-1]
		last.ID = invs[0].ID
		sum.Last = &last
	}
	return sum, nil
}

func (s *Server) getPlugin(c echo.Context) error {
	p, err := s.cfg.Plugins.Plugin(ctxOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.pluginView(p))
}

func (s *Server) patchPlugin(c echo.Context) error {
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	var upd lhk.PluginUpdate
	if err := bindJSON(c, &upd); err != nil {
		return err
	}
	if upd.Entrypoint != nil {
		if *upd.Entrypoint == "" {
			return lhk.Errorf(lhk.EINVALID, "entrypoint must not be empty")
		}
		version := p.CurrentVersion
		if upd.CurrentVersion != nil {
			version = *upd.CurrentVersion
		}
		for _, v := range p.Versions {
			if v.Number == version && v.Exports != nil && !slices.Contains(v.Exports, *upd.Entrypoint) {
				return lhk.Errorf(lhk.EINVALID, "entrypoint %q is not exported by version %d (exports: %v)", *upd.Entrypoint, version, v.Exports)
			}
		}
	}
	if upd.Owner != nil {
		to, err := s.cfg.Users.User(ctxOf(c), *upd.Owner)
		if lhk.ErrorCode(err) == lhk.ENOTFOUND {
			return lhk.Errorf(lhk.EINVALID, "cannot transfer %q: user %q does not exist", p.Name, *upd.Owner)
		} else if err != nil {
			return err
		}
		if !to.CanWrite() {
			return lhk.Errorf(lhk.EINVALID, "cannot transfer %q to %s: a viewer cannot own plugins", p.Name, to.Name)
		}
	}
	updated, err := s.cfg.Plugins.UpdatePlugin(ctxOf(c), p.Name, upd)
	if err != nil {
		return err
	}
	s.cfg.Forget(p.Name)
	if limitsChanged(upd) {
		s.cfg.Runtime.Evict(p.Name)
	}
	return c.JSON(http.StatusOK, s.pluginView(updated))
}

func limitsChanged(u lhk.PluginUpdate) bool {
	return u.TimeoutMS != nil || u.MemoryMB != nil || u.MaxInputBytes != nil ||
		u.MaxOutputBytes != nil || u.MaxLogLines != nil || u.Concurrency != nil
}

func (s *Server) deletePlugin(c echo.Context) error {
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	if err := s.cfg.Plugins.DeletePlugin(ctxOf(c), p.Name); err != nil {
		return err
	}
	s.cfg.Forget(p.Name)
	s.cfg.Runtime.Evict(p.Name)
	if err := s.cfg.Scheduler.Refresh(ctxOf(c), p.Name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) putGrant(c echo.Context) error {
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	var g lhk.Grant
	if err := bindJSON(c, &g); err != nil {
		return err
	}
	if err := g.Validate(); err != nil {
		return err
	}
	if missing, ok := currentUser(c).Covers(g); !ok {
		return lhk.Errorf(lhk.EFORBIDDEN, "%s is outside your ceiling; ask an admin to grant it", missing)
	}
	g = normalizeGrant(g)
	if err := s.cfg.Plugins.SetGrant(ctxOf(c), p.Name, g); err != nil {
		return err
	}
	s.cfg.Forget(p.Name)
	return c.JSON(http.StatusOK, g)
}

func normalizeGrant(g lhk.Grant) lhk.Grant {
	norm := func(xs []string) []string {
		xs = slices.Clone(xs)
		slices.Sort(xs)
		xs = slices.Compact(xs)
		if xs == nil {
			xs = []string{}
		}
		return xs
	}
	return lhk.Grant{Capabilities: norm(g.Capabilities), Tenants: norm(g.Tenants), AllowedHosts: norm(g.AllowedHosts)}
}

// scheduleRequest is the body of PUT /v1/plugins/{name}/schedule. Enabled
// defaults to true.
type scheduleRequest struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Input    string `json:"input"`
	Enabled  *bool  `json:"enabled"`
}

type scheduleResponse struct {
	Plugin   string       `json:"plugin"`
	Schedule lhk.Schedule `json:"schedule"`
	NextRuns []time.Time  `json:"next_runs"`
}

func (s *Server) putSchedule(c echo.Context) error {
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	var req scheduleRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sch := lhk.Schedule{Cron: req.Cron, Timezone: req.Timezone, Input: req.Input, Enabled: req.Enabled == nil || *req.Enabled}
	if sch.Timezone == "" {
		sch.Timezone = "UTC"
	}
	if err := s.cfg.Scheduler.Validate(sch); err != nil {
		return err
	}
	if len(sch.Input) > p.Limits.WithDefaults().MaxInputBytes {
		return lhk.Errorf(lhk.ETOOLARGE, "schedule input is over the plugin's input limit")
	}
	if err := s.cfg.Plugins.SetSchedule(ctxOf(c), p.Name, sch); err != nil {
		return err
	}
	s.cfg.Forget(p.Name)
	if err := s.cfg.Scheduler.Refresh(ctxOf(c), p.Name); err != nil {
		return err
	}
	// Answer what was stored, with its author and time.
	if stored, err := s.cfg.Plugins.Plugin(ctxOf(c), p.Name); err != nil {
		return err
	} else if stored.Schedule != nil {
		sch = *stored.Schedule
	}
	next := []time.Time{}
	if sch.Enabled {
		next, _ = s.cfg.Scheduler.Next(sch, time.Now(), 5)
	}
	return c.JSON(http.StatusOK, scheduleResponse{Plugin: p.Name, Schedule: sch, NextRuns: next})
}

func (s *Server) deleteSchedule(c echo.Context) error {
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	if err := s.cfg.Plugins.DeleteSchedule(ctxOf(c), p.Name); err != nil {
		return err
	}
	s.cfg.Forget(p.Name)
	if err := s.cfg.Scheduler.Refresh(ctxOf(c), p.Name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// previewSchedule answers the next runs of a spec without saving anything, for
// the UI's live preview and `lhk schedule next`.
func (s *Server) previewSchedule(c echo.Context) error {
	var req struct {
		Cron     string `json:"cron"`
		Timezone string `json:"timezone"`
		Count    int    `json:"count"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sch := lhk.Schedule{Cron: req.Cron, Timezone: req.Timezone, Enabled: true}
	if sch.Timezone == "" {
		sch.Timezone = "UTC"
	}
	if err := s.cfg.Scheduler.Validate(sch); err != nil {
		return err
	}
	n := req.Count
	if n <= 0 {
		n = 5
	}
	next, err := s.cfg.Scheduler.Next(sch, time.Now(), min(n, 100))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"cron": sch.Cron, "timezone": sch.Timezone, "next_runs": next})
}

// intParam reads an optional non-negative integer query parameter.
func intParam(c echo.Context, name string, def, max int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, lhk.Errorf(lhk.EINVALID, "query parameter %s must be a non-negative integer, got %q", name, v)
	}
	return min(n, max), nil
}
