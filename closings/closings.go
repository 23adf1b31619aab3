// Package closings is the cash journal of each legal entity (art. 286
// I-3° bis CGI): daily, monthly and yearly closings (clôtures) of the
// invoices, credit notes and payments it issued, each with its totals, the
// perpetual grand total and a SHA-256 footprint chained to the previous
// closing of its kind; the signed archives of closed periods; and the
// reading of the technical events journal. Closings are append-only (a
// database trigger refuses any change); a correction is a new document,
// which falls in a later period.
package closings

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/journal"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Kinds of closing.
const (
	KindDay   = "day"
	KindMonth = "month"
	KindYear  = "year"
)

// Kinds in the order the sweep closes them.
var Kinds = []string{KindDay, KindMonth, KindYear}

// MethodTotal is the net amount TTC settled by one payment method in the
// period (refunds, as credit notes, count negative).
type MethodTotal struct {
	Method   string `json:"method"`
	TTCCents int64  `json:"ttc_cents"`
}

// RateTotal is the period's net amounts at one VAT rate.
type RateTotal struct {
	RateBP   int   `json:"rate_bp"`
	HTCents  int64 `json:"ht_cents"`
	VATCents int64 `json:"vat_cents"`
	TTCCents int64 `json:"ttc_cents"`
}

