// Package dbtest gives each test a fresh, migrated database: a SQLite file in
// the test's temporary directory by default, or, when
// RELAIS_TEST_DATABASE_URL is set, a new schema on that PostgreSQL server
// which is dropped when the test ends. An unreachable server fails the test;
// it never skips.
//
// On SQLite the migrations run once per test binary, into a template file
// that each test then copies: under the race detector the pure-Go SQLite
// takes about four seconds to apply them, which over the suite's hundreds
// of tests was most of CI's time.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// EnvURL names the variable that switches the tests to PostgreSQL.
const EnvURL = "RELAIS_TEST_DATABASE_URL"

// Postgres reports whether this test run targets PostgreSQL.
func Postgres() bool { return os.Getenv(EnvURL) != "" }

// URL returns the URL of a fresh, empty database for this test. The database
// is removed when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		return "sqlite:" + filepath.Join(t.TempDir(), "relais.db")
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is not usable: %v", EnvURL, err)
	}
	// Extensions are per database, and parallel test packages would race to
	// create one; migrations then find it present.
	if err := admin.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7256131772)"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
		return err
	}); err != nil {
		admin.Close()
		t.Fatalf("create btree_gist: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	// Shared extensions (btree_gist) live in public; our tables in the schema.
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens the database at URL(t) without migrating it.
func Open(t testing.TB) *bun.DB {
	t.Helper()
	return OpenURL(t, URL(t))
}

// OpenURL opens raw and closes it when the test ends.
func OpenURL(t testing.TB, raw string) *bun.DB {
	t.Helper()
	d, err := db.Open(context.Background(), raw)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// New returns a fresh database with every migration applied: Relais's and
// River's, as relais serve applies them.
func New(t testing.TB) *bun.DB {
	t.Helper()
	return OpenURL(t, MigratedURL(t))
}

// MigratedURL returns the URL of a fresh database with every migration
// applied, removed when the test ends: for a test that starts relais serve
// and is not about its first migration.
func MigratedURL(t testing.TB) string {
	t.Helper()
	if Postgres() {
		raw := URL(t)
		d, err := db.Open(context.Background(), raw)
		if err != nil {
			t.Fatalf("open test database: %v", err)
		}
		defer d.Close()
		if err := migrate(context.Background(), d); err != nil {
			t.Fatalf("migrate test database: %v", err)
		}
		return raw
	}
	image, err := sqliteTemplate()
	if err != nil {
		t.Fatalf("migrate the template test database: %v", err)
	}
	path := filepath.Join(t.TempDir(), "relais.db")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatalf("copy the template test database: %v", err)
	}
	return "sqlite:" + path
}

func migrate(ctx context.Context, d *bun.DB) error {
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

var template struct {
	once  sync.Once
	image []byte
	err   error
}

// sqliteTemplate returns the bytes of a migrated SQLite database, built on
// the first call.
func sqliteTemplate() ([]byte, error) {
	template.once.Do(func() {
		template.image, template.err = buildSQLiteTemplate()
	})
	return template.image, template.err
}

func buildSQLiteTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "relais-dbtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+path)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	// The database runs in WAL mode: fold the log into the main file, so
	// that the file alone is the whole database.
	if _, err := d.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.Close(); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

// User inserts a member account and returns its id: for the tests of
// packages below access (calendar, billing, devices), which cannot import
// it. The password hash is a placeholder no password matches.
func User(t testing.TB, d *bun.DB, email, name string) string {
	t.Helper()
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x70 // UUID version 7 layout, as internal/id makes
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	userID := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	now := time.Now().UTC()
	if _, err := d.ExecContext(context.Background(),
		"INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, '!test-user', 'member', ?, ?)",
		userID, email, name, now, now); err != nil {
		t.Fatalf("insert test user: %v", err)
	}
	return userID
}
