// Package invoicing issues invoices and credit notes (avoirs) as French law
// wants them: one gapless series per issuing entity and year, every mention
// on the document, and a hash chain that makes any later change visible;
// their PDF, and the CSV and FEC exports for the accountant. Billing and
// campaigns call Invoicer.Issue and IssueCreditNote inside their own
// transactions, so a payment never exists without its invoice.
package invoicing

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the legal year is Paris's: never depend on the host's zone files
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/legalid"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
)

// Document kinds. A credit note (avoir) is an invoice in its own right: it
// has its own number in the same series and carries every mention.
const (
	KindInvoice    = "invoice"
	KindCreditNote = "credit_note"
)

// Mentions printed on documents when they apply (see PROTOCOLS.md).
const (
	MentionVATExempt          = "TVA non applicable, art. 293 B du CGI"
	MentionVATExemptNonProfit = "Exonération de TVA, art. 261-7-1° du CGI"
	MentionLatePenalty        = "Taux de pénalités de retard : 3 fois le taux d'intérêt légal"
	MentionRecoveryIndemnity  = "Indemnité forfaitaire pour frais de recouvrement : 40 €"
	MentionNoDiscount         = "Escompte pour paiement anticipé : néant"
)

// Limits on input.
const (
	// MaxUnitPriceCents caps a unit price: 100,000 €.
	MaxUnitPriceCents = 10_000_000
	// MaxQuantityMilli caps a quantity: one million units. With the price
	// cap, every intermediate product stays far below the int64 range.
	MaxQuantityMilli = 1_000_000_000
	maxLines         = 200
)

// invoiceZone fixes the legal year of a document: an invoice issued on
// 31 December at 23:30 in Paris belongs to that year whatever UTC says.
var invoiceZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return loc
}()

// Buyer is who the document is addressed to, as stated at issue time: the
// document keeps this snapshot even if the member later changes their name.
type Buyer struct {
	// UserID links the document to a member account; empty for a walk-in.
	UserID  string
	Name    string
	Email   string
	Address calendar.Address
	// IsBusiness: a professional buyer. Its SIREN is required and the
	// late-payment mentions are printed.
	IsBusiness bool
	SIREN      string
	VATNumber  string
}

// InvoiceLineInput is one line as the business states it.
type InvoiceLineInput struct {
	Description string
	// QuantityMilli is the quantity in thousandths, so machine time can be
	// billed by the fraction of an hour: 1000 = 1, 1500 = 1.5.
	QuantityMilli int64
	// UnitPriceCents is HT, or TTC when PriceIncludesVAT (retail prices such
	// as a 25 € day pass).
	UnitPriceCents   int64
	PriceIncludesVAT bool
	VATRateBP        int
	// DiscountCents is taken off the line's gross amount, in the same basis
	// as the price (TTC when PriceIncludesVAT), before VAT is computed: the
	// VAT is the VAT of the net. DiscountReason says why (required with a
	// discount); both are printed on the line.
	DiscountCents  int64
	DiscountReason string
}

// InvoicePayment records how a document was settled (or refunded, for a
// credit note). Method is one of the Method* constants.
type InvoicePayment struct {
	PaidAt    time.Time
	Method    string
	Reference string // e.g. the payment provider's id
}

// InvoiceInput is what Issue needs. The seller is the legal entity that runs
// the site; the issue date is the Invoicer's clock.
type InvoiceInput struct {
	SiteID string
	Buyer  Buyer
	Lines  []InvoiceLineInput
	// ServiceFrom and ServiceTo (YYYY-MM-DD) date the service; ServiceTo may
	// be empty for a single day.
	ServiceFrom string
	ServiceTo   string
	// Payment when already paid; otherwise DueDate (YYYY-MM-DD) is required.
	Payment *InvoicePayment
	DueDate string
	Notes   string
}

// Seller is the issuing entity as printed on the document.
type Seller struct {
	Name      string           `json:"name"`
	TradeName string           `json:"trade_name,omitempty"`
	LegalForm string           `json:"legal_form"`
	Address   calendar.Address `json:"address"`
	SIREN     string           `json:"siren"`
	SIRET     string           `json:"siret"`
	VATNumber string           `json:"vat_number,omitempty"`
	VATExempt bool             `json:"vat_exempt"`
	// The registration the Code de commerce makes printed (see
	// calendar.Legal); empty on documents issued before these fields, and
	// then absent from the canonical text, which stays as it was.
	VATExemptBasis    string `json:"vat_exempt_basis,omitempty"`
	ShareCapitalCents int64  `json:"share_capital_cents,omitempty"`
	VariableCapital   bool   `json:"variable_capital,omitempty"`
	Registry          string `json:"registry,omitempty"`
	RegistryCity      string `json:"registry_city,omitempty"`
	RNA               string `json:"rna,omitempty"`
}

// RateTotal sums the lines of one VAT rate.
type RateTotal struct {
	RateBP   int   `json:"rate_bp"`
	HTCents  int64 `json:"ht_cents"`
	VATCents int64 `json:"vat_cents"`
	TTCCents int64 `json:"ttc_cents"`
}

// Invoice is an issued document: an invoice or a credit note. Every amount
// is in euro cents; a credit note's amounts are negative (its quantities
// stay positive), so summing a period's documents gives its net revenue.
type Invoice struct {
	bun.BaseModel `bun:"table:invoices,alias:inv"`

	ID string `bun:"id,pk"`
	// EntityKey is the issuing entity's SIREN: numbering and the hash chain
	// are per entity, so two sites of one company share a series.
	EntityKey  string `bun:"entity_key"`
	SiteID     string `bun:"site_id"`
	Number     string `bun:"number"` // "2026-000123"
	Year       int    `bun:"year"`
	Seq        int64  `bun:"seq"`
	ChainIndex int64  `bun:"chain_index"` // 1-based position in the entity's hash chain
	Kind       string `bun:"kind"`

	// For a credit note: the invoice it corrects and why.
	CorrectsInvoiceID string     `bun:"corrects_invoice_id,nullzero"`
	CorrectsNumber    string     `bun:"corrects_number"`
	CorrectsIssuedAt  *time.Time `bun:"corrects_issued_at"`
	Reason            string     `bun:"reason"`

	IssuedAt    time.Time `bun:"issued_at"`
	ServiceFrom string    `bun:"service_from"` // YYYY-MM-DD
	ServiceTo   string    `bun:"service_to"`
	DueDate     string    `bun:"due_date"` // YYYY-MM-DD or empty

	BuyerUserID     string           `bun:"buyer_user_id,nullzero"`
	BuyerName       string           `bun:"buyer_name"`
	BuyerEmail      string           `bun:"buyer_email"`
	BuyerAddress    calendar.Address `bun:"buyer_address,type:json"`
	BuyerIsBusiness bool             `bun:"buyer_is_business"`
	BuyerSIREN      string           `bun:"buyer_siren"`
	BuyerVATNumber  string           `bun:"buyer_vat_number"`

	Seller Seller `bun:"seller,type:json"`

	Currency      string      `bun:"currency"`
	TotalHTCents  int64       `bun:"total_ht_cents"`
	TotalVATCents int64       `bun:"total_vat_cents"`
	TotalTTCCents int64       `bun:"total_ttc_cents"`
	VATBreakdown  []RateTotal `bun:"vat_breakdown,type:json"`

	PaidAt           *time.Time `bun:"paid_at"`
	PaymentMethod    string     `bun:"payment_method"`
	PaymentReference string     `bun:"payment_reference"`

	// Mentions are the legal sentences printed on the document, fixed at
	// issue time and covered by the hash.
	Mentions []string `bun:"mentions,type:json"`
	Notes    string   `bun:"notes"`

	// Canonical is the exact text that was hashed; Hash = hex SHA-256 of
	// PrevHash followed by Canonical.
	Canonical string    `bun:"canonical"`
	PrevHash  string    `bun:"prev_hash"`
	Hash      string    `bun:"hash"`
	CreatedAt time.Time `bun:"created_at"`

	Lines []InvoiceLine `bun:"rel:has-many,join:id=invoice_id"`
}

