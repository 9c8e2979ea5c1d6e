package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lhk-soc/lhk"
)

// Webhook headers and the accepted clock skew.
const (
	HeaderTimestamp = "X-Lhk-Timestamp"
	HeaderSignature = "X-Lhk-Signature"
	webhookSkew     = 5 * time.Minute
)

func (s *Server) setWebhook(c echo.Context) error {
	if s.cfg.Webhooks == nil {
		return lhk.Errorf(lhk.EUNAVAILABLE, "webhooks are not configured")
	}
	p, err := s.ownedPlugin(c)
	if err != nil {
		return err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	secret := "whsec_" + hex.EncodeToString(b)
	if err := s.cfg.Webhooks.SetWebhookSecret(ctxOf(c), p.Name, secret); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{
		"plugin": p.Name,
		"secret": secret,
		"url":    "/hooks/" + p.Name,
	})
}

// Sign returns the X-Lhk-Signature value for body sent at ts with secret: the
// hex HMAC-SHA256 of "<ts>.<body>", prefixed "sha256=".
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// hook runs a plugin's entrypoint for a signed delivery. Every failure to
// authenticate answers the same 401 so callers learn nothing about which
// plugins exist.
func (s *Server) hook(c echo.Context) error {
	if s.cfg.Webhooks == nil {
		return lhk.Errorf(lhk.EUNAVAILABLE, "webhooks are not configured")
	}
	name := c.Param("name")
	body, err := readBody(c, int64(lhk.MaxLimits.MaxInputBytes), "webhook body")
	if err != nil {
		return err
	}
	denied := lhk.Errorf(lhk.EUNAUTHORIZED, "invalid webhook signature or timestamp: sign \"<timestamp>.<body>\" with the plugin's secret and send %s and %s", HeaderTimestamp, HeaderSignature)
	ts, err := strconv.ParseInt(c.Request().Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return denied
	}
	now := s.cfg.Now()
	if d := now.Sub(time.Unix(ts, 0)); d > webhookSkew || d < -webhookSkew {
		return denied
	}
	secret, err := s.cfg.Webhooks.WebhookSecret(ctxOf(c), name)
	if lhk.ErrorCode(err) == lhk.ENOTFOUND {
		return denied
	} else if err != nil {
		return err
	}
	sig := strings.TrimSpace(c.Request().Header.Get(HeaderSignature))
	if !hmac.Equal([]byte(sig), []byte(Sign(secret, ts, body))) {
		return denied
	}
	first := false
	if s.cfg.Deliveries != nil {
		if first, err = s.cfg.Deliveries.FirstDelivery(ctxOf(c), name, sig, now, 2*webhookSkew); err != nil {
			return err
		}
	} else {
		first = s.hooks.first(name+" "+sig, now)
	}
	if !first {
		return lhk.Errorf(lhk.ECONFLICT, "this delivery was already received (same timestamp and signature)")
	}
	ctx := lhk.NewContextWithActor(ctxOf(c), "webhook")
	c.SetRequest(c.Request().WithContext(ctx))
	return s.respondInvocation(c, lhk.InvokeRequest{
		Plugin:  name,
		Input:   body,
		Trigger: lhk.TriggerWebhook,
		Caller:  "webhook",
	})
}

// replayGuard remembers signatures seen within the skew window so a captured
// delivery cannot be replayed while its timestamp is still fresh.
type replayGuard struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newReplayGuard() *replayGuard { return &replayGuard{seen: make(map[string]time.Time)} }

// first reports whether key is new, and remembers it.
func (g *replayGuard) first(key string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.seen) > 1000 {
		for k, t := range g.seen {
			if now.Sub(t) > 2*webhookSkew {
				delete(g.seen, k)
			}
		}
	}
	if _, ok := g.seen[key]; ok {
		return false
	}
	g.seen[key] = now
	return true
}
