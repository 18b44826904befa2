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

// PartnerProgram is a program's partner settings and tiers.
type PartnerProgram struct {
	parrain.PartnerSettings
	Tiers    []parrain.Tier `json:"tiers"`
	Currency string         `json:"currency"`
	Name     string         `json:"name"`
}

// Tier returns the tier with key k.
func (pp *PartnerProgram) Tier(k string) (parrain.Tier, bool) {
	for _, t := range pp.Tiers {
		if t.Key == k {
			return t, true
		}
	}
	return parrain.Tier{}, false
}

// TierRank returns the rank of tier k (-1 when unknown).
func (pp *PartnerProgram) TierRank(k string) int {
	if t, ok := pp.Tier(k); ok {
		return t.Rank
	}
	return -1
}

func (s *Store) partnerProgramQ(ctx context.Context, q querier, where string, arg any) (PartnerProgram, error) {
	var pp PartnerProgram
	var sj, tj string
	var created, updated int64
	err := q.QueryRowContext(ctx, `SELECT pp.settings, pp.tiers, pp.created_at, pp.updated_at, p.currency, p.name
		FROM partner_programs pp JOIN programs p ON p.id = pp.program_id WHERE `+where, arg).Scan(&sj, &tj, &created, &updated, &pp.Currency, &pp.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return pp, notFound("partner program")
	}
	if err != nil {
		return pp, fmt.Errorf("loading partner program: %w", err)
	}
	if err := json.Unmarshal([]byte(sj), &pp.PartnerSettings); err != nil {
		return pp, fmt.Errorf("decoding partner settings: %w", err)
	}
	if err := json.Unmarshal([]byte(tj), &pp.Tiers); err != nil {
		return pp, fmt.Errorf("decoding partner tiers: %w", err)
	}
	pp.CreatedAt, pp.UpdatedAt = fromMS(created), fromMS(updated)
	return pp, nil
}

// PartnerProgram returns a program's partner settings and tiers.
func (s *Store) PartnerProgram(ctx context.Context, programID string) (PartnerProgram, error) {
	return s.partnerProgramQ(ctx, s.r, "pp.program_id = $1", programID)
}

// PartnerProgramBySlug returns the partner program named by a portal slug.
func (s *Store) PartnerProgramBySlug(ctx context.Context, slug string) (PartnerProgram, error) {
	return s.partnerProgramQ(ctx, s.r, "pp.slug = $1", strings.ToLower(slug))
}

// PartnerPrograms lists every partner program (for the portal's index and
// the scheduled jobs).
func (s *Store) PartnerPrograms(ctx context.Context) ([]PartnerProgram, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT program_id FROM partner_programs ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []PartnerProgram
	for _, id := range ids {
		pp, err := s.PartnerProgram(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, pp)
	}
	return out, nil
}

// PartnerProgram returns a program's partner settings and tiers, read in
// the transaction.
func (t *Tx) PartnerProgram(ctx context.Context, programID string) (PartnerProgram, error) {
	return t.s.partnerProgramQ(ctx, t.tx, "pp.program_id = $1", programID)
}

// PartnerSlugOwner returns the program other than programID whose partner
// program uses slug, or "" when none does.
func (t *Tx) PartnerSlugOwner(ctx context.Context, slug, programID string) (string, error) {
	var other string
	err := t.tx.QueryRowContext(ctx, `SELECT program_id FROM partner_programs WHERE slug = $1 AND program_id <> $2`, slug, programID).Scan(&other)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return other, err
}

// SavePartnerProgram creates or replaces the partner settings and tiers of
// set.ProgramID.
func (t *Tx) SavePartnerProgram(ctx context.Context, set parrain.PartnerSettings, tiers []parrain.Tier, now time.Time) error {
	set.CreatedAt, set.UpdatedAt = time.Time{}, time.Time{}
	sb, _ := json.Marshal(set)
	tb, _ := json.Marshal(tiers)
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO partner_programs (program_id, slug, settings, tiers, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (program_id) DO UPDATE SET slug = excluded.slug, settings = excluded.settings, tiers = excluded.tiers, updated_at = excluded.updated_at`,
		set.ProgramID, set.Slug, string(sb), string(tb), ms(now)); err != nil {
		return fmt.Errorf("saving partner program: %w", err)
	}
	return nil
}
