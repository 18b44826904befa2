package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// dbWorld records the engine's decisions in the event's transaction: the
// parrain.World of real ingestion and of dry runs.
type dbWorld struct {
	ctx  context.Context // for parrain.Facts, whose methods take none
	tx   *store.Tx
	prog *parrain.Program
}

func (w *dbWorld) Successes(advocateID, exclude string, from, to time.Time) (int, error) {
	return w.tx.Successes(w.ctx, advocateID, exclude, from, to)
}

func (w *dbWorld) Earned(participantID, referralID string, from, to time.Time) (int64, error) {
	return w.tx.Earned(w.ctx, participantID, referralID, from, to)
}

func (w *dbWorld) Spent(from, to time.Time) (int64, error) {
	return w.tx.Spent(w.ctx, w.prog.ID, from, to)
}

func (w *dbWorld) Rewarded(ruleID, participantID string, from, to time.Time) (bool, error) {
	return w.tx.Rewarded(w.ctx, ruleID, participantID, from, to)
}

func (w *dbWorld) Reach(ctx context.Context, rc *parrain.Referred, stage, eventID string, value *int64, currency string, at time.Time) (bool, time.Time, error) {
	first, err := w.tx.ReachStage(ctx, w.prog.ID, rc.Referral.ID, stage, eventID, value, currency, at)
	if err != nil || first {
		return first, at, err
	}
	t, _, err := w.tx.StageReachedAt(ctx, rc.Referral.ID, stage)
	return false, t, err
}

func (w *dbWorld) ReachedAt(ctx context.Context, refID, stage string) (time.Time, bool, error) {
	return w.tx.StageReachedAt(ctx, refID, stage)
}

func (w *dbWorld) Succeed(ctx context.Context, rc *parrain.Referred, at time.Time) (bool, error) {
	return w.tx.MarkSucceeded(ctx, rc.Referral.ID, at)
}

func (w *dbWorld) SucceededAt(ctx context.Context, refID string) (*time.Time, error) {
	return w.tx.SucceededAt(ctx, refID)
}

func (w *dbWorld) Cancel(ctx context.Context, refID string, at time.Time, void bool) error {
	return w.tx.RecordCancel(ctx, refID, at, void)
}

func (w *dbWorld) Program(ctx context.Context, version int) (parrain.Program, error) {
	if version == w.prog.Version {
		return *w.prog, nil
	}
	return w.tx.ProgramAtVersion(ctx, w.prog.ID, version)
}

func (w *dbWorld) RewardsOf(ctx context.Context, refID string) ([]parrain.Reward, error) {
	return w.tx.ReferralRewardsForUpdate(ctx, refID)
}

func (w *dbWorld) Reverse(ctx context.Context, rw *parrain.Reward, x int64, memo string) (parrain.ReversalResult, error) {
	moves, st := parrain.Reverse(rw, x)
	if len(moves) == 0 {
		return parrain.ReversalResult{}, fmt.Errorf("reward %s (%s) cannot be reversed", rw.ID, rw.Status)
	}
	if err := w.tx.ApplyMoves(ctx, rw, moves, st, rw.Reversed+x, memo); err != nil {
		return parrain.ReversalResult{}, err
	}
	return parrain.ReversalResult{RewardID: rw.ID, Amount: x, Currency: rw.Currency, EntryType: moves[0].Type, Status: st}, nil
}

func (w *dbWorld) Grant(ctx context.Context, rc *parrain.Referred, a parrain.Award, src parrain.GrantSource) (parrain.Reward, error) {
	return w.tx.GrantReward(ctx, w.prog, &rc.Referral, a, src)
}

// countsMatter reports whether a program's rewards depend on history
// (caps, tiers, milestones), so that concurrent events must be serialised.
func countsMatter(p *parrain.Program) bool {
	if c := p.Caps; c != nil && (c.PerReferral > 0 || c.PerParticipant != nil || c.Budget != nil) {
		return true
	}
	for _, r := range p.Rules {
		if r.Trigger == parrain.TriggerMilestone {
			return true
		}
		for _, s := range []*parrain.RewardSpec{r.Advocate, r.Friend} {
			if s != nil && (len(s.Tiers) > 0 || s.HasReferralCondition()) {
				return true
			}
		}
	}
	return false
}
