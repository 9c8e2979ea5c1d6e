package registrytest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lhk-soc/lhk"
)

// testSessions holds a registry that also implements lhk.SessionStore to its
// contract. A registry without sessions skips it; the web UI then keeps
// sessions in lhkd's memory, which a single node can afford.
func (s *suite) testSessions(t *testing.T) {
	bg := context.Background()
	open := func(t *testing.T) (lhk.Registry, lhk.SessionStore) {
		t.Helper()
		r := s.fresh(t)
		ss, ok := r.(lhk.SessionStore)
		if !ok {
			t.Skipf("%T does not implement lhk.SessionStore", r)
		}
		createUser(t, r, "alice", lhk.RoleAnalyst)
		return r, ss
	}
	session := func(id string, ttl time.Duration) *lhk.Session {
		return &lhk.Session{IDHash: lhk.TokenHash(id), TokenHash: lhk.TokenHash("lhk_test_alice"), User: "alice",
			ExpiresAt: time.Now().Add(ttl).Truncate(time.Second)}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		_, ss := open(t)
		want := session("sid-1", time.Hour)
		ok(t, ss.CreateSession(as("alice"), want))
		if want.CreatedAt.IsZero() {
			t.Errorf("CreatedAt was not set")
		}
		got, err := ss.Session(bg, want.IDHash)
		ok(t, err)
		if got.IDHash != want.IDHash || got.TokenHash != want.TokenHash || got.User != "alice" ||
			!got.ExpiresAt.Equal(want.ExpiresAt) || got.CreatedAt.IsZero() {
			t.Errorf("got %+v, want %+v", got, want)
		}
		_, err = ss.Session(bg, lhk.TokenHash("sid-other"))
		wantCode(t, err, lhk.ENOTFOUND)
	})

	t.Run("Delete", func(t *testing.T) {
		_, ss := open(t)
		a, b := session("sid-a", time.Hour), session("sid-b", time.Hour)
		ok(t, ss.CreateSession(as("alice"), a))
		ok(t, ss.CreateSession(as("alice"), b))
		ok(t, ss.DeleteSession(as("alice"), a.IDHash))
		_, err := ss.Session(bg, a.IDHash)
		wantCode(t, err, lhk.ENOTFOUND)
		if _, err := ss.Session(bg, b.IDHash); err != nil {
			t.Errorf("deleting one session ended another: %v", err)
		}
		wantCode(t, ss.DeleteSession(as("alice"), a.IDHash), lhk.ENOTFOUND)
	})

	t.Run("Expired", func(t *testing.T) {
		_, ss := open(t)
		short := session("sid-short", 0)
		short.ExpiresAt = time.Now().Add(1500 * time.Millisecond)
		ok(t, ss.CreateSession(as("alice"), short))
		if _, err := ss.Session(bg, short.IDHash); err != nil {
			t.Fatalf("fresh session: %v", err)
		}
		time.Sleep(time.Until(short.ExpiresAt) + 50*time.Millisecond)
		_, err := ss.Session(bg, short.IDHash)
		wantCode(t, err, lhk.ENOTFOUND)
		// A new session sweeps expired ones and still works.
		ok(t, ss.CreateSession(as("alice"), session("sid-next", time.Hour)))
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		_, ss := open(t)
		tests := []struct {
			name string
			edit func(*lhk.Session)
		}{
			{"NoIDHash", func(s *lhk.Session) { s.IDHash = "" }},
			{"NoTokenHash", func(s *lhk.Session) { s.TokenHash = "" }},
			{"NoUser", func(s *lhk.Session) { s.User = "" }},
			{"Expired", func(s *lhk.Session) { s.ExpiresAt = time.Now().Add(-time.Minute) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				se := session("sid-"+tt.name, time.Hour)
				tt.edit(se)
				wantCode(t, ss.CreateSession(as("alice"), se), lhk.EINVALID)
			})
		}
		wantCode(t, ss.CreateSession(as("alice"), nil), lhk.EINVALID)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		_, ss := open(t)
		ok(t, ss.CreateSession(as("alice"), session("sid-dup", time.Hour)))
		wantCode(t, ss.CreateSession(as("alice"), session("sid-dup", time.Hour)), lhk.ECONFLICT)
	})

	t.Run("ErrNotFoundUser", func(t *testing.T) {
		_, ss := open(t)
		se := session("sid-ghost", time.Hour)
		se.User = "ghost"
		wantCode(t, ss.CreateSession(as("ghost"), se), lhk.ENOTFOUND)
	})

	t.Run("Audit", func(t *testing.T) {
		r, ss := open(t)
		se := session("sid-audited", time.Hour)
		ok(t, ss.CreateSession(as("alice"), se))
		ok(t, ss.DeleteSession(as("alice"), se.IDHash))
		es, err := r.AuditEntries(bg, lhk.AuditFilter{Target: "user/alice", Limit: listAll})
		ok(t, err)
		var actions []string
		for _, e := range es {
			if !strings.HasPrefix(e.Action, "session.") {
				continue
			}
			actions = append(actions, e.Action)
			if e.Actor != "alice" {
				t.Errorf("%s by %q, want alice", e.Action, e.Actor)
			}
			if !json.Valid([]byte(e.Detail)) {
				t.Errorf("%s detail is not JSON: %s", e.Action, e.Detail)
			}
			for _, secret := range []string{se.IDHash, se.TokenHash, "sid-audited"} {
				if strings.Contains(e.Detail, secret) {
					t.Errorf("%s detail %s holds a session secret", e.Action, e.Detail)
				}
			}
		}
		if got := strings.Join(actions, ","); got != "session.delete,session.create" {
			t.Errorf("audit actions %q, want session.delete,session.create (newest first)", got)
		}
	})
}
