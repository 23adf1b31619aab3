package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

// Walk-ins: people a manager registers at the desk (package people decides
// who may). A walk-in with an email gets an invitation, a password-reset
// link valid InvitationTTL (the same table, token and confirm route as a
// reset). A walk-in without one — common among the seniors and EPN users
// tiers lieux serve — is an account that cannot log in and is mailed
// nothing: its users.email holds noEmailPrefix and its id (the column is
// NOT NULL UNIQUE), which is not an address (NormalizeEmail refuses it, so
// no login, reset or registration can ever name it), and which every read
// of a User turns back into "" (AfterScanRow): Contact, Recipient and the
// API see an account without an email, and notify skips those.

// InvitationTTL is how long a walk-in's invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

const noEmailPrefix = "!no-email:"

var _ bun.AfterScanRowHook = (*User)(nil)

// AfterScanRow hides the stored stand-in of an account without an email.
func (u *User) AfterScanRow(context.Context) error {
	if strings.HasPrefix(u.Email, noEmailPrefix) {
		u.Email = ""
	}
	return nil
}

// HasEmail reports whether the account has an address to log in and be
// mailed at.
func (u *User) HasEmail() bool { return u.Email != "" }

// refreshSearchKey stores the account's search key (searchkey.Of) after a
// change of its name, email or phone.
func (s *Service) refreshSearchKey(ctx context.Context, idb bun.IDB, userID string) error {
	var u User
	if err := idb.NewSelect().Model(&u).Column("id", "name", "email", "phone", "deleted_at").Where("id = ?", userID).Scan(ctx); err != nil {
		return fmt.Errorf("read account for its search key: %w", err)
	}
	key := ""
	if u.DeletedAt == nil {
		key = searchkey.Of(u.Name, u.Email, u.Phone)
	}
	if _, err := idb.NewUpdate().Model((*User)(nil)).Set("search_key = ?", key).Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store search key: %w", err)
	}
	return nil
}

// WalkIn is a person registered at the desk.
type WalkIn struct {
	Name string
	// Email is optional: without one the account cannot log in and is
	// mailed nothing until a manager gives it one (EditWalkIn).
	Email string
	// Phone is optional, E.164.
	Phone string
	// Language of the invitation and later mail; "" is French.
	Language string
	// NoInvitation: a guest of the services (people.Guest) gives an email
	// for their notices, not to open an account, so none is mailed. They
	// can still take the account later through "forgot password".
	NoInvitation bool
}

// CreateWalkIn creates a member account in tx (a transaction) for package people, which
// has decided the caller may: with an email, an invitation is queued in
// tx; an email that already has an account is a 409 email_taken naming
// that account's user_id, so the desk can serve the existing person.
func (s *Service) CreateWalkIn(ctx context.Context, tx bun.IDB, in WalkIn) (*User, error) {
	var v errs.Validator
	email := ""
	if strings.TrimSpace(in.Email) != "" {
		var ok bool
		email, ok = NormalizeEmail(in.Email)
		v.Check(ok, "email", "must be a valid email address")
	}
	checkName(&v, "name", in.Name)
	checkPhone(&v, "phone", in.Phone)
	if in.Language == "" {
		in.Language = LanguageFrench
	}
	checkLanguage(&v, "language", in.Language)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if email != "" {
		if err := s.emailFree(ctx, tx, email); err != nil {
			return nil, err
		}
	}
	now := s.now()
	u := &User{ID: id.New(), Name: strings.TrimSpace(in.Name), Role: RoleMember, Language: in.Language,
		Phone: in.Phone, PasswordHash: s.dummy(), AwaitingPassword: true, CreatedAt: now, UpdatedAt: now}
	u.Email, u.SearchKey = email, searchkey.Of(u.Name, email, u.Phone)
	if email == "" {
		u.Email = noEmailPrefix + u.ID
	}
	if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
		if db.IsUnique(err) {
			return nil, s.emailFree(ctx, tx, email)
		}
		return nil, fmt.Errorf("insert walk-in: %w", err)
	}
	_ = u.AfterScanRow(ctx)
	if email != "" && !in.NoInvitation {
		return u, s.queueInvitation(ctx, tx, u.ID, email)
	}
	return u, nil
}

