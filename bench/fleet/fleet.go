package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/relais-tierslieux/relais/devices/mqtttest"
)

// device is one simulated lock: a bare MQTT 3.1.1 connection (mqtttest.Raw)
// that logs in with the device's credentials and its protocol's Last Will,
// subscribes to its command topic and publishes its retained presence, as
// the firmware does; then it holds the socket and nothing else (no
// goroutine), and never answers a command (no unlock goes to it).
type device struct {
	id, username, secret string
	protocol             string // relais or tasmota
	site, address        string
	from                 string // local address it connects from

	mu   sync.Mutex
	conn *mqtttest.Raw
}

// devicesPerAddress keeps each loopback source address under the embedded
// broker's default cap (256 connections per address), so the bench runs
// the broker with its default limits.
const devicesPerAddress = 200

// sourceAddress spreads devices over 127.1.x.y, 200 to an address; Linux
// routes all of 127.0.0.0/8 to the loopback interface.
func sourceAddress(i int) string {
	a := i / devicesPerAddress
	return fmt.Sprintf("127.1.%d.%d", a/250, a%250+1)
}

// presence is the device's presence topic (its Last Will) and payloads,
// and its command filter: devices/devicesim and devices/route.go.
func (d *device) presence() (topic string, online, offline []byte, commands string) {
	if d.protocol == "tasmota" {
		return "tele/" + d.address + "/LWT", []byte("Online"), []byte("Offline"), "cmnd/" + d.address + "/#"
	}
	root := "relais/" + d.site + "/" + d.address
	return root + "/status", []byte("online"), []byte("offline"), root + "/cmd"
}

// connect logs the device in and announces it online. The socket is kept
// only when all of it succeeded.
func (d *device) connect(hostPort string, keepalive uint16) error {
	c, err := mqtttest.DialRaw(hostPort, d.from)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	topic, online, offline, commands := d.presence()
	if err := c.Connect(d.username, d.username, d.secret, keepalive, &mqtttest.Will{Topic: topic, Payload: offline, Retain: true}); err != nil {
		c.Close()
		return err
	}
	codes, err := c.Subscribe(1, commands)
	if err == nil && (len(codes) != 1 || codes[0] >= 0x80) {
		err = fmt.Errorf("subscription to %s refused (%v)", commands, codes)
	}
	if err == nil {
		err = c.Publish(topic, online, true)
	}
	if err != nil {
		c.Close()
		return err
	}
	d.mu.Lock()
	old := d.conn
	d.conn = c
	d.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// kill drops the connection abruptly, without a DISCONNECT and with a
// reset (no lingering FIN): the broker sees a dead device and publishes
// its Last Will.
func (d *device) kill() {
	d.mu.Lock()
	c := d.conn
	d.conn = nil
	d.mu.Unlock()
	if c == nil {
		return
	}
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// ping sends a PINGREQ if the device is connected. The PINGRESP is left
// unread in the socket: two bytes per keepalive.
func (d *device) ping() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn != nil {
		d.conn.Pings(1)
	}
}

// brokerHostPort turns tcp://host:port into host:port.
func brokerHostPort(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "tcp" || u.Host == "" {
		return "", fmt.Errorf("broker URL %q: want tcp://host:port", raw)
	}
	return u.Host, nil
}

// connectStats says how a wave of connections went.
type connectStats struct {
	attempts, failures int64
	lastErr            atomic.Value // error
}

// connectAll connects every device, at most `parallel` at a time (len(devs)
// for all at once). A device whose attempt fails (refused, timed out)
// tries again after 1 to 2 s, as firmware does, until ctx ends. It
// returns when every device is connected or ctx ended.
func connectAll(ctx context.Context, devs []*device, hostPort string, keepalive uint16, parallel int) *connectStats {
	st := &connectStats{}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for _, d := range devs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return st
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for ctx.Err() == nil {
				atomic.AddInt64(&st.attempts, 1)
				err := d.connect(hostPort, keepalive)
				if err == nil {
					return
				}
				atomic.AddInt64(&st.failures, 1)
				st.lastErr.Store(err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second + rand.N(time.Second)):
				}
			}
		}()
	}
	wg.Wait()
	return st
}

// killAll drops every device's connection at once.
func killAll(devs []*device) {
	for _, d := range devs {
		d.kill()
	}
}

// pinger sends each connected device a PINGREQ once per keepalive, spread
// evenly over it, until ctx ends: one goroutine for the whole fleet.
func pinger(ctx context.Context, devs []*device, keepalive time.Duration) {
	gap := keepalive / time.Duration(len(devs))
	t := time.NewTicker(max(gap, time.Microsecond))
	defer t.Stop()
	for i := 0; ; i = (i + 1) % len(devs) {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		devs[i].ping()
	}
}

// clearRetained removes the retained presence the fleet left on an
// external broker (an empty retained message clears a topic), so that a
// shared Mosquitto does not keep thousands of them for everyone
// subscribing to tele/+/LWT. Anonymous publishing must be allowed, as on a
// test broker.
func clearRetained(hostPort string, devs []*device) error {
	c, err := mqtttest.DialRaw(hostPort, "")
	if err != nil {
		return fmt.Errorf("dial %s: %w", hostPort, err)
	}
	defer c.Close()
	if err := c.Connect(fmt.Sprintf("fleet-clear-%d", rand.Int64()), "", "", 60, nil); err != nil {
		return err
	}
	for _, d := range devs {
		topic, _, _, _ := d.presence()
		if err := c.Publish(topic, nil, true); err != nil {
			return fmt.Errorf("clear %s: %w", topic, err)
		}
	}
	// A round trip that comes back after every publish above.
	if _, err := c.Subscribe(1, "fleet/clear/done"); err != nil {
		return err
	}
	return nil
}
