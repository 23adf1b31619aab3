package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

func adminCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("usage: relais admin create --email E --password P")
	}
	var c config
	fs, proxies := newFlagSet("admin create", &c)
	email := fs.String("email", "", "the admin's email")
	password := fs.String("password", "", "the admin's password (at least 10 characters)")
	// Only the shared flags read the environment here: RELAIS_ADMIN_EMAIL is
	// for `serve`, and reading it here would hide a forgotten --email.
	if err := parseFlags(fs, args[1:], onlyShared(getenv), stderr); err != nil {
		return err
	}
	if err := c.check(*proxies); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return usagef("admin create needs --email and --password")
	}
	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := migrateAll(ctx, d); err != nil {
		return err
	}
	secret, err := identity.LoadOrCreateJWTSecret(ctx, d, time.Now())
	if err != nil {
		return err
	}
	// Creating an admin queues nothing, but identity takes its queue at
	// construction whatever the use.
	queue, err := jobs.NewQueue(d)
	if err != nil {
		return err
	}
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Jobs: queue})
	if err != nil {
		return err
	}
	u, created, err := svc.EnsureAdmin(ctx, *email, *password)
	var ve *errs.ValidationError
	if errors.As(err, &ve) {
		return usagef("admin create: %v", ve)
	}
	if err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	if created {
		fmt.Fprintf(stdout, "created admin %s (%s)\n", u.Email, u.ID)
	} else {
		fmt.Fprintf(stdout, "%s is an admin (password updated)\n", u.Email)
	}
	return nil
}

func onlyShared(getenv func(string) string) func(string) string {
	return func(name string) string {
		switch name {
		case envName("email"), envName("password"):
			return ""
		}
		return getenv(name)
	}
}
