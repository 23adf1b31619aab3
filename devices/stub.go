package devices

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// TEMPORARY: the contract's talking-to-hardware half, filled in step by step.

type pending struct{}

type metrics struct{}

func newMetrics() *metrics { return &metrics{} }

// Start subscribes to every reply and presence topic on t.
func (s *Service) Start(ctx context.Context, t Transport) error {
	return fmt.Errorf("devices: Start: not implemented yet: %w", errs.ErrUnavailable)
}

// Send delivers cmd to d and waits for its confirmation.
func (s *Service) Send(ctx context.Context, d *Device, cmd Command) (*Result, error) {
	return nil, fmt.Errorf("devices: Send: not implemented yet: %w", ErrOffline)
}

// OnPresence registers fn, called once per real presence transition.
func (s *Service) OnPresence(fn func(ctx context.Context, d Device, online bool, at time.Time)) {
	s.mu.Lock()
	s.onPresence = append(s.onPresence, fn)
	s.mu.Unlock()
}

// Collectors returns the package's Prometheus collectors.
func (s *Service) Collectors() []prometheus.Collector { return nil }

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	Listen    string
	TLSListen string
	CertFile  string
	KeyFile   string
}

// Broker is the embedded MQTT broker.
type Broker struct{}

// NewBroker starts the embedded broker.
func NewBroker(cfg BrokerConfig, s *Service) (*Broker, error) {
	return nil, fmt.Errorf("devices: NewBroker: not implemented yet")
}

func (b *Broker) Transport() Transport { return nil }
func (b *Broker) Addr() string         { return "" }
func (b *Broker) Close() error         { return nil }

// ClientConfig configures the connection to an external broker.
type ClientConfig struct {
	URL      string
	Username string
	Password string
	CAFile   string
	CertFile string
	KeyFile  string
	ClientID string
}

// DialBroker connects to an external broker.
func DialBroker(ctx context.Context, cfg ClientConfig) (Transport, error) {
	return nil, fmt.Errorf("devices: DialBroker: not implemented yet")
}
