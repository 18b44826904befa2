package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Experience returns a program's experience settings, with defaults when
// they were never set.
func (s *Store) Experience(ctx context.Context, programID string) (parrain.Experience, error) {
	return s.experienceQ(ctx, s.r, programID)
}

func (s *Store) experienceQ(ctx context.Context, q querier, programID string) (parrain.Experience, error) {
	var x parrain.Experience
	var doc string
	err := q.QueryRowContext(ctx, `SELECT settings FROM program_experience WHERE program_id = $1`, programID).Scan(&doc)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := s.programQ(ctx, q, programID, ""); err != nil {
			return x, err
		}
	case err != nil:
		return x, fmt.Errorf("loading experience settings: %w", err)
	default:
		if err := json.Unmarshal([]byte(doc), &x); err != nil {
			return x, fmt.Errorf("decoding experience settings of %s: %w", programID, err)
		}
	}
	if err := x.Normalize(); err != nil {
		return x, fmt.Errorf("stored experience settings of %s: %w", programID, err)
	}
	return x, nil
}

// SetExperience stores a program's experience settings (validated by the
// caller), replacing the previous ones.
func (t *Tx) SetExperience(ctx context.Context, programID string, x parrain.Experience) error {
	doc, err := json.Marshal(x)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO program_experience (program_id, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (program_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		programID, string(doc), ms(t.s.clock.Now()))
	if err != nil {
		return fmt.Errorf("storing experience settings: %w", err)
	}
	t.s.codeChangedTx(t.tx, AllCodes) // the landing page may be on or off now
	return nil
}

// WidgetSecret is a program's widget signing secret, as returned once by
// RotateWidgetSecret.
type WidgetSecret struct {
	ProgramID string    `json:"program_id"`
	Secret    string    `json:"secret,omitempty"`
	Version   int       `json:"version"`
	RotatedAt time.Time `json:"rotated_at"`
	// PreviousValidUntil is when the secret this one replaced stops being
	// accepted (tokens are short-lived; the overlap lets live widgets
	// finish).
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
}

// SecretGrace is how long a replaced widget secret keeps verifying tokens.
const SecretGrace = time.Hour

// RotateWidgetSecret creates the program's widget secret, or replaces it
// (the old one stays valid for SecretGrace), and returns the new secret's
// version. The caller has locked the program (Tx.ProgramForUpdate).
func (t *Tx) RotateWidgetSecret(ctx context.Context, programID string) (int, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return 0, fmt.Errorf("generating secret: %w", err)
	}
	secret := "pws_" + hex.EncodeToString(b)
	now := t.s.clock.Now()
	def, _ := json.Marshal(parrain.Experience{})
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO program_experience (program_id, settings, updated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		programID, string(def), ms(now)); err != nil {
		return 0, fmt.Errorf("creating experience row: %w", err)
	}
	var version int
	if err := t.tx.QueryRowContext(ctx, `UPDATE program_experience SET
			previous_secret = widget_secret,
			previous_until = CASE WHEN widget_secret = '' THEN 0 ELSE CAST($1 AS BIGINT) END,
			widget_secret = $2, secret_version = secret_version + 1, rotated_at = $3
		WHERE program_id = $4 RETURNING secret_version`,
		ms(now.Add(SecretGrace)), secret, ms(now), programID).Scan(&version); err != nil {
		return 0, fmt.Errorf("rotating widget secret: %w", err)
	}
	return version, nil
}

// CurrentWidgetSecret returns the program's current widget secret with its
// version, read from the write pool so that a rotation just committed is
// seen.
func (s *Store) CurrentWidgetSecret(ctx context.Context, programID string) (WidgetSecret, error) {
	var w WidgetSecret
	var rot sql.NullInt64
	var prevUntil int64
	err := s.w.QueryRowContext(ctx, `SELECT widget_secret, secret_version, rotated_at, previous_until FROM program_experience WHERE program_id = $1`,
		programID).Scan(&w.Secret, &w.Version, &rot, &prevUntil)
	if err != nil {
		return w, fmt.Errorf("reading widget secret: %w", err)
	}
	w.ProgramID = programID
	if rot.Valid {
		w.RotatedAt = fromMS(rot.Int64)
	}
	if prevUntil > 0 {
		t := fromMS(prevUntil)
		w.PreviousValidUntil = &t
	}
	return w, nil
}

// WidgetSecrets returns the program's current widget secret and, during
// the grace period after a rotation, the previous one ("" otherwise). Both
// are "" before the first rotation.
func (s *Store) WidgetSecrets(ctx context.Context, programID string) (current, previous string, err error) {
	var prevUntil int64
	err = s.r.QueryRowContext(ctx, `SELECT widget_secret, previous_secret, previous_until FROM program_experience WHERE program_id = $1`,
		programID).Scan(&current, &previous, &prevUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("loading widget secret: %w", err)
	}
	if prevUntil <= ms(s.clock.Now()) {
		previous = ""
	}
	return current, previous, nil
}

// Experience returns a program's experience settings, with defaults when
// they were never set.
func (t *Tx) Experience(ctx context.Context, programID string) (parrain.Experience, error) {
	return t.s.experienceQ(ctx, t.tx, programID)
}
