package rule

import (
	"time"

	"github.com/lhk-soc/lhk"
)

// SessionRef is how the audit log names a session: a prefix of its id's hash,
// enough to pair session.create with session.delete, useless as a cookie.
func SessionRef(idHash string) string { return idHash[:min(12, len(idHash))] }

// NewSession checks a session given to CreateSession at now: it needs an id
// hash, a token hash, a user and an expiry after now (EINVALID otherwise). A
// zero CreatedAt is set to now.
func NewSession(s *lhk.Session, now time.Time) error {
	switch {
	case s == nil || s.IDHash == "":
		return lhk.Errorf(lhk.EINVALID, "session without id hash")
	case s.TokenHash == "":
		return lhk.Errorf(lhk.EINVALID, "session without token hash")
	case s.User == "":
		return lhk.Errorf(lhk.EINVALID, "session without user")
	case !s.ExpiresAt.After(now):
		return lhk.Errorf(lhk.EINVALID, "session expires in the past")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	return nil
}

// SessionCreateDetail is the detail of the session.create audit entry: a
// short reference and the expiry, never the id or a hash that could be
// replayed.
func SessionCreateDetail(s *lhk.Session) map[string]any {
	return map[string]any{"session": SessionRef(s.IDHash), "expires_at": s.ExpiresAt.UTC()}
}

// SessionDeleteDetail is the detail of the session.delete audit entry.
func SessionDeleteDetail(idHash string) map[string]any {
	return map[string]any{"session": SessionRef(idHash)}
}
