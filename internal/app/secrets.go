package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/parrainhq/parrain/internal/secretbox"
	"github.com/parrainhq/parrain/internal/store"
)

// SecretKeyConfig says where the key that seals the secrets at rest comes
// from (docs/secrets.md). It never comes from the database. Without one, a
// SQLite database gets a key file beside it (<database>.key, created at
// first start); a PostgreSQL installation runs without one but refuses to
// store secrets, and refuses to start when its database holds some.
type SecretKeyConfig struct {
	// File is the key file (--secret-key-file, PARRAIN_SECRET_KEY_FILE).
	File string
	// Key is the key itself (PARRAIN_SECRET_KEY only: a key on a command
	// line would be visible to every user of the machine).
	Key string
	// OldFiles are keys that open secrets sealed before a rotation
	// (--old-secret-key-files, PARRAIN_OLD_SECRET_KEY_FILES,
	// comma-separated): needed only until `parrain secrets rotate` ends.
	OldFiles []string
}

// secretKeyFlags registers the key flags on fs, with their environment
// variables.
func secretKeyFlags(fs *flag.FlagSet, c *SecretKeyConfig) {
	*c = envSecretKeys()
	fs.StringVar(&c.File, "secret-key-file", c.File,
		"file holding the key that encrypts secrets at rest (PARRAIN_SECRET_KEY_FILE; or the key itself in PARRAIN_SECRET_KEY; default for SQLite: <database>.key, created at first start)")
	fs.Func("old-secret-key-files", "comma-separated key files that still decrypt secrets sealed before a key rotation (PARRAIN_OLD_SECRET_KEY_FILES)", func(v string) error {
		c.OldFiles = splitList(v)
		return nil
	})
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// envSecretKeys is the key configuration of commands without key flags:
// the environment only.
func envSecretKeys() SecretKeyConfig {
	return SecretKeyConfig{Key: os.Getenv("PARRAIN_SECRET_KEY"), File: os.Getenv("PARRAIN_SECRET_KEY_FILE"),
		OldFiles: splitList(os.Getenv("PARRAIN_OLD_SECRET_KEY_FILES"))}
}

// readKeyFile reads a key file, warning when others may read it.
func readKeyFile(path string, log *slog.Logger) (secretbox.Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return secretbox.Key{}, fmt.Errorf("reading the secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("the secret key file can be read by other users of this machine: chmod 600 it", "file", path, "mode", fi.Mode().Perm().String())
	}
	k, err := secretbox.ParseKey(string(b))
	if err != nil {
		return k, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return k, nil
}

// keyring returns the configured keys, or nil when none is configured.
func (c SecretKeyConfig) keyring(log *slog.Logger) (*secretbox.Keyring, error) {
	var primary secretbox.Key
	var err error
	switch {
	case c.File != "" && c.Key != "":
		return nil, errors.New("both PARRAIN_SECRET_KEY and a secret key file are set: keep one")
	case c.File != "":
		if primary, err = readKeyFile(c.File, log); err != nil {
			return nil, err
		}
	case c.Key != "":
		if primary, err = secretbox.ParseKey(c.Key); err != nil {
			return nil, fmt.Errorf("PARRAIN_SECRET_KEY: %w", err)
		}
	default:
		if len(c.OldFiles) > 0 {
			return nil, errors.New("old secret key files are set without a current key (--secret-key-file or PARRAIN_SECRET_KEY)")
		}
		return nil, nil
	}
	var old []secretbox.Key
	for _, f := range c.OldFiles {
		k, err := readKeyFile(f, log)
		if err != nil {
			return nil, err
		}
		old = append(old, k)
	}
	return secretbox.NewKeyring(primary, old...), nil
}

// keySettings names the settings that configure the key, for errors.
const keySettings = "--secret-key-file, PARRAIN_SECRET_KEY_FILE or PARRAIN_SECRET_KEY (docs/secrets.md)"

// openStore opens the database with the secret key of c (see
// SecretKeyConfig for what happens without one). Every command that opens
// the database goes through it.
func openStore(ctx context.Context, dsn string, c SecretKeyConfig, opt store.Options, log *slog.Logger) (*store.Store, error) {
	st, _, err := openStoreKeys(ctx, dsn, c, opt, log)
	return st, err
}

// openStoreKeys is openStore, also returning the keys it opened with (nil
// for none).
func openStoreKeys(ctx context.Context, dsn string, c SecretKeyConfig, opt store.Options, log *slog.Logger) (*store.Store, *secretbox.Keyring, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ring, err := c.keyring(log)
	if err != nil {
		return nil, nil, err
	}
	_, sqlitePath := describeDB(dsn)
	keyFile := ""
	if ring == nil && sqlitePath != "" {
		keyFile = sqlitePath + ".key"
		k, err := readKeyFile(keyFile, log)
		switch {
		case err == nil:
			ring = secretbox.NewKeyring(k)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, nil, err
		}
	}
	opt.Keys = ring
	st, err := store.Open(ctx, dsn, opt)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrSecretsInClear) && keyFile != "":
		// An older SQLite installation: it gets its key file below and
		// its secrets are encrypted at the second opening.
	case errors.Is(err, store.ErrSecretKeyMissing) && keyFile != "":
		return nil, nil, fmt.Errorf("%w; its key file %s is missing: restore it from your backup, or name the key with %s", err, keyFile, keySettings)
	case errors.Is(err, store.ErrSecretKeyMissing), errors.Is(err, store.ErrSecretsInClear):
		return nil, nil, fmt.Errorf("%w: set %s", err, keySettings)
	case errors.Is(err, store.ErrSecretKeyWrong):
		return nil, nil, fmt.Errorf("%w: configure the key this database was sealed with (%s); after `parrain secrets rotate`, the new one", err, keySettings)
	default:
		return nil, nil, err
	}
	if ring != nil {
		if n := st.SweptAtOpen(); n > 0 {
			log.Info("encrypted the secrets stored in clear text by an earlier version", "count", n, "key", ring.PrimaryID())
		}
		return st, ring, nil
	}
	if keyFile == "" {
		log.Warn("no secret key is configured: storing secrets (bank details, webhook and widget secrets) is refused until one is set with " + keySettings)
		return st, nil, nil
	}
	if st != nil {
		st.Close()
	}
	if err := createKeyFile(keyFile); err != nil {
		return nil, nil, err
	}
	log.Warn("GENERATED A NEW SECRET KEY for the secrets at rest: back this file up, apart from the database backups — without it the bank details and signing secrets in the database cannot be read",
		"file", keyFile)
	return openStoreKeys(ctx, dsn, SecretKeyConfig{File: keyFile}, opt, log)
}

