// Package rule holds what the registry backends (registry/sqlite and
// registry/postgres) decide alike, apart from SQL: the checks of what a
// caller gives and their messages, the defaults and normalisation applied
// before a write, listing limits, the audit targets and the details of audit
// entries. Each backend calls it before and inside its transactions and keeps
// its own SQL, transactions and error mapping, so both accept, refuse and
// record the same things; registry/registrytest holds them to it.
package rule

import (
	"encoding/json"

	"github.com/lhk-soc/lhk/internal/check"
)

// Listing limits for Invocations and AuditEntries.
const (
	DefaultLimit = 50   // used when a filter's Limit is zero
	MaxLimit     = 1000 // larger limits are lowered to this
)

// ClampLimit returns the number of rows to list for a filter's Limit n:
// DefaultLimit for zero, at most MaxLimit, EINVALID when negative.
func ClampLimit(n int) (int, error) { return check.Limit(n, DefaultLimit, MaxLimit) }

// NonNil returns s, or an empty slice when s is nil, so JSON shows [] not null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EncodeJSON marshals v for a JSON or JSONB column.
func EncodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// UserTarget is the audit target of a user.
func UserTarget(name string) string { return "user/" + name }

// PluginTarget is the audit target of a plugin.
func PluginTarget(name string) string { return "plugin/" + name }
