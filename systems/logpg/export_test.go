package logpg

import (
	"context"
	"fmt"
	"time"
)

// Sleep runs pg_sleep(d) as a query of the store, under its budget.
func (s *Store) Sleep(ctx context.Context, d time.Duration) error {
	bctx, cancel := s.budgeted(ctx)
	defer cancel()
	if _, err := s.r.Exec(bctx, "SELECT pg_sleep($1)", d.Seconds()); err != nil {
		return s.storeErr(ctx, bctx, fmt.Errorf("sleep: %w", err))
	}
	return nil
}
