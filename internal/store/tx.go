package store

import (
	"context"
	"database/sql"
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
// rolling back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return fn(&Tx{tx: tx, s: s}) })
}

// Now is the store clock's current time, at the precision stored.
func (t *Tx) Now() time.Time { return t.s.clock.Now() }

// Dialect returns "sqlite" or "postgres".
func (t *Tx) Dialect() string { return t.s.d.name }

// IngestEvent processes an event inside the transaction, exactly as
// IngestEvent does in its own (the partner program's deal stages).
func (t *Tx) IngestEvent(ctx context.Context, prog *parrain.Program, ev *parrain.Event) (EventResult, error) {
	in := ingest{s: t.s, tx: t.tx, prog: prog, ev: ev, res: EventResult{EventID: newID("evt"), Type: ev.Type, Rewards: []parrain.Reward{}}}
	if err := in.stage(ctx); err != nil {
		return EventResult{}, err
	}
	if err := in.afterEvent(ctx); err != nil {
		return EventResult{}, err
	}
	return in.res, in.record(ctx)
}
