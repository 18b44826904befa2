package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

// InsertProgram inserts a new program row (its key and fulfilment secret
// are set apart: SetProgramKey, SetFulfilmentSecret) and returns its id.
func (t *Tx) InsertProgram(ctx context.Context, p parrain.Program) (string, error) {
	rules, settings, err := programColumns(p)
	if err != nil {
		return "", err
	}
	id := newID("prog")
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO programs (`+programCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		id, p.Name, p.LandingURL, p.Currency, p.CookieWindowDays, p.AttributionModel, p.HoldDays, p.Status, rules,
		p.Version, ms(p.CreatedAt), ms(p.UpdatedAt), settings); err != nil {
		return "", fmt.Errorf("inserting program: %w", err)
	}
	t.s.codeChangedTx(t.tx, AllCodes) // unknown codes may land on it now
	return id, nil
}

// UpdateProgram writes a program's document over its row (identity and
// creation time stay).
func (t *Tx) UpdateProgram(ctx context.Context, p parrain.Program) error {
	rules, settings, err := programColumns(p)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE programs SET name = $1, landing_url = $2, currency = $3, cookie_window_days = $4,
		attribution_model = $5, hold_days = $6, status = $7, rules = $8, version = $9, updated_at = $10, settings = $11 WHERE id = $12`,
		p.Name, p.LandingURL, p.Currency, p.CookieWindowDays, p.AttributionModel, p.HoldDays, p.Status, rules, p.Version,
		ms(p.UpdatedAt), settings, p.ID); err != nil {
		return fmt.Errorf("updating program: %w", err)
	}
	t.s.codeChangedTx(t.tx, AllCodes)
	return nil
}

// programColumns encodes a program's rules and settings columns. A
// fulfilment secret is never stored in them: it is sealed in a column of
// its own (SetFulfilmentSecret).
func programColumns(p parrain.Program) (rules, settings string, err error) {
	if p.Fulfilment != nil && p.Fulfilment.Secret != "" {
		return "", "", errors.New("storing program: the fulfilment secret must be taken out of the document")
	}
	r, err := json.Marshal(p.Rules)
	if err != nil {
		return "", "", err
	}
	st, err := json.Marshal(p.ProgramSettings)
	if err != nil {
		return "", "", err
	}
	return string(r), string(st), nil
}

// SetProgramStatus sets a program's status.
func (t *Tx) SetProgramStatus(ctx context.Context, id string, st parrain.ProgramStatus, now time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE programs SET status = $1, updated_at = $2 WHERE id = $3`, st, ms(now), id)
	if err != nil {
		return fmt.Errorf("updating program: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("program")
	}
	t.s.codeChangedTx(t.tx, AllCodes)
	return nil
}

// ProgramForUpdate returns a program, locked until the transaction ends.
func (t *Tx) ProgramForUpdate(ctx context.Context, id string) (parrain.Program, error) {
	return t.s.programQ(ctx, t.tx, id, t.s.d.forUpdate)
}

// ProgramIDByKey returns the id of the program with a key ("" when none).
func (t *Tx) ProgramIDByKey(ctx context.Context, key string) (string, error) {
	var id string
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM programs WHERE program_key = $1`, key).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("finding program by key: %w", err)
	}
	return id, nil
}

// ProgramKeyTaken reports whether a program other than exceptID has key.
func (t *Tx) ProgramKeyTaken(ctx context.Context, key, exceptID string) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM programs WHERE program_key = $1 AND id <> $2`, key, exceptID).Scan(&n); err != nil {
		return false, fmt.Errorf("checking program key: %w", err)
	}
	return n > 0, nil
}

// SetProgramKey stores a program's key ("" for none).
func (t *Tx) SetProgramKey(ctx context.Context, id, key string) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE programs SET program_key = $1 WHERE id = $2`, key, id); err != nil {
		return fmt.Errorf("storing program key: %w", err)
	}
	return nil
}

// SetFulfilmentSecret stores a program's fulfilment secret sealed under
// the secret key (secrets.go); "" clears it.
func (t *Tx) SetFulfilmentSecret(ctx context.Context, id, secret string) error {
	enc, err := t.s.seal(secret, "programs", "fulfilment_secret", id)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE programs SET fulfilment_secret = $1 WHERE id = $2`, enc, id); err != nil {
		return fmt.Errorf("storing fulfilment secret: %w", err)
	}
	return nil
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

// decodeSettings reads the settings column into the program.
func decodeSettings(p *parrain.Program, settings string) error {
	if settings == "" || settings == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(settings), &p.ProgramSettings); err != nil {
		return fmt.Errorf("decoding settings of program %s: %w", p.ID, err)
	}
	return nil
}

// fulfilmentTarget returns a program's fulfilment URL and secret ("" when
// not configured).
func (s *Store) fulfilmentTarget(ctx context.Context, q querier, programID string) (url, secret string, err error) {
	p, err := s.programQ(ctx, q, programID, "")
	if err != nil {
		return "", "", err
	}
	if p.Fulfilment == nil || p.Fulfilment.URL == "" {
		return "", "", nil
	}
	var sealed string
	if err := q.QueryRowContext(ctx, `SELECT fulfilment_secret FROM programs WHERE id = $1`, programID).Scan(&sealed); err != nil {
		return "", "", err
	}
	secret, err = s.open(sealed, "programs", "fulfilment_secret", programID)
	return p.Fulfilment.URL, secret, err
}
