// Package invoke turns an invocation request into a run of a plugin version and a
// record of it. The HTTP API, the cron trigger and webhooks all go through it.
//
// Plugin metadata is cached in memory for a short time so the hot path does not
// touch the registry; call Forget after changing a plugin to drop its entry at once.
// Records go through a Recorder, which batches writes off the hot path.
package invoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/lhk-soc/lhk"
)

// Service implements lhk.InvokeService.
type Service struct {
	plugins lhk.PluginStore
	records lhk.InvocationStore
	rt      lhk.Runtime
	log     *slog.Logger

	// HistoryOutputBytes caps the output kept in an invocation record.
	historyOutputBytes int
	cacheTTL           time.Duration
	replica            string
	observe            func(*lhk.Invocation)

	mu    sync.Mutex
	cache map[string]cachedPlugin

	// async runs
	wg       sync.WaitGroup
	stopping chan struct{}
	baseCtx  context.Context
	cancel   context.CancelFunc
}

type cachedPlugin struct {
	p       *lhk.Plugin
	expires time.Time
}

var _ lhk.InvokeService = (*Service)(nil)

// Options tune a Service. Zero values take defaults.
type Options struct {
	// HistoryOutputBytes caps the output stored with each invocation (default 64 KiB).
	HistoryOutputBytes int
	// CacheTTL is how long plugin metadata is trusted without asking the store
	// (default 2s). Forget drops an entry at once.
	CacheTTL time.Duration
	// Replica names this process in every record it writes, when several
	// replicas share a registry (empty on a single node).
	Replica string
	// Observe, when set, is called once per finished invocation (ok, error,
	// timeout or skipped) with its record, e.g. to count it in metrics. It
	// must be quick, must not keep or change the record and must be safe for
	// concurrent use.
	Observe func(inv *lhk.Invocation)
}

// New returns a Service that reads plugins from plugins, runs them on rt and
// writes records to records (usually a Recorder).
func New(plugins lhk.PluginStore, records lhk.InvocationStore, rt lhk.Runtime, log *slog.Logger, opts Options) *Service {
	if opts.HistoryOutputBytes <= 0 {
		opts.HistoryOutputBytes = 64 << 10
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		plugins:            plugins,
		records:            records,
		rt:                 rt,
		log:                log,
		historyOutputBytes: opts.HistoryOutputBytes,
		cacheTTL:           opts.CacheTTL,
		replica:            opts.Replica,
		observe:            opts.Observe,
		cache:              make(map[string]cachedPlugin),
		stopping:           make(chan struct{}),
		baseCtx:            ctx,
		cancel:             cancel,
	}
}

// Forget drops the cached metadata of a plugin; the next run reads it afresh.
func (s *Service) Forget(plugin string) {
	s.mu.Lock()
	delete(s.cache, plugin)
	s.mu.Unlock()
}

// ForgetAll drops the cached metadata of every plugin.
func (s *Service) ForgetAll() {
	s.mu.Lock()
	clear(s.cache)
	s.mu.Unlock()
}

