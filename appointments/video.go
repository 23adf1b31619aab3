package appointments

import (
	"crypto/rand"
	"encoding/base32"
	"net/url"
	"strings"
)

// MaxBaseURL bounds a partner's video_base_url, so that a room's URL (the
// base, a slash and 26 characters) stays within MaxURL.
const MaxBaseURL = MaxURL - 30

// validBaseURL: an absolute https URL with a host, no user or password,
// no query and no fragment (the room's name is appended to its path).
func validBaseURL(raw string) bool {
	if raw == "" || len(raw) > MaxBaseURL || strings.ContainsAny(raw, " \t\r\n") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.RawQuery == "" && !u.ForceQuery && u.Fragment == "" && u.Opaque == ""
}

// roomNames are lower-case base32 without padding: 128 random bits make 26
// characters a video service accepts in a room's name.
var roomNames = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRoomURL is a room of its own under base: 128 bits from crypto/rand,
// so nobody finds an appointment's room by guessing or counting.
func newRoomURL(base string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24)
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + strings.ToLower(roomNames.EncodeToString(b[:]))
}

func nilIfBlank(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}
