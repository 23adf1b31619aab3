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
//
// The accessibility scan (axe_test.go) injects axe-core into every page
// of routes.js, signed out and signed in, at both sizes, and fails on any
// serious or critical violation. axe-core comes from npm, pinned by
// package-lock.json, into e2e/node_modules (not in git):
//
//	npm ci --prefix e2e
//
// Nothing of it reaches the app, which has no build step.
package e2e
