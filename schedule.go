package lhk

import (
	"context"
	"time"
)

// Scheduler runs plugins on their cron schedules. trigger/cron implements it.
type Scheduler interface {
	// Validate checks a schedule's spec and timezone; EINVALID with the parser's
	// message when either is wrong.
	Validate(s Schedule) error
	// Next returns the next n run times after from, in the schedule's timezone.
	Next(s Schedule, from time.Time, n int) ([]time.Time, error)
	// Refresh re-reads one plugin's schedule from the store and applies it at
	// once: added, changed, or removed when the plugin or schedule is gone.
	Refresh(ctx context.Context, plugin string) error
}
