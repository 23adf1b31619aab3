// Package id makes the opaque identifiers Relais hands out: UUIDv7 strings,
// which sort by creation time and so give stable, index-friendly ordering.
package id

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/google/uuid"
)

// New returns a new UUIDv7 as a string.
func New() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Valid reports whether s looks like an id we issued, so handlers can answer
// 404 for garbage without a database round trip.
func Valid(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// Secret returns n random bytes encoded as unpadded URL-safe base64, for
// tokens that are shown once and stored only as hashes.
func Secret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
