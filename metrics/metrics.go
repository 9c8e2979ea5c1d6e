// Package metrics keeps lhkd's Prometheus metrics: invocations by plugin,
// trigger and status, their durations, host-function calls, cron lag, HTTP
// requests by route, and the runtime's pools and memory estimate, besides the
// Go and process collectors. It is the only package that imports
// client_golang; the rest of lhkd reports through plain functions (the
// Observe methods below) passed in as options.
//
// Labels are bounded: plugin names come from the registry, functions from the
// library's catalog, routes are route templates ("/v1/plugins/:name"), never
// raw paths, and no invocation id, user or tenant is ever a label. The
// metrics hold no secrets and no tenant data.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lhk-soc/lhk"
)

// namespace prefixes every lhk metric.
const namespace = "lhk"

// Metrics is lhkd's registry of metrics. Its Observe methods are safe for
// concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	invocations        *prometheus.CounterVec
	invocationDuration *prometheus.HistogramVec
	hostCalls          *prometheus.CounterVec
	hostCallDuration   *prometheus.HistogramVec
	cronLag            prometheus.Histogram
	requests           *prometheus.CounterVec
	requestDuration    *prometheus.HistogramVec
	draining           prometheus.Gauge
}

// New returns Metrics with the Go and process collectors and every lhk
// metric registered. version is exported as lhk_build_info.
func New(version string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.invocations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "invocations_total",
		Help: "Finished invocations by plugin, trigger (http, cli, cron, webhook, plugin) and status (ok, error, timeout, skipped).",
	}, []string{"plugin", "trigger", "status"})
	m.invocationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "invocation_duration_seconds",
		Help:    "Run time of invocations that ran (skipped ones are not observed), by plugin and trigger.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"plugin", "trigger"})
	m.hostCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "hostfunc_calls_total",
		Help: "Host-function calls from plugins by function (logs_search…) and outcome (ok or the error code: forbidden, invalid, not_found, unavailable, internal…).",
	}, []string{"function", "outcome"})
	m.hostCallDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "hostfunc_call_duration_seconds",
		Help:    "Time spent in host functions, by function.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
	}, []string{"function"})
	m.cronLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Name: "cron_lag_seconds",
		Help:    "Delay between a cron tick's scheduled time and the start of its run.",
		Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300},
	})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests by method, route template and status code.",
	}, []string{"method", "route", "status"})
	m.requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "HTTP request duration by method and route template.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"method", "route"})
	m.draining = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "draining",
		Help: "1 while lhkd drains before it stops (/readyz answers 503), else 0.",
	})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels tell the lhkd version and the Go version it was built with.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	info.Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.invocations, m.invocationDuration, m.hostCalls, m.hostCallDuration,
		m.cronLag, m.requests, m.requestDuration, m.draining, info,
	)
	return m
}

// Registry returns the Prometheus registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveInvocation counts one finished invocation and, unless it was
// skipped, observes its duration. It fits invoke.Options.Observe.
func (m *Metrics) ObserveInvocation(inv *lhk.Invocation) {
	m.invocations.WithLabelValues(inv.Plugin, inv.Trigger, inv.Status).Inc()
	if inv.Status != lhk.StatusSkipped {
		m.invocationDuration.WithLabelValues(inv.Plugin, inv.Trigger).Observe(inv.DurationMS / 1000)
	}
}

// ObserveHostCall counts one host-function call with its outcome ("ok" or an
// error code) and observes its duration. It fits host.Options.ObserveHostCall.
func (m *Metrics) ObserveHostCall(function, outcome string, d time.Duration) {
	m.hostCalls.WithLabelValues(function, outcome).Inc()
	m.hostCallDuration.WithLabelValues(function).Observe(d.Seconds())
}

// ObserveCronTick observes the lag of one cron run: started minus the tick's
// scheduled time. It fits cron.WithObserver.
func (m *Metrics) ObserveCronTick(_ string, scheduled, started time.Time) {
	if scheduled.IsZero() {
		return
	}
	m.cronLag.Observe(max(started.Sub(scheduled), 0).Seconds())
}

// ObserveRequest counts one HTTP request and observes its duration. route
// must be a route template, never a raw path. Unusual methods are counted as
// OTHER so a client cannot grow the label set.
func (m *Metrics) ObserveRequest(method, route string, status int, d time.Duration) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// SetDraining reports whether lhkd is draining.
func (m *Metrics) SetDraining(draining bool) {
	if draining {
		m.draining.Set(1)
	} else {
		m.draining.Set(0)
	}
}
