// Package httpapi serves lhk's HTTP API (v1) on echo: plugins and their versions,
// grants and schedules, invocations, users, the audit log and webhooks, and the
// web UI's sessions and files (package ui). It is the only package that imports
// echo. Routes, statuses and JSON shapes follow
// DESIGN.md; the OpenAPI document served at /v1/openapi.json describes them all.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// Config holds what the server needs. Every store field is required except
// Webhooks and Forget.
type Config struct {
	Users       lhk.UserStore
	Plugins     lhk.PluginStore
	Invocations lhk.InvocationStore
	Audit       lhk.AuditStore
	Webhooks    lhk.WebhookStore
	Runtime     lhk.Runtime
	Invoker     lhk.InvokeService
	Scheduler   lhk.Scheduler
	// Functions are the library's operations, served at POST /v1/<system>/<op>.
	Functions []lhk.HostFunction
	// Systems for ingest and the read routes; nil ones answer unavailable.
	Logs    lhk.LogService
	Reports lhk.ReportService
	Tickets lhk.TicketService
	Assets  lhk.AssetService
	Filters lhk.FilterService
	// Forget drops cached metadata of a plugin after it changed.
	Forget func(plugin string)
	Logger *slog.Logger
	// MaxUploadBytes bounds an uploaded module (default 32 MiB).
	MaxUploadBytes int64
	// Now is the clock for webhook timestamps (default time.Now).
	Now func() time.Time
	// Ready, when set, answers GET /readyz: nil means ready; an error's
	// message is the reason given with the 503.
	Ready func(context.Context) error
	// Metrics, when set, is served at GET /metrics without authentication;
	// nil answers 404 there (metrics served on another listener, or none).
	Metrics http.Handler
	// ObserveRequest, when set, is told of every request: its method, route
	// template ("unmatched" for a 404 without a route), status and duration.
	ObserveRequest func(method, route string, status int, d time.Duration)
	// Deliveries, when set, remembers webhook deliveries for the replay
	// guard, shared by every replica; nil keeps them in this process's memory.
	Deliveries lhk.DeliveryGuard
	// Sessions keeps the web UI's sessions. When nil they live in this
	// process's memory: fine for one lhkd, not for replicas sharing a registry.
	Sessions lhk.SessionStore
	// SessionTTL is how long a session lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// UI, when set, serves the web UI under /ui/; / and /ui redirect there.
	UI http.Handler
}

// Server is the HTTP API.
type Server struct {
	cfg  Config
	echo *echo.Echo

	authMu    sync.Mutex
	authCache map[string]authEntry

	hooks    *replayGuard
	sessions lhk.SessionStore
	doc      []byte // the OpenAPI document, with a path per library operation
	names    map[string]string
	routes   map[string]bool // registered route templates, for the access log
}

// authEntry is a cached token or session lookup.
type authEntry struct {
	user    *lhk.User
	session *lhk.Session
	expires time.Time
}

// authTTL bounds how long a token lookup is trusted. Changes made through this
// server drop the cache at once; the TTL bounds staleness across replicas.
const authTTL = 5 * time.Second

// maxJSONBytes bounds JSON request bodies.
const maxJSONBytes = 1 << 20

