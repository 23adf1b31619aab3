package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// maxCSVBody bounds an imported CSV file (16 MiB: about 50 000 HelloAsso
// rows).
const maxCSVBody = 16 << 20

// isCSV reports whether the request carries a CSV file.
func isCSV(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "text/csv"
}

// readCSVBody returns a text/csv body as raw bytes (its encoding is
// detected later), refusing bodies over maxCSVBody.
func readCSVBody(r *http.Request) ([]byte, error) {
	if !isCSV(r) {
		return nil, badRequest(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "the body must be text/csv")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCSVBody+1))
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, "malformed_body", "", "the body could not be read")
	}
	if len(body) > maxCSVBody {
		return nil, badRequestf(http.StatusRequestEntityTooLarge, "body_too_large", "", "the file exceeds %d bytes", maxCSVBody)
	}
	return body, nil
}

type tierJSON struct {
	Name             string  `json:"name"`
	MinCents         int64   `json:"min_cents"`
	CreditUnit       string  `json:"credit_unit"`
	CreditAmount     int64   `json:"credit_amount"`
	ResourceKind     *string `json:"resource_kind"`
	ExpiresAfterDays int     `json:"expires_after_days"`
}

func toTiersJSON(ts []campaigns.Tier) []tierJSON {
	out := make([]tierJSON, len(ts))
	for i, t := range ts {
		out[i] = tierJSON{Name: t.Name, MinCents: t.MinCents, CreditUnit: t.CreditUnit, CreditAmount: t.CreditAmount,
			ResourceKind: kindOrNil(t.ResourceKind), ExpiresAfterDays: t.ExpiresAfterDays}
	}
	return out
}

func fromTiersJSON(ts []tierJSON) []campaigns.Tier {
	if ts == nil {
		return nil
	}
	out := make([]campaigns.Tier, len(ts))
	for i, t := range ts {
		out[i] = campaigns.Tier{Name: t.Name, MinCents: t.MinCents, CreditUnit: t.CreditUnit, CreditAmount: t.CreditAmount,
			ExpiresAfterDays: t.ExpiresAfterDays}
		if t.ResourceKind != nil {
			out[i].ResourceKind = *t.ResourceKind
		}
	}
	return out
}

type campaignJSON struct {
	ID            string     `json:"id"`
	SiteID        string     `json:"site_id"`
	Title         string     `json:"title"`
	Description   string     `json:"description"`
	GoalCents     int64      `json:"goal_cents"`
	RaisedCents   int64      `json:"raised_cents"`
	Backers       int        `json:"backers"`
	StartsAt      time.Time  `json:"starts_at"`
	Deadline      time.Time  `json:"deadline"`
	Mode          string     `json:"mode"`
	Tiers         []tierJSON `json:"tiers"`
	VATRateBP     int        `json:"vat_rate_bp"`
	Status        string     `json:"status"`
	ClosedEarlyAt *time.Time `json:"closed_early_at"`
	SettledAt     *time.Time `json:"settled_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

func (s *Server) campaignJSON(r *http.Request, c *campaigns.Campaign) (campaignJSON, error) {
	pr, err := s.Campaigns.Progress(r.Context(), c.ID)
	if err != nil {
		return campaignJSON{}, err
	}
	return campaignJSON{ID: c.ID, SiteID: c.SiteID, Title: c.Title, Description: c.Description, GoalCents: c.GoalCents,
		RaisedCents: pr.RaisedCents, Backers: pr.Backers, StartsAt: c.StartsAt, Deadline: c.Deadline, Mode: c.Mode,
		Tiers: toTiersJSON(c.Tiers), VATRateBP: c.VATRateBP, Status: c.Status, ClosedEarlyAt: c.ClosedEarlyAt,
		SettledAt: c.SettledAt, CreatedAt: c.CreatedAt}, nil
}

func (s *Server) writeCampaign(w http.ResponseWriter, r *http.Request, status int, c *campaigns.Campaign) {
	out, err := s.campaignJSON(r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", "/v1/campaigns/"+c.ID)
	}
	writeJSON(w, status, out)
}

func (s *Server) handleCreateCampaign(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Title       string     `json:"title"`
		Description string     `json:"description"`
		GoalCents   int64      `json:"goal_cents"`
		StartsAt    *timestamp `json:"starts_at"`
		Deadline    timestamp  `json:"deadline"`
		Mode        string     `json:"mode"`
		Tiers       []tierJSON `json:"tiers"`
		VATRateBP   *int       `json:"vat_rate_bp"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	nc := campaigns.NewCampaign{SiteID: siteID, Title: in.Title, Description: in.Description, GoalCents: in.GoalCents,
		Deadline: in.Deadline.Time, Mode: in.Mode, Tiers: fromTiersJSON(in.Tiers), VATRateBP: in.VATRateBP}
	if in.StartsAt != nil {
		nc.StartsAt = &in.StartsAt.Time
	}
	c, err := s.Campaigns.CreateCampaign(r.Context(), p, nc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusCreated, c)
}

