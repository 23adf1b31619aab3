package notify

import (
	"strings"
	"testing"
)

// --- services-mail ---

// TestServiceTemplatesFrench renders every services' template in French
// with each of its variants, and checks French typography: a no-break
// space before ":" and inside « », a narrow one before ";", "!" and "?",
// never an ordinary space there; and English has no French spacing.
func TestServiceTemplatesFrench(t *testing.T) {
	t.Parallel()
	base := serviceData{Name: "Jeanne Martin", Site: "La Fabrique", Location: "2 place de la Mairie, 23000 Guéret", Date: "jeudi 5 mars 2026",
		Start: "14\u00a0h\u00a000", End: "16\u00a0h\u00a000", Title: "Initiation à la tablette", Partner: "CAF de la Creuse", Purpose: "Prime d’activité",
		VideoURL: "https://visio.example.fr/caf/abc", Checklist: []string{"Pièce d’identité"}, Resident: "Jeanne Martin", Reason: "Animatrice malade"}
	variants := func() []serviceData {
		var out []serviceData
		for _, flags := range [][4]bool{{}, {true}, {false, true}, {false, false, true}, {false, false, false, true}, {true, true, true, true}} {
			d := base
			d.Promoted, d.BySession, d.Moved, d.ForAgent = flags[0], flags[1], flags[2], flags[3]
			out = append(out, d)
		}
		return out
	}()
	for _, name := range []string{"atelier_registered", "atelier_cancelled", "atelier_reminder", "appointment_confirmed", "appointment_cancelled", "appointment_reminder"} {
		for _, d := range variants {
			fr, err := templates.Render(name, "fr", "jeanne@example.fr", d)
			if err != nil {
				t.Fatalf("%s fr: %v", name, err)
			}
			all := fr.Subject + "\n" + fr.Body + "\n" + fr.HTML
			for _, bad := range []string{" :", " ;", " !", " ?", "« ", " »", "\u00a0;", "\u00a0!", "\u00a0?", "'"} {
				if strings.Contains(all, bad) {
					t.Errorf("%s fr %+v: %q in\n%s", name, d, bad, all)
				}
			}
			if fr.Subject == "" || fr.HTML == "" || !strings.Contains(fr.Body, "Bonjour Jeanne Martin") {
				t.Errorf("%s fr: subject %q, body\n%s", name, fr.Subject, fr.Body)
			}
			en, err := templates.Render(name, "en", "jeanne@example.fr", d)
			if err != nil {
				t.Fatalf("%s en: %v", name, err)
			}
			if strings.Contains(en.Subject+en.Body, "\u00a0:") || !strings.Contains(en.Body, "Hello Jeanne Martin") {
				t.Errorf("%s en:\n%s", name, en.Body)
			}
		}
	}
}
