package errs_test

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/i18n"
)

// Errors keep their English as it always was, and say themselves in French
// from the catalogue; a text the catalogue lacks stays English.
func TestMessagesInBothLanguages(t *testing.T) {
	var v errs.Validator
	v.Add("name", "must be at most %d characters", 200)
	v.Check(false, "email", "must be a valid email address")
	v.Add("note", "%s", freetext.Reason("a\x01b", freetext.MultiLine))
	v.Add("other", "a text no catalogue has, %d", 3)
	var ve *errs.ValidationError
	if !errors.As(v.Err(), &ve) || len(ve.Fields) != 4 {
		t.Fatalf("Err() = %v", v.Err())
	}
	for i, want := range []struct{ en, fr string }{
		{"must be at most 200 characters", "doit faire au plus 200 caractères"},
		{"must be a valid email address", "doit être une adresse e-mail valide"},
		{"must not contain control characters other than line feeds and tabs (U+0001 at character 2)",
			"ne doit pas contenir de caractères de contrôle autres que les sauts de ligne et les tabulations (U+0001 au caractère 2)"},
		{"a text no catalogue has, 3", "a text no catalogue has, 3"},
	} {
		f := ve.Fields[i]
		if f.Reason != want.en || f.ReasonIn(i18n.English) != want.en || f.ReasonIn(i18n.French) != want.fr {
			t.Errorf("field %s: Reason %q, English %q, French %q; want %q and %q",
				f.Field, f.Reason, f.ReasonIn(i18n.English), f.ReasonIn(i18n.French), want.en, want.fr)
		}
	}

	p := errs.Rule("end", "too_long", "a booking lasts at most %d minutes", 240)
	if p.Detail != "a booking lasts at most 240 minutes" || p.Fields[0].Reason != p.Detail ||
		p.DetailIn(i18n.French) != "une réservation dure au plus 240 minutes" ||
		p.Fields[0].ReasonIn(i18n.French) != p.DetailIn(i18n.French) {
		t.Errorf("Rule: %q, French %q", p.Detail, p.DetailIn(i18n.French))
	}
	// A literal Detail (no format) is looked up as it is.
	lit := &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	if lit.DetailIn(i18n.French) != "ce site n’existe pas" || lit.DetailIn(i18n.English) != "no such site" {
		t.Errorf("literal detail in French = %q", lit.DetailIn(i18n.French))
	}
}
