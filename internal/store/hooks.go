package store

import (
	"context"
	"database/sql"

	"github.com/parrainhq/parrain/internal/parrain"
)

// One decision that belongs to the referral use cases is still asked for by
// code in this package that cannot call up into them: whether a due reward
// may mature (approveDueTx, shared with fulfilment). internal/referral
// installs it when its Service is made (referral.New).

// MaturityCheck says whether a due reward must wait (fraud review on new
// evidence) before it is approved. It runs in the maturation transaction.
type MaturityCheck func(ctx context.Context, tx *Tx, rw *parrain.Reward) (wait bool, err error)

// SetMaturityCheck installs the check run before a reward matures.
func (s *Store) SetMaturityCheck(c MaturityCheck) { s.hooks.maturity = c }

type hooks struct {
	maturity MaturityCheck
}

func (s *Store) maturityCheck(ctx context.Context, tx *sql.Tx, rw *parrain.Reward) (bool, error) {
	if s.hooks.maturity == nil {
		return false, nil
	}
	return s.hooks.maturity(ctx, &Tx{tx: tx, s: s}, rw)
}

// The answers of event ingestion, now in the domain; these names remain
// for the code of this package that still builds them.
type (
	// EventResult is parrain.EventResult.
	EventResult = parrain.EventResult
	// ParticipantRef is parrain.ParticipantRef.
	ParticipantRef = parrain.ParticipantRef
	// ReversalResult is parrain.ReversalResult.
	ReversalResult = parrain.ReversalResult
	// FiredTrigger is parrain.FiredTrigger.
	FiredTrigger = parrain.FiredTrigger
)
