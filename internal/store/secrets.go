package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/secretbox"
)

// Secrets at rest. Bank details, outgoing-webhook signing secrets, widget
// secrets and fulfilment secrets are sealed (internal/secretbox) under the
// installation's secret key, which never enters the database; each value
// is bound to its table, column and row. The columns are listed once, in
// sealedColumns: the repository methods seal on write and open on read,
// the start-up sweep seals the clear text an older version left, and
// RotateSecrets reseals everything under a new key.

// sealedColumn is one column holding sealed values, with the column that
// names its row.
type sealedColumn struct {
	table, column, idCol string
	where                string // restricts the rows (settings)
}

// sealedColumns lists every column that holds secrets. A column added
// here is sealed by the start-up sweep of an existing database once
// sweepVersion is raised.
var sealedColumns = []sealedColumn{
	{table: "payout_accounts", column: "bank", idCol: "participant_id"},
	{table: "payouts", column: "bank", idCol: "id"},
	{table: "webhook_endpoints", column: "secret", idCol: "id"},
	{table: "program_experience", column: "widget_secret", idCol: "program_id"},
	{table: "program_experience", column: "previous_secret", idCol: "program_id"},
	{table: "programs", column: "fulfilment_secret", idCol: "id"},
	{table: "settings", column: "value", idCol: "key", where: "key = '" + checkKey + "'"},
}

const (
	// checkKey is the settings row holding a sealed known value: it tells
	// at start whether the database holds sealed secrets and whether the
	// configured key opens them.
	checkKey   = "secrets_check"
	checkPlain = "parrain secrets at rest"
	// sweptKey records the sweepVersion of the last start-up sweep.
	sweptKey     = "secrets_swept"
	sweepVersion = "1"
)

// place is what a sealed value is bound to.
func place(table, column, id string) string { return table + "." + column + ":" + id }

// Errors of Open about the secret key; the wiring adds the settings that
// configure it.
var (
	// ErrSecretKeyMissing: the database holds sealed secrets and no key
	// is configured.
	ErrSecretKeyMissing = errors.New("no secret key is configured")
	// ErrSecretsInClear: the database holds secrets an earlier version
	// stored in clear text and no key is configured to seal them.
	ErrSecretsInClear = errors.New("no secret key is configured to encrypt the secrets stored in clear text")
	// ErrSecretKeyWrong: the configured keys do not open the database's
	// sealed secrets.
	ErrSecretKeyWrong = errors.New("the configured secret key does not open this database's secrets")
)

// errNoKey refuses to store a secret on a server without a key.
var errNoKey = &parrain.Error{Code: parrain.CodeUnavailable,
	Message: "this server has no secret key, so it cannot store secrets (bank details, signing secrets): its operator must set PARRAIN_SECRET_KEY_FILE, PARRAIN_SECRET_KEY or --secret-key-file (docs/secrets.md)"}

// seal encrypts a secret for its column and row; "" stays "".
func (s *Store) seal(plain, table, column, id string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if s.keys == nil {
		return "", errNoKey
	}
	return s.keys.Seal(plain, place(table, column, id))
}

// open decrypts a secret sealed for its column and row; "" stays "". A
// value that is not sealed is refused: after the start-up sweep every
// secret is sealed, and clear text where a sealed value belongs was
// written behind Parrain's back.
func (s *Store) open(sealed, table, column, id string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	if s.keys == nil {
		return "", fmt.Errorf("opening %s.%s of %s: %w", table, column, id, ErrSecretKeyMissing)
	}
	plain, err := s.keys.Open(sealed, place(table, column, id))
	if err != nil {
		return "", fmt.Errorf("opening %s.%s of %s: %w", table, column, id, err)
	}
	return plain, nil
}

// HasSecretKey reports whether the store was opened with a secret key.
func (s *Store) HasSecretKey() bool { return s.keys != nil }

// initSecrets checks the configured keys against the database at start
// and seals the clear text an older version left (once).
func (s *Store) initSecrets(ctx context.Context) error {
	var check string
	err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, checkKey).Scan(&check)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the secrets check: %w", err)
	}
	if s.keys == nil {
		if check != "" {
			id, _ := secretbox.KeyID(check)
			return fmt.Errorf("%w: this database holds secrets sealed under key %s", ErrSecretKeyMissing, id)
		}
		n, err := s.clearSecrets(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: this database holds %d secrets in clear text, stored by an earlier version; with a key they are encrypted at start", ErrSecretsInClear, n)
		}
		return nil
	}
	if check == "" {
		// The first start with a key; of two processes starting together
		// with different keys, the second finds the first's check below.
		sealed, err := s.keys.Seal(checkPlain, place("settings", "value", checkKey))
		if err != nil {
			return err
		}
		if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, checkKey, sealed); err != nil {
			return fmt.Errorf("storing the secrets check: %w", err)
		}
		if err := s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, checkKey).Scan(&check); err != nil {
			return fmt.Errorf("reading the secrets check: %w", err)
		}
	}
	plain, err := s.keys.Open(check, place("settings", "value", checkKey))
	if err != nil || plain != checkPlain {
		id, _ := secretbox.KeyID(check)
		return fmt.Errorf("%w: its secrets are sealed under key %s, the configured keys are %s (%v)",
			ErrSecretKeyWrong, id, strings.Join(s.keys.IDs(), ", "), err)
	}
	var swept string
	err = s.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, sweptKey).Scan(&swept)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the secrets sweep: %w", err)
	}
	if swept == sweepVersion {
		return nil
	}
	rep, err := s.reseal(ctx, s.keys, false)
	if err != nil {
		return fmt.Errorf("encrypting the secrets stored in clear text: %w", err)
	}
	s.sweptAtOpen = rep.Resealed
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
		sweptKey, sweepVersion); err != nil {
		return fmt.Errorf("recording the secrets sweep: %w", err)
	}
	return nil
}

