package httpapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// maxIngestBytes bounds one NDJSON ingest request.
const maxIngestBytes = 256 << 20

// registerSystems adds the library's routes: one POST route per host function
// at /v1/<system>/<op> taking the same JSON, NDJSON ingest, and reads for
// people and the UI.
func (s *Server) registerSystems(v1 *echo.Group) {
	for _, f := range s.cfg.Functions {
		system, op, ok := strings.Cut(f.Name, "_")
		if !ok {
			continue
		}
		v1.POST("/"+system+"/"+op, s.callFunction(f))
	}
	v1.POST("/logs", s.ingest)
	v1.GET("/reports", s.listReports)
	v1.GET("/reports/:id", s.getReport)
	v1.GET("/reports/:id/download", s.downloadReport)
	v1.GET("/reports/:id/view", s.viewReport)
	v1.GET("/tickets", s.listTickets)
	v1.GET("/tickets/:id", s.getTicket)
	v1.GET("/assets", s.listAssets)
	v1.PUT("/assets", s.putAsset)
	v1.GET("/filters", s.listFilters)
}

// readCapabilities are those a viewer may use over HTTP.
var readCapabilities = []string{lhk.CapLogsRead, lhk.CapFiltersRead, lhk.CapTicketsRead, lhk.CapAssetsRead, lhk.CapEndpointsRead, lhk.CapReportsRead}

// everyoneCapabilities are those every user has over HTTP on the tenants of
// their ceiling, whatever capabilities it lists: reading reports, which the
// web UI shows to everyone and GET /v1/reports served before reports.read
// existed. They are not added to the ceiling: granting one to a plugin still
// needs it there, and grant_get answers the ceiling as it is.
var everyoneCapabilities = []string{lhk.CapReportsRead}

// grantFor is the grant of a call over HTTP that needs capability: the
// caller's ceiling, with capability added when everyone has it.
func grantFor(u *lhk.User, capability string) lhk.Grant {
	g := userGrant(u)
	if slices.Contains(everyoneCapabilities, capability) && !g.Allows(capability) {
		g.Capabilities = append(slices.Clone(g.Capabilities), capability)
	}
	return g
}

// userGrant is what a person may do through the library over HTTP: their
// ceiling (everything for an admin; only reads for a viewer).
func userGrant(u *lhk.User) lhk.Grant {
	if u.IsAdmin() {
		return lhk.Grant{Capabilities: lhk.Capabilities, Tenants: []string{"*"}}
	}
	caps := u.Ceiling.Capabilities
	if !u.CanWrite() {
		caps = slices.DeleteFunc(slices.Clone(caps), func(c string) bool { return !slices.Contains(readCapabilities, c) })
	}
	return lhk.Grant{Capabilities: caps, Tenants: u.Ceiling.Tenants}
}

// callFunction serves one host function over HTTP with the caller's ceiling as
// the grant. kv operations work on the store of the plugin named by ?plugin=,
// for its owner or an admin.
func (s *Server) callFunction(f lhk.HostFunction) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		grant := grantFor(u, f.Capability)
		if f.Capability != "" && !grant.Allows(f.Capability) {
			return lhk.Errorf(lhk.EFORBIDDEN, "%s needs capability %s, which is outside your ceiling", f.Name, f.Capability)
		}
		call := &lhk.HostCall{Caller: u.Name, Grant: grant}
		if f.Capability == lhk.CapKV {
			name := c.QueryParam("plugin")
			if name == "" {
				return lhk.Errorf(lhk.EINVALID, "name the plugin whose store to use: ?plugin=NAME")
			}
			p, err := s.cfg.Plugins.Plugin(ctxOf(c), name)
			if err != nil {
				return err
			}
			if err := canChange(u, p); err != nil {
				return err
			}
			call.Plugin = p.Name
		}
		body, err := readBody(c, maxJSONBytes, "request")
		if err != nil {
			return err
		}
		data, err := f.Handle(ctxOf(c), call, body)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, data)
	}
}