// Reload reads a plugin afresh after another replica changed it, and reports
// whether compiled instances of it must go: the plugin is gone, or its
// limits differ from the ones this process last ran it with.
func (s *Service) Reload(ctx context.Context, name string) (evict bool, err error) {
	s.mu.Lock()
	old, had := s.cache[name]
	delete(s.cache, name)
	s.mu.Unlock()
	p, err := s.plugins.Plugin(ctx, name)
	if lhk.ErrorCode(err) == lhk.ENOTFOUND {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	s.cache[name] = cachedPlugin{p: p, expires: time.Now().Add(s.cacheTTL)}
	s.mu.Unlock()
	return had && old.p.Limits.WithDefaults() != p.Limits.WithDefaults(), nil
}

func (s *Service) plugin(ctx context.Context, name string) (*lhk.Plugin, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.cache[name]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.p, nil
	}
	p, err := s.plugins.Plugin(ctx, name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cache[name] = cachedPlugin{p: p, expires: now.Add(s.cacheTTL)}
	s.mu.Unlock()
	return p, nil
}

// prepare resolves the plugin, version and function and builds the runtime call.
func (s *Service) prepare(ctx context.Context, req lhk.InvokeRequest) (*lhk.Invocation, lhk.CallRequest, error) {
	p, err := s.plugin(ctx, req.Plugin)
	if err != nil {
		return nil, lhk.CallRequest{}, err
	}
	version := req.Version
	if version == 0 {
		version = p.CurrentVersion
	}
	var v *lhk.Version
	for i := range p.Versions {
		if p.Versions[i].Number == version {
			v = &p.Versions[i]
		}
	}
	if v == nil {
		return nil, lhk.CallRequest{}, lhk.Errorf(lhk.ENOTFOUND, "plugin %q has no version %d", p.Name, version)
	}
	fn := req.Function
	if fn == "" {
		fn = p.Entrypoint
	}
	if fn == "" {
		fn = lhk.DefaultEntrypoint
	}
	limits := p.Limits.WithDefaults()
	if len(req.Input) > limits.MaxInputBytes {
		return nil, lhk.CallRequest{}, lhk.Errorf(lhk.ETOOLARGE, "input of %d bytes exceeds the plugin's limit of %d bytes", len(req.Input), limits.MaxInputBytes)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, lhk.CallRequest{}, fmt.Errorf("new invocation id: %w", err)
	}
	inv := &lhk.Invocation{
		ID:        id.String(),
		Plugin:    p.Name,
		Version:   version,
		Function:  fn,
		Trigger:   req.Trigger,
		Caller:    req.Caller,
		Status:    lhk.StatusRunning,
		StartedAt: time.Now().UTC(),
		Replica:   s.replica,
	}
	name, number := p.Name, version
	call := lhk.CallRequest{
		Plugin:  p.Name,
		Version: version,
		SHA256:  v.SHA256,
		Wasm: func(ctx context.Context) ([]byte, error) {
			return s.plugins.VersionWasm(ctx, name, number)
		},
		Function:     fn,
		Input:        req.Input,
		Config:       p.Config,
		Limits:       limits,
		Grant:        p.Grant,
		InvocationID: inv.ID,
		Caller:       req.Caller,
	}
	return inv, call, nil
}

// run calls the runtime and fills inv with the outcome. It returns the full
// output and the run's error.
func (s *Service) run(ctx context.Context, inv *lhk.Invocation, call lhk.CallRequest) ([]byte, error) {
	start := time.Now()
	res, err := s.rt.Call(ctx, call)
	inv.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	var output []byte
	if res != nil {
		output = res.Output
		inv.Logs = res.Logs
	}
	switch lhk.ErrorCode(err) {
	case "":
		inv.Status = lhk.StatusOK
	case lhk.ETIMEOUT:
		inv.Status = lhk.StatusTimeout
		inv.Error = lhk.ErrorMessage(err)
	default:
		inv.Status = lhk.StatusError
		inv.Error = lhk.ErrorMessage(err)
		if lhk.ErrorCode(err) == lhk.EINTERNAL {
			s.log.Error("invocation failed inside lhk", "invocation", inv.ID, "plugin", inv.Plugin, "err", err)
		}
	}
	inv.Output = output
	if len(output) > s.historyOutputBytes {
		inv.Output = truncateUTF8(output, s.historyOutputBytes)
		inv.OutputTruncated = true
	}
	return output, err
}

// truncateUTF8 cuts b to at most n bytes without splitting a UTF-8 sequence when
// b is text.
func truncateUTF8(b []byte, n int) []byte {
	cut := b[:n]
	if utf8.Valid(b) {
		for len(cut) > 0 && !utf8.Valid(cut) {
			cut = cut[:len(cut)-1]
		}
	}
	return append([]byte(nil), cut...)
}

func (s *Service) record(inv *lhk.Invocation) {
	// The record outlives the request: write it even when the caller went away.
	if err := s.records.PutInvocations(context.Background(), []*lhk.Invocation{inv}); err != nil {
		s.log.Error("record invocation", "invocation", inv.ID, "err", err)
	}
}

// Invoke runs the request and waits for it. The returned invocation carries the
// complete output even when the stored copy is truncated.
func (s *Service) Invoke(ctx context.Context, req lhk.InvokeRequest) (*lhk.Invocation, error) {
	select {
	case <-s.stopping:
		return nil, lhk.Errorf(lhk.EUNAVAILABLE, "lhkd is shutting down")
	default:
	}
	inv, call, err := s.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	if recordsRunning(inv.Trigger) {
		running := *inv
		s.record(&running)
	}
	output, runErr := s.run(ctx, inv, call)
	s.record(inv)
	s.finished(inv)
	full := *inv
	full.Output = output
	full.OutputTruncated = false
	return &full, runErr
}

// recordsRunning reports whether a synchronous run with this trigger is
// recorded as running before it starts. Nobody waits on a cron, webhook or
// plugin run, so its history shows it while it is going; an HTTP or CLI caller
// holds the answer itself, and its record is written once, at the end.
func recordsRunning(t string) bool {
	return t != lhk.TriggerHTTP && t != lhk.TriggerCLI
}

// Start records a running invocation, runs it in the background and returns at
// once. The run is not tied to ctx: it ends at its own time-out, or when the
// service closes.
func (s *Service) Start(ctx context.Context, req lhk.InvokeRequest) (*lhk.Invocation, error) {
	select {
	case <-s.stopping:
		return nil, lhk.Errorf(lhk.EUNAVAILABLE, "lhkd is shutting down")
	default:
	}
	inv, call, err := s.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	running := *inv
	if err := s.records.PutInvocations(ctx, []*lhk.Invocation{&running}); err != nil {
		return nil, fmt.Errorf("record running invocation: %w", err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_, _ = s.run(s.baseCtx, inv, call)
		s.record(inv)
		s.finished(inv)
	}()
	return &running, nil
}

// Skip records an invocation that did not run.
func (s *Service) Skip(ctx context.Context, req lhk.InvokeRequest, reason string) (*lhk.Invocation, error) {
	inv, _, err := s.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	inv.Status = lhk.StatusSkipped
	inv.Error = reason
	s.record(inv)
	s.finished(inv)
	return inv, nil
}

// finished reports a finished invocation to the observer, if any.
func (s *Service) finished(inv *lhk.Invocation) {
	if s.observe != nil {
		s.observe(inv)
	}
}

// Close stops accepting runs and waits for background runs until ctx ends, then
// cancels the rest (they are recorded as failed).
func (s *Service) Close(ctx context.Context) error {
	select {
	case <-s.stopping:
	default:
		close(s.stopping)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel()
		<-done
		return errors.New("background invocations cancelled at shutdown")
	}
}