// WalkInEdit is the desk's correction of a walk-in's account; a nil field
// is left as it is.
type WalkInEdit struct {
	Name *string
	// Phone is E.164; "" removes it.
	Phone *string
	// Email gives the account an address, or corrects the one it was
	// registered with; it cannot be removed.
	Email *string
	// NoInvitation: as WalkIn's, for a guest's new address.
	NoInvitation bool
}

var errClaimed = errs.Problemf(errs.ErrForbidden, "person_edits_own_profile",
	"this person has chosen their password: they edit their own name, phone and email")

// EditWalkIn applies e to an account registered at a desk whose owner has
// not chosen a password yet (AwaitingPassword), in tx (a transaction), for
// package people, which has decided the caller may. A new address gets the
// invitation, and the links mailed to the previous one stop working:
// whoever follows an invitation chooses the account's password, so only
// the address the desk now gives may. An account whose owner has chosen a
// password meanwhile is refused (403 person_edits_own_profile): from then
// on only they change it, since whoever sets an address can reset the
// password sent to it.
func (s *Service) EditWalkIn(ctx context.Context, tx bun.IDB, userID string, e WalkInEdit) (*User, error) {
	var v errs.Validator
	email := ""
	if e.Name != nil {
		checkName(&v, "name", *e.Name)
	}
	if e.Phone != nil {
		checkPhone(&v, "phone", *e.Phone)
	}
	if e.Email != nil {
		var ok bool
		email, ok = NormalizeEmail(*e.Email)
		v.Check(ok, "email", "must be a valid email address")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u, err := s.getUser(ctx, tx, userID)
	if err != nil {
		return nil, err
	}
	if !u.AwaitingPassword {
		return nil, errClaimed
	}
	now := s.now()
	q := tx.NewUpdate().Model((*User)(nil)).Set("updated_at = ?", now)
	if e.Name != nil {
		u.Name = strings.TrimSpace(*e.Name)
		q = q.Set("name = ?", u.Name)
	}
	if e.Phone != nil {
		u.Phone = *e.Phone
		q = q.Set("phone = ?", u.Phone)
	}
	newEmail := e.Email != nil && email != u.Email
	if newEmail {
		if err := s.emailFree(ctx, tx, email); err != nil {
			return nil, err
		}
		u.Email, u.EmailVerifiedAt = email, nil
		q = q.Set("email = ?, email_verified_at = NULL", email)
	}
	// The owner may have chosen a password since it was read: the
	// condition is checked again by the update itself.
	res, err := q.Where("id = ? AND awaiting_password = ?", u.ID, true).Exec(ctx)
	if err != nil {
		if db.IsUnique(err) {
			return nil, s.emailFree(ctx, tx, email)
		}
		return nil, fmt.Errorf("edit walk-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, errClaimed
	}
	if err := s.refreshSearchKey(ctx, tx, u.ID); err != nil {
		return nil, err
	}
	if !newEmail {
		return u, nil
	}
	// Links mailed to the previous address stop working, invited or not.
	if _, err := tx.NewUpdate().Model((*passwordReset)(nil)).Set("used_at = ?", now).
		Where("user_id = ? AND used_at IS NULL", u.ID).Exec(ctx); err != nil {
		return nil, fmt.Errorf("end links to the previous address: %w", err)
	}
	if e.NoInvitation {
		return u, nil
	}
	return u, s.queueInvitation(ctx, tx, u.ID, email)
}

// emailFree is nil when no account has email, else the 409 that names the
// account (deleted ones have freed theirs), and says how to attach it.
func (s *Service) emailFree(ctx context.Context, idb bun.IDB, email string) error {
	var u User
	err := idb.NewSelect().Model(&u).Column("id").Where("email = ?", email).Scan(ctx)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find account by email: %w", err)
	}
	p := errs.Problemf(errs.ErrConflict, "email_taken",
		"an account with this email already exists: serve that person by their user_id (payments, bookings and notes take it)")
	p.Extra = map[string]any{"user_id": u.ID}
	return p
}

// queueInvitation stores a password-reset link valid InvitationTTL for
// email, the account's address, and queues its mail, in tx.
func (s *Service) queueInvitation(ctx context.Context, tx bun.IDB, userID, email string) error {
	now := s.now()
	r := &passwordReset{ID: id.New(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL), InvitedEmail: &email}
	r.TokenHash = hashToken(s.resetToken(r.ID))
	if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("store invitation: %w", err)
	}
	if _, err := s.jobs.InsertTx(ctx, tx, InvitationMailArgs{ResetID: r.ID}, nil); err != nil {
		return fmt.Errorf("queue invitation mail: %w", err)
	}
	return nil
}

