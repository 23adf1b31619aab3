package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// `relais archives verify` accepts an archive as made, and names the file
// of a tampered one (exit code 1).
func TestArchivesVerify(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	queue := jobstest.Queue(t, d)
	now := func() time.Time { return time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC) }
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Now: now, Jobs: queue, Accounts: identitytest.Accounts(t, d, queue)})
	if _, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}}); err != nil {
		t.Fatal(err)
	}
	svc := closings.New(d, closings.Config{Now: now, Invoices: invoicing.NewInvoicer(d, now)})
	if _, err := svc.Close(ctx, "732829320", "2026-11", ""); err != nil {
		t.Fatal(err)
	}
	ent, err := svc.EntityFor(ctx, &identity.Principal{UserID: "admin", Role: identity.RoleAdmin}, "732829320")
	if err != nil {
		t.Fatal(err)
	}
	archive, err := ent.Archive(ctx, "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.zip"), filepath.Join(dir, "bad.zip")
	if err := os.WriteFile(good, archive, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, tamper(t, archive, "closings.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"archives", "verify", good}, os.Getenv, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "OK") {
		t.Fatalf("good archive: %v\n%s", err, out.String())
	}
	out.Reset()
	err = run(ctx, []string{"archives", "verify", bad}, os.Getenv, &out, io.Discard)
	if err == nil || exitCode(err) != 1 || !strings.Contains(out.String(), "closings.json") {
		t.Fatalf("tampered archive: %v (exit %d)\n%s", err, exitCode(err), out.String())
	}
}

// tamper flips one bit in the middle of the named file.
func tamper(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b[len(b)/2] ^= 1
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}
