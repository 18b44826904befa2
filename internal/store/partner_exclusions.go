package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Exclusions lists a program's excluded accounts.
func (s *Store) Exclusions(ctx context.Context, programID string) ([]parrain.Exclusion, error) {
	return s.exclusionsQ(ctx, s.r, programID)
}

func (s *Store) exclusionsQ(ctx context.Context, q querier, programID string) ([]parrain.Exclusion, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, program_id, kind, domain, company_name, reason, engaged_at, created_at FROM partner_exclusions WHERE program_id = $1 ORDER BY id`, programID)
	if err != nil {
		return nil, fmt.Errorf("loading exclusions: %w", err)
	}
	defer rows.Close()
	out := []parrain.Exclusion{}
	for rows.Next() {
		var e parrain.Exclusion
		var eng sql.NullInt64
		var at int64
		if err := rows.Scan(&e.ID, &e.ProgramID, &e.Kind, &e.Domain, &e.CompanyName, &e.Reason, &eng, &at); err != nil {
			return nil, err
		}
		e.EngagedAt, e.CreatedAt = fromNullMS(eng), fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Exclusions lists a program's excluded accounts, read in the transaction.
func (t *Tx) Exclusions(ctx context.Context, programID string) ([]parrain.Exclusion, error) {
	return t.s.exclusionsQ(ctx, t.tx, programID)
}

// InsertExclusion adds an excluded account (e.ProgramID, e.CreatedAt set)
// and returns it with its id.
func (t *Tx) InsertExclusion(ctx context.Context, e parrain.Exclusion) (parrain.Exclusion, error) {
	e.ID = newID("pex")
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_exclusions (id, program_id, kind, domain, company_name, reason, engaged_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, e.ID, e.ProgramID, e.Kind, e.Domain, e.CompanyName, e.Reason, nullMS(e.EngagedAt), ms(e.CreatedAt))
	return e, err
}

// DeleteExclusion removes an exclusion of a program.
func (t *Tx) DeleteExclusion(ctx context.Context, programID, id string) error {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM partner_exclusions WHERE program_id = $1 AND id = $2`, programID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("exclusion")
	}
	return nil
}
