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
	ProgramID string `json:"program_id"`
	Secret    string `json:"secret,omitempty"`
	// SecretNotice says why Secret is empty in a replay: a secret is shown
	// once, to the request that created it.
	SecretNotice string    `json:"secret_notice,omitempty"`
	Version      int       `json:"version"`
	RotatedAt    time.Time `json:"rotated_at"`
	// PreviousValidUntil is when the secret this one replaced stops being
	// accepted (tokens are short-lived; the overlap lets live widgets
	// finish).
	PreviousValidUntil *time.Time `json:"previous_valid_until,omitempty"`
}

// SecretGrace is how long a replaced widget secret keeps verifying tokens.
const SecretGrace = time.Hour

// RotateWidgetSecret creates the program's widget secret, or replaces it
// (the old one stays valid for SecretGrace), and returns it with the new
// secret in clear, for the caller to show once. Each column's value is
// sealed for that column: the current secret is opened and sealed again as
// the previous one. The caller has locked the program
// (Tx.ProgramForUpdate).
func (t *Tx) RotateWidgetSecret(ctx context.Context, programID string) (WidgetSecret, error) {
	s := t.s
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return WidgetSecret{}, fmt.Errorf("generating secret: %w", err)
	}
	secret := "pws_" + hex.EncodeToString(b)
	now := s.clock.Now()
	def, _ := json.Marshal(parrain.Experience{})
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO program_experience (program_id, settings, updated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		programID, string(def), ms(now)); err != nil {
		return WidgetSecret{}, fmt.Errorf("creating experience row: %w", err)
	}
	var cur string
	if err := t.tx.QueryRowContext(ctx, `SELECT widget_secret FROM program_experience WHERE program_id = $1`, programID).Scan(&cur); err != nil {
		return WidgetSecret{}, fmt.Errorf("reading widget secret: %w", err)
	}
	plain, err := s.open(cur, "program_experience", "widget_secret", programID)
	if err != nil {
		return WidgetSecret{}, err
	}
	prev, err := s.seal(plain, "program_experience", "previous_secret", programID)
	if err != nil {
		return WidgetSecret{}, err
	}
	next, err := s.seal(secret, "program_experience", "widget_secret", programID)
	if err != nil {
		return WidgetSecret{}, err
	}
	w := WidgetSecret{ProgramID: programID, RotatedAt: now}
	var prevUntil int64
	if cur != "" {
		prevUntil = ms(now.Add(SecretGrace))
		until := fromMS(prevUntil)
		w.PreviousValidUntil = &until
	}
	if err := t.tx.QueryRowContext(ctx, `UPDATE program_experience SET
			previous_secret = $1, previous_until = $2, widget_secret = $3, secret_version = secret_version + 1, rotated_at = $4
		WHERE program_id = $5 RETURNING secret_version`,
		prev, prevUntil, next, ms(now), programID).Scan(&w.Version); err != nil {
		return WidgetSecret{}, fmt.Errorf("rotating widget secret: %w", err)
	}
	w.Secret = secret
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
	if current, err = s.open(current, "program_experience", "widget_secret", programID); err != nil {
		return "", "", err
	}
	if previous, err = s.open(previous, "program_experience", "previous_secret", programID); err != nil {
		return "", "", err
	}
	return current, previous, nil
}

// Experience returns a program's experience settings, with defaults when
// they were never set.
func (t *Tx) Experience(ctx context.Context, programID string) (parrain.Experience, error) {
	return t.s.experienceQ(ctx, t.tx, programID)
}