// SweptAtOpen is how many clear-text secrets Open encrypted.
func (s *Store) SweptAtOpen() int { return s.sweptAtOpen }

// clearSecrets counts the secrets stored and not sealed.
func (s *Store) clearSecrets(ctx context.Context) (int, error) {
	total := 0
	for _, c := range sealedColumns {
		if c.where != "" {
			continue
		}
		var n int
		if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table+` WHERE `+c.column+` <> '' AND `+c.column+` NOT LIKE 'ps1.%'`).Scan(&n); err != nil {
			return 0, fmt.Errorf("counting clear-text secrets in %s.%s: %w", c.table, c.column, err)
		}
		total += n
	}
	return total, nil
}

// ResealReport says what a reseal did.
type ResealReport struct {
	Resealed int // values written under the new primary key
	Kept     int // values already under it
}

// resealBatch is how many rows one reseal transaction reads.
const resealBatch = 500

// reseal walks every sealed column in batches of rows, each batch in its
// own transaction, and seals under to's primary key the values that are
// clear text or (when all) sealed under another key, which to must then
// hold too. A value changed by a concurrent writer between the read and
// the write is left to that writer (who sealed it under the primary key).
// It can stop and run again: what it did stays done.
func (s *Store) reseal(ctx context.Context, to *secretbox.Keyring, all bool) (ResealReport, error) {
	var rep ResealReport
	for _, c := range sealedColumns {
		cursor := ""
		for {
			next, err := s.resealRows(ctx, c, cursor, to, all, &rep)
			if err != nil {
				return rep, err
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return rep, nil
}

// resealRows reseals one batch after cursor and returns the last id read
// ("" at the end).
func (s *Store) resealRows(ctx context.Context, c sealedColumn, cursor string, to *secretbox.Keyring, all bool, rep *ResealReport) (string, error) {
	type row struct{ id, v string }
	var last string
	var done ResealReport
	err := s.tx(ctx, func(tx *sql.Tx) error {
		last, done = "", ResealReport{}
		where := c.idCol + ` > $1 AND ` + c.column + ` <> ''`
		if c.where != "" {
			where += " AND " + c.where
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+c.idCol+`, `+c.column+` FROM `+c.table+` WHERE `+where+` ORDER BY `+c.idCol+` LIMIT $2`, cursor, resealBatch)
		if err != nil {
			return fmt.Errorf("reading %s.%s: %w", c.table, c.column, err)
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.v); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(batch) == resealBatch {
			last = batch[len(batch)-1].id
		}
		for _, r := range batch {
			pl := place(c.table, c.column, r.id)
			var plain string
			id, sealed := secretbox.KeyID(r.v)
			switch {
			case sealed && id == to.PrimaryID():
				done.Kept++
				continue
			case sealed && !all:
				continue
			case sealed:
				if plain, err = to.Open(r.v, pl); err != nil {
					return fmt.Errorf("%s: %w", pl, err)
				}
			case c.table == "programs" && strings.HasPrefix(r.v, "v1:"):
				if plain, err = s.openLegacy(r.v); err != nil {
					return fmt.Errorf("%s: %w", pl, err)
				}
			default:
				plain = r.v
			}
			v, err := to.Seal(plain, pl)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+c.table+` SET `+c.column+` = $1 WHERE `+c.idCol+` = $2 AND `+c.column+` = $3`, v, r.id, r.v); err != nil {
				return fmt.Errorf("resealing %s: %w", pl, err)
			}
			done.Resealed++
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	rep.Resealed += done.Resealed
	rep.Kept += done.Kept
	return last, nil
}

// RotateSecrets reseals every secret under to's primary key, opening them
// with to's keys (the new key and the ones in use). It runs in batches,
// each its own transaction, and may be stopped and run again. When it
// returns without error, no value is sealed under another key: the other
// keys are no longer needed (SecretKeyUse says so).
func (s *Store) RotateSecrets(ctx context.Context, to *secretbox.Keyring) (ResealReport, error) {
	return s.reseal(ctx, to, true)
}

// SecretKeyUse counts the stored secrets by the id of the key that sealed
// them ("clear" for values not sealed).
func (s *Store) SecretKeyUse(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, c := range sealedColumns {
		where := c.column + ` <> ''`
		if c.where != "" {
			where += " AND " + c.where
		}
		rows, err := s.r.QueryContext(ctx, `SELECT CASE WHEN `+c.column+` LIKE 'ps1.%' THEN substr(`+c.column+`, 5, 8) ELSE 'clear' END, COUNT(*)
			FROM `+c.table+` WHERE `+where+` GROUP BY 1`)
		if err != nil {
			return nil, fmt.Errorf("counting secrets in %s.%s: %w", c.table, c.column, err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openLegacy opens a fulfilment secret sealed by an earlier version under
// a key derived from the installation secret in the database ("v1:"): the
// start-up sweep reseals it under the secret key.
func (s *Store) openLegacy(sealed string) (string, error) {
	enc, _ := strings.CutPrefix(sealed, "v1:")
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("parrain fulfilment secret v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	if len(b) < gcm.NonceSize() {
		return "", errors.New("sealed secret too short")
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("decrypting a legacy fulfilment secret: %w", err)
	}
	return string(plain), nil
}
