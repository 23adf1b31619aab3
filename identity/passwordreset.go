package identity

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// PasswordResetTTL is how long a password reset link works.
const PasswordResetTTL = time.Hour

// passwordResetInterval is the least time between two reset mails to one
// account: asking again sooner sends nothing (and says nothing, as for an
// unknown address), so nobody can make relais mail someone in a loop.
const passwordResetInterval = time.Minute

type passwordReset struct {
	bun.BaseModel `bun:"table:password_resets"`

	ID        string     `bun:"id,pk"`
	TokenHash string     `bun:"token_hash"`
	UserID    string     `bun:"user_id"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
	// InvitedEmail is, for a walk-in's invitation, the address it was
	// mailed to: setting the password through it while the account still
	// has that address proves the address.
	InvitedEmail *string `bun:"invited_email"`
}

// linkToken is the secret of a mailed link (purpose "password-reset" or
// "email-change", of the row id): derived from the service's secret rather
// than drawn at random, so that the mail job carries only the id and no
// token is ever stored in clear, not even in the job queue. Without the
// secret, an id (or the stored hash) gives nothing.
func (s *Service) linkToken(purpose, id string) string {
	mac := hmac.New(sha256.New, s.cfg.JWTSecret)
	mac.Write([]byte(purpose + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// resetToken is the secret of reset resetID.
func (s *Service) resetToken(resetID string) string { return s.linkToken("password-reset", resetID) }

// PasswordResetMailArgs is the durable job that mails a reset link. It is
// queued in the transaction that stores the reset, so a request gives
// exactly one job, and a relay that is down is retried.
type PasswordResetMailArgs struct {
	ResetID string `json:"reset_id"`
}

// Kind names the job.
func (PasswordResetMailArgs) Kind() string { return "identity.password_reset_mail" }

type passwordResetMailWorker struct {
	river.WorkerDefaults[PasswordResetMailArgs]
	s *Service
}

func (w *passwordResetMailWorker) Work(ctx context.Context, job *river.Job[PasswordResetMailArgs]) error {
	s := w.s
	r, u, err := s.resetToMail(ctx, job.Args.ResetID)
	if err != nil || r == nil {
		return err
	}
	link, linkURL := s.resetLink(r.ID)
	return s.sendTemplate(ctx, "password_reset", u.Language, u.Email, map[string]any{
		"Name": u.Name, "Minutes": int(PasswordResetTTL.Minutes()), "Link": link, "URL": linkURL,
	})
}

// resetToMail reads reset resetID and its account for the job that mails
// its link (a password reset's or a walk-in's invitation); r is nil when
// there is nothing to send: the row pruned, the link used or expired (a
// link that no longer works is not worth a mail), the account gone.
func (s *Service) resetToMail(ctx context.Context, resetID string) (r *passwordReset, u *User, err error) {
	r = &passwordReset{}
	if err := s.db.NewSelect().Model(r).Where("id = ?", resetID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("read password reset: %w", err)
	}
	if r.UsedAt != nil || !s.now().Before(r.ExpiresAt) {
		return nil, nil, nil
	}
	u, err = s.getUser(ctx, s.db, r.UserID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return r, u, nil
}

// resetLink is the link of reset resetID as a mail gives it: the app's
// page on --public-url, or else the API call to make with the token.
func (s *Service) resetLink(resetID string) (link, linkURL string) {
	token := s.resetToken(resetID)
	if s.cfg.PublicURL == "" {
		return "POST /v1/auth/password-reset/confirm with {\"token\": \"" + token + "\", \"new_password\": \"…\"}", ""
	}
	linkURL = s.cfg.PublicURL + "/reset-password?token=" + url.QueryEscape(token)
	return linkURL, linkURL
}

// RequestPasswordReset mails the account of email, if there is an active
// one, a link to choose a new password (valid PasswordResetTTL, usable
// once), at most once every passwordResetInterval. Whether the account
// exists is never told: the answer is the same, and the mail is sent by a
// job, so that the time taken does not tell either. Requests are limited
// per client address.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, c ClientInfo) error {
	if err := s.LimitIP(ctx, "password-reset", c.IP); err != nil {
		return err
	}
	norm, ok := NormalizeEmail(email)
	if !ok {
		return errs.Invalid("email", "must be a valid email address")
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var u User
		// The row lock makes two concurrent requests for one account send
		// one mail, not two.
		err := db.ForUpdate(tx.NewSelect().Model(&u).Where("email = ? AND deleted_at IS NULL AND disabled_at IS NULL", norm)).Scan(ctx)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		now := s.now()
		recent, err := tx.NewSelect().Model((*passwordReset)(nil)).
			Where("user_id = ? AND created_at > ?", u.ID, now.Add(-passwordResetInterval)).Count(ctx)
		if err != nil {
			return fmt.Errorf("count recent resets: %w", err)
		}
		if recent > 0 {
			return nil
		}
		r := &passwordReset{ID: id.New(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordResetTTL)}
		r.TokenHash = hashToken(s.resetToken(r.ID))
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return fmt.Errorf("store password reset: %w", err)
		}
		if _, err := s.jobs.InsertTx(ctx, tx, PasswordResetMailArgs{ResetID: r.ID}, nil); err != nil {
			return fmt.Errorf("queue password reset mail: %w", err)
		}
		return nil
	})
}

// ResetPassword sets the password of the account whose reset link token
// is, and ends every session of the account: whoever knew the old password
// is out. The token serves once; an unknown, used or expired one is refused
// alike. Other links of the account stop working too.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string, c ClientInfo) error {
	defer s.principals.Invalidate() // after the change is committed
	if err := s.LimitIP(ctx, "password-reset-confirm", c.IP); err != nil {
		return err
	}
	invalid := errs.Invalid("token", "is unknown, used or expired; ask for a new link")
	var v errs.Validator
	v.Check(token != "" && len(token) <= 200, "token", "is unknown, used or expired; ask for a new link")
	checkPassword(&v, "new_password", newPassword)
	if err := v.Err(); err != nil {
		return err
	}
	hash := HashPassword(newPassword, s.cfg.Hash) // argon2, outside the transaction
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		var userID string
		res, err := tx.NewUpdate().Model((*passwordReset)(nil)).Set("used_at = ?", now).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), now).
			Returning("user_id").Exec(ctx, &userID)
		if isNoRows(err) {
			return invalid
		}
		if err != nil {
			return fmt.Errorf("use password reset: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return invalid
		}
		u, err := s.getUser(ctx, tx, userID)
		if errors.Is(err, errs.ErrNotFound) || (err == nil && !u.Active()) {
			return invalid
		}
		if err != nil {
			return err
		}
		set := tx.NewUpdate().Model((*User)(nil)).Set("password_hash = ?, awaiting_password = ?, updated_at = ?", hash, false, now)
		var invited *string
		if err := tx.NewSelect().Model((*passwordReset)(nil)).Column("invited_email").
			Where("token_hash = ?", hashToken(token)).Scan(ctx, &invited); err != nil {
			return fmt.Errorf("read invitation: %w", err)
		}
		if invited != nil && *invited == u.Email && u.EmailVerifiedAt == nil {
			// The invitation was mailed to this address and followed: the
			// address is the member's, as a verification link would prove.
			set = set.Set("email_verified_at = ?", now)
		}
		if _, err := set.Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*session)(nil)).
			Set("revoked_at = ?, revoked_reason = ?", now, "password_reset").
			Where("user_id = ? AND revoked_at IS NULL", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*passwordReset)(nil)).Set("used_at = ?", now).
			Where("user_id = ? AND used_at IS NULL", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("end other reset links: %w", err)
		}
		return nil
	})
}
