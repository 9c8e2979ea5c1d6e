package lhk

import (
	"context"
	"slices"
	"time"
)

// Role is what a user may do in general. Ownership and grants refine it.
type Role string

// The roles. An admin may do anything; an analyst creates plugins and changes the
// ones they own; a viewer reads and runs nothing that changes state.
const (
	RoleAdmin   Role = "admin"
	RoleAnalyst Role = "analyst"
	RoleViewer  Role = "viewer"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleAnalyst || r == RoleViewer
}

// User is a person or a service that calls lhk with a bearer token.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Ceiling   Ceiling   `json:"ceiling"`
	CreatedAt time.Time `json:"created_at"`
}

// Ceiling bounds the capabilities and tenants a user may grant to the plugins they
// own. "*" in Tenants means every tenant. An admin's ceiling is everything.
type Ceiling struct {
	Capabilities []string `json:"capabilities"`
	Tenants      []string `json:"tenants"`
}

// CanWrite reports whether the user may change anything at all.
func (u *User) CanWrite() bool { return u != nil && u.Role != RoleViewer }

// IsAdmin reports whether the user is an admin.
func (u *User) IsAdmin() bool { return u != nil && u.Role == RoleAdmin }

// Covers reports whether the user's ceiling allows granting g. Admins are
// unbounded. It returns the first capability or tenant outside the ceiling.
func (u *User) Covers(g Grant) (missing string, ok bool) {
	if u.IsAdmin() {
		return "", true
	}
	for _, c := range g.Capabilities {
		if !slices.Contains(u.Ceiling.Capabilities, c) {
			return "capability " + c, false
		}
	}
	if slices.Contains(u.Ceiling.Tenants, "*") {
		return "", true
	}
	for _, t := range g.Tenants {
		if !slices.Contains(u.Ceiling.Tenants, t) {
			return "tenant " + t, false
		}
	}
	return "", true
}

// UserUpdate is a partial change to a user; nil fields stay as they are.
type UserUpdate struct {
	Role    *Role    `json:"role,omitempty"`
	Ceiling *Ceiling `json:"ceiling,omitempty"`
}

// UserStore keeps users and their hashed tokens. A token is never stored in clear:
// callers pass TokenHash(token).
type UserStore interface {
	// CreateUser adds u with the given token hash; ECONFLICT if the name is taken.
	CreateUser(ctx context.Context, u *User, tokenHash string) error
	// UserByTokenHash finds the user whose token hashes to hash; ENOTFOUND otherwise.
	UserByTokenHash(ctx context.Context, hash string) (*User, error)
	// User returns one user by name; ENOTFOUND if absent.
	User(ctx context.Context, name string) (*User, error)
	// Users lists all users by name.
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser applies upd and returns the updated user.
	UpdateUser(ctx context.Context, name string, upd UserUpdate) (*User, error)
	// SetUserToken replaces the user's token hash; the old token stops working.
	SetUserToken(ctx context.Context, name, tokenHash string) error
}

type actorKey struct{}

// NewContextWithActor returns a context carrying the name of the user (or "cron",
// "webhook", "system") on whose behalf work is done. Stores record it in the audit
// log of every mutation made with that context.
func NewContextWithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFromContext returns the actor set by NewContextWithActor, or "system".
func ActorFromContext(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}
