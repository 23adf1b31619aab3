package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// TestNoDoubleBookingAcrossReplicas runs two relais servers on one database
// (as two replicas behind a load balancer would) and races 100 bookings of
// one desk, alternating between them: exactly one wins.
func TestNoDoubleBookingAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t)
	e := map[string]string{
		"RELAIS_DATABASE_URL":    url,
		"RELAIS_ADMIN_EMAIL":     "admin@example.fr",
		"RELAIS_ADMIN_PASSWORD":  "admin password 1",
		"RELAIS_AUTH_RATE_LIMIT": "0",
	}
	a, _ := startServe(t, e)
	b, _ := startServe(t, e)

	var admin struct {
		AccessToken string `json:"access_token"`
	}
	postJSON(t, a+"/v1/auth/login", "", map[string]string{"email": "admin@example.fr", "password": "admin password 1"}, &admin)
	var site, desk struct{ ID string }
	if st := postJSON(t, a+"/v1/sites", admin.AccessToken, map[string]any{
		"name": "La Fabrique", "timezone": "Europe/Paris",
		"address": map[string]string{"line1": "1 rue de la Gare", "postal_code": "23000", "city": "Guéret", "country": "FR"},
		"legal":   map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, &site); st != http.StatusCreated {
		t.Fatalf("create site: %d", st)
	}
	if st := postJSON(t, b+"/v1/sites/"+site.ID+"/resources", admin.AccessToken, map[string]any{"kind": "desk", "name": "Desk 1"}, &desk); st != http.StatusCreated {
		t.Fatalf("create desk: %d", st)
	}
	var plan struct{ ID string }
	if st := postJSON(t, a+"/v1/plans", admin.AccessToken, map[string]any{"site_id": site.ID, "kind": "membership", "name": "Nomade",
		"price_cents": 30000, "includes": map[string]any{"resource_kinds": []string{"desk"}}}, &plan); st != http.StatusCreated {
		t.Fatalf("create plan: %d", st)
	}
	tokens := make([]string, 10)
	for i := range tokens {
		email := fmt.Sprintf("m%d@example.fr", i)
		var member struct{ ID string }
		postJSON(t, a+"/v1/auth/register", "", map[string]string{"email": email, "password": "member password", "name": "M"}, &member)
		if st := postJSON(t, b+"/v1/sites/"+site.ID+"/payments", admin.AccessToken, map[string]any{"user_id": member.ID, "plan_id": plan.ID,
			"method": "cash", "amount_cents": 30000,
			"buyer": map[string]any{"address": map[string]string{"line1": "1 rue Haute", "postal_code": "23000", "city": "Guéret", "country": "FR"}}}, nil); st != http.StatusCreated {
			t.Fatalf("on-site payment: %d", st)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		postJSON(t, b+"/v1/auth/login", "", map[string]string{"email": email, "password": "member password"}, &tok)
		tokens[i] = tok.AccessToken
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	day := time.Now().In(paris).AddDate(0, 0, 3)
	start := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, paris)
	body, _ := json.Marshal(map[string]string{"resource_id": desk.ID, "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)})

	const n = 100
	var wg sync.WaitGroup
	statuses := make([]int, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			base := a
			if i%2 == 1 {
				base = b
			}
			req, _ := http.NewRequest("POST", base+"/v1/reservations", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[i%len(tokens)])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	close(gate)
	wg.Wait()
	created := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Fatalf("status %d in the race (all: %v)", s, statuses)
		}
	}
	if created != 1 {
		t.Fatalf("%d of %d bookings across two replicas succeeded, want exactly 1", created, n)
	}
}
