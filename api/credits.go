package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/ledger"
)

type creditLotJSON struct {
	LotID        string     `json:"lot_id"`
	Unit         string     `json:"unit"`
	ResourceKind *string    `json:"resource_kind"`
	SiteID       *string    `json:"site_id"`
	Origin       string     `json:"origin"`
	OriginID     string     `json:"origin_id"`
	ExpiresAt    *time.Time `json:"expires_at"`
	Available    int64      `json:"available"`
	Pending      int64      `json:"pending"`
}

type creditTotalJSON struct {
	Unit         string  `json:"unit"`
	ResourceKind *string `json:"resource_kind"`
	Available    int64   `json:"available"`
	Pending      int64   `json:"pending"`
}

func kindOrNil(k string) *string {
	if k == "" {
		return nil
	}
	return &k
}

// handleMyCredits answers the caller's balances, by kind and by lot (each
// with its expiry), soonest-expiring first. The contributions made with
// the caller's verified email before they had an account are theirs first.
func (s *Server) handleMyCredits(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := ledger.MayHoldCredit(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Campaigns.ClaimContributions(r.Context(), p.UserID); err != nil {
		s.writeError(w, r, err)
		return
	}
	bs, err := s.Ledger.Balances(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Totals []creditTotalJSON `json:"totals"`
		Lots   []creditLotJSON   `json:"lots"`
	}{Totals: []creditTotalJSON{}, Lots: make([]creditLotJSON, len(bs))}
	for i, b := range bs {
		l := b.Lot
		out.Lots[i] = creditLotJSON{LotID: l.ID, Unit: l.Unit, ResourceKind: kindOrNil(l.ResourceKind), SiteID: l.SiteID, Origin: l.Origin,
			OriginID: l.OriginID, ExpiresAt: l.ExpiresAt, Available: b.Available, Pending: b.Pending}
		found := false
		for j := range out.Totals {
			t := &out.Totals[j]
			if t.Unit == l.Unit && ((t.ResourceKind == nil && l.ResourceKind == "") || (t.ResourceKind != nil && *t.ResourceKind == l.ResourceKind)) {
				t.Available += b.Available
				t.Pending += b.Pending
				found = true
			}
		}
		if !found {
			out.Totals = append(out.Totals, creditTotalJSON{Unit: l.Unit, ResourceKind: kindOrNil(l.ResourceKind), Available: b.Available, Pending: b.Pending})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type movementLineJSON struct {
	LotID        string  `json:"lot_id"`
	Unit         string  `json:"unit"`
	ResourceKind *string `json:"resource_kind"`
	Pending      bool    `json:"pending"`
	Amount       int64   `json:"amount"`
}

type movementJSON struct {
	ID            string             `json:"id"`
	Kind          string             `json:"kind"`
	Reason        string             `json:"reason"`
	ReservationID *string            `json:"reservation_id"`
	CampaignID    *string            `json:"campaign_id"`
	CounterpartID *string            `json:"counterpart_id"`
	CreatedAt     time.Time          `json:"created_at"`
	Lines         []movementLineJSON `json:"lines"`
}

func toMovementJSON(m *ledger.MemberMovement) movementJSON {
	out := movementJSON{ID: m.ID, Kind: m.Kind, Reason: m.Reason, ReservationID: m.ReservationID, CampaignID: m.CampaignID,
		CounterpartID: m.CounterpartID, CreatedAt: m.CreatedAt, Lines: make([]movementLineJSON, len(m.Lines))}
	for i, l := range m.Lines {
		out.Lines[i] = movementLineJSON{LotID: l.LotID, Unit: l.Unit, ResourceKind: kindOrNil(l.ResourceKind), Pending: l.Pending, Amount: l.Amount}
	}
	return out
}

// handleMyCreditMovements lists the movements of the caller's credit,
// oldest first, paginated.
func (s *Server) handleMyCreditMovements(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := ledger.MayHoldCredit(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mvs, err := s.Ledger.Movements(r.Context(), p, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(mvs, func(m *ledger.MemberMovement) movementJSON { return toMovementJSON(m) })
	if len(mvs) == limit {
		out.NextCursor = cursor(mvs[len(mvs)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// statementWindow reads the statement's from and to, once the caller is
// known to hold credit (a key learns that rule before any mistake in its
// query).
func (s *Server) statementWindow(w http.ResponseWriter, r *http.Request, p *identity.Principal) (time.Time, time.Time, bool) {
	if err := ledger.MayHoldCredit(p); err != nil {
		s.writeError(w, r, err)
		return time.Time{}, time.Time{}, false
	}
	from, to, err := s.window(r)
	if err == nil && !from.IsZero() && !to.IsZero() && !to.After(from) {
		err = badRequest(http.StatusBadRequest, "invalid_parameter", "to", "to must be after from")
	}
	if err != nil {
		s.writeError(w, r, err)
		return from, to, false
	}
	return from, to, true
}

func (s *Server) handleMyCreditStatementCSV(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, ok := s.statementWindow(w, r, p)
	if !ok {
		return
	}
	lines, err := s.Ledger.Statement(r.Context(), p, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := ledger.WriteStatementCSV(&buf, lines); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="releve-credits.csv"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}

func (s *Server) handleMyCreditStatementPDF(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, ok := s.statementWindow(w, r, p)
	if !ok {
		return
	}
	pdf, err := s.Ledger.StatementPDF(r.Context(), p, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="releve-credits.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(pdf)
}

type creditAmountInput struct {
	Unit         string  `json:"unit"`
	ResourceKind *string `json:"resource_kind"`
	Amount       int64   `json:"amount"`
}

func (c creditAmountInput) kind() string {
	if c.ResourceKind == nil {
		return ""
	}
	return *c.ResourceKind
}

// handleGiftCredits gives some of the caller's credit to another member,
// named by email.
func (s *Server) handleGiftCredits(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		creditAmountInput
		ToEmail string `json:"to_email"`
		Message string `json:"message"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	mv, err := s.Ledger.Gift(r.Context(), p, ledger.CreditGift{ToEmail: in.ToEmail, Unit: in.Unit,
		ResourceKind: in.kind(), Amount: in.Amount, Message: in.Message})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toMovementJSON(mv))
}

// handleUserCredits lets a manager grant or withdraw a member's credit at
// a site they manage, with a reason.
func (s *Server) handleUserCredits(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		creditAmountInput
		SiteID    string     `json:"site_id"`
		Action    string     `json:"action"`
		ExpiresAt *timestamp `json:"expires_at"`
		Reason    string     `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g := ledger.CreditGrant{UserID: r.PathValue("user_id"), SiteID: in.SiteID, Unit: in.Unit,
		ResourceKind: in.kind(), Amount: in.Amount, Reason: in.Reason}
	if in.ExpiresAt != nil {
		g.ExpiresAt = &in.ExpiresAt.Time
	}
	mv, err := s.Ledger.Adjust(r.Context(), p, in.Action, g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toMovementJSON(mv))
}