// InvoiceLine is one line of a document.
type InvoiceLine struct {
	bun.BaseModel `bun:"table:invoice_lines,alias:il"`

	InvoiceID     string `bun:"invoice_id,pk"`
	Position      int    `bun:"position,pk"` // 1-based
	Description   string `bun:"description"`
	QuantityMilli int64  `bun:"quantity_milli"`
	// PriceBasis says which unit price was stated: "ht", or "ttc" for a
	// retail price. For "ttc" UnitPriceHTCents is derived and printed (the
	// law wants a unit price HT); for "ht" UnitPriceTTCCents is 0.
	PriceBasis        string `bun:"price_basis"`
	UnitPriceHTCents  int64  `bun:"unit_price_ht_cents"`
	UnitPriceTTCCents int64  `bun:"unit_price_ttc_cents"`
	VATRateBP         int    `bun:"vat_rate_bp"`
	TotalHTCents      int64  `bun:"total_ht_cents"`
	TotalVATCents     int64  `bun:"total_vat_cents"`
	TotalTTCCents     int64  `bun:"total_ttc_cents"`
	// CorrectsPosition is, on a credit note, the line of the original it credits.
	CorrectsPosition int `bun:"corrects_position"`
	// AmountCredit marks a credit-note line that credits an amount TTC of
	// the original line (a partial refund) rather than a quantity of it: it
	// reads "1 × the amount", and later credits of that line go by amount.
	AmountCredit bool `bun:"amount_credit"`
	// DiscountCents (in the price basis) was taken off the gross amount
	// (quantity × unit price) before VAT; the totals are the net's.
	DiscountCents  int64  `bun:"discount_cents"`
	DiscountReason string `bun:"discount_reason"`
}

// Rounding. Amounts are integer cents and every line is rounded on its own,
// half up, before anything is summed:
//
//   - price HT: total HT = round(quantity × unit HT); VAT = round(HT × rate);
//     TTC = HT + VAT.
//   - price TTC: total TTC = round(quantity × unit TTC);
//     HT = round(TTC × 10000 / (10000 + rate_bp)); VAT = TTC − HT. So a 25 €
//     day pass at 20 % is 20.83 € HT + 4.17 € VAT and the customer pays
//     exactly the advertised 25 €.
//
// The per-rate totals are the sums of their lines, and the document totals
// the sums of the rates, so every printed total adds up exactly. (Per-line
// rounding can differ by a cent per line from rounding the VAT of a rate's
// total; French practice accepts either as long as it is applied
// consistently.)
func roundHalfUp(n, d int64) int64 {
	// Half up for n ≥ 0, d > 0, exactly: floor((2n + d) / 2d).
	return (2*n + d) / (2 * d)
}

// lineAmounts applies the rounding rule above to a quantity of a line.
func lineAmounts(qtyMilli, unitCents int64, includesVAT bool, rateBP int) (ht, vat, ttc int64) {
	return netAmounts(roundHalfUp(qtyMilli*unitCents, 1000), includesVAT, rateBP)
}

// netAmounts splits a line's amount after any discount (TTC when
// includesVAT, else HT) into HT, VAT and TTC: the VAT is always that of
// the net, by the rounding rule above.
func netAmounts(gross int64, includesVAT bool, rateBP int) (ht, vat, ttc int64) {
	if includesVAT {
		ht, vat = SplitTTC(gross, rateBP) // the same split as a plan's price
		return ht, vat, gross
	}
	ht = gross
	vat = roundHalfUp(ht*int64(rateBP), 10000)
	return ht, vat, ht + vat
}

// Invoicer issues, reads and verifies invoices and credit notes.
type Invoicer struct {
	db  *bun.DB
	now func() time.Time
}

// NewInvoicer returns an Invoicer; now is the clock that dates documents
// (time.Now when nil).
func NewInvoicer(db *bun.DB, now func() time.Time) *Invoicer {
	if now == nil {
		now = time.Now
	}
	return &Invoicer{db: db, now: now}
}

var errInvoiceNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "invoice_not_found", Detail: "no such invoice"}

// Issue validates in, numbers the invoice (next number of the seller's
// series for the year, in Paris), computes its totals and mentions, chains
// its hash and stores it, all inside tx: when the caller rolls tx back, the
// number is released with it, so committed numbers never have gaps. Issuing
// locks the entity's chain row until tx ends: keep tx short. Pass a *bun.DB
// to let Issue run its own transaction.
//
// When Issue returns an error the caller must roll tx back. Validation
// failures are *errs.ValidationError naming the fields. On PostgreSQL, tx
// should be READ COMMITTED (the default): under REPEATABLE READ a
// concurrent issue for the same entity fails with a serialization error.
//
// There is deliberately no way to update or delete an issued document: a
// mistake is corrected by a credit note.
func (iv *Invoicer) Issue(ctx context.Context, tx bun.IDB, in InvoiceInput) (*Invoice, error) {
	var out *Invoice
	err := issueTx(ctx, tx, func(tx bun.IDB) error {
		site, err := invoiceSite(ctx, tx, in.SiteID)
		if err != nil {
			return err
		}
		doc, err := draftInvoice(&in, site)
		if err != nil {
			return err
		}
		out, err = iv.issue(ctx, tx, doc.EntityKey, func() (*Invoice, error) { return doc, nil })
		// The buyer's account is identity's: the foreign key on
		// buyer_user_id, rather than a read of its table, says it is
		// unknown. The site was read above and an invoice corrects none,
		// so that key is the only one an invoice can break.
		if err != nil && doc.BuyerUserID != "" && db.IsForeignKey(err) {
			return errs.Invalid("buyer.user_id", "no such user")
		}
		return err
	})
	return out, err
}

// CreditLine credits a quantity of one line of the original invoice.
type CreditLine struct {
	Position      int // the original line, 1-based
	QuantityMilli int64
}

// CreditNoteInput describes a credit note. Empty Lines (and no
// AmountCents) credits everything not credited yet. Refund, when the money
// went back, records how.
type CreditNoteInput struct {
	Lines []CreditLine
	// AmountCents, instead of Lines, credits exactly this amount TTC: a
	// partial refund. It is taken from the original's lines in order, each
	// up to what is left of it (see creditLines for the HT/VAT split).
	AmountCents int64
	Reason      string
	Refund      *InvoicePayment
}

