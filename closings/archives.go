package closings

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// An archive of a closed month or year is a ZIP holding every document of
// the period (each invoice and credit note as JSON, with its chained
// footprint, and as PDF), its payments, its closings and the technical
// journal, and:
//
//   - manifest.json: every other file's name, size and SHA-256;
//   - manifest.sha256: the manifest's own SHA-256;
//   - manifest.sig: the Ed25519 signature of manifest.json (base64);
//   - public_key.pem: the key that verifies it (also served at
//     GET /v1/archives/public-key, to compare with).
//
// The key pair is generated once and kept in the database (settings), like
// the JWT secret: replicas share it and it survives restarts.
const (
	ManifestName  = "manifest.json"
	ManifestHash  = "manifest.sha256"
	SignatureName = "manifest.sig"
	PublicKeyName = "public_key.pem"
	signingKeyRow = "archive_signing_key"
)

// Manifest lists an archive's files.
type Manifest struct {
	SIREN       string         `json:"siren"`
	Period      string         `json:"period"`
	GeneratedAt time.Time      `json:"generated_at"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one file of the archive.
type ManifestFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

type signingKey struct{ priv ed25519.PrivateKey }

var errPeriodNotClosed = &errs.Problem{Kind: errs.ErrConflict, Code: "period_not_closed",
	Detail: "this period is not closed yet: archives cover closed months and years"}

// SigningKey returns the archives' key pair, creating it on first use.
// Replicas creating it together agree: only the first insert wins.
func (s *Service) SigningKey(ctx context.Context) (ed25519.PrivateKey, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if k := s.key; k != nil {
		return k.priv, nil
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO settings (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
		signingKeyRow, base64.StdEncoding.EncodeToString(priv.Seed()), s.now().UTC()); err != nil {
		return nil, fmt.Errorf("store archive signing key: %w", err)
	}
	var value string
	if err := s.db.NewRaw("SELECT value FROM settings WHERE key = ?", signingKeyRow).Scan(ctx, &value); err != nil {
		return nil, fmt.Errorf("read archive signing key: %w", err)
	}
	seed, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("the stored archive signing key is corrupt")
	}
	s.key = &signingKey{priv: ed25519.NewKeyFromSeed(seed)}
	return s.key.priv, nil
}

// PublicKeyPEM is the archives' public key as PEM (PKIX).
func (s *Service) PublicKeyPEM(ctx context.Context) ([]byte, error) {
	priv, err := s.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	return publicPEM(priv.Public().(ed25519.PublicKey))
}

func publicPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Archive is a closed month's or year's archive, ready to be written.
type Archive struct {
	s       *Service
	closing *Closing
	priv    ed25519.PrivateKey
}

// OpenArchive checks that period (a month or a year) is closed and records
// the export in the journal; the returned Archive writes the ZIP. The
// export is journalled before it is written: an archive that fails half
// way was still asked for, and one that succeeds was never unrecorded.
func (e *Entity) OpenArchive(ctx context.Context, period string) (*Archive, error) {
	kind, err := kindOf(period)
	if err != nil {
		return nil, err
	}
	if kind == KindDay {
		return nil, errs.Invalid("period", "must be a month (2026-12) or a year (2026)")
	}
	closing, err := e.s.byPeriod(ctx, e.s.db, e.siren, kind, period)
	if err != nil {
		return nil, errPeriodNotClosed
	}
	priv, err := e.s.SigningKey(ctx)
	if err != nil {
		return nil, err
	}
	kindActor, actor := journal.Actor(e.p.UserID, e.p.APIKeyID)
	if err := journal.Record(ctx, e.s.db, journal.Entry{EntityKey: e.siren, OccurredAt: e.s.now(), ActorKind: kindActor, ActorID: actor,
		Action: "export", ObjectKind: "archive", Field: kind, After: period}); err != nil {
		return nil, err
	}
	return &Archive{s: e.s, closing: closing, priv: priv}, nil
}

// Archive builds the whole signed ZIP in memory: for tests and tools. The
// API streams it with OpenArchive and Write.
func (e *Entity) Archive(ctx context.Context, period string) ([]byte, error) {
	a, err := e.OpenArchive(ctx, period)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := a.Write(ctx, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes the ZIP to w one file at a time: a year's archive holds
// every invoice of the year twice (JSON and PDF), more than a server
// should hold in memory per request. The manifest, written last, lists
// the sizes and hashes taken as each file went out. When Write fails, what
// reached w is a truncated ZIP with no manifest, which verifies as nothing.
func (a *Archive) Write(ctx context.Context, w io.Writer) error {
	z := &zipStream{zw: zip.NewWriter(w), m: Manifest{SIREN: a.closing.EntityKey, Period: a.closing.Period,
		GeneratedAt: a.s.now().UTC().Truncate(time.Second)}}
	if err := a.s.writeDocuments(ctx, a.closing, z); err != nil {
		return err
	}
	if err := a.s.writeRecords(ctx, a.closing, z); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(z.m, "", "  ")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(manifest)
	pub, err := publicPEM(a.priv.Public().(ed25519.PublicKey))
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{ManifestName, manifest},
		{ManifestHash, []byte(hex.EncodeToString(sum[:]) + "  " + ManifestName + "\n")},
		{SignatureName, []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(a.priv, manifest)) + "\n")},
		{PublicKeyName, pub},
	} {
		if err := z.raw(f.name, f.data); err != nil {
			return err
		}
	}
	return z.zw.Close()
}

// zipStream writes an archive's files and keeps their manifest entries.
type zipStream struct {
	zw *zip.Writer
	m  Manifest
}

// add writes one file listed in the manifest.
func (z *zipStream) add(name string, data []byte) error {
	sum := sha256.Sum256(data)
	z.m.Files = append(z.m.Files, ManifestFile{Name: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	return z.raw(name, data)
}

// raw writes one file the manifest does not list (the manifest itself and
// what signs it).
func (z *zipStream) raw(name string, data []byte) error {
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.m.GeneratedAt})
	if err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	return nil
}

// writeDocuments writes the period's invoices and credit notes, each as
// JSON and PDF, one document in memory at a time.
func (s *Service) writeDocuments(ctx context.Context, c *Closing, z *zipStream) error {
	var ids []struct {
		ID     string `bun:"id"`
		Kind   string `bun:"kind"`
		Number string `bun:"number"`
	}
	if err := s.db.NewSelect().Table("invoices").Column("id", "kind", "number").
		Where("entity_key = ? AND issued_at >= ? AND issued_at < ?", c.EntityKey, c.PeriodStart, c.PeriodEnd).
		Order("chain_index").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("archive documents: %w", err)
	}
	for _, d := range ids {
		dir := "invoices/"
		if d.Kind == "credit_note" {
			dir = "credit_notes/"
		}
		inv, err := s.invoices.Get(ctx, d.ID)
		if err != nil {
			return err
		}
		js, err := json.MarshalIndent(inv, "", "  ")
		if err != nil {
			return err
		}
		if err := z.add(dir+d.Number+".json", js); err != nil {
			return err
		}
		pdf, err := s.invoices.PDF(ctx, d.ID)
		if err != nil {
			return err
		}
		if err := z.add(dir+d.Number+".pdf", pdf); err != nil {
			return err
		}
	}
	return nil
}

// archivedPayment is a payment as archived: the columns that say what was
// paid, when, how and for which invoice.
type archivedPayment struct {
	bun.BaseModel `bun:"table:payments"`
	ID            string     `bun:"id" json:"id"`
	SiteID        *string    `bun:"site_id" json:"site_id"`
	UserID        string     `bun:"user_id" json:"user_id"`
	Purpose       string     `bun:"purpose" json:"purpose"`
	AmountCents   int64      `bun:"amount_cents" json:"amount_cents"`
	Method        string     `bun:"method" json:"method"`
	Provider      string     `bun:"provider" json:"provider"`
	Status        string     `bun:"status" json:"status"`
	Reference     string     `bun:"reference" json:"reference"`
	InvoiceID     *string    `bun:"invoice_id" json:"invoice_id"`
	PaidAt        *time.Time `bun:"paid_at" json:"paid_at"`
}

// writeRecords writes the period's payments, closings and journal.
func (s *Service) writeRecords(ctx context.Context, c *Closing, z *zipStream) error {
	pays := []archivedPayment{}
	sites, err := calendar.EntitySites(ctx, s.db, c.EntityKey)
	if err != nil {
		return err
	}
	if len(sites) > 0 {
		if err := s.db.NewSelect().Model(&pays).Where("site_id IN (?) AND status IN ('succeeded', 'refunded') AND paid_at >= ? AND paid_at < ?",
			bun.In(sites), c.PeriodStart, c.PeriodEnd).Order("paid_at", "id").Scan(ctx); err != nil {
			return fmt.Errorf("archive payments: %w", err)
		}
	}
	closings := []Closing{}
	if err := s.db.NewSelect().Model(&closings).Where("entity_key = ? AND period_start >= ? AND period_end <= ?", c.EntityKey, c.PeriodStart, c.PeriodEnd).
		Order("period_start", "kind").Scan(ctx); err != nil {
		return fmt.Errorf("archive closings: %w", err)
	}
	entries, err := journal.List(ctx, s.db, journal.Filter{EntityKey: c.EntityKey, SiteIDs: sites, From: c.PeriodStart, To: c.PeriodEnd})
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    any
	}{{"payments.json", pays}, {"closings.json", archivedClosings(closings)}, {"journal.json", entries}} {
		js, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return err
		}
		if err := z.add(f.name, js); err != nil {
			return err
		}
	}
	return nil
}

// archivedClosings adds each closing's canonical text, so that its
// footprint can be recomputed from the archive alone.
func archivedClosings(cs []Closing) []map[string]any {
	out := make([]map[string]any, len(cs))
	for i, c := range cs {
		js, _ := json.Marshal(c)
		var m map[string]any
		_ = json.Unmarshal(js, &m)
		m["canonical"] = c.Canonical
		out[i] = m
	}
	return out
}
