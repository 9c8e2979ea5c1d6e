package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/lhk-soc/lhk"
)

// HeaderRequestID carries the id of a request: the client's, when it sent a
// sane one (a proxy such as ingress-nginx does), or a new one. It is in the
// answer and in the access log line.
const HeaderRequestID = "X-Request-Id"

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// readyz answers 200 when Config.Ready finds lhkd ready, and 503 with the
// reason otherwise. /healthz stays the liveness check.
func (s *Server) readyz(c echo.Context) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(ctxOf(c), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": lhk.ErrorMessage(err)})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// metrics serves Config.Metrics, or 404 when metrics are served elsewhere
// (lhkd --metrics-listen) or not at all.
func (s *Server) metrics(c echo.Context) error {
	if s.cfg.Metrics == nil {
		return lhk.Errorf(lhk.ENOTFOUND, "metrics are not served on this listener")
	}
	s.cfg.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// quietRoutes are polled by probes and scrapers: their successful requests
// are logged at debug level.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// accessLog writes one line per request (info; debug for successful probes
// and scrapes) and reports it to Config.ObserveRequest. It names the route
// template, never the query string, and never a header: tokens, webhook
// signatures and secrets cannot reach the log. It also sets the request id.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		id := req.Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
			req.Header.Set(HeaderRequestID, id)
		}
		c.Response().Header().Set(HeaderRequestID, id)
		if err := next(c); err != nil {
			c.Error(err) // writes the answer now, so its status is known
		}
		d := time.Since(start)
		route := c.Path()
		if !s.routes[route] {
			route = "unmatched" // a 404: never label or log by the raw path alone
		}
		status := c.Response().Status
		if s.cfg.ObserveRequest != nil {
			s.cfg.ObserveRequest(req.Method, route, status, d)
		}
		level := slog.LevelInfo
		if quietRoutes[route] && status < 300 {
			level = slog.LevelDebug
		}
		log := s.cfg.Logger
		if !log.Enabled(req.Context(), level) {
			return nil
		}
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.String("path", req.URL.Path),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", c.Response().Size),
			slog.String("remote", remoteIP(req.RemoteAddr)),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, slog.String("user", u.Name))
		}
		log.LogAttrs(req.Context(), level, "http request", attrs...)
		return nil
	}
}

// validRequestID accepts 1 to 128 characters of letters, digits, '-', '_'
// and '.', so a client cannot put anything else into the log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// routeSet is the set of e's route templates, taken by New once every route
// is registered.
func routeSet(e *echo.Echo) map[string]bool {
	m := make(map[string]bool)
	for _, r := range e.Routes() {
		m[r.Path] = true
	}
	return m
}
