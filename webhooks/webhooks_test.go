package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/webhooks"
)

// verify checks a Standard Webhooks request as a receiver would, written
// from the specification alone: the key is the base64 after "whsec_"; the
// signed content is id.timestamp.body; the header lists space-separated
// "v1,<base64>" signatures, any of which may match; timestamps more than
// five minutes away are refused; comparison in constant time.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	msgID, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if msgID == "" || ts == "" || sigs == "" {
		return errors.New("missing headers")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("timestamp out of tolerance")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

// received is one request a test receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest server that records requests and answers with
// status().
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status func() int
}

func newReceiver(t *testing.T, status func() int) *receiver {
	r := &receiver{status: status}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), b})
		r.mu.Unlock()
		w.WriteHeader(r.status())
		io.WriteString(w, "thanks")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// mailbox records the mail sent.
type mailbox struct {
	mu  sync.Mutex
	got []mail.Message
}

func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, msg)
	return nil
}

type fixture struct {
	db      *bun.DB
	hooks   *webhooks.Service
	cal     *calendar.Service
	jobs    *jobs.Client
	site    *calendar.Site
	desk    *calendar.Resource
	member  string
	manager string
	mail    *mailbox
	now     *clock
}

// clock is a settable clock for the failure window.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	queue := jobstest.Queue(t, d)
	accounts := identitytest.Accounts(t, d, queue)
	f := &fixture{db: d, mail: &mailbox{}, now: &clock{}}
	f.hooks = webhooks.New(d, webhooks.Config{Jobs: queue, Managers: accounts, Mail: f.mail, AllowPrivate: true,
		Now: f.now.Now, RetryDelays: []time.Duration{time.Millisecond}})
	f.cal = calendar.New(d, calendar.Config{Jobs: queue, Accounts: accounts, Events: f.hooks})
	workers := river.NewWorkers()
	if err := f.hooks.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	if err := f.cal.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	jc, err := jobs.New(d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jc.Stop(context.Background()) })
	f.jobs = jc
	hours := calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		hours[day] = [][2]string{{"08:00", "20:00"}}
	}
	f.site, err = f.cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		OpeningHours: hours,
		Address:      calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:        calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	f.desk, err = f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau 1"})
	if err != nil {
		t.Fatal(err)
	}
	f.member = dbtest.User(t, d, "anne@example.fr", "Anne")
	f.manager = dbtest.User(t, d, "marc@example.fr", "Marc")
	if err := accounts.AddManager(ctx, identity.System(), f.site.ID, f.manager); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) managerP() *identity.Principal {
	return &identity.Principal{UserID: f.manager, Role: identity.RoleMember, ManagedSites: []string{f.site.ID}}
}