// InvitationMailArgs is the durable job that mails a walk-in their
// invitation to choose a password.
type InvitationMailArgs struct {
	ResetID string `json:"reset_id"`
}

// Kind names the job.
func (InvitationMailArgs) Kind() string { return "identity.invitation_mail" }

type invitationMailWorker struct {
	river.WorkerDefaults[InvitationMailArgs]
	s *Service
}

func (w *invitationMailWorker) Work(ctx context.Context, job *river.Job[InvitationMailArgs]) error {
	s := w.s
	r, u, err := s.resetToMail(ctx, job.Args.ResetID)
	if err != nil || r == nil || !u.Active() || !u.HasEmail() {
		return err
	}
	link, linkURL := s.resetLink(r.ID)
	return s.sendTemplate(ctx, "invitation", u.Language, u.Email, map[string]any{
		"Name": u.Name, "Days": int(InvitationTTL.Hours() / 24), "Link": link, "URL": linkURL, "Email": u.Email,
	})
}

// AddManagerByEmail makes the account of email a manager of siteID, as
// AddManager does, and returns its id. Admins only.
func (s *Service) AddManagerByEmail(ctx context.Context, p *Principal, siteID, email string) (string, error) {
	if !p.IsAdmin() {
		return "", errs.ErrForbidden
	}
	norm, ok := NormalizeEmail(email)
	if !ok {
		return "", errs.Invalid("email", "must be a valid email address")
	}
	var u User
	err := s.db.NewSelect().Model(&u).Column("id").Where("email = ? AND deleted_at IS NULL", norm).Scan(ctx)
	if isNoRows(err) {
		return "", errs.Invalid("email", "no account has this email")
	}
	if err != nil {
		return "", fmt.Errorf("find manager by email: %w", err)
	}
	return u.ID, s.AddManager(ctx, p, siteID, u.ID)
}

// Person is an account as the front desk shows it (package people).
type Person struct {
	ID        string
	Name      string
	Email     string // "" for an account without an email
	Phone     string
	Language  string
	CreatedAt time.Time
	Disabled  bool
	// AwaitingPassword: registered at a desk, the person has not chosen a
	// password yet (User.AwaitingPassword).
	AwaitingPassword bool
}

// People returns the accounts of ids, not deleted, by id, for package
// people, which has decided the caller may see them.
func (s *Service) People(ctx context.Context, idb bun.IDB, ids []string) (map[string]Person, error) {
	out := make(map[string]Person, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var us []User
	if err := idb.NewSelect().Model(&us).Column("id", "name", "email", "phone", "language", "created_at", "disabled_at", "awaiting_password").
		Where("id IN (?) AND deleted_at IS NULL", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	for _, u := range us {
		out[u.ID] = Person{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Language: u.Language,
			CreatedAt: u.CreatedAt, Disabled: u.DisabledAt != nil, AwaitingPassword: u.AwaitingPassword}
	}
	return out, nil
}
