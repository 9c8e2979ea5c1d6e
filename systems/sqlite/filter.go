package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lhk-soc/lhk"
)

// MaxField is the longest field name of a filter condition, in bytes.
const MaxField = 256

// checkFilterName validates a filter name: 1–MaxName printable characters.
func checkFilterName(name string) error {
	switch n := utf8.RuneCountInString(name); {
	case name == "":
		return lhk.Errorf(lhk.EINVALID, "filter name is required")
	case n > MaxName:
		return lhk.Errorf(lhk.EINVALID, "filter name is %d characters, at most %d allowed", n, MaxName)
	case !printable(name) || strings.TrimSpace(name) != name:
		return lhk.Errorf(lhk.EINVALID, "filter name %q must be printable UTF-8 without leading or trailing spaces", short(name))
	}
	return nil
}

// checkConditions validates the conditions of a filter: 1 to lhk.MaxConditions
// of them, each with a field name, an operator from lhk.Ops and, except for
// exists, a string or number value of at most lhk.MaxQueryBytes (cidr values
// must be CIDR blocks). It returns them with numbers as float64, as they read
// back from JSON.
func checkConditions(conds []lhk.Condition) ([]lhk.Condition, error) {
	switch {
	case len(conds) == 0:
		return nil, lhk.Errorf(lhk.EINVALID, "a filter needs at least one condition (one without any would drop every event)")
	case len(conds) > lhk.MaxConditions:
		return nil, lhk.Errorf(lhk.EINVALID, "a filter has at most %d conditions, got %d", lhk.MaxConditions, len(conds))
	}
	out := make([]lhk.Condition, len(conds))
	for i, c := range conds {
		where := fmt.Sprintf("condition %d", i+1)
		switch {
		case strings.TrimSpace(c.Field) == "":
			return nil, lhk.Errorf(lhk.EINVALID, "%s: field is required", where)
		case len(c.Field) > MaxField || !printable(c.Field):
			return nil, lhk.Errorf(lhk.EINVALID, "%s: field must be printable UTF-8 of at most %d bytes", where, MaxField)
		case !slices.Contains(lhk.Ops, c.Op):
			return nil, lhk.Errorf(lhk.EINVALID, "%s: unknown op %q, use one of %s", where, short(c.Op), strings.Join(lhk.Ops, ", "))
		}
		v, err := conditionValue(c)
		if err != nil {
			return nil, lhk.Errorf(lhk.EINVALID, "%s (%s %s): %s", where, c.Field, c.Op, lhk.ErrorMessage(err))
		}
		out[i] = lhk.Condition{Field: c.Field, Op: c.Op, Value: v}
	}
	return out, nil
}

// conditionValue checks and normalises the value of one condition.
func conditionValue(c lhk.Condition) (any, error) {
	if c.Op == lhk.OpExists {
		return nil, nil
	}
	var f float64
	switch v := c.Value.(type) {
	case string:
		switch {
		case v == "":
			return nil, lhk.Errorf(lhk.EINVALID, "value is required")
		case len(v) > lhk.MaxQueryBytes:
			return nil, lhk.Errorf(lhk.EINVALID, "value is %d bytes, at most %d allowed", len(v), lhk.MaxQueryBytes)
		case !utf8.ValidString(v):
			return nil, lhk.Errorf(lhk.EINVALID, "value must be valid UTF-8")
		}
		if c.Op == lhk.OpCIDR {
			if _, err := netip.ParsePrefix(v); err != nil {
				return nil, lhk.Errorf(lhk.EINVALID, "value %q is not a CIDR block like 10.0.0.0/8", short(string(v)))
			}
		}
		return v, nil
	case nil:
		return nil, lhk.Errorf(lhk.EINVALID, "value is required")
	case float64:
		f = v
	case float32:
		f = float64(v)
	case int:
		f = float64(v)
	case int64:
		f = float64(v)
	case int32:
		f = float64(v)
	case uint:
		f = float64(v)
	case uint64:
		f = float64(v)
	case uint32:
		f = float64(v)
	case json.Number:
		var err error
		if f, err = v.Float64(); err != nil {
			return nil, lhk.Errorf(lhk.EINVALID, "value %q is not a number", short(string(v)))
		}
	default:
		return nil, lhk.Errorf(lhk.EINVALID, "value must be a string or a number, got %T", v)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, lhk.Errorf(lhk.EINVALID, "value must be a finite number")
	}
	if c.Op == lhk.OpCIDR {
		return nil, lhk.Errorf(lhk.EINVALID, "value must be a CIDR block like 10.0.0.0/8")
	}
	return f, nil
}

const filterColumns = `tenant, name, conditions, reason, owner, created_at, expires_at, hit_count, last_hit`

