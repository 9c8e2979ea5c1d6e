package lhk

import (
	"context"
	"time"
)

// Session is a signed-in browser of the web UI. Signing in exchanges a bearer
// token for a random session id held in an HttpOnly cookie; the store keeps
// only the id's hash, so a copy of the store cannot be replayed as a cookie.
type Session struct {
	// IDHash is TokenHash of the session id. The id itself is never stored.
	IDHash string `json:"-"`
	// TokenHash is the hash of the bearer token the session was opened with.
	// The session resolves to its user through it, so renewing the user's
	// token ends every session opened with the old one.
	TokenHash string    `json:"-"`
	User      string    `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionStore keeps the web UI's sessions. A registry shared by several lhkd
// replicas must keep them too, so that a browser stays signed in whichever
// replica answers. Creating and deleting a session writes an audit entry with
// ActorFromContext(ctx) (session.create, session.delete; target user/<name>),
// never the id or its hash.
type SessionStore interface {
	// CreateSession stores s; ECONFLICT if IDHash is taken, EINVALID without
	// IDHash, TokenHash, User or a future ExpiresAt. CreatedAt is set when zero.
	// Expired sessions may be removed on the way.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session whose id hashes to idHash; ENOTFOUND when
	// there is none or it expired.
	Session(ctx context.Context, idHash string) (*Session, error)
	// DeleteSession ends a session; ENOTFOUND when there is none.
	DeleteSession(ctx context.Context, idHash string) error
}