// IssueCreditNote issues a credit note (avoir) against an invoice, in the
// same series. Each credited line is computed like the original line, as the
// difference between the amounts of the quantity credited so far plus this
// one and of the quantity credited so far: partial credits therefore add up
// exactly to the original, and nothing can be credited beyond it. Amounts
// are negative. Earlier credit notes are read under the entity's lock, so
// two concurrent credit notes cannot both take the last unit.
func (iv *Invoicer) IssueCreditNote(ctx context.Context, tx bun.IDB, originalID string, in CreditNoteInput) (*Invoice, error) {
	var v errs.Validator
	in.Reason = strings.TrimSpace(in.Reason)
	v.Check(in.Reason != "", "reason", "is required")
	checkDocText(&v, "reason", in.Reason, 500)
	validateInvoicePayment(&v, "refund", in.Refund)
	v.Check(in.AmountCents >= 0, "amount_cents", "must be positive")
	v.Check(in.AmountCents == 0 || len(in.Lines) == 0, "amount_cents", "give either lines or an amount, not both")
	for i, l := range in.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		v.Check(l.QuantityMilli > 0, f+".quantity_milli", "must be positive")
		for _, other := range in.Lines[:i] {
			v.Check(other.Position != l.Position, f+".position", "credits line %d twice", l.Position)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *Invoice
	err := issueTx(ctx, tx, func(tx bun.IDB) error {
		orig, err := getInvoice(ctx, tx, originalID)
		if err != nil {
			return err
		}
		if orig.Kind != KindInvoice {
			return errs.Rule("original_id", "not_an_invoice", "%s is a credit note; only invoices can be credited", orig.Number)
		}
		out, err = iv.issue(ctx, tx, orig.EntityKey, func() (*Invoice, error) {
			credited, err := creditedSoFar(ctx, tx, orig.ID)
			if err != nil {
				return nil, err
			}
			lines, err := creditLines(orig, credited, in.Lines, in.AmountCents)
			if err != nil {
				return nil, err
			}
			origIssued := orig.IssuedAt
			doc := &Invoice{
				Kind:              KindCreditNote,
				EntityKey:         orig.EntityKey,
				SiteID:            orig.SiteID,
				CorrectsInvoiceID: orig.ID,
				CorrectsNumber:    orig.Number,
				CorrectsIssuedAt:  &origIssued,
				Reason:            in.Reason,
				ServiceFrom:       orig.ServiceFrom,
				ServiceTo:         orig.ServiceTo,
				BuyerUserID:       orig.BuyerUserID,
				BuyerName:         orig.BuyerName,
				BuyerEmail:        orig.BuyerEmail,
				BuyerAddress:      orig.BuyerAddress,
				BuyerIsBusiness:   orig.BuyerIsBusiness,
				BuyerSIREN:        orig.BuyerSIREN,
				BuyerVATNumber:    orig.BuyerVATNumber,
				// The credit note is issued by the entity that issued the
				// invoice, as it was described then.
				Seller: orig.Seller,
				Lines:  lines,
			}
			setInvoicePayment(doc, in.Refund)
			return doc, nil
		})
		return err
	})
	return out, err
}

// issueTx runs fn in tx, or in a new transaction when given the database itself:
// the numbering lock only holds inside a transaction.
func issueTx(ctx context.Context, idb bun.IDB, fn func(tx bun.IDB) error) error {
	if d, ok := idb.(*bun.DB); ok {
		return db.Tx(ctx, d, func(ctx context.Context, tx bun.Tx) error { return fn(tx) })
	}
	return fn(idb)
}

// issue is the common path of invoices and credit notes. It takes the
// entity's lock, then lets build make the document (so a credit note reads
// earlier credits under the lock), then numbers, dates, hashes and stores it.
func (iv *Invoicer) issue(ctx context.Context, tx bun.IDB, entity string, build func() (*Invoice, error)) (*Invoice, error) {
	head, err := lockInvoiceChain(ctx, tx, entity)
	if err != nil {
		return nil, err
	}
	// The clock is read under the lock and never goes back on the previous
	// document (a clock step must not make the series look out of order),
	// so within an entity issue dates follow the numbering: the series is
	// chronological, as the law requires.
	now := iv.now().UTC().Truncate(time.Microsecond)
	if now.Before(head.LastIssuedAt.Time) {
		now = head.LastIssuedAt.Time.UTC()
	}
	doc, err := build()
	if err != nil {
		return nil, err
	}
	doc.Currency = "EUR"
	setInvoiceTotals(doc)

	year := now.In(invoiceZone).Year()
	seq, err := nextInvoiceSeq(ctx, tx, entity, year)
	if err != nil {
		return nil, err
	}
	doc.ID = id.New()
	doc.EntityKey = entity
	doc.Year = year
	doc.Seq = seq
	doc.Number = invoiceNumber(year, seq)
	doc.ChainIndex = head.Length + 1
	doc.IssuedAt = now
	doc.CreatedAt = now
	for i := range doc.Lines {
		doc.Lines[i].InvoiceID = doc.ID
	}
	doc.Mentions = buildMentions(doc)
	doc.Canonical = canonicalText(doc)
	doc.PrevHash = head.HeadHash
	doc.Hash = invoiceHash(head.HeadHash, doc.Canonical)

	if _, err := tx.NewInsert().Model(doc).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert invoice %s: %w", doc.Number, db.Classify(err))
	}
	if _, err := tx.NewInsert().Model(&doc.Lines).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert lines of invoice %s: %w", doc.Number, db.Classify(err))
	}
	if _, err := tx.ExecContext(ctx,
		"UPDATE invoice_chains SET length = ?, head_hash = ?, last_issued_at = ? WHERE entity_key = ?",
		doc.ChainIndex, doc.Hash, now, entity); err != nil {
		return nil, fmt.Errorf("advance invoice chain: %w", err)
	}
	return doc, nil
}

func invoiceNumber(year int, seq int64) string { return fmt.Sprintf("%d-%06d", year, seq) }

// invoiceHash links a document to its predecessor: hex SHA-256(prev || canonical).
func invoiceHash(prev, canonical string) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte(canonical))
	return hex.EncodeToString(h.Sum(nil))
}

// chainHead is an entity's invoice_chains row.
type chainHead struct {
	EntityKey    string       `bun:"entity_key"`
	Length       int64        `bun:"length"`
	HeadHash     string       `bun:"head_hash"`
	LastIssuedAt bun.NullTime `bun:"last_issued_at"`
}

// lockInvoiceChain creates the entity's chain row if needed and locks it
// until the transaction ends: on PostgreSQL with FOR UPDATE; on SQLite every
// transaction already holds the database's write lock (BEGIN IMMEDIATE).
// At most an empty chain row is written, so a refusal after this point
// leaves nothing that matters.
func lockInvoiceChain(ctx context.Context, tx bun.IDB, entity string) (chainHead, error) {
	var head chainHead
	if _, err := tx.ExecContext(ctx,
		"INSERT INTO invoice_chains (entity_key, length, head_hash) VALUES (?, 0, '') ON CONFLICT (entity_key) DO NOTHING",
		entity); err != nil {
		return head, fmt.Errorf("create invoice chain: %w", db.Classify(err))
	}
	q := "SELECT entity_key, length, head_hash, last_issued_at FROM invoice_chains WHERE entity_key = ?"
	q += db.ForUpdateSQL(tx)
	if err := tx.NewRaw(q, entity).Scan(ctx, &head); err != nil {
		return head, fmt.Errorf("lock invoice chain: %w", db.Classify(err))
	}
	return head, nil
}

