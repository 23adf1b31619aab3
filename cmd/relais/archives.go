package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/relais-tierslieux/relais/closings"
)

// archivesCmd is `relais archives verify [--public-key FILE] FILE`: it
// checks a signed archive offline, with no database — the manifest's
// hash and signature, and every file against the manifest — and names the
// file that fails (exit code 1).
func archivesCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usagef("usage: relais archives verify [--public-key FILE] ARCHIVE.zip")
	}
	fs := flag.NewFlagSet("archives verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keyFile := fs.String("public-key", "", "PEM public key to trust (from GET /v1/archives/public-key); default: the archive's own")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: relais archives verify [--public-key FILE] ARCHIVE.zip")
	}
	var trusted ed25519.PublicKey
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return usagef("cannot read the public key: %v", err)
		}
		if trusted, err = closings.ParsePublicKey(b); err != nil {
			return usagef("%s: %v", *keyFile, err)
		}
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return usagef("cannot read the archive: %v", err)
	}
	m, err := closings.VerifyArchive(data, trusted)
	if err != nil {
		fmt.Fprintf(stdout, "FAILED %v\n", err)
		return fmt.Errorf("archive %s does not verify: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "OK: entity %s, period %s, %d file(s) match the signed manifest\n", m.SIREN, m.Period, len(m.Files))
	return nil
}
