package devices

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Topics of each protocol. Every device's topics are derived from its
// protocol, address, channel (and site, for the relais protocol); the ACLs
// of the embedded broker and of docs/mosquitto/acl come from the same rules.

// ShellyReplyPrefix starts the `src` relais gives in Shelly RPC requests; a
// Shelly device answers on <src>/rpc, so its replies land on
// relais-rpc/<device_id>/rpc, a topic only that device may write.
const ShellyReplyPrefix = "relais-rpc"

func shellySrc(address string) string { return ShellyReplyPrefix + "/" + address }

// ACL is what one device may do on the broker: MQTT topic filters.
type ACL struct {
	Read  []string // filters it may subscribe to (its command topics)
	Write []string // topics (or filters) it may publish to (replies, status, presence)
}

// DeviceACL returns the device's ACL.
func DeviceACL(d *Device) ACL {
	a := d.Address
	switch d.Protocol {
	case ProtocolRelais:
		base := "relais/" + d.SiteID + "/" + a
		return ACL{Read: []string{base + "/cmd"}, Write: []string{base + "/ack", base + "/status"}}
	case ProtocolTasmota:
		return ACL{Read: []string{"cmnd/" + a + "/#"}, Write: []string{"stat/" + a + "/#", "tele/" + a + "/#"}}
	case ProtocolShelly:
		// <id>/# covers <id>/online, <id>/events/rpc and <id>/status/…, but
		// also <id>/rpc, its own command topic: harmless, since only relais
		// reads it and a device can only confuse itself.
		return ACL{Read: []string{a + "/rpc"}, Write: []string{a + "/#", shellySrc(a) + "/rpc"}}
	case ProtocolZigbee:
		base := "zigbee2mqtt/" + a
		return ACL{Read: []string{base + "/set", base + "/get"}, Write: []string{base, base + "/availability"}}
	}
	return ACL{}
}

// PresenceTopic is where the device's retained online/offline state (its
// Last Will) is published, with the two payloads.
func PresenceTopic(d *Device) (topic string, online, offline []byte) {
	switch d.Protocol {
	case ProtocolRelais:
		return "relais/" + d.SiteID + "/" + d.Address + "/status", []byte("online"), []byte("offline")
	case ProtocolTasmota:
		return "tele/" + d.Address + "/LWT", []byte("Online"), []byte("Offline")
	case ProtocolShelly:
		return d.Address + "/online", []byte("true"), []byte("false")
	case ProtocolZigbee:
		return "zigbee2mqtt/" + d.Address + "/availability", []byte(`{"state":"online"}`), []byte(`{"state":"offline"}`)
	}
	return "", nil, nil
}

// subscriptions relais makes at Start: every reply and presence topic of
// every protocol.
var subscriptions = []string{
	"relais/+/+/ack",
	"relais/+/+/status",
	"stat/+/+",
	"tele/+/LWT",
	ShellyReplyPrefix + "/+/rpc",
	"+/online",
	"zigbee2mqtt/+",
	"zigbee2mqtt/+/availability",
}

// outMsg is one publish of a command.
type outMsg struct {
	topic   string
	qos     byte
	payload []byte
}

