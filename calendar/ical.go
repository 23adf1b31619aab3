package calendar

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// iCalendar feeds (RFC 5545): a member's own reservations, at a secret URL
// their calendar app polls, and a site's or a resource's for its managers.

const (
	// feedPast is how long past and cancelled reservations stay in a feed:
	// long enough for every polling client to see a cancellation.
	feedPast = 30 * 24 * time.Hour
	// defaultFeedSpan is the default window of a manager's feed, from 30
	// days back to 365 days ahead.
	defaultFeedSpan = 395 * 24 * time.Hour
	maxFeedSpan     = 400 * 24 * time.Hour
	feedRefresh     = "PT15M"
	// maxLineOctets is RFC 5545's limit for a content line, CRLF excluded.
	maxLineOctets = 75
	// sequenceEpoch (2026-01-01 UTC) is subtracted from updated_at to make
	// SEQUENCE, an RFC 5545 INTEGER (signed 32 bits), which Unix seconds
	// outgrow in 2038.
	sequenceEpoch = 1767225600
)

var errFeedNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "feed_not_found", Detail: "no such calendar feed"}

// Feed is an encoded iCalendar document.
type Feed struct {
	Body []byte
	// ETag is a strong, quoted entity tag: a hash of Body.
	ETag string
	// LastModified is the latest change to what the feed shows (its
	// reservations, their resources and sites), zero for an empty member
	// feed. It does not move when a reservation merely leaves the window,
	// so HTTP caching should rely on ETag first.
	LastModified time.Time
}

