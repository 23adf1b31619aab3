package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/relais-tierslieux/relais/devices"
)

// mqttFlags declares the device and physical-access flags of serve.
func mqttFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.MQTTListen, "mqtt-listen", ":1883", "address of the embedded MQTT broker's TCP listener (used when --mqtt-url is empty)")
	fs.StringVar(&c.MQTTTLSListen, "mqtt-tls-listen", "", "address of the embedded broker's TLS listener; needs --mqtt-tls-cert and --mqtt-tls-key")
	fs.StringVar(&c.MQTTTLSCert, "mqtt-tls-cert", "", "PEM certificate of the embedded broker's TLS listener")
	fs.StringVar(&c.MQTTTLSKey, "mqtt-tls-key", "", "PEM private key of the embedded broker's TLS listener")
	fs.StringVar(&c.MQTTURL, "mqtt-url", "", "external broker (tcp://, ssl:// or ws://host:port); empty runs the embedded broker")
	fs.StringVar(&c.MQTTUsername, "mqtt-username", "", "relais's username on the external broker")
	fs.StringVar(&c.MQTTPassword, "mqtt-password", "", "relais's password on the external broker")
	fs.StringVar(&c.MQTTCAFile, "mqtt-ca-file", "", "PEM CA bundle that signs the external broker's certificate (ssl://)")
	fs.StringVar(&c.MQTTCertFile, "mqtt-cert-file", "", "PEM client certificate for the external broker (mutual TLS)")
	fs.StringVar(&c.MQTTKeyFile, "mqtt-key-file", "", "PEM private key of --mqtt-cert-file")
	// The embedded broker's limits (see devices.BrokerLimits).
	lim := devices.DefaultBrokerLimits()
	fs.IntVar(&c.MQTTLimits.MaxPacketSize, "mqtt-max-packet-size", lim.MaxPacketSize, fmt.Sprintf("largest MQTT packet, in bytes, a logged-in device or bridge may send to the embedded broker (a CONNECT is held to %d)", devices.MaxConnectSize))
	fs.DurationVar(&c.MQTTLimits.ConnectTimeout, "mqtt-connect-timeout", lim.ConnectTimeout, "how long a new connection to the embedded broker has to send its CONNECT, TLS handshake included")
	fs.IntVar(&c.MQTTLimits.MaxConnsPerAddress, "mqtt-max-conns-per-address", lim.MaxConnsPerAddress, "open connections to the embedded broker from one IPv4 address or one IPv6 /64")
	fs.IntVar(&c.MQTTLimits.MaxConns, "mqtt-max-conns", lim.MaxConns, "open connections to the embedded broker in total")
	fs.IntVar(&c.MQTTLimits.MaxSubscriptions, "mqtt-max-subscriptions", lim.MaxSubscriptions, "topic filters one client of the embedded broker may hold")
	fs.IntVar(&c.MQTTLimits.MaxInflight, "mqtt-max-inflight", lim.MaxInflight, "QoS 1 and 2 messages one client of the embedded broker may have awaiting acknowledgement, each way")
	fs.Float64Var(&c.MQTTLimits.PacketRate, "mqtt-max-packet-rate", lim.PacketRate, "packets per second one client of the embedded broker may send on average, in bursts of ten seconds' worth; a faster one is slowed down")
	fs.DurationVar(&c.DeviceTimeout, "device-timeout", devices.DefaultCommandTimeout, "how long an unlock or a relay command waits for the device's confirmation")
	fs.DurationVar(&c.ZigbeeTimeout, "zigbee-timeout", devices.DefaultZigbeeTimeout, "the same for Zigbee2MQTT devices, which are slower")
	fs.DurationVar(&c.RoomDoorMargin, "room-door-margin", 10*time.Minute, "a room's lock opens for its reservation this long before it starts and after it ends")
	fs.DurationVar(&c.MachineGrace, "machine-grace", 5*time.Minute, "a machine stays powered this long after the slot ends, unless the next booking starts sooner")
	fs.DurationVar(&c.MachineWarning, "machine-warning", 5*time.Minute, "a warning event is recorded this long before a machine's power goes off")
	fs.BoolVar(&c.DurableAudit, "durable-audit", false, "on PostgreSQL, make each door's answer wait for its audit record to reach the disk (by default it reaches the disk within 3 × PostgreSQL's wal_writer_delay)")
	fs.BoolVar(&c.Demo, "demo", false, "seed a demo site with devices simulated in-process, and print credentials and curl commands")
}

// checkMQTT checks the embedded broker's limits: each must be positive (the
// broker would take 0 for its default, which is not what was asked).
func (c *config) checkMQTT() error {
	l := c.MQTTLimits
	switch {
	case l.MaxPacketSize <= 0 || l.MaxPacketSize > 268435460:
		return usagef("--mqtt-max-packet-size must be between 1 and 268435460 bytes (MQTT's largest packet), not %d", l.MaxPacketSize)
	case l.ConnectTimeout <= 0:
		return usagef("--mqtt-connect-timeout must be positive, not %s", l.ConnectTimeout)
	case l.MaxConnsPerAddress <= 0:
		return usagef("--mqtt-max-conns-per-address must be positive, not %d", l.MaxConnsPerAddress)
	case l.MaxConns <= 0:
		return usagef("--mqtt-max-conns must be positive, not %d", l.MaxConns)
	case l.MaxSubscriptions <= 0:
		return usagef("--mqtt-max-subscriptions must be positive, not %d", l.MaxSubscriptions)
	case l.MaxInflight <= 0 || l.MaxInflight > 65535:
		return usagef("--mqtt-max-inflight must be between 1 and 65535, not %d", l.MaxInflight)
	case !(l.PacketRate > 0):
		return usagef("--mqtt-max-packet-rate must be positive, not %v", l.PacketRate)
	}
	return nil
}

// connectMQTT starts the embedded broker, or connects to the external one.
// It returns relais's transport, the URL devices use to reach the broker
// (for the demo's simulators), and a func that closes it.
func connectMQTT(ctx context.Context, c *config, svc *devices.Service, log *slog.Logger) (devices.Transport, string, func(), error) {
	if c.MQTTURL != "" {
		t, err := devices.DialBroker(ctx, devices.ClientConfig{URL: c.MQTTURL, Username: c.MQTTUsername, Password: c.MQTTPassword,
			CAFile: c.MQTTCAFile, CertFile: c.MQTTCertFile, KeyFile: c.MQTTKeyFile, Logger: log})
		if err != nil {
			return nil, "", nil, usagef("RELAIS_MQTT_URL: %v", err)
		}
		log.Info("connected to the MQTT broker", slog.String("url", redactURL(c.MQTTURL)))
		return t, c.MQTTURL, func() { t.Close() }, nil
	}
	b, err := devices.NewBroker(devices.BrokerConfig{Listen: c.MQTTListen, TLSListen: c.MQTTTLSListen,
		TLSCertFile: c.MQTTTLSCert, TLSKeyFile: c.MQTTTLSKey, Logger: log, Limits: c.MQTTLimits}, svc)
	if err != nil {
		return nil, "", nil, usagef("%v", err)
	}
	log.Info("embedded MQTT broker listening", slog.String("addr", b.Addr()))
	// A wildcard listen address is dialled on loopback.
	_, port, _ := net.SplitHostPort(b.Addr())
	return b.Transport(), "tcp://127.0.0.1:" + port, func() { b.Close() }, nil
}

// redactURL hides a password in a broker URL, for the log.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
