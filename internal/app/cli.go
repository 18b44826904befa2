package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/console"
	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/secretbox"
	"github.com/parrainhq/parrain/internal/store"
)

const usage = `Parrain — self-hosted referral and partner programs.

Usage:
  parrain serve [--demo] [--addr localhost:8080] [--db FILE|postgres://…]
  parrain migrate [--db …]                   create the database if needed and bring its schema up to date
  parrain backup --out FILE [--db …]         a consistent copy of a SQLite database, safe while the server runs
  parrain version                            version, commit and Go version
  parrain apikey create --name NAME [--scopes read,events,admin] [--program ID] [--rate-limit N] [--db …]
  parrain apikey rate-limit ID N [--db …]     the key's own limit in requests a minute (0: the server's --api-rate-limit)
  parrain apikey list [--db …]
  parrain apikey revoke ID [--db …]
  parrain program export --program ID [--out FILE] [--db …]   a program as a JSON document (program as code)
  parrain program apply FILE|- [--program ID] [--db …]        create or update a program from a document
  parrain user create --email EMAIL --role owner|manager|analyst [--name NAME] [--password-stdin | --password P] [--db …]
  parrain user list [--db …]
  parrain user password --email EMAIL [--password-stdin | --password P] [--db …]   reset a password (signs the user out)
  parrain simulate [--seed N] [--n 20000] [--scenarios]   fraud policy accuracy on a labelled synthetic program
  parrain payout run --program ID [--approve] [--db …]      a payout run now (the server sends approved batches)
  parrain payout export --program ID --batch ID [--out FILE] [--db …]   the batch's bank transfers as CSV
  parrain payout import --program ID --batch ID FILE|- [--db …]         mark bank payouts paid or failed from a CSV
  parrain secrets new-key [--out FILE]       a new key for the secrets at rest (docs/secrets.md)
  parrain secrets status [--db …]            which keys the stored secrets are sealed under
  parrain secrets rotate [--new-key-file F] [--db …]   reseal every secret under a new key (resumable)
  parrain person export --program ID --external-id X [--out FILE] [--db …]   everything held on a person, as JSON
  parrain person erase --program ID --external-id X [--force] [--db …]       erase a person (docs/privacy.md)

Every flag also reads a PARRAIN_* environment variable; run a command with
-h for its flags. Flags may come before or after the arguments. Commands
other than serve and migrate use an existing database only (those two
create it) and say on stderr which one they opened.
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
		return exitCode(serve(ctx, args[1:], stderr), stderr)
	}
	// Every other command acts as the command line in the audit log.
	ctx = parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorCLI, Label: "cli"})
	switch args[0] {
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "backup":
		err = backup(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		printVersion(stdout)
		return 0
	case "apikey":
		err = apikey(ctx, args[1:], stdout, stderr)
	case "program":
		err = programCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "user":
		err = userCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "simulate":
		err = simulate(args[1:], stdout)
	case "payout":
		err = payoutCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case "secrets":
		err = secretsCmd(ctx, args[1:], stdout, stderr)
	case "person":
		err = personCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "parrain: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return exitCode(err, stderr)
}

// exitCode reports err and returns the process exit code for it.
func exitCode(err error, stderr io.Writer) int {
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
	lh := logHandler{Handler: h}
	if b, ok := w.(*logBatcher); ok {
		lh.flush = b.Flush
	}
	return slog.New(lh)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := ParseServe(args)
	if err != nil {
		return err
	}
	lb := newLogBuffer(stderr, 100*time.Millisecond)
	defer lb.Close()
	log := newLogger(cfg.LogFormat, lb)
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

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	db := dbFlag(fs)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	// migrate is the one command besides serve that may create the
	// database: preparing one (before a first API key, in a deploy
	// pipeline) is what it is run for. It says so.
	where, path := describeDB(*db)
	created := false
	if path != "" {
		_, err := os.Stat(path)
		created = errors.Is(err, os.ErrNotExist)
	}
	st, err := openStore(ctx, *db, envSecretKeys(), store.Options{}, newLogger("text", stderr))
	if err != nil {
		return fmt.Errorf("opening %s: %w", where, err)
	}
	defer st.Close()
	if created {
		fmt.Fprintf(stderr, "parrain: created %s\n", where)
	} else {
		fmt.Fprintf(stderr, "parrain: using %s\n", where)
	}
	fmt.Fprintf(stdout, "database (%s) is up to date\n", st.Dialect())
	return nil
}

// backup is `parrain backup --out FILE`: a consistent copy of a SQLite
// database (VACUUM INTO), safe while the server runs.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	db := dbFlag(fs)
	out := fs.String("out", "", "the backup file to write (must not exist)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("backup: unexpected argument %q (the file goes in --out)", pos[0])
	}
	if *out == "" {
		return errors.New("backup: --out FILE is required")
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return err
	}
	fi, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up to %s (%d bytes)\n", *out, fi.Size())
	return nil
}

// openExisting opens the database of a command other than serve. Unlike
// serve, it never creates a SQLite file: a command run from the wrong
// directory would otherwise work on a new empty ./parrain.db and its
// result (an API key, a user) would be nowhere the server looks. It says
// on stderr which database it opened.
func openExisting(ctx context.Context, dsn string, stderr io.Writer) (*store.Store, error) {
	st, _, err := openExistingWith(ctx, dsn, envSecretKeys(), newLogger("text", stderr), stderr)
	return st, err
}

// openExistingWith is openExisting with the secret keys of keys (commands
// other than serve and secrets take them from the environment only).
func openExistingWith(ctx context.Context, dsn string, keys SecretKeyConfig, log *slog.Logger, stderr io.Writer) (*store.Store, *secretbox.Keyring, error) {
	where, path := describeDB(dsn)
	if path != "" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("no database at %s: pass --db FILE (or set PARRAIN_DATABASE_URL) to name the server's database; `parrain serve` or `parrain migrate` creates a new one", path)
		}
	}
	st, ring, err := openStoreKeys(ctx, dsn, keys, store.Options{}, log)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s: %w", where, err)
	}
	fmt.Fprintf(stderr, "parrain: using %s\n", where)
	return st, ring, nil
}

// describeDB names a database for people: the absolute SQLite file path
// (returned as path too), or the PostgreSQL URL without its password.
func describeDB(dsn string) (where, path string) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			return "PostgreSQL database " + u.Redacted(), ""
		}
		return "PostgreSQL database", ""
	}
	path = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		path = "parrain.db"
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "SQLite database " + path, path
}

func apikey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("apikey: expected create, list, rate-limit or revoke")
	}
	fs := flag.NewFlagSet("apikey "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	name := fs.String("name", "", "a name to recognise the key by (create)")
	scopes := fs.String("scopes", strings.Join(store.AllScopes, ","), "comma-separated scopes: read, events, admin (create)")
	program := fs.String("program", "", "restrict the key to one program id (create)")
	rateLimit := fs.Int("rate-limit", 0, "the key's own limit in requests a minute; 0: the server's --api-rate-limit (create)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	acc := access.New(st, slog.New(slog.NewTextHandler(stderr, nil)), access.Config{})
	switch args[0] {
	case "create":
		var sc []string
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				sc = append(sc, s)
			}
		}
		key, _, err := acc.CreateAPIKeyWith(ctx, store.NewAPIKey{Name: *name, Scopes: sc, ProgramID: *program, RateLimit: *rateLimit})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
	case "list":
		ks, err := acc.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tPROGRAM\tRATE LIMIT\tLAST USED\tREVOKED")
		for _, k := range ks {
			used, rev := "-", "-"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.Format("2006-01-02 15:04")
			}
			if k.RevokedAt != nil {
				rev = k.RevokedAt.Format("2006-01-02 15:04")
			}
			limit := "default"
			if k.RateLimit > 0 {
				limit = strconv.Itoa(k.RateLimit) + "/min"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, strings.Join(k.Scopes, ","), k.ProgramID, limit, used, rev)
		}
		return tw.Flush()
	case "rate-limit":
		if len(pos) != 2 {
			return errors.New("apikey rate-limit: expected the key id and a number of requests a minute (0: the default)")
		}
		n, err := strconv.Atoi(pos[1])
		if err != nil {
			return fmt.Errorf("apikey rate-limit: %q is not a number", pos[1])
		}
		if err := acc.SetAPIKeyRateLimit(ctx, pos[0], n); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "rate limit of", pos[0], "set to", n, "requests a minute (0: the default)")
	case "revoke":
		if len(pos) != 1 {
			return errors.New("apikey revoke: expected the key id")
		}
		if err := acc.RevokeAPIKey(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "revoked", pos[0])
	default:
		return fmt.Errorf("apikey: unknown subcommand %q", args[0])
	}
	return nil
}

// simulate generates a labelled synthetic program and reports the default
// fraud policy's precision and recall on it.
func simulate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	seed := fs.Int64("seed", 20260302, "random seed (same seed, same program)")
	n := fs.Int("n", 20000, "number of referrals")
	scenarios := fs.Bool("scenarios", true, "break recall down per abuse pattern")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 100 || *n > 1000000 {
		return errors.New("simulate: --n must be between 100 and 1000000")
	}
	m, err := fraud.Evaluate(fraud.DefaultPolicy(), fraud.Simulate(*seed, *n))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "default fraud policy on a synthetic program (seed %d, %d referrals)\n\n%s", *seed, *n, m.Table(*scenarios))
	return nil
}

// userCmd manages console users: create (the first owner, before the
// console can be used), list, and password resets. Passwords are read from
// the terminal without echo, from stdin with --password-stdin, or (not
// recommended: shell history) from --password.
func userCmd(ctx context.Context, args []string, stdin *os.File, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: expected create, list or password")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	email := fs.String("email", "", "the user's email address (create, password)")
	name := fs.String("name", "", "the user's name (create)")
	role := fs.String("role", "", "owner, manager or analyst (create)")
	password := fs.String("password", "", "the password (visible in the process list and shell history: prefer the prompt or --password-stdin)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	acc := access.New(st, slog.New(slog.NewTextHandler(stderr, nil)), access.Config{})
	readPassword := func(addr string) (string, error) {
		if *password != "" {
			return *password, nil
		}
		pw, err := console.ReadPassword(stdin, stderr, *fromStdin, "Password for "+addr)
		if err != nil {
			return "", err
		}
		return pw, nil
	}
	switch args[0] {
	case "create":
		r, err := parrain.ParseUserRole("role", *role)
		if err != nil {
			return err
		}
		addr, err := access.NormalizeEmail("email", *email)
		if err != nil {
			return err
		}
		pw, err := readPassword(addr)
		if err != nil {
			return err
		}
		u, err := acc.CreateUser(ctx, access.NewUser{Email: addr, Name: *name, Role: r, Password: pw})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s, %s); sign in at /admin/login\n", u.Email, u.Role, u.ID)
	case "list":
		us, err := acc.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tLAST SIGN-IN\tSTATUS")
		for _, u := range us {
			last, status := "-", "active"
			if u.LastLoginAt != nil {
				last = u.LastLoginAt.Format("2006-01-02 15:04")
			}
			if !u.Active() {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, last, status)
		}
		return tw.Flush()
	case "password":
		u, err := acc.UserByEmail(ctx, *email)
		if err != nil {
			return err
		}
		pw, err := readPassword(u.Email)
		if err != nil {
			return err
		}
		if _, err := acc.ResetPassword(ctx, u.Email, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions were ended\n", u.Email)
	default:
		return fmt.Errorf("user: unknown subcommand %q", args[0])
	}
	return nil
}

// programCmd exports and applies programs as JSON documents (program as
// code): export prints a program's configuration without identity,
// counters or secrets; apply creates the program, or updates the one with
// the document's key (or --program) as a new version — applying the same
// document twice changes nothing.
func programCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("program: expected export or apply")
	}
	fs := flag.NewFlagSet("program "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	programID := fs.String("program", "", "the program id (export; apply: update this program instead of matching by key)")
	out := fs.String("out", "", "write the document to this file instead of stdout (export)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "export":
		if *programID == "" {
			return errors.New("program export: --program ID is required")
		}
		doc, err := program.New(st).Export(ctx, *programID)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if *out != "" {
			return os.WriteFile(*out, b, 0o644)
		}
		_, err = stdout.Write(b)
		return err
	case "apply":
		if len(pos) != 1 {
			return errors.New("program apply: expected the document file (or - for stdin)")
		}
		var r io.Reader = stdin
		if pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		var doc parrain.ProgramDocument
		dec := json.NewDecoder(io.LimitReader(r, 4<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("program apply: reading the document: %w", err)
		}
		res, err := program.New(st).Apply(ctx, doc, *programID)
		if err != nil {
			if e := parrain.AsError(err); e != nil && e.Field != "" {
				return fmt.Errorf("program apply: %s: %s", e.Field, e.Message)
			}
			return err
		}
		fmt.Fprintf(stdout, "%s program %s (%s) at version %d\n", res.Action, res.Program.ID, res.Program.Name, res.Program.Version)
		return nil
	}
	return fmt.Errorf("program: unknown subcommand %q", args[0])
}
