package campaigns

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Import formats.
const (
	FormatHelloAsso = "helloasso"
	FormatGeneric   = "generic"
)

// MaxImportRows bounds one CSV file.
const MaxImportRows = 50_000

// ImportRow is one contribution read from a CSV export.
type ImportRow struct {
	Line        int
	ExternalID  string
	Email       string
	Name        string
	AmountCents int64
	At          time.Time
	PublicName  string
}

// LineProblem is a row of a CSV file that cannot be used, and why.
type LineProblem struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// ParsedCSV is a contributions export read and checked.
type ParsedCSV struct {
	Format    string
	Encoding  string // utf-8, utf-8-bom or windows-1252
	Delimiter string
	Rows      []ImportRow
	// Skipped are rows that are not paid contributions (an order HelloAsso
	// lists as refunded or waiting): left out, not errors.
	Skipped []LineProblem
	// Problems are rows in error: one is enough to refuse the whole file.
	Problems []LineProblem
}

// columns maps what a row needs to the header names that carry it, after
// normalisation (lower case, no accents, letters and digits only). The
// HelloAsso names are those of its order exports ("Référence commande",
// "Date de la commande", "Statut de la commande", "Nom payeur", "Prénom
// payeur", "Email payeur", "Montant" or "Montant tarif"); the generic
// layout is documented in README.md.
var columns = map[string][]string{
	"id":          {"reference commande", "numero de commande", "numero", "contribution id", "id"},
	"email":       {"email payeur", "email", "e mail", "adresse email", "courriel"},
	"first_name":  {"prenom payeur", "prenom adherent", "prenom", "first name"},
	"last_name":   {"nom payeur", "nom adherent", "last name"},
	"name":        {"name", "nom"},
	"amount":      {"montant", "montant tarif", "montant total", "montant du don", "amount"},
	"date":        {"date de la commande", "date du paiement", "date", "contributed at"},
	"status":      {"statut de la commande", "statut du paiement", "statut", "status"},
	"public_name": {"public name", "nom public"},
}

// normHeader folds a header for matching: "Montant (€)" → "montant".
func normHeader(h string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(strings.ToLower(h)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// accents
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// win1252 maps bytes 0x80–0x9F of Windows-1252 (what French spreadsheets
// call "ANSI"); the other bytes are their Latin-1 code points.
var win1252 = [32]rune{'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ'}

// decodeText returns data as UTF-8 and names the encoding found: UTF-8
// with or without a byte-order mark, otherwise Windows-1252 (a superset of
// Latin-1's printable characters). UTF-16 is refused.
func decodeText(data []byte) (string, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		rest := data[3:]
		if !utf8.Valid(rest) {
			return "", "", errors.New("the file starts as UTF-8 but is not valid UTF-8")
		}
		return string(rest), "utf-8-bom", nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return "", "", errors.New("UTF-16 files are not supported: export as CSV UTF-8 (or Windows-1252)")
	case utf8.Valid(data):
		return string(data), "utf-8", nil
	}
	var b strings.Builder
	b.Grow(len(data) + len(data)/8)
	for _, c := range data {
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(win1252[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String(), "windows-1252", nil
}

// sniffDelimiter picks ';', ',' or tab: whichever the header line holds
// most of outside quotes.
func sniffDelimiter(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	counts := map[rune]int{}
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ';' || r == ',' || r == '\t'):
			counts[r]++
		}
	}
	best := ';'
	for _, r := range []rune{';', ',', '\t'} {
		if counts[r] > counts[best] {
			best = r
		}
	}
	return best
}

// csvError is a file that cannot be read at all.
func csvError(format string, args ...any) error {
	p := errs.Problemf(errs.ErrInvalid, "csv_unreadable", format, args...)
	p.Fields = []errs.FieldError{errs.Fieldf("file", format, args...)}
	return p
}

// ParseContributionsCSV reads a HelloAsso export or a file in the generic
// layout, whatever its encoding (UTF-8, UTF-8 with BOM, Windows-1252 or
// Latin-1) and delimiter (';', ',' or tab). Local dates are read in loc. An
// error means the file as a whole is unusable (no header, a required
// column missing); bad rows are listed in Problems with their line number.
func ParseContributionsCSV(data []byte, loc *time.Location) (*ParsedCSV, error) {
	r, header, enc, delim, err := openCSV(data)
	if err != nil {
		return nil, err
	}
	col, seen := mapColumns(header)
	out := &ParsedCSV{Encoding: enc, Delimiter: string(delim), Format: FormatGeneric}
	if seen["email payeur"] || seen["reference commande"] {
		out.Format = FormatHelloAsso
	}
	var missing []string
	for _, key := range []string{"id", "email", "amount", "date"} {
		if _, ok := col[key]; !ok {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		p := csvError("missing columns: %s (found %q; delimiter %q, encoding %s)", strings.Join(missing, ", "), header, string(delim), enc)
		return nil, p
	}
	if loc == nil {
		loc = paris
	}
	firstLine := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			out.Problems = append(out.Problems, LineProblem{Line: line, Reason: "unreadable: " + err.Error()})
			if len(out.Problems) > 1000 {
				break
			}
			continue
		}
		if len(out.Rows)+len(out.Skipped)+len(out.Problems) >= MaxImportRows {
			return nil, csvError("the file has more than %d rows: split it", MaxImportRows)
		}
		out.readRow(rec, line, col, loc, firstLine)
	}
	return out, nil
}

