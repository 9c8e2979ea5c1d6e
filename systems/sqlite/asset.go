package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lhk-soc/lhk"
)

// assetKey is the lower-cased name assets are keyed and looked up by.
func assetKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// normalAsset checks a and returns a copy with IPs in canonical form (unique,
// in the given order), tags unique and sorted, and criticality defaulted.
func normalAsset(a *lhk.Asset) (*lhk.Asset, error) {
	n := &lhk.Asset{
		Tenant: a.Tenant, Name: strings.TrimSpace(a.Name), Owner: a.Owner, OS: a.OS, Criticality: a.Criticality,
		IPs: []string{}, Tags: []string{},
	}
	if err := checkTenant(n.Tenant); err != nil {
		return nil, err
	}
	switch {
	case n.Name == "":
		return nil, lhk.Errorf(lhk.EINVALID, "asset name is required")
	case len(n.Name) > MaxAssetName:
		return nil, lhk.Errorf(lhk.EINVALID, "asset name is %d bytes, at most %d allowed", len(n.Name), MaxAssetName)
	case !printable(n.Name):
		return nil, lhk.Errorf(lhk.EINVALID, "asset name %q must be printable UTF-8", short(n.Name))
	}
	if n.Criticality == "" {
		n.Criticality = lhk.SeverityMedium
	}
	if err := checkSeverity("criticality", n.Criticality); err != nil {
		return nil, err
	}
	if err := checkLabel("owner", n.Owner, MaxName); err != nil {
		return nil, err
	}
	if err := checkLabel("os", n.OS, MaxTitle); err != nil {
		return nil, err
	}
	if len(a.IPs) > MaxAssetIPs {
		return nil, lhk.Errorf(lhk.EINVALID, "an asset has at most %d IPs, got %d", MaxAssetIPs, len(a.IPs))
	}
	for _, s := range a.IPs {
		ip, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil || ip.Zone() != "" {
			return nil, lhk.Errorf(lhk.EINVALID, "asset IP %q is not an IP address", short(s))
		}
		if c := ip.Unmap().String(); !slices.Contains(n.IPs, c) {
			n.IPs = append(n.IPs, c)
		}
	}
	if len(a.Tags) > MaxAssetTags {
		return nil, lhk.Errorf(lhk.EINVALID, "an asset has at most %d tags, got %d", MaxAssetTags, len(a.Tags))
	}
	for _, tag := range a.Tags {
		tag = strings.TrimSpace(tag)
		if tag == "" || len(tag) > MaxTag || !printable(tag) {
			return nil, lhk.Errorf(lhk.EINVALID, "tag %q must be 1 to %d printable bytes", short(tag), MaxTag)
		}
		n.Tags = append(n.Tags, tag)
	}
	slices.Sort(n.Tags)
	n.Tags = slices.Compact(n.Tags)
	return n, nil
}

const assetColumns = `tenant, name, ips, owner, os, criticality, tags, updated_at`

// scanAsset reads one row of assetColumns.
func scanAsset(row interface{ Scan(...any) error }) (*lhk.Asset, error) {
	var (
		a         lhk.Asset
		ips, tags string
		updated   int64
	)
	if err := row.Scan(&a.Tenant, &a.Name, &ips, &a.Owner, &a.OS, &a.Criticality, &tags, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ips), &a.IPs); err != nil {
		return nil, fmt.Errorf("decode IPs of asset %q: %w", a.Name, err)
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
		return nil, fmt.Errorf("decode tags of asset %q: %w", a.Name, err)
	}
	a.IPs, a.Tags = nonNil(a.IPs), nonNil(a.Tags)
	a.UpdatedAt = fromNano(updated)
	return &a, nil
}

// LookupAsset finds a tenant's asset by name (case-insensitively) or, when
// nameOrIP is an IP address in any notation, by one of its IPs. When several
// assets share an IP the most recently updated wins. ENOTFOUND otherwise.
func (db *DB) LookupAsset(ctx context.Context, tenant, nameOrIP string) (*lhk.Asset, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var a *lhk.Asset
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanAsset(tx.QueryRowContext(ctx, "SELECT "+assetColumns+" FROM assets WHERE tenant = ? AND name_key = ?",
			tenant, assetKey(nameOrIP)))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ip, perr := netip.ParseAddr(strings.TrimSpace(nameOrIP))
		if perr != nil {
			return lhk.Errorf(lhk.ENOTFOUND, "no asset named %q in tenant %q", short(nameOrIP), short(tenant))
		}
		a, err = scanAsset(tx.QueryRowContext(ctx, "SELECT "+prefixed("a.", assetColumns)+` FROM asset_ips i
			JOIN assets a ON a.tenant = i.tenant AND a.name_key = i.name_key
			WHERE i.tenant = ? AND i.ip = ? ORDER BY a.updated_at DESC, a.name_key LIMIT 1`,
			tenant, ip.WithZone("").Unmap().String()))
		if errors.Is(err, sql.ErrNoRows) {
			return lhk.Errorf(lhk.ENOTFOUND, "no asset named %q or with that IP in tenant %q", short(nameOrIP), short(tenant))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("look up asset %q: %w", short(nameOrIP), err)
	}
	return a, nil
}

// UpsertAsset creates or replaces the asset a.Tenant/a.Name (names compare
// case-insensitively; the latest spelling is kept). IPs must parse and are
// stored canonically without duplicates; tags are de-duplicated and sorted;
// criticality defaults to medium. UpdatedAt is set to now.
func (db *DB) UpsertAsset(ctx context.Context, in *lhk.Asset) (*lhk.Asset, error) {
	if in == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "asset is required")
	}
	a, err := normalAsset(in)
	if err != nil {
		return nil, err
	}
	a.UpdatedAt = fromNano(db.now().UnixNano())
	ips, err := json.Marshal(a.IPs)
	if err != nil {
		return nil, err
	}
	tags, err := json.Marshal(a.Tags)
	if err != nil {
		return nil, err
	}
	key := assetKey(a.Name)
	err = db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO assets (name_key, `+assetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, name_key) DO UPDATE SET name = excluded.name, ips = excluded.ips, owner = excluded.owner,
				os = excluded.os, criticality = excluded.criticality, tags = excluded.tags, updated_at = excluded.updated_at`,
			key, a.Tenant, a.Name, string(ips), a.Owner, a.OS, a.Criticality, string(tags), a.UpdatedAt.UnixNano()); err != nil {
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
		return nil, fmt.Errorf("upsert asset %q: %w", short(a.Name), err)
	}
	return a, nil
}

// Assets lists a tenant's assets by name (case-insensitively).
func (db *DB) Assets(ctx context.Context, tenant string) ([]*lhk.Asset, error) {
	if err := checkTenant(tenant); err != nil {
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
		return nil, fmt.Errorf("list assets of %q: %w", short(tenant), err)
	}
	return as, nil
}