func (s *Server) handleListCampaigns(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	cs, err := s.Campaigns.ListCampaigns(r.Context(), r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[campaignJSON]{Items: make([]campaignJSON, len(cs))}
	for i := range cs {
		if out.Items[i], err = s.campaignJSON(r, &cs[i]); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetCampaign(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	c, err := s.Campaigns.GetCampaign(r.Context(), r.PathValue("campaign_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *Server) handlePatchCampaign(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Title       *string    `json:"title"`
		Description *string    `json:"description"`
		GoalCents   *int64     `json:"goal_cents"`
		StartsAt    *timestamp `json:"starts_at"`
		Deadline    *timestamp `json:"deadline"`
		Mode        *string    `json:"mode"`
		Tiers       []tierJSON `json:"tiers"`
		VATRateBP   *int       `json:"vat_rate_bp"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := campaigns.CampaignUpdate{Title: in.Title, Description: in.Description, GoalCents: in.GoalCents, Mode: in.Mode,
		Tiers: fromTiersJSON(in.Tiers), VATRateBP: in.VATRateBP}
	if in.StartsAt != nil {
		up.StartsAt = &in.StartsAt.Time
	}
	if in.Deadline != nil {
		up.Deadline = &in.Deadline.Time
	}
	c, err := s.Campaigns.UpdateCampaign(r.Context(), p, r.PathValue("campaign_id"), up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

func (s *Server) handleCloseCampaign(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	c, err := s.Campaigns.CloseCampaign(r.Context(), p, r.PathValue("campaign_id"))
	if err != nil && c == nil {
		s.writeError(w, r, err)
		return
	}
	if err != nil {
		// Settled; some Stripe refunds failed and the job retries them.
		s.log.Warn("campaign refunds pending", "campaign_id", c.ID, "error", err)
	}
	s.writeCampaign(w, r, http.StatusOK, c)
}

// handlePublicCampaign is the campaign's public page data: no login, no
// backer named unless they asked to be.
func (s *Server) handlePublicCampaign(w http.ResponseWriter, r *http.Request) {
	c, err := s.Campaigns.GetCampaign(r.Context(), r.PathValue("campaign_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pr, err := s.Campaigns.Progress(r.Context(), c.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=30")
	json.NewEncoder(w).Encode(map[string]any{"id": c.ID, "title": c.Title, "description": c.Description, "goal_cents": c.GoalCents,
		"raised_cents": pr.RaisedCents, "backers": pr.Backers, "starts_at": c.StartsAt, "deadline": c.Deadline, "mode": c.Mode,
		"status": c.Status, "tiers": toTiersJSON(c.Tiers), "backer_names": pr.PublicNames})
}

func (s *Server) handleContributionCheckout(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		AmountCents int64       `json:"amount_cents"`
		PublicName  string      `json:"public_name"`
		SuccessURL  string      `json:"success_url"`
		CancelURL   string      `json:"cancel_url"`
		Buyer       *buyerInput `json:"buyer"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Campaigns.CheckoutContribution(r.Context(), p, r.PathValue("campaign_id"), campaigns.ContributionCheckout{
		AmountCents: in.AmountCents, PublicName: in.PublicName, SuccessURL: in.SuccessURL, CancelURL: in.CancelURL, Buyer: in.Buyer.toBuyer()})
	if err != nil {
		if errors.Is(err, errs.ErrUnavailable) {
			w.Header().Set("Retry-After", "60")
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"session_id": out.SessionID, "url": out.URL, "contribution_id": out.TargetID})
}

// handleImportContributions applies a CSV export (HelloAsso or the generic
// layout): all rows or none.
func (s *Server) handleImportContributions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	s.importContributions(w, r, p, false)
}

// handlePreviewImport answers what handleImportContributions would with
// the same file, writing nothing (see campaigns.PreviewImport). It is a
// route of its own rather than a dry_run parameter so that it stays out of
// the Idempotency-Key records (a preview and the real import sent with one
// key must not replay each other) and answers 200, not 201.
func (s *Server) handlePreviewImport(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	s.importContributions(w, r, p, true)
}

func (s *Server) importContributions(w http.ResponseWriter, r *http.Request, p *identity.Principal, preview bool) {
	body, err := readCSVBody(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	apply := s.Campaigns.ImportContributions
	if preview {
		apply = s.Campaigns.PreviewImport
	}
	rep, err := apply(r.Context(), p, r.PathValue("campaign_id"), body)
	var rej *campaigns.ImportRejectedError
	if errors.As(err, &rej) {
		fields := make([]errs.FieldError, len(rej.Problems))
		for i, pr := range rej.Problems {
			// The rows' reasons are written by campaigns in English only.
			fields[i] = errs.FieldError{Field: fmt.Sprintf("line %d: %s", pr.Line, pr.Column), Reason: errs.Verbatim(pr.Reason)}
		}
		pr := errs.Problemf(errs.ErrInvalid, "csv_rows_invalid", "%d rows of the file are wrong; nothing was imported", len(rej.Problems))
		pr.Fields, pr.Extra = fields, map[string]any{"lines": rej.Problems}
		err = pr
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := map[string]any{"import_id": rep.ImportID, "format": rep.Format, "encoding": rep.Encoding,
		"delimiter": rep.Delimiter, "rows": rep.Rows, "created": rep.Created, "duplicates": rep.Duplicates,
		"matched_members": rep.Matched, "held": rep.Held, "skipped": rep.Skipped}
	if preview {
		delete(out, "import_id")
		writeJSON(w, http.StatusOK, out)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

type contributionJSON struct {
	ID                 string    `json:"id"`
	CampaignID         string    `json:"campaign_id"`
	ReceiptNumber      string    `json:"receipt_number"`
	Platform           string    `json:"platform"`
	ExternalID         string    `json:"external_id"`
	UserID             *string   `json:"user_id"`
	Email              string    `json:"email"`
	Name               string    `json:"name"`
	PublicName         *string   `json:"public_name"`
	AmountCents        int64     `json:"amount_cents"`
	RefundedCents      int64     `json:"refunded_cents"`
	CreditUnit         *string   `json:"credit_unit"`
	CreditAmount       int64     `json:"credit_amount"`
	CreditResourceKind *string   `json:"credit_resource_kind"`
	Status             string    `json:"status"`
	ContributedAt      time.Time `json:"contributed_at"`
	InvoiceID          *string   `json:"invoice_id"`
}

func toContributionJSON(k *campaigns.Contribution) contributionJSON {
	return contributionJSON{ID: k.ID, CampaignID: k.CampaignID, ReceiptNumber: k.ReceiptNumber(), Platform: k.Platform, ExternalID: k.ExternalID,
		UserID: k.UserID, Email: k.Email, Name: k.Name, PublicName: k.PublicName, AmountCents: k.AmountCents, RefundedCents: k.RefundedCents,
		CreditUnit: kindOrNil(k.CreditUnit), CreditAmount: k.CreditAmount, CreditResourceKind: kindOrNil(k.CreditResourceKind),
		Status: k.Status, ContributedAt: k.ContributedAt, InvoiceID: k.InvoiceID}
}

func (s *Server) handleListContributions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	c, err := s.Campaigns.RunCampaign(r.Context(), p, r.PathValue("campaign_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.contributionWindow(r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.After, f.Limit = after, limit
	ks, err := s.Campaigns.ListContributions(r.Context(), p, c.ID, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(ks, toContributionJSON)
	if len(ks) == limit {
		out.NextCursor = cursor(ks[len(ks)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// contributionWindow reads period, from and to of a campaign's
// contributions with the shared parser (period.go), dates in the zone of
// the campaign's site; to must be after from.
func (s *Server) contributionWindow(r *http.Request, c *campaigns.Campaign) (campaigns.ContributionFilter, error) {
	var loc *time.Location
	zone := func() *time.Location {
		if loc == nil {
			loc = defaultZone
			if s.Calendar == nil {
				return loc
			}
			if site, err := s.Calendar.GetSite(r.Context(), c.SiteID); err == nil {
				loc = site.Location()
			}
		}
		return loc
	}
	q := r.URL.Query()
	from, to, err := parseWindow(q.Get("period"), q.Get("from"), q.Get("to"), zone)
	if err != nil {
		return campaigns.ContributionFilter{}, err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return campaigns.ContributionFilter{}, badRequest(http.StatusBadRequest, "invalid_parameter", "to", "to must be after from")
	}
	return campaigns.ContributionFilter{From: from, To: to}, nil
}

func (s *Server) handleContributionsCSV(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	c, err := s.Campaigns.RunCampaign(r.Context(), p, r.PathValue("campaign_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.contributionWindow(r, c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ks, err := s.Campaigns.ListContributions(r.Context(), p, c.ID, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := campaigns.WriteContributionsCSV(&buf, ks); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="contributions.csv"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}

func (s *Server) handleMyContributions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ks, err := s.Campaigns.MyContributions(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(ks, toContributionJSON))
}

// handleContributionReceipt is the receipt of a contribution, for its
// contributor and the campaign's managers.
func (s *Server) handleContributionReceipt(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	k, c, err := s.Campaigns.Contribution(r.Context(), p, r.PathValue("contribution_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	site, err := s.Calendar.GetSite(r.Context(), c.SiteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	credit := ""
	if k.CreditAmount > 0 {
		credit = campaigns.CreditDescription(k.CreditUnit, k.CreditAmount, k.CreditResourceKind)
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt_number": k.ReceiptNumber(), "contribution": toContributionJSON(k),
		"campaign_title": c.Title, "seller": site.Legal.CompanyName, "site_name": site.Name, "credit": credit,
		"text": campaigns.ReceiptText(site.Legal.CompanyName, c, k)})
}

// handleContributionReceiptPDF is the same receipt as a printable PDF.
func (s *Server) handleContributionReceiptPDF(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	id := r.PathValue("contribution_id")
	var buf bytes.Buffer
	if err := s.Campaigns.ReceiptPDF(r.Context(), p, id, &buf); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.Campaigns.GetContribution(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="recu-`+k.ReceiptNumber()+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(buf.Bytes())
}
