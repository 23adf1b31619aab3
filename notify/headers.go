package notify

import (
	"strings"
	"unicode"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// decorate sets the headers every mail about a site carries: Reply-To, the
// site's contact address when it has one, so that a member's answer
// reaches its team rather than the unattended sender; and, for a mail the
// member may turn off, List-Unsubscribe (RFC 8058 one-click, which
// internal/mail pairs with List-Unsubscribe-Post) turning off category,
// the identity.Category* of the mail. site may be nil, category "".
func (s *Service) decorate(m *mail.Message, userID, category string, site *calendar.Site) {
	if site != nil && site.ContactEmail != nil {
		m.ReplyTo = *site.ContactEmail
	}
	if category != "" {
		m.ListUnsubscribe = s.accounts.UnsubscribeURL(userID, category)
	}
}

// oneLine makes text typed by someone (a site's, a resource's or a
// member's name) safe to show in a subject: control characters, line
// breaks above all, become spaces. The API refuses them already; this
// holds for rows written any other way, so that a name can never start a
// header of its own nor make a mail unsendable.
func oneLine(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, text)
}
