package devices

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// subscriptions relais makes at Start: every reply and presence topic of
// the protocols' fixed layouts. Zigbee2MQTT bridges (any base topic) and
// Shelly prefixes of several levels are subscribed one by one as they are
// registered (see syncTopics).
var subscriptions = []string{
	"relais/+/+/ack",
	"relais/+/+/status",
	"stat/+/+",
	"tele/+/LWT",
	ShellyReplyPrefix + "/+/rpc",
	"+/online",
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
	t := TopicsOf(d)
	switch d.Protocol {
	case ProtocolRelais:
		b, err := json.Marshal(relaisCommand{ID: cmd.ID, Action: cmd.Action, DurationS: seconds(cmd.Duration), ExpiresAt: expiresAt.UTC()})
		if err != nil {
			return nil, err
		}
		// QoS 1: the payload's expires_at stops a late delivery from acting.
		return []outMsg{{t.Command, 1, b}}, nil
	case ProtocolTasmota:
		// QoS 0: a Tasmota command has no expiry field, so it must not be
		// queued by a broker for a device that reconnects later. PulseTime
		// goes first (same client, same QoS: the broker keeps the order).
		var out []outMsg
		ch := max(d.Channel, 1)
		if cmd.Action.on() {
			out = append(out, outMsg{fmt.Sprintf("cmnd/%s/PulseTime%d", d.TopicRoot, ch), 0, []byte(strconv.Itoa(PulseTime(cmd.Duration)))})
		}
		v := "OFF"
		if cmd.Action.on() {
			v = "ON"
		}
		return append(out, outMsg{t.Command, 0, []byte(v)}), nil
	case ProtocolShelly:
		p := shellyParams{ID: d.Channel, On: cmd.Action.on()}
		if cmd.Action.on() && cmd.Duration > 0 {
			s := seconds(cmd.Duration)
			p.ToggleAfter = &s
		}
		src := strings.TrimSuffix(t.Reply, "/rpc")
		b, err := json.Marshal(shellyRequest{ID: shellyID, Src: src, Method: "Switch.Set", Params: p})
		if err != nil {
			return nil, err
		}
		return []outMsg{{t.Command, 0, b}}, nil
	case ProtocolZigbee:
		return []outMsg{{t.Command, 0, zigbeeCommand(d.Kind, cmd)}}, nil
	}
	return nil, fmt.Errorf("unknown protocol %q", d.Protocol)
}

// zigbeeCommand is the payload of a Zigbee2MQTT set: a lock is locked or
// unlocked; a plug is switched on with on_time, the Zigbee On/Off
// cluster's "on with timed off", so that it switches itself off if relais
// stops renewing it (the plug must support that command: Zigbee2MQTT
// reports a failure otherwise, and the machine stays off).
func zigbeeCommand(kind Kind, cmd Command) []byte {
	var b []byte
	switch {
	case kind == KindLock:
		b, _ = json.Marshal(map[string]string{"state": zigbeeState(cmd.Action)})
	case cmd.Action.on() && cmd.Duration > 0:
		b, _ = json.Marshal(map[string]any{"state": "ON", "on_time": seconds(cmd.Duration)})
	case cmd.Action.on():
		b, _ = json.Marshal(map[string]string{"state": "ON"})
	default:
		b, _ = json.Marshal(map[string]string{"state": "OFF"})
	}
	return b
}

// correlated reports whether a protocol's replies carry the command's id.
func correlated(p Protocol) bool { return p == ProtocolRelais || p == ProtocolShelly }
