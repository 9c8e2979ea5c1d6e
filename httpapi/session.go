package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// The web UI signs in by exchanging a bearer token for a session:
//
//   - POST /v1/session with Authorization: Bearer <token> sets the cookie
//     lhk_session (a random id; HttpOnly, SameSite=Strict, Secure over TLS)
//     and answers a CSRF token. The store keeps only the id's hash.
//   - A request that carries the cookie and no Authorization header is the
//     session's user. One that changes state (any method but GET, HEAD and
//     OPTIONS) must also send the CSRF token in X-Lhk-CSRF, and is refused
//     when the browser says it comes from another origin (Origin,
//     Sec-Fetch-Site).
//   - DELETE /v1/session signs out.
//
// Bearer-token clients never send the cookie and are not affected.
const (
	// SessionCookie is the name of the session cookie.
	SessionCookie = "lhk_session"
	// HeaderCSRF carries the session's CSRF token on state-changing requests.
	HeaderCSRF = "X-Lhk-CSRF"
	// DefaultSessionTTL is how long a session lasts when Config.SessionTTL is zero.
	DefaultSessionTTL = 12 * time.Hour
)

// csrfToken derives a session's CSRF token from its id, so nothing more needs
// storing: only the holder of the cookie's value can compute it, and the page
// learns it from the JSON answer of POST or GET /v1/session.
func csrfToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("lhk csrf v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// newSessionID returns 256 random bits as hex.
func newSessionID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// authVia records how a request was authenticated.
type authVia struct {
	bearerHash string // the bearer token's hash, for bearer requests
	sessionID  string // the cookie's value, for session requests
	session    *lhk.Session
}

type authViaKey struct{}

func authOf(c echo.Context) authVia {
	a, _ := c.Request().Context().Value(authViaKey{}).(authVia)
	return a
}

// safeMethod reports whether a method cannot change state.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sessionUser resolves the session cookie to its user, checking the
// cross-origin and CSRF rules for state-changing methods.
func (s *Server) sessionUser(c echo.Context, sid string) (*lhk.User, *lhk.Session, error) {
	idHash := lhk.TokenHash(sid)
	se, err := s.sessionByHash(ctxOf(c), idHash)
	if lhk.ErrorCode(err) == lhk.ENOTFOUND {
		clearSessionCookie(c)
		return nil, nil, lhk.Errorf(lhk.EUNAUTHORIZED, "the session ended or expired; sign in again")
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.userByTokenHash(ctxOf(c), se.TokenHash)
	if lhk.ErrorCode(err) == lhk.EUNAUTHORIZED {
		clearSessionCookie(c)
		return nil, nil, lhk.Errorf(lhk.EUNAUTHORIZED, "the token this session was opened with was renewed; sign in again")
	} else if err != nil {
		return nil, nil, err
	}
	if !safeMethod(c.Request().Method) {
		if err := checkSameOrigin(c.Request()); err != nil {
			return nil, nil, err
		}
		got := c.Request().Header.Get(HeaderCSRF)
		if got == "" || !hmac.Equal([]byte(got), []byte(csrfToken(sid))) {
			return nil, nil, lhk.Errorf(lhk.EFORBIDDEN, "missing or wrong %s header: a signed-in page sends its CSRF token with every change", HeaderCSRF)
		}
	}
	return u, se, nil
}

// checkSameOrigin refuses a request the browser marks as coming from another
// origin. Browsers send Sec-Fetch-Site and Origin with every state-changing
// fetch; a client that sends neither is not a browser page, and still needs
// the CSRF token.
func checkSameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return lhk.Errorf(lhk.EFORBIDDEN, "cross-site request refused (Sec-Fetch-Site: %s)", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return lhk.Errorf(lhk.EFORBIDDEN, "cross-origin request refused (Origin: %s)", origin)
		}
	}
	return nil
}

// sessionByHash reads a session through the auth cache.
func (s *Server) sessionByHash(ctx context.Context, idHash string) (*lhk.Session, error) {
	key := "session:" + idHash
	now := time.Now()
	s.authMu.Lock()
	e, ok := s.authCache[key]
	s.authMu.Unlock()
	if ok && now.Before(e.expires) && now.Before(e.session.ExpiresAt) {
		return e.session, nil
	}
	se, err := s.sessions.Session(ctx, idHash)
	if err != nil {
		return nil, err
	}
	s.cacheAuth(key, authEntry{session: se, expires: now.Add(authTTL)})
	return se, nil
}

// secureRequest reports whether the browser reached lhkd over TLS, directly
// or through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func setSessionCookie(c echo.Context, sid string, expires time.Time) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: sid, Path: "/", Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request()),
	})
}

func clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secureRequest(c.Request()),
	})
}

