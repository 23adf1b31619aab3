package identity

import "testing"

func TestSimplifyUserAgent(t *testing.T) {
	for _, tt := range []struct{ ua, browser, system string }{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox", "Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge", "Windows"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome", "Android"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari", "macOS"},
		{"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1", "Chrome", "iPadOS"},
		{"curl/8.5.0", "curl", "?"},
		{"", "?", "?"},
	} {
		if b, s := simplifyUserAgent(tt.ua); b != tt.browser || s != tt.system {
			t.Errorf("%q: %s, %s; want %s, %s", tt.ua, b, s, tt.browser, tt.system)
		}
	}
}
