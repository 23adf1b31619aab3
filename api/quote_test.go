package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/db"
)

type quoteDoc struct {
	Bookable bool            `json:"bookable"`
	Refusal  json.RawMessage `json:"refusal"`
	Start    time.Time       `json:"start"`
	End      time.Time       `json:"end"`
	Price    *struct {
		CoveredBy           string `json:"covered_by"`
		IncludedMinutesUsed int    `json:"included_minutes_used"`
		IncludedMinutesLeft *int   `json:"included_minutes_left"`
		CreditMinutesUsed   int64  `json:"credit_minutes_used"`
		CreditCentsUsed     int64  `json:"credit_cents_used"`
		AmountCents         int64  `json:"amount_cents"`
		Currency            string `json:"currency"`
		VATRateBP           int    `json:"vat_rate_bp"`
	} `json:"price"`
	CancellationDeadline time.Time `json:"cancellation_deadline"`
}

type cancellationDoc struct {
	Status   string          `json:"status"`
	Allowed  bool            `json:"allowed"`
	Refusal  json.RawMessage `json:"refusal"`
	Deadline time.Time       `json:"deadline"`
	Late     bool            `json:"late"`
	Refund   *struct {
		IncludedMinutesReturned int   `json:"included_minutes_returned"`
		ChargeVoidedCents       int64 `json:"charge_voided_cents"`
		ChargeKeptCents         int64 `json:"charge_kept_cents"`
		CreditReturnedPercent   int   `json:"credit_returned_percent"`
	} `json:"refund"`
}

func (f *calendarFixture) quote(t testing.TB, token string, body map[string]any, headers map[string]string) quoteDoc {
	t.Helper()
	var q quoteDoc
	f.h.do(req{method: "POST", path: "/v1/reservations/quote", token: token, body: body, headers: headers}).expect(t, http.StatusOK).decode(t, &q)
	return q
}

// charged is what billing recorded for a reservation: included minutes
// taken and the pay-per-use charge, read from its tables.
func (f *calendarFixture) charged(t testing.TB, reservationID string) (minutes int, cents int64, vatBP int) {
	t.Helper()
	ctx := context.Background()
	if err := f.h.db.NewRaw("SELECT COALESCE(SUM(minutes), 0) FROM allowance_uses WHERE reservation_id = ? AND released_at IS NULL", reservationID).Scan(ctx, &minutes); err != nil {
		t.Fatal(err)
	}
	var charges []struct {
		AmountCents int64 `bun:"amount_cents"`
		VATRateBP   int   `bun:"vat_rate_bp"`
	}
	if err := f.h.db.NewRaw("SELECT amount_cents, vat_rate_bp FROM usage_charges WHERE reservation_id = ? AND status <> 'void'", reservationID).Scan(ctx, &charges); err != nil {
		t.Fatal(err)
	}
	for _, c := range charges {
		cents, vatBP = cents+c.AmountCents, c.VATRateBP
	}
	return minutes, cents, vatBP
}

