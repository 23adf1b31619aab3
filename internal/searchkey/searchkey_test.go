package searchkey

import (
	"strings"
	"testing"
)

func TestQueryFindsKey(t *testing.T) {
	key := Of("Hélène  Lefèvre-Œuvray", "Helene.L@Example.org", "+33612345678")
	for _, tc := range []struct {
		q    string
		want bool
	}{
		{"helene", true},
		{"HÉLÈNE", true},
		{"lefevre-oeuvray", true},
		{"helene.l@example", true},
		{"06 12 34 56 78", true},
		{"+33 6 12 34 56 78", true},
		{"0612", true},
		{"martin", false},
		{"helene lefevre-oeuvray helene", false},
	} {
		got := strings.Contains(key, Query(tc.q))
		if got != tc.want {
			t.Errorf("Query(%q) = %q in %q: %v, want %v", tc.q, Query(tc.q), key, got, tc.want)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	if got := EscapeLike(`50%_a\b`); got != `50\%\_a\\b` {
		t.Fatalf("EscapeLike = %q", got)
	}
}
