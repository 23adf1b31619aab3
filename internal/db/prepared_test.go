package db_test

import (
	"testing"

	"github.com/relais-tierslieux/relais/internal/db"
)

func TestNumberPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT ? ", "SELECT $1 "},
		{"WHERE a = ? AND b IN (?, ?) AND é = ?", "WHERE a = $1 AND b IN ($2, $3) AND é = $4"},
	} {
		if got := db.NumberPlaceholders(tt.in); got != tt.want {
			t.Errorf("NumberPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
