package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lhk-soc/lhk"
	"github.com/lhk-soc/lhk/metrics"
)

// Operations: logging, readiness, draining and metrics of the daemon.

// defaultDrainTimeout bounds how long a shutdown waits for in-flight work
// unless --drain-timeout says otherwise.
const defaultDrainTimeout = 30 * time.Second

// metricsOff as --metrics-listen serves no metrics at all.
const metricsOff = "off"

// newLogger returns the daemon's logger: text or JSON lines on w from the
// given level up.
func newLogger(format, level string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level // info when level is empty
	if level == "" {
		level = "info"
	}
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// envDuration reads a duration from the environment, def when unset.
func envDuration(key string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	return d, nil
}

// pinger is a registry that can tell whether it answers (registry/sqlite and
// registry/postgres implement it).
type pinger interface {
	Ping(ctx context.Context) error
}

// ready is the readiness check behind /readyz: not draining, the runtime up,
// nothing still loading (notReady), and the registry answering a ping.
// Reasons are short phrases; details go to the log only.
func (d *daemon) ready(ctx context.Context) error {
	if d.draining.Load() {
		return lhk.Errorf(lhk.EUNAVAILABLE, "draining: lhkd is shutting down")
	}
	if d.rt == nil || d.rt.Closed() {
		return lhk.Errorf(lhk.EUNAVAILABLE, "plugin runtime closed")
	}
	if d.notReady != nil {
		if why := d.notReady(); why != "" {
			return lhk.Errorf(lhk.EUNAVAILABLE, "%s", why)
		}
	}
	if p, ok := any(d.db).(pinger); ok {
		if err := p.Ping(ctx); err != nil {
			d.log.Warn("readiness: the registry did not answer", "err", err)
			return lhk.Errorf(lhk.EUNAVAILABLE, "registry unavailable")
		}
	}
	return nil
}

// startDraining makes /readyz answer 503 from now on, so load balancers and
// the Kubernetes Service stop sending new requests.
func (d *daemon) startDraining() {
	d.draining.Store(true)
	d.metrics.SetDraining(true)
	d.log.Info("lhkd draining: /readyz answers 503; in-flight work may finish", "drain_timeout", d.drainTimeout.String())
}

// runtimeStats adapts the runtime's pools for the metrics.
func (d *daemon) runtimeStats() metrics.RuntimeStats {
	s := d.rt.Stats()
	out := metrics.RuntimeStats{MemoryBudget: s.MemoryBudget, MemoryEstimate: s.MemoryEstimate, Plugins: make(map[string]metrics.PoolStats, len(s.Plugins))}
	for name, p := range s.Plugins {
		out.Plugins[name] = metrics.PoolStats{Versions: p.Versions, Idle: p.Idle, Busy: p.Busy}
	}
	return out
}

// mainMetrics is the /metrics handler of the main listener: the metrics
// unless --metrics-listen moves them elsewhere or turns them off.
func (d *daemon) mainMetrics(cfg config) http.Handler {
	if cfg.MetricsListen != "" {
		return nil
	}
	return d.metrics.Handler()
}

// listenMetrics binds the metrics listener of --metrics-listen, if any.
func (d *daemon) listenMetrics(cfg config) error {
	if cfg.MetricsListen == "" || cfg.MetricsListen == metricsOff {
		return nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w", cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.Handler())
	d.metricsLn = ln
	d.metricsSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	return nil
}

// serveMetrics serves the metrics listener, if any, until it is closed.
func (d *daemon) serveMetrics() {
	if d.metricsSrv == nil {
		return
	}
	d.log.Info("lhkd serving metrics", "url", "http://"+d.metricsLn.Addr().String()+"/metrics")
	go func() {
		if err := d.metricsSrv.Serve(d.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics listener stopped", "err", err)
		}
	}()
}

// closeMetrics stops the metrics listener; it serves until the very end of a
// drain so the drain itself can be watched.
func (d *daemon) closeMetrics() {
	if d.metricsSrv != nil {
		_ = d.metricsSrv.Close()
	}
	if d.metricsLn != nil {
		_ = d.metricsLn.Close() // when never served; closed already otherwise
	}
}