// sessionJSON is the answer of POST and GET /v1/session.
type sessionJSON struct {
	User      *lhk.User `json:"user"`
	CSRFToken string    `json:"csrf_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createSession exchanges the request's bearer token for a session cookie.
func (s *Server) createSession(c echo.Context) error {
	a := authOf(c)
	if a.bearerHash == "" {
		return lhk.Errorf(lhk.EINVALID, "sign in with Authorization: Bearer <token>; a session cannot open another")
	}
	if err := checkSameOrigin(c.Request()); err != nil {
		return err
	}
	u := currentUser(c)
	sid := newSessionID()
	se := &lhk.Session{
		IDHash: lhk.TokenHash(sid), TokenHash: a.bearerHash, User: u.Name,
		ExpiresAt: time.Now().Add(s.cfg.SessionTTL).UTC().Truncate(time.Second),
	}
	if err := s.sessions.CreateSession(ctxOf(c), se); err != nil {
		return err
	}
	setSessionCookie(c, sid, se.ExpiresAt)
	return c.JSON(http.StatusCreated, sessionJSON{User: u, CSRFToken: csrfToken(sid), ExpiresAt: se.ExpiresAt})
}

// getSession answers the signed-in user and the CSRF token, so a reloaded
// page can carry on without asking for the token again.
func (s *Server) getSession(c echo.Context) error {
	a := authOf(c)
	if a.session == nil {
		return lhk.Errorf(lhk.ENOTFOUND, "no session: this request was authenticated with a bearer token")
	}
	return c.JSON(http.StatusOK, sessionJSON{User: currentUser(c), CSRFToken: csrfToken(a.sessionID), ExpiresAt: a.session.ExpiresAt})
}

// deleteSession signs out: the session ends on every replica and the cookie
// is cleared.
func (s *Server) deleteSession(c echo.Context) error {
	a := authOf(c)
	if a.session == nil {
		return lhk.Errorf(lhk.ENOTFOUND, "no session: this request was authenticated with a bearer token")
	}
	if err := s.sessions.DeleteSession(ctxOf(c), a.session.IDHash); err != nil && lhk.ErrorCode(err) != lhk.ENOTFOUND {
		return err
	}
	s.authMu.Lock()
	delete(s.authCache, "session:"+a.session.IDHash)
	s.authMu.Unlock()
	clearSessionCookie(c)
	return c.NoContent(http.StatusNoContent)
}

// memSessions keeps sessions in memory when the registry does not: enough for
// one lhkd, lost at restart. It audits like a registry would.
type memSessions struct {
	audit lhk.AuditStore
	mu    sync.Mutex
	m     map[string]lhk.Session
}

var _ lhk.SessionStore = (*memSessions)(nil)

func newMemSessions(audit lhk.AuditStore) *memSessions {
	return &memSessions{audit: audit, m: make(map[string]lhk.Session)}
}

func (m *memSessions) CreateSession(ctx context.Context, s *lhk.Session) error {
	now := time.Now()
	switch {
	case s == nil || s.IDHash == "" || s.TokenHash == "" || s.User == "":
		return lhk.Errorf(lhk.EINVALID, "incomplete session")
	case !s.ExpiresAt.After(now):
		return lhk.Errorf(lhk.EINVALID, "session expires in the past")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now.UTC()
	}
	m.mu.Lock()
	if _, ok := m.m[s.IDHash]; ok {
		m.mu.Unlock()
		return lhk.Errorf(lhk.ECONFLICT, "session id already in use")
	}
	for k, v := range m.m {
		if !v.ExpiresAt.After(now) {
			delete(m.m, k)
		}
	}
	m.m[s.IDHash] = *s
	m.mu.Unlock()
	return m.record(ctx, "session.create", s, map[string]any{"expires_at": s.ExpiresAt.UTC()})
}

func (m *memSessions) Session(_ context.Context, idHash string) (*lhk.Session, error) {
	m.mu.Lock()
	s, ok := m.m[idHash]
	m.mu.Unlock()
	if !ok || !s.ExpiresAt.After(time.Now()) {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "no such session")
	}
	return &s, nil
}

func (m *memSessions) DeleteSession(ctx context.Context, idHash string) error {
	m.mu.Lock()
	s, ok := m.m[idHash]
	delete(m.m, idHash)
	m.mu.Unlock()
	if !ok {
		return lhk.Errorf(lhk.ENOTFOUND, "no such session")
	}
	return m.record(ctx, "session.delete", &s, map[string]any{})
}

func (m *memSessions) record(ctx context.Context, action string, s *lhk.Session, detail map[string]any) error {
	if m.audit == nil {
		return nil
	}
	detail["session"] = s.IDHash[:min(12, len(s.IDHash))]
	b, err := jsonString(detail)
	if err != nil {
		return err
	}
	return m.audit.Audit(ctx, lhk.AuditEntry{Actor: lhk.ActorFromContext(ctx), Action: action, Target: "user/" + s.User, Detail: b})
}
