package i18n

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNegotiate(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   Lang
		ok     bool
	}{
		{"fr", French, true},
		{"en", English, true},
		{"fr-CA", French, true},
		{"en-GB", English, true},
		{"fr-FR,fr;q=0.9,en;q=0.8", French, true},
		{"fr-CA;q=0.8, en;q=0.9", English, true},
		{"de", "", false},
		{"de-DE, es;q=0.5", "", false},
		{"de, en;q=0.3", English, true},
		{"", "", false},
		{";;;garbage=", "", false},
		{"en;q=0", "", false},
	} {
		got, ok := Negotiate(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Negotiate(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSprintf(t *testing.T) {
	type said struct{ en, fr string }
	nested := localized{"per day", "par jour"}
	for _, tt := range []struct {
		format string
		args   []any
		want   said
	}{
		{"must be at most %d characters", []any{200}, said{"must be at most 200 characters", "doit faire au plus 200 caractères"}},
		{"invoice %s has %s left to credit, not %s", []any{"F-1", "10,00 €", "20,00 €"},
			said{"invoice F-1 has 10,00 € left to credit, not 20,00 €", "il reste 10,00 € à créditer sur la facture F-1, et non 20,00 €"}},
		{"your plan allows %d minutes of bookings %s", []any{60, nested},
			said{"your plan allows 60 minutes of bookings per day", "votre formule permet 60 minutes de réservation par jour"}},
		{"a format the catalogue lacks %d", []any{1}, said{"a format the catalogue lacks 1", "a format the catalogue lacks 1"}},
	} {
		if got := Sprintf(English, tt.format, tt.args...); got != tt.want.en {
			t.Errorf("English %q = %q, want %q", tt.format, got, tt.want.en)
		}
		if got := Sprintf(French, tt.format, tt.args...); got != tt.want.fr {
			t.Errorf("French %q = %q, want %q", tt.format, got, tt.want.fr)
		}
	}
}

// localized stands for errs.Message, which this package cannot import.
type localized struct{ en, fr string }

func (l localized) String() string { return l.en }
func (l localized) In(lang Lang) string {
	if lang == French {
		return l.fr
	}
	return l.en
}

// verbs lists the arguments a format uses and the verb of each ("1:d"),
// sorted, so that a French format that reorders them compares equal. It
// reports a format that is not well formed.
func verbs(format string) ([]string, error) {
	var out []string
	arg := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			continue
		}
		for i < len(format) && strings.ContainsRune("+-# 0", rune(format[i])) {
			i++
		}
		// An explicit index, a width and a precision; * takes an argument.
		for i < len(format) && strings.ContainsRune("[]0123456789.*", rune(format[i])) {
			switch format[i] {
			case '[':
				end := strings.IndexByte(format[i:], ']')
				if end < 0 {
					return nil, fmt.Errorf("unclosed [ in %q", format)
				}
				if _, err := fmt.Sscanf(format[i+1:i+end], "%d", &arg); err != nil {
					return nil, fmt.Errorf("bad index in %q", format)
				}
				i += end
			case '*':
				out = append(out, fmt.Sprintf("%d:*", arg))
				arg++
			}
			i++
		}
		if i >= len(format) {
			return nil, fmt.Errorf("%q ends in a verb", format)
		}
		r, _ := utf8.DecodeRuneInString(format[i:])
		out = append(out, fmt.Sprintf("%d:%c", arg, r))
		arg++
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func TestVerbParser(t *testing.T) {
	for _, tt := range []struct{ en, fr string }{
		{"%s has %d", "%[2]d pour %[1]s"},
		{"100%% of %q", "100 %% de %q"},
		{"%5.2f and %-3d", "%5.2f et %-3d"},
	} {
		a, err1 := verbs(tt.en)
		b, err2 := verbs(tt.fr)
		if err1 != nil || err2 != nil || !slices.Equal(a, b) {
			t.Errorf("verbs(%q) = %v, verbs(%q) = %v", tt.en, a, tt.fr, b)
		}
	}
	a, _ := verbs("%s then %d")
	b, _ := verbs("%d puis %s")
	if slices.Equal(a, b) {
		t.Error("swapped verbs without indexes compare equal")
	}
}

// TestFrenchFormats checks each French format against its English key:
// the same verbs on the same arguments.
func TestFrenchFormats(t *testing.T) {
	for _, en := range slices.Sorted(maps.Keys(french)) {
		fr := french[en]
		a, err := verbs(en)
		if err != nil {
			t.Errorf("English: %v", err)
			continue
		}
		b, err := verbs(fr)
		if err != nil {
			t.Errorf("French: %v", err)
			continue
		}
		if !slices.Equal(a, b) {
			t.Errorf("%q uses %v, its French %q uses %v", en, a, fr, b)
		}
	}
}

// TestFrenchTypography checks the spaces of French punctuation, the
// guillemets and the apostrophe in every French message and title.
func TestFrenchTypography(t *testing.T) {
	texts := slices.Collect(maps.Values(french))
	texts = append(texts, slices.Collect(maps.Values(frenchTitles))...)
	for _, s := range texts {
		if problem := typography(s); problem != "" {
			t.Errorf("%q: %s", s, problem)
		}
	}
}

// typography finds what breaks French typography in s. Inside « » it
// checks nothing but the guillemets: they quote the API's own syntax
// ("Authorization: Bearer").
func typography(s string) string {
	rs := []rune(s)
	quoted := false
	for i, r := range rs {
		if r == '«' || r == '»' {
			quoted = r == '«'
		} else if quoted {
			continue
		}
		var before rune
		if i > 0 {
			before = rs[i-1]
		}
		atEnd := i == len(rs)-1 || rs[i+1] == ' '
		switch {
		case r == '\'':
			return "a straight apostrophe: write ’"
		case r == '"':
			return "straight quotes: write « »"
		case r == ':' && atEnd && before != '\u00a0':
			return "a colon without a no-break space (U+00A0) before it"
		case strings.ContainsRune(";!?", r) && atEnd && before != '\u202f':
			return fmt.Sprintf("%q without a narrow no-break space (U+202F) before it", r)
		case r == '«' && (i+1 >= len(rs) || rs[i+1] != '\u00a0'):
			return "« without a no-break space after it"
		case r == '»' && before != '\u00a0':
			return "» without a no-break space before it"
		case r == '€' && before != '\u00a0':
			return "€ without a no-break space before it"
		}
	}
	return ""
}
