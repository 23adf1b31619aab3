package people

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// MaxNoteLen bounds a note, in characters.
const MaxNoteLen = 5000

// Note is a manager's private note on a person at a site: never shown to
// the person through the member's API (only to the site's managers), but
// personal data about them all the same, so it is in their privacy export
// and erased with their account (privacy.go).
type Note struct {
	bun.BaseModel `bun:"table:people_notes"`

	ID       string  `bun:"id,pk"`
	SiteID   string  `bun:"site_id"`
	UserID   string  `bun:"user_id"`
	AuthorID *string `bun:"author_id"`
	// AuthorName is read from the author's account.
	AuthorName string    `bun:"-"`
	Body       string    `bun:"body"`
	CreatedAt  time.Time `bun:"created_at"`
}

var errNoteNotFound = errs.Problemf(errs.ErrNotFound, "note_not_found", "no such note")

// AddNote writes a note on userID at siteID, signed by the caller.
func (s *Service) AddNote(ctx context.Context, p *identity.Principal, siteID, userID, body string) (*Note, error) {
	if err := s.mayServe(ctx, p, siteID, userID); err != nil {
		return nil, err
	}
	body = strings.TrimSpace(body)
	var v errs.Validator
	v.Check(body != "", "note", "is required")
	v.Check(utf8.RuneCountInString(body) <= MaxNoteLen, "note", "must be at most %d characters", MaxNoteLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	n := &Note{ID: id.New(), SiteID: siteID, UserID: userID, AuthorID: &p.UserID, Body: body, CreatedAt: s.now()}
	if _, err := s.db.NewInsert().Model(n).Exec(ctx); err != nil {
		return nil, fmt.Errorf("add note: %w", err)
	}
	return n, s.authors(ctx, []*Note{n})
}

// Notes lists the notes on userID at siteID, newest first.
func (s *Service) Notes(ctx context.Context, p *identity.Principal, siteID, userID string) ([]Note, error) {
	if err := MayReadPeople(p, siteID); err != nil {
		return nil, err
	}
	if err := s.checkPerson(ctx, siteID, userID); err != nil {
		return nil, err
	}
	return s.notes(ctx, siteID, userID)
}

func (s *Service) notes(ctx context.Context, siteID, userID string) ([]Note, error) {
	out := []Note{}
	if err := s.db.NewSelect().Model(&out).Where("site_id = ? AND user_id = ?", siteID, userID).
		Order("created_at DESC", "id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list notes: %w", err)
	}
	ptrs := make([]*Note, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.authors(ctx, ptrs)
}

// DeleteNote removes a note; any manager of the site may.
func (s *Service) DeleteNote(ctx context.Context, p *identity.Principal, siteID, userID, noteID string) error {
	if err := s.mayServe(ctx, p, siteID, userID); err != nil {
		return err
	}
	if !id.Valid(noteID) {
		return errNoteNotFound
	}
	res, err := s.db.NewDelete().Model((*Note)(nil)).Where("id = ? AND site_id = ? AND user_id = ?", noteID, siteID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete note: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoteNotFound
	}
	return nil
}

// authors fills the authors' names.
func (s *Service) authors(ctx context.Context, ns []*Note) error {
	var ids []string
	for _, n := range ns {
		if n.AuthorID != nil {
			ids = append(ids, *n.AuthorID)
		}
	}
	people, err := s.cfg.Identity.People(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if n.AuthorID != nil {
			n.AuthorName = people[*n.AuthorID].Name
		}
	}
	return nil
}
