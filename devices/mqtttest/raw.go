package mqtttest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Raw is a bare MQTT 3.1.1 connection written packet by packet, for tests
// that must behave as no real client library would: announce a packet and
// never finish it, stay silent, subscribe a thousand times. It has no
// goroutine of its own, so thousands of them cost the test process next to
// nothing (the broker's memory benchmark relies on that).
type Raw struct {
	net.Conn
	r *bufio.Reader
}

// DialRaw opens a TCP connection to addr (host:port) from the local address
// from ("" for any: on Linux every 127.x.y.z reaches a loopback listener,
// which lets a test act as many client addresses).
func DialRaw(addr, from string) (*Raw, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Raw{Conn: c, r: bufio.NewReaderSize(c, 512)}, nil
}

// Will is the Last Will a Raw client announces in its CONNECT.
type Will struct {
	Topic   string
	Payload []byte
	Retain  bool
}

// Connect sends a CONNECT (keepalive in seconds, 0 for none) and waits for
// the CONNACK; a refusal is an error naming its return code.
func (c *Raw) Connect(clientID, username, password string, keepalive uint16, will *Will) error {
	if _, err := c.Write(ConnectPacket(clientID, username, password, keepalive, will)); err != nil {
		return fmt.Errorf("send CONNECT: %w", err)
	}
	ack, err := c.ReadPacket(packets.Connack)
	if err != nil {
		return fmt.Errorf("read CONNACK: %w", err)
	}
	if ack.ReasonCode != 0 {
		return fmt.Errorf("CONNECT refused with return code %d", ack.ReasonCode)
	}
	return nil
}

// ConnectPacket is an MQTT 3.1.1 CONNECT, encoded.
func ConnectPacket(clientID, username, password string, keepalive uint16, will *Will) []byte {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: keepalive,
			ClientIdentifier: clientID, UsernameFlag: username != "", Username: []byte(username),
			PasswordFlag: password != "", Password: []byte(password)}}
	if will != nil {
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, will.Topic, will.Payload
		pk.Connect.WillRetain, pk.Connect.WillQos = will.Retain, 1
	}
	var buf bytes.Buffer
	pk.ConnectEncode(&buf) // fails only on a malformed v5 property
	return buf.Bytes()
}

// Subscribe sends one SUBSCRIBE (QoS 0) for the filters and returns the
// SUBACK's return codes (0x80 for a refused filter).
func (c *Raw) Subscribe(packetID uint16, filters ...string) ([]byte, error) {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 4, PacketID: packetID}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f})
	}
	var buf bytes.Buffer
	if err := pk.SubscribeEncode(&buf); err != nil {
		return nil, err
	}
	if _, err := c.Write(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("send SUBSCRIBE: %w", err)
	}
	ack, err := c.ReadPacket(packets.Suback)
	if err != nil {
		return nil, fmt.Errorf("read SUBACK: %w", err)
	}
	return ack.ReasonCodes, nil
}

// Publish sends a QoS 0 PUBLISH.
func (c *Raw) Publish(topic string, payload []byte, retain bool) error {
	return c.PublishQoS(topic, payload, retain, 0, 0)
}

// PublishQoS sends a PUBLISH at QoS 1 or 2 with the packet id given, and
// does not wait for its acknowledgement.
func (c *Raw) PublishQoS(topic string, payload []byte, retain bool, qos byte, packetID uint16) error {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: retain, Qos: qos}, ProtocolVersion: 4,
		TopicName: topic, Payload: payload, PacketID: packetID}
	var buf bytes.Buffer
	if err := pk.PublishEncode(&buf); err != nil {
		return err
	}
	_, err := c.Write(buf.Bytes())
	return err
}

// Pings sends n PINGREQs in one write.
func (c *Raw) Pings(n int) error {
	_, err := c.Write(bytes.Repeat([]byte{packets.Pingreq << 4, 0}, n))
	return err
}

// Announce writes the fixed header of a packet of type typ (packets.Connect,
// packets.Publish…) whose body is length bytes long, and nothing else.
func (c *Raw) Announce(typ byte, length int) error {
	hdr := []byte{typ << 4}
	if typ == packets.Subscribe || typ == packets.Unsubscribe || typ == packets.Pubrel {
		hdr[0] |= 0x02 // the reserved bits these types require
	}
	for { // the remaining length, as a variable byte integer
		b := byte(length % 128)
		if length /= 128; length > 0 {
			b |= 0x80
		}
		hdr = append(hdr, b)
		if length == 0 {
			break
		}
	}
	_, err := c.Write(hdr)
	return err
}

// filler is what Stream sends: one buffer for every Raw client.
var filler = make([]byte, 64<<10)

// Stream writes up to n bytes of filler and returns how many were written
// before the connection failed (n, nil when it never did).
func (c *Raw) Stream(n int64) (int64, error) {
	var sent int64
	for sent < n {
		chunk := filler[:min(int64(len(filler)), n-sent)]
		w, err := c.Write(chunk)
		sent += int64(w)
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// ErrStillOpen is WaitClosed's answer for a connection the broker kept.
var ErrStillOpen = errors.New("the broker kept the connection open")

// WaitClosed reads and discards what the broker sends until it closes the
// connection (nil), or returns ErrStillOpen if it is still open after
// within. A broker that closes with unread data in its buffer resets the
// connection: that counts as closed too.
func (c *Raw) WaitClosed(within time.Duration) error {
	c.SetReadDeadline(time.Now().Add(within))
	defer c.SetReadDeadline(time.Time{})
	_, err := io.Copy(io.Discard, c.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrStillOpen
	}
	return nil // EOF (io.Copy's nil) or a reset
}

// ReadPacket reads the next packet, skipping any of another type than want
// (a PINGRESP, a retained message…), for up to 10 seconds.
func (c *Raw) ReadPacket(want byte) (packets.Packet, error) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return packets.Packet{}, err
		}
		var fh packets.FixedHeader
		if err := fh.Decode(b); err != nil {
			return packets.Packet{}, err
		}
		if fh.Remaining, _, err = packets.DecodeLength(c.r); err != nil {
			return packets.Packet{}, err
		}
		body := make([]byte, fh.Remaining)
		if _, err := io.ReadFull(c.r, body); err != nil {
			return packets.Packet{}, err
		}
		if fh.Type != want {
			continue
		}
		pk := packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
		switch want {
		case packets.Connack:
			err = pk.ConnackDecode(body)
		case packets.Suback:
			err = pk.SubackDecode(body)
		case packets.Publish:
			err = pk.PublishDecode(body)
		}
		return pk, err
	}
}
