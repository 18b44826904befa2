package store

import (
	"context"
	"database/sql"
	"time"
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