// openCSV decodes data, guesses its delimiter and reads its header line.
func openCSV(data []byte) (r *csv.Reader, header []string, enc string, delim rune, err error) {
	text, enc, err := decodeText(data)
	if err != nil {
		return nil, nil, "", 0, csvError("%s", err.Error())
	}
	if strings.TrimSpace(text) == "" {
		return nil, nil, "", 0, csvError("the file is empty")
	}
	delim = sniffDelimiter(text)
	r = csv.NewReader(strings.NewReader(text))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	header, err = r.Read()
	if err != nil {
		return nil, nil, "", 0, csvError("cannot read the header line: %v", err)
	}
	return r, header, enc, delim, nil
}

// mapColumns finds, for each column a row needs, the index of the first
// of its names the header has; seen holds every normalised header name.
func mapColumns(header []string) (col map[string]int, seen map[string]bool) {
	col = map[string]int{}
	seen = map[string]bool{}
	for i, h := range header {
		seen[normHeader(h)] = true
		_ = i
	}
	for key, names := range columns {
		for _, n := range names {
			if !seen[n] {
				continue
			}
			for i, h := range header {
				if normHeader(h) == n {
					col[key] = i
					break
				}
			}
			break
		}
	}
	return col, seen
}

// readRow reads the record rec at line into a row, a skipped line or
// problems. firstLine remembers where each contribution id was first seen.
func (out *ParsedCSV) readRow(rec []string, line int, col map[string]int, loc *time.Location, firstLine map[string]int) {
	get := func(key string) string {
		if i, ok := col[key]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	if allBlank(rec) {
		return
	}
	if st := get("status"); st != "" && !paidStatus(st) {
		out.Skipped = append(out.Skipped, LineProblem{Line: line, Column: "status", Reason: fmt.Sprintf("status %q is not a paid contribution", st)})
		return
	}
	row := ImportRow{Line: line, ExternalID: get("id"), Email: normEmail(get("email")), PublicName: get("public_name")}
	row.Name = strings.TrimSpace(get("first_name") + " " + get("last_name"))
	if row.Name == "" {
		row.Name = get("name")
	}
	bad := func(column, reason string) {
		out.Problems = append(out.Problems, LineProblem{Line: line, Column: column, Reason: reason})
	}
	ok := checkIdentity(&row, get("email"), firstLine, bad)
	amount, err := parseEuros(get("amount"))
	if err != nil {
		bad("amount", err.Error())
		ok = false
	}
	row.AmountCents = amount
	at, err := parseWhen(get("date"), loc)
	if err != nil {
		bad("date", err.Error())
		ok = false
	}
	row.At = at
	if ok {
		out.Rows = append(out.Rows, row)
	}
}

// checkIdentity checks a row's contribution id (present, short, not seen
// before), email (rawEmail as the file has it) and names, reporting each
// problem through bad; it reports whether there was none.
func checkIdentity(row *ImportRow, rawEmail string, firstLine map[string]int, bad func(column, reason string)) bool {
	ok := true
	switch {
	case row.ExternalID == "":
		bad("id", "the contribution id is empty")
		ok = false
	case len(row.ExternalID) > 200:
		bad("id", "the contribution id is longer than 200 bytes")
		ok = false
	case firstLine[row.ExternalID] != 0:
		bad("id", fmt.Sprintf("the same contribution id as line %d", firstLine[row.ExternalID]))
		ok = false
	default:
		firstLine[row.ExternalID] = row.Line
	}
	if !validEmail(row.Email) {
		bad("email", fmt.Sprintf("%q is not an email address", rawEmail))
		ok = false
	}
	// What is stored and shown again (receipts, the public page, the
	// exports) follows the rule for text people type: a NUL would make
	// PostgreSQL refuse the whole import, a control or direction
	// override character would garble what managers read.
	for _, c := range []struct{ column, value string }{
		{"id", row.ExternalID}, {"email", row.Email}, {"name", row.Name}, {"public_name", row.PublicName},
	} {
		if reason := freetext.Check(c.value, freetext.SingleLine); reason != "" {
			bad(c.column, strings.ReplaceAll(c.column, "_", " ")+" "+reason)
			ok = false
		}
	}
	if len(row.Name) > 200 || len(row.PublicName) > 100 {
		bad("name", "names are at most 200 bytes (public names 100)")
		ok = false
	}
	return ok
}

func allBlank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// paidStatus recognises the statuses of a paid order: HelloAsso's
// "Validé", and the generic layout's "paid".
func paidStatus(s string) bool {
	switch normHeader(s) {
	case "valide", "validee", "paye", "payee", "paid", "succeeded", "ok":
		return true
	}
	return false
}

func validEmail(e string) bool {
	at := strings.IndexByte(e, '@')
	return at > 0 && at < len(e)-1 && len(e) <= 254 && !strings.ContainsAny(e, " \t;,<>\"") && strings.Count(e, "@") == 1
}

// parseEuros reads "30", "30,00", "1 200,50 €" or "30.5" as cents.
func parseEuros(s string) (int64, error) {
	s = strings.NewReplacer("€", "", " ", "", "\u00a0", "", "\u202f", "", "EUR", "").Replace(s)
	if s == "" {
		return 0, errors.New("the amount is empty")
	}
	whole, frac, dot := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	if whole == "" || len(whole) > 9 || (dot && (len(frac) == 0 || len(frac) > 2)) || !allDigits(whole) || !allDigits(frac) {
		if strings.HasPrefix(s, "-") {
			return 0, fmt.Errorf("the amount %q is negative", s)
		}
		return 0, fmt.Errorf("the amount %q is not a number of euros such as 30,00", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	cents := w*100 + f
	if cents <= 0 {
		return 0, errors.New("the amount must be positive")
	}
	if cents > maxContributionCents {
		return 0, fmt.Errorf("the amount is above %d €", maxContributionCents/100)
	}
	return cents, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseWhen reads the dates exports carry: "25/03/2026 14:05:09",
// "25/03/2026 14:05", "25/03/2026", "2026-03-25", "2026-03-25 14:05:09" in
// loc, or RFC 3339.
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("the date is empty")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006", "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("the date %q is not a date such as 25/03/2026 14:05", s)
}

// ImportReport says what an applied file did.
type ImportReport struct {
	ImportID   string
	Format     string
	Encoding   string
	Delimiter  string
	Rows       int // contributions in the file
	Created    int // new contributions
	Duplicates int // already imported (same platform id): left as they were
	Matched    int // new contributions whose email is a member's
	Held       int // new contributions waiting for a member with their email
	Skipped    []LineProblem
}

// ImportRejectedError is a file refused as a whole: each bad row with its
// line number and reason. Nothing was applied.
type ImportRejectedError struct {
	Problems []LineProblem
}

func (e *ImportRejectedError) Error() string {
	return fmt.Sprintf("%d rows of the file are wrong; nothing was imported", len(e.Problems))
}

func (e *ImportRejectedError) Unwrap() error { return errs.ErrInvalid }

// ImportContributions applies a CSV export of an external platform to a
// campaign, all or nothing: if any row is wrong the whole file is refused
// with every bad row listed, and nothing is written; otherwise every new
// contribution is recorded in one transaction. A contribution already
// imported (same platform and id) is left as it is, so importing a file
// again, or a later export that repeats earlier rows, adds only the new
// ones. Contributors are matched to members by email; the others' credit
// waits for a member with that email (ClaimContributions).
func (s *Service) ImportContributions(ctx context.Context, p *identity.Principal, campaignID string, data []byte) (*ImportReport, error) {
	return s.importContributions(ctx, p, campaignID, data, false)
}

// PreviewImport is ImportContributions without its effects: the same parse,
// the same checks and the same report (duplicates, members matched, rows
// held or skipped, or the ImportRejectedError with every bad line), from
// the same transaction rolled back at its end, so that a manager sees what
// the file would do before applying it. The report has no ImportID.
func (s *Service) PreviewImport(ctx context.Context, p *identity.Principal, campaignID string, data []byte) (*ImportReport, error) {
	return s.importContributions(ctx, p, campaignID, data, true)
}

// errPreviewDone ends a preview's transaction: returned by its function, it
// rolls back everything the import wrote.
var errPreviewDone = errors.New("campaigns: import preview rolled back")

func (s *Service) importContributions(ctx context.Context, p *identity.Principal, campaignID string, data []byte, dryRun bool) (*ImportReport, error) {
	c, err := s.RunCampaign(ctx, p, campaignID)
	if err != nil {
		return nil, err
	}
	actorID := p.UserID
	parsed, err := ParseContributionsCSV(data, billing.SiteLocation(ctx, s.db, c.SiteID))
	if err != nil {
		return nil, err
	}
	if len(parsed.Problems) > 0 {
		return nil, &ImportRejectedError{Problems: parsed.Problems}
	}
	rep := &ImportReport{ImportID: id.New(), Format: parsed.Format, Encoding: parsed.Encoding, Delimiter: parsed.Delimiter,
		Rows: len(parsed.Rows), Skipped: parsed.Skipped}
	if rep.Skipped == nil {
		rep.Skipped = []LineProblem{}
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c, err := getCampaign(ctx, tx, campaignID, true)
		if err != nil {
			return err
		}
		known, err := existingIDs(ctx, tx, parsed.Format, parsed.Rows)
		if err != nil {
			return err
		}
		members, err := s.membersByEmail(ctx, tx, parsed.Rows)
		if err != nil {
			return err
		}
		seq, err := nextReceipt(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		now := s.now()
		for _, row := range parsed.Rows {
			if known[row.ExternalID] {
				rep.Duplicates++
				continue
			}
			k := &Contribution{ID: id.New(), CampaignID: c.ID, Platform: parsed.Format, ExternalID: row.ExternalID, ReceiptSeq: seq,
				Email: row.Email, Name: row.Name, AmountCents: row.AmountCents, Status: ContribPaid, ContributedAt: row.At,
				ImportID: &rep.ImportID, CreatedAt: now, UpdatedAt: now}
			if row.PublicName != "" {
				k.PublicName = &row.PublicName
			}
			if u, ok := members[row.Email]; ok {
				k.UserID = &u
				rep.Matched++
			} else {
				rep.Held++
			}
			c.applyTier(k)
			if _, err := tx.NewInsert().Model(k).Exec(ctx); err != nil {
				if db.IsUnique(err) {
					return &errs.Problem{Kind: errs.ErrConflict, Code: "import_conflict",
						Detail: "another import of the same contributions ran at the same time; send the file again"}
				}
				return fmt.Errorf("insert contribution: %w", err)
			}
			if err := s.creditContribution(ctx, tx, c, k); err != nil {
				return err
			}
			seq++
			rep.Created++
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO campaign_imports (id, campaign_id, format, rows_total, rows_created, rows_duplicate, rows_skipped, imported_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, rep.ImportID, c.ID, rep.Format, rep.Rows, rep.Created, rep.Duplicates, len(rep.Skipped), nullable(actorID), now)
		if err != nil {
			return fmt.Errorf("record import: %w", err)
		}
		if dryRun {
			return errPreviewDone
		}
		return nil
	})
	if dryRun && errors.Is(err, errPreviewDone) {
		rep.ImportID = ""
		return rep, nil
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// existingIDs finds which of the rows' platform ids are already recorded.
func existingIDs(ctx context.Context, tx bun.IDB, platform string, rows []ImportRow) (map[string]bool, error) {
	known := map[string]bool{}
	for start := 0; start < len(rows); start += 500 {
		end := min(start+500, len(rows))
		ids := make([]string, 0, end-start)
		for _, r := range rows[start:end] {
			ids = append(ids, r.ExternalID)
		}
		var found []string
		if err := tx.NewSelect().Model((*Contribution)(nil)).Column("external_id").
			Where("platform = ? AND external_id IN (?)", platform, bun.In(ids)).Scan(ctx, &found); err != nil {
			return nil, fmt.Errorf("find imported contributions: %w", err)
		}
		for _, f := range found {
			known[f] = true
		}
	}
	return known, nil
}

// membersByEmail maps the rows' emails to member ids.
func (s *Service) membersByEmail(ctx context.Context, tx bun.IDB, rows []ImportRow) (map[string]string, error) {
	out := map[string]string{}
	emails := make([]string, 0, len(rows))
	for _, r := range rows {
		emails = append(emails, r.Email)
	}
	for start := 0; start < len(emails); start += 500 {
		end := min(start+500, len(emails))
		cs, err := s.accounts.ContactsByEmail(ctx, tx, emails[start:end])
		if err != nil {
			return nil, fmt.Errorf("match members by email: %w", err)
		}
		for email, c := range cs {
			out[email] = c.ID
		}
	}
	return out, nil
}
