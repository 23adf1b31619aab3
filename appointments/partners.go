package appointments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

var (
	errAgentExists   = errs.Problemf(errs.ErrConflict, "agent_exists", "this person is already an agent of this partner")
	errAgentNotFound = errs.Problemf(errs.ErrNotFound, "agent_not_found", "this person is not an agent of this partner")
)

// PurposeInput is a purpose as given; ID keeps an existing purpose's id
// when a partner is changed, so that its appointments still name it.
type PurposeInput struct {
	ID        string
	Name      string
	Documents []string
}

// NewPartner is what an admin or a site's manager gives.
type NewPartner struct {
	SiteID    string // "": network-wide
	Name      string
	Kind      string
	VideoMode string // "" is none
	// VideoBaseURL is required by VideoGenerated (https).
	VideoBaseURL string
	Purposes     []PurposeInput
}

// PartnerUpdate changes what is given (nil: unchanged).
type PartnerUpdate struct {
	Name      *string
	Kind      *string
	VideoMode *string
	// VideoBaseURL: "" removes it.
	VideoBaseURL *string
	Active       *bool
	Purposes     *[]PurposeInput
}

func checkPurposes(v *errs.Validator, in []PurposeInput, old []Purpose) []Purpose {
	v.Check(len(in) >= 1 && len(in) <= MaxPurposes, "purposes", "must hold from 1 to %d purposes", MaxPurposes)
	out := make([]Purpose, 0, len(in))
	for i, p := range in {
		f := fmt.Sprintf("purposes[%d]", i)
		name := strings.TrimSpace(p.Name)
		v.Check(name != "" && utf8.RuneCountInString(name) <= MaxName, f+".name", "is required, at most %d characters", MaxName)
		v.Check(len(p.Documents) <= MaxDocuments, f+".documents", "must be at most %d", MaxDocuments)
		docs := make([]string, 0, len(p.Documents))
		for j, d := range p.Documents {
			d = strings.TrimSpace(d)
			v.Check(d != "" && utf8.RuneCountInString(d) <= MaxDocument, fmt.Sprintf("%s.documents[%d]", f, j), "is required, at most %d characters", MaxDocument)
			docs = append(docs, d)
		}
		pid := p.ID
		if pid == "" {
			pid = id.New()
		} else {
			known := false
			for _, o := range old {
				known = known || o.ID == pid
			}
			v.Check(known, f+".id", "no such purpose of this partner")
		}
		out = append(out, Purpose{ID: pid, Name: name, Documents: docs})
	}
	return out
}

func checkPartner(v *errs.Validator, pt *Partner) {
	v.Check(strings.TrimSpace(pt.Name) != "" && utf8.RuneCountInString(pt.Name) <= MaxName, "name", "is required, at most %d characters", MaxName)
	v.Check(utf8.RuneCountInString(pt.Kind) <= 50, "kind", "must be at most %d characters", 50)
	v.Check(pt.VideoMode == VideoNone || pt.VideoMode == VideoAgentRoom || pt.VideoMode == VideoGenerated, "video_mode", "must be none, agent_room or generated")
	if pt.VideoBaseURL != nil {
		v.Check(validBaseURL(*pt.VideoBaseURL), "video_base_url", "must be an https URL without user, query or fragment, of at most %d characters", MaxBaseURL)
	}
	v.Check(pt.VideoMode != VideoGenerated || pt.VideoBaseURL != nil, "video_base_url", "is required for video_mode generated")
}

// CreatePartner creates a partner: network-wide by an admin, of a site by
// its managers.
func (s *Service) CreatePartner(ctx context.Context, p *identity.Principal, in NewPartner) (*Partner, error) {
	pt := &Partner{ID: id.New(), Name: strings.TrimSpace(in.Name), Kind: strings.TrimSpace(in.Kind), VideoMode: in.VideoMode, Active: true,
		VideoBaseURL: nilIfBlank(in.VideoBaseURL)}
	if pt.VideoMode == "" {
		pt.VideoMode = VideoNone
	}
	if in.SiteID != "" {
		if !id.Valid(in.SiteID) {
			return nil, errs.Invalid("site_id", "must be a site's id")
		}
		pt.SiteID = &in.SiteID
	}
	if !mayRunPartner(p, pt) {
		return nil, errs.ErrForbidden
	}
	if pt.SiteID != nil {
		if _, err := s.cfg.Calendar.GetSite(ctx, *pt.SiteID); err != nil {
			return nil, errs.Invalid("site_id", "no such site")
		}
	}
	var v errs.Validator
	checkPartner(&v, pt)
	pt.Purposes = checkPurposes(&v, in.Purposes, nil)
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	pt.CreatedAt, pt.UpdatedAt = now, now
	if p.UserID != "" {
		pt.CreatedBy = &p.UserID
	}
	if _, err := s.db.NewInsert().Model(pt).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert partner: %w", err)
	}
	return pt, nil
}

func (s *Service) loadPartner(ctx context.Context, idb bun.IDB, partnerID string) (*Partner, error) {
	if !id.Valid(partnerID) {
		return nil, errPartnerNotFound
	}
	pt := new(Partner)
	if err := idb.NewSelect().Model(pt).Where("id = ?", partnerID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errPartnerNotFound
		}
		return nil, fmt.Errorf("read partner: %w", err)
	}
	return pt, nil
}

