package lhk

import (
	"context"
	"time"
)

// Triggers: what started an invocation.
const (
	TriggerHTTP    = "http"
	TriggerCron    = "cron"
	TriggerWebhook = "webhook"
	TriggerCLI     = "cli"
	TriggerPlugin  = "plugin" // started by another plugin (plugins_start)
)

// Invocation statuses.
const (
	StatusRunning = "running"
	StatusOK      = "ok"
	StatusError   = "error"
	StatusTimeout = "timeout"
	StatusSkipped = "skipped"
)

// Invocation is one run of one plugin function.
type Invocation struct {
	ID         string    `json:"id"`
	Plugin     string    `json:"plugin"`
	Version    int       `json:"version"`
	Function   string    `json:"function"`
	Trigger    string    `json:"trigger"`
	Caller     string    `json:"caller"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	Input      []byte    `json:"-"`
	Output     []byte    `json:"output"`
	// OutputTruncated says the stored output was cut to the history cap; the
	// caller of a synchronous invocation still received all of it.
	OutputTruncated bool      `json:"output_truncated,omitempty"`
	Logs            []LogLine `json:"logs"`
	Error           string    `json:"error"`
	// Replica names the lhkd process that ran it, when several share a
	// registry; empty on a single node.
	Replica string `json:"replica,omitempty"`
}

// LogLine is one line a plugin logged through Extism logging or wrote to
// WASI stdout or stderr.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"` // trace, debug, info, warn, error, stdout, stderr, lhk
	Message string    `json:"message"`
}

// InvocationFilter narrows Invocations. Zero fields match everything.
type InvocationFilter struct {
	Plugin  string
	Trigger string
	Status  string
	Caller  string
	// Before pages: only invocations older than this id's start.
	Before string
	Limit  int
	// Brief leaves Output and Logs out of the records (nil), for listings
	// that show neither: they are the bulk of a stored record.
	Brief bool
}

// InvocationStore keeps the history of invocations.
type InvocationStore interface {
	// PutInvocations inserts or replaces records by id in one transaction.
	PutInvocations(ctx context.Context, invs []*Invocation) error
	// Invocation returns one record; ENOTFOUND if absent.
	Invocation(ctx context.Context, id string) (*Invocation, error)
	// Invocations lists records newest first.
	Invocations(ctx context.Context, f InvocationFilter) ([]*Invocation, error)
}

// InvokeRequest asks for one run of a plugin function.
type InvokeRequest struct {
	Plugin   string
	Function string // "" means the plugin's entrypoint
	Input    []byte
	Trigger  string
	Caller   string
	// Version pins a version; 0 means the current one.
	Version int
}

// InvokeService runs plugins and records each run as an invocation.
type InvokeService interface {
	// Invoke runs the request to completion. It returns the invocation, whose
	// Output is complete, and an error whose code is ETIMEOUT or EFAILED when the
	// plugin misbehaved (the invocation is still returned then).
	Invoke(ctx context.Context, req InvokeRequest) (*Invocation, error)
	// Start runs the request in the background and returns the running invocation.
	Start(ctx context.Context, req InvokeRequest) (*Invocation, error)
	// Skip records an invocation that did not run, e.g. an overlapping cron tick.
	Skip(ctx context.Context, req InvokeRequest, reason string) (*Invocation, error)
}
