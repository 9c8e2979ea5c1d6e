package state

import (
	"encoding/json"
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
		return lhk.Errorf(lhk.EINVALID, "filter name %q must be printable UTF-8 without leading or trailing spaces", Short(name))
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
			return nil, lhk.Errorf(lhk.EINVALID, "%s: unknown op %q, use one of %s", where, Short(c.Op), strings.Join(lhk.Ops, ", "))
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
				return nil, lhk.Errorf(lhk.EINVALID, "value %q is not a CIDR block like 10.0.0.0/8", Short(string(v)))
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
			return nil, lhk.Errorf(lhk.EINVALID, "value %q is not a number", Short(string(v)))
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

// NewFilter checks a filter given to UpsertFilter and returns what to store:
// a copy with conditions normalised (numbers as float64, as they read back
// from JSON) and ExpiresAt in UTC. CreatedAt, HitCount and LastHit are left
// zero; MergeFilter fills them.
func NewFilter(f *lhk.Filter) (*lhk.Filter, error) {
	if f == nil {
		return nil, lhk.Errorf(lhk.EINVALID, "filter is required")
	}
	if err := CheckTenant(f.Tenant); err != nil {
		return nil, err
	}
	if err := checkFilterName(f.Name); err != nil {
		return nil, err
	}
	conds, err := checkConditions(f.Conditions)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", Short(f.Name), err)
	}
	if err := CheckText("reason", f.Reason, MaxDescription, false); err != nil {
		return nil, err
	}
	if err := CheckLabel("owner", f.Owner, MaxName); err != nil {
		return nil, err
	}
	nf := &lhk.Filter{Tenant: f.Tenant, Name: f.Name, Conditions: conds, Reason: f.Reason, Owner: f.Owner}
	if f.ExpiresAt != nil {
		if err := CheckTime("expires_at", *f.ExpiresAt); err != nil {
			return nil, err
		}
		e := UTC(*f.ExpiresAt)
		nf.ExpiresAt = &e
	}
	return nf, nil
}

// MergeFilter completes nf (from NewFilter) before it is written: an
// existing filter (old, nil when there is none) keeps its CreatedAt,
// HitCount, LastHit and, when nf has no owner, its Owner; a new one is
// created now and, without an owner, owned by actor.
func MergeFilter(nf, old *lhk.Filter, now time.Time, actor string) {
	if old != nil {
		nf.CreatedAt, nf.HitCount, nf.LastHit = old.CreatedAt, old.HitCount, old.LastHit
		if nf.Owner == "" {
			nf.Owner = old.Owner
		}
		return
	}
	nf.CreatedAt = now
	if nf.Owner == "" {
		nf.Owner = actor
	}
}

// CheckHits validates the arguments of SetHits.
func CheckHits(tenant string, count int64, last *time.Time) error {
	if err := CheckTenant(tenant); err != nil {
		return err
	}
	if count < 0 {
		return lhk.Errorf(lhk.EINVALID, "hit count must not be negative, got %d", count)
	}
	if last != nil {
		if err := CheckTime("last hit", *last); err != nil {
			return err
		}
	}
	return nil
}

// FilterNotFound is the error for a filter a tenant does not have.
func FilterNotFound(tenant, name string) error {
	return lhk.Errorf(lhk.ENOTFOUND, "filter %q not found in tenant %q", Short(name), Short(tenant))
}

// FilterConditions returns the conditions of f as the JSON its store keeps
// them in.
func FilterConditions(f *lhk.Filter) (string, error) {
	b, err := json.Marshal(f.Conditions)
	if err != nil {
		return "", fmt.Errorf("encode conditions: %w", err)
	}
	return string(b), nil
}

// ReadFilterConditions sets the conditions of f, read from its store, from
// their JSON (FilterConditions).
func ReadFilterConditions(f *lhk.Filter, conds []byte) error {
	if err := json.Unmarshal(conds, &f.Conditions); err != nil {
		return fmt.Errorf("decode conditions of filter %q: %w", Short(f.Name), err)
	}
	return nil
}
