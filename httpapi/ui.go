package httpapi

import (
	"html"
	"net/http"

	"github.com/labstack/echo/v4"
)

// mountUI serves the web UI's assets under /ui/ and sends / and /ui there.
// The UI handler sets its own Content-Security-Policy and caching headers.
func (s *Server) mountUI(e *echo.Echo, ui http.Handler) {
	toUI := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") }
	e.GET("/", toUI)
	e.GET("/ui", toUI)
	e.GET("/ui/*", echo.WrapHandler(ui))
}

// reportViewCSP lets a report page show its own styles and inline chart
// images and nothing else: no script, no requests, no forms, no plugins; it
// is sandboxed (an opaque origin that cannot reach the API even with the
// session cookie) and may be framed only by lhkd's own pages. Links open in a
// new tab outside the sandbox.
const reportViewCSP = "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; " +
	"style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"

// reportViewStyle is the report page's typography: readable on a laptop.
const reportViewStyle = `body{font:15px/1.55 system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans CJK JP",sans-serif;` +
	`color:#1d2330;margin:1.5rem;max-width:60rem}h1,h2,h3{line-height:1.25}table{border-collapse:collapse;margin:1rem 0}` +
	`th,td{border:1px solid #c9cfda;padding:.3rem .6rem;text-align:left;vertical-align:top}th{background:#eef1f6}` +
	`code,pre{font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;background:#f3f5f9}pre{padding:.75rem;overflow:auto}` +
	`img{max-width:100%}a{color:#1456b8}`

// viewReport serves a report as an HTML page for the UI's sandboxed frame.
func (s *Server) viewReport(c echo.Context) error {
	r, err := s.report(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", reportViewCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	page := "<!doctype html><meta charset=utf-8><title>" + html.EscapeString(r.Title) + "</title>" +
		"<base target=_blank><style>" + reportViewStyle + "</style>\n" + r.HTML
	return c.Blob(http.StatusOK, echo.MIMETextHTMLCharsetUTF8, []byte(page))
}
