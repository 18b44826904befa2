package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Consent sources.
const (
	ConsentLanding = "landing" // the /r/{code} landing page checkbox
	ConsentAPI     = "api"     // reported by the customer's backend
)

// Consent is a referred person's answer to the contact consent question:
// granted or not, with the exact wording shown, its version and the time.
type Consent struct {
	ID             string    `json:"id"`
	ProgramID      string    `json:"program_id"`
	ParticipantID  string    `json:"-"`
	ExternalID     string    `json:"external_id,omitempty"`
	Code           string    `json:"code,omitempty"` // the referral code of the landing page
	Granted        bool      `json:"granted"`
	WordingVersion string    `json:"wording_version"`
	Wording        string    `json:"wording"`
	Locale         string    `json:"locale,omitempty"`
	Source         string    `json:"source"`
	IPHash         string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// InsertConsent stores a consent answer (validated by the caller), setting
// its id and time. A landing-page consent has no participant yet: the
// friend's signup links it (consent_id).
func (t *Tx) InsertConsent(ctx context.Context, c *Consent) error {
	c.ID, c.CreatedAt = newID("cns"), t.s.clock.Now()
	_, err := t.tx.ExecContext(ctx, `INSERT INTO consents (id, program_id, participant_id, code, granted, wording_version, wording, locale, source, ip_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.ProgramID, sql.NullString{String: c.ParticipantID, Valid: c.ParticipantID != ""}, c.Code, c.Granted, c.WordingVersion,
		c.Wording, c.Locale, c.Source, c.IPHash, ms(c.CreatedAt))
	if err != nil {
		return fmt.Errorf("inserting consent: %w", err)
	}
	return nil
}

// linkConsentTx attaches a landing-page consent to the friend whose signup
// names it. Unknown ids, other programs' consents and consents already
// linked are ignored: the id comes from the visitor's browser.
func (s *Store) linkConsentTx(ctx context.Context, tx *sql.Tx, programID, consentID, participantID string) error {
	if consentID == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE consents SET participant_id = $1 WHERE id = $2 AND program_id = $3 AND participant_id IS NULL`,
		participantID, consentID, programID)
	if err != nil {
		return fmt.Errorf("linking consent: %w", err)
	}
	return nil
}

// Consents lists a participant's consent answers, newest first.
func (s *Store) Consents(ctx context.Context, participantID string) ([]Consent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.program_id, c.participant_id, p.external_id, c.code, c.granted, c.wording_version, c.wording,
		c.locale, c.source, c.created_at FROM consents c JOIN participants p ON p.id = c.participant_id WHERE c.participant_id = $1 ORDER BY c.id DESC`, participantID)
	if err != nil {
		return nil, fmt.Errorf("listing consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		var created int64
		if err := rows.Scan(&c.ID, &c.ProgramID, &c.ParticipantID, &c.ExternalID, &c.Code, &c.Granted, &c.WordingVersion, &c.Wording,
			&c.Locale, &c.Source, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConsentByID returns a consent by id, linked or not.
func (s *Store) ConsentByID(ctx context.Context, id string) (Consent, error) {
	var c Consent
	var pid sql.NullString
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT id, program_id, participant_id, code, granted, wording_version, wording, locale, source, created_at
		FROM consents WHERE id = $1`, id).Scan(&c.ID, &c.ProgramID, &pid, &c.Code, &c.Granted, &c.WordingVersion, &c.Wording, &c.Locale, &c.Source, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("consent")
	}
	if err != nil {
		return c, fmt.Errorf("loading consent: %w", err)
	}
	c.ParticipantID, c.CreatedAt = pid.String, fromMS(created)
	return c, nil
}

// MarketingPermission says whether a participant may receive marketing
// email: always for advocates who were not referred (their relationship is
// with the customer), and for a referred friend only when their latest
// recorded consent grants it.
func (s *Store) MarketingPermission(ctx context.Context, participantID string) (allowed bool, reason string, err error) {
	var referred int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE friend_id = $1`, participantID).Scan(&referred); err != nil {
		return false, "", fmt.Errorf("checking referral: %w", err)
	}
	if referred == 0 {
		return true, "", nil
	}
	var granted bool
	err = s.r.QueryRowContext(ctx, `SELECT granted FROM consents WHERE participant_id = $1 ORDER BY id DESC LIMIT 1`, participantID).Scan(&granted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "no_consent: a referred person gets no marketing email without recorded consent", nil
	}
	if err != nil {
		return false, "", fmt.Errorf("checking consent: %w", err)
	}
	if !granted {
		return false, "consent_refused: the referred person did not agree to be contacted", nil
	}
	return true, "", nil
}