// relaisCommand is the relais protocol's command payload.
type relaisCommand struct {
	ID        string    `json:"id"`
	Action    Action    `json:"action"`
	DurationS float64   `json:"duration_s,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// relaisAck is the relais protocol's reply.
type relaisAck struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type shellyRequest struct {
	ID     int64        `json:"id"`
	Src    string       `json:"src"`
	Method string       `json:"method"`
	Params shellyParams `json:"params"`
}

type shellyParams struct {
	ID          int      `json:"id"`
	On          bool     `json:"on"`
	ToggleAfter *float64 `json:"toggle_after,omitempty"`
}

type shellyResponse struct {
	ID     int64           `json:"id"`
	Src    string          `json:"src"`
	Dst    string          `json:"dst,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// on reports whether an action closes the relay (energises the strike or
// the machine).
func (a Action) on() bool { return a == ActionUnlock || a == ActionPowerOn }

func (a Action) valid() bool {
	switch a {
	case ActionUnlock, ActionLock, ActionPowerOn, ActionPowerOff:
		return true
	}
	return false
}

// tasmotaPower is the POWER command name of a channel.
func tasmotaPower(ch int) string {
	if ch == 0 {
		return "POWER"
	}
	return "POWER" + strconv.Itoa(ch)
}

// PulseTime encodes a duration as Tasmota's PulseTime value: 1–111 are
// tenths of a second, 112–64900 are whole seconds plus 100. 0 disables it.
func PulseTime(d time.Duration) int {
	switch {
	case d <= 0:
		return 0
	case d <= 11100*time.Millisecond:
		return max(1, int(math.Round(d.Seconds()*10)))
	default:
		return min(64900, 100+int(math.Ceil(d.Seconds())))
	}
}

// PulseDuration decodes a PulseTime value.
func PulseDuration(v int) time.Duration {
	switch {
	case v <= 0:
		return 0
	case v <= 111:
		return time.Duration(v) * 100 * time.Millisecond
	default:
		return time.Duration(v-100) * time.Second
	}
}

// zigbeeState is the lock state a Zigbee2MQTT lock reports on success.
func zigbeeState(a Action) string {
	if a == ActionUnlock {
		return "UNLOCK"
	}
	return "LOCK"
}

// tasmotaPowerValue reads a channel's state from a stat/<topic>/RESULT
// payload ({"POWER1":"ON"}). A single-relay Tasmota answers POWER to
// POWER1 and the reverse, so channels 0 and 1 accept both names.
func tasmotaPowerValue(payload []byte, ch int) (string, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(payload, &m) != nil {
		return "", false
	}
	for _, name := range tasmotaNames(ch) {
		if raw, ok := m[name]; ok {
			var v string
			if json.Unmarshal(raw, &v) == nil {
				return strings.ToUpper(v), true
			}
		}
	}
	return "", false
}

func tasmotaNames(ch int) []string {
	if ch <= 1 {
		return []string{"POWER", "POWER1"}
	}
	return []string{tasmotaPower(ch)}
}

// seconds renders a duration for JSON fields that take seconds.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// encode builds the messages that carry cmd to d. expiresAt is when the
// command stops being valid; shellyID is the numeric JSON-RPC id.
func encode(d *Device, cmd Command, expiresAt time.Time, shellyID int64) ([]outMsg, error) {
	switch d.Protocol {
	case ProtocolRelais:
		b, err := json.Marshal(relaisCommand{ID: cmd.ID, Action: cmd.Action, DurationS: seconds(cmd.Duration), ExpiresAt: expiresAt.UTC()})
		if err != nil {
			return nil, err
		}
		// QoS 1: the payload's expires_at stops a late delivery from acting.
		return []outMsg{{"relais/" + d.SiteID + "/" + d.Address + "/cmd", 1, b}}, nil
	case ProtocolTasmota:
		// QoS 0: a Tasmota command has no expiry field, so it must not be
		// queued by a broker for a device that reconnects later. PulseTime
		// goes first (same client, same QoS: the broker keeps the order).
		var out []outMsg
		ch := max(d.Channel, 1)
		if cmd.Action.on() {
			out = append(out, outMsg{fmt.Sprintf("cmnd/%s/PulseTime%d", d.Address, ch), 0, []byte(strconv.Itoa(PulseTime(cmd.Duration)))})
		}
		v := "OFF"
		if cmd.Action.on() {
			v = "ON"
		}
		return append(out, outMsg{"cmnd/" + d.Address + "/" + tasmotaPower(d.Channel), 0, []byte(v)}), nil
	case ProtocolShelly:
		p := shellyParams{ID: d.Channel, On: cmd.Action.on()}
		if cmd.Action.on() && cmd.Duration > 0 {
			s := seconds(cmd.Duration)
			p.ToggleAfter = &s
		}
		b, err := json.Marshal(shellyRequest{ID: shellyID, Src: shellySrc(d.Address), Method: "Switch.Set", Params: p})
		if err != nil {
			return nil, err
		}
		return []outMsg{{d.Address + "/rpc", 0, b}}, nil
	case ProtocolZigbee:
		b, _ := json.Marshal(map[string]string{"state": zigbeeState(cmd.Action)})
		return []outMsg{{"zigbee2mqtt/" + d.Address + "/set", 0, b}}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q", d.Protocol)
}

// correlated reports whether a protocol's replies carry the command's id.
func correlated(p Protocol) bool { return p == ProtocolRelais || p == ProtocolShelly }
