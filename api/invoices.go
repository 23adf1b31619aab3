package api

import (
	"bytes"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/invoicing"
)

type invoiceLineJSON struct {
	Position          int    `json:"position"`
	Description       string `json:"description"`
	QuantityMilli     int64  `json:"quantity_milli"`
	UnitPriceHTCents  int64  `json:"unit_price_ht_cents"`
	UnitPriceTTCCents int64  `json:"unit_price_ttc_cents"`
	VATRateBP         int    `json:"vat_rate_bp"`
	TotalHTCents      int64  `json:"total_ht_cents"`
	TotalVATCents     int64  `json:"total_vat_cents"`
	TotalTTCCents     int64  `json:"total_ttc_cents"`
	DiscountCents     int64  `json:"discount_cents"`
	DiscountReason    string `json:"discount_reason"`
}

type invoiceBuyerJSON struct {
	UserID     string           `json:"user_id"`
	Name       string           `json:"name"`
	Email      string           `json:"email"`
	Address    calendar.Address `json:"address"`
	IsBusiness bool             `json:"is_business"`
	SIREN      string           `json:"siren"`
	VATNumber  string           `json:"vat_number"`
}

type invoiceJSON struct {
	ID               string                `json:"id"`
	Number           string                `json:"number"`
	Kind             string                `json:"kind"`
	SiteID           string                `json:"site_id"`
	IssuedAt         time.Time             `json:"issued_at"`
	ServiceFrom      string                `json:"service_from"`
	ServiceTo        string                `json:"service_to"`
	DueDate          string                `json:"due_date"`
	Seller           invoicing.Seller      `json:"seller"`
	Buyer            invoiceBuyerJSON      `json:"buyer"`
	Lines            []invoiceLineJSON     `json:"lines"`
	Currency         string                `json:"currency"`
	TotalHTCents     int64                 `json:"total_ht_cents"`
	TotalVATCents    int64                 `json:"total_vat_cents"`
	TotalTTCCents    int64                 `json:"total_ttc_cents"`
	VATBreakdown     []invoicing.RateTotal `json:"vat_breakdown"`
	PaidAt           *time.Time            `json:"paid_at"`
	PaymentMethod    string                `json:"payment_method"`
	PaymentReference string                `json:"payment_reference"`
	Mentions         []string              `json:"mentions"`
	CorrectsNumber   string                `json:"corrects_number"`
	Reason           string                `json:"reason"`
	Hash             string                `json:"hash"`
}

func toInvoiceJSON(inv *invoicing.Invoice) invoiceJSON {
	lines := make([]invoiceLineJSON, len(inv.Lines))
	for i, l := range inv.Lines {
		lines[i] = invoiceLineJSON{Position: l.Position, Description: l.Description, QuantityMilli: l.QuantityMilli,
			UnitPriceHTCents: l.UnitPriceHTCents, UnitPriceTTCCents: l.UnitPriceTTCCents, VATRateBP: l.VATRateBP,
			TotalHTCents: l.TotalHTCents, TotalVATCents: l.TotalVATCents, TotalTTCCents: l.TotalTTCCents,
			DiscountCents: l.DiscountCents, DiscountReason: l.DiscountReason}
	}
	mentions := inv.Mentions
	if mentions == nil {
		mentions = []string{}
	}
	breakdown := inv.VATBreakdown
	if breakdown == nil {
		breakdown = []invoicing.RateTotal{}
	}
	return invoiceJSON{ID: inv.ID, Number: inv.Number, Kind: inv.Kind, SiteID: inv.SiteID, IssuedAt: inv.IssuedAt,
		ServiceFrom: inv.ServiceFrom, ServiceTo: inv.ServiceTo, DueDate: inv.DueDate, Seller: inv.Seller,
		Buyer: invoiceBuyerJSON{UserID: inv.BuyerUserID, Name: inv.BuyerName, Email: inv.BuyerEmail, Address: inv.BuyerAddress,
			IsBusiness: inv.BuyerIsBusiness, SIREN: inv.BuyerSIREN, VATNumber: inv.BuyerVATNumber},
		Lines: lines, Currency: inv.Currency, TotalHTCents: inv.TotalHTCents, TotalVATCents: inv.TotalVATCents,
		TotalTTCCents: inv.TotalTTCCents, VATBreakdown: breakdown, PaidAt: inv.PaidAt, PaymentMethod: inv.PaymentMethod,
		PaymentReference: inv.PaymentReference, Mentions: mentions, CorrectsNumber: inv.CorrectsNumber, Reason: inv.Reason, Hash: inv.Hash}
}

func (s *Server) handleGetInvoice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	inv, err := s.Invoices.InvoiceFor(r.Context(), p, r.PathValue("invoice_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInvoiceJSON(inv))
}

func (s *Server) handleInvoicePDF(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	inv, pdf, err := s.Invoices.PDFFor(r.Context(), p, r.PathValue("invoice_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="facture-`+inv.Number+`.pdf"`)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(pdf)
}

// listInvoices answers a page of the books, which the caller was given
// before the page is read.
func (s *Server) listInvoices(w http.ResponseWriter, r *http.Request, books *invoicing.Books) {
	var f invoicing.InvoiceFilter
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.From, f.To, err = s.window(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	f.After, f.Limit = after, limit
	invs, next, err := books.List(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[invoiceJSON]{Items: make([]invoiceJSON, len(invs)), NextCursor: cursor(next)}
	for i := range invs {
		out.Items[i] = toInvoiceJSON(&invs[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleMyInvoices(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	books, err := s.Invoices.OwnBooks(p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.listInvoices(w, r, books)
}

func (s *Server) handleSiteInvoices(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	books, err := s.Invoices.SiteBooks(p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.listInvoices(w, r, books)
}

// exportWindow reads from/to for an export: both required.
func (s *Server) exportWindow(r *http.Request) (time.Time, time.Time, error) {
	from, to, err := s.window(r)
	if err != nil {
		return from, to, err
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return from, to, badRequest(http.StatusBadRequest, "invalid_parameter", "to", "from and to are required, to after from")
	}
	return from, to, nil
}

func (s *Server) handleSiteInvoicesCSV(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	books, err := s.Invoices.SiteBooks(p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from, to, err := s.exportWindow(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := books.CSV(r.Context(), &buf, from, to); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="factures.csv"`)
	w.Write(buf.Bytes())
}

// handleSiteFEC exports the accounting journal (FEC) of the site's legal
// entity for a period.
func (s *Server) handleSiteFEC(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	books, err := s.Invoices.SiteBooks(p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from, to, err := s.exportWindow(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	siren, err := books.FEC(r.Context(), &buf, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The FEC's own file name: SIREN + "FEC" + closing date.
	name := siren + "FEC" + to.Add(-time.Second).Format("20060102") + ".txt"
	w.Header().Set("Content-Type", "text/tab-separated-values; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(buf.Bytes())
}

type verifyProblemJSON struct {
	EntityKey string `json:"entity_key"`
	Number    string `json:"number"`
	InvoiceID string `json:"invoice_id"`
	Reason    string `json:"reason"`
}

func (s *Server) handleVerifyInvoices(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	rep, err := s.Invoices.VerifyFor(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	problems := make([]verifyProblemJSON, len(rep.Problems))
	for i, pr := range rep.Problems {
		problems[i] = verifyProblemJSON{EntityKey: pr.EntityKey, Number: pr.Number, InvoiceID: pr.InvoiceID, Reason: pr.Reason}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": rep.OK, "entities": rep.Entities, "documents": rep.Documents, "problems": problems})
}