// rowCounts counts the rows of every table of the database.
func rowCounts(t testing.TB, f *calendarFixture) map[string]int {
	t.Helper()
	ctx := context.Background()
	var tables []string
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	if db.IsSQLite(f.h.db) {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	}
	if err := f.h.db.NewRaw(q).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, table := range tables {
		var n int
		if err := f.h.db.NewRaw("SELECT COUNT(*) FROM "+`"`+table+`"`).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	// The counters the availability cache reads: a rolled-back booking
	// bumps none of them.
	var seq int64
	if err := f.h.db.NewRaw("SELECT COALESCE(SUM(booking_seq), 0) + COALESCE(SUM(version), 0) FROM resources").Scan(ctx, &seq); err != nil {
		t.Fatal(err)
	}
	out["resources.booking_seq+version"] = int(seq)
	return out
}

// The quote of a booking is what the booking then does: for each way a
// booking is paid for, quote, book the same body at once, and compare
// the quote with what billing recorded and the credit spent.
func TestQuoteMatchesBooking(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	// The room has a price for the cases that pay for it.
	h.do(req{method: "PATCH", path: "/v1/resources/" + f.room, token: f.manager, body: map[string]any{"price_per_hour_cents": 2400}}).expect(t, http.StatusOK)
	grant := func(userID, unit, kind string, amount int64) {
		body := map[string]any{"site_id": f.site, "action": "grant", "unit": unit, "amount": amount, "reason": "bénévolat"}
		if kind != "" {
			body["resource_kind"] = kind
		}
		h.do(req{method: "POST", path: "/v1/users/" + userID + "/credits", token: f.manager, body: body}).expect(t, http.StatusCreated)
	}
	left := func(n int) *int { return &n }
	i := 0

	for _, tt := range []struct {
		name string
		// setup gives the member what pays, and may book before.
		setup             func(userID, token string)
		resource          string
		start, end        string
		manager           bool // a manager's block
		coveredBy         string
		includedUsed      int
		includedLeft      *int
		creditMinutes     int64
		creditCents       int64
		amountCents       int64
		vatBP             int
		wantCreditsMoving bool
	}{
		{name: "the plan includes the kind",
			setup: func(id, _ string) {
				f.membership(t, id, map[string]any{"resource_kinds": []string{"desk"}})
			},
			resource: f.desk, start: f.at(3, 9, 0), end: f.at(3, 10, 0), coveredBy: "plan"},
		{name: "included minutes partly used",
			setup: func(id, token string) {
				f.membership(t, id, map[string]any{"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 600}}})
				f.book(token, f.room, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated)
			},
			resource: f.room, start: f.at(5, 9, 0), end: f.at(5, 10, 30), coveredBy: "included_minutes", includedUsed: 90, includedLeft: left(450)},
		{name: "the last included minutes, then money credit",
			setup: func(id, token string) {
				f.membership(t, id, map[string]any{"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 90}}})
				f.book(token, f.room, f.at(4, 11, 0), f.at(4, 12, 0)).expect(t, http.StatusCreated)
				grant(id, "cents", "", 5000)
			},
			resource: f.room, start: f.at(5, 11, 0), end: f.at(5, 12, 0), coveredBy: "credits", includedUsed: 30, includedLeft: left(0),
			creditCents: 1200, vatBP: 2000, wantCreditsMoving: true},
		{name: "hour credit",
			setup: func(id, _ string) {
				grant(id, "minutes", "desk", 120)
			},
			resource: f.desk, start: f.at(3, 11, 0), end: f.at(3, 12, 0), coveredBy: "credits", creditMinutes: 60, wantCreditsMoving: true},
		{name: "money credit",
			setup: func(id, _ string) {
				grant(id, "cents", "", 1000)
			},
			resource: f.desk, start: f.at(3, 13, 0), end: f.at(3, 14, 30), coveredBy: "credits", creditCents: 750, vatBP: 2000, wantCreditsMoving: true},
		{name: "pay-per-use",
			setup: func(id, _ string) {
				f.membership(t, id, map[string]any{"resource_kinds": []string{"zone"}, "pay_per_use": true})
			},
			resource: f.room, start: f.at(6, 9, 0), end: f.at(6, 10, 15), coveredBy: "payment", amountCents: 3000, vatBP: 2000},
		{name: "a resource without a price, in the plan",
			setup: func(id, _ string) {
				f.membership(t, id, map[string]any{"resource_kinds": []string{"zone"}})
			},
			resource: f.zone, start: f.at(3, 9, 0), end: f.at(3, 17, 0), coveredBy: "plan"},
		{name: "a manager's block is free",
			resource: f.zone, start: f.at(9, 9, 0), end: f.at(9, 12, 0), manager: true, coveredBy: "free"},
	} {
		i++
		email := fmt.Sprintf("member%d@example.fr", i)
		t.Run(tt.name, func(t *testing.T) {
			userID, token, _ := h.member(email)
			if tt.setup != nil {
				tt.setup(userID, token)
			}
			body := map[string]any{"resource_id": tt.resource, "start": tt.start, "end": tt.end}
			if tt.manager {
				token = f.manager
				body["kind"] = "block"
			}
			creditsBefore := f.credits(t, token)
			before := rowCounts(t, f)
			q := f.quote(t, token, body, nil)
			if after := rowCounts(t, f); !reflect.DeepEqual(before, after) {
				t.Fatalf("the quote changed the database: %v, then %v", before, after)
			}
			if !q.Bookable || q.Refusal != nil && string(q.Refusal) != "null" || q.Price == nil {
				t.Fatalf("quote = %+v (refusal %s)", q, q.Refusal)
			}
			p := q.Price
			if p.CoveredBy != tt.coveredBy || p.IncludedMinutesUsed != tt.includedUsed || !reflect.DeepEqual(p.IncludedMinutesLeft, tt.includedLeft) ||
				p.CreditMinutesUsed != tt.creditMinutes || p.CreditCentsUsed != tt.creditCents || p.AmountCents != tt.amountCents ||
				p.VATRateBP != tt.vatBP || p.Currency != "EUR" {
				t.Fatalf("price = %+v (included left %v), want %+v", *p, p.IncludedMinutesLeft, tt)
			}

			// Book the same body now: it does what the quote said.
			var rv struct {
				ID         string
				Start, End time.Time
			}
			h.do(req{method: "POST", path: "/v1/reservations", token: token, body: body}).expect(t, http.StatusCreated).decode(t, &rv)
			if !rv.Start.Equal(q.Start) || !rv.End.Equal(q.End) {
				t.Fatalf("booked %v–%v, quoted %v–%v", rv.Start, rv.End, q.Start, q.End)
			}
			minutes, cents, vat := f.charged(t, rv.ID)
			if minutes != p.IncludedMinutesUsed || cents != p.AmountCents || (cents > 0 && vat != p.VATRateBP) {
				t.Fatalf("the booking took %d included minutes and charged %d cents at %d, quoted %+v", minutes, cents, vat, *p)
			}
			creditsAfter := f.credits(t, token)
			for unit, quoted := range map[string]int64{"minutes": p.CreditMinutesUsed, "cents": p.CreditCentsUsed} {
				had, _ := creditsBefore.total(unit)
				has, _ := creditsAfter.total(unit)
				if had-has != quoted {
					t.Fatalf("the booking spent %d %s of credit, quoted %d", had-has, unit, quoted)
				}
			}
			if moved := !reflect.DeepEqual(creditsBefore, creditsAfter); moved != tt.wantCreditsMoving {
				t.Fatalf("credit moved: %v, want %v", moved, tt.wantCreditsMoving)
			}
		})
	}
}

// A refused quote carries the very problem document the booking answers,
// in the request's language; a fault of the request is the booking's
// error itself.
func TestQuoteRefusalIsTheBookingsProblem(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	f.membership(t, anneID, map[string]any{"resource_kinds": []string{"desk", "machine"}})
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)

	body := func(resource, start, end string) map[string]any {
		return map[string]any{"resource_id": resource, "start": start, "end": end}
	}
	// problemOf is a problem document without its request id, which is
	// each request's own.
	problemOf := func(raw []byte) map[string]any {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		delete(m, "request_id")
		return m
	}
	for _, tt := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
	}{
		{"no membership", bob, body(f.desk, f.at(3, 11, 0), f.at(3, 12, 0)), http.StatusPaymentRequired, "membership_required"},
		{"outside opening hours", anne, body(f.desk, f.at(3, 19, 0), f.at(3, 21, 0)), http.StatusUnprocessableEntity, "outside_opening_hours"},
		{"not qualified on the machine", anne, body(f.las, f.at(3, 9, 0), f.at(3, 10, 0)), http.StatusUnprocessableEntity, "qualification_required"},
		{"slot taken", anne, body(f.desk, f.at(3, 9, 30), f.at(3, 10, 30)), http.StatusConflict, "slot_taken"},
		{"too far ahead", anne, body(f.desk, "2027-03-03T09:00", "2027-03-03T10:00"), http.StatusUnprocessableEntity, "beyond_horizon"},
		{"in the past", anne, body(f.desk, f.at(1, 9, 0), f.at(1, 10, 0)), http.StatusUnprocessableEntity, "in_the_past"},
		{"the plan does not include rooms", anne, body(f.room, f.at(3, 9, 0), f.at(3, 10, 0)), http.StatusForbidden, "not_in_plan"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, lang := range []string{"fr", "en"} {
				headers := map[string]string{"Accept-Language": lang}
				before := rowCounts(t, f)
				r := h.do(req{method: "POST", path: "/v1/reservations/quote", token: tt.token, body: tt.body, headers: headers}).expect(t, http.StatusOK)
				if after := rowCounts(t, f); !reflect.DeepEqual(before, after) {
					t.Fatalf("the quote changed the database: %v, then %v", before, after)
				}
				if got := r.Header.Get("Content-Language"); got != lang {
					t.Fatalf("Content-Language %q, want %q", got, lang)
				}
				var q quoteDoc
				r.decode(t, &q)
				if q.Bookable || q.Price != nil {
					t.Fatalf("quote = %+v", q)
				}
				booked := h.do(req{method: "POST", path: "/v1/reservations", token: tt.token, body: tt.body, headers: headers}).expect(t, tt.status)
				want := problemOf(booked.Body)
				if got := problemOf(q.Refusal); !reflect.DeepEqual(got, want) {
					t.Fatalf("refusal\n%v\nthe booking's problem\n%v", got, want)
				}
				if want["code"] != tt.code {
					t.Fatalf("code %v, want %s", want["code"], tt.code)
				}
			}
		})
	}

	// Faults of the request are the booking's own errors, not refusals.
	for _, tt := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
	}{
		{"unreadable time", anne, body(f.desk, "tomorrow", f.at(3, 10, 0)), http.StatusUnprocessableEntity},
		{"unknown resource", anne, body("0192f1a4-7c3e-7b1a-9c55-2f4e8d6a1b20", f.at(3, 9, 0), f.at(3, 10, 0)), http.StatusUnprocessableEntity},
		{"end before start", anne, body(f.desk, f.at(3, 10, 0), f.at(3, 9, 0)), http.StatusUnprocessableEntity},
		{"no resource", anne, map[string]any{"start": f.at(3, 9, 0), "end": f.at(3, 10, 0)}, http.StatusUnprocessableEntity},
		{"a member quoting for another", bob, map[string]any{"resource_id": f.desk, "start": f.at(3, 11, 0), "end": f.at(3, 12, 0), "user_id": anneID}, http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			quoted := h.do(req{method: "POST", path: "/v1/reservations/quote", token: tt.token, body: tt.body}).expect(t, tt.status)
			booked := h.do(req{method: "POST", path: "/v1/reservations", token: tt.token, body: tt.body}).expect(t, tt.status)
			if got, want := problemOf(quoted.Body), problemOf(booked.Body); !reflect.DeepEqual(got, want) {
				t.Fatalf("quote's problem\n%v\nthe booking's\n%v", got, want)
			}
		})
	}

	// A manager quotes for a member, as they book for one.
	q := f.quote(t, f.manager, map[string]any{"resource_id": f.desk, "start": f.at(3, 11, 0), "end": f.at(3, 12, 0), "user_id": anneID}, nil)
	if !q.Bookable || q.Price == nil || q.Price.CoveredBy != "plan" {
		t.Fatalf("manager's quote for anne = %+v", q)
	}
	q = f.quote(t, f.manager, map[string]any{"resource_id": f.desk, "start": f.at(3, 11, 0), "end": f.at(3, 12, 0), "user_id": bobID}, nil)
	if q.Bookable || !json.Valid(q.Refusal) || problemOf(q.Refusal)["code"] != "membership_required" {
		t.Fatalf("manager's quote for bob = %+v", q)
	}
}

