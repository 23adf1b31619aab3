package devices

import (
	"net"
	"testing"
	"time"
)

// TestAddressKey: IPv4 clients are counted per address, IPv6 ones per /64
// (a host picks any address in its /64), and an IPv4-mapped IPv6 address
// counts as the IPv4 address it is.
func TestAddressKey(t *testing.T) {
	tests := []struct {
		addr, key string
	}{
		{"192.0.2.7:40000", "192.0.2.7/32"},
		{"192.0.2.7:40001", "192.0.2.7/32"},
		{"[::ffff:192.0.2.7]:40000", "192.0.2.7/32"},
		{"[2001:db8:1:2:aaaa::1]:40000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:40000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:40000", "2001:db8:1:3::/64"},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := addressKey(a).String(); got != tt.key {
			t.Errorf("addressKey(%s) = %s, want %s", tt.addr, got, tt.key)
		}
	}
}

// TestConnectHeader: the body length of the first packet is read from its
// variable byte integer, however the bytes arrive.
func TestConnectHeader(t *testing.T) {
	tests := []struct {
		name   string
		chunks [][]byte
		length int
		done   bool
	}{
		{"a small CONNECT", [][]byte{{0x10, 0x2a, 0x00, 0x04}}, 42, true},
		{"exactly 4 KiB, header split", [][]byte{{0x10, 0x80}, {0x20}}, 4096, true},
		{"256 MB, one byte at a time", [][]byte{{0x10}, {0xff}, {0xff}, {0xff}, {0x7f}}, 1<<28 - 1, true},
		{"length not complete yet", [][]byte{{0x10, 0xff}}, 127, false},
		{"five length bytes: malformed, left to mochi", [][]byte{{0x10, 0x80, 0x80, 0x80, 0x80, 0x01}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h connectHeader
			var got int
			for _, c := range tt.chunks {
				got = h.scan(c)
			}
			if got != tt.length || h.done != tt.done {
				t.Fatalf("length %d, done %v; want %d, %v", got, h.done, tt.length, tt.done)
			}
		})
	}
}

// TestBucket: a burst passes at once, then packets wait for the rate, and
// a quiet spell refills the bucket up to the burst only. Times are given,
// not measured.
func TestBucket(t *testing.T) {
	var b bucket
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	const rate, burst = 10, 100
	for i := range burst {
		if w := b.take(rate, burst, t0); w != 0 {
			t.Fatalf("packet %d of the burst waits %v", i+1, w)
		}
	}
	if w := b.take(rate, burst, t0); w != 100*time.Millisecond {
		t.Fatalf("the packet after the burst waits %v, want 100ms (one at 10/s)", w)
	}
	// It slept its 100 ms: the next one waits as long.
	if w := b.take(rate, burst, t0.Add(100*time.Millisecond)); w != 100*time.Millisecond {
		t.Fatalf("the next waits %v, want 100ms", w)
	}
	// An hour later the bucket holds a burst, not 36,000 packets.
	later := t0.Add(time.Hour)
	for i := range burst {
		if w := b.take(rate, burst, later); w != 0 {
			t.Fatalf("packet %d after an hour waits %v", i+1, w)
		}
	}
	if w := b.take(rate, burst, later); w == 0 {
		t.Fatal("an hour of quiet gave more than one burst")
	}
}
