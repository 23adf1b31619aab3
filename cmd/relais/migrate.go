package main

import (
	"context"
	"fmt"
	"io"

	"github.com/relais-tierslieux/relais/internal/db"
)

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usagef("migrate needs one of: up, down, status")
	}
	action := args[0]
	var c config
	fs, proxies := newFlagSet("migrate "+action, &c)
	if err := parseFlags(fs, args[1:], getenv, stderr); err != nil {
		return err
	}
	if err := c.check(*proxies); err != nil {
		return err
	}
	if action != "up" && action != "down" && action != "status" {
		return usagef("migrate needs one of: up, down, status (not %q)", action)
	}
	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	switch action {
	case "up":
		if err := migrateAll(ctx, d); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "database is up to date")
	case "down":
		group, err := db.Rollback(ctx, d)
		if err != nil {
			return err
		}
		if group.IsZero() {
			fmt.Fprintln(stdout, "nothing to roll back")
			return nil
		}
		fmt.Fprintf(stdout, "rolled back %s\n", group)
	case "status":
		ms, err := db.Status(ctx, d)
		if err != nil {
			return err
		}
		for _, m := range ms {
			state := "pending"
			if m.IsApplied() {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %s\n", state, m.Name)
		}
	}
	return nil
}
