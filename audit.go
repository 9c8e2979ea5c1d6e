package lhk

import (
	"context"
	"time"
)

// AuditEntry records one mutation: who did what to which thing, when.
type AuditEntry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // dotted, e.g. plugin.create, version.create, grant.set
	Target string    `json:"target"` // e.g. plugin/weekly-report, user/alice
	Detail string    `json:"detail"` // JSON with the change, never a secret
}

// AuditFilter narrows AuditEntries. Zero fields match everything.
type AuditFilter struct {
	Actor  string
	Target string
	Before int64 // page: entries with a smaller id
	Limit  int
}

// AuditStore keeps the audit log. Stores write entries themselves inside the
// transaction of each mutation; Audit is for mutations that live elsewhere.
type AuditStore interface {
	// Audit appends an entry; Time is set when zero.
	Audit(ctx context.Context, e AuditEntry) error
	// AuditEntries lists entries newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// Registry is everything lhk remembers about users, plugins and their runs.
// registry/sqlite implements it; registry/postgres will too.
type Registry interface {
	UserStore
	PluginStore
	InvocationStore
	AuditStore
	Close() error
}
