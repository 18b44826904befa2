package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// EmailSender is who emails to advocates and friends come from. The SMTP
// server itself is boot configuration; the sender is a business setting.
type EmailSender struct {
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	ReplyTo   string    `json:"reply_to,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Normalize validates a sender: a display name without line breaks (no
// header injection) and valid addresses.
func (e *EmailSender) Normalize() error {
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return parrain.Invalid("name", "is required (shown as the sender's name)")
	}
	if len(e.Name) > 100 || strings.ContainsAny(e.Name, "\r\n\"<>") {
		return parrain.Invalid("name", "must be at most 100 characters, without line breaks, quotes or angle brackets")
	}
	var err error
	if e.Address, err = parrain.NormalizeEmailField("address", e.Address); err != nil {
		return err
	}
	if e.Address == "" {
		return parrain.Invalid("address", "is required")
	}
	if e.ReplyTo, err = parrain.NormalizeEmailField("reply_to", e.ReplyTo); err != nil {
		return err
	}
	return nil
}

// GetEmailSender returns the configured sender; ok is false when none is
// set yet.
func (s *Store) GetEmailSender(ctx context.Context) (e EmailSender, ok bool, err error) {
	var v string
	err = s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, EmailSenderKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("loading email sender: %w", err)
	}
	if err := json.Unmarshal([]byte(v), &e); err != nil {
		return e, false, fmt.Errorf("decoding email sender: %w", err)
	}
	return e, true, nil
}

// SetEmailSender stores the sender (normalized by the caller).
func (t *Tx) SetEmailSender(ctx context.Context, e EmailSender) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
		EmailSenderKey, string(b)); err != nil {
		return fmt.Errorf("storing email sender: %w", err)
	}
	return nil
}