// requireTenant checks a read route's tenant against the caller's ceiling and,
// when given, a capability.
func requireTenant(c echo.Context, capability string) (string, error) {
	tenant := c.QueryParam("tenant")
	if tenant == "" {
		return "", lhk.Errorf(lhk.EINVALID, "query parameter tenant is required")
	}
	g := grantFor(currentUser(c), capability)
	if capability != "" && !g.Allows(capability) {
		return "", lhk.Errorf(lhk.EFORBIDDEN, "capability %s is outside your ceiling", capability)
	}
	if !g.AllowsTenant(tenant) {
		return "", lhk.Errorf(lhk.EFORBIDDEN, "tenant %q is outside your ceiling", tenant)
	}
	return tenant, nil
}

func (s *Server) needSystem(ok bool, name string) error {
	if !ok {
		return lhk.Errorf(lhk.EUNAVAILABLE, "the %s system is not configured on this lhkd", name)
	}
	return nil
}

// ingest takes NDJSON events. Every event's tenant (or ?tenant= for events
// without one) must be inside the caller's ceiling; viewers may not ingest.
func (s *Server) ingest(c echo.Context) error {
	if err := s.needSystem(s.cfg.Logs != nil, "logs"); err != nil {
		return err
	}
	u := currentUser(c)
	if !u.CanWrite() {
		return lhk.Errorf(lhk.EFORBIDDEN, "role %s may not ingest events", u.Role)
	}
	body, err := readBody(c, maxIngestBytes, "NDJSON body")
	if err != nil {
		return err
	}
	g := userGrant(u)
	def := c.QueryParam("tenant")
	if def != "" && !g.AllowsTenant(def) {
		return lhk.Errorf(lhk.EFORBIDDEN, "tenant %q is outside your ceiling", def)
	}
	if !u.IsAdmin() {
		if err := checkEventTenants(body, def, g); err != nil {
			return err
		}
	}
	res, err := s.cfg.Logs.Ingest(ctxOf(c), def, bytes.NewReader(body))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// checkEventTenants refuses a body naming any tenant outside the grant.
// Lines that do not parse are left for the store to reject with line numbers.
func checkEventTenants(body []byte, def string, g lhk.Grant) error {
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), lhk.MaxIngestLine+1)
	line := 0
	for sc.Scan() {
		line++
		var ev struct {
			Tenant *string `json:"tenant"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		t := def
		if ev.Tenant != nil {
			t = *ev.Tenant
		}
		if t != "" && !g.AllowsTenant(t) {
			return lhk.Errorf(lhk.EFORBIDDEN, "line %d: tenant %q is outside your ceiling; nothing was ingested", line, t)
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		return lhk.Errorf(lhk.EINVALID, "line %d: %v", line+1, err)
	}
	return nil
}

func (s *Server) listReports(c echo.Context) error {
	if err := s.needSystem(s.cfg.Reports != nil, "reports"); err != nil {
		return err
	}
	tenant, err := requireTenant(c, lhk.CapReportsRead)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		return err
	}
	rs, next, err := s.cfg.Reports.Reports(ctxOf(c), tenant, limit, c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []*lhk.Report{}
	}
	return c.JSON(http.StatusOK, map[string]any{"reports": rs, "next_cursor": next, "truncated": next != ""})
}

func (s *Server) getReport(c echo.Context) error {
	r, err := s.report(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// report loads the report named in the path for a tenant in the caller's ceiling.
func (s *Server) report(c echo.Context) (*lhk.Report, error) {
	if err := s.needSystem(s.cfg.Reports != nil, "reports"); err != nil {
		return nil, err
	}
	tenant, err := requireTenant(c, lhk.CapReportsRead)
	if err != nil {
		return nil, err
	}
	return s.cfg.Reports.Report(ctxOf(c), tenant, c.Param("id"))
}

// downloadReport serves a report as a Markdown or a standalone HTML file.
func (s *Server) downloadReport(c echo.Context) error {
	r, err := s.report(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	switch format := c.QueryParam("format"); format {
	case "", "md", "markdown":
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.md"`, r.ID))
		return c.Blob(http.StatusOK, "text/markdown; charset=utf-8", []byte(r.Markdown))
	case "html":
		h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.html"`, r.ID))
		page := "<!doctype html><meta charset=utf-8><title>" + html.EscapeString(r.Title) + "</title>\n" + r.HTML
		return c.Blob(http.StatusOK, echo.MIMETextHTMLCharsetUTF8, []byte(page))
	default:
		return lhk.Errorf(lhk.EINVALID, "format %q: use md or html", format)
	}
}

