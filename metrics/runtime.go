package metrics

import "github.com/prometheus/client_golang/prometheus"

// RuntimeStats is what the plugin runtime reports at each scrape.
type RuntimeStats struct {
	// MemoryBudget and MemoryEstimate are the runtime's memory budget and its
	// current estimate of compiled code plus instances, in bytes.
	MemoryBudget, MemoryEstimate int64
	// Plugins are the pools by plugin name; plugins with nothing compiled
	// may be absent.
	Plugins map[string]PoolStats
}

// PoolStats describes one plugin's compiled code and instances.
type PoolStats struct {
	// Versions counts the compiled versions held in memory.
	Versions int
	// Idle instances wait in the pool; Busy ones run a call.
	Idle, Busy int
}

// CollectRuntime registers a collector that calls stats at every scrape, so
// the pools are read when asked for and a deleted plugin's series vanish.
func (m *Metrics) CollectRuntime(stats func() RuntimeStats) {
	m.reg.MustRegister(runtimeCollector{stats})
}

var (
	poolInstancesDesc = prometheus.NewDesc(namespace+"_pool_instances",
		"Plugin instances by plugin and state (idle: warm in the pool; busy: running a call).",
		[]string{"plugin", "state"}, nil)
	compiledVersionsDesc = prometheus.NewDesc(namespace+"_compiled_versions",
		"Plugin versions whose compiled code is held in memory, by plugin.",
		[]string{"plugin"}, nil)
	memoryEstimateDesc = prometheus.NewDesc(namespace+"_runtime_memory_estimate_bytes",
		"The runtime's estimate of the memory of compiled code and instances, as counted against the budget.",
		nil, nil)
	memoryBudgetDesc = prometheus.NewDesc(namespace+"_runtime_memory_budget_bytes",
		"The runtime's memory budget: over it, idle instances and then idle compiled code are released.",
		nil, nil)
)

type runtimeCollector struct{ stats func() RuntimeStats }

// Describe implements prometheus.Collector.
func (c runtimeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolInstancesDesc
	ch <- compiledVersionsDesc
	ch <- memoryEstimateDesc
	ch <- memoryBudgetDesc
}

// Collect implements prometheus.Collector.
func (c runtimeCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(memoryEstimateDesc, prometheus.GaugeValue, float64(s.MemoryEstimate))
	ch <- prometheus.MustNewConstMetric(memoryBudgetDesc, prometheus.GaugeValue, float64(s.MemoryBudget))
	for name, p := range s.Plugins {
		ch <- prometheus.MustNewConstMetric(poolInstancesDesc, prometheus.GaugeValue, float64(p.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolInstancesDesc, prometheus.GaugeValue, float64(p.Busy), name, "busy")
		ch <- prometheus.MustNewConstMetric(compiledVersionsDesc, prometheus.GaugeValue, float64(p.Versions), name)
	}
}
