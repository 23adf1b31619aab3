package privacy

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// file is one file of an export: its name in the ZIP and what it holds.
type file struct {
	name string
	data []byte
}

// buildZIP gathers from each domain what it holds about userID and writes
// it as a ZIP: one JSON file per kind of record, the PDF of every invoice
// and receipt, and a README.txt saying what each file is.
func (s *Service) buildZIP(ctx context.Context, userID string) ([]byte, error) {
	files, err := s.jsonFiles(ctx, userID)
	if err != nil {
		return nil, err
	}
	pdfs, err := s.pdfFiles(ctx, userID, &files)
	if err != nil {
		return nil, err
	}
	files = append(files, pdfs...)
	files = append([]file{{name: "README.txt", data: []byte(readme)}}, files...)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: s.now()})
		if err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, fmt.Errorf("zip %s: %w", f.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	return b.Bytes(), nil
}

// jsonFile encodes v as name. Records of the domains that have no JSON
// names of their own (their Go field names) get snake_case keys, as the
// API writes them, so that every file of an export reads alike.
func jsonFile(name string, v any) (file, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return file{}, fmt.Errorf("encode %s: %w", name, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // amounts stay exact
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return file{}, fmt.Errorf("encode %s: %w", name, err)
	}
	data, err := json.MarshalIndent(snakeKeys(tree), "", "  ")
	if err != nil {
		return file{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return file{name: name, data: append(data, '\n')}, nil
}

// snakeKeys renames the keys of every object in v to snake_case and drops
// bun's empty BaseModel.
func snakeKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if k != "BaseModel" {
				out[snake(k)] = snakeKeys(e)
			}
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = snakeKeys(e)
		}
		return t
	}
	return v
}

// snake turns a Go field name into snake_case, keeping acronyms whole:
// UserID is user_id, VATRateBP vat_rate_bp, TotalHTCents total_ht_cents.
func snake(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		upper := unicode.IsUpper(c)
		if upper && i > 0 && (!unicode.IsUpper(r[i-1]) || (i+1 < len(r) && unicode.IsLower(r[i+1]))) && r[i-1] != '_' {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// jsonFiles asks identity, the calendar, billing, the ledger and the
// gate's audit for their records of userID.
func (s *Service) jsonFiles(ctx context.Context, userID string) ([]file, error) {
	account, err := s.cfg.Identity.ExportAccount(ctx, userID)
	if err != nil {
		return nil, err
	}
	signIns, err := s.cfg.Identity.ExportSignIns(ctx, userID)
	if err != nil {
		return nil, err
	}
	cal, err := s.cfg.Calendar.ExportMember(ctx, userID)
	if err != nil {
		return nil, err
	}
	bill, err := s.cfg.Billing.ExportMember(ctx, userID)
	if err != nil {
		return nil, err
	}
	credits, err := s.cfg.Ledger.ExportMember(ctx, userID)
	if err != nil {
		return nil, err
	}
	var events any = []any{}
	if s.cfg.Access != nil {
		if events, err = s.cfg.Access.ExportMember(ctx, userID); err != nil {
			return nil, err
		}
	}
	var notes any = []any{}
	if s.cfg.People != nil {
		if notes, err = s.cfg.People.ExportMember(ctx, userID); err != nil {
			return nil, err
		}
	}
	var registrations any = []any{}
	if s.cfg.Ateliers != nil {
		if registrations, err = s.cfg.Ateliers.ExportMember(ctx, userID); err != nil {
			return nil, err
		}
	}
	var appts any = []any{}
	if s.cfg.Appointments != nil {
		if appts, err = s.cfg.Appointments.ExportMember(ctx, userID); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		v    any
	}{
		{"account.json", account},
		{"sessions.json", signIns},
		{"reservations.json", cal.Reservations},
		{"waiting_list.json", cal.WaitingList},
		{"qualifications.json", cal.Qualifications},
		{"calendar_feeds.json", cal.FeedTokens},
		{"memberships.json", map[string]any{"memberships": bill.Memberships, "day_passes": bill.DayPasses, "packs": bill.Packs}},
		{"payments.json", map[string]any{"payments": bill.Payments, "usage_charges": bill.Charges}},
		{"credits.json", credits},
		{"ateliers.json", registrations},
		{"access_events.json", events},
		{"notes.json", notes},
		{"appointments.json", appts},
	}
	if s.cfg.People != nil {
		// A guest of the services: their commune and age band.
		guest, err := s.cfg.People.ExportGuest(ctx, userID)
		if err != nil {
			return nil, err
		}
		if guest != nil {
			files = append(files, struct {
				name string
				v    any
			}{"guest.json", guest})
		}
	}
	var out []file
	for _, f := range files {
		jf, err := jsonFile(f.name, f.v)
		if err != nil {
			return nil, err
		}
		out = append(out, jf)
	}
	return out, nil
}

// pdfFiles adds invoices.json and contributions.json to files and returns
// the PDFs of their invoices and receipts.
func (s *Service) pdfFiles(ctx context.Context, userID string, files *[]file) ([]file, error) {
	docs, err := s.cfg.Invoices.ExportMember(ctx, userID)
	if err != nil {
		return nil, err
	}
	var pdfs []file
	invoices := make([]any, 0, len(docs))
	for _, d := range docs {
		invoices = append(invoices, d.Invoice)
		pdfs = append(pdfs, file{name: "invoices/" + safeName(d.Invoice.Number) + ".pdf", data: d.PDF})
	}
	contributions := []any{}
	if s.cfg.Campaigns != nil {
		ks, err := s.cfg.Campaigns.ExportMember(ctx, userID)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			contributions = append(contributions, k.Contribution)
			if len(k.ReceiptPDF) > 0 {
				pdfs = append(pdfs, file{name: "receipts/" + safeName(k.Contribution.ReceiptNumber()) + ".pdf", data: k.ReceiptPDF})
			}
		}
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"invoices.json", invoices}, {"contributions.json", contributions}} {
		jf, err := jsonFile(f.name, f.v)
		if err != nil {
			return nil, err
		}
		*files = append(*files, jf)
	}
	return pdfs, nil
}

// safeName keeps a document number a plain file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '-'
		}
		return r
	}, s)
}
