package invoicing

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// Who may read which invoices. The reads the API offers take the caller's
// principal and ask these functions, so that a rule is written once. A
// document the caller may not read is "not found": nobody learns another
// member's invoice exists.

const errKeyHasNoInvoices = errs.Refusal("an API key has no invoices of its own")

var (
	errSiteNotFound     = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	errEntityWideExport = &errs.Problem{Kind: errs.ErrForbidden, Code: "entity_wide_export",
		Detail: "the accounting journal covers every site of this legal entity; ask an admin, or a manager of all of them"}
)

// mayReadSiteInvoices: a site's managers and admins, and API keys of the
// site with invoices:read (an accounting tool).
func mayReadSiteInvoices(p *identity.Principal, siteID string) bool {
	return p != nil && p.ManagesSite(siteID) && p.HasScope(identity.ScopeInvoicesRead)
}

// mayReadInvoice: its buyer, and whoever reads its site's invoices.
func mayReadInvoice(p *identity.Principal, inv *Invoice) bool {
	if p == nil {
		return false
	}
	return (inv.BuyerUserID != "" && inv.BuyerUserID == p.UserID) || mayReadSiteInvoices(p, inv.SiteID)
}

// mayVerify: checking every chain is the admins' (and the system's).
func mayVerify(p *identity.Principal) bool { return p.IsAdmin() }

// InvoiceFor returns an invoice or credit note p may read.
func (iv *Invoicer) InvoiceFor(ctx context.Context, p *identity.Principal, invoiceID string) (*Invoice, error) {
	inv, err := iv.Get(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	if !mayReadInvoice(p, inv) {
		return nil, errInvoiceNotFound
	}
	return inv, nil
}

// PDFFor returns a document p may read and its PDF.
func (iv *Invoicer) PDFFor(ctx context.Context, p *identity.Principal, invoiceID string) (*Invoice, []byte, error) {
	inv, err := iv.InvoiceFor(ctx, p, invoiceID)
	if err != nil {
		return nil, nil, err
	}
	pdf, err := iv.PDF(ctx, inv.ID)
	if err != nil {
		return nil, nil, err
	}
	return inv, pdf, nil
}

// VerifyFor checks every chain, for an admin.
func (iv *Invoicer) VerifyFor(ctx context.Context, p *identity.Principal) (VerifyReport, error) {
	if !mayVerify(p) {
		return VerifyReport{}, errs.ErrForbidden
	}
	return iv.Verify(ctx)
}

// Books are documents a principal may read: a member's own, or one
// site's. Only OwnBooks and SiteBooks give them, after deciding; the API
// asks for them before it reads the rest of the request (the period, the
// page), so that whoever may not read them learns only that.
type Books struct {
	iv     *Invoicer
	p      *identity.Principal
	userID string // a member's own documents
	siteID string // or a site's
}

// OwnBooks are the calling member's documents; an API key has none.
func (iv *Invoicer) OwnBooks(p *identity.Principal) (*Books, error) {
	if p == nil || p.IsAPIKey() {
		return nil, errKeyHasNoInvoices
	}
	return &Books{iv: iv, p: p, userID: p.UserID}, nil
}

// SiteBooks are a site's documents, for whoever may read them; the others
// are refused as for the site: forbidden if they may know it exists, not
// found otherwise.
func (iv *Invoicer) SiteBooks(p *identity.Principal, siteID string) (*Books, error) {
	if !mayReadSiteInvoices(p, siteID) {
		if p != nil && identity.CanReadSite(p, siteID) {
			return nil, errs.ErrForbidden
		}
		return nil, errSiteNotFound
	}
	return &Books{iv: iv, p: p, siteID: siteID}, nil
}

// List returns a page of the books' documents matching f (its site and
// user are the books').
func (b *Books) List(ctx context.Context, f InvoiceFilter) ([]Invoice, string, error) {
	f.SiteID, f.UserID = b.siteID, b.userID
	return b.iv.List(ctx, f)
}

// CSV writes the site's documents issued in [from, to) (see Invoicer.CSV).
func (b *Books) CSV(ctx context.Context, w io.Writer, from, to time.Time) error {
	if b.siteID == "" {
		return fmt.Errorf("csv export of a member's own books: %w", errs.ErrForbidden)
	}
	if err := b.iv.CSV(ctx, w, InvoiceFilter{SiteID: b.siteID, From: from, To: to}); err != nil {
		return err
	}
	return journal.Record(ctx, b.iv.db, journal.Entry{OccurredAt: b.iv.now(), SiteID: b.siteID, Action: "export", ObjectKind: "invoices_csv", After: from.UTC().Format(time.RFC3339) + "/" + to.UTC().Format(time.RFC3339)})
}

// FEC writes the accounting journal of the site's legal entity for
// [from, to) and returns the entity's SIREN. The journal covers the whole
// entity: a manager of one of its sites must read the invoices of all of
// them to see it.
func (b *Books) FEC(ctx context.Context, w io.Writer, from, to time.Time) (string, error) {
	if b.siteID == "" {
		return "", fmt.Errorf("fec export of a member's own books: %w", errs.ErrForbidden)
	}
	site, err := calendar.LoadSite(ctx, b.iv.db, b.siteID)
	if err != nil {
		return "", err
	}
	if !b.p.IsAdmin() {
		sites, err := calendar.EntitySites(ctx, b.iv.db, site.Legal.SIREN)
		if err != nil {
			return "", err
		}
		for _, id := range sites {
			if !mayReadSiteInvoices(b.p, id) {
				return "", errEntityWideExport
			}
		}
	}
	if err := b.iv.FEC(ctx, w, site.Legal.SIREN, from, to); err != nil {
		return "", err
	}
	return site.Legal.SIREN, journal.Record(ctx, b.iv.db, journal.Entry{OccurredAt: b.iv.now(), EntityKey: site.Legal.SIREN, SiteID: b.siteID, Action: "export", ObjectKind: "fec",
		After: from.UTC().Format(time.RFC3339) + "/" + to.UTC().Format(time.RFC3339)})
}
