package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		postgres bool
		wantErr  bool
		display  string
	}{
		{in: "", display: "sqlite:relais.db"},
		{in: "sqlite:data/r.db", display: "sqlite:data/r.db"},
		{in: "file:/var/lib/relais.db", display: "sqlite:/var/lib/relais.db"},
		{in: "postgres://u:secret@localhost:5432/relais?sslmode=disable", postgres: true, display: "postgres://u:xxxxx@localhost:5432/relais?sslmode=disable"},
		{in: "postgresql://localhost/relais", postgres: true, display: "postgresql://localhost/relais"},
		{in: "mysql://localhost/relais", wantErr: true},
		{in: "sqlite:", wantErr: true},
		{in: "postgres://%zz", wantErr: true},
		{in: "postgres://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := db.Parse(tt.in)
			if tt.wantErr {
				var ce *db.ConfigError
				if !errors.As(err, &ce) {
					t.Fatalf("Parse(%q) error = %v, want a ConfigError", tt.in, err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got.Postgres != tt.postgres || got.Display != tt.display {
				t.Errorf("Parse(%q) = %+v, want postgres=%v display=%q", tt.in, got, tt.postgres, tt.display)
			}
			if !tt.postgres && !strings.Contains(got.DSN, "_txlock=immediate") {
				t.Errorf("sqlite DSN %q lacks _txlock=immediate", got.DSN)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	_, err := db.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
	var ue *db.UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("Open on a closed port: error = %v, want UnreachableError", err)
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	if n, err := db.Pending(ctx, d); err != nil || n == 0 {
		t.Fatalf("fresh database: pending = %d, %v; want > 0", n, err)
	}
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Pending(ctx, d); err != nil || n != 0 {
		t.Fatalf("after migrate: pending = %d, %v; want 0", n, err)
	}
	// Migrating twice is a no-op.
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rollback(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "SELECT 1 FROM users"); err == nil {
		t.Fatal("users table still exists after rollback")
	}
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatalf("migrate after rollback: %v", err)
	}
}

func TestClassifyUniqueViolation(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	insert := func() error {
		_, err := d.ExecContext(ctx, "INSERT INTO settings (key, value, created_at) VALUES ('k', 'v', CURRENT_TIMESTAMP)")
		return err
	}
	if err := insert(); err != nil {
		t.Fatal(err)
	}
	err := insert()
	if !db.IsUnique(err) {
		t.Fatalf("second insert: %v, want a unique violation", err)
	}
	if db.IsUnique(errors.New("other")) {
		t.Fatal("IsUnique(other error) = true")
	}
}