// nextInvoiceSeq takes the next number of (entity, year); the entity lock is held.
func nextInvoiceSeq(ctx context.Context, tx bun.IDB, entity string, year int) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `INSERT INTO invoice_sequences (entity_key, year, last_seq) VALUES (?, ?, 1)
		ON CONFLICT (entity_key, year) DO UPDATE SET last_seq = invoice_sequences.last_seq + 1
		RETURNING last_seq`, entity, year).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("next invoice number: %w", db.Classify(err))
	}
	return seq, nil
}

// invoiceSite reads the seller's site through calendar, in tx; nil when
// there is none (draftInvoice then refuses the site_id).
func invoiceSite(ctx context.Context, tx bun.IDB, siteID string) (*calendar.Site, error) {
	s, err := calendar.LoadSite(ctx, tx, siteID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load site: %w", err)
	}
	return s, nil
}

// SellerOf describes the legal entity behind a site, as the document prints it.
func SellerOf(s *calendar.Site) Seller {
	addr := s.Address
	if s.Legal.Address != nil {
		addr = *s.Legal.Address
	}
	trade := ""
	if s.Name != s.Legal.CompanyName {
		trade = s.Name
	}
	return Seller{
		Name: s.Legal.CompanyName, TradeName: trade, LegalForm: s.Legal.LegalForm, Address: addr,
		SIREN: s.Legal.SIREN, SIRET: s.Legal.SIRET, VATNumber: s.Legal.VATNumber, VATExempt: s.Legal.VATExempt,
		VATExemptBasis: s.Legal.VATExemptBasis, ShareCapitalCents: s.Legal.ShareCapitalCents, VariableCapital: s.Legal.VariableCapital,
		Registry: s.Legal.Registry, RegistryCity: s.Legal.RegistryCity, RNA: s.Legal.RNA,
	}
}

// draftInvoice validates in and turns it into an unnumbered document.
func draftInvoice(in *InvoiceInput, site *calendar.Site) (*Invoice, error) {
	// The checks run in the order of the document, seller first, so that
	// the first error named is the first thing to fix.
	var v errs.Validator
	seller := draftSeller(&v, site)
	b := draftBuyer(&v, in.Buyer)
	lines := draftLines(&v, in.Lines, seller)
	to := draftTerms(&v, in)
	if err := v.Err(); err != nil {
		return nil, err
	}

	doc := &Invoice{
		Kind:            KindInvoice,
		EntityKey:       seller.SIREN,
		SiteID:          site.ID,
		ServiceFrom:     in.ServiceFrom,
		ServiceTo:       to,
		DueDate:         in.DueDate,
		BuyerUserID:     b.UserID,
		BuyerName:       b.Name,
		BuyerEmail:      b.Email,
		BuyerAddress:    b.Address,
		BuyerIsBusiness: b.IsBusiness,
		BuyerSIREN:      b.SIREN,
		BuyerVATNumber:  b.VATNumber,
		Seller:          seller,
		Lines:           lines,
		Notes:           in.Notes,
	}
	setInvoicePayment(doc, in.Payment)
	return doc, nil
}

// draftSeller is the legal entity of the site that invoices.
func draftSeller(v *errs.Validator, site *calendar.Site) Seller {
	switch {
	case site == nil:
		v.Add("site_id", "no such site")
	case !legalid.ValidSIREN(site.Legal.SIREN):
		v.Add("site_id", "the site has no legal identity (SIREN) to invoice with")
	default:
		return SellerOf(site)
	}
	return Seller{}
}

// draftBuyer checks and normalises who the invoice is made out to.
func draftBuyer(v *errs.Validator, b Buyer) Buyer {
	b.Name = strings.TrimSpace(b.Name)
	b.Email = strings.TrimSpace(b.Email)
	v.Check(b.Name != "", "buyer.name", "is required")
	checkDocText(v, "buyer.name", b.Name, 200)
	if b.Email != "" {
		v.Check(strings.Contains(b.Email, "@") && len(b.Email) <= 254, "buyer.email", "is not an email address")
	}
	if b.UserID != "" {
		v.Check(id.Valid(b.UserID), "buyer.user_id", "is not a valid id")
	}
	validateBuyerAddress(v, "buyer.address", &b.Address)
	legalid.CheckBuyer(v, "buyer", b.IsBusiness, &b.SIREN, &b.VATNumber)
	return b
}

// draftLines checks the lines and computes their amounts; a VAT-exempt
// seller invoices no VAT.
func draftLines(v *errs.Validator, in []InvoiceLineInput, seller Seller) []InvoiceLine {
	v.Check(len(in) > 0, "lines", "must not be empty")
	v.Check(len(in) <= maxLines, "lines", "must have at most %d lines", maxLines)
	lines := make([]InvoiceLine, 0, len(in))
	for i, l := range in {
		f := fmt.Sprintf("lines[%d]", i)
		l.Description = strings.TrimSpace(l.Description)
		v.Check(l.Description != "", f+".description", "is required")
		checkDocText(v, f+".description", l.Description, 500)
		v.Check(l.QuantityMilli > 0 && l.QuantityMilli <= MaxQuantityMilli, f+".quantity_milli", "must be between 1 and %d (thousandths)", MaxQuantityMilli)
		v.Check(l.UnitPriceCents >= 0 && l.UnitPriceCents <= MaxUnitPriceCents, f+".unit_price_cents", "must be between 0 and %d cents", MaxUnitPriceCents)
		checkDiscount(v, f, &l)
		switch {
		case !slices.Contains(VATRates, l.VATRateBP):
			v.Add(f+".vat_rate_bp", "must be one of 0, 550, 1000, 2000 (basis points)")
		case seller.VATExempt && l.VATRateBP != 0:
			v.Add(f+".vat_rate_bp", "must be 0: the seller is VAT-exempt (art. 293 B du CGI)")
		}
		lines = append(lines, newInvoiceLine(i+1, l))
	}
	return lines
}

// draftTerms checks the service dates, the payment or due date and the
// notes (trimmed in place), and returns the last day of service.
func draftTerms(v *errs.Validator, in *InvoiceInput) string {
	from, fromOK := parseDay(in.ServiceFrom)
	v.Check(fromOK, "service_from", "must be a date YYYY-MM-DD")
	to := in.ServiceTo
	if to == "" {
		to = in.ServiceFrom
	}
	toDate, toOK := parseDay(to)
	v.Check(toOK, "service_to", "must be a date YYYY-MM-DD")
	if fromOK && toOK {
		v.Check(!toDate.Before(from), "service_to", "must not be before service_from")
	}
	validateInvoicePayment(v, "payment", in.Payment)
	if in.DueDate != "" {
		_, ok := parseDay(in.DueDate)
		v.Check(ok, "due_date", "must be a date YYYY-MM-DD")
	} else if in.Payment == nil {
		v.Add("due_date", "is required unless the invoice is paid")
	}
	in.Notes = strings.TrimSpace(in.Notes)
	checkDocText(v, "notes", in.Notes, 2000)
	return to
}

// checkDiscount checks a line's discount: at most the line's gross amount,
// with a reason of at most 500 characters.
func checkDiscount(v *errs.Validator, f string, l *InvoiceLineInput) {
	l.DiscountReason = strings.TrimSpace(l.DiscountReason)
	if l.DiscountCents == 0 && l.DiscountReason == "" {
		return
	}
	gross := roundHalfUp(l.QuantityMilli*l.UnitPriceCents, 1000)
	v.Check(l.DiscountCents > 0 && l.DiscountCents <= gross, f+".discount_cents", "must be between 1 and the line's amount, %d cents", gross)
	v.Check(l.DiscountReason != "", f+".discount_reason", "is required with a discount")
	checkDocText(v, f+".discount_reason", l.DiscountReason, 500)
}

