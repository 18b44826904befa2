package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Extension is a partner's request to extend a registration's exclusivity.
type Extension struct {
	ID        string     `json:"id"`
	LeadID    string     `json:"lead_id"`
	PartnerID string     `json:"partner_id"`
	Company   string     `json:"company_name,omitempty"`
	Days      int        `json:"days"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"` // pending, granted, refused
	DecidedBy string     `json:"decided_by,omitempty"`
	Decision  string     `json:"decision,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

const extensionCols = `e.id, e.lead_id, e.partner_id, l.company_name, e.days, e.reason, e.status, e.decided_by, e.decision, e.created_at, e.decided_at
	FROM partner_extensions e JOIN partner_leads l ON l.id = e.lead_id`

func scanExtension(sc scanner) (Extension, error) {
	var e Extension
	var at int64
	var dec sql.NullInt64
	err := sc.Scan(&e.ID, &e.LeadID, &e.PartnerID, &e.Company, &e.Days, &e.Reason, &e.Status, &e.DecidedBy, &e.Decision, &at, &dec)
	e.CreatedAt, e.DecidedAt = fromMS(at), fromNullMS(dec)
	return e, err
}

// Extensions lists a program's extension requests (status "" for all),
// newest first, optionally for one partner.
func (s *Store) Extensions(ctx context.Context, programID, partnerID, status string) ([]Extension, error) {
	args := []any{programID}
	q := `SELECT ` + extensionCols + ` WHERE e.program_id = $1`
	if partnerID != "" {
		args = append(args, partnerID)
		q += fmt.Sprintf(" AND e.partner_id = $%d", len(args))
	}
	if status != "" {
		args = append(args, status)
		q += fmt.Sprintf(" AND e.status = $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY e.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Extension{}
	for rows.Next() {
		e, err := scanExtension(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Extension returns an extension request, read in the transaction.
func (t *Tx) Extension(ctx context.Context, id string) (Extension, error) {
	return scanExtension(t.tx.QueryRowContext(ctx, `SELECT `+extensionCols+` WHERE e.id = $1`, id))
}

// LockExtension returns a program's extension request, locked until the
// transaction ends.
func (t *Tx) LockExtension(ctx context.Context, programID, id string) (Extension, error) {
	var e Extension
	err := t.tx.QueryRowContext(ctx, `SELECT id, lead_id, partner_id, status, days FROM partner_extensions WHERE program_id = $1 AND id = $2`+t.s.d.forUpdate,
		programID, id).Scan(&e.ID, &e.LeadID, &e.PartnerID, &e.Status, &e.Days)
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("extension request")
	}
	return e, err
}

// PendingExtensions counts a lead's pending extension requests.
func (t *Tx) PendingExtensions(ctx context.Context, leadID string) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_extensions WHERE lead_id = $1 AND status = 'pending'`, leadID).Scan(&n)
	return n, err
}

// InsertExtension records a pending extension request; it sets e.ID.
func (t *Tx) InsertExtension(ctx context.Context, programID string, e *Extension) error {
	e.ID = newID("pext")
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_extensions (id, program_id, lead_id, partner_id, days, reason, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)`,
		e.ID, programID, e.LeadID, e.PartnerID, e.Days, e.Reason, ms(e.CreatedAt))
	return err
}

// DecideExtension records the outcome of an extension request.
func (t *Tx) DecideExtension(ctx context.Context, id, status, decidedBy, decision string, now time.Time) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE partner_extensions SET status = $1, decided_by = $2, decision = $3, decided_at = $4 WHERE id = $5`,
		status, decidedBy, decision, ms(now), id)
	return err
}
