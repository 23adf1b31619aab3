package closings_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/invoicing"
)

const siren = "732829320"

var paris, _ = time.LoadLocation("Europe/Paris")

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func at(y, m, d, h int) time.Time    { return time.Date(y, time.Month(m), d, h, 0, 0, 0, paris) }
func day(t time.Time) string         { return t.In(paris).Format("2006-01-02") }
func sum(s string) string            { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

// must panics on an error: setup steps of tests, which then fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

type env struct {
	db    *bun.DB
	iv    *invoicing.Invoicer
	svc   *closings.Service
	cal   *calendar.Service
	clock *testClock
	site  *calendar.Site
	user  string
	docs  []*invoicing.Invoice // every document issued, in order
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	clock := &testClock{t: at(2026, 12, 1, 9)}
	queue := jobstest.Queue(t, d)
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Now: clock.Now, Jobs: queue, Accounts: identitytest.Accounts(t, d, queue)})
	site := must(cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique du Bourg", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}}))
	iv := invoicing.NewInvoicer(d, clock.Now)
	e := &env{db: d, iv: iv, clock: clock, site: site, user: id.New(), cal: cal,
		svc: closings.New(d, closings.Config{Now: clock.Now, Invoices: iv})}
	now := time.Now().UTC()
	if _, err := d.ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
		VALUES (?, 'jeanne@example.fr', 'Jeanne Dupré', 'x', 'member', ?, ?)`, e.user, now, now); err != nil {
		t.Fatal(err)
	}
	return e
}

// sell issues, at instant when, an invoice of one line (price TTC, rate)
// paid by method, and records its payment.
func (e *env) sell(t testing.TB, when time.Time, cents int64, rate int, method string) *invoicing.Invoice {
	t.Helper()
	e.clock.Set(when)
	inv := must(e.iv.Issue(context.Background(), e.db, invoicing.InvoiceInput{
		SiteID: e.site.ID, ServiceFrom: day(when),
		Buyer: invoicing.Buyer{UserID: e.user, Name: "Jeanne Dupré", Email: "jeanne@example.fr",
			Address: calendar.Address{Line1: "12 rue des Écoles", PostalCode: "23000", City: "Guéret", Country: "FR"}},
		Lines:   []invoicing.InvoiceLineInput{{Description: "Pass journée", QuantityMilli: 1000, UnitPriceCents: cents, PriceIncludesVAT: true, VATRateBP: rate}},
		Payment: &invoicing.InvoicePayment{PaidAt: when, Method: method},
	}))
	if _, err := e.db.ExecContext(context.Background(), `INSERT INTO payments (id, user_id, site_id, purpose, amount_cents, method, provider, status,
		invoice_id, created_at, paid_at, updated_at) VALUES (?, ?, ?, 'day_pass', ?, ?, 'onsite', 'succeeded', ?, ?, ?, ?)`,
		id.New(), e.user, e.site.ID, cents, method, inv.ID, when.UTC(), when.UTC(), when.UTC()); err != nil {
		t.Fatal(err)
	}
	e.docs = append(e.docs, inv)
	return inv
}

func (e *env) refund(t testing.TB, when time.Time, inv *invoicing.Invoice, cents int64) {
	t.Helper()
	e.clock.Set(when)
	cn := must(e.iv.IssueCreditNote(context.Background(), e.db, inv.ID, invoicing.CreditNoteInput{AmountCents: cents, Reason: "Erreur de caisse",
		Refund: &invoicing.InvoicePayment{PaidAt: when, Method: inv.PaymentMethod}}))
	e.docs = append(e.docs, cn)
}

// expected recomputes a period's figures from the documents the test
// issued, without the package's code.
type expected struct {
	invoices, creditNotes, payments int64
	ht, vat, ttc, grand             int64
	methods                         map[string]int64
	rates                           map[int][3]int64
}

func (e *env) expect(from, to time.Time) expected {
	x := expected{methods: map[string]int64{}, rates: map[int][3]int64{}}
	for _, d := range e.docs {
		if !d.IssuedAt.Before(to) {
			continue
		}
		x.grand += d.TotalTTCCents
		if d.IssuedAt.Before(from) {
			continue
		}
		if d.Kind == invoicing.KindCreditNote {
			x.creditNotes++
		} else {
			x.invoices++
			x.payments++
		}
		x.ht, x.vat, x.ttc = x.ht+d.TotalHTCents, x.vat+d.TotalVATCents, x.ttc+d.TotalTTCCents
		x.methods[d.PaymentMethod] += d.TotalTTCCents
		for _, r := range d.VATBreakdown {
			v := x.rates[r.RateBP]
			x.rates[r.RateBP] = [3]int64{v[0] + r.HTCents, v[1] + r.VATCents, v[2] + r.TTCCents}
		}
	}
	return x
}

func check(t *testing.T, c closings.Closing, x expected) {
	t.Helper()
	if c.InvoicesCount != x.invoices || c.CreditNotesCount != x.creditNotes || c.PaymentsCount != x.payments {
		t.Errorf("%s: counts %d/%d/%d, want %d/%d/%d", c.Period, c.InvoicesCount, c.CreditNotesCount, c.PaymentsCount, x.invoices, x.creditNotes, x.payments)
	}
	if c.TotalHTCents != x.ht || c.TotalVATCents != x.vat || c.TotalTTCCents != x.ttc || c.GrandTotalCents != x.grand {
		t.Errorf("%s: totals %d+%d=%d grand %d, want %d+%d=%d grand %d", c.Period, c.TotalHTCents, c.TotalVATCents, c.TotalTTCCents,
			c.GrandTotalCents, x.ht, x.vat, x.ttc, x.grand)
	}
	got := map[string]int64{}
	for _, m := range c.ByMethod {
		got[m.Method] = m.TTCCents
	}
	if fmt.Sprint(got) != fmt.Sprint(x.methods) {
		t.Errorf("%s: by method %v, want %v", c.Period, got, x.methods)
	}
	rates := map[int][3]int64{}
	for _, r := range c.ByRate {
		rates[r.RateBP] = [3]int64{r.HTCents, r.VATCents, r.TTCCents}
	}
	if fmt.Sprint(rates) != fmt.Sprint(x.rates) {
		t.Errorf("%s: by rate %v, want %v", c.Period, rates, x.rates)
	}
}

// checkChain: each closing's previous footprint is its predecessor's, and
// its footprint is the SHA-256 of that followed by its canonical text.
func checkChain(t *testing.T, d *bun.DB, kind string) []closings.Closing {
	t.Helper()
	var cs []closings.Closing
	if err := d.NewSelect().Model(&cs).Where("entity_key = ? AND kind = ?", siren, kind).Order("chain_index").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, c := range cs {
		if c.ChainIndex != int64(i+1) || c.PrevHash != prev || c.Hash != sum(prev+c.Canonical) {
			t.Fatalf("%s %s: index %d prev %q hash %q, want index %d prev %q", kind, c.Period, c.ChainIndex, c.PrevHash, c.Hash, i+1, prev)
		}
		prev = c.Hash
	}
	return cs
}

func TestDailyClosingsTotalsAndChain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inv := e.sell(t, at(2026, 12, 2, 10), 2500, 2000, invoicing.MethodCash)
	e.sell(t, at(2026, 12, 2, 23), 1055, 550, invoicing.MethodCheque) // 23:00 Paris is still the 2nd
	e.sell(t, at(2026, 12, 4, 0), 30000, 2000, invoicing.MethodCard)  // local midnight: the 4th
	e.refund(t, at(2026, 12, 4, 15), inv, 1000)
	e.sell(t, at(2026, 12, 4, 16), 1200, 1000, invoicing.MethodCash)
	e.clock.Set(at(2026, 12, 5, 8))

	last := must(e.svc.Close(ctx, siren, "2026-12-04", id.New()))
	if last.Period != "2026-12-04" {
		t.Fatalf("closed %s", last.Period)
	}
	cs := checkChain(t, e.db, closings.KindDay)
	if len(cs) != 3 || cs[0].Period != "2026-12-02" || cs[1].Period != "2026-12-03" {
		t.Fatalf("closings %v: want the 2nd (first sale) to the 4th, in order", len(cs))
	}
	for _, c := range cs {
		from, to := c.PeriodStart, c.PeriodEnd
		if !from.Equal(at(2026, 12, cs[0].PeriodStart.In(paris).Day(), 0)) && c.ChainIndex == 1 {
			t.Errorf("first period starts %v", from)
		}
		check(t, c, e.expect(from, to))
	}
	// Closing again returns the same closing, and writes nothing.
	again := must(e.svc.Close(ctx, siren, "2026-12-03", ""))
	if again.ID != cs[1].ID {
		t.Fatalf("a closed day closed again: %s, want %s", again.ID, cs[1].ID)
	}
}

func TestClosingRefusesADayNotOver(t *testing.T) {
	e := newEnv(t)
	e.sell(t, at(2026, 12, 2, 10), 2500, 2000, invoicing.MethodCash)
	for _, tc := range []struct{ period, code string }{
		{"2026-12-02", "period_not_over"}, // today
		{"2026-12", "period_not_over"},
		{"2026", "period_not_over"},
		{"2026-12-31", "period_not_over"},
	} {
		_, err := e.svc.Close(context.Background(), siren, tc.period, "")
		var p *errs.Problem
		if !errors.As(err, &p) || p.Code != tc.code || !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("close %s: %v, want %s", tc.period, err, tc.code)
		}
	}
	// The sweep closes nothing before the first sale either.
	if _, err := e.svc.CloseDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e.db.NewRaw("SELECT COUNT(*) FROM closings").Scan(context.Background(), &n); err != nil || n != 0 {
		t.Fatalf("closings written: %d (%v)", n, err)
	}
	var ve *errs.ValidationError
	if _, err := e.svc.Close(context.Background(), siren, "12/2026", ""); !errors.As(err, &ve) {
		t.Fatalf("a malformed period: %v", err)
	}
}

func TestClosingsAndJournalAreAppendOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.sell(t, at(2026, 12, 2, 10), 2500, 2000, invoicing.MethodCash)
	e.clock.Set(at(2026, 12, 3, 1))
	c := must(e.svc.Close(ctx, siren, "2026-12-02", ""))
	for _, q := range []string{
		"UPDATE closings SET total_ttc_cents = 0, total_ht_cents = 0, total_vat_cents = 0 WHERE id = '" + c.ID + "'",
		"UPDATE closings SET grand_total_cents = grand_total_cents + 1",
		"DELETE FROM closings",
		"UPDATE journal_events SET actor_id = 'someone'",
		"DELETE FROM journal_events",
	} {
		if _, err := e.db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", q, err)
		}
	}
	got := must(e.svc.Close(ctx, siren, "2026-12-02", ""))
	if got.Hash != c.Hash || got.TotalTTCCents != 2500 {
		t.Fatalf("closing changed: %+v", got)
	}
}

// Two replicas' jobs (two services over one database) sweeping at once
// close each period exactly once.
func TestConcurrentSweepsCloseEachPeriodOnce(t *testing.T) {
	e := newEnv(t)
	for d := 1; d <= 20; d++ {
		e.sell(t, at(2026, 11, d, 11), int64(1000+d), 2000, invoicing.MethodCard)
	}
	e.clock.Set(at(2027, 1, 1, 0).Add(5 * time.Minute))
	replicas := []*closings.Service{e.svc, closings.New(e.db, closings.Config{Now: e.clock.Now, Invoices: e.iv})}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(s *closings.Service) {
			defer wg.Done()
			_, err := s.CloseDue(context.Background())
			errc <- err
		}(replicas[i%2])
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	var rows []struct {
		Kind   string `bun:"kind"`
		Period string `bun:"period"`
		N      int    `bun:"n"`
	}
	if err := e.db.NewRaw("SELECT kind, period, COUNT(*) AS n FROM closings GROUP BY kind, period").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range rows {
		if r.N != 1 {
			t.Errorf("%s %s closed %d times", r.Kind, r.Period, r.N)
		}
		counts[r.Kind]++
	}
	// 1 Nov to 31 Dec: 61 days, 2 months, 1 year.
	if counts["day"] != 61 || counts["month"] != 2 || counts["year"] != 1 {
		t.Fatalf("closings per kind %v", counts)
	}
	for _, k := range closings.Kinds {
		checkChain(t, e.db, k)
	}
}

func TestGrandTotalRunsAcrossYears(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first := e.sell(t, at(2026, 12, 31, 22), 2500, 2000, invoicing.MethodCash)
	e.sell(t, at(2027, 1, 1, 0), 4000, 2000, invoicing.MethodCard)
	e.refund(t, at(2027, 1, 2, 9), first, 500)
	e.clock.Set(at(2028, 1, 1, 1))
	if _, err := e.svc.CloseDue(ctx); err != nil {
		t.Fatal(err)
	}
	years := checkChain(t, e.db, closings.KindYear)
	if len(years) != 2 || years[0].Period != "2026" || years[1].Period != "2027" {
		t.Fatalf("%d yearly closings", len(years))
	}
	check(t, years[0], e.expect(at(2026, 1, 1, 0), at(2027, 1, 1, 0)))
	check(t, years[1], e.expect(at(2027, 1, 1, 0), at(2028, 1, 1, 0)))
	if years[1].GrandTotalCents != 2500+4000-500 {
		t.Fatalf("grand total %d", years[1].GrandTotalCents)
	}
	days := checkChain(t, e.db, closings.KindDay)
	if lastDay := days[len(days)-1]; lastDay.Period != "2027-12-31" || lastDay.GrandTotalCents != years[1].GrandTotalCents {
		t.Fatalf("last day %s grand total %d, want the year's %d", lastDay.Period, lastDay.GrandTotalCents, years[1].GrandTotalCents)
	}
	months := checkChain(t, e.db, closings.KindMonth)
	for _, m := range months {
		check(t, m, e.expect(m.PeriodStart, m.PeriodEnd))
	}
}

func TestArchiveVerifiesAndNamesTheTamperedFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inv := e.sell(t, at(2026, 11, 3, 10), 2500, 2000, invoicing.MethodCash)
	e.refund(t, at(2026, 11, 4, 10), inv, 2500)
	e.sell(t, at(2026, 11, 30, 18), 9900, 2000, invoicing.MethodCheque)
	e.clock.Set(at(2026, 11, 30, 20))
	admin := &identity.Principal{UserID: id.New(), Role: identity.RoleAdmin}
	ent := must(e.svc.EntityFor(ctx, admin, siren))
	if _, err := ent.Archive(ctx, "2026-11"); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("archive of a month not closed: %v, want a conflict", err)
	}
	e.clock.Set(at(2026, 12, 1, 0).Add(time.Minute))
	if _, err := e.svc.CloseDue(ctx); err != nil {
		t.Fatal(err)
	}
	archive := must(ent.Archive(ctx, "2026-11"))
	m, err := closings.VerifyArchive(archive, nil)
	if err != nil {
		t.Fatalf("fresh archive: %v", err)
	}
	names := map[string]bool{}
	for _, f := range m.Files {
		names[f.Name] = true
	}
	for _, want := range []string{"invoices/" + inv.Number + ".json", "invoices/" + inv.Number + ".pdf", "credit_notes/" + e.docs[1].Number + ".pdf",
		"payments.json", "closings.json", "journal.json"} {
		if !names[want] {
			t.Errorf("manifest lacks %s: %v", want, names)
		}
	}
	// The server's own key verifies it.
	pub := must(closings.ParsePublicKey(must(e.svc.PublicKeyPEM(ctx))))
	if _, err := closings.VerifyArchive(archive, pub); err != nil {
		t.Fatalf("with the served key: %v", err)
	}
	for _, name := range []string{"invoices/" + inv.Number + ".json", "payments.json", "closings.json"} {
		tampered := rewrite(t, archive, func(n string, b []byte) []byte {
			if n == name {
				b[len(b)/2] ^= 1
			}
			return b
		})
		var ve *closings.VerifyError
		if _, err := closings.VerifyArchive(tampered, nil); !errors.As(err, &ve) || ve.File != name {
			t.Errorf("one byte of %s changed: %v, want that file named", name, err)
		}
	}
	// A manifest re-signed with another key: fails against the served key,
	// and the signature names manifest.sig.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	resigned := rewrite(t, archive, func(n string, b []byte) []byte {
		if n == closings.SignatureName {
			return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(other, fileOf(t, archive, closings.ManifestName))))
		}
		return b
	})
	var ve *closings.VerifyError
	if _, err := closings.VerifyArchive(resigned, pub); !errors.As(err, &ve) || ve.File != closings.SignatureName {
		t.Fatalf("signed with another key: %v", err)
	}
}

// rewrite copies a ZIP, passing each file through f.
func rewrite(t *testing.T, data []byte, f func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr := must(zip.NewReader(bytes.NewReader(data), int64(len(data))))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		b := fileOf(t, data, zf.Name)
		w := must(zw.Create(zf.Name))
		if _, err := w.Write(f(zf.Name, b)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func fileOf(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr := must(zip.NewReader(bytes.NewReader(data), int64(len(data))))
	rc := must(zr.Open(name))
	defer rc.Close()
	return must(io.ReadAll(rc))
}

// failAfter accepts n bytes, then fails as a client gone away does.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		n := f.n
		f.n = 0
		return n, errors.New("connection reset")
	}
	f.n -= len(p)
	return len(p), nil
}

// An archive is written as it is built: a client that goes away half way
// stops it with an error, and what it got does not verify; the same
// archive written whole does.
func TestArchiveStreamStopsWhenTheClientGoes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for d := 2; d < 6; d++ {
		e.sell(t, at(2026, 11, d, 10), 2500, 2000, invoicing.MethodCash)
	}
	e.clock.Set(at(2026, 12, 1, 0).Add(time.Minute))
	if _, err := e.svc.CloseDue(ctx); err != nil {
		t.Fatal(err)
	}
	admin := &identity.Principal{UserID: id.New(), Role: identity.RoleAdmin}
	ent := must(e.svc.EntityFor(ctx, admin, siren))
	whole := must(ent.Archive(ctx, "2026-11"))
	if _, err := closings.VerifyArchive(whole, nil); err != nil {
		t.Fatalf("whole archive: %v", err)
	}
	a := must(ent.OpenArchive(ctx, "2026-11"))
	w := &failAfter{n: len(whole) / 2}
	var got bytes.Buffer
	if err := a.Write(ctx, io.MultiWriter(w, &got)); err == nil {
		t.Fatal("writing to a client gone half way: no error")
	}
	if _, err := closings.VerifyArchive(got.Bytes(), nil); err == nil {
		t.Fatal("half an archive verifies")
	}
}
