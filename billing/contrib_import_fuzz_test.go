package billing

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// FuzzParseContributionsCSV: any bytes either are refused as a whole with
// a client error naming the file, or parse into rows that are all usable
// (positive amounts, an email, a unique id, valid UTF-8) and problems that
// each name a line of the file; it never panics.
func FuzzParseContributionsCSV(f *testing.F) {
	for _, s := range []string{
		helloAssoCSV,
		string(latin1(helloAssoCSV)),
		"\uFEFFcontribution_id,email,amount,date\na,b@c.fr,\"1,50\",2026-03-02\n",
		"contribution_id;email;amount;date\n\"x;y\";a@b.fr;3;02/03/2026 10:00\nx;a@b.fr;-1;hier\n",
		"", "\xff\xfe", "id\n", "contribution_id,email,amount,date\n\"unterminated",
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