// New builds the server and its routes.
func New(cfg Config) *Server {
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 32 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Forget == nil {
		cfg.Forget = func(string) {}
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	s := &Server{cfg: cfg, authCache: make(map[string]authEntry), hooks: newReplayGuard(), sessions: cfg.Sessions}
	if s.sessions == nil {
		s.sessions = newMemSessions(cfg.Audit)
	}
	s.names = capabilityOf(cfg.Functions)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.accessLog, s.recoverer, s.secureHeaders)
	s.echo = e

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metrics)
	e.GET("/v1/openapi.json", s.openAPI)
	e.POST("/hooks/:name", s.hook)
	if cfg.UI != nil {
		s.mountUI(e, cfg.UI)
	}

	v1 := e.Group("/v1", s.authenticate)
	v1.GET("/plugins", s.listPlugins)
	v1.GET("/plugins/:name", s.getPlugin)
	v1.PATCH("/plugins/:name", s.patchPlugin)
	v1.DELETE("/plugins/:name", s.deletePlugin)
	v1.POST("/plugins/:name/versions", s.uploadVersion)
	v1.PUT("/plugins/:name/grant", s.putGrant)
	v1.PUT("/plugins/:name/schedule", s.putSchedule)
	v1.DELETE("/plugins/:name/schedule", s.deleteSchedule)
	v1.POST("/plugins/:name/invoke", s.invoke)
	v1.POST("/plugins/:name/invoke/:function", s.invoke)
	v1.POST("/plugins/:name/webhook", s.setWebhook)
	v1.POST("/schedules/preview", s.previewSchedule)
	v1.GET("/invocations", s.listInvocations)
	v1.GET("/invocations/:id", s.getInvocation)
	v1.POST("/users", s.createUser)
	v1.GET("/users", s.listUsers)
	v1.GET("/users/me", s.me)
	v1.GET("/users/:name", s.getUser)
	v1.PATCH("/users/:name", s.patchUser)
	v1.POST("/users/:name/token", s.newToken)
	v1.GET("/audit", s.listAudit)
	v1.POST("/session", s.createSession)
	v1.GET("/session", s.getSession)
	v1.DELETE("/session", s.deleteSession)
	s.registerSystems(v1)
	s.routes = routeSet(e)
	s.doc = s.openAPIDocument()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo returns the underlying echo instance, for tests and route listings.
func (s *Server) Echo() *echo.Echo { return s.echo }

// errorBody is the JSON error shape of every failed request.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	Invocation string `json:"invocation,omitempty"`
}

// statusOf maps an error code to an HTTP status: the one place this happens.
func statusOf(code string) int {
	switch code {
	case lhk.EINVALID:
		return http.StatusBadRequest
	case lhk.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case lhk.EFORBIDDEN:
		return http.StatusForbidden
	case lhk.ENOTFOUND:
		return http.StatusNotFound
	case lhk.ECONFLICT:
		return http.StatusConflict
	case lhk.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case lhk.EFAILED:
		return http.StatusUnprocessableEntity
	case lhk.ETIMEOUT:
		return http.StatusGatewayTimeout
	case lhk.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	body := errorBody{}
	status := 0
	if errors.As(err, &he) {
		status = he.Code
		body.Error.Code = codeOfStatus(he.Code)
		body.Error.Message = strings.ToLower(http.StatusText(he.Code))
		if m, ok := he.Message.(string); ok && m != "" {
			body.Error.Message = m
		}
	} else {
		code := lhk.ErrorCode(err)
		status = statusOf(code)
		body.Error.Code = code
		body.Error.Message = lhk.ErrorMessage(err)
		if code == lhk.EINTERNAL {
			s.cfg.Logger.Error("request failed", "method", c.Request().Method, "path", c.Path(), "err", err)
		}
	}
	var ie *invocationError
	if errors.As(err, &ie) {
		body.Error.Invocation = ie.id
		c.Response().Header().Set(HeaderInvocation, ie.id)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}

func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return lhk.EINVALID
	case http.StatusUnauthorized:
		return lhk.EUNAUTHORIZED
	case http.StatusForbidden:
		return lhk.EFORBIDDEN
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return lhk.ENOTFOUND
	case http.StatusRequestEntityTooLarge:
		return lhk.ETOOLARGE
	case http.StatusServiceUnavailable:
		return lhk.EUNAVAILABLE
	default:
		return lhk.EINTERNAL
	}
}

// invocationError carries the id of a failed invocation to the error response.
type invocationError struct {
	id  string
	err error
}

func (e *invocationError) Error() string { return e.err.Error() }
func (e *invocationError) Unwrap() error { return e.err }

// recoverer turns a handler panic into a 500 and a log line; the daemon stays up.
func (s *Server) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.cfg.Logger.Error("handler panic", "method", c.Request().Method, "path", c.Path(), "panic", fmt.Sprint(r))
				err = lhk.Errorf(lhk.EINTERNAL, "internal error")
			}
		}()
		return next(c)
	}
}