// The quote of a cancellation says what cancelling then does.
func TestCancellationQuote(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	// Rooms: 600 included minutes a month; desks charged per use. The desk
	// is cancelled late less than 2 hours before its start.
	f.membership(t, anneID, map[string]any{"resource_kinds": []string{"zone"}, "pay_per_use": true,
		"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 600}}})
	h.do(req{method: "PATCH", path: "/v1/resources/" + f.desk, token: f.manager,
		body: map[string]any{"rules": map[string]any{"cancel_deadline_minutes": 120, "late_cancel_refund_percent": 50}}}).expect(t, http.StatusOK)
	var room, desk, later struct{ ID string }
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 30)).expect(t, http.StatusCreated).decode(t, &room)
	f.book(anne, f.desk, f.at(2, 9, 0), f.at(2, 10, 0)).expect(t, http.StatusCreated).decode(t, &desk)
	f.book(anne, f.desk, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated).decode(t, &later)
	quote := func(token, id string) cancellationDoc {
		t.Helper()
		var c cancellationDoc
		h.do(req{method: "GET", path: "/v1/reservations/cancellation/" + id, token: token}).expect(t, http.StatusOK).decode(t, &c)
		return c
	}

	// Before the deadline: the included minutes go back.
	c := quote(anne, room.ID)
	if !c.Allowed || c.Late || c.Refund == nil || c.Refund.IncludedMinutesReturned != 90 || c.Refund.CreditReturnedPercent != 100 ||
		!c.Deadline.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("room's cancellation = %+v", c)
	}
	h.do(req{method: "DELETE", path: "/v1/reservations/" + room.ID, token: anne}).expect(t, http.StatusOK)
	if minutes, _, _ := f.charged(t, room.ID); minutes != 0 {
		t.Fatalf("%d included minutes still taken after cancelling", minutes)
	}
	// Cancelled already: cancelling again changes nothing.
	if c := quote(anne, room.ID); !c.Allowed || c.Status != "cancelled" || c.Refund == nil || *c.Refund != (struct {
		IncludedMinutesReturned int   `json:"included_minutes_returned"`
		ChargeVoidedCents       int64 `json:"charge_voided_cents"`
		ChargeKeptCents         int64 `json:"charge_kept_cents"`
		CreditReturnedPercent   int   `json:"credit_returned_percent"`
	}{}) {
		t.Fatalf("cancelled room's cancellation = %+v", c)
	}

	// Before its deadline, the charge of the later desk is voided.
	c = quote(anne, later.ID)
	if !c.Allowed || c.Late || c.Refund.ChargeVoidedCents != 500 || c.Refund.ChargeKeptCents != 0 {
		t.Fatalf("later desk's cancellation = %+v", c)
	}
	// Past the deadline (07:00 for a 09:00 start, now 07:00 exactly is not
	// past it), the charge stays and half the credit would come back.
	h.clock.Advance(30 * time.Minute)
	anne, _ = h.login("anne@example.fr", password) // access tokens last 15 minutes
	c = quote(anne, desk.ID)
	if !c.Allowed || !c.Late || c.Refund.ChargeVoidedCents != 0 || c.Refund.ChargeKeptCents != 500 || c.Refund.CreditReturnedPercent != 50 {
		t.Fatalf("late desk's cancellation = %+v", c)
	}
	var cancelled struct {
		LateCancel bool `json:"late_cancel"`
	}
	h.do(req{method: "DELETE", path: "/v1/reservations/" + desk.ID, token: anne}).expect(t, http.StatusOK).decode(t, &cancelled)
	if _, cents, _ := f.charged(t, desk.ID); !cancelled.LateCancel || cents != 500 {
		t.Fatalf("late cancellation: late %v, %d cents still owed", cancelled.LateCancel, cents)
	}

	// Over: refused as the cancellation is, with its problem.
	var over struct{ ID string }
	h.clock.Advance(-30 * time.Minute)
	anne, _ = h.login("anne@example.fr", password)
	f.book(anne, f.desk, f.at(2, 11, 0), f.at(2, 12, 0)).expect(t, http.StatusCreated).decode(t, &over)
	h.clock.Advance(6 * time.Hour)
	anne, _ = h.login("anne@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	manager, _ := h.login("manon@example.fr", password)
	c = quote(anne, over.ID)
	refused := h.do(req{method: "DELETE", path: "/v1/reservations/" + over.ID, token: anne}).expect(t, http.StatusUnprocessableEntity)
	var got, want map[string]any
	json.Unmarshal(c.Refusal, &got)
	json.Unmarshal(refused.Body, &want)
	delete(got, "request_id")
	delete(want, "request_id")
	if c.Allowed || c.Refund != nil || !reflect.DeepEqual(got, want) || want["code"] != "already_over" {
		t.Fatalf("over: quote %+v (%v), cancellation's problem %v", c, got, want)
	}

	// Who: as for cancelling.
	h.do(req{method: "GET", path: "/v1/reservations/cancellation/" + later.ID, token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/reservations/cancellation/" + later.ID, token: manager}).expect(t, http.StatusOK)
}

// The quote of a series decides each occurrence as the series does, one
// after the other: the third finds the included minutes used up by the
// first two.
func TestSeriesQuote(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	f.membership(t, anneID, map[string]any{"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 150}}})
	body := map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": f.at(3, 10, 0), "rrule": "FREQ=WEEKLY;COUNT=3"}
	type seriesQuote struct {
		Bookable    bool            `json:"bookable"`
		Refusal     json.RawMessage `json:"refusal"`
		Occurrences []quoteDoc      `json:"occurrences"`
	}
	quote := func(mode string) seriesQuote {
		t.Helper()
		body["mode"] = mode
		before := rowCounts(t, f)
		var q seriesQuote
		h.do(req{method: "POST", path: "/v1/reservations/series/quote", token: anne, body: body, headers: map[string]string{"Accept-Language": "fr"}}).
			expect(t, http.StatusOK).decode(t, &q)
		if after := rowCounts(t, f); !reflect.DeepEqual(before, after) {
			t.Fatalf("the quote changed the database: %v, then %v", before, after)
		}
		if len(q.Occurrences) != 3 {
			t.Fatalf("quote = %+v", q)
		}
		for i, o := range q.Occurrences[:2] {
			if !o.Bookable || o.Price == nil || o.Price.CoveredBy != "included_minutes" || o.Price.IncludedMinutesUsed != 60 ||
				*o.Price.IncludedMinutesLeft != 90-60*i || !o.Start.Equal(time.Date(2026, 3, 3+7*i, 8, 0, 0, 0, time.UTC)) {
				t.Fatalf("occurrence %d = %+v", i, o)
			}
		}
		var refused problemDoc
		if last := q.Occurrences[2]; last.Bookable || last.Price != nil || json.Unmarshal(last.Refusal, &refused) != nil ||
			refused.Code != "included_hours_exhausted" || refused.Status != http.StatusPaymentRequired {
			t.Fatalf("third occurrence = %+v (%s)", last, last.Refusal)
		}
		return q
	}

	// All or nothing: the series is refused, with the series' own problem.
	q := quote("all_or_nothing")
	booked := h.do(req{method: "POST", path: "/v1/reservations/series", token: anne, body: body, headers: map[string]string{"Accept-Language": "fr"}}).
		expect(t, http.StatusConflict)
	var got, want map[string]any
	json.Unmarshal(q.Refusal, &got)
	json.Unmarshal(booked.Body, &want)
	delete(got, "request_id")
	delete(want, "request_id")
	if q.Bookable || !reflect.DeepEqual(got, want) || want["code"] != "occurrences_unavailable" {
		t.Fatalf("series quote %+v (%v), the series' problem %v", q, got, want)
	}

	// Skipping conflicts: bookable, and the series then takes what each
	// occurrence's quote said.
	q = quote("skip_conflicts")
	if !q.Bookable || string(q.Refusal) != "null" {
		t.Fatalf("series quote = %+v", q)
	}
	var out struct {
		Created []struct{ ID string }
		Skipped []struct{ Code string }
	}
	h.do(req{method: "POST", path: "/v1/reservations/series", token: anne, body: body}).expect(t, http.StatusCreated).decode(t, &out)
	if len(out.Created) != 2 || len(out.Skipped) != 1 || out.Skipped[0].Code != "included_hours_exhausted" {
		t.Fatalf("series = %+v", out)
	}
	for i, rv := range out.Created {
		if minutes, cents, _ := f.charged(t, rv.ID); minutes != q.Occurrences[i].Price.IncludedMinutesUsed || cents != 0 {
			t.Fatalf("occurrence %d took %d minutes and %d cents", i, minutes, cents)
		}
	}

	// What the series refuses before any occurrence is its own error.
	body["rrule"] = "FREQ=DAILY"
	p := h.do(req{method: "POST", path: "/v1/reservations/series/quote", token: anne, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "unbounded_rrule" {
		t.Fatalf("problem = %+v", p)
	}
}
