package stripetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"
)

// Recorder sits between stripe-go and stripe-mock and keeps what was asked:
// stripe-mock itself remembers nothing, so tests read what was sent here.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Request is one request the Recorder passed on to Stripe, with its form
// body decoded.
type Request struct {
	Method, Path, IdempotencyKey string
	Form                         url.Values
}

// RecordRequests starts a proxy to target (a stripe-mock's URL) that
// records every request, closed when the test ends. Point
// StripeConfig.APIURL at proxyURL.
func RecordRequests(t testing.TB, target string) (proxyURL string, rec *Recorder) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec = &Recorder{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, Request{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), form})
		rec.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// Posts returns the POST requests to path, in the order they were sent.
func (r *Recorder) Posts(path string) []Request { return r.Requests(http.MethodPost, path) }

// Requests returns the requests of method to path, in the order they were
// sent.
func (r *Recorder) Requests(method, path string) []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Request
	for _, q := range r.reqs {
		if q.Method == method && q.Path == path {
			out = append(out, q)
		}
	}
	return out
}

// eventSeq numbers the events of a test process, so that each has its own
// id (webhooks are deduplicated by event id).
var eventSeq atomic.Int64

// Event is a Stripe event as its webhook delivers it, for the API version
// our endpoint is created with.
func Event(typ string, created time.Time, object map[string]any) map[string]any {
	return map[string]any{
		"id":               fmt.Sprintf("evt_test_%d", eventSeq.Add(1)),
		"object":           "event",
		"api_version":      "2024-06-20",
		"created":          created.Unix(),
		"type":             typ,
		"livemode":         false,
		"pending_webhooks": 1,
		"data":             map[string]any{"object": object},
	}
}

// SignEvent returns the body and Stripe-Signature header Stripe would send
// for ev, signed with the webhook endpoint's secret.
func SignEvent(t testing.TB, ev map[string]any, secret string) (payload []byte, header string) {
	t.Helper()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret})
	return sp.Payload, sp.Header
}

// Charge is a succeeded Stripe charge of amount, refunded of refunded, for
// the payment intent pi and the invoice inv (either may be "").
func Charge(pi, inv string, amount, refunded int64) map[string]any {
	o := map[string]any{"id": "ch_" + pi, "object": "charge", "amount": amount, "amount_refunded": refunded,
		"refunded": refunded == amount, "status": "succeeded"}
	if pi != "" {
		o["payment_intent"] = pi
	}
	if inv != "" {
		o["invoice"] = inv
	}
	return o
}
