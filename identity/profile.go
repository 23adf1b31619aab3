package identity

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/legalid"
)

// BillingAddress is who a member's invoices are made out to when a
// purchase names nobody: the same fields, and the same rules, as the buyer
// billing takes with a payment (invoicing.Buyer). identity cannot import
// invoicing (it sits below the domains), so billing converts it.
type BillingAddress struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
	IsBusiness bool   `json:"is_business"`
	SIREN      string `json:"siren,omitempty"`
	VATNumber  string `json:"vat_number,omitempty"`
}

// maxAddressField bounds each field of an address.
const maxAddressField = 200

// check applies the rules invoicing applies to a buyer (invoicing's
// draftBuyer, billing's checkBuyer), so that an address accepted here is
// one an invoice can be made out to: line1, postal_code, city and an ISO
// country (5 digits for a French postal code); a business's SIREN with its
// check digit; no SIREN or VAT number for a private buyer. It normalises
// the numbers as invoicing does (internal/legalid). identity cannot import
// invoicing, which sits above it.
func (a *BillingAddress) check(v *errs.Validator, field string) {
	a.Name = strings.TrimSpace(a.Name)
	v.Check(strings.TrimSpace(a.Line1) != "" && strings.TrimSpace(a.PostalCode) != "" && strings.TrimSpace(a.City) != "",
		field+".address", "line1, postal_code and city are required on the invoice")
	v.Check(len(a.Country) == 2 && a.Country[0] >= 'A' && a.Country[0] <= 'Z' && a.Country[1] >= 'A' && a.Country[1] <= 'Z',
		field+".address.country", "must be an ISO 3166-1 alpha-2 code such as FR")
	if a.Country == "FR" {
		v.Check(len(a.PostalCode) == 5 && legalid.AllDigits(a.PostalCode), field+".address.postal_code", "must be 5 digits in France")
	}
	legalid.CheckBuyer(v, field, a.IsBusiness, &a.SIREN, &a.VATNumber)
	// In a fixed order, so that the same input always names its fields in
	// the same order.
	for _, f := range [...]struct{ name, value string }{{"name", a.Name}, {"address.line1", a.Line1}, {"address.line2", a.Line2},
		{"address.postal_code", a.PostalCode}, {"address.city", a.City}} {
		v.Check(utf8.RuneCountInString(f.value) <= maxAddressField, field+"."+f.name, "must be at most %d characters", maxAddressField)
	}
}

// Notification categories: the mail a member may turn off. Password
// reset and email change mails are not among them: they are always sent.
type Notifications struct {
	Bookings    bool `json:"bookings"`     // booking confirmed, moved, cancelled
	Reminders   bool `json:"reminders"`    // before each booking
	WaitingList bool `json:"waiting_list"` // an offer, and its lapse
	Membership  bool `json:"membership"`   // payments, renewals, cancellation
	Credits     bool `json:"credits"`      // vested, about to expire, gifts
	Machines    bool `json:"machines"`     // a machine left on, about to be switched off
	Devices     bool `json:"devices"`      // managers: a device offline
	NewSignIn   bool `json:"new_sign_in"`  // a login from an unknown device
	// ReminderMinutesBefore: when the reminder goes, 0 for none.
	ReminderMinutesBefore int `json:"reminder_minutes_before"`
}

// MaxReminderMinutesBefore bounds reminders to a week ahead.
const MaxReminderMinutesBefore = 7 * 24 * 60

// DefaultNotifications is what an account that never chose receives:
// everything but sign-in notices, reminders an hour before.
var DefaultNotifications = Notifications{Bookings: true, Reminders: true, WaitingList: true, Membership: true,
	Credits: true, Machines: true, Devices: true, ReminderMinutesBefore: 60}

// NotificationsOf returns the member's choices, or the defaults.
func (u *User) NotificationsOf() Notifications {
	if u.Notifications == nil {
		return DefaultNotifications
	}
	return *u.Notifications
}

// NotificationsPatch changes some of a member's choices; nil fields stay.
type NotificationsPatch struct {
	Bookings, Reminders, WaitingList, Membership, Credits, Machines, Devices, NewSignIn *bool
	ReminderMinutesBefore                                                               *int
}

func (p *NotificationsPatch) apply(n Notifications) Notifications {
	for _, f := range []struct {
		from *bool
		to   *bool
	}{{p.Bookings, &n.Bookings}, {p.Reminders, &n.Reminders}, {p.WaitingList, &n.WaitingList}, {p.Membership, &n.Membership},
		{p.Credits, &n.Credits}, {p.Machines, &n.Machines}, {p.Devices, &n.Devices}, {p.NewSignIn, &n.NewSignIn}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if p.ReminderMinutesBefore != nil {
		n.ReminderMinutesBefore = *p.ReminderMinutesBefore
	}
	return n
}

// checkPhone accepts E.164: "+" and 8 to 15 digits, the first not 0.
func checkPhone(v *errs.Validator, field, phone string) {
	if phone == "" {
		return
	}
	ok := len(phone) >= 9 && len(phone) <= 16 && phone[0] == '+' && phone[1] != '0'
	for _, r := range phone[1:] {
		ok = ok && r >= '0' && r <= '9'
	}
	v.Check(ok, field, "must be in E.164 form: + and 8 to 15 digits, such as +33612345678")
}

// BillingAddress returns the billing address the member keeps on their
// account, or nil when they keep none (or the account is gone). billing
// uses it as the buyer of a purchase that names nobody.
func (s *Service) BillingAddress(ctx context.Context, idb bun.IDB, userID string) (*BillingAddress, error) {
	var u User
	err := idb.NewSelect().Model(&u).Column("billing_address").Where("id = ? AND deleted_at IS NULL", userID).Scan(ctx)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read billing address: %w", err)
	}
	return u.BillingAddress, nil
}