func newInvoiceLine(pos int, l InvoiceLineInput) InvoiceLine {
	gross := roundHalfUp(l.QuantityMilli*l.UnitPriceCents, 1000)
	ht, vat, ttc := netAmounts(gross-l.DiscountCents, l.PriceIncludesVAT, l.VATRateBP)
	line := InvoiceLine{
		Position: pos, Description: l.Description, QuantityMilli: l.QuantityMilli, VATRateBP: l.VATRateBP,
		PriceBasis: "ht", UnitPriceHTCents: l.UnitPriceCents,
		TotalHTCents: ht, TotalVATCents: vat, TotalTTCCents: ttc,
		DiscountCents: l.DiscountCents, DiscountReason: l.DiscountReason,
	}
	if l.PriceIncludesVAT {
		line.PriceBasis = "ttc"
		line.UnitPriceTTCCents = l.UnitPriceCents
		line.UnitPriceHTCents, _ = SplitTTC(l.UnitPriceCents, l.VATRateBP)
	}
	return line
}

func setInvoicePayment(doc *Invoice, p *InvoicePayment) {
	if p == nil {
		return
	}
	paid := p.PaidAt.UTC().Truncate(time.Microsecond)
	doc.PaidAt = &paid
	doc.PaymentMethod = p.Method
	doc.PaymentReference = strings.TrimSpace(p.Reference)
}

func validateInvoicePayment(v *errs.Validator, field string, p *InvoicePayment) {
	if p == nil {
		return
	}
	v.Check(!p.PaidAt.IsZero(), field+".paid_at", "is required")
	_, ok := paymentMethodLabels[p.Method]
	v.Check(ok, field+".method", "must be one of card, sepa, cash, cheque, transfer")
	checkDocText(v, field+".reference", p.Reference, 200)
}

func validateBuyerAddress(v *errs.Validator, field string, a *calendar.Address) {
	a.Line1 = strings.TrimSpace(a.Line1)
	a.Line2 = strings.TrimSpace(a.Line2)
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	a.City = strings.TrimSpace(a.City)
	v.Check(a.Line1 != "", field+".line1", "is required")
	v.Check(a.PostalCode != "", field+".postal_code", "is required")
	v.Check(a.City != "", field+".city", "is required")
	v.Check(len(a.Country) == 2 && strings.ToUpper(a.Country) == a.Country, field+".country", "must be an ISO 3166-1 alpha-2 code such as FR")
	for _, s := range []string{a.Line1, a.Line2, a.PostalCode, a.City} {
		checkDocText(v, field, s, 200)
	}
}

// checkDocText refuses what would corrupt a document or its exports: invalid
// UTF-8, NUL bytes (PostgreSQL refuses them) and overlong text.
func checkDocText(v *errs.Validator, field, s string, limit int) {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		v.Add(field, "must be valid UTF-8 text")
	case utf8.RuneCountInString(s) > limit:
		v.Add(field, "must be at most %d characters", limit)
	}
}

