package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parrainhq/parrain/internal/parrain"
)

const programCols = `id, name, landing_url, currency, cookie_window_days, attribution_model, hold_days, status, rules, version, created_at, updated_at, settings`

type scanner interface{ Scan(...any) error }

func scanProgram(sc scanner) (parrain.Program, error) {
	var p parrain.Program
	var rules, settings string
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.LandingURL, &p.Currency, &p.CookieWindowDays, &p.AttributionModel, &p.HoldDays,
		&p.Status, &rules, &p.Version, &created, &updated, &settings); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(rules), &p.Rules); err != nil {
		return p, fmt.Errorf("decoding rules of program %s: %w", p.ID, err)
	}
	if err := decodeSettings(&p, settings); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// CreateProgram validates and stores a new program.
func (s *Store) CreateProgram(ctx context.Context, p parrain.Program, idem Idem) (parrain.Program, bool, error) {
	if err := p.Normalize(); err != nil {
		return parrain.Program{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Program, error) {
		now := s.clock.Now()
		p.ID, p.Version, p.CreatedAt, p.UpdatedAt = newID("prog"), 1, now, now
		if p.Rules == nil {
			p.Rules = []parrain.RewardRule{}
		}
		rules, err := json.Marshal(p.Rules)
		if err != nil {
			return p, err
		}
		settings, secret, err := encodeSettings(&p)
		if err != nil {
			return p, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO programs (`+programCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			p.ID, p.Name, p.LandingURL, p.Currency, p.CookieWindowDays, p.AttributionModel, p.HoldDays, p.Status, string(rules),
			p.Version, ms(now), ms(now), settings); err != nil {
			return p, fmt.Errorf("inserting program: %w", err)
		}
		if err := s.programSavedTx(ctx, tx, &p, secret); err != nil {
			return p, err
		}
		doc, err := json.Marshal(p)
		if err != nil {
			return p, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO program_versions (program_id, version, document, created_at) VALUES ($1, $2, $3, $4)`,
			p.ID, p.Version, string(doc), ms(now)); err != nil {
			return p, fmt.Errorf("inserting program version: %w", err)
		}
		return p, s.audit(ctx, tx, AuditProgramCreated, "program", p.ID, p.ID,
			map[string]any{"name": p.Name, "version": p.Version, "rules": len(p.Rules)})
	})
}

// SetProgramStatus pauses or resumes a program.
func (s *Store) SetProgramStatus(ctx context.Context, id string, st parrain.ProgramStatus) (parrain.Program, error) {
	if st != parrain.ProgramActive && st != parrain.ProgramPaused {
		return parrain.Program{}, parrain.Invalid("status", "must be active or paused")
	}
	var p parrain.Program
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE programs SET status = $1, updated_at = $2 WHERE id = $3`, st, ms(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("updating program: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("program")
		}
		if p, err = s.programQ(ctx, tx, id, ""); err != nil {
			return err
		}
		action := AuditProgramResumed
		if st == parrain.ProgramPaused {
			action = AuditProgramPaused
		}
		return s.audit(ctx, tx, action, "program", p.ID, p.ID, map[string]any{"name": p.Name})
	})
	return p, err
}

// Program returns a program by id.
func (s *Store) Program(ctx context.Context, id string) (parrain.Program, error) {
	return s.programQ(ctx, s.r, id, "")
}

func (s *Store) programQ(ctx context.Context, q querier, id, lock string) (parrain.Program, error) {
	p, err := scanProgram(q.QueryRowContext(ctx, `SELECT `+programCols+` FROM programs WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("program")
	}
	if err != nil {
		return p, fmt.Errorf("loading program: %w", err)
	}
	return p, nil
}

// Programs lists programs, newest first.
func (s *Store) Programs(ctx context.Context, pg Page) ([]parrain.Program, string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+programCols+` FROM programs WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2`,
		pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing programs: %w", err)
	}
	defer rows.Close()
	var out []parrain.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(p parrain.Program) string { return p.ID })
}

// pageOf trims a limit+1 result to limit and returns the next cursor.
func pageOf[T any](items []T, limit int, id func(T) string) ([]T, string, error) {
	if len(items) > limit {
		items = items[:limit]
		return items, id(items[len(items)-1]), nil
	}
	return items, "", nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Program returns a program, read in the transaction.
func (t *Tx) Program(ctx context.Context, id string) (parrain.Program, error) {
	return t.s.programQ(ctx, t.tx, id, "")
}
