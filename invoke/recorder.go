package invoke

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lhk-soc/lhk"
)

// Recorder is an lhk.InvocationStore that batches writes to another store so that
// recording a fast invocation costs a map insert, not a transaction. Records
// waiting for their batch are served from memory, so an invocation is readable by
// id as soon as it has been put. Close flushes everything: a clean shutdown loses
// no record.
type Recorder struct {
	store    lhk.InvocationStore
	log      *slog.Logger
	interval time.Duration
	maxBatch int

	mu      sync.Mutex
	pending map[string]*lhk.Invocation
	order   []string
	kick    chan struct{}
	// flushMu serialises flushes so records reach the store in put order.
	flushMu sync.Mutex

	done   chan struct{}
	closed chan struct{}
}

var _ lhk.InvocationStore = (*Recorder)(nil)

// NewRecorder starts a recorder that writes to store every interval, or sooner
// when maxBatch records are waiting.
func NewRecorder(store lhk.InvocationStore, log *slog.Logger, interval time.Duration, maxBatch int) *Recorder {
	if interval <= 0 {
		interval = 50 * time.Millisecond
	}
	if maxBatch <= 0 {
		maxBatch = 256
	}
	r := &Recorder{
		store:    store,
		log:      log,
		interval: interval,
		maxBatch: maxBatch,
		pending:  make(map[string]*lhk.Invocation),
		kick:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		closed:   make(chan struct{}),
	}
	go r.loop()
	return r
}

func (r *Recorder) loop() {
	defer close(r.closed)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
		case <-r.kick:
		}
		if err := r.Flush(context.Background()); err != nil {
			r.log.Error("write invocation records", "err", err)
		}
	}
}

// PutInvocations queues records for the next batch. A later record with the same
// id replaces an earlier one that has not been written yet.
func (r *Recorder) PutInvocations(_ context.Context, invs []*lhk.Invocation) error {
	r.mu.Lock()
	for _, inv := range invs {
		if _, ok := r.pending[inv.ID]; !ok {
			r.order = append(r.order, inv.ID)
		}
		r.pending[inv.ID] = inv
	}
	full := len(r.order) >= r.maxBatch
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Flush writes every queued record now. On failure the records stay queued
// and are tried again with the next batch.
func (r *Recorder) Flush(ctx context.Context) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()

	r.mu.Lock()
	if len(r.order) == 0 {
		r.mu.Unlock()
		return nil
	}
	batch := make([]*lhk.Invocation, 0, len(r.order))
	for _, id := range r.order {
		batch = append(batch, r.pending[id])
	}
	r.mu.Unlock()

	if err := r.store.PutInvocations(ctx, batch); err != nil {
		return fmt.Errorf("flush %d invocation records: %w", len(batch), err)
	}

	r.mu.Lock()
	// Drop what was written, unless it was replaced meanwhile.
	written := make(map[string]*lhk.Invocation, len(batch))
	for _, inv := range batch {
		written[inv.ID] = inv
	}
	order := r.order[:0]
	for _, id := range r.order {
		if r.pending[id] == written[id] {
			delete(r.pending, id)
			continue
		}
		order = append(order, id)
	}
	r.order = order
	r.mu.Unlock()
	return nil
}

// Invocation returns a queued record if there is one, else asks the store.
func (r *Recorder) Invocation(ctx context.Context, id string) (*lhk.Invocation, error) {
	r.mu.Lock()
	inv, ok := r.pending[id]
	r.mu.Unlock()
	if ok {
		return inv, nil
	}
	return r.store.Invocation(ctx, id)
}

// Invocations flushes queued records, then lists from the store, so listings
// are complete and ordered by the store.
func (r *Recorder) Invocations(ctx context.Context, f lhk.InvocationFilter) ([]*lhk.Invocation, error) {
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	return r.store.Invocations(ctx, f)
}

// Close stops the background writer and flushes what is left.
func (r *Recorder) Close(ctx context.Context) error {
	select {
	case <-r.done:
	default:
		close(r.done)
	}
	<-r.closed
	return r.Flush(ctx)
}
