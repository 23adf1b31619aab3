package privacy

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // the zone of the dates in mail, wherever Relais runs

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// templateFiles are the messages privacy sends, one file per message and
// language (NAME.LANG.txt, its first line the subject, and NAME.LANG.html).
//
//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

var templates = mail.MustParseTemplates(templateFiles, "templates")

// exportPage is the app's page where a member downloads their export.
const exportPage = "/account/export"

type exportMailWorker struct {
	river.WorkerDefaults[ExportMailArgs]
	s *Service
}

func (w *exportMailWorker) Work(ctx context.Context, job *river.Job[ExportMailArgs]) error {
	return w.s.mailExportReady(ctx, job.Args.ExportID)
}

// exportMail is what the "export ready" templates show.
type exportMail struct {
	Name string
	// URL is the app's page (PUBLIC_URL/account/export), or empty when no
	// public URL is configured: the mail then names the API call.
	URL string
	// ExpiresFR and ExpiresEN: the last day it can be downloaded, in
	// Paris (the zone of French invoices), written the language's way.
	ExpiresFR, ExpiresEN string
}

var paris = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func (s *Service) mailExportReady(ctx context.Context, exportID string) error {
	if s.cfg.Mailer == nil {
		return nil
	}
	var row exportRow
	if err := s.db.NewSelect().Model(&row).ExcludeColumn("content").Where("id = ?", exportID).Scan(ctx); err != nil {
		if errors.Is(err, errNoRows) {
			return nil // erased or replaced since
		}
		return fmt.Errorf("read export: %w", err)
	}
	to, err := s.cfg.Identity.Recipient(ctx, s.db, row.UserID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && (!to.Active || to.Email == "")) {
		return nil
	}
	if err != nil {
		return err
	}
	data := exportMail{Name: to.Name}
	if s.cfg.PublicURL != "" {
		data.URL = s.cfg.PublicURL + exportPage
	}
	if row.ExpiresAt != nil {
		day := row.ExpiresAt.In(paris)
		data.ExpiresFR, data.ExpiresEN = day.Format("02/01/2006"), day.Format("2 January 2006")
	}
	m, err := templates.Render("export_ready", to.Language, to.Email, data)
	if err != nil {
		return err
	}
	if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send export mail: %w", err)
	}
	return nil
}
