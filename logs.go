package lhk

import (
	"context"
	"io"
	"time"
)

// Event is one log event: a flat JSON object whose keys are dotted Elastic
// Common Schema names where one exists ("@timestamp", "host.name",
// "process.command_line"…) beside the fields it was ingested with. Nested input
// objects are flattened to dotted keys at ingest. Every stored event also has
// "tenant" and "_id", the store's opaque id for linking it (e.g. to a ticket).
type Event map[string]any

// Limits of log operations. Requests beyond them are EINVALID, never slow.
const (
	DefaultLogLimit = 100                  // events when a request names no limit
	MaxLogLimit     = 1000                 // the hard cap of limit
	MaxQueryBytes   = 4096                 // free-text query, and each condition value
	MaxConditions   = 32                   // conditions in one field search
	MaxLogRange     = 400 * 24 * time.Hour // the longest time range one request may cover
	MaxTopBuckets   = 100                  // buckets of a top request
	MaxIngestLine   = 1 << 20              // bytes of one NDJSON line
	MaxIngestErrors = 100                  // per-line errors reported by one ingest
)

// Field-search operators.
const (
	OpEq       = "eq"       // equal (strings exactly, numbers numerically)
	OpContains = "contains" // substring, case-insensitive
	OpPrefix   = "prefix"   // string prefix, case-sensitive
	OpCIDR     = "cidr"     // IP inside a CIDR block, e.g. 10.0.0.0/8
	OpGT       = "gt"       // greater than: numbers numerically, times and strings lexically
	OpLT       = "lt"       // less than
	OpExists   = "exists"   // the field is present (value ignored)
)

// Ops lists the field-search operators.
var Ops = []string{OpEq, OpContains, OpPrefix, OpCIDR, OpGT, OpLT, OpExists}

// Condition is one term of a field search; the terms of a request are AND-ed.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value,omitempty"` // string or number
}

// IngestResult answers an ingest.
type IngestResult struct {
	Accepted int           `json:"accepted"`
	Rejected int           `json:"rejected"`
	Errors   []IngestError `json:"errors"`
}

// IngestError says why one NDJSON line was rejected (lines count from 1).
type IngestError struct {
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// SearchRequest is a free-text search over whole events.
type SearchRequest struct {
	Tenant string    `json:"tenant"`
	Query  string    `json:"query"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Limit  int       `json:"limit"`
	Cursor string    `json:"cursor"`
	// ApplyFilters drops events matched by the tenant's active filters.
	ApplyFilters bool `json:"apply_filters"`
	// Exclude holds the conditions of the filters to apply; set by the library
	// from the filters system, never by callers.
	Exclude [][]Condition `json:"-"`
}

// FieldSearchRequest is a search on field conditions, AND-ed.
type FieldSearchRequest struct {
	Tenant       string        `json:"tenant"`
	Fields       []Condition   `json:"fields"`
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	Limit        int           `json:"limit"`
	Cursor       string        `json:"cursor"`
	ApplyFilters bool          `json:"apply_filters"`
	Exclude      [][]Condition `json:"-"`
}

// SearchResult holds at most limit events, newest first. Truncated says more
// events match; NextCursor fetches them.
type SearchResult struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
	Truncated  bool    `json:"truncated"`
}

// TopRequest counts events by the values of one field, for reports. Fields and
// Query, when set, narrow the events counted.
type TopRequest struct {
	Tenant       string        `json:"tenant"`
	Field        string        `json:"field"`
	Fields       []Condition   `json:"fields"`
	Query        string        `json:"query"`
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	Limit        int           `json:"limit"`
	ApplyFilters bool          `json:"apply_filters"`
	Exclude      [][]Condition `json:"-"`
}

// TopResult lists the most frequent values, most frequent first. Total counts
// every matching event with the field; Other counts those outside Buckets.
type TopResult struct {
	Field   string   `json:"field"`
	Buckets []Bucket `json:"buckets"`
	Total   int64    `json:"total"`
	Other   int64    `json:"other"`
}

// Bucket is one value and how many events have it.
type Bucket struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// CountRequest counts events matching conditions in a time range.
type CountRequest struct {
	Tenant string      `json:"tenant"`
	Fields []Condition `json:"fields"`
	From   time.Time   `json:"from"`
	To     time.Time   `json:"to"`
}

// CountResult answers a count; Last is the newest matching event's time.
type CountResult struct {
	Count int64      `json:"count"`
	Last  *time.Time `json:"last,omitempty"`
}

// LogService stores and searches events. Every method is scoped to one tenant:
// nothing of another tenant is read, counted or returned. Requests breaking the
// limits above, with an unknown operator, or without a time range are EINVALID.
type LogService interface {
	// Ingest reads NDJSON, one event per line. An event without "tenant" takes
	// defaultTenant; one with neither is rejected, as is one without a valid
	// "@timestamp" (RFC 3339). Windows events in NXLog/Winlogbeat form are mapped
	// to ECS, keeping their original fields. Accepted lines are stored even when
	// others are rejected.
	Ingest(ctx context.Context, defaultTenant string, r io.Reader) (*IngestResult, error)
	// Search finds events whose text contains every word of the query.
	Search(ctx context.Context, req SearchRequest) (*SearchResult, error)
	// SearchFields finds events matching every condition.
	SearchFields(ctx context.Context, req FieldSearchRequest) (*SearchResult, error)
	// Top counts events by the values of one field.
	Top(ctx context.Context, req TopRequest) (*TopResult, error)
	// Count counts events matching every condition.
	Count(ctx context.Context, req CountRequest) (*CountResult, error)
}
