package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

type emailChange struct {
	bun.BaseModel `bun:"table:email_changes"`

	ID        string     `bun:"id,pk"`
	TokenHash string     `bun:"token_hash"`
	UserID    string     `bun:"user_id"`
	OldEmail  string     `bun:"old_email"`
	NewEmail  string     `bun:"new_email"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

var errEmailTaken = &errs.Problem{Kind: errs.ErrConflict, Code: "email_taken", Detail: "an account with this email already exists"}

// changeToken is the secret of email change changeID (see linkToken).
func (s *Service) changeToken(changeID string) string { return s.linkToken("email-change", changeID) }

// EmailChangeMailArgs mails the link to the new address.
type EmailChangeMailArgs struct {
	ChangeID string `json:"change_id"`
}

// Kind names the job.
func (EmailChangeMailArgs) Kind() string { return "identity.email_change_mail" }

// EmailChangeNoticeArgs tells the old address that a change was asked: if
// someone else holds the session, the owner hears of it.
type EmailChangeNoticeArgs struct {
	ChangeID string `json:"change_id"`
}

// Kind names the job.
func (EmailChangeNoticeArgs) Kind() string { return "identity.email_change_notice" }

type emailChangeMailWorker struct {
	river.WorkerDefaults[EmailChangeMailArgs]
	s *Service
}

func (w *emailChangeMailWorker) Work(ctx context.Context, job *river.Job[EmailChangeMailArgs]) error {
	c, u, err := w.s.changeAndUser(ctx, job.Args.ChangeID)
	if err != nil || c == nil || c.UsedAt != nil || !w.s.now().Before(c.ExpiresAt) {
		return err // nothing left to send when the link no longer works
	}
	token := w.s.changeToken(c.ID)
	link, linkURL := "POST /v1/auth/verify-email with {\"token\": \""+token+"\"}", ""
	if w.s.cfg.PublicURL != "" {
		linkURL = w.s.cfg.PublicURL + "/verify-email?token=" + url.QueryEscape(token)
		link = linkURL
	}
	return w.s.sendTemplate(ctx, "email_change", u.Language, c.NewEmail, map[string]any{
		"Name": u.Name, "Hours": int(EmailVerificationTTL.Hours()), "Link": link, "URL": linkURL, "NewEmail": c.NewEmail, "OldEmail": c.OldEmail,
	})
}

type emailChangeNoticeWorker struct {
	river.WorkerDefaults[EmailChangeNoticeArgs]
	s *Service
}

func (w *emailChangeNoticeWorker) Work(ctx context.Context, job *river.Job[EmailChangeNoticeArgs]) error {
	c, u, err := w.s.changeAndUser(ctx, job.Args.ChangeID)
	if err != nil || c == nil {
		return err
	}
	// Sent even when the change is confirmed already: the old address is
	// the one that must hear of it.
	return w.s.sendTemplate(ctx, "email_change_notice", u.Language, c.OldEmail, map[string]any{
		"Name": u.Name, "NewEmail": c.NewEmail, "OldEmail": c.OldEmail,
	})
}

// changeAndUser reads a change and its account; nil, nil, nil when either
// is gone.
func (s *Service) changeAndUser(ctx context.Context, changeID string) (*emailChange, *User, error) {
	var c emailChange
	if err := s.db.NewSelect().Model(&c).Where("id = ?", changeID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("read email change: %w", err)
	}
	u, err := s.getUser(ctx, s.db, c.UserID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return &c, u, nil
}

// requestEmailChange stores newEmail as u's pending address and queues the
// link to it and the notice to the old one, in tx. An address another
// account has is refused as registration refuses it; asking for one more
// link within verificationInterval is 429.
func (s *Service) requestEmailChange(ctx context.Context, tx bun.Tx, u *User, newEmail string) error {
	now := s.now()
	taken, err := tx.NewSelect().Model((*User)(nil)).Where("email = ? AND id <> ?", newEmail, u.ID).Exists(ctx)
	if err != nil {
		return fmt.Errorf("check email: %w", err)
	}
	if taken {
		return errEmailTaken
	}
	var last emailChange
	err = tx.NewSelect().Model(&last).Where("user_id = ?", u.ID).Order("created_at DESC").Limit(1).Scan(ctx)
	switch {
	case err == nil && now.Sub(last.CreatedAt) < verificationInterval:
		return &errs.RateLimitedError{RetryAfter: verificationInterval - now.Sub(last.CreatedAt)}
	case err != nil && !isNoRows(err):
		return fmt.Errorf("read last email change: %w", err)
	}
	c := &emailChange{ID: id.New(), UserID: u.ID, OldEmail: u.Email, NewEmail: newEmail, CreatedAt: now, ExpiresAt: now.Add(EmailVerificationTTL)}
	c.TokenHash = hashToken(s.changeToken(c.ID))
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("store email change: %w", err)
	}
	for _, args := range []river.JobArgs{EmailChangeMailArgs{ChangeID: c.ID}, EmailChangeNoticeArgs{ChangeID: c.ID}} {
		if _, err := s.jobs.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("queue email change mail: %w", err)
		}
	}
	u.PendingEmail = &newEmail
	return nil
}

// hidePendingEmailIfLapsed clears u.PendingEmail (in memory) when its link
// can no longer be followed: expired, or not the latest change asked for.
// The column itself stays until the next change; the member sees what is
// still true.
func (s *Service) hidePendingEmailIfLapsed(ctx context.Context, u *User) error {
	if u.PendingEmail == nil {
		return nil
	}
	var last emailChange
	err := s.db.NewSelect().Model(&last).Where("user_id = ?", u.ID).Order("created_at DESC").Limit(1).Scan(ctx)
	switch {
	case isNoRows(err):
		u.PendingEmail = nil
	case err != nil:
		return fmt.Errorf("read last email change: %w", err)
	case last.UsedAt != nil || last.NewEmail != *u.PendingEmail || !s.now().Before(last.ExpiresAt):
		u.PendingEmail = nil
	}
	return nil
}

// confirmEmailChange swaps in the new address of the change whose token
// is, in tx: ok is false when no usable change has it. Only the latest
// address asked for can be confirmed.
func (s *Service) confirmEmailChange(ctx context.Context, tx bun.Tx, token string) (userID string, ok bool, err error) {
	now := s.now()
	var c emailChange
	err = db.ForUpdate(tx.NewSelect().Model(&c).Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), now)).Scan(ctx)
	if isNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("find email change: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*emailChange)(nil)).Set("used_at = ?", now).Where("id = ?", c.ID).Exec(ctx); err != nil {
		return "", false, fmt.Errorf("use email change: %w", err)
	}
	res, err := tx.NewUpdate().Model((*User)(nil)).
		Set("email = ?, pending_email = NULL, email_verified_at = ?, updated_at = ?", c.NewEmail, now, now).
		Where("id = ? AND pending_email = ? AND deleted_at IS NULL", c.UserID, c.NewEmail).Exec(ctx)
	if err != nil {
		if db.IsUnique(err) {
			return "", false, errEmailTaken
		}
		return "", false, fmt.Errorf("change email: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", false, nil // a later request replaced this address
	}
	if err := s.refreshSearchKey(ctx, tx, c.UserID); err != nil {
		return "", false, err
	}
	return c.UserID, true, nil
}
