package devices

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	commands          *prometheus.CounterVec
	latency           *prometheus.HistogramVec
	ignored           *prometheus.CounterVec
	offline           *prometheus.CounterVec
	presencePending   prometheus.Gauge
	presenceCoalesced prometheus.Counter
	loginsRefused     *prometheus.CounterVec
	retainRefused     prometheus.Counter

	// The embedded broker's limits (broker_limits.go).
	mqttRefused     *prometheus.CounterVec
	mqttDisconnects *prometheus.CounterVec
	mqttThrottled   prometheus.Counter
	mqttDropped     prometheus.Counter
	mqttConns       prometheus.Gauge
	mqttClients     prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_device_commands_total",
			Help: "Commands to devices by protocol and outcome (confirmed, rejected, timeout, offline, busy, canceled, error).",
		}, []string{"protocol", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "relais_device_command_seconds",
			Help:    "Time from sending a command to its confirmation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"protocol"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_device_replies_ignored_total",
			Help: "Device messages ignored: duplicate, late or unknown-id answers, malformed payloads.",
		}, []string{"protocol", "reason"}),
		offline: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_device_offline_total",
			Help: "Devices going offline (transitions recorded by this replica), by kind.",
		}, []string{"kind"}),
		presencePending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relais_device_presence_pending",
			Help: "Devices and bridges whose latest presence is not yet written to the database (at most one write each).",
		}),
		presenceCoalesced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relais_device_presence_coalesced_total",
			Help: "Presence messages replaced by a later one of the same client before their database write.",
		}),
		loginsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_mqtt_logins_refused_total",
			Help: "MQTT logins the embedded broker refused, by reason.",
		}, []string{"reason"}),
		retainRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relais_mqtt_retain_refused_total",
			Help: "Retained publishes the embedded broker delivered without keeping: only presence topics keep a message.",
		}),
		mqttRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_mqtt_connections_refused_total",
			Help: "Connections the embedded broker closed on arrival, by cap reached (per_address, total).",
		}, []string{"reason"}),
		mqttDisconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "relais_mqtt_disconnects_total",
			Help: "Connections the embedded broker cut for breaking a limit (packet_too_large, connect_timeout, too_many_subscriptions, too_many_inflight).",
		}, []string{"reason"}),
		mqttThrottled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relais_mqtt_packets_throttled_total",
			Help: "Packets the embedded broker read late because their client exceeded its packet rate.",
		}),
		mqttDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "relais_mqtt_messages_dropped_total",
			Help: "Messages the embedded broker dropped because their client's queue of outgoing messages was full.",
		}),
		mqttConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relais_mqtt_connections",
			Help: "Open connections to the embedded broker, logged in or not yet.",
		}),
		mqttClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "relais_mqtt_clients",
			Help: "Clients logged in to the embedded broker (relais's own in-process client excluded).",
		}),
	}
	// Every reason shows from the start, at 0, so that alerts can rate() it.
	for _, r := range refuseReasons {
		m.mqttRefused.WithLabelValues(r)
	}
	for _, r := range disconnectReasons {
		m.mqttDisconnects.WithLabelValues(r)
	}
	return m
}

// Collectors returns the package's Prometheus collectors, to register once.
func (s *Service) Collectors() []prometheus.Collector {
	m := s.metrics
	return []prometheus.Collector{m.commands, m.latency, m.ignored, m.offline, m.presencePending, m.presenceCoalesced, m.loginsRefused, m.retainRefused,
		m.mqttRefused, m.mqttDisconnects, m.mqttThrottled, m.mqttDropped, m.mqttConns, m.mqttClients}
}