// book books the desk for the member two days from now, 10:00–11:00.
func (f *fixture) book(t *testing.T) *calendar.Reservation {
	t.Helper()
	paris := f.site.Location()
	day := time.Now().In(paris).AddDate(0, 0, 2)
	r, err := f.cal.Book(context.Background(), calendar.Booking{By: &identity.Principal{UserID: f.member, Role: identity.RoleMember},
		ResourceID: f.desk.ID,
		Start:      time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, paris).Format(time.RFC3339),
		End:        time.Date(day.Year(), day.Month(), day.Day(), 11, 0, 0, 0, paris).Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReservationReachesTheReceiver: a booking, a cancellation, each
// published in its transaction, fanned out by a job and POSTed signed to
// the site's endpoint; an endpoint that wants other events gets nothing.
func TestReservationReachesTheReceiver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rcv := newReceiver(t, func() int { return http.StatusNoContent })
	other := newReceiver(t, func() int { return http.StatusNoContent })
	ep, err := f.hooks.Create(ctx, f.managerP(), webhooks.NewEndpoint{SiteID: f.site.ID, URL: rcv.URL + "/hook",
		Events: []string{"reservation.*"}, Description: "tableau de l'accueil"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep.Secret, "whsec_") {
		t.Fatalf("secret = %q", ep.Secret)
	}
	if _, err := f.hooks.Create(ctx, identitytest.Admin(), webhooks.NewEndpoint{URL: other.URL, Events: []string{"payment.*"}}); err != nil {
		t.Fatal(err)
	}
	r := f.book(t)
	if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: f.member}, Reason: "malade"}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jobs.River(), "relais.webhook_deliver", 2)
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("received %d requests, want 2", len(got))
	}
	// Each event is fanned out by its own job: they may arrive in any order.
	if strings.Contains(string(got[0].body), "reservation.cancelled") {
		got[0], got[1] = got[1], got[0]
	}
	for i, want := range []string{"reservation.created", "reservation.cancelled"} {
		if err := verify(ep.Secret, got[i].header, got[i].body, time.Now()); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		var body struct {
			ID, Type string
			SiteID   string `json:"site_id"`
			Data     calendar.ReservationEvent
		}
		if err := json.Unmarshal(got[i].body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Type != want || body.ID != got[i].header.Get("webhook-id") || body.SiteID != f.site.ID ||
			body.Data.ReservationID != r.ID || body.Data.UserID == nil || *body.Data.UserID != f.member {
			t.Fatalf("request %d = %s", i, got[i].body)
		}
	}
	if err := verify(ep.Secret, got[0].header, append(got[0].body, ' '), time.Now()); err == nil {
		t.Fatal("a changed body verifies")
	}
	if err := verify(ep.Secret, got[0].header, got[0].body, time.Now().Add(10*time.Minute)); err == nil {
		t.Fatal("an old timestamp verifies")
	}
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the payment endpoint got %d requests", n)
	}
	ds, _, err := f.hooks.Deliveries(ctx, f.managerP(), ep.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Status != webhooks.DeliverySucceeded || ds[0].ResponseCode != http.StatusNoContent || ds[0].Attempts != 1 {
		t.Fatalf("deliveries = %+v", ds)
	}

	// A redelivery sends the same id and body again, freshly signed.
	if _, err := f.hooks.Redeliver(ctx, f.managerP(), ep.ID, ds[1].ID); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jobs.River(), "relais.webhook_deliver", 3)
	got = rcv.requests()
	if len(got) != 3 || got[2].header.Get("webhook-id") != ds[1].EventID {
		t.Fatalf("redelivery: %d requests, last %s", len(got), got[len(got)-1].body)
	}
	first := got[0]
	if first.header.Get("webhook-id") != ds[1].EventID {
		first = got[1]
	}
	if string(got[2].body) != string(first.body) {
		t.Fatalf("redelivered %s, first sent %s", got[2].body, first.body)
	}
	if err := verify(ep.Secret, got[2].header, got[2].body, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestFailingEndpointIsDisabled: a receiver answering 500 is retried;
// once every attempt has failed for the failure window the endpoint is
// disabled and the site's managers mailed; enabling it again works.
func TestFailingEndpointIsDisabled(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	rcv := newReceiver(t, func() int { return http.StatusInternalServerError })
	ep, err := f.hooks.Create(ctx, f.managerP(), webhooks.NewEndpoint{SiteID: f.site.ID, URL: rcv.URL, Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	f.book(t)
	// The first attempt fails; the clock then jumps past the window, and
	// the retry (River schedules it within seconds) disables the endpoint.
	// Wait for the first failure to be recorded, not merely received: the
	// clock must move after the worker has written when failing began,
	// or the retry would find itself still inside the window.
	deadline := time.Now().Add(jobstest.Within)
	for time.Now().Before(deadline) {
		e, err := f.hooks.Get(ctx, f.managerP(), ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if e.FailingSince != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.now.advance(webhooks.DefaultFailureWindow + time.Minute)
	jobstest.WaitCompleted(t, f.jobs.River(), "relais.webhook_deliver", 1)
	if n := len(rcv.requests()); n != 2 {
		t.Fatalf("received %d attempts, want 2", n)
	}
	got, err := f.hooks.Get(ctx, f.managerP(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || got.DisabledReason == "" {
		t.Fatalf("endpoint = %+v, want disabled", got)
	}
	ds, _, _ := f.hooks.Deliveries(ctx, f.managerP(), ep.ID, "", 10)
	if len(ds) != 1 || ds[0].Status != webhooks.DeliveryFailed || ds[0].Attempts != 2 || ds[0].ResponseCode != 500 || ds[0].ResponseBody != "thanks" {
		t.Fatalf("deliveries = %+v", ds)
	}
	f.mail.mu.Lock()
	mails := append([]mail.Message(nil), f.mail.got...)
	f.mail.mu.Unlock()
	if len(mails) != 1 || mails[0].To != "marc@example.fr" || !strings.Contains(mails[0].Body, ep.ID) {
		t.Fatalf("mails = %+v", mails)
	}
	// A disabled endpoint is not redelivered to until enabled again.
	if _, err := f.hooks.Redeliver(ctx, f.managerP(), ep.ID, ds[0].ID); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("redeliver to a disabled endpoint: %v", err)
	}
	on := true
	if got, err = f.hooks.Update(ctx, f.managerP(), ep.ID, webhooks.Patch{Enabled: &on}); err != nil || !got.Enabled || got.FailingSince != nil {
		t.Fatalf("enable: %+v, %v", got, err)
	}
}

// TestEndpointRules: who may register and see endpoints, and what a URL
// may be.
func TestEndpointRules(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	in := webhooks.NewEndpoint{SiteID: f.site.ID, URL: "http://127.0.0.1:9/hook", Events: []string{"reservation.created"}}
	for name, p := range map[string]*identity.Principal{
		"member": {UserID: f.member}, "manager elsewhere": identitytest.Manager("elsewhere"),
		"key": identitytest.Key(f.site.ID, identity.KnownScopes...),
	} {
		if _, err := f.hooks.Create(ctx, p, in); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s: create = %v, want forbidden", name, err)
		}
	}
	if _, err := f.hooks.Create(ctx, f.managerP(), webhooks.NewEndpoint{URL: in.URL, Events: in.Events}); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("manager creates a network-wide endpoint: %v", err)
	}
	ep, err := f.hooks.Create(ctx, f.managerP(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.hooks.Get(ctx, identitytest.Manager("elsewhere"), ep.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("manager elsewhere reads: %v, want not found", err)
	}
	for _, bad := range []webhooks.NewEndpoint{
		{SiteID: f.site.ID, URL: "http://127.0.0.1/", Events: []string{"nope"}},
		{SiteID: f.site.ID, URL: "http://127.0.0.1/", Events: nil},
	} {
		var ve *errs.ValidationError
		if _, err := f.hooks.Create(ctx, f.managerP(), bad); !errors.As(err, &ve) || ve.Fields[0].Field != "events" {
			t.Errorf("create %+v = %v, want invalid events", bad, err)
		}
	}
	strict := webhooks.New(f.db, webhooks.Config{Jobs: jobstest.Queue(t, f.db), Managers: identitytest.Accounts(t, f.db, jobstest.Queue(t, f.db)), Mail: f.mail})
	var ve *errs.ValidationError
	if _, err := strict.Create(ctx, f.managerP(), in); !errors.As(err, &ve) || ve.Fields[0].Field != "url" {
		t.Errorf("private URL in production: %v, want invalid url", err)
	}
}
