package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

var _ lhk.SessionStore = (*DB)(nil)

// CreateSession stores s and removes expired sessions in the same
// transaction. The user must exist (ENOTFOUND otherwise); a taken IDHash is
// ECONFLICT. The audit entry session.create names the user, a short reference
// and the expiry, never the id or a hash that could be replayed.
func (db *DB) CreateSession(ctx context.Context, s *lhk.Session) error {
	now := db.now()
	if err := rule.NewSession(s, now); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = ?", s.User); err != nil {
			return err
		} else if !ok {
			return rule.UserNotFound(s.User)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM sessions WHERE id_hash = ?", s.IDHash); err != nil {
			return err
		} else if ok {
			return rule.SessionInUse()
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", now.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, token_hash, user, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, s.IDHash, s.TokenHash, s.User, s.CreatedAt.UnixNano(), s.ExpiresAt.UnixNano()); err != nil {
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
// ENOTFOUND otherwise.
func (db *DB) Session(ctx context.Context, idHash string) (*lhk.Session, error) {
	var (
		s                lhk.Session
		created, expires int64
	)
	err := db.rdb.QueryRowContext(ctx, `SELECT id_hash, token_hash, user, created_at, expires_at
		FROM sessions WHERE id_hash = ? AND expires_at > ?`, idHash, db.now().UnixNano()).
		Scan(&s.IDHash, &s.TokenHash, &s.User, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rule.SessionNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("get session: %w", storeErr(err))
	}
	s.CreatedAt = fromNano(created)
	s.ExpiresAt = fromNano(expires)
	return &s, nil
}

// DeleteSession ends a session and audits session.delete; ENOTFOUND when
// there is none (an expired one still counts as there, until it is swept).
func (db *DB) DeleteSession(ctx context.Context, idHash string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		var user string
		err := tx.QueryRowContext(ctx, "SELECT user FROM sessions WHERE id_hash = ?", idHash).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return rule.SessionNotFound()
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "session.delete", rule.UserTarget(user), rule.SessionDeleteDetail(idHash))
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
