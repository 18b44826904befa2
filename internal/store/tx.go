package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Tx is one write transaction. The use-case packages open it with InTx and
// call the repository methods of each aggregate on it, so that a use case's
// reads, writes, audit entry and jobs commit together or not at all.
type Tx struct {
	tx *sql.Tx
	s  *Store
}

// InTx runs fn in one write transaction, committing when fn returns nil and
// rolling back otherwise. Like every store transaction it is run again when
// the database aborts it for a conflict with a concurrent one: fn must have
// no effect outside the transaction but setting its results.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return fn(&Tx{tx: tx, s: s}) })
}

// Now is the store clock's current time, at the precision stored.
func (t *Tx) Now() time.Time { return t.s.clock.Now() }

// Dialect returns "sqlite" or "postgres".
func (t *Tx) Dialect() string { return t.s.d.name }

// RolledBack runs fn in a write transaction that is always rolled back:
// a dry run computes what a use case would do and writes nothing.
func (s *Store) RolledBack(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer s.endTx(tx, false)
	defer tx.Rollback() //nolint:errcheck // always rolled back: a dry run writes nothing
	return fn(&Tx{tx: tx, s: s})
}

// ProgramAtVersion returns the document of one version of a program.
func (t *Tx) ProgramAtVersion(ctx context.Context, programID string, version int) (parrain.Program, error) {
	return t.s.programAtVersion(ctx, t.tx, programID, version)
}

// ProgramAtVersion is Tx.ProgramAtVersion on the read pool.
func (s *Store) ProgramAtVersion(ctx context.Context, programID string, version int) (parrain.Program, error) {
	return s.programAtVersion(ctx, s.r, programID, version)
}

// EnqueueNotify enqueues a notice, once per notice.
func (t *Tx) EnqueueNotify(ctx context.Context, a parrain.NotifyArgs) error {
	return t.s.enqueueNotifyTx(ctx, t.tx, a)
}

// LinkConsent attaches a landing-page consent to a participant (unknown or
// already linked consents are ignored).
func (t *Tx) LinkConsent(ctx context.Context, programID, consentID, participantID string) error {
	return t.s.linkConsentTx(ctx, t.tx, programID, consentID, participantID)
}