func (s *Server) listTickets(c echo.Context) error {
	if err := s.needSystem(s.cfg.Tickets != nil, "tickets"); err != nil {
		return err
	}
	tenant, err := requireTenant(c, lhk.CapTicketsRead)
	if err != nil {
		return err
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		return err
	}
	list, err := s.cfg.Tickets.SearchTickets(ctxOf(c), lhk.TicketQuery{
		Tenant: tenant, Status: c.QueryParam("status"), Severity: c.QueryParam("severity"),
		Assignee: c.QueryParam("assignee"), Text: c.QueryParam("q"), Limit: limit, Cursor: c.QueryParam("cursor"),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getTicket(c echo.Context) error {
	if err := s.needSystem(s.cfg.Tickets != nil, "tickets"); err != nil {
		return err
	}
	tenant, err := requireTenant(c, lhk.CapTicketsRead)
	if err != nil {
		return err
	}
	t, err := s.cfg.Tickets.Ticket(ctxOf(c), tenant, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) listAssets(c echo.Context) error {
	if err := s.needSystem(s.cfg.Assets != nil, "assets"); err != nil {
		return err
	}
	tenant, err := requireTenant(c, lhk.CapAssetsRead)
	if err != nil {
		return err
	}
	as, err := s.cfg.Assets.Assets(ctxOf(c), tenant)
	if err != nil {
		return err
	}
	if as == nil {
		as = []*lhk.Asset{}
	}
	return c.JSON(http.StatusOK, map[string]any{"assets": as})
}

// putAsset creates or replaces an asset; analysts and admins, within their ceiling.
func (s *Server) putAsset(c echo.Context) error {
	if err := s.needSystem(s.cfg.Assets != nil, "assets"); err != nil {
		return err
	}
	u := currentUser(c)
	if !u.CanWrite() {
		return lhk.Errorf(lhk.EFORBIDDEN, "role %s may not change assets", u.Role)
	}
	var a lhk.Asset
	if err := bindJSON(c, &a); err != nil {
		return err
	}
	if a.Tenant == "" {
		return lhk.Errorf(lhk.EINVALID, "tenant is required")
	}
	if !userGrant(u).AllowsTenant(a.Tenant) {
		return lhk.Errorf(lhk.EFORBIDDEN, "tenant %q is outside your ceiling", a.Tenant)
	}
	out, err := s.cfg.Assets.UpsertAsset(ctxOf(c), &a)
	if err != nil {
		return err
	}
	if err := s.cfg.Audit.Audit(ctxOf(c), lhk.AuditEntry{Actor: u.Name, Action: "asset.upsert", Target: "asset/" + a.Tenant + "/" + out.Name}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) listFilters(c echo.Context) error {
	if err := s.needSystem(s.cfg.Filters != nil, "filters"); err != nil {
		return err
	}
	tenant, err := requireTenant(c, lhk.CapFiltersRead)
	if err != nil {
		return err
	}
	fs, err := s.cfg.Filters.Filters(ctxOf(c), tenant, c.QueryParam("include_expired") == "true")
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []*lhk.Filter{}
	}
	return c.JSON(http.StatusOK, map[string]any{"filters": fs})
}
