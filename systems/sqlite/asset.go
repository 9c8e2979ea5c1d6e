package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/internal/state"
)

const assetColumns = `tenant, name, ips, owner, os, criticality, tags, updated_at`

// scanAsset reads one row of assetColumns.
func scanAsset(row interface{ Scan(...any) error }) (*lhk.Asset, error) {
	var (
		a         lhk.Asset
		ips, tags []byte
		updated   int64
	)
	if err := row.Scan(&a.Tenant, &a.Name, &ips, &a.Owner, &a.OS, &a.Criticality, &tags, &updated); err != nil {
		return nil, err
	}
	if err := state.ReadAssetLists(&a, ips, tags); err != nil {
		return nil, err
	}
	a.UpdatedAt = fromNano(updated)
	return &a, nil
}

// LookupAsset finds a tenant's asset by name (case-insensitively) or, when
// nameOrIP is an IP address in any notation, by one of its IPs. When several
// assets share an IP the most recently updated wins. ENOTFOUND otherwise.
func (db *DB) LookupAsset(ctx context.Context, tenant, nameOrIP string) (*lhk.Asset, error) {
	if err := state.CheckTenant(tenant); err != nil {
		return nil, err
	}
	var a *lhk.Asset
	err := db.read(ctx, func(tx *sql.Tx) error {
		byName := func(key string) (*lhk.Asset, error) {
			return found(scanAsset(tx.QueryRowContext(ctx, "SELECT "+assetColumns+" FROM assets WHERE tenant = ? AND name_key = ?",
				tenant, key)))
		}
		byIP := func(ip string) (*lhk.Asset, error) {
			return found(scanAsset(tx.QueryRowContext(ctx, "SELECT "+prefixed("a.", assetColumns)+` FROM asset_ips i
				JOIN assets a ON a.tenant = i.tenant AND a.name_key = i.name_key
				WHERE i.tenant = ? AND i.ip = ? ORDER BY a.updated_at DESC, a.name_key LIMIT 1`,
				tenant, ip)))
		}
		var err error
		a, err = state.LookupAsset(tenant, nameOrIP, byName, byIP)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up asset %q: %w", state.Short(nameOrIP), err)
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
	a.UpdatedAt = fromNano(db.now().UnixNano())
	ips, tags, err := state.AssetLists(a)
	if err != nil {
		return nil, err
	}
	key := state.AssetKey(a.Name)
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO assets (name_key, `+assetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, name_key) DO UPDATE SET name = excluded.name, ips = excluded.ips, owner = excluded.owner,
				os = excluded.os, criticality = excluded.criticality, tags = excluded.tags, updated_at = excluded.updated_at`,
			key, a.Tenant, a.Name, ips, a.Owner, a.OS, a.Criticality, tags, a.UpdatedAt.UnixNano()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM asset_ips WHERE tenant = ? AND name_key = ?", a.Tenant, key); err != nil {
			return err
		}
		for _, ip := range a.IPs {
			if _, err := tx.ExecContext(ctx, "INSERT INTO asset_ips (tenant, ip, name_key) VALUES (?, ?, ?)", a.Tenant, ip, key); err != nil {
				return err
			}
		}
		return nil
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
	as := []*lhk.Asset{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+assetColumns+" FROM assets WHERE tenant = ? ORDER BY name_key", tenant)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAsset(rows)
			if err != nil {
				return err
			}
			as = append(as, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list assets of %q: %w", state.Short(tenant), err)
	}
	return as, nil
}
