package privacy

import (
	"strings"
	"testing"
)

// The "export ready" mail renders in both languages, with and without the
// app's link, and its French follows French typography.
func TestExportMailTemplates(t *testing.T) {
	for _, c := range []struct {
		lang, subject, url string
	}{
		{"fr", "Vos données sont prêtes à télécharger", "https://relais.example.fr/account/export"},
		{"fr", "Vos données sont prêtes à télécharger", ""},
		{"en", "Your data is ready to download", "https://relais.example.fr/account/export"},
		{"en", "Your data is ready to download", ""},
	} {
		m, err := templates.Render("export_ready", c.lang, "anne@example.fr",
			exportMail{Name: "Anne", URL: c.url, ExpiresFR: "13/12/2026", ExpiresEN: "13 December 2026"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject {
			t.Errorf("%s subject %q", c.lang, m.Subject)
		}
		link := c.url
		if link == "" {
			link = "GET /v1/me/export/download"
		}
		if !strings.Contains(m.Body, link) || !strings.Contains(m.HTML, link) {
			t.Errorf("%s mail without %q:\n%s", c.lang, link, m.Body)
		}
		if c.lang == "fr" && (strings.Contains(m.Body, " :") || strings.Contains(m.Body, " ;") || !strings.Contains(m.Body, "13/12/2026\u202f;")) {
			t.Errorf("French typography:\n%s", m.Body)
		}
	}
	if strings.Contains(readme[:strings.Index(readme, "Your personal data")], " :") {
		t.Error("README.txt's French has a plain space before a colon")
	}
}
