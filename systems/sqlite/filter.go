package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const filterColumns = `tenant, name, conditions, reason, owner, created_at, expires_at, hit_count, last_hit`

// scanFilter reads one row of filterColumns.
func scanFilter(row interface{ Scan(...any) error }) (*lhk.Filter, error) {
	var (
		f              lhk.Filter
		conds          []byte
		created        int64
		expires, lastH sql.NullInt64
	)
	if err := row.Scan(&f.Tenant, &f.Name, &conds, &f.Reason, &f.Owner, &created, &expires, &f.HitCount, &lastH); err != nil {
		return nil, err
	}
	if err := state.ReadFilterConditions(&f, conds); err != nil {
		return nil, err
	}
	f.CreatedAt = fromNano(created)
	f.ExpiresAt = fromNullNano(expires)
	f.LastHit = fromNullNano(lastH)
	return &f, nil
}

// Filters lists a tenant's filters by name. Expired filters (ExpiresAt at or
// before now) are left out unless includeExpired.
func (db *DB) Filters(ctx context.Context, tenant string, includeExpired bool) ([]*lhk.Filter, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	q := "SELECT " + filterColumns + " FROM filters WHERE tenant = ?"
	args := []any{tenant}
	if !includeExpired {
		q += " AND (expires_at IS NULL OR expires_at > ?)"
		args = append(args, db.now().UnixNano())
	}
	q += " ORDER BY name"
	fs := []*lhk.Filter{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f, err := scanFilter(rows)
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list filters of %q: %w", state.Short(tenant), err)
	}
	return fs, nil
}

// UpsertFilter creates or replaces the filter f.Tenant/f.Name. Conditions,
// Reason and ExpiresAt are replaced; an existing filter keeps its CreatedAt,
// HitCount, LastHit and, when f.Owner is empty, its Owner. A new filter
// without an owner is owned by the context's actor. The given CreatedAt,
// HitCount and LastHit are ignored (SetHits records hits).
func (db *DB) UpsertFilter(ctx context.Context, f *lhk.Filter) (*lhk.Filter, error) {
	nf, err := state.NewFilter(f)
	if err != nil {
		return nil, err
	}
	conds, err := state.FilterConditions(nf)
	if err != nil {
		return nil, err
	}
	var out *lhk.Filter
	err = db.write(ctx, func(tx *sql.Tx) error {
		old, err := found(scanFilter(tx.QueryRowContext(ctx, "SELECT "+filterColumns+" FROM filters WHERE tenant = ? AND name = ?", f.Tenant, f.Name)))
		if err != nil {
			return err
		}
		state.MergeFilter(nf, old, fromNano(db.now().UnixNano()), lhk.ActorFromContext(ctx))
		if _, err := tx.ExecContext(ctx, `INSERT INTO filters (`+filterColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, name) DO UPDATE SET conditions = excluded.conditions, reason = excluded.reason,
				owner = excluded.owner, expires_at = excluded.expires_at`,
			nf.Tenant, nf.Name, conds, nf.Reason, nf.Owner, nf.CreatedAt.UnixNano(), nullNano(nf.ExpiresAt),
			nf.HitCount, nullNano(nf.LastHit)); err != nil {
			return err
		}
		out = nf
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upsert filter %q: %w", state.Short(f.Name), err)
	}
	return out, nil
}

// DeleteFilter removes a filter; ENOTFOUND if the tenant has none by that name.
func (db *DB) DeleteFilter(ctx context.Context, tenant, name string) error {
	if err := state.CheckTenant(tenant); err != nil {
		return err
	}
	err := db.changeFilter(ctx, tenant, name, "DELETE FROM filters WHERE tenant = ? AND name = ?", tenant, name)
	if err != nil {
		return fmt.Errorf("delete filter %q: %w", state.Short(name), err)
	}
	return nil
}

// SetHits records a filter's hit count and last hit (nil clears it);
// ENOTFOUND if the filter is absent, EINVALID for a negative count.
func (db *DB) SetHits(ctx context.Context, tenant, name string, count int64, last *time.Time) error {
	if err := state.CheckHits(tenant, count, last); err != nil {
		return err
	}
	err := db.changeFilter(ctx, tenant, name, "UPDATE filters SET hit_count = ?, last_hit = ? WHERE tenant = ? AND name = ?",
		count, nullNano(last), tenant, name)
	if err != nil {
		return fmt.Errorf("set hits of filter %q: %w", state.Short(name), err)
	}
	return nil
}

// changeFilter runs one statement on the filter tenant/name in a write
// transaction; ENOTFOUND when it changed no row.
func (db *DB) changeFilter(ctx context.Context, tenant, name, query string, args ...any) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return state.FilterNotFound(tenant, name)
		}
		return nil
	})
}