// Closing is one closed period of one entity.
type Closing struct {
	bun.BaseModel `bun:"table:closings,alias:cl"`

	ID               string        `bun:"id,pk" json:"id"`
	EntityKey        string        `bun:"entity_key" json:"siren"`
	Kind             string        `bun:"kind" json:"kind"`
	Period           string        `bun:"period" json:"period"`
	ChainIndex       int64         `bun:"chain_index" json:"chain_index"`
	Timezone         string        `bun:"timezone" json:"timezone"`
	PeriodStart      time.Time     `bun:"period_start" json:"period_start"`
	PeriodEnd        time.Time     `bun:"period_end" json:"period_end"`
	InvoicesCount    int64         `bun:"invoices_count" json:"invoices_count"`
	CreditNotesCount int64         `bun:"credit_notes_count" json:"credit_notes_count"`
	PaymentsCount    int64         `bun:"payments_count" json:"payments_count"`
	TotalHTCents     int64         `bun:"total_ht_cents" json:"total_ht_cents"`
	TotalVATCents    int64         `bun:"total_vat_cents" json:"total_vat_cents"`
	TotalTTCCents    int64         `bun:"total_ttc_cents" json:"total_ttc_cents"`
	ByMethod         []MethodTotal `bun:"by_method,type:json" json:"by_method"`
	ByRate           []RateTotal   `bun:"by_rate,type:json" json:"by_rate"`
	// GrandTotalCents is the perpetual grand total: every document's TTC
	// since the entity's first sale, up to the period's end. Never reset.
	GrandTotalCents int64 `bun:"grand_total_cents" json:"grand_total_cents"`
	// ClosedBy is "system" (the job) or the id of the user who asked.
	ClosedBy string `bun:"closed_by" json:"closed_by"`
	// Canonical is the exact text hashed; Hash = hex SHA-256 of PrevHash
	// followed by Canonical.
	Canonical string    `bun:"canonical" json:"-"`
	PrevHash  string    `bun:"prev_hash" json:"previous_footprint"`
	Hash      string    `bun:"hash" json:"footprint"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// Config configures the service.
type Config struct {
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Invoices renders the documents archived.
	Invoices *invoicing.Invoicer
}

// Service closes periods, lists closings, builds archives.
type Service struct {
	db       *bun.DB
	now      func() time.Time
	invoices *invoicing.Invoicer
	keyMu    sync.Mutex
	key      *signingKey
}

// New returns the service.
func New(d *bun.DB, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: d, now: cfg.Now, invoices: cfg.Invoices}
}

var errNotOver = errs.Rule("period", "period_not_over", "this period is not over yet: it can be closed from its end on")

// Close closes period (a day "2026-12-05", a month "2026-12" or a year
// "2026") of the entity, after every earlier period of its kind not closed
// yet, so that the chain runs in order. Closing a period already closed
// returns its closing. by is the user who asked, or "" for the job.
func (s *Service) Close(ctx context.Context, siren, period, by string) (*Closing, error) {
	kind, err := kindOf(period)
	if err != nil {
		return nil, err
	}
	zone, err := s.entityZone(ctx, siren)
	if err != nil {
		return nil, err
	}
	if _, end := bounds(kind, period, zone); end.After(s.now()) {
		return nil, errNotOver
	}
	var out *Closing
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = s.closeUpTo(ctx, tx, siren, kind, period, zone, by)
		return err
	})
	if db.IsUnique(err) {
		// Another replica closed it between our lock and insert (cannot
		// happen with the head lock, but the unique index is the last word).
		return s.byPeriod(ctx, s.db, siren, kind, period)
	}
	return out, err
}

// closeUpTo writes the missing closings of kind up to period, inside tx.
func (s *Service) closeUpTo(ctx context.Context, tx bun.Tx, siren, kind, period string, zone *time.Location, by string) (*Closing, error) {
	if err := lockHead(ctx, tx, siren, kind); err != nil {
		return nil, err
	}
	last, err := lastClosing(ctx, tx, siren, kind)
	if err != nil {
		return nil, err
	}
	var next string
	if last != nil {
		if last.Period >= period {
			return s.byPeriod(ctx, tx, siren, kind, period)
		}
		next = succ(kind, last.Period, zone)
	} else if next, err = s.firstPeriod(ctx, tx, siren, kind, period, zone); err != nil {
		return nil, err
	}
	var c *Closing
	for p := next; p <= period; p = succ(kind, p, zone) {
		if c, err = s.closeOne(ctx, tx, siren, kind, p, zone, by, last); err != nil {
			return nil, err
		}
		last = c
	}
	return c, nil
}

// closeOne computes and inserts the closing of one period after prev.
func (s *Service) closeOne(ctx context.Context, tx bun.Tx, siren, kind, period string, zone *time.Location, by string, prev *Closing) (*Closing, error) {
	start, end := bounds(kind, period, zone)
	c := &Closing{ID: id.New(), EntityKey: siren, Kind: kind, Period: period, Timezone: zone.String(),
		PeriodStart: start.UTC(), PeriodEnd: end.UTC(), ClosedBy: by, CreatedAt: s.now().UTC(), ChainIndex: 1}
	if c.ClosedBy == "" {
		c.ClosedBy = journal.ActorSystem
	}
	if err := computeTotals(ctx, tx, c); err != nil {
		return nil, err
	}
	if prev != nil {
		c.ChainIndex, c.PrevHash = prev.ChainIndex+1, prev.Hash
		c.GrandTotalCents = prev.GrandTotalCents + c.TotalTTCCents
	} else {
		before, err := grandTotalBefore(ctx, tx, siren, c.PeriodStart)
		if err != nil {
			return nil, err
		}
		c.GrandTotalCents = before + c.TotalTTCCents
	}
	c.Canonical = canonical(c)
	c.Hash = Footprint(c.PrevHash, c.Canonical)
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert closing: %w", db.Classify(err))
	}
	kindActor, actor := journal.ActorSystem, ""
	if by != "" {
		kindActor, actor = journal.ActorUser, by
	}
	return c, journal.Record(ctx, tx, journal.Entry{EntityKey: siren, OccurredAt: c.CreatedAt, ActorKind: kindActor, ActorID: actor,
		Action: "close", ObjectKind: "closing", ObjectID: c.ID, Field: kind, After: period})
}

// Footprint is the hex SHA-256 of the previous footprint followed by the
// canonical text of a closing.
func Footprint(prevHash, canonicalText string) string {
	sum := sha256.Sum256([]byte(prevHash + canonicalText))
	return hex.EncodeToString(sum[:])
}

// canonical is the closing's content as hashed: every figure, in a fixed
// order (a struct's JSON), times in UTC to the second.
func canonical(c *Closing) string {
	v := struct {
		Entity, Kind, Period, Timezone, Start, End string
		ChainIndex                                 int64
		Invoices, CreditNotes, Payments            int64
		HT, VAT, TTC, GrandTotal                   int64
		ByMethod                                   []MethodTotal
		ByRate                                     []RateTotal
		ClosedBy, ClosedAt                         string
	}{c.EntityKey, c.Kind, c.Period, c.Timezone, c.PeriodStart.UTC().Format(time.RFC3339), c.PeriodEnd.UTC().Format(time.RFC3339),
		c.ChainIndex, c.InvoicesCount, c.CreditNotesCount, c.PaymentsCount,
		c.TotalHTCents, c.TotalVATCents, c.TotalTTCCents, c.GrandTotalCents,
		c.ByMethod, c.ByRate, c.ClosedBy, c.CreatedAt.UTC().Format(time.RFC3339)}
	b, _ := json.Marshal(v) // plain values: cannot fail
	return string(b)
}

func lockHead(ctx context.Context, tx bun.IDB, siren, kind string) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO closing_heads (entity_key, kind) VALUES (?, ?) ON CONFLICT DO NOTHING", siren, kind); err != nil {
		return fmt.Errorf("create closing head: %w", db.Classify(err))
	}
	var k string
	q := "SELECT kind FROM closing_heads WHERE entity_key = ? AND kind = ?" + db.ForUpdateSQL(tx)
	if err := tx.NewRaw(q, siren, kind).Scan(ctx, &k); err != nil {
		return fmt.Errorf("lock closing head: %w", db.Classify(err))
	}
	return nil
}

func lastClosing(ctx context.Context, idb bun.IDB, siren, kind string) (*Closing, error) {
	var c Closing
	err := idb.NewSelect().Model(&c).Where("entity_key = ? AND kind = ?", siren, kind).Order("chain_index DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last closing: %w", err)
	}
	return &c, nil
}

var errClosingNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "closing_not_found", Detail: "no such closing"}

func (s *Service) byPeriod(ctx context.Context, idb bun.IDB, siren, kind, period string) (*Closing, error) {
	var c Closing
	err := idb.NewSelect().Model(&c).Where("entity_key = ? AND kind = ? AND period = ?", siren, kind, period).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Rule("period", "before_first_closing", "this period comes before the first closing of the entity, which covers its first sale")
	}
	if err != nil {
		return nil, fmt.Errorf("closing by period: %w", err)
	}
	return &c, nil
}

// firstPeriod is where a kind's chain starts: the period of the entity's
// first document, or the period asked if that is earlier (no sale yet).
func (s *Service) firstPeriod(ctx context.Context, idb bun.IDB, siren, kind, period string, zone *time.Location) (string, error) {
	var first []time.Time
	if err := idb.NewSelect().Table("invoices").Column("issued_at").Where("entity_key = ?", siren).
		Order("issued_at").Limit(1).Scan(ctx, &first); err != nil {
		return "", fmt.Errorf("first document: %w", err)
	}
	if len(first) == 0 {
		return period, nil
	}
	if p := periodOf(kind, first[0], zone); p < period {
		return p, nil
	}
	return period, nil
}

// entityZone is the time zone of the entity's days: its first site's.
func (s *Service) entityZone(ctx context.Context, siren string) (*time.Location, error) {
	sites, err := calendar.EntitySites(ctx, s.db, siren)
	if err != nil {
		return nil, err
	}
	if len(sites) == 0 || siren == "" {
		return nil, errEntityNotFound
	}
	site, err := calendar.LoadSite(ctx, s.db, sites[0])
	if err != nil {
		return nil, err
	}
	return site.Location(), nil
}

var errEntityNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "entity_not_found", Detail: "no site belongs to this legal entity"}
