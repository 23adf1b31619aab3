package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Notification categories, as a member turns them off: the JSON names of
// the Notifications fields. Each mail a member may turn off names its
// category in its List-Unsubscribe link (see UnsubscribeURL).
const (
	CategoryBookings    = "bookings"
	CategoryReminders   = "reminders"
	CategoryWaitingList = "waiting_list"
	CategoryMembership  = "membership"
	CategoryCredits     = "credits"
	CategoryMachines    = "machines"
	CategoryDevices     = "devices"
	CategoryNewSignIn   = "new_sign_in"
)

// Allows reports whether the member lets category through (false for a
// name that is no category).
func (n Notifications) Allows(category string) bool {
	on := switchOf(&n, category)
	return on != nil && *on
}

// switchOf returns the field of n that category turns on and off, or nil
// for a name that is no category.
func switchOf(n *Notifications, category string) *bool {
	switch category {
	case CategoryBookings:
		return &n.Bookings
	case CategoryReminders:
		return &n.Reminders
	case CategoryWaitingList:
		return &n.WaitingList
	case CategoryMembership:
		return &n.Membership
	case CategoryCredits:
		return &n.Credits
	case CategoryMachines:
		return &n.Machines
	case CategoryDevices:
		return &n.Devices
	case CategoryNewSignIn:
		return &n.NewSignIn
	}
	return nil
}

// unsubscribeLabel sets the unsubscribe key apart from every other use of
// the server's secret: a MAC made with it signs nothing else.
const unsubscribeLabel = "relais unsubscribe v1"

// unsubscribeMAC is the HMAC-SHA256 of userID and category under a key
// derived from the JWT secret (HMAC of the label), never the raw secret.
func (s *Service) unsubscribeMAC(userID, category string) []byte {
	k := hmac.New(sha256.New, s.cfg.JWTSecret)
	k.Write([]byte(unsubscribeLabel))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(userID + "\x00" + category))
	return mac.Sum(nil)
}

// UnsubscribeToken is the token of the link that turns category off for
// userID: "<user id>.<category>.<MAC>", the MAC base64url. It needs no
// row: the server's secret proves it, and turning a category off twice
// changes nothing, so a replayed link is harmless.
func (s *Service) UnsubscribeToken(userID, category string) string {
	return userID + "." + category + "." + base64.RawURLEncoding.EncodeToString(s.unsubscribeMAC(userID, category))
}

// UnsubscribeURL is the one-click unsubscribe link (RFC 8058) of category
// for userID, PUBLIC_URL/v1/unsubscribe?token=…, or "" when there is none
// to give: no public URL, or one a mail client would not POST to (RFC
// 8058 wants https; plain http is kept for loopback hosts, which serve
// only tests and a developer's machine).
func (s *Service) UnsubscribeURL(userID, category string) string {
	if switchOf(&Notifications{}, category) == nil || !unsubscribable(s.cfg.PublicURL) {
		return ""
	}
	return s.cfg.PublicURL + "/v1/unsubscribe?token=" + url.QueryEscape(s.UnsubscribeToken(userID, category))
}

// unsubscribable reports whether links on base may be List-Unsubscribe
// URLs (see UnsubscribeURL).
func unsubscribable(base string) bool {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return false
	}
	if u.Scheme == "https" {
		return true
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	return u.Scheme == "http" && (host == "localhost" || (ip != nil && ip.IsLoopback()))
}

var errBadUnsubscribe = &errs.Problem{Kind: errs.ErrNotFound, Code: "invalid_unsubscribe_token",
	Detail: "this unsubscribe link is not valid"}

// checkUnsubscribeToken returns the account and category token names, or
// errBadUnsubscribe for a token that is garbled or not signed by this
// server. The MAC is compared in constant time.
func (s *Service) checkUnsubscribeToken(token string) (userID, category string, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !id.Valid(parts[0]) || switchOf(&Notifications{}, parts[1]) == nil {
		return "", "", errBadUnsubscribe
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, s.unsubscribeMAC(parts[0], parts[1])) {
		return "", "", errBadUnsubscribe
	}
	return parts[0], parts[1], nil
}

// UnsubscribeCategory says which category token turns off, without
// changing anything (what a GET of the link answers: scanners follow
// links), or errBadUnsubscribe.
func (s *Service) UnsubscribeCategory(token string) (string, error) {
	_, category, err := s.checkUnsubscribeToken(token)
	return category, err
}

// Unsubscribe turns off the category token names for its account and
// returns the category. Turning off what is off already changes nothing
// and is no error (a replayed link); a forged or garbled token changes
// nothing and is errBadUnsubscribe, as is one of an account deleted
// since. Requests are limited per client address, as other unauthenticated
// calls.
func (s *Service) Unsubscribe(ctx context.Context, token string, c ClientInfo) (string, error) {
	if err := s.LimitIP(ctx, "unsubscribe", c.IP); err != nil {
		return "", err
	}
	userID, category, err := s.checkUnsubscribeToken(token)
	if err != nil {
		return "", err
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var u User
		q := tx.NewSelect().Model(&u).Column("id", "notifications").Where("id = ? AND deleted_at IS NULL", userID)
		if err := db.ForUpdate(q).Scan(ctx); err != nil {
			if isNoRows(err) {
				return errBadUnsubscribe
			}
			return fmt.Errorf("read notifications of %s: %w", userID, err)
		}
		n := u.NotificationsOf()
		on := switchOf(&n, category)
		if !*on {
			return nil // off already: a replay changes nothing
		}
		*on = false
		u.Notifications = &n
		if _, err := tx.NewUpdate().Model(&u).Column("notifications").Set("updated_at = ?", s.now()).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("turn %s off for %s: %w", category, userID, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return category, nil
}