// Partners lists the partners any signed-in person may book with: the
// active ones (a resident chooses among them), and for those who run a
// partner, their inactive ones too. siteID keeps the partners of that
// site and the network-wide ones.
func (s *Service) Partners(ctx context.Context, p *identity.Principal, siteID string) ([]Partner, error) {
	var all []Partner
	q := s.db.NewSelect().Model(&all).Order("name", "id")
	if siteID != "" {
		if !id.Valid(siteID) {
			return nil, errs.Invalid("site_id", "must be a site's id")
		}
		q = q.Where("site_id IS NULL OR site_id = ?", siteID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	out := make([]Partner, 0, len(all))
	for _, pt := range all {
		if pt.Active || mayRunPartner(p, &pt) {
			out = append(out, pt)
		}
	}
	return out, nil
}

// Partner reads one partner (an inactive one: only those who run it).
func (s *Service) Partner(ctx context.Context, p *identity.Principal, partnerID string) (*Partner, error) {
	pt, err := s.loadPartner(ctx, s.db, partnerID)
	if err != nil {
		return nil, err
	}
	if !pt.Active && !mayRunPartner(p, pt) {
		return nil, errPartnerNotFound
	}
	return pt, nil
}

// UpdatePartner changes a partner. Purposes are replaced whole; those
// given with their id keep it. Appointments keep the purpose and the
// checklist they were booked with.
func (s *Service) UpdatePartner(ctx context.Context, p *identity.Principal, partnerID string, up PartnerUpdate) (*Partner, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	if !mayRunPartner(p, pt) {
		return nil, errs.ErrForbidden
	}
	if up.Name != nil {
		pt.Name = strings.TrimSpace(*up.Name)
	}
	if up.Kind != nil {
		pt.Kind = strings.TrimSpace(*up.Kind)
	}
	if up.VideoMode != nil {
		pt.VideoMode = *up.VideoMode
	}
	if up.VideoBaseURL != nil {
		pt.VideoBaseURL = nilIfBlank(*up.VideoBaseURL)
	}
	if up.Active != nil {
		pt.Active = *up.Active
	}
	var v errs.Validator
	checkPartner(&v, pt)
	if up.Purposes != nil {
		pt.Purposes = checkPurposes(&v, *up.Purposes, pt.Purposes)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	pt.UpdatedAt = s.now()
	if _, err := s.db.NewUpdate().Model(pt).Column("name", "kind", "video_mode", "video_base_url", "active", "purposes", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("update partner: %w", err)
	}
	return pt, nil
}

// AddAgent makes an account (by userID, or by email) an agent of the
// partner, with their fixed video room (may be "").
func (s *Service) AddAgent(ctx context.Context, p *identity.Principal, partnerID, userID, email, videoURL string) (*Agent, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	if !mayRunPartner(p, pt) {
		return nil, errs.ErrForbidden
	}
	var v errs.Validator
	v.Check((userID == "") != (email == ""), "user_id", "give user_id or email, one of them")
	v.Check(userID == "" || id.Valid(userID), "user_id", "must be a user's id")
	videoURL = strings.TrimSpace(videoURL)
	if videoURL != "" {
		u, err := url.Parse(videoURL)
		v.Check(err == nil && u.Scheme == "https" && u.Host != "" && len(videoURL) <= MaxURL, "video_url", "must be an https URL of at most %d characters", MaxURL)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if email != "" {
		c, err := s.cfg.Accounts.ContactByEmail(ctx, s.db, email)
		if err != nil {
			if errors.Is(err, errs.ErrNotFound) {
				return nil, errs.Invalid("email", "no account has this email")
			}
			return nil, err
		}
		userID = c.ID
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, []string{userID})
	if err != nil {
		return nil, err
	}
	person, ok := people[userID]
	if !ok {
		return nil, errs.Invalid("user_id", "no such user")
	}
	a := &Agent{PartnerID: pt.ID, UserID: userID, CreatedAt: s.now(), Name: person.Name}
	if videoURL != "" {
		a.VideoURL = &videoURL
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			if db.IsUnique(err) {
				return errAgentExists
			}
			return fmt.Errorf("insert agent: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RemoveAgent ends userID's agency of the partner, for those who run it:
// from then on they see none of its appointments (reading them asks
// whether one is an agent now). The partner's open windows that named them
// go on without a named agent; the appointments already made keep the
// agent they were made with, as history.
func (s *Service) RemoveAgent(ctx context.Context, p *identity.Principal, partnerID, userID string) error {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return err
	}
	if !mayRunPartner(p, pt) {
		return errs.ErrForbidden
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*Agent)(nil)).Where("partner_id = ? AND user_id = ?", pt.ID, userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("remove agent: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errAgentNotFound
		}
		if _, err := tx.NewUpdate().Model((*Window)(nil)).Set("agent_id = NULL").
			Where("partner_id = ? AND agent_id = ? AND status = 'open'", pt.ID, userID).Exec(ctx); err != nil {
			return fmt.Errorf("unname the agent's windows: %w", err)
		}
		return nil
	})
}

// Agents lists a partner's agents, for those who run it and its agents.
func (s *Service) Agents(ctx context.Context, p *identity.Principal, partnerID string) ([]Agent, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	if !mayRunPartner(p, pt) {
		ok, err := s.isAgent(ctx, s.db, p, pt.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errs.ErrForbidden
		}
	}
	var as []Agent
	if err := s.db.NewSelect().Model(&as).Where("partner_id = ?", pt.ID).Order("created_at", "user_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	ids := make([]string, 0, len(as))
	for _, a := range as {
		ids = append(ids, a.UserID)
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	for i := range as {
		as[i].Name = people[as[i].UserID].Name
	}
	return as, nil
}
