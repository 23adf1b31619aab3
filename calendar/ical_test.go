package calendar_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
)

// day is 10:00 in Paris, d days after the fixture's Monday 2 March 2026.
func (f *fixture) day(d int) time.Time {
	return time.Date(2026, 3, 2+d, 10, 0, 0, 0, f.paris)
}

// clock is the fixture's service as if the time were now: the way to make
// reservations that are in the past today.
func (f *fixture) clock(now time.Time) *calendar.Service {
	return calendar.New(f.db, calendar.Config{Events: events.Discard, Now: func() time.Time { return now }, Jobs: f.jobs, Accounts: f.accounts})
}

// bookAt books res for user over [start, start+1h) with the clock at now.
func (f *fixture) bookAt(t testing.TB, now time.Time, res *calendar.Resource, user string, start time.Time, manager bool) *calendar.Reservation {
	t.Helper()
	r, err := f.clock(now).Book(context.Background(), calendar.Booking{ResourceID: res.ID, UserID: user, By: byAs(user, manager),
		Start: start.Format(time.RFC3339), End: start.Add(time.Hour).Format(time.RFC3339)})
	if err != nil {
		t.Fatalf("book %s at %s: %v", res.Name, start, err)
	}
	return r
}

func (f *fixture) cancelAt(t testing.TB, now time.Time, r *calendar.Reservation) {
	t.Helper()
	if _, err := f.clock(now).Cancel(context.Background(), calendar.Cancellation{ReservationID: r.ID, By: byMember(r.CreatedBy)}); err != nil {
		t.Fatalf("cancel: %v", err)
	}
}

func (f *fixture) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := f.db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// checkLines asserts the physical form RFC 5545 asks for: CRLF line ends
// only, at most 75 octets a line, and folds that never cut a UTF-8 sequence.
func checkLines(t testing.TB, body []byte) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) {
		t.Fatalf("body does not end with CRLF: %q", body[max(len(body)-20, 0):])
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\r\n"), "\r\n")
	for i, line := range lines {
		switch {
		case len(line) > 75:
			t.Fatalf("line %d is %d octets: %q", i+1, len(line), line)
		case strings.ContainsAny(line, "\r\n"):
			t.Fatalf("line %d holds a bare CR or LF: %q", i+1, line)
		case !utf8.ValidString(line):
			t.Fatalf("line %d is not valid UTF-8 (a fold split a character): %q", i+1, line)
		case line == "":
			t.Fatalf("line %d is empty", i+1)
		}
	}
}

func decode(t testing.TB, body []byte) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("decode feed: %v\n%s", err, body)
	}
	return cal
}

func eventsByUID(t testing.TB, cal *ical.Calendar) map[string]ical.Event {
	t.Helper()
	out := map[string]ical.Event{}
	for _, ev := range cal.Events() {
		uid, err := ev.Props.Text(ical.PropUID)
		if err != nil || uid == "" {
			t.Fatalf("event without UID: %v", err)
		}
		if _, dup := out[uid]; dup {
			t.Fatalf("UID %s twice", uid)
		}
		out[uid] = ev
	}
	return out
}

