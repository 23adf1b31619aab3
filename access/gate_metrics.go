package access

import "github.com/prometheus/client_golang/prometheus"

type gateMetrics struct {
	decisions *prometheus.CounterVec
}

func newGateMetrics() *gateMetrics {
	return &gateMetrics{decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "relais_access_events_total",
		Help: "Access events recorded, by kind, decision and outcome (device_offline counts locks and relays going offline).",
	}, []string{"kind", "decision", "outcome"})}
}

func (m *gateMetrics) decision(ev *Event) {
	m.decisions.WithLabelValues(ev.Kind, ev.Decision, ev.Outcome).Inc()
}

// Collectors returns the gate's metrics, for /metrics.
func (g *Gate) Collectors() []prometheus.Collector {
	return []prometheus.Collector{g.metrics.decisions}
}
