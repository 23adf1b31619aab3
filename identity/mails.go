package identity

import (
	"context"
	"embed"
	"fmt"

	"github.com/relais-tierslieux/relais/internal/mail"
)

// templateFiles are the messages identity sends, one file per message and
// language (NAME.LANG.txt, its first line the subject, and NAME.LANG.html).
//
//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

// templates is parsed once (see mail.MustParseTemplates).
var templates = mail.MustParseTemplates(templateFiles, "templates")

// sendTemplate renders message name in lang for to, and sends it.
func (s *Service) sendTemplate(ctx context.Context, name, lang, to string, data any) error {
	if s.cfg.Mailer == nil {
		return nil
	}
	m, err := templates.Render(name, lang, to, data)
	if err != nil {
		return err
	}
	if err := s.cfg.Mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s: %w", name, err)
	}
	return nil
}