func parseDay(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// credited is what earlier credit notes took of one original line: the
// quantity credited by quantity, and the amounts (positive) of every credit.
type credited struct {
	qty          int64
	ht, vat, ttc int64
	byAmount     bool // some credit went by amount
}

// creditedSoFar sums, per original line, what earlier credit notes took.
func creditedSoFar(ctx context.Context, tx bun.IDB, originalID string) (map[int]credited, error) {
	rows, err := tx.QueryContext(ctx, `SELECT il.corrects_position,
			SUM(CASE WHEN il.amount_credit THEN 0 ELSE il.quantity_milli END),
			-SUM(il.total_ht_cents), -SUM(il.total_vat_cents), -SUM(il.total_ttc_cents),
			MAX(CASE WHEN il.amount_credit THEN 1 ELSE 0 END)
		FROM invoice_lines il JOIN invoices inv ON inv.id = il.invoice_id
		WHERE inv.corrects_invoice_id = ? GROUP BY il.corrects_position`, originalID)
	if err != nil {
		return nil, fmt.Errorf("read earlier credit notes: %w", err)
	}
	defer rows.Close()
	out := map[int]credited{}
	for rows.Next() {
		var pos, byAmount int
		var c credited
		if err := rows.Scan(&pos, &c.qty, &c.ht, &c.vat, &c.ttc, &byAmount); err != nil {
			return nil, fmt.Errorf("read earlier credit notes: %w", err)
		}
		c.byAmount = byAmount == 1
		out[pos] = c
	}
	return out, rows.Err()
}

// creditLines builds the negative lines of a credit note.
//
// By quantity: a line's credit for quantity q, after c already credited, is
// amounts(c+q) − amounts(c): the partial credits telescope to exactly the
// original line.
//
// By amount (a partial refund, amount > 0): the amount TTC is credited
// exactly, taken from the lines in order, each up to the TTC it has left.
// The HT of a line's cumulative credit T is split like a price TTC
// (SplitTTC: HT = round half up of T × 10000 / (10000 + rate)), or is the
// whole line's HT once T reaches its TTC; this credit's HT is the
// difference with what was credited before, and its VAT the rest. So
// partial refunds telescope too: refunded in any number of parts, a line
// is credited exactly its HT, VAT and TTC. A line once credited by amount
// is credited by amount from then on (its remaining quantity has no exact
// price any more); a full credit takes whatever each line has left.
func creditLines(orig *Invoice, done map[int]credited, want []CreditLine, amount int64) ([]InvoiceLine, error) {
	var out []InvoiceLine
	if amount > 0 {
		left := amount
		for _, ol := range orig.Lines {
			rest := ol.TotalTTCCents - done[ol.Position].ttc
			if left == 0 || rest <= 0 {
				continue
			}
			a := min(left, rest)
			out = append(out, amountCreditLine(len(out)+1, ol, done[ol.Position], a))
			left -= a
		}
		if left > 0 {
			return nil, errs.Rule("amount_cents", "credit_exceeds_invoice",
				"invoice %s has %s left to credit, not %s", orig.Number, Euro(amount-left), Euro(amount))
		}
		return out, nil
	}
	byPos := map[int]InvoiceLine{}
	for _, l := range orig.Lines {
		byPos[l.Position] = l
	}
	if len(want) == 0 { // full credit of whatever remains
		for _, l := range orig.Lines {
			d := done[l.Position]
			switch {
			case d.byAmount || l.DiscountCents != 0:
				if rest := l.TotalTTCCents - d.ttc; rest > 0 {
					out = append(out, amountCreditLine(len(out)+1, l, d, rest))
				}
			case l.QuantityMilli-d.qty > 0:
				want = append(want, CreditLine{Position: l.Position, QuantityMilli: l.QuantityMilli - d.qty})
			}
		}
		if len(want) == 0 && len(out) == 0 {
			return nil, errs.Rule("lines", "invoice_fully_credited", "invoice %s is already fully credited", orig.Number)
		}
	}
	for i, w := range want {
		f := fmt.Sprintf("lines[%d]", i)
		ol, ok := byPos[w.Position]
		if !ok {
			return nil, errs.Invalid(f+".position", "invoice %s has no line %d", orig.Number, w.Position)
		}
		d := done[w.Position]
		if ol.DiscountCents != 0 {
			return nil, errs.Rule(f+".position", "discounted_line_by_amount",
				"line %d of invoice %s carries a discount: credit it by amount", w.Position, orig.Number)
		}
		if d.byAmount {
			return nil, errs.Rule(f+".position", "line_credited_by_amount",
				"line %d of invoice %s was partly refunded by amount: credit it by amount", w.Position, orig.Number)
		}
		if rest := ol.QuantityMilli - d.qty; w.QuantityMilli > rest {
			return nil, errs.Rule(f+".quantity_milli", "credit_exceeds_invoice",
				"line %d of invoice %s has %s left to credit, not %s", w.Position, orig.Number, formatQuantity(rest), formatQuantity(w.QuantityMilli))
		}
		unit, includesVAT := ol.UnitPriceHTCents, ol.PriceBasis == "ttc"
		if includesVAT {
			unit = ol.UnitPriceTTCCents
		}
		ht1, vat1, ttc1 := lineAmounts(d.qty+w.QuantityMilli, unit, includesVAT, ol.VATRateBP)
		ht0, vat0, ttc0 := lineAmounts(d.qty, unit, includesVAT, ol.VATRateBP)
		out = append(out, InvoiceLine{
			Position:          len(out) + 1,
			Description:       ol.Description,
			QuantityMilli:     w.QuantityMilli,
			PriceBasis:        ol.PriceBasis,
			UnitPriceHTCents:  -ol.UnitPriceHTCents,
			UnitPriceTTCCents: -ol.UnitPriceTTCCents,
			VATRateBP:         ol.VATRateBP,
			TotalHTCents:      -(ht1 - ht0),
			TotalVATCents:     -(vat1 - vat0),
			TotalTTCCents:     -(ttc1 - ttc0),
			CorrectsPosition:  ol.Position,
		})
	}
	return out, nil
}

// amountCreditLine credits a TTC of line ol, d having been credited before
// (see creditLines). The line reads "1 × −a TTC".
func amountCreditLine(pos int, ol InvoiceLine, d credited, a int64) InvoiceLine {
	t1 := d.ttc + a
	ht1 := ol.TotalHTCents
	if t1 < ol.TotalTTCCents {
		ht1, _ = SplitTTC(t1, ol.VATRateBP)
	}
	// Keep within what the line has left of each amount: HT and VAT never
	// go beyond the original's (this only binds for a line priced HT, whose
	// VAT was rounded from its HT rather than split from its TTC).
	ht := min(max(ht1-d.ht, a-(ol.TotalVATCents-d.vat), 0), ol.TotalHTCents-d.ht, a)
	desc := ol.Description
	if a < ol.TotalTTCCents {
		desc += " (remboursement partiel)"
	}
	return InvoiceLine{
		Position:          pos,
		Description:       desc,
		QuantityMilli:     1000,
		PriceBasis:        "ttc",
		UnitPriceHTCents:  -ht,
		UnitPriceTTCCents: -a,
		VATRateBP:         ol.VATRateBP,
		TotalHTCents:      -ht,
		TotalVATCents:     -(a - ht),
		TotalTTCCents:     -a,
		CorrectsPosition:  ol.Position,
		AmountCredit:      true,
	}
}

// setInvoiceTotals sums lines per rate, then rates into the document totals.
func setInvoiceTotals(doc *Invoice) {
	byRate := map[int]*RateTotal{}
	for _, l := range doc.Lines {
		rt := byRate[l.VATRateBP]
		if rt == nil {
			rt = &RateTotal{RateBP: l.VATRateBP}
			byRate[l.VATRateBP] = rt
		}
		rt.HTCents += l.TotalHTCents
		rt.VATCents += l.TotalVATCents
		rt.TTCCents += l.TotalTTCCents
	}
	doc.VATBreakdown = doc.VATBreakdown[:0]
	doc.TotalHTCents, doc.TotalVATCents, doc.TotalTTCCents = 0, 0, 0
	for _, rate := range VATRates { // fixed order: the breakdown is hashed
		if rt := byRate[rate]; rt != nil {
			doc.VATBreakdown = append(doc.VATBreakdown, *rt)
			doc.TotalHTCents += rt.HTCents
			doc.TotalVATCents += rt.VATCents
			doc.TotalTTCCents += rt.TTCCents
		}
	}
}

var paymentMethodLabels = map[string]string{
	MethodCard:     "carte bancaire",
	MethodSEPA:     "prélèvement SEPA",
	MethodCash:     "espèces",
	MethodCheque:   "chèque",
	MethodTransfer: "virement",
}

// buildMentions writes the legal sentences that depend on the document.
func buildMentions(doc *Invoice) []string {
	var m []string
	credit := doc.Kind == KindCreditNote
	if credit {
		m = append(m, fmt.Sprintf("Avoir relatif à la facture n° %s du %s", doc.CorrectsNumber, relpdf.FrenchDate(*doc.CorrectsIssuedAt)))
		m = append(m, "Motif : "+doc.Reason)
	}
	switch {
	case doc.Seller.VATExempt && doc.Seller.VATExemptBasis == calendar.VATExemptNonProfit:
		m = append(m, MentionVATExemptNonProfit)
	case doc.Seller.VATExempt:
		m = append(m, MentionVATExempt)
	}
	switch {
	case doc.PaidAt != nil:
		verb := "Payée"
		if credit {
			verb = "Remboursé"
		}
		s := fmt.Sprintf("%s le %s par %s", verb, relpdf.FrenchDate(*doc.PaidAt), paymentMethodLabels[doc.PaymentMethod])
		if doc.PaymentReference != "" {
			s += " (réf. " + doc.PaymentReference + ")"
		}
		m = append(m, s)
	case doc.DueDate != "":
		m = append(m, "Date d'échéance : "+frenchDay(doc.DueDate))
	case credit:
		m = append(m, "Montant à déduire d'une prochaine facture ou à rembourser")
	}
	if doc.BuyerIsBusiness {
		m = append(m, MentionNoDiscount, MentionLatePenalty, MentionRecoveryIndemnity)
	}
	return m
}

// frenchDay prints a YYYY-MM-DD day as DD/MM/YYYY.
func frenchDay(day string) string {
	t, ok := parseDay(day)
	if !ok {
		return day
	}
	return t.Format("02/01/2006")
}

// canonicalFormat names the layout of the canonical text. Verification
// rebuilds that text from the stored columns, so the layout must never
// change for existing documents: a new layout needs a new name, and
// canonicalText() must keep producing the old one for documents that carry it.
const canonicalFormat = "relais-invoice/1"

// canonical serialises every legal field of a document, one "key: value"
// line each, in a fixed order. It is hand-written rather than produced by a
// general encoder so that a library upgrade can never change the bytes of
// historical documents; strings are quoted with a small fixed escape set.
func canonicalText(doc *Invoice) string {
	var c canonWriter
	c.raw("format", canonicalFormat)
	c.str("id", doc.ID)
	c.str("entity_key", doc.EntityKey)
	c.str("site_id", doc.SiteID)
	c.str("kind", doc.Kind)
	c.str("number", doc.Number)
	c.num("year", int64(doc.Year))
	c.num("seq", doc.Seq)
	c.num("chain_index", doc.ChainIndex)
	c.str("issued_at", canonTime(&doc.IssuedAt))
	c.str("corrects.invoice_id", doc.CorrectsInvoiceID)
	c.str("corrects.number", doc.CorrectsNumber)
	c.str("corrects.issued_at", canonTime(doc.CorrectsIssuedAt))
	c.str("corrects.reason", doc.Reason)
	c.str("service.from", doc.ServiceFrom)
	c.str("service.to", doc.ServiceTo)
	c.str("due_date", doc.DueDate)

	s := doc.Seller
	c.str("seller.name", s.Name)
	c.str("seller.trade_name", s.TradeName)
	c.str("seller.legal_form", s.LegalForm)
	c.address("seller.address", s.Address)
	c.str("seller.siren", s.SIREN)
	c.str("seller.siret", s.SIRET)
	c.str("seller.vat_number", s.VATNumber)
	c.flag("seller.vat_exempt", s.VATExempt)
	canonRegistration(&c, s)

	c.str("buyer.user_id", doc.BuyerUserID)
	c.str("buyer.name", doc.BuyerName)
	c.str("buyer.email", doc.BuyerEmail)
	c.address("buyer.address", doc.BuyerAddress)
	c.flag("buyer.is_business", doc.BuyerIsBusiness)
	c.str("buyer.siren", doc.BuyerSIREN)
	c.str("buyer.vat_number", doc.BuyerVATNumber)

	c.str("currency", doc.Currency)
	for _, l := range doc.Lines {
		p := fmt.Sprintf("line[%d].", l.Position)
		c.str(p+"description", l.Description)
		c.num(p+"quantity_milli", l.QuantityMilli)
		c.str(p+"price_basis", l.PriceBasis)
		c.num(p+"unit_price_ht_cents", l.UnitPriceHTCents)
		c.num(p+"unit_price_ttc_cents", l.UnitPriceTTCCents)
		c.num(p+"vat_rate_bp", int64(l.VATRateBP))
		c.num(p+"total_ht_cents", l.TotalHTCents)
		c.num(p+"total_vat_cents", l.TotalVATCents)
		c.num(p+"total_ttc_cents", l.TotalTTCCents)
		c.num(p+"corrects_position", int64(l.CorrectsPosition))
		if l.AmountCredit {
			// Written only when set, so documents issued before the flag
			// existed keep their canonical bytes.
			c.flag(p+"amount_credit", true)
		}
		if l.DiscountCents != 0 || l.DiscountReason != "" {
			// Likewise written only when there is a discount.
			c.num(p+"discount_cents", l.DiscountCents)
			c.str(p+"discount_reason", l.DiscountReason)
		}
	}
	for _, r := range doc.VATBreakdown {
		p := fmt.Sprintf("vat[%d].", r.RateBP)
		c.num(p+"ht_cents", r.HTCents)
		c.num(p+"vat_cents", r.VATCents)
		c.num(p+"ttc_cents", r.TTCCents)
	}
	c.num("total.ht_cents", doc.TotalHTCents)
	c.num("total.vat_cents", doc.TotalVATCents)
	c.num("total.ttc_cents", doc.TotalTTCCents)
	c.str("payment.paid_at", canonTime(doc.PaidAt))
	c.str("payment.method", doc.PaymentMethod)
	c.str("payment.reference", doc.PaymentReference)
	for i, m := range doc.Mentions {
		c.str(fmt.Sprintf("mention[%d]", i+1), m)
	}
	c.str("notes", doc.Notes)
	return c.b.String()
}

// canonTime prints an instant in UTC with microseconds, the precision both
// databases keep; the empty string stands for "none".
func canonTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

type canonWriter struct{ b strings.Builder }

func (c *canonWriter) raw(key, v string) {
	c.b.WriteString(key)
	c.b.WriteString(": ")
	c.b.WriteString(v)
	c.b.WriteByte('\n')
}

func (c *canonWriter) num(key string, n int64) { c.raw(key, fmt.Sprintf("%d", n)) }

func (c *canonWriter) flag(key string, b bool) {
	if b {
		c.raw(key, "true")
	} else {
		c.raw(key, "false")
	}
}

func (c *canonWriter) address(key string, a calendar.Address) {
	c.str(key+".line1", a.Line1)
	c.str(key+".line2", a.Line2)
	c.str(key+".postal_code", a.PostalCode)
	c.str(key+".city", a.City)
	c.str(key+".country", a.Country)
}

// str writes a quoted string, escaping only the quote, the backslash and
// ASCII control characters; everything else is written as UTF-8.
func (c *canonWriter) str(key, s string) {
	var q strings.Builder
	q.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' || ch == '\\':
			q.WriteByte('\\')
			q.WriteByte(ch)
		case ch < 0x20 || ch == 0x7f:
			fmt.Fprintf(&q, "\\x%02x", ch)
		default:
			q.WriteByte(ch)
		}
	}
	q.WriteByte('"')
	c.raw(key, q.String())
}

