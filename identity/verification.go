package identity

import (
	"context"
	"database/sql"
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

// EmailVerificationTTL is how long a verification link works.
const EmailVerificationTTL = 48 * time.Hour

// verificationInterval is the least time between two links sent to one
// account: a member asking again gets 429, a script cannot make relais
// mail someone in a loop.
const verificationInterval = time.Minute

type emailVerification struct {
	bun.BaseModel `bun:"table:email_verifications"`

	TokenHash string     `bun:"token_hash,pk"`
	UserID    string     `bun:"user_id"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

var errAlreadyVerified = &errs.Problem{Kind: errs.ErrConflict, Code: "email_already_verified", Detail: "this email address is verified already"}

// SendEmailVerification mails the account's address a link (a token, valid
// EmailVerificationTTL, usable once) that proves the member reads it, at
// most once every verificationInterval. Earlier links keep working until
// they expire.
func (s *Service) SendEmailVerification(ctx context.Context, userID string) error {
	return s.sendVerification(ctx, userID, true)
}

// VerificationMailArgs is the durable job that mails a new member their
// link: registration answers at once, and a relay that is down is retried.
type VerificationMailArgs struct {
	UserID string `json:"user_id"`
}

// Kind keeps the name the job had when identity was part of access: jobs
// already queued under it must still find their worker.
func (VerificationMailArgs) Kind() string { return "access.verification_mail" }

type verificationMailWorker struct {
	river.WorkerDefaults[VerificationMailArgs]
	s *Service
}

func (w *verificationMailWorker) Work(ctx context.Context, job *river.Job[VerificationMailArgs]) error {
	err := w.s.sendVerification(ctx, job.Args.UserID, false)
	if errors.Is(err, errAlreadyVerified) || errors.Is(err, errs.ErrNotFound) {
		return nil // nothing left to send
	}
	return err
}

// AddWorkers registers identity's job kinds.
func (s *Service) AddWorkers(w *river.Workers) error {
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(w, &verificationMailWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &passwordResetMailWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &emailChangeMailWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &emailChangeNoticeWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &newSignInMailWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &invitationMailWorker{s: s}) },
	} {
		if err := add(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) sendVerification(ctx context.Context, userID string, limited bool) error {
	var u User
	if err := s.db.NewSelect().Model(&u).Where("id = ? AND deleted_at IS NULL", userID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return &errs.Problem{Kind: errs.ErrNotFound, Code: "user_not_found", Detail: "no such account"}
		}
		return fmt.Errorf("read user: %w", err)
	}
	if u.EmailVerifiedAt != nil {
		return errAlreadyVerified
	}
	now := s.now()
	if limited {
		var last emailVerification
		err := s.db.NewSelect().Model(&last).Where("user_id = ?", userID).Order("created_at DESC").Limit(1).Scan(ctx)
		switch {
		case err == nil && now.Sub(last.CreatedAt) < verificationInterval:
			return &errs.RateLimitedError{RetryAfter: verificationInterval - now.Sub(last.CreatedAt)}
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("read last verification: %w", err)
		}
	}
	token := id.Secret(32)
	v := &emailVerification{TokenHash: hashToken(token), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(EmailVerificationTTL)}
	if _, err := s.db.NewInsert().Model(v).Exec(ctx); err != nil {
		return fmt.Errorf("store verification: %w", err)
	}
	link, linkURL := "POST /v1/auth/verify-email with {\"token\": \""+token+"\"}", ""
	if s.cfg.PublicURL != "" {
		linkURL = s.cfg.PublicURL + "/verify-email?token=" + url.QueryEscape(token)
		link = linkURL
	}
	return s.sendTemplate(ctx, "email_verification", u.Language, u.Email, map[string]any{
		"Name": u.Name, "Hours": int(EmailVerificationTTL.Hours()), "Link": link, "URL": linkURL,
	})
}

// rowsAffected is how many rows a statement changed; 0 when it failed.
func rowsAffected(res sql.Result, err error) int64 {
	if err != nil || res == nil {
		return 0
	}
	n, _ := res.RowsAffected()
	return n
}

// VerifyEmail marks verified the address of the account whose link token
// is, and returns the account. The link mailed to a new address (an email
// change) is followed here too: it makes the new address the account's,
// verified. A token serves once; an expired, used or
// unknown one is refused alike.
func (s *Service) VerifyEmail(ctx context.Context, token string) (*User, error) {
	invalid := errs.Invalid("token", "is unknown, used or expired; ask for a new link")
	if token == "" || len(token) > 200 {
		return nil, invalid
	}
	now := s.now()
	var u *User
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var userID string
		res, err := tx.NewUpdate().Model((*emailVerification)(nil)).Set("used_at = ?", now).
			Where("token_hash = ? AND used_at IS NULL AND expires_at > ?", hashToken(token), now).
			Returning("user_id").Exec(ctx, &userID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("use verification: %w", err)
		}
		if n := rowsAffected(res, err); n != 1 {
			// Not a registration's link: perhaps the one mailed to a new
			// address (PATCH /v1/me {email}), which swaps it in.
			id, ok, err := s.confirmEmailChange(ctx, tx, token)
			if err != nil {
				return err
			}
			if !ok {
				return invalid
			}
			userID = id
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("email_verified_at = ?, updated_at = ?", now, now).
			Where("id = ? AND email_verified_at IS NULL AND deleted_at IS NULL", userID).Exec(ctx); err != nil {
			return fmt.Errorf("verify email: %w", err)
		}
		u = new(User)
		if err := tx.NewSelect().Model(u).Where("id = ? AND deleted_at IS NULL", userID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return invalid
			}
			return fmt.Errorf("read user: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
