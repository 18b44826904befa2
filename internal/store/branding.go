package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Branding is how a program looks to its advocates and their friends (the
// widget, the landing page and emails use it).
type Branding struct {
	ProgramID    string    `json:"program_id"`
	LogoURL      string    `json:"logo_url"`      // https URL of the logo, or ""
	PrimaryColor string    `json:"primary_color"` // #rrggbb
	AccentColor  string    `json:"accent_color"`  // #rrggbb
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
	UpdatedBy    string    `json:"updated_by,omitempty"`
}

// Default brand colours, used until a program sets its own. Both reach the
// WCAG AA contrast ratio with white text.
const (
	DefaultPrimaryColor = "#1d4ed8"
	DefaultAccentColor  = "#047857"
)

// NormalizeColor validates a #rrggbb colour (also accepting #rgb) and
// returns it in lower-case six-digit form.
func NormalizeColor(field, c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	if len(c) == 4 && c[0] == '#' {
		c = "#" + string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	if len(c) != 7 || c[0] != '#' {
		return "", parrain.Invalid(field, "must be a colour like #1d4ed8")
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return "", parrain.Invalid(field, "must be a colour like #1d4ed8")
		}
	}
	return c, nil
}

// Normalize validates branding as submitted.
func (b *Branding) Normalize() error {
	b.LogoURL = strings.TrimSpace(b.LogoURL)
	if b.LogoURL != "" {
		u, err := url.Parse(b.LogoURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || len(b.LogoURL) > 2000 {
			return parrain.Invalid("logo_url", "must be an https URL (at most 2000 characters)")
		}
		b.LogoURL = u.String()
	}
	var err error
	if b.PrimaryColor, err = NormalizeColor("primary_color", b.PrimaryColor); err != nil {
		return err
	}
	if b.AccentColor, err = NormalizeColor("accent_color", b.AccentColor); err != nil {
		return err
	}
	return nil
}

// ProgramBranding returns a program's branding, or the defaults when it has
// none yet.
func (s *Store) ProgramBranding(ctx context.Context, programID string) (Branding, error) {
	b := Branding{ProgramID: programID}
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT logo_url, primary_color, accent_color, updated_at, updated_by FROM program_branding WHERE program_id = $1`,
		programID).Scan(&b.LogoURL, &b.PrimaryColor, &b.AccentColor, &updated, &b.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.Program(ctx, programID); err != nil {
			return b, err
		}
		b.PrimaryColor, b.AccentColor = DefaultPrimaryColor, DefaultAccentColor
		return b, nil
	}
	if err != nil {
		return b, fmt.Errorf("loading branding: %w", err)
	}
	b.UpdatedAt = fromMS(updated)
	return b, nil
}

// SetProgramBranding stores a program's branding (normalized by the
// caller).
func (t *Tx) SetProgramBranding(ctx context.Context, b Branding) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO program_branding (program_id, logo_url, primary_color, accent_color, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (program_id) DO UPDATE SET logo_url = $2, primary_color = $3, accent_color = $4,
		updated_at = $5, updated_by = $6`, b.ProgramID, b.LogoURL, b.PrimaryColor, b.AccentColor, ms(b.UpdatedAt), b.UpdatedBy)
	if err != nil {
		return fmt.Errorf("storing branding: %w", err)
	}
	return nil
}

// EmailSenderKey is the settings key of the email sender, and the target
// its audit entries name.
const EmailSenderKey = "email.sender"
