package devices

import (
	"context"
	"errors"
	"time"
)

// Command is one order to a device.
type Command struct {
	// ID correlates the command with its reply; Send fills it when empty.
	ID     string
	Action Action
	// Duration is the device-side auto-off: an unlock holds the strike this
	// long, a power_on turns itself off after this long unless refreshed (the
	// dead-man's switch). 0 means the device default (a lock's PulseSeconds).
	Duration time.Duration
	// Timeout is how long Send waits for the confirmation; 0 means the
	// protocol default (Config.CommandTimeout, Config.ZigbeeTimeout).
	Timeout time.Duration
}

// Result is a confirmed command.
type Result struct {
	CommandID   string    `json:"command_id"`
	SentAt      time.Time `json:"sent_at"`
	ConfirmedAt time.Time `json:"confirmed_at"`
}

var (
	// ErrOffline: nothing was sent, because the device is known offline or
	// the broker connection is not really open.
	ErrOffline = errors.New("device offline")
	// ErrTimeout: the command was sent and not confirmed in time. It carried
	// an expiry (or went at QoS 0 with a device-side timer) so it cannot act late.
	ErrTimeout = errors.New("device did not confirm in time")
	// ErrRejected: the device answered with an error; the wrapping error
	// carries its message.
	ErrRejected = errors.New("device rejected the command")
	// ErrBusy: a command to this device is already in flight and its protocol
	// has no correlation id, so a second one could take the first one's answer.
	ErrBusy = errors.New("device busy with another command")
)

// Message is one MQTT message as a Transport delivers it.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// Transport is a connection to an MQTT broker: the embedded one
// ((*Broker).Transport) or an external one (DialBroker).
type Transport interface {
	// Publish sends a message, never retained. It returns ErrOffline without
	// sending when the connection is not open at this instant.
	Publish(ctx context.Context, topic string, qos byte, payload []byte) error
	// Subscribe registers handler for filter. The subscription is re-made
	// after every reconnection. The handler must not block.
	Subscribe(filter string, handler func(Message)) error
	// Unsubscribe drops a subscription made with Subscribe.
	Unsubscribe(filter string) error
	// Connected reports whether the connection is open now.
	Connected() bool
	// Close disconnects.
	Close() error
}
