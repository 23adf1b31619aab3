package identity

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
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
// the numbers as invoicing does. identity cannot import invoicing, which
// sits above it.
func (a *BillingAddress) check(v *errs.Validator, field string) {
	a.Name = strings.TrimSpace(a.Name)
	v.Check(strings.TrimSpace(a.Line1) != "" && strings.TrimSpace(a.PostalCode) != "" && strings.TrimSpace(a.City) != "",
		field+".address", "line1, postal_code and city are required on the invoice")
	v.Check(len(a.Country) == 2 && a.Country[0] >= 'A' && a.Country[0] <= 'Z' && a.Country[1] >= 'A' && a.Country[1] <= 'Z',
		field+".address.country", "must be an ISO 3166-1 alpha-2 code such as FR")
	if a.Country == "FR" {
		v.Check(len(a.PostalCode) == 5 && allDigits(a.PostalCode), field+".address.postal_code", "must be 5 digits in France")
	}
	strip := strings.NewReplacer(" ", "", ".", "", "-", "")
	a.SIREN = strip.Replace(a.SIREN)
	a.VATNumber = strings.ToUpper(strip.Replace(a.VATNumber))
	if a.IsBusiness {
		v.Check(len(a.SIREN) == 9 && allDigits(a.SIREN) && luhn(a.SIREN), field+".siren", "is required for a business buyer: 9 digits with a valid check digit")
		if strings.HasPrefix(a.VATNumber, "FR") {
			v.Check(validFrenchVAT(a.VATNumber, a.SIREN), field+".vat_number", "is not the French VAT number of this SIREN")
		} else {
			v.Check(a.VATNumber == "" || (len(a.VATNumber) >= 4 && len(a.VATNumber) <= 16), field+".vat_number", "must be an EU VAT number")
		}
	} else {
		v.Check(a.SIREN == "", field+".siren", "applies only to a business buyer")
		v.Check(a.VATNumber == "", field+".vat_number", "applies only to a business buyer")
	}
	for name, s := range map[string]string{"name": a.Name, "address.line1": a.Line1, "address.line2": a.Line2, "address.postal_code": a.PostalCode,
		"address.city": a.City} {
		v.Check(utf8.RuneCountInString(s) <= maxAddressField, field+"."+name, "must be at most %d characters", maxAddressField)
	}
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// validFrenchVAT checks FRkk + SIREN where kk = (12 + 3 × (SIREN mod 97)) mod 97.
func validFrenchVAT(vat, siren string) bool {
	if len(vat) != 13 || vat[4:] != siren || len(siren) != 9 || !allDigits(siren) {
		return false
	}
	var n int
	for _, c := range siren {
		n = (n*10 + int(c-'0')) % 97
	}
	return vat[2:4] == fmt.Sprintf("%02d", (12+3*n)%97)
}

// luhn is the check digit of SIREN numbers.
func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
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
