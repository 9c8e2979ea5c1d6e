package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const filterColumns = `tenant, name, conditions, reason, owner, created_at, expires_at, hit_count, last_hit`

// scanFilter reads one row of filterColumns.
func scanFilter(row pgx.Row) (*lhk.Filter, error) {
	var (
		f              lhk.Filter
		conds          []byte
		expires, lastH *time.Time
	)
	if err := row.Scan(&f.Tenant, &f.Name, &conds, &f.Reason, &f.Owner, &f.CreatedAt, &expires, &f.HitCount, &lastH); err != nil {
		return nil, err
	}
	if err := state.ReadFilterConditions(&f, conds); err != nil {
		return nil, err
	}
	f.CreatedAt = f.CreatedAt.UTC()
	f.ExpiresAt, f.LastHit = utcPtr(expires), utcPtr(lastH)
	return &f, nil
}

// Filters lists a tenant's filters by name. Expired filters (ExpiresAt at or
// before now) are left out unless includeExpired.
func (db *DB) Filters(ctx context.Context, tenant string, includeExpired bool) ([]*lhk.Filter, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	q := "SELECT " + filterColumns + " FROM filters WHERE tenant = $1"
	args := []any{tenant}
	if !includeExpired {
		q += " AND (expires_at IS NULL OR expires_at > $2)"
		args = append(args, db.now())
	}
	q += " ORDER BY name"
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list filters of %q: %w", state.Short(tenant), storeErr(err))
	}
	defer rows.Close()
	fs := []*lhk.Filter{}
	for rows.Next() {
		f, err := scanFilter(rows)
		if err != nil {
			return nil, fmt.Errorf("list filters of %q: %w", state.Short(tenant), err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list filters of %q: %w", state.Short(tenant), storeErr(err))
	}
	return fs, nil
}

// UpsertFilter creates or replaces the filter f.Tenant/f.Name. Conditions,
// Reason and ExpiresAt are replaced; an existing filter keeps its CreatedAt,
// HitCount, LastHit and, when f.Owner is empty, its Owner. A new filter
// without an owner is owned by the context's actor. The given CreatedAt,
// HitCount and LastHit are ignored (SetHits records hits). One statement
// does it, so replicas upserting one filter at once cannot lose its
// statistics.
func (db *DB) UpsertFilter(ctx context.Context, f *lhk.Filter) (*lhk.Filter, error) {
	nf, err := state.NewFilter(f)
	if err != nil {
		return nil, err
	}
	nf.ExpiresAt = stampPtr(nf.ExpiresAt)
	conds, err := state.FilterConditions(nf)
	if err != nil {
		return nil, err
	}
	owner := nf.Owner
	if owner == "" {
		owner = lhk.ActorFromContext(ctx)
	}
	var (
		expires, lastH *time.Time
	)
	err = db.pool.QueryRow(ctx, `INSERT INTO filters (tenant, name, conditions, reason, owner, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant, name) DO UPDATE SET conditions = excluded.conditions, reason = excluded.reason,
			owner = CASE WHEN $8 THEN excluded.owner ELSE filters.owner END, expires_at = excluded.expires_at
		RETURNING owner, created_at, expires_at, hit_count, last_hit`,
		nf.Tenant, nf.Name, conds, nf.Reason, owner, db.now(), nf.ExpiresAt, nf.Owner != "").
		Scan(&nf.Owner, &nf.CreatedAt, &expires, &nf.HitCount, &lastH)
	if err != nil {
		return nil, fmt.Errorf("upsert filter %q: %w", state.Short(f.Name), storeErr(err))
	}
	nf.CreatedAt = nf.CreatedAt.UTC()
	nf.ExpiresAt, nf.LastHit = utcPtr(expires), utcPtr(lastH)
	return nf, nil
}

// DeleteFilter removes a filter; ENOTFOUND if the tenant has none by that name.
func (db *DB) DeleteFilter(ctx context.Context, tenant, name string) error {
	if err := state.CheckTenant(tenant); err != nil {
		return err
	}
	if !storable(name) {
		return fmt.Errorf("delete filter %q: %w", state.Short(name), state.FilterNotFound(tenant, name))
	}
	tag, err := db.pool.Exec(ctx, "DELETE FROM filters WHERE tenant = $1 AND name = $2", tenant, name)
	if err != nil {
		return fmt.Errorf("delete filter %q: %w", state.Short(name), storeErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete filter %q: %w", state.Short(name), state.FilterNotFound(tenant, name))
	}
	return nil
}

// SetHits records a filter's hit count and last hit (nil clears it);
// ENOTFOUND if the filter is absent, EINVALID for a negative count.
func (db *DB) SetHits(ctx context.Context, tenant, name string, count int64, last *time.Time) error {
	if err := state.CheckHits(tenant, count, last); err != nil {
		return err
	}
	if !storable(name) {
		return fmt.Errorf("set hits of filter %q: %w", state.Short(name), state.FilterNotFound(tenant, name))
	}
	tag, err := db.pool.Exec(ctx, "UPDATE filters SET hit_count = $1, last_hit = $2 WHERE tenant = $3 AND name = $4",
		count, stampPtr(last), tenant, name)
	if err != nil {
		return fmt.Errorf("set hits of filter %q: %w", state.Short(name), storeErr(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set hits of filter %q: %w", state.Short(name), state.FilterNotFound(tenant, name))
	}
	return nil
}