// Get returns one document with its lines.
func (iv *Invoicer) Get(ctx context.Context, invoiceID string) (*Invoice, error) {
	return getInvoice(ctx, iv.db, invoiceID)
}

// Numbers returns the number of an invoice and those of the credit notes
// that correct it, in order: what another document (a contribution's
// receipt) cites of it, without reading invoicing's tables itself. An
// unknown invoice is errs.ErrNotFound.
func (iv *Invoicer) Numbers(ctx context.Context, idb bun.IDB, invoiceID string) (number string, creditNotes []string, err error) {
	if !id.Valid(invoiceID) {
		return "", nil, errInvoiceNotFound
	}
	if err := idb.NewSelect().Model((*Invoice)(nil)).Column("number").Where("id = ?", invoiceID).Scan(ctx, &number); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, errInvoiceNotFound
		}
		return "", nil, fmt.Errorf("read invoice number: %w", err)
	}
	if err := idb.NewSelect().Model((*Invoice)(nil)).Column("number").Where("corrects_invoice_id = ?", invoiceID).
		Order("number").Scan(ctx, &creditNotes); err != nil {
		return "", nil, fmt.Errorf("read credit note numbers: %w", err)
	}
	return number, creditNotes, nil
}

func getInvoice(ctx context.Context, idb bun.IDB, invoiceID string) (*Invoice, error) {
	if !id.Valid(invoiceID) {
		return nil, errInvoiceNotFound
	}
	var inv Invoice
	err := idb.NewSelect().Model(&inv).Where("inv.id = ?", invoiceID).
		Relation("Lines", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("il.position") }).
		Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errInvoiceNotFound
		}
		return nil, fmt.Errorf("get invoice: %w", err)
	}
	normalizeLoaded(&inv)
	return &inv, nil
}

