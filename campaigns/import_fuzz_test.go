package campaigns

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
)

// FuzzParseContributionsCSV: any bytes either are refused as a whole with
// a client error naming the file, or parse into rows that are all usable
// (positive amounts, an email, a unique id, text the text rule allows) and problems that
// each name a line of the file; it never panics.
func FuzzParseContributionsCSV(f *testing.F) {
	for _, s := range []string{
		helloAssoCSV,
		string(latin1(helloAssoCSV)),
		"\uFEFFcontribution_id,email,amount,date\na,b@c.fr,\"1,50\",2026-03-02\n",
		"contribution_id;email;amount;date\n\"x;y\";a@b.fr;3;02/03/2026 10:00\nx;a@b.fr;-1;hier\n",
		"", "\xff\xfe", "id\n", "contribution_id,email,amount,date\n\"unterminated",
		"contribution_id;email;name;amount;date\nx\x00;a@b.fr;A\x81;3;2026-03-02\ny;c@d.fr;\"B\nC\";4;2026-03-02\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseContributionsCSV(data, paris)
		if err != nil {
			var pr *errs.Problem
			if !errors.As(err, &pr) || pr.Code != "csv_unreadable" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		lines := strings.Count(string(data), "\n") + strings.Count(string(data), "\r") + 1
		seen := map[string]bool{}
		for _, r := range p.Rows {
			if r.AmountCents <= 0 || r.AmountCents > maxContributionCents || !validEmail(r.Email) || r.ExternalID == "" || seen[r.ExternalID] {
				t.Fatalf("unusable row %+v", r)
			}
			seen[r.ExternalID] = true
			if !utf8.ValidString(r.Name) || !utf8.ValidString(r.ExternalID) || r.At.IsZero() {
				t.Fatalf("row %+v", r)
			}
			for _, text := range []string{r.ExternalID, r.Email, r.Name, r.PublicName} {
				if reason := freetext.Check(text, freetext.SingleLine); reason != "" {
					t.Fatalf("row %+v keeps %q, which the text rule refuses: %s", r, text, reason)
				}
			}
			if r.Line < 2 || r.Line > lines {
				t.Fatalf("row line %d of %d", r.Line, lines)
			}
		}
		for _, pr := range p.Problems {
			if pr.Line < 1 || pr.Line > lines || pr.Reason == "" {
				t.Fatalf("problem %+v of %d lines", pr, lines)
			}
		}
	})
}
