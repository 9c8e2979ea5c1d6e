package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const assetColumns = `tenant, name, ips, owner, os, criticality, tags, updated_at`

// scanAsset reads one row of assetColumns.
func scanAsset(row pgx.Row) (*lhk.Asset, error) {
	var (
		a         lhk.Asset
		ips, tags []byte
	)
	if err := row.Scan(&a.Tenant, &a.Name, &ips, &a.Owner, &a.OS, &a.Criticality, &tags, &a.UpdatedAt); err != nil {
		return nil, err
	}
	if err := state.ReadAssetLists(&a, ips, tags); err != nil {
		return nil, err
	}
	a.UpdatedAt = a.UpdatedAt.UTC()
	return &a, nil
}

// LookupAsset finds a tenant's asset by name (case-insensitively) or, when
// nameOrIP is an IP address in any notation, by one of its IPs. When several
// assets share an IP the most recently updated wins. ENOTFOUND otherwise.
func (db *DB) LookupAsset(ctx context.Context, tenant, nameOrIP string) (*lhk.Asset, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	byName := func(key string) (*lhk.Asset, error) {
		if !storable(key) {
			return nil, nil
		}
		return found(scanAsset(db.pool.QueryRow(ctx, "SELECT "+assetColumns+" FROM assets WHERE tenant = $1 AND name_key = $2", tenant, key)))
	}
	byIP := func(ip string) (*lhk.Asset, error) {
		return found(scanAsset(db.pool.QueryRow(ctx, "SELECT "+prefixed("a.", assetColumns)+` FROM asset_ips i
			JOIN assets a ON a.tenant = i.tenant AND a.name_key = i.name_key
			WHERE i.tenant = $1 AND i.ip = $2::inet ORDER BY a.updated_at DESC, a.name_key LIMIT 1`, tenant, ip)))
	}
	a, err := state.LookupAsset(tenant, nameOrIP, byName, byIP)
	if err != nil {
		return nil, fmt.Errorf("look up asset %q: %w", state.Short(nameOrIP), storeErr(err))
	}
	return a, nil
}

// UpsertAsset creates or replaces the asset a.Tenant/a.Name (names compare
// case-insensitively; the latest spelling is kept). IPs must parse and are
// stored canonically without duplicates; tags are de-duplicated and sorted;
// criticality defaults to medium. UpdatedAt is set to now.
func (db *DB) UpsertAsset(ctx context.Context, in *lhk.Asset) (*lhk.Asset, error) {
	a, err := state.NewAsset(in)
	if err != nil {
		return nil, err
	}
	a.UpdatedAt = db.now()
	ips, tags, err := state.AssetLists(a)
	if err != nil {
		return nil, err
	}
	key := state.AssetKey(a.Name)
	err = db.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO assets (name_key, `+assetColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (tenant, name_key) DO UPDATE SET name = excluded.name, ips = excluded.ips, owner = excluded.owner,
				os = excluded.os, criticality = excluded.criticality, tags = excluded.tags, updated_at = excluded.updated_at`,
			key, a.Tenant, a.Name, ips, a.Owner, a.OS, a.Criticality, tags, a.UpdatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM asset_ips WHERE tenant = $1 AND name_key = $2", a.Tenant, key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO asset_ips (tenant, ip, name_key) SELECT $1, ip::inet, $2 FROM unnest($3::text[]) AS ip`,
			a.Tenant, key, a.IPs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert asset %q: %w", state.Short(a.Name), err)
	}
	return a, nil
}

// Assets lists a tenant's assets by name (case-insensitively).
func (db *DB) Assets(ctx context.Context, tenant string) ([]*lhk.Asset, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, "SELECT "+assetColumns+" FROM assets WHERE tenant = $1 ORDER BY name_key", tenant)
	if err != nil {
		return nil, fmt.Errorf("list assets of %q: %w", state.Short(tenant), storeErr(err))
	}
	defer rows.Close()
	as := []*lhk.Asset{}
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, fmt.Errorf("list assets of %q: %w", state.Short(tenant), err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list assets of %q: %w", state.Short(tenant), storeErr(err))
	}
	return as, nil
}
