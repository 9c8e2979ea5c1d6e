package rule

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lhk-soc/lhk"
)

// Change is an audit detail for one field: its old and new value.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// EncodeDetail encodes an audit entry's detail as compact JSON. The detail
// must never hold a token, a token hash or a secret.
func EncodeDetail(detail any) (string, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return "", fmt.Errorf("encode audit detail: %w", err)
	}
	return string(b), nil
}

// NewAuditEntry checks an entry given to Audit and returns it with its
// defaults: the actor from ctx, the time from now, {} for an empty detail.
// Action is required and Detail must be JSON (EINVALID otherwise).
func NewAuditEntry(ctx context.Context, e lhk.AuditEntry, now func() time.Time) (lhk.AuditEntry, error) {
	if e.Action == "" {
		return e, lhk.Errorf(lhk.EINVALID, "audit entry without action")
	}
	if e.Actor == "" {
		e.Actor = lhk.ActorFromContext(ctx)
	}
	if e.Time.IsZero() {
		e.Time = now()
	}
	if e.Detail == "" {
		e.Detail = "{}"
	}
	if !json.Valid([]byte(e.Detail)) {
		return e, lhk.Errorf(lhk.EINVALID, "audit detail of %s is not JSON", e.Action)
	}
	return e, nil
}
