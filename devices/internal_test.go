package devices

import (
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/i18n"
)

func TestCovers(t *testing.T) {
	tests := []struct {
		have, want string
		ok         bool
	}{
		{"cmnd/t1/#", "cmnd/t1/POWER1", true},
		{"cmnd/t1/#", "cmnd/t1/#", true},
		{"cmnd/t1/#", "cmnd/t1", true},
		{"cmnd/t1/#", "cmnd/+/#", false},
		{"cmnd/t1/#", "cmnd/t2/POWER", false},
		{"cmnd/t1/#", "#", false},
		{"a/rpc", "a/rpc", true},
		{"a/rpc", "a/+", false},
		{"a/rpc", "a/rpc/x", false},
		{"relais/s/d/cmd", "relais/s/d/cmd", true},
		{"relais/s/d/cmd", "relais/s/+/cmd", false},
		{"zigbee2mqtt/l", "zigbee2mqtt/l/set", false},
	}
	for _, tt := range tests {
		if got := covers(tt.have, tt.want); got != tt.ok {
			t.Errorf("covers(%q, %q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
	if allowed([]string{"stat/t1/#"}, "stat/t1/+", false) {
		t.Error("a wildcard accepted as a topic name")
	}
}

func TestPulseTime(t *testing.T) {
	tests := []struct {
		d time.Duration
		v int
	}{
		{0, 0}, {100 * time.Millisecond, 1}, {5 * time.Second, 50}, {11100 * time.Millisecond, 111},
		{12 * time.Second, 112}, {30 * time.Second, 130}, {18 * time.Hour, 64900},
	}
	for _, tt := range tests {
		if got := PulseTime(tt.d); got != tt.v {
			t.Errorf("PulseTime(%s) = %d, want %d", tt.d, got, tt.v)
		}
		if tt.v > 0 && tt.v < 64900 && PulseDuration(tt.v) != tt.d {
			t.Errorf("PulseDuration(%d) = %s, want %s", tt.v, PulseDuration(tt.v), tt.d)
		}
	}
}

// TestRetainedReplyIgnored: a reply replayed from the broker's retained
// store (left there before relais subscribed) never confirms a command; the
// same reply live does. Mosquitto's acl_file cannot stop a device from
// retaining its replies, so relais must.
func TestRetainedReplyIgnored(t *testing.T) {
	s := New(nil, Config{})
	d := Device{ID: "d1", Protocol: ProtocolTasmota, Kind: KindLock, Address: "t1", TopicRoot: "t1", Channel: 1}
	p := &pending{dev: d, cmd: Command{ID: "c1", Action: ActionUnlock}, done: make(chan reply, 1)}
	key := s.register(p)
	msg := Message{Topic: "stat/t1/RESULT", Payload: []byte(`{"POWER1":"ON"}`), Retained: true}
	s.handle(msg)
	select {
	case <-p.done:
		t.Fatal("a retained reply confirmed the command")
	default:
	}
	msg.Retained = false
	s.handle(msg)
	select {
	case r := <-p.done:
		if r.err != nil {
			t.Fatalf("live reply: %v", r.err)
		}
	default:
		t.Fatal("the live reply did not confirm the command")
	}
	s.unregister(key, p)
}

// TestZigbeeAnswer: what a Zigbee2MQTT report means for the command in flight.
func TestZigbeeAnswer(t *testing.T) {
	lock := func(a Action) *pending { return &pending{dev: Device{Kind: KindLock}, cmd: Command{Action: a}} }
	plug := func(a Action) *pending { return &pending{dev: Device{Kind: KindRelay}, cmd: Command{Action: a}} }
	tests := []struct {
		name    string
		p       *pending
		report  zigbeeReport
		answers bool
		jammed  bool
	}{
		{"unlocked", lock(ActionUnlock), zigbeeReport{State: "UNLOCK", LockState: "unlocked"}, true, false},
		{"not fully locked reads UNLOCK", lock(ActionUnlock), zigbeeReport{State: "UNLOCK", LockState: "not_fully_locked"}, true, true},
		{"jammed while locking", lock(ActionLock), zigbeeReport{State: "UNLOCK", LockState: "not_fully_locked"}, true, true},
		{"door state jammed", lock(ActionUnlock), zigbeeReport{State: "UNLOCK", DoorState: "error_jammed"}, true, true},
		{"still locked", lock(ActionUnlock), zigbeeReport{State: "LOCK", LockState: "locked"}, false, false},
		{"locked", lock(ActionLock), zigbeeReport{State: "LOCK", LockState: "locked"}, true, false},
		{"state only", lock(ActionUnlock), zigbeeReport{State: "UNLOCK"}, true, false},
		{"plug on", plug(ActionPowerOn), zigbeeReport{State: "ON"}, true, false},
		{"plug still off", plug(ActionPowerOn), zigbeeReport{State: "OFF"}, false, false},
		{"plug off", plug(ActionPowerOff), zigbeeReport{State: "OFF"}, true, false},
	}
	for _, tt := range tests {
		err, answers := zigbeeAnswer(tt.p, tt.report)
		if answers != tt.answers || (err != nil) != tt.jammed {
			t.Errorf("%s: answers %v err %v, want answers %v jammed %v", tt.name, answers, err, tt.answers, tt.jammed)
		}
	}
}

// TestCheckRoot: the rule for a topic root, level by level.
func TestCheckRoot(t *testing.T) {
	tests := []struct {
		s           string
		multi, free bool
		ok          bool
	}{
		{"tasmota_A1B2C3", false, false, true},
		{"a/b", false, false, false},
		{"a/b", true, true, true},
		{"cmnd", true, true, false},
		{"cmnd", false, false, true}, // a Tasmota topic named cmnd lives at cmnd/cmnd: its own
		{"shellies/x", true, true, false},
		{"$SYS", false, false, false},
		{"a/$x", true, true, false},
		{"a+", false, false, false},
		{"a#", false, false, false},
		{"a\u0085b", false, false, false},
		{"a%b", false, false, false},
		{" a", false, false, false},
		{"a//b", true, true, false},
		{"Porte d'entrée", false, false, true},
	}
	for _, tt := range tests {
		if got := checkRoot(tt.s, tt.multi, tt.free).Empty(); got != tt.ok {
			t.Errorf("checkRoot(%q, %v, %v) ok = %v, want %v", tt.s, tt.multi, tt.free, got, tt.ok)
		}
	}
	// Its reasons are messages, said in the reader's language, with their
	// arguments; a literal '%' survives formatting.
	for _, tt := range []struct{ s, en, fr string }{
		{"a/b", "must be a single topic level, without '/'", "doit être un seul niveau de topic, sans « / »"},
		{"a%b", "contains '%'", "contient « % »"},
		{"cmnd/x", `must not start with "cmnd", a topic root of another protocol or of relais`, `ne doit pas commencer par "cmnd", une racine de topic d’un autre protocole ou de relais`},
	} {
		why := checkRoot(tt.s, true, true)
		if tt.s == "a/b" {
			why = checkRoot(tt.s, false, false)
		}
		if why.String() != tt.en || why.In(i18n.French) != tt.fr {
			t.Errorf("checkRoot(%q): %q / %q, want %q / %q", tt.s, why.String(), why.In(i18n.French), tt.en, tt.fr)
		}
	}
}
