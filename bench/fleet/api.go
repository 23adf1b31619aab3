package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// client speaks to the server's HTTP API as an operator and a member would.
type client struct {
	base string
	http *http.Client
}

func newClient(base string, conns int) *client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns, conns
	return &client{base: base, http: &http.Client{Transport: t, Timeout: 60 * time.Second}}
}

// call sends a request with a JSON body (nil for none) and decodes the
// answer into out (nil to discard it); any status but want is an error
// naming the route and the problem's text.
func (c *client) call(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		err := fmt.Errorf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		if resp.StatusCode >= 500 {
			return &serverError{err}
		}
		return err
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	} else {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return nil
}

// serverError is an answer with a 5xx status.
type serverError struct{ error }

func (e *serverError) Unwrap() error { return e.error }

// account logs in again when its access token (15 minutes) gets old: a run
// of 10,000 devices can outlast one.
type account struct {
	c         *client
	email, pw string

	mu    sync.Mutex
	token string
	at    time.Time
}

func (a *account) bearer(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token != "" && time.Since(a.at) < 10*time.Minute {
		return a.token, nil
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := a.c.call(ctx, "POST", "/v1/auth/login", "", map[string]string{"email": a.email, "password": a.pw}, http.StatusOK, &tok); err != nil {
		return "", fmt.Errorf("log in as %s: %w", a.email, err)
	}
	a.token, a.at = tok.AccessToken, time.Now()
	return a.token, nil
}

// site is what provisioning made: the site, its door, its member, and the
// fleet's devices with their credentials.
type site struct {
	id     string
	door   *device
	member *account
	fleet  []*device
	ids    map[string]bool // the fleet's device ids
	// retried counts registrations sent again after a server error.
	retried atomic.Int64
}

// provision creates, as an operator would through the API, a site, a
// member with a 24/7 membership, one relais-protocol door for devicesim
// and n locks (even ones relais protocol, odd ones Tasmota), registered
// by `workers` concurrent requests.
func provision(ctx context.Context, c *client, admin *account, n, workers int, runID string) (*site, error) {
	tok, err := admin.bearer(ctx)
	if err != nil {
		return nil, err
	}
	s := &site{ids: map[string]bool{}}
	var out struct{ ID string }
	err = c.call(ctx, "POST", "/v1/sites", tok, map[string]any{
		"name": "Fleet " + runID, "timezone": "Europe/Paris",
		"address": map[string]any{"line1": "2 place de la Mairie", "postal_code": "23000", "city": "Guéret", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &out)
	if err != nil {
		return nil, err
	}
	s.id = out.ID
	if err := s.addMember(ctx, c, tok, runID); err != nil {
		return nil, err
	}
	if s.door, err = s.register(ctx, c, tok, "Entrée", "relais", "door-"+runID); err != nil {
		return nil, err
	}
	if err := s.registerFleet(ctx, c, tok, n, workers, runID); err != nil {
		return nil, err
	}
	return s, nil
}

// addMember registers the site's member, and sells them at the desk a
// membership whose plan opens the door at all hours.
func (s *site) addMember(ctx context.Context, c *client, tok, runID string) error {
	var out struct{ ID string }
	s.member = &account{c: c, email: "member-" + runID + "@example.org", pw: "fleet member " + runID}
	if err := c.call(ctx, "POST", "/v1/auth/register", "", map[string]string{"email": s.member.email, "password": s.member.pw, "name": "Anne"},
		http.StatusCreated, &out); err != nil {
		return err
	}
	memberID := out.ID
	if err := c.call(ctx, "POST", "/v1/plans", tok, map[string]any{"site_id": s.id, "kind": "membership", "name": "Résident",
		"price_cents": 30000, "includes": map[string]any{"door_access": "24_7"}}, http.StatusCreated, &out); err != nil {
		return err
	}
	if err := c.call(ctx, "POST", "/v1/sites/"+s.id+"/payments", tok, map[string]any{"user_id": memberID, "plan_id": out.ID,
		"method": "cash", "amount_cents": 30000, "buyer": map[string]any{"address": map[string]string{
			"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}},
		http.StatusCreated, nil); err != nil {
		return err
	}
	return nil
}

// register registers a lock of the site and returns it with its
// credentials.
func (s *site) register(ctx context.Context, c *client, tok, name, protocol, address string) (*device, error) {
	var d struct {
		ID, Username string
		Secret       *string
	}
	body := map[string]any{"kind": "lock", "name": name, "protocol": protocol, "address": address}
	err := c.call(ctx, "POST", "/v1/sites/"+s.id+"/devices", tok, body, http.StatusCreated, &d)
	// An operator's script tries again after a server error: on SQLite a
	// registration can wait for the write lock longer than the busy
	// timeout (10 s) when thousands of devices are registered, each
	// reading them all under the lock. Counted in the report.
	for try := 1; try <= 3 && errors.As(err, new(*serverError)); try++ {
		s.retried.Add(1)
		time.Sleep(time.Second)
		err = c.call(ctx, "POST", "/v1/sites/"+s.id+"/devices", tok, body, http.StatusCreated, &d)
	}
	if err != nil {
		return nil, err
	}
	if d.Secret == nil {
		return nil, fmt.Errorf("device %s registered without a secret", name)
	}
	return &device{id: d.ID, username: d.Username, secret: *d.Secret, protocol: protocol, site: s.id, address: address}, nil
}

// registerFleet registers the n locks of the fleet by `workers` concurrent
// requests, stopping at the first error.
func (s *site) registerFleet(ctx context.Context, c *client, tok string, n, workers int, runID string) error {
	s.fleet = make([]*device, n)
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				protocol := "relais"
				if i%2 == 1 {
					protocol = "tasmota"
				}
				// Tasmota topics are one level and unique on the broker:
				// the run's id keeps them apart from any other run's.
				d, err := s.register(ctx, c, tok, fmt.Sprintf("Lock %05d", i), protocol, "f"+runID+"-"+strconv.Itoa(i))
				if err != nil {
					errs <- err
					return
				}
				d.from = sourceAddress(i)
				s.fleet[i] = d
			}
		}()
	}
	var first error
feed:
	for i := range n {
		select {
		case next <- i:
		case first = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if first == nil {
		first = <-errs
	}
	if first != nil {
		return fmt.Errorf("register devices: %w", first)
	}
	for _, d := range s.fleet {
		s.ids[d.id] = true
	}
	return nil
}

// countOnline reads the site's device list as its member would (one page:
// the list is not paginated) and counts the fleet's devices shown online.
func countOnline(ctx context.Context, c *client, s *site) (int, error) {
	tok, err := s.member.bearer(ctx)
	if err != nil {
		return 0, err
	}
	var list struct {
		Items []struct {
			ID     string
			Online bool
		}
	}
	if err := c.call(ctx, "GET", "/v1/sites/"+s.id+"/devices", tok, nil, http.StatusOK, &list); err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list.Items {
		if d.Online && s.ids[d.ID] {
			n++
		}
	}
	return n, nil
}

// deviceOnline reads one device's presence.
func deviceOnline(ctx context.Context, c *client, s *site, id string) (bool, error) {
	tok, err := s.member.bearer(ctx)
	if err != nil {
		return false, err
	}
	var d struct{ Online bool }
	err = c.call(ctx, "GET", "/v1/devices/"+id, tok, nil, http.StatusOK, &d)
	return d.Online, err
}

// metric reads one unlabelled series from /metrics (no authentication);
// ok is false when the server does not expose it.
func metric(ctx context.Context, c *client, name string) (v float64, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/metrics", nil)
	if err != nil {
		return 0, false, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), name+" "); found {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil, err
		}
	}
	return 0, false, sc.Err()
}
