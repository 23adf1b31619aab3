package ledger

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/csvsafe"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
)

// StatementLine is one line of a member's credit statement: what a
// movement did to one kind of credit, and the balance after it.
type StatementLine struct {
	At           time.Time
	MovementID   string
	Kind         string
	Reason       string
	Unit         string
	ResourceKind string
	Amount       int64 // signed: + received, − spent
	Pending      bool  // pending credit (a campaign not settled yet)
	Balance      int64 // spendable balance of this unit and kind after the line
}

// Statement returns the credit movements of the member p between from and
// to (zero: unbounded), one line per movement, unit and kind, with the
// running spendable balance. Balances run from the member's first movement,
// so a window's first line carries the balance brought forward.
func (s *Service) Statement(ctx context.Context, p *identity.Principal, from, to time.Time) ([]StatementLine, error) {
	if err := MayHoldCredit(p); err != nil {
		return nil, err
	}
	userID := p.UserID
	var out []StatementLine
	balance := map[string]int64{}
	after := ""
	for {
		mvs, err := s.memberMovements(ctx, userID, after, 500, "")
		if err != nil {
			return nil, err
		}
		for _, m := range mvs {
			type key struct {
				unit, kind string
				pending    bool
			}
			sums := map[key]int64{}
			var order []key
			for _, l := range m.Lines {
				k := key{l.Unit, l.ResourceKind, l.Pending}
				if _, ok := sums[k]; !ok {
					order = append(order, k)
				}
				sums[k] += l.Amount
			}
			for _, k := range order {
				if sums[k] == 0 {
					continue // pending → spendable within one lot nets out per flag
				}
				bk := k.unit + "/" + k.kind
				if !k.pending {
					balance[bk] += sums[k]
				}
				if (!from.IsZero() && m.CreatedAt.Before(from)) || (!to.IsZero() && !m.CreatedAt.Before(to)) {
					continue
				}
				out = append(out, StatementLine{At: m.CreatedAt, MovementID: m.ID, Kind: m.Kind, Reason: m.Reason, Unit: k.unit,
					ResourceKind: k.kind, Amount: sums[k], Pending: k.pending, Balance: balance[bk]})
			}
		}
		if len(mvs) < 500 {
			return out, nil
		}
		after = mvs[len(mvs)-1].ID
	}
}

var movementLabels = map[string]string{
	MoveCredit: "Contribution", MoveVest: "Crédit acquis", MoveVoid: "Crédit annulé", MoveSpend: "Réservation",
	MoveRelease: "Annulation", MoveGift: "Don", MoveGrant: "Attribution", MoveWithdraw: "Retrait", MoveExpire: "Expiration",
}

// euros prints cents as "1234,56".
func euros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d", sign, cents/100, cents%100)
}

func amountText(unit string, n int64) string {
	if unit == UnitCents {
		return euros(n) + " €"
	}
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d min", sign, n)
}

// WriteStatementCSV writes lines as CSV (comma-separated, UTF-8, amounts
// in cents or minutes, times in UTC RFC 3339). Reasons written by managers
// or members go through csvsafe, like every cell.
func WriteStatementCSV(w io.Writer, lines []StatementLine) error {
	cw := csvsafe.NewWriter(w, ',', false)
	cw.Write([]string{"date", "movement_id", "kind", "reason", "unit", "resource_kind", "amount", "pending", "balance"})
	for _, l := range lines {
		cw.Write([]string{l.At.UTC().Format(time.RFC3339), l.MovementID, l.Kind, l.Reason, l.Unit, l.ResourceKind,
			strconv.FormatInt(l.Amount, 10), strconv.FormatBool(l.Pending), strconv.FormatInt(l.Balance, 10)})
	}
	return cw.Flush()
}

// StatementPDF renders the statement of the member p between from and to
// (see Statement) as an A4 document in their name, dated now.
func (s *Service) StatementPDF(ctx context.Context, p *identity.Principal, from, to time.Time) ([]byte, error) {
	lines, err := s.Statement(ctx, p, from, to)
	if err != nil {
		return nil, err
	}
	member, err := s.accounts.Contact(ctx, s.db, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("statement's member: %w", err)
	}
	return statementPDF(member.Name+" <"+member.Email+">", from, to, s.now(), lines)
}

// statementPDF renders lines as an A4 statement for the member named.
func statementPDF(memberName string, from, to, issued time.Time, lines []StatementLine) ([]byte, error) {
	pdf, tr := relpdf.New("Relevé de crédits", "", issued, "Relevé de crédits")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 14)
	pdf.CellFormat(0, 8, tr("Relevé de crédits"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	period := "depuis l'ouverture du compte"
	switch {
	case !from.IsZero() && !to.IsZero():
		period = "du " + relpdf.FrenchDate(from) + " au " + relpdf.FrenchDate(to.Add(-time.Second))
	case !from.IsZero():
		period = "depuis le " + relpdf.FrenchDate(from)
	case !to.IsZero():
		period = "jusqu'au " + relpdf.FrenchDate(to.Add(-time.Second))
	}
	pdf.CellFormat(0, relpdf.Line, tr(memberName+" — "+period), "", 1, "L", false, 0, "")
	pdf.CellFormat(0, relpdf.Line, tr("Édité le "+relpdf.FrenchDate(issued)), "", 1, "L", false, 0, "")
	pdf.Ln(4)
	widths := []float64{22, 26, 72, 30, 30}
	pdf.SetFont("Helvetica", "B", 8)
	for i, h := range []string{"Date", "Mouvement", "Libellé", "Montant", "Solde"} {
		pdf.CellFormat(widths[i], 6, tr(h), "B", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 8)
	for _, l := range lines {
		label := movementLabels[l.Kind]
		reason := l.Reason
		if l.Unit == UnitMinutes {
			reason = "[" + l.ResourceKind + "] " + reason
		}
		if l.Pending {
			reason += " (en attente)"
		}
		if len(reason) > 60 {
			reason = reason[:57] + "..."
		}
		cells := []string{relpdf.FrenchDate(l.At), label, reason, amountText(l.Unit, l.Amount), amountText(l.Unit, l.Balance)}
		for i, c := range cells {
			pdf.CellFormat(widths[i], 5, tr(c), "", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	if len(lines) == 0 {
		pdf.CellFormat(0, 6, tr("Aucun mouvement sur la période."), "", 1, "L", false, 0, "")
	}
	return relpdf.Bytes(pdf, "statement")
}
