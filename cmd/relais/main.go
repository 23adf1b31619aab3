// Command relais runs the Relais backend of a tiers lieu: its HTTP API, its
// database migrations and its administration commands.
//
//	relais serve                      run the service (SQLite + defaults)
//	relais migrate up|down|status     manage the schema
//	relais admin create --email E --password P
//	relais invoices verify            check the invoices' hash chains
//	relais archives verify FILE       check a signed archive offline
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/relais-tierslieux/relais/internal/db"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "relais: "+err.Error())
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 2 for mistakes in how relais was started (flags, URLs, an
// unreachable database), 1 for failures while running.
func exitCode(err error) int {
	var (
		ue *usageError
		ce *db.ConfigError
		de *db.UnreachableError
	)
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &de) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

const usage = `Relais: the backend of a tiers lieu.

Usage:
  relais serve [flags]                            run the HTTP API
  relais migrate up|down|status [flags]           manage the database schema
  relais admin create --email E --password P      create or promote an admin
  relais invoices verify                          check every invoice's inalterability chain
  relais archives verify [--public-key F] FILE    check a signed archive of a closed period, offline
  relais devices check|acl|simulate [flags]       check the device registry, write a Mosquitto acl_file, run virtual devices

Every flag --some-name may also be set as RELAIS_SOME_NAME.
Run 'relais COMMAND -h' for a command's flags.
`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return adminCmd(ctx, args[1:], getenv, stdout, stderr)
	case "invoices":
		return invoicesCmd(ctx, args[1:], getenv, stdout, stderr)
	case "archives":
		return archivesCmd(ctx, args[1:], stdout, stderr)
	case "devices":
		return devicesCmd(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usagef("unknown command %q", args[0])
	}
}

func newLogger(c *config, out io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel)) // checked in config.check
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}
