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

// ProgramDocument is a program as code: everything that configures it,
// without identity, counters or secrets, so it can live in git and be
// applied to several installations (matched by key).
type ProgramDocument struct {
	Format string `json:"format"`
	// Version is informational: the version the document was exported from.
	Version int             `json:"version,omitempty"`
	Program parrain.Program `json:"program"`
}

// ExportProgram returns a program as a document.
func (s *Store) ExportProgram(ctx context.Context, programID string) (ProgramDocument, error) {
	p, err := s.Program(ctx, programID)
	if err != nil {
		return ProgramDocument{}, err
	}
	v := p.Version
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "", 0, time.Time{}, time.Time{}
	if p.Fulfilment != nil {
		f := *p.Fulfilment
		f.Secret, f.SecretSet = "", false
		p.Fulfilment = &f
	}
	return ProgramDocument{Format: ProgramDocumentFormat, Version: v, Program: p}, nil
}

// ApplyResult says what applying a program document did.
type ApplyResult struct {
	Program parrain.Program `json:"program"`
	// Action is created, updated or unchanged.
	Action string `json:"action"`
}

// ApplyProgram creates or updates a program from a document: the program
// with the document's key when there is one (or programID when given),
// a new program otherwise. Applying the same document twice changes
// nothing the second time.
func (s *Store) ApplyProgram(ctx context.Context, doc ProgramDocument, programID string) (ApplyResult, error) {
	if doc.Format != ProgramDocumentFormat {
		return ApplyResult{}, parrain.Invalid("format", "must be %q", ProgramDocumentFormat)
	}
	p := doc.Program
	if p.ID != "" {
		return ApplyResult{}, parrain.Invalid("program.id", "a program document carries no id: it is matched by key (or --program)")
	}
	p.Version = 0
	if err := p.Normalize(); err != nil {
		if e := parrain.AsError(err); e != nil && e.Field != "" {
			e.Field = "program." + e.Field
		}
		return ApplyResult{}, err
	}
	var res ApplyResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res = ApplyResult{} // a retried attempt starts afresh
		id := programID
		if id == "" && p.Key != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM programs WHERE program_key = $1`, p.Key).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if id == "" {
			return nil
		}
		cur, err := s.programQ(ctx, tx, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		out, err := s.replaceProgramTx(ctx, tx, cur, p)
		if err != nil {
			return err
		}
		res = ApplyResult{Program: out, Action: "updated"}
		if out.Version == cur.Version {
			res.Action = "unchanged"
		}
		return nil
	})
	if err != nil || res.Action != "" {
		return res, err
	}
	created, _, err := s.CreateProgram(ctx, p, Idem{})
	return ApplyResult{Program: created, Action: "created"}, err
}
