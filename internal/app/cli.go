package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

const usage = `Parrain — self-hosted referral and partner programs.

Usage:
  parrain serve [--demo] [--addr localhost:8080] [--db FILE|postgres://…]
  parrain migrate [--db …]
  parrain apikey create --name NAME [--scopes read,events,admin] [--program ID] [--db …]
  parrain apikey list [--db …]
  parrain apikey revoke ID [--db …]

Every flag also reads a PARRAIN_* environment variable; run a command with
-h for its flags.
`

// CLI runs the command line and returns the process exit code.
func CLI(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout)
	case "apikey":
		err = apikey(ctx, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "parrain: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "parrain: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(format string, w io.Writer) *slog.Logger {
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, nil)
	} else {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(logHandler{h})
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := ParseServe(args)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat, stderr)
	m, err := New(ctx, cfg, log, parrain.SystemClock{})
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Run(ctx)
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", env("PARRAIN_DATABASE_URL", ""), "database: SQLite file (default ./parrain.db) or postgres:// URL (PARRAIN_DATABASE_URL)")
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "database (%s) is up to date\n", st.Dialect())
	return nil
}

func apikey(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("apikey: expected create, list or revoke")
	}
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	name := fs.String("name", "", "a name to recognise the key by (create)")
	scopes := fs.String("scopes", strings.Join(store.AllScopes, ","), "comma-separated scopes: read, events, admin (create)")
	program := fs.String("program", "", "restrict the key to one program id (create)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	st, err := store.Open(ctx, *db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		var sc []string
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				sc = append(sc, s)
			}
		}
		key, _, err := st.CreateAPIKey(ctx, *name, sc, *program)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
	case "list":
		ks, err := st.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tPROGRAM\tLAST USED\tREVOKED")
		for _, k := range ks {
			used, rev := "-", "-"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.Format("2006-01-02 15:04")
			}
			if k.RevokedAt != nil {
				rev = k.RevokedAt.Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), k.ProgramID, used, rev)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("apikey revoke: expected the key id")
		}
		if err := st.RevokeAPIKey(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", fs.Arg(0))
	default:
		return fmt.Errorf("apikey: unknown subcommand %q", args[0])
	}
	return nil
}
