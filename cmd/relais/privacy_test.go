package main

import (
	"testing"
	"time"
)

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90d", 90 * 24 * time.Hour, true},
		{"28d", 28 * 24 * time.Hour, true},
		{"2160h", 90 * 24 * time.Hour, true},
		{"27d", 0, false},    // shorter than the audit's floor
		{"24h", 0, false},    // likewise
		{"3m", 0, false},     // three minutes, not months
		{"d", 0, false},      // no number
		{"-90d", 0, false},   // negative
		{"ninety", 0, false}, // not a duration
	} {
		got, err := parseRetention(c.in, 28*24*time.Hour)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}
