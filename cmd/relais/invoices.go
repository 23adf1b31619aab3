package main

import (
	"context"
	"fmt"
	"io"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/invoicing"
)

// errChainBroken makes `relais invoices verify` exit non-zero when a
// document was altered, so a cron job or a monitoring check notices.
type errChainBroken struct{ n int }

func (e *errChainBroken) Error() string {
	return fmt.Sprintf("%d invoice chain problem(s) found", e.n)
}

func invoicesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return usagef("usage: relais invoices verify [--database-url URL]")
	}
	var c config
	fs, proxies := newFlagSet("invoices verify", &c)
	if err := parseFlags(fs, args[1:], getenv, stderr); err != nil {
		return err
	}
	if err := c.check(*proxies); err != nil {
		return err
	}
	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, err := invoicing.NewInvoicer(d, nil).Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify invoices: %w", err)
	}
	fmt.Fprintf(stdout, "%d document(s) of %d entit(y/ies) checked\n", rep.Documents, rep.Entities)
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "ALTERED entity %s, document %s: %s\n", p.EntityKey, p.Number, p.Reason)
	}
	if len(rep.Problems) > 0 {
		return &errChainBroken{n: len(rep.Problems)}
	}
	fmt.Fprintln(stdout, "every chain is intact")
	return nil
}