func uids(rs ...*calendar.Reservation) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID + "@relais"
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m map[string]ical.Event) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func text(t testing.TB, ev ical.Event, name string) string {
	t.Helper()
	s, err := ev.Props.Text(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func utcTime(t testing.TB, ev ical.Event, name string) time.Time {
	t.Helper()
	p := ev.Props.Get(name)
	if p == nil {
		t.Fatalf("no %s", name)
	}
	// UTC form only: a TZID would need a VTIMEZONE, which go-ical omits.
	if !strings.HasSuffix(p.Value, "Z") || len(p.Params) != 0 {
		t.Fatalf("%s = %q %v, want a bare UTC date-time", name, p.Value, p.Params)
	}
	v, err := p.DateTime(nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFeedTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	me := f.users[0]
	notFound := func(t *testing.T, token string) {
		t.Helper()
		_, err := f.svc.FeedUser(ctx, token)
		var p *errs.Problem
		if !errors.Is(err, errs.ErrNotFound) || !errors.As(err, &p) || p.Code != "feed_not_found" {
			t.Fatalf("FeedUser(%q) = %v, want feed_not_found", token, err)
		}
	}
	active := func(t *testing.T) []string {
		t.Helper()
		var hashes []string
		if err := f.db.NewSelect().Table("calendar_tokens").Column("token_hash").
			Where("user_id = ? AND revoked_at IS NULL", me).Scan(ctx, &hashes); err != nil {
			t.Fatal(err)
		}
		return hashes
	}

	first, err := f.svc.RotateFeedToken(ctx, byMember(me))
	if err != nil {
		t.Fatal(err)
	}
	if len(first) < 43 { // 256 bits in unpadded base64
		t.Fatalf("token %q is shorter than 256 bits", first)
	}
	if got, err := f.svc.FeedUser(ctx, first); err != nil || got != me {
		t.Fatalf("FeedUser = %q, %v; want %s", got, err, me)
	}
	// Stored hashed only, the way access hashes its tokens.
	if h := active(t); len(h) != 1 || h[0] != sha256Hex(first) {
		t.Fatalf("stored hashes = %v, want [%s]", h, sha256Hex(first))
	}
	n, err := f.db.NewSelect().Table("calendar_tokens").Where("token_hash = ? OR id = ? OR user_id = ?", first, first, first).Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("the clear token is stored (%d rows, %v)", n, err)
	}

	second, err := f.svc.RotateFeedToken(ctx, byMember(me))
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Fatal("rotation returned the same token")
	}
	notFound(t, first)
	if got, err := f.svc.FeedUser(ctx, second); err != nil || got != me {
		t.Fatalf("FeedUser(new) = %q, %v", got, err)
	}
	if h := active(t); len(h) != 1 || h[0] != sha256Hex(second) {
		t.Fatalf("live tokens after rotation = %v, want only the new one", h)
	}

	// Another user's token is theirs and survives my revocation.
	theirs, err := f.svc.RotateFeedToken(ctx, byMember(f.users[1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeFeedTokens(ctx, byMember(me)); err != nil {
		t.Fatal(err)
	}
	notFound(t, second)
	if len(active(t)) != 0 {
		t.Fatal("a token survived revocation")
	}
	if got, err := f.svc.FeedUser(ctx, theirs); err != nil || got != f.users[1] {
		t.Fatalf("other user's token after my revocation: %q, %v", got, err)
	}

	// A disabled account's feed stops, like its sessions.
	f.exec(t, "UPDATE users SET disabled_at = ? WHERE id = ?", f.now, f.users[1])
	notFound(t, theirs)

	for _, token := range []string{"", "nope", strings.Repeat("x", 43), second + "x"} {
		notFound(t, token)
	}
	for _, user := range []string{"", "not-an-id", "01890a5d-ac96-774b-bcce-b302099a8057"} {
		var ve *errs.ValidationError
		if _, err := f.svc.RotateFeedToken(ctx, byMember(user)); !errors.As(err, &ve) {
			t.Fatalf("RotateFeedToken(%q) = %v, want a validation error", user, err)
		}
	}
}

func TestUserFeed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	me, other := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau 1"})

	future := f.bookAt(t, f.now, desk, me, f.day(3), false)
	held := f.bookAt(t, f.now, desk, me, f.day(4), false)
	f.exec(t, "UPDATE reservations SET status = 'held' WHERE id = ?", held.ID)
	ended10 := f.bookAt(t, f.day(-15), desk, me, f.day(-10), false)
	cancelled5 := f.bookAt(t, f.day(-20), desk, me, f.day(5), false)
	f.cancelAt(t, f.day(-5), cancelled5)
	ended40 := f.bookAt(t, f.day(-45), desk, me, f.day(-40), false)
	// Still in the future, so only the age of its cancellation leaves it out.
	cancelled40 := f.bookAt(t, f.day(-45), desk, me, f.day(6), false)
	f.cancelAt(t, f.day(-40), cancelled40)
	others := f.bookAt(t, f.now, desk, other, f.day(3).Add(2*time.Hour), false)
	block, err := f.svc.Book(ctx, calendar.Booking{ResourceID: desk.ID, By: byAdmin(me), Kind: calendar.ReservationBlock,
		Start: f.day(7).Format(time.RFC3339), End: f.day(8).Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}

	feed, err := f.svc.UserFeed(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, feed.Body)
	cal := decode(t, feed.Body)
	for name, want := range map[string]string{
		ical.PropVersion: "2.0", ical.PropProductID: "-//Relais//Relais//FR", ical.PropCalendarScale: "GREGORIAN",
		ical.PropMethod: "PUBLISH", "X-WR-CALNAME": "Relais — mes réservations", "X-PUBLISHED-TTL": "PT15M",
	} {
		if got, _ := cal.Props.Text(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if p := cal.Props.Get(ical.PropRefreshInterval); p == nil || p.Value != "PT15M" || p.Params.Get(ical.ParamValue) != "DURATION" {
		t.Errorf("REFRESH-INTERVAL = %+v, want VALUE=DURATION:PT15M", p)
	}
	if cal.Props.Get("X-WR-TIMEZONE") != nil {
		t.Error("a member's feed spans sites: it names no time zone")
	}

	events := eventsByUID(t, cal)
	if got, want := sortedKeys(events), uids(future, held, ended10, cancelled5); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v (not ended40 %s, cancelled40 %s, others %s, block %s)", got, want, ended40.ID, cancelled40.ID, others.ID, block.ID)
	}
	for _, tt := range []struct {
		r      *calendar.Reservation
		status string
	}{{future, "CONFIRMED"}, {held, "TENTATIVE"}, {ended10, "CONFIRMED"}, {cancelled5, "CANCELLED"}} {
		ev := events[tt.r.ID+"@relais"]
		if got := text(t, ev, ical.PropStatus); got != tt.status {
			t.Errorf("%s: STATUS = %s, want %s", tt.r.ID, got, tt.status)
		}
		if got := utcTime(t, ev, ical.PropDateTimeStart); !got.Equal(tt.r.StartsAt) {
			t.Errorf("DTSTART = %s, want %s", got, tt.r.StartsAt)
		}
		if got := utcTime(t, ev, ical.PropDateTimeEnd); !got.Equal(tt.r.EndsAt) {
			t.Errorf("DTEND = %s, want %s", got, tt.r.EndsAt)
		}
		if got := text(t, ev, ical.PropSummary); got != "Bureau 1 — La Fabrique du Bourg" {
			t.Errorf("SUMMARY = %q", got)
		}
		if got := text(t, ev, ical.PropLocation); got != "La Fabrique du Bourg, 2 place de la Mairie, 23000 Guéret" {
			t.Errorf("LOCATION = %q", got)
		}
		if ev.Props.Get(ical.PropDescription) != nil {
			t.Error("DESCRIPTION without a note")
		}
		utcTime(t, ev, ical.PropDateTimeStamp)
		utcTime(t, ev, ical.PropLastModified)
	}
	// The cancellation is a change: it stamps the event with its own time.
	if got := utcTime(t, events[cancelled5.ID+"@relais"], ical.PropDateTimeStamp); !got.Equal(f.day(-5)) {
		t.Errorf("cancelled DTSTAMP = %s, want the cancellation time %s", got, f.day(-5))
	}
	if !feed.LastModified.Equal(f.now) {
		t.Errorf("LastModified = %s, want the latest booking's %s", feed.LastModified, f.now)
	}

	// A member with nothing booked still gets a calendar.
	empty, err := f.clock(f.day(400)).UserFeed(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, empty.Body)
	if cal := decode(t, empty.Body); len(cal.Events()) != 0 || !empty.LastModified.IsZero() {
		t.Fatalf("a year later: %d events, last modified %s", len(cal.Events()), empty.LastModified)
	}
}

func TestSiteAndResourceFeeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	mgr, member := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau 1"})
	room := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle Lavoisier", Capacity: 12})

	b1 := f.bookAt(t, f.now, desk, member, f.day(1), false)
	held := f.bookAt(t, f.now, room, member, f.day(2), false)
	f.exec(t, "UPDATE reservations SET status = 'held' WHERE id = ?", held.ID)
	block, err := f.svc.Book(ctx, calendar.Booking{ResourceID: room.ID, By: byAdmin(mgr), Kind: calendar.ReservationBlock,
		Start: f.day(3).Add(-time.Hour).Format(time.RFC3339), End: f.day(3).Add(2 * time.Hour).Format(time.RFC3339), Note: "Maintenance vidéoprojecteur"})
	if err != nil {
		t.Fatal(err)
	}
	cancelled := f.bookAt(t, f.now, desk, member, f.day(4), false)
	f.cancelAt(t, f.now, cancelled)
	past40 := f.bookAt(t, f.day(-45), desk, member, f.day(-40), false)
	past20 := f.bookAt(t, f.day(-25), desk, member, f.day(-20), false)
	ahead360 := f.bookAt(t, f.now, desk, mgr, f.day(360), true)
	ahead370 := f.bookAt(t, f.now, desk, mgr, f.day(370), true)

	site, res := f.svc.SiteFeed, f.svc.ResourceFeed
	var zero time.Time
	tests := []struct {
		name     string
		feed     func(context.Context, *identity.Principal, string, time.Time, time.Time) (*calendar.Feed, error)
		id       string
		from, to time.Time
		want     []*calendar.Reservation
		calName  string
	}{
		{"site, default window", site, f.site.ID, zero, zero, []*calendar.Reservation{b1, held, block, past20, ahead360}, "Relais — La Fabrique du Bourg"},
		// Half-open: b1 (10:00–11:00) overlaps from 10:30; the block starting at to is out.
		{"site, window edges", site, f.site.ID, f.day(1).Add(30 * time.Minute), f.day(3).Add(-time.Hour), []*calendar.Reservation{b1, held}, ""},
		{"site, the past", site, f.site.ID, f.day(-41), f.day(-39), []*calendar.Reservation{past40}, ""},
		{"site, from only", site, f.site.ID, f.day(2), zero, []*calendar.Reservation{held, block, ahead360, ahead370}, ""},
		{"site, exactly 400 days", site, f.site.ID, f.day(-30), f.day(370), []*calendar.Reservation{b1, held, block, past20, ahead360}, ""},
		{"room", res, room.ID, zero, zero, []*calendar.Reservation{held, block}, "Relais — Salle Lavoisier — La Fabrique du Bourg"},
		{"desk", res, desk.ID, zero, zero, []*calendar.Reservation{b1, past20, ahead360}, "Relais — Bureau 1 — La Fabrique du Bourg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed, err := tt.feed(ctx, bySystem(), tt.id, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			checkLines(t, feed.Body)
			cal := decode(t, feed.Body)
			if got, want := sortedKeys(eventsByUID(t, cal)), uids(tt.want...); !slices.Equal(got, want) {
				t.Fatalf("events = %v, want %v", got, want)
			}
			if tz, _ := cal.Props.Text("X-WR-TIMEZONE"); tz != "Europe/Paris" {
				t.Errorf("X-WR-TIMEZONE = %q", tz)
			}
			if name, _ := cal.Props.Text("X-WR-CALNAME"); tt.calName != "" && name != tt.calName {
				t.Errorf("X-WR-CALNAME = %q, want %q", name, tt.calName)
			}
		})
	}

	feed, err := f.svc.ResourceFeed(ctx, bySystem(), room.ID, zero, zero)
	if err != nil {
		t.Fatal(err)
	}
	events := eventsByUID(t, decode(t, feed.Body))
	blk, hld := events[block.ID+"@relais"], events[held.ID+"@relais"]
	if got := text(t, blk, ical.PropSummary); got != "Bloqué : Salle Lavoisier — Maintenance vidéoprojecteur" {
		t.Errorf("block SUMMARY = %q", got)
	}
	if got := text(t, blk, ical.PropStatus); got != "CONFIRMED" {
		t.Errorf("block STATUS = %q", got)
	}
	if got := text(t, hld, ical.PropStatus); got != "TENTATIVE" {
		t.Errorf("held STATUS = %q", got)
	}
	if got := text(t, hld, ical.PropSummary); got != "Salle Lavoisier — La Fabrique du Bourg — M" {
		t.Errorf("booking SUMMARY = %q", got)
	}

	for _, tt := range []struct {
		name     string
		from, to time.Time
	}{
		{"401 days", f.day(0), f.day(401)},
		{"401 days from a default from", zero, f.now.AddDate(0, 0, 371)},
		{"to before from", f.day(2), f.day(1)},
		{"empty window", f.day(2), f.day(2)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, call := range []func() error{
				func() error { _, err := f.svc.SiteFeed(ctx, bySystem(), f.site.ID, tt.from, tt.to); return err },
				func() error { _, err := f.svc.ResourceFeed(ctx, bySystem(), desk.ID, tt.from, tt.to); return err },
			} {
				var ve *errs.ValidationError
				if err := call(); !errors.As(err, &ve) || ve.Fields[0].Field != "to" {
					t.Fatalf("err = %v, want a validation error on to", err)
				}
			}
		})
	}
	for _, call := range []func() error{
		func() error {
			_, err := f.svc.SiteFeed(ctx, bySystem(), "01890a5d-ac96-774b-bcce-b302099a8057", zero, zero)
			return err
		},
		func() error {
			_, err := f.svc.ResourceFeed(ctx, bySystem(), "01890a5d-ac96-774b-bcce-b302099a8057", zero, zero)
			return err
		},
		func() error { _, err := f.svc.SiteFeed(ctx, bySystem(), "garbage", zero, zero); return err },
	} {
		if err := call(); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("unknown site or resource: %v, want not found", err)
		}
	}
}

var etagForm = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

func TestFeedETag(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	me, other := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau 1"})
	mine := f.bookAt(t, f.now, desk, me, f.day(1), false)
	f.bookAt(t, f.now, desk, me, f.day(2), false)

	userFeed := func() *calendar.Feed {
		t.Helper()
		feed, err := f.svc.UserFeed(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		if !etagForm.MatchString(feed.ETag) {
			t.Fatalf("ETag %s is not a strong quoted tag", feed.ETag)
		}
		return feed
	}
	siteFeed := func() *calendar.Feed {
		t.Helper()
		feed, err := f.svc.SiteFeed(ctx, bySystem(), f.site.ID, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return feed
	}
	sequence := func(feed *calendar.Feed, r *calendar.Reservation) int {
		t.Helper()
		ev, ok := eventsByUID(t, decode(t, feed.Body))[r.ID+"@relais"]
		if !ok {
			t.Fatalf("no event for %s", r.ID)
		}
		n, err := strconv.Atoi(ev.Props.Get(ical.PropSequence).Value)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	u1, s1 := userFeed(), siteFeed()
	if u2 := userFeed(); u2.ETag != u1.ETag || !bytes.Equal(u2.Body, u1.Body) {
		t.Fatal("the same reservations gave another feed")
	}
	if u1.ETag == s1.ETag {
		t.Fatal("different feeds share an ETag")
	}

	// Someone else's booking changes the site's feed, not mine.
	f.bookAt(t, f.now, desk, other, f.day(3), false)
	if u2 := userFeed(); u2.ETag != u1.ETag {
		t.Fatal("another member's booking changed my feed")
	}
	s2 := siteFeed()
	if s2.ETag == s1.ETag {
		t.Fatal("a new booking left the site's ETag alone")
	}

	// Moving mine changes both, and the event's SEQUENCE goes up.
	later := f.now.Add(time.Hour)
	start := f.day(1).Add(2 * time.Hour)
	if _, err := f.clock(later).MoveReservation(ctx, calendar.Move{ReservationID: mine.ID, By: byMember(me),
		Start: start.Format(time.RFC3339), End: start.Add(time.Hour).Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	u3, s3 := userFeed(), siteFeed()
	if u3.ETag == u1.ETag || s3.ETag == s2.ETag {
		t.Fatal("a move left an ETag alone")
	}
	if sequence(u3, mine) <= sequence(u1, mine) {
		t.Fatalf("SEQUENCE %d after the move, %d before", sequence(u3, mine), sequence(u1, mine))
	}
	if !u3.LastModified.Equal(later) {
		t.Fatalf("LastModified = %s, want the move's %s", u3.LastModified, later)
	}

	// Cancelling changes it again; in my feed the event stays, cancelled.
	f.cancelAt(t, later.Add(time.Hour), mine)
	u4 := userFeed()
	if u4.ETag == u3.ETag || sequence(u4, mine) <= sequence(u3, mine) {
		t.Fatal("a cancellation left the ETag or SEQUENCE alone")
	}
	if st := text(t, eventsByUID(t, decode(t, u4.Body))[mine.ID+"@relais"], ical.PropStatus); st != "CANCELLED" {
		t.Fatalf("STATUS = %s", st)
	}

	// Renaming the site changes what every event says.
	name := "La Fabrique"
	if _, err := f.svc.UpdateSite(ctx, bySystem(), f.site.ID, calendar.SiteUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if userFeed().ETag == u4.ETag {
		t.Fatal("renaming the site left the ETag alone")
	}
}

// expectedText is what a note reads as once through a feed: line breaks of
// every style become LF; other control characters but tab are dropped.
func expectedText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, s)
}

// noteRoundTrip stores note on r, encodes its resource's feed and checks
// the physical lines and that the note decodes back as expected.
func noteRoundTrip(t testing.TB, f *fixture, r *calendar.Reservation, note string) ical.Event {
	t.Helper()
	f.exec(t, "UPDATE reservations SET note = ? WHERE id = ?", note, r.ID)
	feed, err := f.svc.ResourceFeed(context.Background(), bySystem(), r.ResourceID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, feed.Body)
	ev := eventsByUID(t, decode(t, feed.Body))[r.ID+"@relais"]
	want := expectedText(note)
	if want == "" {
		if p := ev.Props.Get(ical.PropDescription); p != nil {
			t.Fatalf("DESCRIPTION %q for an empty note %q", p.Value, note)
		}
		return ev
	}
	if got := text(t, ev, ical.PropDescription); got != want {
		t.Fatalf("DESCRIPTION = %q, want %q", got, want)
	}
	return ev
}

func TestFeedTextAndFolding(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	me := f.users[0]
	// 120 runes, 150 octets or so: folded at least twice, through accents and emoji.
	longName := "Atelier d’ébénisterie — établi n° 3 🪚🪵 réservé aux compagnons qualifiés, à côté de la scie à ruban 🎉 et de l’aspirateur"
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: longName})
	r := f.bookAt(t, f.now, desk, me, f.day(1), false)

	tests := []struct{ name, note string }{
		{"empty", ""},
		{"plain", "Réunion d'équipe"},
		{"escapes", `a, b; c\d \n not a newline \, \;`},
		{"newlines", "ligne 1\nligne 2\r\nligne 3\rligne 4\n"},
		{"controls", "bip\x07 tab\there\x1b[0m del\x7f"},
		{"long accents and emoji", strings.Repeat("Café crème ☕, thé à l’œil 🫖; réservé ✅ — ", 12)},
		{"every offset", strings.Repeat("é", 37) + strings.Repeat("😀", 30) + strings.Repeat("a€", 50)},
		{"colons and quotes", `DTSTART:20260101T000000Z "quoted" END:VEVENT`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := noteRoundTrip(t, f, r, tt.note)
			if got := text(t, ev, ical.PropSummary); got != longName+" — La Fabrique du Bourg — M" {
				t.Fatalf("SUMMARY = %q", got)
			}
		})
	}

	// Folding is CRLF plus one space: taking those out gives the line back.
	note := strings.Repeat("Café ☕ 😀 ", 20)
	f.exec(t, "UPDATE reservations SET note = ? WHERE id = ?", note, r.ID)
	feed, err := f.svc.ResourceFeed(context.Background(), bySystem(), desk.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	unfolded := strings.ReplaceAll(string(feed.Body), "\r\n ", "")
	summary := strings.ReplaceAll(longName, ",", `\,`) + " — La Fabrique du Bourg — M"
	for _, line := range []string{"DESCRIPTION:" + note, "SUMMARY:" + summary} {
		if !strings.Contains(unfolded, "\r\n"+line+"\r\n") {
			t.Fatalf("unfolded feed lacks %q:\n%s", line, feed.Body)
		}
	}
	if strings.Count(string(feed.Body), "\r\n ") < 4 {
		t.Fatalf("long lines were not folded:\n%s", feed.Body)
	}
}

// FuzzFold checks folding, escaping and decoding together on arbitrary
// notes, through a real feed: folding is internal to the encoder.
func FuzzFold(f *testing.F) {
	for _, s := range []string{
		"", "a", "é", strings.Repeat("é", 80), strings.Repeat("😀", 40), strings.Repeat("x", 62) + "😀😀",
		"a\r\nb\rc\nd", `x,y;z\`, "\x00\x01\t", strings.Repeat("ab,", 60) + "€",
	} {
		f.Add(s)
	}
	fx := newFixture(f, 1)
	desk := fx.resource(f, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau"})
	r := fx.bookAt(f, fx.now, desk, fx.users[0], fx.day(1), false)
	f.Fuzz(func(t *testing.T, note string) {
		if !utf8.ValidString(note) {
			t.Skip("notes are UTF-8 text")
		}
		if dbtest.Postgres() && strings.ContainsRune(note, 0) {
			t.Skip("PostgreSQL text cannot hold NUL")
		}
		noteRoundTrip(t, fx, r, note)
	})
}

// sha256Hex is the stored form the test expects, written out independently
// of the code under test.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestFeedNames: a site's or resource's feed, which only its managers
// export, names each booker; a member's own feed names nobody.
func TestFeedNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	jeanne := dbtest.User(t, f.db, "jeanne@example.fr", "Jeanne Dupré")
	paul := dbtest.User(t, f.db, "paul@example.fr", "Paul Martin")
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Bureau 1"})
	rj := f.bookAt(t, f.now, desk, jeanne, f.day(3), false)
	rp := f.bookAt(t, f.now, desk, paul, f.day(4), false)

	site, err := f.svc.SiteFeed(ctx, bySystem(), f.site.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.svc.ResourceFeed(ctx, bySystem(), desk.ID, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for name, feed := range map[string]*calendar.Feed{"site": site, "resource": res} {
		events := eventsByUID(t, decode(t, feed.Body))
		if got := text(t, events[rj.ID+"@relais"], ical.PropSummary); got != "Bureau 1 — La Fabrique du Bourg — Jeanne Dupré" {
			t.Errorf("%s feed: Jeanne's SUMMARY = %q", name, got)
		}
		if got := text(t, events[rp.ID+"@relais"], ical.PropSummary); got != "Bureau 1 — La Fabrique du Bourg — Paul Martin" {
			t.Errorf("%s feed: Paul's SUMMARY = %q", name, got)
		}
	}
	own, err := f.svc.UserFeed(ctx, jeanne)
	if err != nil {
		t.Fatal(err)
	}
	body := string(own.Body)
	if strings.Contains(body, "Paul Martin") || strings.Contains(body, "Jeanne Dupré") || !strings.Contains(body, rj.ID) {
		t.Fatalf("member feed names someone or lacks her booking:\n%s", body)
	}
}
