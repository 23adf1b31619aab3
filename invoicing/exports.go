package invoicing

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/csvsafe"
	"github.com/relais-tierslieux/relais/internal/errs"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
)

// loadDocuments reads every document the filter selects (ignoring its
// cursor and limit), without lines, in issue order.
func (iv *Invoicer) loadDocuments(ctx context.Context, f InvoiceFilter) ([]Invoice, error) {
	var docs []Invoice
	q := invoiceFilterQuery(iv.db.NewSelect().Model(&docs), f).Order("inv.issued_at", "inv.entity_key", "inv.chain_index")
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read invoices: %w", err)
	}
	for i := range docs {
		normalizeLoaded(&docs[i])
	}
	return docs, nil
}

// csvHeader is the first row of the CSV export.
var csvHeader = []string{
	"Numéro", "Type", "Date", "Facture d'origine", "SIREN émetteur", "Site",
	"Client", "Email", "Client professionnel", "SIREN client", "N° TVA client",
	"Début prestation", "Fin prestation",
	"Total HT", "Total TVA", "Total TTC",
	"HT 0 %", "TVA 0 %", "HT 5,5 %", "TVA 5,5 %", "HT 10 %", "TVA 10 %", "HT 20 %", "TVA 20 %",
	"Payé le", "Mode de paiement", "Référence paiement", "Échéance",
}

