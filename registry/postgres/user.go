package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	err = db.write(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = $1", u.Name); err != nil {
			return err
		} else if ok {
			return rule.UserExists(u.Name)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = $1", tokenHash); err != nil {
			return err
		} else if ok {
			return rule.TokenInUse()
		}
		if _, err := tx.Exec(ctx, "INSERT INTO users (name, role, ceiling, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
			u.Name, string(u.Role), cj, tokenHash, now); err != nil {
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
func scanUser(row pgx.Row) (*lhk.User, error) {
	var (
		u    lhk.User
		role string
	)
	if err := row.Scan(&u.Name, &role, &u.Ceiling, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.Role = lhk.Role(role)
	u.Ceiling = rule.NormCeiling(u.Ceiling)
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// UserByTokenHash finds the user whose token hashes to hash; ENOTFOUND otherwise.
func (db *DB) UserByTokenHash(ctx context.Context, hash string) (*lhk.User, error) {
	if hash == "" {
		return nil, rule.TokenNotFound()
	}
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE token_hash = $1", hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rule.TokenNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("find user by token: %w", storeErr(err))
	}
	return u, nil
}

// User returns one user by name; ENOTFOUND if absent.
func (db *DB) User(ctx context.Context, name string) (*lhk.User, error) {
	u, err := getUser(ctx, db.pool, name)
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", name, err)
	}
	return u, nil
}

// getUser reads one user; ENOTFOUND if absent.
func getUser(ctx context.Context, q querier, name string) (*lhk.User, error) {
	u, err := scanUser(q.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, rule.UserNotFound(name)
	}
	return u, storeErr(err)
}

// Users lists all users by name.
func (db *DB) Users(ctx context.Context) ([]*lhk.User, error) {
	rows, err := db.pool.Query(ctx, "SELECT "+userColumns+" FROM users ORDER BY name")
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
	err := db.write(ctx, func(tx pgx.Tx) error {
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
		if _, err := tx.Exec(ctx, "UPDATE users SET role = $1, ceiling = $2 WHERE name = $3", string(u.Role), cj, name); err != nil {
			return err
		}
		if err := db.notify(ctx, tx, lhk.UsersChanged); err != nil {
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
	err := db.write(ctx, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, name); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = $1 AND name <> $2", tokenHash, name); err != nil {
			return err
		} else if ok {
			return rule.TokenInUse()
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET token_hash = $1 WHERE name = $2", tokenHash, name); err != nil {
			return err
		}
		if err := db.notify(ctx, tx, lhk.UsersChanged); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "user.token", rule.UserTarget(name), rule.TokenSetDetail())
	})
	if err != nil {
		return fmt.Errorf("set token of user %q: %w", name, err)
	}
	return nil
}
