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

// observeTick reports a run of e that started at started. The scheduled time
// is robfig's Prev of the entry, which its loop sets to the tick's time
// before it serves the next request, so it is this tick's unless a later tick
// of the same entry fired meanwhile.
func (s *Scheduler) observeTick(plugin string, e *entry, started time.Time) {
	if s.observe == nil {
		return
	}
	scheduled := s.cron.Entry(e.id).Prev
	if scheduled.IsZero() || scheduled.After(started) {
		return
	}
	s.observe(plugin, scheduled, started)
}