// CSV writes the documents of f (every page: After and Limit are ignored)
// for a spreadsheet, one row per invoice or credit note, the way French
// spreadsheets open a file without an import dialog: UTF-8 with a byte
// order mark, ";" between fields, "," as the decimal separator, dates as
// DD/MM/YYYY. Credit notes have negative amounts. Cells go through
// csvsafe: a buyer's name is never run as a formula, amounts stay numbers.
func (iv *Invoicer) CSV(ctx context.Context, w io.Writer, f InvoiceFilter) error {
	docs, err := iv.loadDocuments(ctx, f)
	if err != nil {
		return err
	}
	sites, err := calendar.SiteNames(ctx, iv.db)
	if err != nil {
		return err
	}

	bw := bufio.NewWriter(w)
	bw.WriteString("\ufeff")
	cw := csvsafe.NewWriter(bw, ';', true)
	cw.Write(csvHeader)
	for i := range docs {
		d := &docs[i]
		kind, origin := "Facture", ""
		if d.Kind == KindCreditNote {
			kind, origin = "Avoir", d.CorrectsNumber
		}
		business := "non"
		if d.BuyerIsBusiness {
			business = "oui"
		}
		paidAt := ""
		if d.PaidAt != nil {
			paidAt = relpdf.FrenchDate(*d.PaidAt)
		}
		row := []string{
			d.Number, kind, relpdf.FrenchDate(d.IssuedAt), origin, d.EntityKey, sites[d.SiteID],
			d.BuyerName, d.BuyerEmail, business, d.BuyerSIREN, d.BuyerVATNumber,
			frenchDay(d.ServiceFrom), frenchDay(d.ServiceTo),
			decimalComma(d.TotalHTCents), decimalComma(d.TotalVATCents), decimalComma(d.TotalTTCCents),
		}
		for _, rate := range VATRates {
			var rt RateTotal
			for _, r := range d.VATBreakdown {
				if r.RateBP == rate {
					rt = r
				}
			}
			row = append(row, decimalComma(rt.HTCents), decimalComma(rt.VATCents))
		}
		row = append(row, paidAt, paymentMethodLabels[d.PaymentMethod], d.PaymentReference, frenchDay(d.DueDate))
		cw.Write(row)
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// decimalComma prints cents with a comma and no grouping: -2083 → "-20,83".
func decimalComma(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d", sign, cents/100, cents%100)
}

// Accounts of the French chart of accounts (PCG) used by the FEC export.
// Card payments are booked straight to the bank (512), as the brief of the
// export asks; an accountant who books Stripe payouts through a transit
// account remaps them on import.
const (
	AccountCustomers = "411"   // Clients
	AccountSales     = "706"   // Prestations de services
	AccountVAT       = "44571" // TVA collectée
	AccountBank      = "512"   // Banque: card, SEPA, transfer
	AccountCheques   = "5112"  // Chèques à encaisser
	AccountCash      = "530"   // Caisse
)

var accountLabels = map[string]string{
	AccountCustomers: "Clients",
	AccountSales:     "Prestations de services",
	AccountVAT:       "TVA collectée",
	AccountBank:      "Banque",
	AccountCheques:   "Chèques à encaisser",
	AccountCash:      "Caisse",
}

// Journals of the FEC export.
const (
	journalSales = "VE"
	journalBank  = "BQ"
	journalCash  = "CA"
)

var journalLabels = map[string]string{journalSales: "Ventes", journalBank: "Banque", journalCash: "Caisse"}

// fecHeader is the first line of a FEC: the 18 fields of article A47 A-1 of
// the Livre des procédures fiscales, in this order.
var fecHeader = []string{
	"JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
	"CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
	"EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
}

// fecLine is one line of an entry, before it is written.
type fecLine struct {
	account, aux, auxLib, lib string
	// cents is the amount on the account's usual side (debit for 411 and
	// treasury, credit for sales and VAT); a negative amount goes to the
	// other side, which is how a credit note reverses its invoice.
	cents        int64
	debitNatural bool
}

// FEC writes the Fichier des Écritures Comptables of one entity (its SIREN)
// for the documents issued in [from, to): a fiscal year runs from 1 January
// 00:00 to the next 1 January 00:00, Paris time. The file is tab-separated
// UTF-8 with a header line, dates YYYYMMDD and amounts with a decimal comma;
// name it <SIREN>FEC<closing date YYYYMMDD>.txt.
//
// Each document gives a balanced sales entry (journal VE): 411 (with the
// customer's auxiliary account) for the TTC, 706 for the HT of each rate and
// 44571 for the VAT of each rate, on the usual sides for an invoice and
// reversed for a credit note. A paid (or refunded) document adds a
// settlement entry dated the payment day: 512 (card, SEPA, transfer — journal
// BQ), 5112 (cheques — BQ) or 530 (cash — CA) against 411. Entries are
// numbered per journal in a continuous sequence over the file; PieceRef is
// the document number. A document whose amounts are all zero makes no entry.
func (iv *Invoicer) FEC(ctx context.Context, w io.Writer, entityKey string, from, to time.Time) error {
	if entityKey == "" {
		return errs.Invalid("entity_key", "is required")
	}
	docs, err := iv.loadDocuments(ctx, InvoiceFilter{EntityKey: entityKey, From: from, To: to})
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	writeFECLine(bw, fecHeader)
	seq := map[string]int{}
	write := func(journal string, date time.Time, d *Invoice, lines []fecLine) {
		seq[journal]++
		num := fmt.Sprintf("%s%06d", journal, seq[journal])
		for _, l := range lines {
			if l.cents == 0 {
				continue
			}
			debit, credit := l.cents, int64(0)
			if !l.debitNatural {
				debit, credit = 0, l.cents
			}
			if debit < 0 || credit < 0 {
				debit, credit = -credit, -debit
			}
			fields := []string{
				journal, journalLabels[journal], num, fecDate(date), l.account, accountLabels[l.account],
				l.aux, l.auxLib, d.Number, fecDate(d.IssuedAt), l.lib,
				decimalComma(debit), decimalComma(credit), "", "", fecDate(d.IssuedAt), "", "",
			}
			writeFECLine(bw, fields)
		}
	}
	for i := range docs {
		d := &docs[i]
		if d.TotalTTCCents == 0 {
			continue
		}
		name := "Facture"
		if d.Kind == KindCreditNote {
			name = "Avoir"
		}
		aux := customerAccount(d.BuyerUserID)
		lib := fmt.Sprintf("%s %s %s", name, d.Number, d.BuyerName)
		sale := []fecLine{{account: AccountCustomers, aux: aux, auxLib: d.BuyerName, lib: lib, cents: d.TotalTTCCents, debitNatural: true}}
		for _, r := range d.VATBreakdown {
			rate := strings.ReplaceAll(formatRate(r.RateBP), "\u00a0", " ")
			sale = append(sale,
				fecLine{account: AccountSales, lib: lib + " HT " + rate, cents: r.HTCents},
				fecLine{account: AccountVAT, lib: lib + " TVA " + rate, cents: r.VATCents})
		}
		write(journalSales, d.IssuedAt, d, sale)

		if d.PaidAt == nil || d.TotalTTCCents == 0 {
			continue
		}
		journal, treasury := journalBank, AccountBank
		switch d.PaymentMethod {
		case MethodCash:
			journal, treasury = journalCash, AccountCash
		case MethodCheque:
			treasury = AccountCheques
		}
		verb := "Règlement"
		if d.Kind == KindCreditNote {
			verb = "Remboursement"
		}
		plib := fmt.Sprintf("%s %s %s (%s)", verb, strings.ToLower(name), d.Number, paymentMethodLabels[d.PaymentMethod])
		write(journal, *d.PaidAt, d, []fecLine{
			{account: treasury, lib: plib, cents: d.TotalTTCCents, debitNatural: true},
			{account: AccountCustomers, aux: aux, auxLib: d.BuyerName, lib: plib, cents: d.TotalTTCCents},
		})
	}
	return bw.Flush()
}

// customerAccount is the auxiliary account of a member: "C" and the last 12
// hex digits of their id (the random part of a UUIDv7, unlike its time
// prefix), or CDIVERS for a buyer without an account.
func customerAccount(userID string) string {
	hex := strings.ReplaceAll(userID, "-", "")
	if len(hex) < 12 {
		return "CDIVERS"
	}
	return "C" + strings.ToUpper(hex[len(hex)-12:])
}

func fecDate(t time.Time) string { return t.In(invoiceZone).Format("20060102") }

// writeFECLine writes one line of the FEC, every field through fecField.
func writeFECLine(bw *bufio.Writer, fields []string) {
	for i, f := range fields {
		if i > 0 {
			bw.WriteByte('\t')
		}
		bw.WriteString(fecField(f))
	}
	bw.WriteByte('\n')
}

// fecField keeps a field on its line and inside its column: the FEC has no
// quoting, so a tab would shift every later column and a line break would
// cut the entry in two. Tabs, CR, LF, every other control character (VT,
// FF, NEL, which some readers also take for line ends) and the Unicode line
// and paragraph separators become a space. Nothing else changes.
//
// Unlike the CSV exports, the FEC does not neutralise formulas with a
// leading quote: it is the books themselves, read by accounting software and
// by the tax administration's tools (Test Compta Demat), which take every
// field as text, and its labels must stay the ones of the documents (a
// customer named "=Dupont" is CompAuxLib "=Dupont" and is on the invoice so).
// A quote would be imported into the accountant's software as part of the
// customer's name. Only CompAuxLib can start with text a person typed:
// EcritureLib always starts with Relais's own words ("Facture 2026-000001 …")
// and PieceRef is the document's number. The remaining risk is someone
// opening the FEC in a spreadsheet: a .txt goes through the spreadsheet's
// text import, and depending on the program and its settings a leading "="
// in CompAuxLib may still be read as a formula there; the README says to
// import that column as text.
func fecField(s string) string {
	if !strings.ContainsFunc(s, fecBreaks) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if fecBreaks(r) {
			return ' '
		}
		return r
	}, s)
}

func fecBreaks(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }
