package cron

import "time"

// WithObserver has observe called at the start of every run of a tick, just
// before the plugin is invoked, with the tick's scheduled time and the time
// the run started (their difference is the cron lag). Ticks that are dropped
// or skipped are not observed. observe must be quick and safe for concurrent
// use.
func WithObserver(observe func(plugin string, scheduled, started time.Time)) Option {
	return func(s *Scheduler) { s.observe = observe }
}

// observeTick reports a run of e that started at started, against the
// tick's scheduled time (tickOf).
func (s *Scheduler) observeTick(plugin string, e *entry, started time.Time) {
	if s.observe == nil {
		return
	}
	scheduled := s.tickOf(e)
	if scheduled.IsZero() || scheduled.After(started) {
		return
	}
	s.observe(plugin, scheduled, started)
}
