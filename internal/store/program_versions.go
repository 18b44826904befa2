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

// ProgramVersion is one stored version of a program's document.
type ProgramVersion struct {
	Version   int             `json:"version"`
	Program   parrain.Program `json:"program"`
	CreatedAt time.Time       `json:"created_at"`
}

// ProgramVersions lists a program's versions, newest first.
func (s *Store) ProgramVersions(ctx context.Context, programID string) ([]ProgramVersion, error) {
	if _, err := s.Program(ctx, programID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT version, document, created_at FROM program_versions WHERE program_id = $1 ORDER BY version DESC`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing program versions: %w", err)
	}
	defer rows.Close()
	out := []ProgramVersion{}
	for rows.Next() {
		var v ProgramVersion
		var doc string
		var created int64
		if err := rows.Scan(&v.Version, &doc, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &v.Program); err != nil {
			return nil, fmt.Errorf("decoding program version %d: %w", v.Version, err)
		}
		v.CreatedAt = fromMS(created)
		out = append(out, v)
	}
	return out, rows.Err()
}

// programAtVersion returns the program document of a version.
func (s *Store) programAtVersion(ctx context.Context, q querier, programID string, version int) (parrain.Program, error) {
	var doc string
	err := q.QueryRowContext(ctx, `SELECT document FROM program_versions WHERE program_id = $1 AND version = $2`, programID, version).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return parrain.Program{}, notFound("program version")
	}
	if err != nil {
		return parrain.Program{}, fmt.Errorf("loading program version: %w", err)
	}
	var p parrain.Program
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("decoding program version %d: %w", version, err)
	}
	return p, nil
}

// InsertProgramVersion records the document of a program's version (its
// fulfilment secret already taken out), made at at.
func (t *Tx) InsertProgramVersion(ctx context.Context, p parrain.Program, at time.Time) error {
	if p.Fulfilment != nil && p.Fulfilment.Secret != "" {
		return errors.New("recording program version: the fulfilment secret must be taken out of the document")
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO program_versions (program_id, version, document, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Version, string(doc), ms(at)); err != nil {
		return fmt.Errorf("inserting program version: %w", err)
	}
	return nil
}
