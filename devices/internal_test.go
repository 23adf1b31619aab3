package devices

import (
	"testing"
	"time"
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
