package freetext

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		kind Kind
		want string // "" for accepted, else a fragment of the reason
	}{
		{"plain French", "Réunion du bureau — salle « Ada »", SingleLine, ""},
		{"Arabic with a right-to-left mark", "مرحبا\u200f Anne", SingleLine, ""},
		{"emoji and a literal U+FFFD", "café ☕ \uFFFD", SingleLine, ""},
		{"empty", "", SingleLine, ""},
		{"NUL", "\x00", SingleLine, "control characters (U+0000 at character 1)"},
		{"NUL in a note", "a\x00", MultiLine, "control characters other than line feeds and tabs (U+0000 at character 2)"},
		{"escape", "a\x1b[31m", SingleLine, "U+001B"},
		{"DEL", "a\x7fb", SingleLine, "U+007F at character 2"},
		{"C1 next line", "a\u0085b", SingleLine, "U+0085"},
		{"C1 in a note", "a\u009bb", MultiLine, "U+009B"},
		{"right-to-left override", "invoice\u202Etxt.exe", SingleLine, "bidirectional override characters (U+202E"},
		{"left-to-right embedding", "\u202Aa", MultiLine, "U+202A"},
		{"first strong isolate", "a\u2068b", SingleLine, "U+2068"},
		{"pop directional isolate", "a\u2069", SingleLine, "U+2069"},
		{"line separator", "a\u2028b", MultiLine, "line or paragraph separators (U+2028"},
		{"paragraph separator", "a\u2029b", SingleLine, "U+2029"},
		{"LF in a name", "Anne\nMarie", SingleLine, "line breaks or tabs (U+000A at character 5)"},
		{"tab in a name", "Anne\tMarie", SingleLine, "U+0009"},
		{"CR in a name", "Anne\r", SingleLine, "U+000D"},
		{"LF in a note", "ligne 1\nligne 2", MultiLine, ""},
		{"CR LF in a note", "ligne 1\r\nligne 2\r\n", MultiLine, ""},
		{"tab in a note", "a\tb", MultiLine, ""},
		{"lone CR in a note", "a\rb", MultiLine, "a carriage return other than in CR LF (U+000D at character 2)"},
		{"CR at the end of a note", "a\r", MultiLine, "U+000D"},
		{"invalid UTF-8", "caf\xe9", SingleLine, "must be valid UTF-8"},
		{"invalid UTF-8 in a password", "\xff", Secret, "must be valid UTF-8"},
		{"control characters in a password", "\x00\t\u202e", Secret, ""},
		{"single line at the limit", strings.Repeat("é", MaxSingleLine), SingleLine, ""},
		{"single line over the limit", strings.Repeat("é", MaxSingleLine+1), SingleLine, "must be at most 2000 characters"},
		{"note at the limit", strings.Repeat("x", MaxMultiLine), MultiLine, ""},
		{"note over the limit", strings.Repeat("x", MaxMultiLine+1), MultiLine, "must be at most 20000 characters"},
		{"password over the limit", strings.Repeat("x", MaxSingleLine+1), Secret, "must be at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.in, tt.kind)
			if tt.want == "" && got != "" {
				t.Fatalf("Check(%q) = %q, want accepted", tt.in, got)
			}
			if tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Check(%q) = %q, want a reason containing %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Mozilla/5.0 (X11; Linux x86_64)", 300, "Mozilla/5.0 (X11; Linux x86_64)"},
		{"curl\x00\xff\tx\u202e", 300, "curl\uFFFD\uFFFD\uFFFDx\uFFFD"},
		{"ééé", 5, "éé"}, // never cut inside a character
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		got := Clean(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		if len(got) <= tt.max && Check(got, SingleLine) != "" {
			t.Errorf("Clean(%q) = %q, which Check still refuses: %s", tt.in, got, Check(got, SingleLine))
		}
	}
}