func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

type userKey struct{}

// authenticate resolves the bearer token, or else the web UI's session
// cookie (session.go), to a user, or answers 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var (
			u   *lhk.User
			via authVia
			err error
		)
		if auth := c.Request().Header.Get(echo.HeaderAuthorization); auth != "" {
			token, ok := strings.CutPrefix(auth, "Bearer ")
			if !ok || strings.TrimSpace(token) == "" {
				return lhk.Errorf(lhk.EUNAUTHORIZED, "malformed Authorization header: send Authorization: Bearer <token>")
			}
			via.bearerHash = lhk.TokenHash(strings.TrimSpace(token))
			if u, err = s.userByTokenHash(ctxOf(c), via.bearerHash); err != nil {
				return err
			}
		} else if ck, cerr := c.Cookie(SessionCookie); cerr == nil && ck.Value != "" {
			via.sessionID = ck.Value
			if u, via.session, err = s.sessionUser(c, ck.Value); err != nil {
				return err
			}
		} else {
			return lhk.Errorf(lhk.EUNAUTHORIZED, "missing bearer token: send Authorization: Bearer <token>")
		}
		ctx := lhk.NewContextWithActor(ctxOf(c), u.Name)
		ctx = context.WithValue(ctx, userKey{}, u)
		ctx = context.WithValue(ctx, authViaKey{}, via)
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// userByTokenHash finds the user of a token by its hash, through the cache.
func (s *Server) userByTokenHash(ctx context.Context, hash string) (*lhk.User, error) {
	now := time.Now()
	s.authMu.Lock()
	e, ok := s.authCache[hash]
	s.authMu.Unlock()
	if ok && now.Before(e.expires) {
		return e.user, nil
	}
	u, err := s.cfg.Users.UserByTokenHash(ctx, hash)
	if lhk.ErrorCode(err) == lhk.ENOTFOUND {
		return nil, lhk.Errorf(lhk.EUNAUTHORIZED, "invalid token")
	} else if err != nil {
		return nil, err
	}
	s.cacheAuth(hash, authEntry{user: u, expires: now.Add(authTTL)})
	return u, nil
}

// cacheAuth remembers a lookup for authTTL.
func (s *Server) cacheAuth(key string, e authEntry) {
	s.authMu.Lock()
	if len(s.authCache) > 10_000 {
		clear(s.authCache)
	}
	s.authCache[key] = e
	s.authMu.Unlock()
}

// ForgetUsers drops every cached sign-in (token and session lookups), so the
// next request of each user is checked against the registry. The server
// calls it after its own user changes; a replica calls it when another one
// reports lhk.UsersChanged.
func (s *Server) ForgetUsers() {
	s.authMu.Lock()
	clear(s.authCache)
	s.authMu.Unlock()
}

func currentUser(c echo.Context) *lhk.User {
	u, _ := c.Request().Context().Value(userKey{}).(*lhk.User)
	return u
}

func ctxOf(c echo.Context) context.Context { return c.Request().Context() }

// jsonString encodes v as compact JSON text.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// bindJSON decodes a bounded JSON body strictly: unknown fields are an error.
func bindJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSONBytes+1))
	if err != nil {
		return lhk.Errorf(lhk.EINVALID, "read body: %v", err)
	}
	if len(body) > maxJSONBytes {
		return lhk.Errorf(lhk.ETOOLARGE, "JSON body over %d bytes", maxJSONBytes)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return lhk.Errorf(lhk.EINVALID, "invalid JSON body: %v", err)
	}
	if dec.More() {
		return lhk.Errorf(lhk.EINVALID, "invalid JSON body: more than one value")
	}
	return nil
}

// readBody reads at most max bytes of the body; more is ETOOLARGE.
func readBody(c echo.Context, max int64, what string) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, max+1))
	if err != nil {
		return nil, lhk.Errorf(lhk.EINVALID, "read %s: %v", what, err)
	}
	if int64(len(body)) > max {
		return nil, lhk.Errorf(lhk.ETOOLARGE, "%s is over the limit of %d bytes", what, max)
	}
	return body, nil
}
