package store

import (
	"context"
	"database/sql"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Two decisions that belong to the referral use cases are still asked for
// by code in this package that cannot call up into them: the maturation of
// rewards (approveDueTx, shared with fulfilment) and a partner deal's
// stage event (partners_leads.go, until it moves to internal/partner).
// internal/referral installs both when its Service is made (referral.New).

// MaturityCheck says whether a due reward must wait (fraud review on new
// evidence) before it is approved. It runs in the maturation transaction.
type MaturityCheck func(ctx context.Context, tx *Tx, rw *parrain.Reward) (wait bool, err error)

// StageIngester processes a normalised event inside the caller's
// transaction, as event ingestion does in its own.
type StageIngester func(ctx context.Context, tx *Tx, prog *parrain.Program, ev *parrain.Event) (parrain.EventResult, error)

// SetMaturityCheck installs the check run before a reward matures.
func (s *Store) SetMaturityCheck(c MaturityCheck) { s.hooks.maturity = c }

// SetStageIngester installs the ingestion of partner deal stage events.
func (s *Store) SetStageIngester(i StageIngester) { s.hooks.stage = i }

type hooks struct {
	maturity MaturityCheck
	stage    StageIngester
}

func (s *Store) maturityCheck(ctx context.Context, tx *sql.Tx, rw *parrain.Reward) (bool, error) {
	if s.hooks.maturity == nil {
		return false, nil
	}
	return s.hooks.maturity(ctx, &Tx{tx: tx, s: s}, rw)
}

// ingest is the bridge partners_leads.go's ingestTx still calls: it hands
// the whole event to the installed StageIngester (which also records it).
type ingest struct {
	s    *Store
	tx   *sql.Tx
	prog *parrain.Program
	ev   *parrain.Event
	res  EventResult
}

func (in *ingest) stage(ctx context.Context) error {
	if in.s.hooks.stage == nil {
		return parrain.Errorf(parrain.CodeInternal, "no event ingestion is installed (referral.New)")
	}
	res, err := in.s.hooks.stage(ctx, &Tx{tx: in.tx, s: in.s}, in.prog, in.ev)
	in.res = res
	return err
}

// afterEvent and record are done by the StageIngester.
func (in *ingest) afterEvent(context.Context) error { return nil }
func (in *ingest) record(context.Context) error     { return nil }

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
