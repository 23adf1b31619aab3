// Package e2e holds the browser tests of the members' app: each journey
// runs in a real headless Chromium, driven by chromedp, against the real
// `relais serve` (built from cmd/relais, on SQLite, with its embedded MQTT
// broker and an in-process SMTP server for its mail), at a phone's
// 360×740 and a desktop's 1280×800.
//
// They need Chromium, so they are behind the build tag "browser":
//
//	go test -tags browser ./e2e/
//
// The browser is `chromium` from PATH (Debian's package), or the one named
// by RELAIS_CHROMIUM. Without the tag this package has no tests, and
// `go test ./...` needs no browser.
package e2e