// normalizeLoaded puts times back in UTC: drivers return them in the
// session's zone, and the canonical text is written in UTC.
func normalizeLoaded(inv *Invoice) {
	inv.IssuedAt = inv.IssuedAt.UTC()
	inv.CreatedAt = inv.CreatedAt.UTC()
	for _, t := range []*time.Time{inv.PaidAt, inv.CorrectsIssuedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
}

// InvoiceFilter selects documents. Zero fields do not filter.
type InvoiceFilter struct {
	EntityKey string
	SiteID    string
	UserID    string
	// From and To bound the issue instant: From ≤ issued_at < To.
	From, To time.Time
	// After is the cursor: the id of the last document of the previous page.
	After string
	// Limit defaults to 50 and is capped at 500.
	Limit int
}

// List returns documents in issue order (ids are time-ordered), without
// their lines, and the cursor of the next page ("" at the end).
func (iv *Invoicer) List(ctx context.Context, f InvoiceFilter) ([]Invoice, string, error) {
	if f.After != "" && !id.Valid(f.After) {
		return nil, "", errs.Invalid("after", "is not a valid cursor")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	var out []Invoice
	q := invoiceFilterQuery(iv.db.NewSelect().Model(&out), f).Order("inv.id").Limit(limit + 1)
	if f.After != "" {
		q = q.Where("inv.id > ?", f.After)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list invoices: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	for i := range out {
		normalizeLoaded(&out[i])
	}
	return out, next, nil
}

func invoiceFilterQuery(q *bun.SelectQuery, f InvoiceFilter) *bun.SelectQuery {
	if f.EntityKey != "" {
		q = q.Where("inv.entity_key = ?", f.EntityKey)
	}
	if f.SiteID != "" {
		q = q.Where("inv.site_id = ?", f.SiteID)
	}
	if f.UserID != "" {
		q = q.Where("inv.buyer_user_id = ?", f.UserID)
	}
	if !f.From.IsZero() {
		q = q.Where("inv.issued_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("inv.issued_at < ?", f.To.UTC())
	}
	return q
}

// VerifyReport is the result of Verify. OK is true when every chain holds.
type VerifyReport struct {
	OK        bool
	Entities  int
	Documents int // documents checked
	Problems  []VerifyProblem
}

// VerifyProblem names the first document of an entity's chain that fails.
type VerifyProblem struct {
	EntityKey string
	Number    string // the document at fault, or "" when the chain head itself is wrong
	InvoiceID string
	Reason    string
}

// Verify walks each entity's chain in issue order and reports, per entity,
// the first document that was altered (its content, rebuilt from the stored
// columns and lines, no longer gives its hash), that breaks the chain
// (prev_hash is not the previous document's hash, or a document is
// missing), or that breaks the numbering (a gap or a repeat in a year's
// series). It reads the chain heads first and checks the documents they
// cover, so documents issued meanwhile do not disturb it.
func (iv *Invoicer) Verify(ctx context.Context) (VerifyReport, error) {
	var heads []chainHead
	if err := iv.db.NewRaw("SELECT entity_key, length, head_hash FROM invoice_chains ORDER BY entity_key").Scan(ctx, &heads); err != nil {
		return VerifyReport{}, fmt.Errorf("read invoice chains: %w", err)
	}
	// A document whose entity has no chain row was written behind our back.
	var orphans []string
	if err := iv.db.NewRaw(`SELECT DISTINCT entity_key FROM invoices
		WHERE entity_key NOT IN (SELECT entity_key FROM invoice_chains) ORDER BY entity_key`).Scan(ctx, &orphans); err != nil {
		return VerifyReport{}, fmt.Errorf("read invoice entities: %w", err)
	}
	rep := VerifyReport{Entities: len(heads) + len(orphans)}
	for _, e := range orphans {
		rep.Problems = append(rep.Problems, VerifyProblem{EntityKey: e, Reason: "documents exist for an entity that has no chain head"})
	}
	for _, h := range heads {
		n, p, err := iv.verifyChain(ctx, h.EntityKey, h.Length, h.HeadHash)
		if err != nil {
			return VerifyReport{}, err
		}
		rep.Documents += n
		if p != nil {
			rep.Problems = append(rep.Problems, *p)
		}
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

const verifyPage = 500

func (iv *Invoicer) verifyChain(ctx context.Context, entity string, length int64, headHash string) (int, *VerifyProblem, error) {
	prevHash := ""
	lastSeq := map[int]int64{}
	var lastIssued time.Time
	var index int64
	checked := 0
	fail := func(inv *Invoice, format string, args ...any) (int, *VerifyProblem, error) {
		return checked, &VerifyProblem{EntityKey: entity, Number: inv.Number, InvoiceID: inv.ID, Reason: fmt.Sprintf(format, args...)}, nil
	}
	for index < length {
		var page []Invoice
		err := iv.db.NewSelect().Model(&page).
			Where("inv.entity_key = ?", entity).Where("inv.chain_index > ?", index).Where("inv.chain_index <= ?", length).
			Relation("Lines", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("il.position") }).
			Order("inv.chain_index").Limit(verifyPage).Scan(ctx)
		if err != nil {
			return checked, nil, fmt.Errorf("read invoices of %s: %w", entity, err)
		}
		if len(page) == 0 {
			break
		}
		for i := range page {
			inv := &page[i]
			normalizeLoaded(inv)
			index++
			if inv.ChainIndex != index {
				return fail(inv, "document %d of the chain is missing (found %d next)", index, inv.ChainIndex)
			}
			if inv.PrevHash != prevHash {
				return fail(inv, "prev_hash does not match the hash of the previous document: the chain is broken")
			}
			want := lastSeq[inv.Year] + 1
			if inv.Seq != want {
				return fail(inv, "numbering gap or repeat: expected number %d of %d, found %d", want, inv.Year, inv.Seq)
			}
			lastSeq[inv.Year] = inv.Seq
			if inv.Number != invoiceNumber(inv.Year, inv.Seq) || inv.IssuedAt.In(invoiceZone).Year() != inv.Year {
				return fail(inv, "number %q does not match its year %d, sequence %d and issue date", inv.Number, inv.Year, inv.Seq)
			}
			if inv.IssuedAt.Before(lastIssued) {
				return fail(inv, "issued before the previous document: the series is not chronological")
			}
			lastIssued = inv.IssuedAt
			content := canonicalText(inv)
			if content != inv.Canonical {
				return fail(inv, "stored content was altered: the columns no longer give the text that was hashed (%s)", firstDifference(inv.Canonical, content))
			}
			if invoiceHash(prevHash, content) != inv.Hash {
				return fail(inv, "hash does not match the document's content")
			}
			prevHash = inv.Hash
			checked++
		}
	}
	if int64(checked) != length {
		return checked, &VerifyProblem{EntityKey: entity, Reason: fmt.Sprintf("the chain head counts %d documents, %d found: the last ones are missing", length, checked)}, nil
	}
	if prevHash != headHash {
		return checked, &VerifyProblem{EntityKey: entity, Reason: "the chain head does not match the last document's hash"}, nil
	}
	return checked, nil, nil
}

// firstDifference names the first canonical line that differs, to point the
// auditor at the altered field.
func firstDifference(stored, rebuilt string) string {
	a, b := strings.Split(stored, "\n"), strings.Split(rebuilt, "\n")
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			line := x
			if line == "" {
				line = y
			}
			key, _, _ := strings.Cut(line, ":")
			return "field " + key
		}
	}
	return "no visible difference"
}

// formatQuantity prints thousandths the French way: 1500 → "1,5".
func formatQuantity(milli int64) string {
	s := fmt.Sprintf("%d,%03d", milli/1000, milli%1000)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ",")
}

// canonRegistration adds the seller's registration to the canonical text,
// each line only when set: documents issued before these fields (none set)
// keep the bytes they were hashed with.
func canonRegistration(c *canonWriter, s Seller) {
	if s.VATExemptBasis != "" {
		c.str("seller.vat_exempt_basis", s.VATExemptBasis)
	}
	if s.ShareCapitalCents != 0 {
		c.num("seller.share_capital_cents", s.ShareCapitalCents)
	}
	if s.VariableCapital {
		c.flag("seller.variable_capital", true)
	}
	if s.Registry != "" {
		c.str("seller.registry", s.Registry)
		c.str("seller.registry_city", s.RegistryCity)
	}
	if s.RNA != "" {
		c.str("seller.rna", s.RNA)
	}
}
