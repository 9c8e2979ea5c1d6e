package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

var _ lhk.SessionStore = (*DB)(nil)

// CreateSession stores s and removes expired sessions in the same audited
// write transaction. The user must exist (ENOTFOUND otherwise); a taken
// IDHash is ECONFLICT, even when its session expired. The audit entry
// session.create names the user, a short reference and the expiry, never the
// id or a hash that could be replayed.
func (db *DB) CreateSession(ctx context.Context, s *lhk.Session) error {
	now := db.now()
	if err := rule.NewSession(s, now); err != nil {
		return err
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = $1", s.User); err != nil {
			return err
		} else if !ok {
			return rule.UserNotFound(s.User)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM sessions WHERE id_hash = $1", s.IDHash); err != nil {
			return err
		} else if ok {
			return rule.SessionInUse()
		}
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1", now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, token_hash, user_name, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, s.IDHash, s.TokenHash, s.User, s.CreatedAt, s.ExpiresAt); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, "session.create", rule.UserTarget(s.User), rule.SessionCreateDetail(s))
	})
	if err != nil {
		return fmt.Errorf("create session for %q: %w", s.User, err)
	}
	return nil
}

// Session returns the unexpired session whose id hashes to idHash;
// ENOTFOUND otherwise. It does not look at the user: the caller resolves the
// session through its TokenHash, which a renewed token no longer matches.
func (db *DB) Session(ctx context.Context, idHash string) (*lhk.Session, error) {
	if !storable(idHash) { // no stored hash holds one, and PostgreSQL would refuse the query
		return nil, rule.SessionNotFound()
	}
	var s lhk.Session
	err := db.pool.QueryRow(ctx, `SELECT id_hash, token_hash, user_name, created_at, expires_at
		FROM sessions WHERE id_hash = $1 AND expires_at > $2`, idHash, db.now()).
		Scan(&s.IDHash, &s.TokenHash, &s.User, &s.CreatedAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rule.SessionNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", storeErr(err))
	}
	s.CreatedAt = s.CreatedAt.UTC()
	s.ExpiresAt = s.ExpiresAt.UTC()
	return &s, nil
}

// DeleteSession ends a session and audits session.delete; ENOTFOUND when
// there is none (an expired one still counts as there, until it is swept).
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	if !storable(idHash) {
		return rule.SessionNotFound()
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		var user string
		err := tx.QueryRow(ctx, "DELETE FROM sessions WHERE id_hash = $1 RETURNING user_name", idHash).Scan(&user)
		if errors.Is(err, pgx.ErrNoRows) {
			return rule.SessionNotFound()
		}
		if err != nil {
			return err
		}
		if err := db.notify(ctx, tx, lhk.UsersChanged); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "session.delete", rule.UserTarget(user), rule.SessionDeleteDetail(idHash))
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
