package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/registry/internal/rule"
)

// CreateUser adds u with the given token hash and sets u.CreatedAt. A taken
// name or token hash is ECONFLICT; a bad name, role or ceiling EINVALID.
func (db *DB) CreateUser(ctx context.Context, u *lhk.User, tokenHash string) error {
	if err := rule.CheckNewUser(u, tokenHash); err != nil {
		return err
	}
	ceiling := rule.NormCeiling(u.Ceiling)
	cj, err := rule.EncodeJSON(ceiling)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	now := db.now()
	err = db.write(ctx, func(tx *sql.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = ?", u.Name); err != nil {
			return err
		} else if ok {
			return rule.UserExists(u.Name)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = ?", tokenHash); err != nil {
			return err
		} else if ok {
			return rule.TokenInUse()
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO users (name, role, ceiling, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
			u.Name, string(u.Role), cj, tokenHash, now.UnixNano()); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, "user.create", rule.UserTarget(u.Name), rule.UserCreateDetail(u.Role, ceiling))
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	u.Ceiling = ceiling
	u.CreatedAt = now
	return nil
}

const userColumns = "name, role, ceiling, created_at"

// scanUser reads one row of userColumns.
func scanUser(row interface{ Scan(...any) error }) (*lhk.User, error) {
	var (
		u       lhk.User
		role    string
		ceiling string
		created int64
	)
	if err := row.Scan(&u.Name, &role, &ceiling, &created); err != nil {
		return nil, err
	}
	u.Role = lhk.Role(role)
	if err := json.Unmarshal([]byte(ceiling), &u.Ceiling); err != nil {
		return nil, fmt.Errorf("decode ceiling of user %q: %w", u.Name, err)
	}
	u.Ceiling = rule.NormCeiling(u.Ceiling)
	u.CreatedAt = fromNano(created)
	return &u, nil
}

// UserByTokenHash finds the user whose token hashes to hash; ENOTFOUND otherwise.
func (db *DB) UserByTokenHash(ctx context.Context, hash string) (*lhk.User, error) {
	if hash == "" {
		return nil, rule.TokenNotFound()
	}
	u, err := scanUser(db.rdb.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE token_hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rule.TokenNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("find user by token: %w", storeErr(err))
	}
	return u, nil
}

// User returns one user by name; ENOTFOUND if absent.
func (db *DB) User(ctx context.Context, name string) (*lhk.User, error) {
	u, err := getUser(ctx, db.rdb, name)
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", name, err)
	}
	return u, nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// getUser reads one user; ENOTFOUND if absent.
func getUser(ctx context.Context, q querier, name string) (*lhk.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rule.UserNotFound(name)
	}
	return u, storeErr(err)
}

// Users lists all users by name.
func (db *DB) Users(ctx context.Context) ([]*lhk.User, error) {
	rows, err := db.rdb.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", storeErr(err))
	}
	defer rows.Close()
	us := []*lhk.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", storeErr(err))
	}
	return us, nil
}

// UpdateUser applies upd and returns the updated user. The audit entry
// user.update names each changed field with its old and new value; an update
// that changes nothing writes nothing.
func (db *DB) UpdateUser(ctx context.Context, name string, upd lhk.UserUpdate) (*lhk.User, error) {
	if err := rule.CheckUserUpdate(upd); err != nil {
		return nil, err
	}
	var u *lhk.User
	err := db.write(ctx, func(tx *sql.Tx) error {
		old, err := getUser(ctx, tx, name)
		if err != nil {
			return err
		}
		u = old
		detail := rule.UpdateUser(u, upd)
		if len(detail) == 0 {
			return nil
		}
		cj, err := rule.EncodeJSON(u.Ceiling)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET role = ?, ceiling = ? WHERE name = ?", string(u.Role), cj, name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "user.update", rule.UserTarget(name), detail)
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", name, err)
	}
	return u, nil
}

// SetUserToken replaces the user's token hash; the old token stops working.
// The audit entry user.token records that it happened, never the hash.
func (db *DB) SetUserToken(ctx context.Context, name, tokenHash string) error {
	if err := rule.CheckTokenHash(tokenHash); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		if _, err := getUser(ctx, tx, name); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = ? AND name <> ?", tokenHash, name); err != nil {
			return err
		} else if ok {
			return rule.TokenInUse()
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET token_hash = ? WHERE name = ?", tokenHash, name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "user.token", rule.UserTarget(name), rule.TokenSetDetail())
	})
	if err != nil {
		return fmt.Errorf("set token of user %q: %w", name, err)
	}
	return nil
}

// exists reports whether query returns a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
