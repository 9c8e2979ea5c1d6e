package host

// Stats is a snapshot of a Runtime's compiled code and instance pools.
type Stats struct {
	// Closed is true once Close has been called.
	Closed bool
	// MemoryBudget is Options.MemoryBudget; MemoryEstimate is the estimate
	// of compiled code and instances that is held against it.
	MemoryBudget, MemoryEstimate int64
	// Plugins are the pools by plugin name; a plugin with no compiled version
	// in memory is absent.
	Plugins map[string]PoolStats
}

// PoolStats describes the compiled versions and instances of one plugin.
type PoolStats struct {
	// Versions counts the compiled versions in memory (one per version and
	// memory limit).
	Versions int
	// Idle instances wait in the pool; Busy instances run a call.
	Idle, Busy int
}

// Closed reports whether Close has been called. Unlike Stats it reads one
// field, so a readiness probe can ask it as often as it likes.
func (r *Runtime) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// Stats returns a snapshot of the runtime's pools and memory estimate. It
// only reads, under the runtime's lock, and is cheap enough for every
// metrics scrape.
func (r *Runtime) Stats() Stats {
	s := Stats{MemoryBudget: r.opts.MemoryBudget, Plugins: make(map[string]PoolStats)}
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Closed = r.closed
	for k, v := range r.versions {
		select {
		case <-v.ready:
		default:
			continue // still compiling
		}
		if v.code == nil {
			continue
		}
		// The same estimate as enforceBudget.
		s.MemoryEstimate += v.size * codeBytesPerModuleByte
		for _, in := range v.idle {
			s.MemoryEstimate += in.memBytes()
		}
		busy := v.live - len(v.idle)
		s.MemoryEstimate += int64(busy) * (4 << 20)
		p := s.Plugins[k.plugin]
		p.Versions++
		p.Idle += len(v.idle)
		p.Busy += busy
		s.Plugins[k.plugin] = p
	}
	return s
}
