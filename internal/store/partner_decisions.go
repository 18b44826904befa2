package store

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// PartnerDecision is one entry of the conflict decisions log.
type PartnerDecision struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	PartnerID   string    `json:"partner_id,omitempty"`
	LeadID      string    `json:"lead_id,omitempty"`
	Domain      string    `json:"domain,omitempty"`
	CompanyName string    `json:"company_name,omitempty"`
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	Explanation string    `json:"explanation"`
	Actor       string    `json:"actor,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// PartnerDecisions lists the decisions log, newest first, optionally for
// one partner or one domain.
func (s *Store) PartnerDecisions(ctx context.Context, programID, partnerID, domain string, pg Page) ([]PartnerDecision, string, error) {
	args := []any{programID, pg.limit() + 1}
	q := `SELECT id, kind, partner_id, lead_id, domain, company_name, outcome, reason, explanation, actor, created_at FROM partner_decisions WHERE program_id = $1`
	if partnerID != "" {
		args = append(args, partnerID)
		q += fmt.Sprintf(" AND partner_id = $%d", len(args))
	}
	if domain != "" {
		args = append(args, parrain.AccountDomain(domain))
		q += fmt.Sprintf(" AND domain = $%d", len(args))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		q += fmt.Sprintf(" AND id < $%d", len(args))
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing decisions: %w", err)
	}
	defer rows.Close()
	out := []PartnerDecision{}
	for rows.Next() {
		var d PartnerDecision
		var at int64
		if err := rows.Scan(&d.ID, &d.Kind, &d.PartnerID, &d.LeadID, &d.Domain, &d.CompanyName, &d.Outcome, &d.Reason, &d.Explanation, &d.Actor, &at); err != nil {
			return nil, "", err
		}
		d.CreatedAt = fromMS(at)
		out = append(out, d)
	}
	next := ""
	if len(out) > pg.limit() {
		out = out[:pg.limit()]
		next = out[len(out)-1].ID
	}
	return out, next, rows.Err()
}

// RecordPartnerDecision appends d (its Kind, PartnerID, LeadID, Domain,
// CompanyName, Outcome, Reason, Explanation, Actor and CreatedAt) to the
// decisions log and returns its id.
func (t *Tx) RecordPartnerDecision(ctx context.Context, programID string, d PartnerDecision) (string, error) {
	id := newID("pdc")
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_decisions (id, program_id, kind, partner_id, lead_id, domain, company_name, outcome, reason, explanation, actor, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, id, programID, d.Kind, d.PartnerID, d.LeadID, d.Domain, d.CompanyName, d.Outcome, d.Reason,
		d.Explanation, d.Actor, ms(d.CreatedAt))
	if err != nil {
		return "", fmt.Errorf("recording decision: %w", err)
	}
	return id, nil
}
