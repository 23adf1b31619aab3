package privacy

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// unpaidBalance is the 409 of a member who still owes money: nothing is
// erased, and the amount is given so that they can settle it first.
func unpaidBalance(cents int64) error {
	return &errs.Problem{Kind: errs.ErrConflict, Code: "unpaid_balance",
		Detail: "the account has an unpaid balance; settle it before erasing the account",
		Extra:  map[string]any{"amount_cents": cents}}
}

var errLastAdmin = &errs.Problem{Kind: errs.ErrConflict, Code: "last_admin",
	Detail: "the network's only admin cannot erase their account; make another account admin first"}

// EraseMe erases the caller's account, after checking their password (a
// 403 on password when wrong: an irreversible act needs a fresh proof).
// A member who owes money (open charges, a membership past due) gets a 409
// unpaid_balance with the amount, and nothing changes.
func (s *Service) EraseMe(ctx context.Context, p *identity.Principal, password string, c identity.ClientInfo) error {
	if err := mayEraseSelf(p); err != nil {
		return err
	}
	if err := s.cfg.Identity.ConfirmPassword(ctx, p, password, c); err != nil {
		return err
	}
	if p.IsAdmin() {
		// A network without an admin could not be run, nor erase anyone.
		if n, err := s.cfg.Identity.CountAdmins(ctx); err != nil {
			return err
		} else if n <= 1 {
			return errLastAdmin
		}
	}
	if err := s.checkBalance(ctx, s.db, p.UserID); err != nil {
		return err
	}
	return s.erase(ctx, p, p.UserID, true)
}

// EraseUser lets an admin erase a member's account on their request. It
// erases even with an unpaid balance, which stays on the books.
func (s *Service) EraseUser(ctx context.Context, p *identity.Principal, userID string) error {
	if err := mayEraseUser(p, userID); err != nil {
		return err
	}
	if _, err := s.cfg.Identity.GetUser(ctx, p, userID); err != nil {
		return err
	}
	return s.erase(ctx, p, userID, false)
}

func (s *Service) checkBalance(ctx context.Context, idb bun.IDB, userID string) error {
	cents, err := s.cfg.Billing.UnpaidBalance(ctx, idb, userID)
	if err != nil {
		return err
	}
	if cents > 0 {
		return unpaidBalance(cents)
	}
	return nil
}

// erase runs the erasure. The Stripe subscriptions are cancelled first,
// outside the transaction (a call to Stripe must not hold the database's
// locks): if Stripe cannot be reached nothing is erased and the caller may
// retry; if the transaction failed afterwards, the member is not billed
// again and Stripe's webhook cancels the membership. Then one transaction
// does what the database holds, each domain forgetting its part: the
// calendar cancels future reservations through its cancel path (events,
// mails, webhooks follow), billing ends memberships, identity pseudonymises
// the account and deletes its sessions and keys. Invoices, payments, the
// ledger and contributions stay as the law keeps them.
func (s *Service) erase(ctx context.Context, p *identity.Principal, userID string, refuseBalance bool) error {
	if err := s.cfg.Billing.CancelSubscriptions(ctx, userID); err != nil {
		return err
	}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if refuseBalance {
			// Again under the transaction: a charge may have come since.
			if err := s.checkBalance(ctx, tx, userID); err != nil {
				return err
			}
		}
		if err := s.cfg.Calendar.ForgetMember(ctx, p, tx, userID); err != nil {
			return err
		}
		if err := s.cfg.Billing.ForgetMember(ctx, tx, userID); err != nil {
			return err
		}
		if s.cfg.People != nil {
			if err := s.cfg.People.ForgetMember(ctx, tx, userID); err != nil {
				return err
			}
		}
		if s.cfg.Appointments != nil {
			if err := s.cfg.Appointments.ForgetMember(ctx, tx, userID); err != nil {
				return err
			}
		}
		if s.cfg.Ateliers != nil {
			if err := s.cfg.Ateliers.ForgetMember(ctx, tx, userID); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model((*exportRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete exports: %w", err)
		}
		return s.cfg.Identity.Erase(ctx, tx, userID)
	})
	// Whatever happened, no principal cached before it outlives it.
	s.cfg.Identity.ForgetPrincipals()
	return err
}
