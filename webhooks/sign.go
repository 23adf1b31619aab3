package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// secretPrefix marks a Standard Webhooks secret: what follows is the
// base64 of the HMAC key.
const secretPrefix = "whsec_"

// newSecret returns a fresh secret: 32 random bytes, as the specification
// suggests (between 24 and 64).
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, fmt.Errorf("webhook secret lacks the %s prefix", secretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("decode webhook secret: %w", err)
	}
	return key, nil
}

// Sign returns the webhook-signature header value of a message, as the
// Standard Webhooks specification defines it: "v1," and the base64 of
// HMAC-SHA256(key, msgID + "." + timestamp + "." + body).
func Sign(secret, msgID string, timestamp int64, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
