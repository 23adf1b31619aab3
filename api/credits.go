package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
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

// noAPIKey refuses credentials that hold no credit of their own.
func (s *Server) noAPIKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) bool {
	if p.IsAPIKey() {
		s.writeError(w, r, badRequest(http.StatusForbidden, "forbidden", "", "an API key holds no credit"))
		return false
	}
	return true
}

// handleMyCredits answers the caller's balances, by kind and by lot (each
// with its expiry), soonest-expiring first.
func (s *Server) handleMyCredits(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !s.noAPIKey(w, r, p) {
		return
	}
	bs, err := s.Billing.Balances(r.Context(), p.UserID)
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

func toMovementJSON(m *billing.MemberMovement) movementJSON {
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
	if !s.noAPIKey(w, r, p) {
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mvs, err := s.Billing.Movements(r.Context(), p.UserID, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(mvs, func(m *billing.MemberMovement) movementJSON { return toMovementJSON(m) })
	if len(mvs) == limit {
		out.NextCursor = cursor(mvs[len(mvs)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) statement(w http.ResponseWriter, r *http.Request, p *identity.Principal) ([]billing.StatementLine, time.Time, time.Time, bool) {
	if !s.noAPIKey(w, r, p) {
		return nil, time.Time{}, time.Time{}, false
	}
	from, to, err := queryWindow(r)
	if err == nil && !from.IsZero() && !to.IsZero() && !to.After(from) {
		err = badRequest(http.StatusBadRequest, "invalid_parameter", "to", "to must be after from")
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil, from, to, false
	}
	lines, err := s.Billing.Statement(r.Context(), p.UserID, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return nil, from, to, false
	}
	return lines, from, to, true
}

func (s *Server) handleMyCreditStatementCSV(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	lines, _, _, ok := s.statement(w, r, p)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := billing.WriteStatementCSV(&buf, lines); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="releve-credits.csv"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}

func (s *Server) handleMyCreditStatementPDF(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	lines, from, to, ok := s.statement(w, r, p)
	if !ok {
		return
	}
	u, err := s.Access.GetUser(r.Context(), p, p.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pdf, err := billing.StatementPDF(u.Name+" <"+u.Email+">", from, to, s.Billing.Now(), lines)
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
	if !s.noAPIKey(w, r, p) {
		return
	}
	mv, err := s.Billing.Gift(r.Context(), billing.CreditGift{FromUserID: p.UserID, ToEmail: in.ToEmail, Unit: in.Unit,
		ResourceKind: in.kind(), Amount: in.Amount, Message: in.Message})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMovement(w, r, p.UserID, mv.ID)
}

// writeMovement answers a movement just made as userID sees it.
func (s *Server) writeMovement(w http.ResponseWriter, r *http.Request, userID, movementID string) {
	mvs, err := s.Billing.Movements(r.Context(), userID, "", 1_000_000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range mvs {
		if mvs[i].ID == movementID {
			writeJSON(w, http.StatusCreated, toMovementJSON(&mvs[i]))
			return
		}
	}
	s.writeError(w, r, errs.ErrNotFound)
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
	if p.IsAPIKey() || !p.ManagesSite(in.SiteID) {
		s.writeError(w, r, badRequest(http.StatusForbidden, "forbidden", "site_id", "only managers of the site grant or withdraw its credit"))
		return
	}
	if _, err := s.Calendar.GetSite(r.Context(), in.SiteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	g := billing.CreditGrant{UserID: r.PathValue("user_id"), SiteID: in.SiteID, ActorID: p.UserID, Unit: in.Unit,
		ResourceKind: in.kind(), Amount: in.Amount, Reason: in.Reason}
	if in.ExpiresAt != nil {
		g.ExpiresAt = &in.ExpiresAt.Time
	}
	var mv *billing.CreditMovement
	var err error
	switch in.Action {
	case "grant":
		mv, err = s.Billing.Grant(r.Context(), g)
	case "withdraw":
		mv, err = s.Billing.Withdraw(r.Context(), g)
	default:
		err = errs.Invalid("action", "must be grant or withdraw")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMovement(w, r, g.UserID, mv.ID)
}
