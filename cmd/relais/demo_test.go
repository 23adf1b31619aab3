package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// TestServeDemo runs `serve --demo` and does what its printout tells a
// newcomer to do: log in, book a desk, open the front door (a simulated
// lock confirms) and switch the laser cutter on.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	url := dbtest.MigratedURL(t)
	base, out, _ := startServeWith(t, map[string]string{"RELAIS_DATABASE_URL": url}, "--demo")
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for text = out.String(); !strings.Contains(text, "Every decision is in the audit"); text = out.String() {
		if time.Now().After(deadline) {
			t.Fatalf("no demo printout:\n%s", text)
		}
		time.Sleep(20 * time.Millisecond)
	}
	find := func(re string) []string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("printout lacks %s:\n%s", re, text)
		}
		return m
	}
	creds := find(`"email":"([^"]+)","password":"([^"]+)"`)
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if st := postJSON(t, base+"/v1/auth/login", "", map[string]string{"email": creds[1], "password": creds[2]}, &tokens); st != http.StatusOK {
		t.Fatalf("login with the printed credentials: %d", st)
	}
	booking := find(`-d '(\{"resource_id".*\})'`)
	if st := postJSON(t, base+"/v1/reservations", tokens.AccessToken, json.RawMessage(booking[1]), nil); st != http.StatusCreated {
		t.Fatalf("the printed booking: %d", st)
	}
	unlock := find(`(/v1/doors/[^/]+/unlock)`)
	var opened struct{ Granted, Confirmed bool }
	// The simulated lock may still be connecting just after the printout.
	for st := 0; st != http.StatusOK; {
		st = postJSON(t, base+unlock[1], tokens.AccessToken, map[string]any{}, &opened)
		if st != http.StatusOK && st != http.StatusServiceUnavailable || time.Now().After(deadline.Add(10*time.Second)) {
			t.Fatalf("the printed unlock: %d", st)
		}
	}
	if !opened.Granted || !opened.Confirmed {
		t.Fatalf("unlock = %+v", opened)
	}
	laser := find(`(/v1/machines/[^/]+/session)`)
	if st := postJSON(t, base+laser[1], tokens.AccessToken, nil, nil); st != http.StatusCreated {
		t.Fatalf("the printed laser start: %d", st)
	}
}
