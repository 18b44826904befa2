package referral

import (
	"context"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/metrics"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Service runs the referral loop's use cases on a store.
type Service struct {
	st *store.Store
	// clicksWritten, when set, waits until the clicks recorded so far are
	// in the database (SetClickSync).
	clicksWritten func(context.Context) error
}

// freshClick is how young the cookie's newest click must be for an event
// to wait for the click writer: clicks are written in batches (every
// 200 ms), and a signup that follows its click that closely would
// otherwise be scored without it.
const freshClick = 3 * time.Second

// clickSyncLimit bounds that wait; past it the event is scored with what
// is written.
const clickSyncLimit = 2 * time.Second

// SetClickSync gives the service the click writer's barrier. A signup or
// purchase whose cookie holds a click younger than freshClick waits for
// it before its transaction, so the click's evidence (bot client, coupon
// referer, ad click id, the code's click flood) is scored: scripts sign up
// within milliseconds of their click, people take longer.
func (s *Service) SetClickSync(sync func(context.Context) error) { s.clicksWritten = sync }

// waitForClicks runs the click barrier when the event's cookie holds a
// fresh click; a failed or slow barrier only leaves the click unseen.
func (s *Service) waitForClicks(ctx context.Context, ev *parrain.Event) {
	if s.clicksWritten == nil || (ev.Type != parrain.EventSignup && ev.Type != parrain.EventPurchase) {
		return
	}
	now := s.st.Clock().Now()
	for _, t := range ev.Touches {
		if d := now.Sub(t.At); d > -freshClick && d < freshClick {
			ctx, cancel := context.WithTimeout(ctx, clickSyncLimit)
			defer cancel()
			_ = s.clicksWritten(ctx)
			return
		}
	}
}

// New returns the service and hands the store the decision its own code
// still asks for: the fraud check before a reward matures
// (store.SetMaturityCheck).
func New(st *store.Store) *Service {
	s := &Service{st: st}
	st.SetMaturityCheck(beforeMaturity)
	return s
}

// IngestEvent records an event and applies its consequences (attribution,
// referral, rewards, reversals) in one transaction with its idempotency
// record. The bool is true when the answer is a replay.
func (s *Service) IngestEvent(ctx context.Context, programID string, ev parrain.Event, idem store.Idem) (parrain.EventResult, bool, error) {
	if err := ev.Normalize(s.st.Clock().Now()); err != nil {
		countEvent(ev.Type, parrain.EventResult{}, false, err)
		return parrain.EventResult{}, false, err
	}
	s.waitForClicks(ctx, &ev)
	// Group-committed: concurrent events share one durable commit, each in
	// its own savepoint, each answered once it is committed.
	res, replayed, err := store.IdempotentGrouped(ctx, s.st, idem, func(tx *store.Tx) (parrain.EventResult, error) {
		prog, err := tx.Program(ctx, programID)
		if err != nil {
			return parrain.EventResult{}, err
		}
		e := ev // a fresh copy per attempt: the transaction may be retried
		return ingestTx(ctx, tx, &prog, &e)
	})
	countEvent(ev.Type, res, replayed, err)
	return res, replayed, err
}

// countEvent counts an ingested event by type and outcome, and the rewards
// it created, once its transaction is over (a retried transaction counts
// once; a rolled-back one creates no reward).
func countEvent(t parrain.EventType, res parrain.EventResult, replayed bool, err error) {
	label := string(t)
	outcome := "accepted"
	switch {
	case err != nil && parrain.ErrorCode(err) == parrain.CodeInternal:
		outcome = "error"
	case err != nil:
		outcome = "invalid"
		if e := parrain.AsError(err); e != nil && e.Field == "type" {
			label = "unknown" // keep the label set closed
		}
	case replayed:
		outcome = "replayed"
	case res.Duplicate:
		outcome = "duplicate"
	}
	metrics.EventsIngested.WithLabelValues(label, outcome).Inc()
	if err != nil || replayed {
		return
	}
	for _, r := range res.Rewards {
		metrics.RewardsCreated.WithLabelValues(string(r.Status)).Inc()
	}
}

// IngestTx processes a normalised event inside the caller's transaction,
// exactly as IngestEvent does in its own.
func (s *Service) IngestTx(ctx context.Context, tx *store.Tx, prog *parrain.Program, ev *parrain.Event) (parrain.EventResult, error) {
	return ingestTx(ctx, tx, prog, ev)
}

func ingestTx(ctx context.Context, tx *store.Tx, prog *parrain.Program, ev *parrain.Event) (parrain.EventResult, error) {
	in := newIngest(tx, prog, ev)
	if err := in.run(ctx); err != nil {
		return parrain.EventResult{}, err
	}
	return in.res, in.record(ctx)
}

// DryRunResult is what an event would do under the program's current (or
// proposed) rules. Ids in it are hypothetical: nothing was stored.
type DryRunResult struct {
	parrain.EventResult
	DryRun      bool `json:"dry_run"`
	RuleVersion int  `json:"rule_version"`
}

// DryRun processes an event exactly as IngestEvent would — the same
// dispatch and consequences: attribution, referral, rewards, reversals,
// moment triggers — in a transaction that is rolled back, and returns what
// it would have done. With proposed rules (a full program document), they
// are evaluated instead of the current ones.
func (s *Service) DryRun(ctx context.Context, programID string, ev parrain.Event, proposed *parrain.Program) (DryRunResult, error) {
	if err := ev.Normalize(s.st.Clock().Now()); err != nil {
		return DryRunResult{}, err
	}
	var out DryRunResult
	err := s.st.RolledBack(ctx, func(tx *store.Tx) error {
		prog, err := tx.Program(ctx, programID)
		if err != nil {
			return err
		}
		if proposed != nil {
			if prog, err = proposedProgram(prog, *proposed); err != nil {
				return err
			}
		}
		in := newIngest(tx, &prog, &ev)
		if err := in.run(ctx); err != nil {
			return err
		}
		out = DryRunResult{EventResult: in.res, DryRun: true, RuleVersion: prog.Version}
		return nil
	})
	return out, err
}

// proposedProgram validates proposed rules for a program: a full document,
// evaluated as the program's next version.
func proposedProgram(cur, p parrain.Program) (parrain.Program, error) {
	p.ID, p.Version = "", 0
	if err := p.Normalize(); err != nil {
		if e := parrain.AsError(err); e != nil && e.Field != "" {
			e.Field = "program." + e.Field
		}
		return p, err
	}
	if p.Currency != cur.Currency {
		return p, parrain.Invalid("program.currency", "must stay %s: past rewards are in it", cur.Currency)
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = cur.ID, cur.Version+1, cur.CreatedAt, cur.UpdatedAt
	return p, nil
}

// ReviewDecision is a manager's decision on a reward queued for review.
type ReviewDecision struct {
	Decision string `json:"decision"` // approve or reject
	Reason   string `json:"reason,omitempty"`
}

// ReviewReward decides on a reward queued for manual approval because it
// exceeded a cap. Approving lifts the cap for this reward: it then matures
// like any other when its hold ends. Rejecting reverses it. Only a reward
// waiting for review can be decided (conflict otherwise).
func (s *Service) ReviewReward(ctx context.Context, programID, id string, d ReviewDecision, idem store.Idem) (parrain.Reward, bool, error) {
	d.Reason = strings.TrimSpace(d.Reason)
	switch d.Decision {
	case "approve", "reject":
	case "":
		return parrain.Reward{}, false, parrain.Invalid("decision", "is required: approve or reject")
	default:
		return parrain.Reward{}, false, parrain.Invalid("decision", "must be approve or reject")
	}
	if d.Decision == "reject" && d.Reason == "" {
		return parrain.Reward{}, false, parrain.Invalid("reason", "say why the reward is rejected")
	}
	if len(d.Reason) > 500 {
		return parrain.Reward{}, false, parrain.Invalid("reason", "must be at most 500 characters")
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Reward, error) {
		rw, review, err := tx.RewardForUpdate(ctx, programID, id)
		if err != nil {
			return parrain.Reward{}, err
		}
		if review != store.ReviewWaiting || rw.Status != parrain.RewardPending {
			return rw, parrain.Errorf(parrain.CodeConflict, "reward %s is not waiting for review (it is %s)", rw.ID, rw.Status)
		}
		action := store.AuditRewardApproved
		if d.Decision == "approve" {
			if err := tx.ApproveRewardReview(ctx, &rw); err != nil {
				return rw, err
			}
		} else {
			action = store.AuditRewardRejected
			x := rw.Outstanding()
			moves, st := parrain.Reverse(&rw, x)
			if err := tx.ApplyMoves(ctx, &rw, moves, st, rw.Reversed+x, "rejected in review: "+d.Reason); err != nil {
				return rw, err
			}
			if err := tx.SetRewardReview(ctx, rw.ID, store.ReviewRejected); err != nil {
				return rw, err
			}
		}
		if err := tx.Audit(ctx, store.ContextActor(ctx), action, "reward", rw.ID, programID, map[string]any{
			"amount": rw.Amount, "currency": rw.Currency, "participant": rw.ExternalID, "reason": d.Reason, "review": "cap"}); err != nil {
			return rw, err
		}
		return tx.Decorated(ctx, rw)
	})
}

// Review decisions a reviewer can take on a referral (as stored with the
// review).
const (
	ReviewDecisionClear  = store.ReviewDecisionClear
	ReviewDecisionReject = store.ReviewDecisionReject
)

// ReviewReferral records a reviewer's decision on a referral. Clearing lets
// its rewards mature as usual; rejecting voids them (reversal while pending,
// clawback once approved) so they never reach a payout.
func (s *Service) ReviewReferral(ctx context.Context, programID, referralID, decision, reason, reviewer string) (parrain.Referral, error) {
	reason = strings.TrimSpace(reason)
	switch decision {
	case ReviewDecisionClear, ReviewDecisionReject:
	default:
		return parrain.Referral{}, parrain.Invalid("decision", "must be clear or reject")
	}
	if decision == ReviewDecisionReject && reason == "" {
		return parrain.Referral{}, parrain.Invalid("reason", "is required to reject")
	}
	if len(reason) > 1000 {
		return parrain.Referral{}, parrain.Invalid("reason", "must be at most 1000 characters")
	}
	var out parrain.Referral
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		ref, err := tx.ReferralForUpdate(ctx, referralID)
		if err != nil {
			return err
		}
		if ref.ProgramID != programID {
			return store.NotFound("referral")
		}
		signals, err := tx.ReferralRiskSignals(ctx, referralID)
		if err != nil {
			return err
		}
		switch decision {
		case ReviewDecisionClear:
			if !parrain.InReviewQueue(ref.ReviewStatus) {
				return &parrain.Error{Code: parrain.CodeConflict, Field: "decision", Message: "this referral is not waiting for review (status " + ref.ReviewStatus + ")"}
			}
			ref.ReviewStatus = parrain.ReviewCleared
		case ReviewDecisionReject:
			if ref.Status == parrain.ReferralRejected {
				return &parrain.Error{Code: parrain.CodeConflict, Field: "decision", Message: "this referral is already rejected"}
			}
			ref.Status, ref.Reason, ref.ReviewStatus = parrain.ReferralRejected, parrain.ReasonFraudReview, parrain.ReviewRejected
			if err := tx.VoidReferralRewards(ctx, ref.ID, "rejected in fraud review: "+reason); err != nil {
				return err
			}
		}
		if err := tx.SetReferralReview(ctx, &ref); err != nil {
			return err
		}
		out = ref
		if err := tx.LogFraudReview(ctx, &ref, decision, reason, reviewer, ref.RiskScore, signals); err != nil {
			return err
		}
		action := store.AuditReferralCleared
		if decision == ReviewDecisionReject {
			action = store.AuditReferralRejected
		}
		return tx.Audit(ctx, store.ContextActor(ctx), action, "referral", ref.ID, programID, map[string]any{
			"friend": ref.FriendExternalID, "advocate": ref.AdvocateExternalID, "reason": reason})
	})
	return out, err
}