// createKeyFile writes a fresh key to path, readable by its owner only,
// never over an existing file.
func createKeyFile(path string) error {
	text, err := secretbox.NewKeyText()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating the secret key file: %w", err)
	}
	if _, err := f.WriteString(text + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("writing the secret key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing the secret key file: %w", err)
	}
	return f.Close()
}

const secretsUsage = `parrain secrets new-key [--out FILE]        a new random key (to stdout, or a new file readable by you only)
parrain secrets status [--db …]            which keys the stored secrets are sealed under
parrain secrets rotate --new-key-file F [--db …]   reseal every secret under the key in F
parrain secrets rotate [--db …]            reseal every secret under the configured key (--secret-key-file),
                                           opening the others with --old-secret-key-files
`

// secretsCmd is `parrain secrets …`.
func secretsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("secrets: expected new-key, status or rotate:\n" + strings.TrimRight(secretsUsage, "\n"))
	}
	fs := flag.NewFlagSet("secrets "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch args[0] {
	case "new-key":
		out := fs.String("out", "", "write the key to this new file (mode 600) instead of stdout")
		if _, err := parseInterspersed(fs, args[1:]); err != nil {
			return err
		}
		if *out != "" {
			if err := createKeyFile(*out); err != nil {
				return err
			}
			k, err := readKeyFile(*out, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote a new key (id %s) to %s\n", k.ID(), *out)
			return nil
		}
		text, err := secretbox.NewKeyText()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, text)
		return nil
	case "status", "rotate":
	default:
		return fmt.Errorf("secrets: unknown command %q:\n%s", args[0], strings.TrimRight(secretsUsage, "\n"))
	}
	db := dbFlag(fs)
	var keys SecretKeyConfig
	secretKeyFlags(fs, &keys)
	newFile := fs.String("new-key-file", env("PARRAIN_NEW_SECRET_KEY_FILE", ""), "rotate: the new key's file (PARRAIN_NEW_SECRET_KEY_FILE); without it, the configured key is the new one")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("secrets %s: unexpected argument %q", args[0], pos[0])
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if args[0] == "rotate" && *newFile != "" {
		// A resumed rotation finds secrets, the check among them, under
		// either key: the new one opens too.
		if _, path := describeDB(*db); keys.File == "" && keys.Key == "" && path != "" {
			keys.File = path + ".key"
		}
		keys.OldFiles = append(keys.OldFiles, *newFile)
	}
	st, ring, err := openExistingWith(ctx, *db, keys, log, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "rotate" {
		if *newFile != "" {
			k, err := readKeyFile(*newFile, log)
			if err != nil {
				return err
			}
			if ring == nil {
				ring = secretbox.NewKeyring(k)
			} else {
				ring = ring.WithPrimary(k)
			}
		}
		if ring == nil {
			return fmt.Errorf("secrets rotate: no key to seal under: pass --new-key-file or set %s", keySettings)
		}
		rep, err := st.RotateSecrets(ctx, ring)
		if err != nil {
			return fmt.Errorf("rotating (run it again to resume; what is done stays done): %w", err)
		}
		fmt.Fprintf(stdout, "resealed %d secrets under key %s (%d were already under it)\n", rep.Resealed, ring.PrimaryID(), rep.Kept)
		if *newFile != "" {
			fmt.Fprintf(stdout, "start the server with the new key now (--secret-key-file %s): the database's secrets are sealed under it\n", *newFile)
		}
	}
	use, err := st.SecretKeyUse(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(use))
	for id := range use {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		fmt.Fprintln(stdout, "no secrets are stored")
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "key %s: %d secrets\n", id, use[id])
	}
	return nil
}
