package identity

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// loginDevice records that an account logged in with a device: a browser
// and a system, as simplifyUserAgent names them, not the whole User-Agent,
// which changes with every browser update.
type loginDevice struct {
	bun.BaseModel `bun:"table:login_devices,alias:ld"`

	UserID      string    `bun:"user_id,pk"`
	Device      string    `bun:"device,pk"`
	LastLoginAt time.Time `bun:"last_login_at"`
}

// noteDevice records the device of a login, in the login's transaction,
// and when the account has not used it in familiarFor and its member
// chose notifications.new_sign_in, queues the mail that tells them.
func (s *Service) noteDevice(ctx context.Context, tx bun.Tx, u *User, c ClientInfo, now time.Time) error {
	browser, system := simplifyUserAgent(c.UserAgent)
	key := browser + " | " + system
	known, err := tx.NewSelect().Model((*loginDevice)(nil)).
		Where("user_id = ? AND device = ? AND last_login_at >= ?", u.ID, key, now.Add(-familiarFor)).Exists(ctx)
	if err != nil {
		return fmt.Errorf("read login devices: %w", err)
	}
	row := &loginDevice{UserID: u.ID, Device: key, LastLoginAt: now}
	if _, err := tx.NewInsert().Model(row).On("CONFLICT (user_id, device) DO UPDATE").
		Set("last_login_at = EXCLUDED.last_login_at").Exec(ctx); err != nil {
		return fmt.Errorf("record login device: %w", err)
	}
	if known || !u.NotificationsOf().NewSignIn {
		return nil
	}
	args := NewSignInMailArgs{UserID: u.ID, At: now, Browser: browser, System: system, Address: c.IP}
	if _, err := s.jobs.InsertTx(ctx, tx, args, nil); err != nil {
		return fmt.Errorf("queue new sign-in mail: %w", err)
	}
	return nil
}

// NewSignInMailArgs is the durable job that tells a member about a login
// from a device their account had not used.
type NewSignInMailArgs struct {
	UserID  string    `json:"user_id"`
	At      time.Time `json:"at"`
	Browser string    `json:"browser"`
	System  string    `json:"system"`
	Address string    `json:"address"`
}

// Kind names the job.
func (NewSignInMailArgs) Kind() string { return "identity.new_sign_in_mail" }

type newSignInMailWorker struct {
	river.WorkerDefaults[NewSignInMailArgs]
	s *Service
}

// signInZone is the zone the new sign-in mail gives its time in: an
// account has none of its own, and Relais serves French tiers lieux.
var signInZone = mustLoadLocation("Europe/Paris")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Work mails the member, if their account is still active and they still
// want the notice.
func (w *newSignInMailWorker) Work(ctx context.Context, job *river.Job[NewSignInMailArgs]) error {
	s, a := w.s, job.Args
	to, err := s.Recipient(ctx, s.db, a.UserID)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		return err
	}
	if !to.Active || to.Email == "" || !to.Notifications.NewSignIn || s.cfg.Mailer == nil {
		return nil
	}
	at := a.At.In(signInZone)
	address := a.Address
	if address == "" {
		address = "?"
	}
	m, err := templates.Render("new_sign_in", to.Language, to.Email, map[string]any{
		"Name": to.Name, "Date": signInDate(at, to.Language), "Browser": a.Browser, "System": a.System,
		"Address": address,
	})
	if err != nil {
		return err
	}
	m.ListUnsubscribe = s.UnsubscribeURL(to.ID, CategoryNewSignIn)
	if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send new_sign_in: %w", err)
	}
	return nil
}

var (
	frenchDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// signInDate is "mardi 3 mars 2026 à 14 h 30" (no-break spaces around h)
// in French, "Tuesday 3 March 2026 at 14:30" in English.
func signInDate(t time.Time, lang string) string {
	if lang == LanguageEnglish {
		return t.Format("Monday 2 January 2006 at 15:04")
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %s %d à %d\u00a0h\u00a0%02d", frenchDays[t.Weekday()], day, frenchMonths[t.Month()-1],
		t.Year(), t.Hour(), t.Minute())
}

// simplifyUserAgent names the browser and system of a User-Agent, as a
// member recognises them ("Firefox", "Linux"), or "?" for what it cannot
// tell. The first match wins: Edge and Opera also say "Chrome", Chrome
// also says "Safari", Android also says "Linux".
func simplifyUserAgent(ua string) (browser, system string) {
	browser, system = "?", "?"
	for _, b := range [...]struct{ token, name string }{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	if browser == "?" && ua != "" && !strings.HasPrefix(ua, "Mozilla/") {
		// A program rather than a browser: its own name ("curl/8.5.0").
		name, _, _ := strings.Cut(ua, "/")
		browser = truncate(strings.TrimSpace(name), 40)
	}
	for _, o := range [...]struct{ token, name string }{{"Windows", "Windows"}, {"Android", "Android"}, {"iPhone", "iOS"},
		{"iPad", "iPadOS"}, {"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"}} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	return browser, system
}