// feedToken is the stored side of a feed URL's secret: only its hash, so a
// database leak does not expose anyone's calendar.
type feedToken struct {
	bun.BaseModel `bun:"table:calendar_tokens,alias:ct"`

	ID        string `bun:"id,pk"`
	UserID    string `bun:"user_id"`
	TokenHash string `bun:"token_hash"`
	// SiteID and ResourceID name a manager's feed: a site's (SiteID
	// alone) or a resource's (both); neither for a member's own feed.
	SiteID     *string    `bun:"site_id"`
	ResourceID *string    `bun:"resource_id"`
	CreatedAt  time.Time  `bun:"created_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// hashFeedToken is the stored form of a token: hex SHA-256, as access
// hashes its own tokens. A 256-bit random token needs no slow hash.
func hashFeedToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RotateFeedToken revokes p's feed tokens and returns a new one, shown
// only now: the database keeps its hash alone. An API key has no feed (see
// mayHaveFeed).
func (svc *Service) RotateFeedToken(ctx context.Context, p *identity.Principal) (string, error) {
	if err := mayHaveFeed(p); err != nil {
		return "", err
	}
	userID := p.UserID
	if !id.Valid(userID) {
		return "", errs.Invalid("user_id", "no such user")
	}
	token := id.Secret(32)
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		// Holding the account serialises concurrent rotations on
		// PostgreSQL, so a member never ends up with two live tokens
		// (SQLite serialises every write transaction).
		if _, err := svc.accounts.HoldAccount(ctx, tx, userID); err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return errs.Invalid("user_id", "no such user")
			}
			return fmt.Errorf("hold account: %w", err)
		}
		now := svc.now()
		if err := revokeScopedFeedTokens(ctx, tx, userID, "", "", now); err != nil {
			return err
		}
		t := &feedToken{ID: id.New(), UserID: userID, TokenHash: hashFeedToken(token), CreatedAt: now}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("insert feed token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeFeedTokens ends every feed URL of p's.
func (svc *Service) RevokeFeedTokens(ctx context.Context, p *identity.Principal) error {
	if err := mayHaveFeed(p); err != nil {
		return err
	}
	return revokeFeedTokens(ctx, svc.db, p.UserID, svc.now())
}

func revokeFeedTokens(ctx context.Context, idb bun.IDB, userID string, now time.Time) error {
	_, err := idb.NewUpdate().Model((*feedToken)(nil)).Set("revoked_at = ?", now).
		Where("user_id = ? AND revoked_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke feed tokens: %w", err)
	}
	return nil
}

// revokeScopedFeedTokens ends userID's feed URLs of one feed: their own
// (siteID and resourceID empty), a site's (resourceID empty) or a
// resource's.
func revokeScopedFeedTokens(ctx context.Context, idb bun.IDB, userID, siteID, resourceID string, now time.Time) error {
	q := idb.NewUpdate().Model((*feedToken)(nil)).Set("revoked_at = ?", now).
		Where("user_id = ? AND revoked_at IS NULL", userID)
	if siteID == "" {
		q = q.Where("site_id IS NULL")
	} else {
		q = q.Where("site_id = ?", siteID)
	}
	if resourceID == "" {
		q = q.Where("resource_id IS NULL")
	} else {
		q = q.Where("resource_id = ?", resourceID)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("revoke feed tokens: %w", err)
	}
	return nil
}

// RotateSiteFeedToken is RotateFeedToken for the feed of a site (resourceID
// empty) or of one of its resources: p must export that calendar
// (mayExportSite, mayExportResource) and be a person, since the URL opens
// the feed with p's rights of the day it is read (see FeedTarget). It ends
// p's previous URL of the same feed only.
func (svc *Service) RotateSiteFeedToken(ctx context.Context, p *identity.Principal, siteID, resourceID string) (string, error) {
	if err := mayHaveFeed(p); err != nil {
		return "", err
	}
	if resourceID != "" {
		res, err := svc.GetResource(ctx, resourceID)
		if err != nil {
			return "", err
		}
		if err := mayExportResource(p, res); err != nil {
			return "", err
		}
		siteID = res.SiteID
	} else {
		if err := mayExportSite(p, siteID); err != nil {
			return "", err
		}
		if _, err := svc.GetSite(ctx, siteID); err != nil {
			return "", err
		}
	}
	token := id.Secret(32)
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := svc.accounts.HoldAccount(ctx, tx, p.UserID); err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return errs.Invalid("user_id", "no such user")
			}
			return fmt.Errorf("hold account: %w", err)
		}
		now := svc.now()
		if err := revokeScopedFeedTokens(ctx, tx, p.UserID, siteID, resourceID, now); err != nil {
			return err
		}
		t := &feedToken{ID: id.New(), UserID: p.UserID, TokenHash: hashFeedToken(token), SiteID: &siteID, CreatedAt: now}
		if resourceID != "" {
			t.ResourceID = &resourceID
		}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return fmt.Errorf("insert feed token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// FeedTarget is what a feed URL's token opens: a member's own feed
// (SiteID and ResourceID empty), a site's, or a resource's, read with
// UserID's rights.
type FeedTarget struct {
	UserID     string
	SiteID     string
	ResourceID string
}

// FeedTargetOf finds what token opens. Unknown and revoked tokens, and
// those of disabled or deleted users, are not found alike.
func (svc *Service) FeedTargetOf(ctx context.Context, token string) (FeedTarget, error) {
	if token == "" || len(token) > 256 {
		return FeedTarget{}, errFeedNotFound
	}
	var t feedToken
	err := svc.db.NewSelect().Model(&t).Column("user_id", "site_id", "resource_id").
		Where("token_hash = ? AND revoked_at IS NULL", hashFeedToken(token)).Scan(ctx)
	if err != nil {
		if isNoRows(err) {
			return FeedTarget{}, errFeedNotFound
		}
		return FeedTarget{}, fmt.Errorf("find feed token: %w", err)
	}
	member, err := svc.accounts.Contact(ctx, svc.db, t.UserID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !member.Active) {
		return FeedTarget{}, errFeedNotFound
	}
	if err != nil {
		return FeedTarget{}, fmt.Errorf("find feed token's account: %w", err)
	}
	out := FeedTarget{UserID: t.UserID}
	if t.SiteID != nil {
		out.SiteID = *t.SiteID
	}
	if t.ResourceID != nil {
		out.ResourceID = *t.ResourceID
	}
	return out, nil
}

// ManagerFeed is the feed a manager's token opens (see FeedTargetOf), read
// with p, the token owner's rights of today: one who no longer manages the
// site gets errFeedNotFound, as for a revoked URL.
func (svc *Service) ManagerFeed(ctx context.Context, p *identity.Principal, t FeedTarget) (*Feed, error) {
	var (
		f   *Feed
		err error
	)
	if t.ResourceID != "" {
		f, err = svc.ResourceFeed(ctx, p, t.ResourceID, time.Time{}, time.Time{})
	} else {
		f, err = svc.SiteFeed(ctx, p, t.SiteID, time.Time{}, time.Time{})
	}
	if errors.Is(err, errs.ErrForbidden) || errors.Is(err, errs.ErrNotFound) {
		return nil, errFeedNotFound
	}
	return f, err
}

// FeedUser returns whose feed token is. Unknown and revoked tokens, and
// those of disabled or deleted users, are not found alike.
func (svc *Service) FeedUser(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > 256 {
		return "", errFeedNotFound
	}
	var userID string
	err := svc.db.NewSelect().Model((*feedToken)(nil)).Column("user_id").
		Where("token_hash = ? AND revoked_at IS NULL AND site_id IS NULL AND resource_id IS NULL", hashFeedToken(token)).Scan(ctx, &userID)
	if err != nil {
		if isNoRows(err) {
			return "", errFeedNotFound
		}
		return "", fmt.Errorf("find feed token: %w", err)
	}
	member, err := svc.accounts.Contact(ctx, svc.db, userID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && !member.Active) {
		return "", errFeedNotFound
	}
	if err != nil {
		return "", fmt.Errorf("find feed token's account: %w", err)
	}
	return userID, nil
}

// UserFeed is a member's own bookings, from those that ended up to 30 days
// ago onward. Cancellations of the last 30 days stay in, as STATUS:CANCELLED,
// so that subscribed calendar apps remove the event.
func (svc *Service) UserFeed(ctx context.Context, userID string) (*Feed, error) {
	since := svc.now().Add(-feedPast)
	rows, err := svc.feedEvents(ctx, false, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("rv.user_id = ? AND rv.kind = ? AND rv.ends_at > ?", userID, ReservationBooking, since).
			Where("(rv.status <> ? OR rv.cancelled_at > ?)", StatusCancelled, since)
	})
	if err != nil {
		return nil, err
	}
	return encodeFeed("Relais — mes réservations", "", rows, time.Time{})
}

// SiteFeed is every live reservation of a site, bookings and blocks,
// overlapping [from, to); see feedWindow for the defaults. p must export
// the site's calendar (see mayExportSite).
func (svc *Service) SiteFeed(ctx context.Context, p *identity.Principal, siteID string, from, to time.Time) (*Feed, error) {
	if err := mayExportSite(p, siteID); err != nil {
		return nil, err
	}
	site, err := svc.GetSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	from, to, err = svc.feedWindow(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := svc.feedEvents(ctx, true, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("rv.site_id = ? AND rv.status <> ? AND rv.starts_at < ? AND rv.ends_at > ? AND rv.busy_until > ?", site.ID, StatusCancelled, to, from, from)
	})
	if err != nil {
		return nil, err
	}
	return encodeFeed("Relais — "+site.Name, site.Timezone, rows, site.UpdatedAt)
}

// ResourceFeed is SiteFeed for one resource.
func (svc *Service) ResourceFeed(ctx context.Context, p *identity.Principal, resourceID string, from, to time.Time) (*Feed, error) {
	res, err := svc.GetResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	if err := mayExportResource(p, res); err != nil {
		return nil, err
	}
	site, err := svc.GetSite(ctx, res.SiteID)
	if err != nil {
		return nil, err
	}
	from, to, err = svc.feedWindow(from, to)
	if err != nil {
		return nil, err
	}
	rows, err := svc.feedEvents(ctx, true, func(q *bun.SelectQuery) *bun.SelectQuery {
		return q.Where("rv.resource_id = ? AND rv.status <> ? AND rv.starts_at < ? AND rv.ends_at > ? AND rv.busy_until > ?", res.ID, StatusCancelled, to, from, from)
	})
	if err != nil {
		return nil, err
	}
	return encodeFeed("Relais — "+res.Name+" — "+site.Name, site.Timezone, rows, maxTime(site.UpdatedAt, res.UpdatedAt))
}

// feedWindow fills in a manager feed's window: from defaults to 30 days
// ago, to to 395 days after from (a year ahead when both are defaulted).
// A window is at most 400 days, which bounds the work of one request.
func (svc *Service) feedWindow(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() {
		from = svc.now().Add(-feedPast)
	}
	if to.IsZero() {
		to = from.Add(defaultFeedSpan)
	}
	from, to = from.UTC(), to.UTC()
	switch {
	case !to.After(from):
		return from, to, errs.Invalid("to", "must be after from")
	case to.Sub(from) > maxFeedSpan:
		return from, to, errs.Invalid("to", "a feed covers at most %d days", int(maxFeedSpan.Hours()/24))
	}
	return from, to, nil
}

// feedEvent is a reservation with the resource and site its event names,
// and in a manager's feed the booker's name.
type feedEvent struct {
	*Reservation
	res    *Resource
	site   *Site
	booker string
}

// feedEvents loads the reservations filter selects, in start order, with
// their resources and sites: three queries whatever the number of events,
// four with the bookers' names. Names go only into the feeds of a site or
// resource, which only its managers (and keys) export; a member's own feed
// never names anyone.
func (svc *Service) feedEvents(ctx context.Context, names bool, filter func(*bun.SelectQuery) *bun.SelectQuery) ([]feedEvent, error) {
	var rs []Reservation
	q := svc.db.NewSelect().Model(&rs).
		Column("id", "resource_id", "site_id", "user_id", "kind", "status", "starts_at", "ends_at", "note", "updated_at").
		Order("rv.starts_at", "rv.id")
	if err := filter(q).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read feed reservations: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	resIDs, siteIDs := map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		resIDs[r.ResourceID], siteIDs[r.SiteID] = true, true
	}
	var resources []Resource
	if err := svc.db.NewSelect().Model(&resources).Where("id IN (?)", bun.In(slices.Collect(maps.Keys(resIDs)))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read feed resources: %w", err)
	}
	var sites []Site
	if err := svc.db.NewSelect().Model(&sites).Where("id IN (?)", bun.In(slices.Collect(maps.Keys(siteIDs)))).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read feed sites: %w", err)
	}
	resByID := make(map[string]*Resource, len(resources))
	for i := range resources {
		resByID[resources[i].ID] = &resources[i]
	}
	siteByID := make(map[string]*Site, len(sites))
	for i := range sites {
		siteByID[sites[i].ID] = &sites[i]
	}
	var bookers map[string]string
	if names {
		var err error
		if bookers, err = bookerNames(ctx, svc.db, rs); err != nil {
			return nil, err
		}
	}
	events := make([]feedEvent, len(rs))
	for i := range rs {
		// Foreign keys guarantee both exist.
		events[i] = feedEvent{Reservation: &rs[i], res: resByID[rs[i].ResourceID], site: siteByID[rs[i].SiteID]}
		if rs[i].UserID != nil && rs[i].Kind == ReservationBooking {
			events[i].booker = bookers[*rs[i].UserID]
		}
	}
	return events, nil
}

// bookerNames reads the names of the members who booked rs.
func bookerNames(ctx context.Context, idb bun.IDB, rs []Reservation) (map[string]string, error) {
	ids := map[string]bool{}
	for _, r := range rs {
		if r.UserID != nil {
			ids[*r.UserID] = true
		}
	}
	return identity.Names(ctx, idb, slices.Collect(maps.Keys(ids)))
}

// encodeFeed writes the calendar. go-ical refuses a VCALENDAR without
// components (RFC 5545 asks for one), yet an empty feed is the normal state
// of a new subscription and calendar apps accept it; so the calendar's own
// lines are written here, and go-ical encodes, and checks, each event.
// Lines are folded on the way out, which go-ical does not do.
func encodeFeed(name, timezone string, events []feedEvent, lastModified time.Time) (*Feed, error) {
	var head bytes.Buffer
	head.WriteString("BEGIN:VCALENDAR\r\n" +
		"VERSION:2.0\r\n" +
		"PRODID:-//Relais//Relais//FR\r\n" +
		"CALSCALE:GREGORIAN\r\n" +
		"METHOD:PUBLISH\r\n")
	head.WriteString("X-WR-CALNAME:" + textValue(name) + "\r\n")
	if timezone != "" {
		head.WriteString("X-WR-TIMEZONE:" + textValue(timezone) + "\r\n")
	}
	head.WriteString("REFRESH-INTERVAL;VALUE=DURATION:" + feedRefresh + "\r\n" +
		"X-PUBLISHED-TTL:" + feedRefresh + "\r\n")
	body := make([]byte, 0, head.Len()+450*len(events)) // an event is 350–450 octets
	body = foldLines(body, head.Bytes())

	// Each event is encoded into a scratch buffer, then folded into body:
	// one copy of a 10,000-event feed in memory, not two.
	var scratch bytes.Buffer
	enc := ical.NewEncoder(&scratch)
	texts := map[string]resourceTexts{} // by resource: escaped once, not per event
	for _, ev := range events {
		rt, ok := texts[ev.res.ID]
		if !ok {
			rt = resourceTexts{summary: textValue(ev.res.Name + " — " + ev.site.Name), location: textValue(siteLocation(ev.site))}
			texts[ev.res.ID] = rt
		}
		scratch.Reset()
		// Encode takes a Calendar but encodes whichever component it wraps.
		if err := enc.Encode(&ical.Calendar{Component: eventComponent(ev, rt)}); err != nil {
			return nil, fmt.Errorf("encode reservation %s: %w", ev.ID, err)
		}
		body = foldLines(body, scratch.Bytes())
		lastModified = maxTime(lastModified, maxTime(ev.UpdatedAt, maxTime(ev.res.UpdatedAt, ev.site.UpdatedAt)))
	}
	body = append(body, "END:VCALENDAR\r\n"...)
	sum := sha256.Sum256(body)
	return &Feed{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, LastModified: lastModified.UTC()}, nil
}

// resourceTexts are the escaped TEXT values every booking of a resource
// shares, escaped once per resource rather than once per event: escaping
// goes rune by rune and showed in the profile of a 10,000-event feed.
type resourceTexts struct{ summary, location string }

// eventComponent is a reservation's VEVENT. Times are UTC ("…Z"), which
// needs no VTIMEZONE; clients show them in their own zone. DTSTAMP and
// SEQUENCE come from updated_at, not from the clock, so an unchanged
// reservation encodes to the same bytes and the ETag holds.
func eventComponent(ev feedEvent, rt resourceTexts) *ical.Component {
	// Sized for the properties below, so the map never grows.
	e := &ical.Component{Name: ical.CompEvent, Props: make(ical.Props, 12)}
	p := e.Props
	p.SetText(ical.PropUID, EventUID(ev.ID))
	p.SetDateTime(ical.PropDateTimeStamp, ev.UpdatedAt.UTC())
	p.SetDateTime(ical.PropLastModified, ev.UpdatedAt.UTC())
	p.SetDateTime(ical.PropDateTimeStart, ev.StartsAt.UTC())
	p.SetDateTime(ical.PropDateTimeEnd, ev.EndsAt.UTC())
	seq := ical.NewProp(ical.PropSequence)
	seq.Value = strconv.FormatInt(EventSequence(ev.UpdatedAt), 10)
	p.Set(seq)

	if ev.Kind == ReservationBlock {
		summary := "Bloqué : " + ev.res.Name
		if ev.Note != "" {
			summary += " — " + ev.Note
		}
		p.SetText(ical.PropSummary, cleanText(summary))
	} else if ev.booker != "" {
		p.Set(&ical.Prop{Name: ical.PropSummary, Value: rt.summary + " — " + textValue(ev.booker)})
	} else {
		p.Set(&ical.Prop{Name: ical.PropSummary, Value: rt.summary})
	}
	p.Set(&ical.Prop{Name: ical.PropLocation, Value: rt.location})
	if note := cleanText(ev.Note); note != "" {
		p.SetText(ical.PropDescription, note)
	}
	status := ical.EventConfirmed
	switch ev.Status {
	case StatusHeld:
		status = ical.EventTentative
	case StatusCancelled:
		status = ical.EventCancelled
	}
	p.SetText(ical.PropStatus, string(status))
	return e
}

// EventUID is the iCalendar UID of a reservation's event, in the feeds and
// in the invitations notify mails, so that a calendar app matches the two.
func EventUID(reservationID string) string { return reservationID + "@relais" }

// EventSequence is the SEQUENCE of a reservation's event last changed at
// updatedAt: it grows with each change (one-second steps), in the feeds and
// in the invitations alike.
func EventSequence(updatedAt time.Time) int64 { return max(updatedAt.Unix()-sequenceEpoch, 0) }

// SiteLocation is a site's LOCATION, as the feeds write it.
func SiteLocation(s *Site) string { return siteLocation(s) }

// FoldLines folds the content lines of an encoded iCalendar object longer
// than 75 octets, as the feeds do (go-ical does not).
func FoldLines(ics []byte) []byte { return foldLines(make([]byte, 0, len(ics)+len(ics)/64), ics) }

// siteLocation is "name, line 1[, line 2], postal code city".
func siteLocation(s *Site) string {
	parts := []string{s.Name, s.Address.Line1, s.Address.Line2, strings.TrimSpace(s.Address.PostalCode + " " + s.Address.City)}
	kept := parts[:0]
	for _, part := range parts {
		if part = strings.TrimSpace(part); part != "" {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, ", ")
}

// textValue escapes s as an RFC 5545 TEXT value (backslash, comma,
// semicolon, newline), as go-ical's SetText does.
func textValue(s string) string {
	p := ical.NewProp("X")
	p.SetText(cleanText(s))
	return p.Value
}

// cleanText makes free text (a member's note) encodable: TEXT values may
// not hold control characters other than tab, and go-ical refuses a CR
// rather than escaping it. Line breaks of any style become "\n", which is
// escaped; other control characters and invalid UTF-8 are dropped.
func cleanText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\r\n", "\n")
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

// foldLines appends the CRLF-terminated lines of src to dst, folding those
// longer than 75 octets (RFC 5545 §3.1): CRLF and one space go before each
// continuation, and a cut never falls inside a UTF-8 sequence. go-ical has
// already refused any CR or LF inside a value, so CRLF only ends lines.
func foldLines(dst, src []byte) []byte {
	for len(src) > 0 {
		line, rest, _ := bytes.Cut(src, []byte("\r\n"))
		dst = appendFolded(dst, line)
		src = rest
	}
	return dst
}

func appendFolded(dst, line []byte) []byte {
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		// Back up to the start of the rune that would straddle the cut; a
		// run of continuation bytes this long is not UTF-8, so cut anywhere.
		for cut > limit-utf8.UTFMax && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if !utf8.RuneStart(line[cut]) {
			cut = limit
		}
		dst = append(dst, line[:cut]...)
		dst = append(dst, "\r\n "...)
		line = line[cut:]
		limit = maxLineOctets - 1 // the leading space counts
	}
	dst = append(dst, line...)
	return append(dst, "\r\n"...)
}