// scanFilter reads one row of filterColumns.
func scanFilter(row interface{ Scan(...any) error }) (*lhk.Filter, error) {
	var (
		f              lhk.Filter
		conds          string
		created        int64
		expires, lastH sql.NullInt64
	)
	if err := row.Scan(&f.Tenant, &f.Name, &conds, &f.Reason, &f.Owner, &created, &expires, &f.HitCount, &lastH); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(conds), &f.Conditions); err != nil {
		return nil, fmt.Errorf("decode conditions of filter %q: %w", short(f.Name), err)
	}
	f.CreatedAt = fromNano(created)
	f.ExpiresAt = fromNullNano(expires)
	f.LastHit = fromNullNano(lastH)
	return &f, nil
}

// Filters lists a tenant's filters by name. Expired filters (ExpiresAt at or
// before now) are left out unless includeExpired.
func (db *DB) Filters(ctx context.Context, tenant string, includeExpired bool) ([]*lhk.Filter, error) {
	if err := checkTenant(tenant); err != nil {
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
		return nil, fmt.Errorf("list filters of %q: %w", short(tenant), err)
	}
	return fs, nil
}

// UpsertFilter creates or replaces the filter f.Tenant/f.Name. Conditions,
// Reason and ExpiresAt are replaced; an existing filter keeps its CreatedAt,
// HitCount, LastHit and, when f.Owner is empty, its Owner. A new filter
// without an owner is owned by the context's actor. The given CreatedAt,
// HitCount and LastHit are ignored (SetHits records hits).
func (db *DB) UpsertFilter(ctx context.Context, f *lhk.Filter) (*lhk.Filter, error) {
	if f == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "filter is required")
	}
	if err := checkTenant(f.Tenant); err != nil {
		return nil, err
	}
	if err := checkFilterName(f.Name); err != nil {
		return nil, err
	}
	conds, err := checkConditions(f.Conditions)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", short(f.Name), err)
	}
	if err := checkText("reason", f.Reason, MaxDescription, false); err != nil {
		return nil, err
	}
	if err := checkLabel("owner", f.Owner, MaxName); err != nil {
		return nil, err
	}
	var expires *time.Time
	if f.ExpiresAt != nil {
		if err := checkTime("expires_at", *f.ExpiresAt); err != nil {
			return nil, err
		}
		e := fromNano(f.ExpiresAt.UnixNano())
		expires = &e
	}
	condJSON, err := json.Marshal(conds)
	if err != nil {
		return nil, fmt.Errorf("encode conditions: %w", err)
	}
	var out *lhk.Filter
	err = db.write(ctx, func(tx *sql.Tx) error {
		old, err := scanFilter(tx.QueryRowContext(ctx, "SELECT "+filterColumns+" FROM filters WHERE tenant = ? AND name = ?", f.Tenant, f.Name))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			old = nil
		case err != nil:
			return err
		}
		nf := &lhk.Filter{Tenant: f.Tenant, Name: f.Name, Conditions: conds, Reason: f.Reason, Owner: f.Owner, ExpiresAt: expires}
		if old != nil {
			nf.CreatedAt, nf.HitCount, nf.LastHit = old.CreatedAt, old.HitCount, old.LastHit
			if nf.Owner == "" {
				nf.Owner = old.Owner
			}
		} else {
			nf.CreatedAt = fromNano(db.now().UnixNano())
			if nf.Owner == "" {
				nf.Owner = lhk.ActorFromContext(ctx)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO filters (`+filterColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, name) DO UPDATE SET conditions = excluded.conditions, reason = excluded.reason,
				owner = excluded.owner, expires_at = excluded.expires_at`,
			nf.Tenant, nf.Name, string(condJSON), nf.Reason, nf.Owner, nf.CreatedAt.UnixNano(), nullNano(nf.ExpiresAt),
			nf.HitCount, nullNano(nf.LastHit)); err != nil {
			return err
		}
		out = nf
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upsert filter %q: %w", short(f.Name), err)
	}
	return out, nil
}

// DeleteFilter removes a filter; ENOTFOUND if the tenant has none by that name.
func (db *DB) DeleteFilter(ctx context.Context, tenant, name string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM filters WHERE tenant = ? AND name = ?", tenant, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return lhk.Errorf(lhk.ENOTFOUND, "filter %q not found in tenant %q", short(name), short(tenant))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete filter %q: %w", short(name), err)
	}
	return nil
}

// SetHits records a filter's hit count and last hit (nil clears it);
// ENOTFOUND if the filter is absent, EINVALID for a negative count.
func (db *DB) SetHits(ctx context.Context, tenant, name string, count int64, last *time.Time) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	if count < 0 {
		return lhk.Errorf(lhk.EINVALID, "hit count must not be negative, got %d", count)
	}
	if last != nil {
		if err := checkTime("last hit", *last); err != nil {
			return err
		}
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE filters SET hit_count = ?, last_hit = ? WHERE tenant = ? AND name = ?",
			count, nullNano(last), tenant, name)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return lhk.Errorf(lhk.ENOTFOUND, "filter %q not found in tenant %q", short(name), short(tenant))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set hits of filter %q: %w", short(name), err)
	}
	return nil
}
