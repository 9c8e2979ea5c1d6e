package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
)

// maxUserName bounds user names in bytes.
const maxUserName = 128

// validateUserName returns EINVALID unless name is 1–128 bytes of valid UTF-8
// without spaces, slashes (names appear in audit targets), control characters
// or invisible format characters (which would let "admin\u200b" pass for
// "admin").
func validateUserName(name string) error {
	if name == "" || len(name) > maxUserName || !utf8.ValidString(name) {
		return lhk.Errorf(lhk.EINVALID, "user name must be 1-%d bytes of UTF-8", maxUserName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || r == '/' {
			return lhk.Errorf(lhk.EINVALID, "user name %q must not contain spaces, slashes, control or format characters", name)
		}
	}
	return nil
}

// validateCeiling returns EINVALID for unknown capabilities or empty tenants.
func validateCeiling(c lhk.Ceiling) error {
	return lhk.Grant{Capabilities: c.Capabilities, Tenants: c.Tenants}.Validate()
}

// normCeiling replaces nil lists with empty ones.
func normCeiling(c lhk.Ceiling) lhk.Ceiling {
	return lhk.Ceiling{Capabilities: nonNil(c.Capabilities), Tenants: nonNil(c.Tenants)}
}

// userTarget is the audit target of a user.
func userTarget(name string) string { return "user/" + name }

// CreateUser adds u with the given token hash and sets u.CreatedAt. A taken
// name or token hash is ECONFLICT; a bad name, role or ceiling EINVALID.
func (db *DB) CreateUser(ctx context.Context, u *lhk.User, tokenHash string) error {
	if u == nil {
		return lhk.Errorf(lhk.EINVALID, "no user given")
	}
	if err := validateUserName(u.Name); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return lhk.Errorf(lhk.EINVALID, "role %q: use admin, analyst or viewer", u.Role)
	}
	if err := validateCeiling(u.Ceiling); err != nil {
		return err
	}
	if tokenHash == "" {
		return lhk.Errorf(lhk.EINVALID, "empty token hash")
	}
	ceiling := normCeiling(u.Ceiling)
	cj, err := encodeJSON(ceiling)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	now := db.now()
	err = db.write(ctx, func(tx pgx.Tx) error {
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE name = $1", u.Name); err != nil {
			return err
		} else if ok {
			return lhk.Errorf(lhk.ECONFLICT, "user %q already exists", u.Name)
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = $1", tokenHash); err != nil {
			return err
		} else if ok {
			return lhk.Errorf(lhk.ECONFLICT, "token already in use")
		}
		if _, err := tx.Exec(ctx, "INSERT INTO users (name, role, ceiling, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
			u.Name, string(u.Role), cj, tokenHash, now); err != nil {
			return err
		}
		return db.audit(ctx, tx, now, "user.create", userTarget(u.Name), map[string]any{"role": u.Role, "ceiling": ceiling})
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
	u.Ceiling = normCeiling(u.Ceiling)
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// UserByTokenHash finds the user whose token hashes to hash; ENOTFOUND otherwise.
func (db *DB) UserByTokenHash(ctx context.Context, hash string) (*lhk.User, error) {
	if hash == "" {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "no user with that token")
	}
	u, err := scanUser(db.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE token_hash = $1", hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, lhk.Errorf(lhk.ENOTFOUND, "no user with that token")
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
		return nil, lhk.Errorf(lhk.ENOTFOUND, "user %q not found", name)
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
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, lhk.Errorf(lhk.EINVALID, "role %q: use admin, analyst or viewer", *upd.Role)
	}
	if upd.Ceiling != nil {
		if err := validateCeiling(*upd.Ceiling); err != nil {
			return nil, err
		}
	}
	var u *lhk.User
	err := db.write(ctx, func(tx pgx.Tx) error {
		old, err := getUser(ctx, tx, name)
		if err != nil {
			return err
		}
		u = old
		detail := map[string]change{}
		if upd.Role != nil && *upd.Role != old.Role {
			detail["role"] = change{old.Role, *upd.Role}
			u.Role = *upd.Role
		}
		if upd.Ceiling != nil {
			c := normCeiling(*upd.Ceiling)
			if !slices.Equal(c.Capabilities, old.Ceiling.Capabilities) || !slices.Equal(c.Tenants, old.Ceiling.Tenants) {
				detail["ceiling"] = change{old.Ceiling, c}
				u.Ceiling = c
			}
		}
		if len(detail) == 0 {
			return nil
		}
		cj, err := encodeJSON(u.Ceiling)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET role = $1, ceiling = $2 WHERE name = $3", string(u.Role), cj, name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "user.update", userTarget(name), detail)
	})
	if err != nil {
		return nil, fmt.Errorf("update user %q: %w", name, err)
	}
	return u, nil
}

// SetUserToken replaces the user's token hash; the old token stops working.
// The audit entry user.token records that it happened, never the hash.
func (db *DB) SetUserToken(ctx context.Context, name, tokenHash string) error {
	if tokenHash == "" {
		return lhk.Errorf(lhk.EINVALID, "empty token hash")
	}
	err := db.write(ctx, func(tx pgx.Tx) error {
		if _, err := getUser(ctx, tx, name); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, "SELECT 1 FROM users WHERE token_hash = $1 AND name <> $2", tokenHash, name); err != nil {
			return err
		} else if ok {
			return lhk.Errorf(lhk.ECONFLICT, "token already in use")
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET token_hash = $1 WHERE name = $2", tokenHash, name); err != nil {
			return err
		}
		return db.audit(ctx, tx, db.now(), "user.token", userTarget(name), map[string]any{"rotated": true})
	})
	if err != nil {
		return fmt.Errorf("set token of user %q: %w", name, err)
	}
	return nil
}
