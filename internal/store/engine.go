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

// The reward engine's glue: the logic that turns an event on a referral
// into rewards, shared by real ingestion (the event's transaction) and by
// replay (an in-memory world seeded from the database). The arithmetic is
// in parrain (EvaluateWith, TrueUp); this file records what it decides.

// firstPurchaseStage is the pseudo-stage that marks a referral's first
// qualifying purchase (stage names cannot contain ':').
const firstPurchaseStage = ":first_purchase"

// refCtx is the referral being rewarded, with both participants.
type refCtx struct {
	ref      parrain.Referral
	advocate parrain.Participant
	friend   parrain.Participant
}

// occasion returns the base occasion of an event on the referral.
func (rc *refCtx) occasion(ev *parrain.Event) parrain.Occasion {
	return parrain.Occasion{At: ev.OccurredAt, FXRate: ev.FXRate, Plan: ev.Plan, PartnerTier: ev.PartnerTier,
		ExistingCustomer: ev.ExistingCustomer || rc.friend.CreatedAt.Before(rc.ref.CreatedAt),
		ReferralID:       rc.ref.ID, Advocate: &rc.advocate, Friend: &rc.friend}
}

// grantSource says what a reward comes from, for storage.
type grantSource struct {
	EventID    string
	PurchaseID string
	OrderID    string
	Version    int // the program version whose rule produced it
}

// world is where the engine's decisions are recorded: the database in the
// event's transaction, or replay's memory.
type world interface {
	parrain.Facts
	// reach records that a referral reached a stage; first is false when it
	// already had (then at is when).
	reach(ctx context.Context, rc *refCtx, stage, eventID string, value *int64, currency string, at time.Time) (first bool, reached time.Time, err error)
	// reachedAt says when a referral reached a stage.
	reachedAt(ctx context.Context, refID, stage string) (time.Time, bool, error)
	// succeed marks a referral successful at at, unless it already is.
	succeed(ctx context.Context, rc *refCtx, at time.Time) (bool, error)
	// succeededAt returns when a referral succeeded (nil if not, or voided).
	succeededAt(ctx context.Context, refID string) (*time.Time, error)
	// grant stores an award as a pending reward.
	grant(ctx context.Context, rc *refCtx, a parrain.Award, src grantSource) (parrain.Reward, error)
	// rewardsOf lists a referral's rewards, oldest first.
	rewardsOf(ctx context.Context, refID string) ([]parrain.Reward, error)
	// reverse takes x off a reward (a reversal, or a clawback once approved).
	reverse(ctx context.Context, rw *parrain.Reward, x int64, memo string) (ReversalResult, error)
	// cancel records a customer's cancellation, voiding the success if void.
	cancel(ctx context.Context, refID string, at time.Time, void bool) error
	// program returns the program document of a version.
	program(ctx context.Context, version int) (parrain.Program, error)
}

// engineOutcome collects what an event did.
type engineOutcome struct {
	rewards   []parrain.Reward
	reversals []ReversalResult
	skipped   []parrain.Skip
	message   string
	duplicate bool
}

// applyAwards evaluates the rules for an occasion and grants the awards.
func applyAwards(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, o parrain.Occasion, src grantSource, out *engineOutcome) error {
	awards, skips, err := parrain.EvaluateWith(prog, o, w)
	if err != nil {
		return err
	}
	out.skipped = append(out.skipped, skips...)
	src.Version = prog.Version
	for _, a := range awards {
		rw, err := w.grant(ctx, rc, a, src)
		if err != nil {
			return err
		}
		out.rewards = append(out.rewards, rw)
	}
	return nil
}

// markSuccess marks the referral successful when the occasion is the
// program's success event and the advocate may earn; o.Success tells the
// rules (milestones) about it.
func markSuccess(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, o *parrain.Occasion) error {
	if rc.ref.Status == parrain.ReferralRejected || !prog.SuccessMatches(*o) {
		return nil
	}
	if ok, _ := prog.AdvocateEligible(&rc.advocate); !ok {
		return nil
	}
	first, err := w.succeed(ctx, rc, o.At)
	o.Success = first
	return err
}

// applySignup rewards a new referral's signup.
func applySignup(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, ev *parrain.Event, src grantSource, out *engineOutcome) error {
	o := rc.occasion(ev)
	o.Trigger = parrain.TriggerSignup
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// purchaseFacts are the facts of a referred purchase that do not depend on
// the rules.
type purchaseFacts struct {
	Amount         int64
	Currency       string
	PaymentNumber  int       // the purchase's rank among the referral's purchases
	FirstPaymentAt time.Time // the referral's first purchase
}

// applyPurchase rewards a referred purchase: whether it qualifies, whether
// it is the first that does, success, then the rules.
func applyPurchase(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, ev *parrain.Event, pf purchaseFacts, src grantSource, out *engineOutcome) error {
	o := rc.occasion(ev)
	o.Trigger, o.Amount, o.Currency = parrain.TriggerPurchase, pf.Amount, pf.Currency
	o.PaymentNumber, o.FirstPaymentAt = pf.PaymentNumber, pf.FirstPaymentAt
	if ok, _ := prog.PurchaseQualifies(o); ok {
		first, _, err := w.reach(ctx, rc, firstPurchaseStage, src.EventID, &pf.Amount, pf.Currency, ev.OccurredAt)
		if err != nil {
			return err
		}
		o.FirstPurchase = first
	}
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// applyStage rewards a stage reached for the first time; a stage already
// reached is a duplicate and rewards nothing.
func applyStage(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, ev *parrain.Event, src grantSource, out *engineOutcome) error {
	first, at, err := w.reach(ctx, rc, ev.Stage, src.EventID, ev.Value, ev.Currency, ev.OccurredAt)
	if err != nil {
		return err
	}
	if !first {
		out.duplicate = true
		out.message = fmt.Sprintf("stage %s was already reached on %s: a stage rewards at most once per referral", ev.Stage, at.Format(time.RFC3339))
		return nil
	}
	o := rc.occasion(ev)
	o.Trigger, o.Stage = parrain.TriggerStage, ev.Stage
	if ev.Value != nil {
		o.Amount, o.Currency = *ev.Value, ev.Currency
	}
	if err := markSuccess(ctx, w, prog, rc, &o); err != nil {
		return err
	}
	return applyAwards(ctx, w, prog, rc, o, src, out)
}

// applyContract trues up the commissions that follow the contract value.
func applyContract(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, ev *parrain.Event, src grantSource, out *engineOutcome) error {
	if rc.ref.Status == parrain.ReferralRejected {
		out.message = "the referral was rejected: nothing to true up"
		return nil
	}
	rws, err := w.rewardsOf(ctx, rc.ref.ID)
	if err != nil {
		return err
	}
	lines, err := commissionLines(ctx, w, rc, rws)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		out.message = "no commission of this referral follows the contract value (no true_up_months rule has rewarded it yet)"
		return nil
	}
	o := rc.occasion(ev)
	o.Trigger, o.Amount, o.Currency = parrain.TriggerContract, *ev.Value, ev.Currency
	awards, downs, skips, err := parrain.TrueUp(prog, o, lines, w)
	if err != nil {
		return err
	}
	out.skipped = append(out.skipped, skips...)
	for _, a := range awards {
		src.Version = lineVersion(lines, a.RuleID, a.Role)
		rw, err := w.grant(ctx, rc, a, src)
		if err != nil {
			return err
		}
		out.rewards = append(out.rewards, rw)
	}
	for _, d := range downs {
		left := d.Amount
		// Take the decrease off the line's newest rewards first.
		for i := len(rws) - 1; i >= 0 && left > 0; i-- {
			rw := &rws[i]
			if rw.RuleID != d.Line.Rule.ID || rw.Role != d.Line.Role || rw.Outstanding() <= 0 {
				continue
			}
			x := min(left, rw.Outstanding())
			rv, err := w.reverse(ctx, rw, x, d.Explanation)
			if err != nil {
				return err
			}
			out.reversals = append(out.reversals, rv)
			left -= x
		}
	}
	return nil
}

func lineVersion(lines []parrain.CommissionLine, ruleID string, role parrain.Role) int {
	for _, l := range lines {
		if l.Rule.ID == ruleID && l.Role == role {
			return l.Version
		}
	}
	return 0
}

// commissionLines groups a referral's rewards by rule and role for the
// rules that follow the contract value, with the rule and rate of the
// original reward.
func commissionLines(ctx context.Context, w world, rc *refCtx, rws []parrain.Reward) ([]parrain.CommissionLine, error) {
	type key struct {
		rule string
		role parrain.Role
	}
	idx := map[key]int{}
	var lines []parrain.CommissionLine
	for _, rw := range rws {
		k := key{rw.RuleID, rw.Role}
		if i, ok := idx[k]; ok {
			lines[i].Earned += rw.Outstanding()
			continue
		}
		if rw.Trigger != parrain.TriggerStage || rw.AmountType != parrain.AmountPercent {
			continue
		}
		prog, err := w.program(ctx, rw.RuleVersion)
		if err != nil {
			return nil, err
		}
		r, ok := prog.Rule(rw.RuleID)
		if !ok || r.Trigger != parrain.TriggerStage {
			continue
		}
		spec := r.Advocate
		if rw.Role == parrain.RoleFriend {
			spec = r.Friend
		}
		if spec == nil || spec.TrueUpMonths == 0 {
			continue
		}
		at, ok, err := w.reachedAt(ctx, rc.ref.ID, r.Stage)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		idx[k] = len(lines)
		lines = append(lines, parrain.CommissionLine{Rule: r, Role: rw.Role, Owner: rw.ParticipantID, Version: rw.RuleVersion,
			RateBps: rw.RateBps, ReachedAt: at, Earned: rw.Outstanding()})
	}
	return lines, nil
}

// applyCancel voids what a cancellation within the hold voids: the
// referral's rewards still on hold (contest prizes excepted) and its
// success when it succeeded less than a hold ago.
func applyCancel(ctx context.Context, w world, prog *parrain.Program, rc *refCtx, ev *parrain.Event, out *engineOutcome) error {
	at := ev.OccurredAt
	succ, err := w.succeededAt(ctx, rc.ref.ID)
	if err != nil {
		return err
	}
	void := succ != nil && at.Before(succ.Add(prog.Hold()))
	if err := w.cancel(ctx, rc.ref.ID, at, void); err != nil {
		return err
	}
	rws, err := w.rewardsOf(ctx, rc.ref.ID)
	if err != nil {
		return err
	}
	for i := range rws {
		rw := &rws[i]
		if rw.Trigger == parrain.TriggerContest || rw.Status != parrain.RewardPending || rw.Outstanding() <= 0 || !at.Before(rw.HoldUntil) {
			continue
		}
		rv, err := w.reverse(ctx, rw, rw.Outstanding(), fmt.Sprintf("the customer cancelled on %s, within the hold", at.Format("2006-01-02")))
		if err != nil {
			return err
		}
		out.reversals = append(out.reversals, rv)
	}
	switch {
	case len(out.reversals) > 0:
		out.message = fmt.Sprintf("cancelled within the hold: %d reward(s) voided", len(out.reversals))
	default:
		out.message = "cancelled: no reward was still on hold"
	}
	if void {
		out.message += "; the referral no longer counts as successful"
	}
	return nil
}

// ---- the database world: the event's transaction ----

// dbWorld records the engine's decisions in the event's transaction.
type dbWorld struct {
	ctx  context.Context
	s    *Store
	tx   *sql.Tx
	prog *parrain.Program
}

func (w *dbWorld) Successes(advocateID, exclude string, from, to time.Time) (int, error) {
	var n int
	err := w.tx.QueryRowContext(w.ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND id <> $2 AND succeeded_at >= $3 AND succeeded_at < $4
		AND voided_at IS NULL`, advocateID, exclude, ms(from), ms(to)).Scan(&n)
	return n, err
}

func (w *dbWorld) Earned(participantID, referralID string, from, to time.Time) (int64, error) {
	var n int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE participant_id = $1 AND ($2 = '' OR referral_id = $2)
		AND occurred_at >= $3 AND occurred_at < $4`, participantID, referralID, ms(from), ms(to)).Scan(&n)
	return n, err
}

func (w *dbWorld) Spent(from, to time.Time) (int64, error) {
	var n int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
		w.prog.ID, ms(from), ms(to)).Scan(&n)
	return n, err
}

func (w *dbWorld) Rewarded(ruleID, participantID string, from, to time.Time) (bool, error) {
	var n int
	err := w.tx.QueryRowContext(w.ctx, `SELECT COUNT(*) FROM rewards WHERE participant_id = $1 AND rule_id = $2 AND occurred_at >= $3 AND occurred_at < $4
		AND amount > reversed`, participantID, ruleID, ms(from), ms(to)).Scan(&n)
	return n > 0, err
}

func (w *dbWorld) reach(ctx context.Context, rc *refCtx, stage, eventID string, value *int64, currency string, at time.Time) (bool, time.Time, error) {
	var v sql.NullInt64
	if value != nil {
		v = sql.NullInt64{Int64: *value, Valid: true}
	}
	res, err := w.tx.ExecContext(ctx, `INSERT INTO referral_stages (referral_id, stage, program_id, event_id, value, currency, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, rc.ref.ID, stage, w.prog.ID, eventID, v, currency, ms(at), ms(w.s.clock.Now()))
	if err != nil {
		return false, at, fmt.Errorf("recording stage: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, at, nil
	}
	t, _, err := w.reachedAt(ctx, rc.ref.ID, stage)
	return false, t, err
}

func (w *dbWorld) reachedAt(ctx context.Context, refID, stage string) (time.Time, bool, error) {
	var at int64
	err := w.tx.QueryRowContext(ctx, `SELECT occurred_at FROM referral_stages WHERE referral_id = $1 AND stage = $2`, refID, stage).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromMS(at), err == nil, err
}

func (w *dbWorld) succeed(ctx context.Context, rc *refCtx, at time.Time) (bool, error) {
	res, err := w.tx.ExecContext(ctx, `UPDATE referrals SET succeeded_at = $1 WHERE id = $2 AND succeeded_at IS NULL`, ms(at), rc.ref.ID)
	if err != nil {
		return false, fmt.Errorf("marking referral successful: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (w *dbWorld) succeededAt(ctx context.Context, refID string) (*time.Time, error) {
	var at sql.NullInt64
	err := w.tx.QueryRowContext(ctx, `SELECT succeeded_at FROM referrals WHERE id = $1 AND voided_at IS NULL`, refID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return fromNullMS(at), err
}

func (w *dbWorld) cancel(ctx context.Context, refID string, at time.Time, void bool) error {
	q := `UPDATE referrals SET cancelled_at = COALESCE(cancelled_at, $1) WHERE id = $2`
	if void {
		q = `UPDATE referrals SET cancelled_at = COALESCE(cancelled_at, $1), voided_at = COALESCE(voided_at, $1) WHERE id = $2`
	}
	if _, err := w.tx.ExecContext(ctx, q, ms(at), refID); err != nil {
		return fmt.Errorf("recording cancellation: %w", err)
	}
	return nil
}

func (w *dbWorld) program(ctx context.Context, version int) (parrain.Program, error) {
	if version == w.prog.Version {
		return *w.prog, nil
	}
	return w.s.programAtVersion(ctx, w.tx, w.prog.ID, version)
}

func (w *dbWorld) rewardsOf(ctx context.Context, refID string) ([]parrain.Reward, error) {
	rws, err := w.s.rewardsWhere(ctx, w.tx, `r.referral_id = $1 ORDER BY r.id`+w.s.d.forUpdate, refID)
	if err != nil {
		return nil, err
	}
	return rws, w.s.decorate(ctx, w.tx, rws)
}

func (w *dbWorld) reverse(ctx context.Context, rw *parrain.Reward, x int64, memo string) (ReversalResult, error) {
	moves, st := parrain.Reverse(rw, x)
	if len(moves) == 0 {
		return ReversalResult{}, fmt.Errorf("reward %s (%s) cannot be reversed", rw.ID, rw.Status)
	}
	if err := w.s.applyMoves(ctx, w.tx, rw, moves, st, rw.Reversed+x, memo); err != nil {
		return ReversalResult{}, err
	}
	return ReversalResult{RewardID: rw.ID, Amount: x, Currency: rw.Currency, EntryType: moves[0].Type, Status: st}, nil
}

// rewardDetails is the JSON kept in rewards.details: the engine's inputs,
// its arithmetic and the reward spec (for fulfilment).
type rewardDetails struct {
	Inputs parrain.Inputs     `json:"inputs"`
	Steps  []string           `json:"steps"`
	Spec   parrain.RewardSpec `json:"spec"`
}

func (w *dbWorld) grant(ctx context.Context, rc *refCtx, a parrain.Award, src grantSource) (parrain.Reward, error) {
	return w.s.grantTx(ctx, w.tx, w.prog, rc, a, src)
}

// grantTx stores an award: the reward with its accrual entry and
// maturation job (insertReward), its details, and its fulfilment.
func (s *Store) grantTx(ctx context.Context, tx *sql.Tx, prog *parrain.Program, rc *refCtx, a parrain.Award, src grantSource) (parrain.Reward, error) {
	now := s.clock.Now()
	at := a.At
	owner, ownerExt := rc.ref.AdvocateID, rc.ref.AdvocateExternalID
	if a.Role == parrain.RoleFriend {
		owner, ownerExt = rc.ref.FriendID, rc.ref.FriendExternalID
	}
	hold := at.Add(prog.Hold())
	if a.Immediate {
		hold = at
	}
	version := src.Version
	if version == 0 {
		version = prog.Version
	}
	rw := parrain.Reward{ID: newID("rwd"), ProgramID: prog.ID, ParticipantID: owner, ExternalID: ownerExt,
		ReferralID: rc.ref.ID, PurchaseID: src.PurchaseID, OrderID: src.OrderID, EventID: src.EventID,
		RuleID: a.RuleID, RuleVersion: version, Role: a.Role, Trigger: a.Trigger, Kind: a.Kind, AmountType: a.AmountType,
		Amount: a.Amount, Currency: a.Currency, Status: parrain.RewardPending, Description: a.Description,
		Explanation: fmt.Sprintf("%s [program v%d]", a.Explanation, version), HoldUntil: hold, CreatedAt: now}
	rw.RewardDetails = detailsOf(a, at)
	if err := s.insertReward(ctx, tx, &rw); err != nil {
		return rw, err
	}
	if err := s.saveDetailsTx(ctx, tx, &rw, a); err != nil {
		return rw, err
	}
	return rw, nil
}

// detailsOf returns the reward details of an award.
func detailsOf(a parrain.Award, at time.Time) parrain.RewardDetails {
	d := parrain.RewardDetails{OccurredAt: &at, Stage: a.Stage, RateBps: a.Inputs.RateBps}
	if a.AmountType == parrain.AmountPercent {
		d.BaseAmount, d.BaseCurrency = a.Inputs.Amount, a.Inputs.Currency
	}
	if a.Inputs.FX != nil {
		d.FXRate = a.Inputs.FX.Rate
	}
	if a.Review != "" {
		d.Review, d.ReviewReason = ReviewWaiting, a.Review
	}
	return d
}

// Review states of a reward queued for manual approval.
const (
	ReviewWaiting  = "waiting"
	ReviewApproved = "approved"
	ReviewRejected = "rejected"
)

// saveDetailsTx stores a new reward's engine details, holds it for
// review when it exceeds a cap, and schedules its fulfilment.
func (s *Store) saveDetailsTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, a parrain.Award) error {
	det, err := json.Marshal(rewardDetails{Inputs: a.Inputs, Steps: a.Steps, Spec: a.Spec})
	if err != nil {
		return err
	}
	d := rw.RewardDetails
	if _, err := tx.ExecContext(ctx, `UPDATE rewards SET occurred_at = $1, stage = $2, rate_bps = $3, base_amount = $4, base_currency = $5,
		fx_rate = $6, review = $7, review_reason = $8, details = $9 WHERE id = $10`,
		nullMS(d.OccurredAt), d.Stage, d.RateBps, d.BaseAmount, d.BaseCurrency, d.FXRate, d.Review, d.ReviewReason, string(det), rw.ID); err != nil {
		return fmt.Errorf("storing reward details: %w", err)
	}
	if d.Review == ReviewWaiting {
		// No automatic approval: a manager decides (ReviewReward).
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE unique_key = $1 AND state = 'available'`, JobMatureReward+":"+rw.ID); err != nil {
			return fmt.Errorf("holding reward for review: %w", err)
		}
	}
	if parrain.NeedsFulfilment(rw.Kind) {
		return s.scheduleFulfilmentTx(ctx, tx, rw, a.Spec)
	}
	return nil
}

// ---- wiring into event ingestion ----

// loadRefCtx loads the referral's participants.
func (s *Store) loadRefCtx(ctx context.Context, q querier, ref parrain.Referral) (*refCtx, error) {
	rc := &refCtx{ref: ref}
	var err error
	if rc.advocate, err = scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.AdvocateID)); err != nil {
		return nil, fmt.Errorf("loading advocate: %w", err)
	}
	if rc.friend, err = scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE id = $1`, ref.FriendID)); err != nil {
		return nil, fmt.Errorf("loading friend: %w", err)
	}
	return rc, nil
}

// lockForCaps serialises, on PostgreSQL, the events that could race on a
// cap, a tier count or a budget: the referral's participants (in id order),
// and the program when it has a budget. SQLite's single writer already
// serialises them.
func (s *Store) lockForCaps(ctx context.Context, tx *sql.Tx, prog *parrain.Program, rc *refCtx) error {
	if s.d.forUpdate == "" || !countsMatter(prog) {
		return nil
	}
	if prog.Caps != nil && prog.Caps.Budget != nil {
		if _, err := tx.ExecContext(ctx, `SELECT id FROM programs WHERE id = $1`+s.d.lockNoKey, prog.ID); err != nil {
			return fmt.Errorf("locking program: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `SELECT id FROM participants WHERE id IN ($1, $2) ORDER BY id`+s.d.lockNoKey,
		rc.ref.AdvocateID, rc.ref.FriendID); err != nil {
		return fmt.Errorf("locking participants: %w", err)
	}
	return nil
}

// countsMatter reports whether a program's rewards depend on history
// (caps, tiers, milestones).
func countsMatter(p *parrain.Program) bool {
	if c := p.Caps; c != nil && (c.PerReferral > 0 || c.PerParticipant != nil || c.Budget != nil) {
		return true
	}
	for _, r := range p.Rules {
		if r.Trigger == parrain.TriggerMilestone {
			return true
		}
		for _, s := range []*parrain.RewardSpec{r.Advocate, r.Friend} {
			if s != nil && len(s.Tiers) > 0 {
				return true
			}
		}
	}
	return false
}

// engineTx runs fn with the referral's world inside the event's
// transaction and copies the outcome into the event's answer.
func (in *ingest) engineTx(ctx context.Context, fn func(w world, rc *refCtx, out *engineOutcome) error) error {
	rc, err := in.s.loadRefCtx(ctx, in.tx, *in.referral)
	if err != nil {
		return err
	}
	if err := in.s.lockForCaps(ctx, in.tx, in.prog, rc); err != nil {
		return err
	}
	var out engineOutcome
	if err := fn(&dbWorld{ctx: ctx, s: in.s, tx: in.tx, prog: in.prog}, rc, &out); err != nil {
		return err
	}
	in.res.Rewards = append(in.res.Rewards, out.rewards...)
	in.res.Reversals = append(in.res.Reversals, out.reversals...)
	in.res.Skipped = append(in.res.Skipped, out.skipped...)
	if out.message != "" {
		in.res.Message = out.message
	}
	if out.duplicate {
		in.res.Duplicate = true
	}
	return nil
}

// rewardEngine evaluates the program's rules for an occasion of the
// current event (a new referral's signup, or a referred purchase) and
// stores the resulting rewards.
func (in *ingest) rewardEngine(ctx context.Context, o parrain.Occasion, purchaseID string) error {
	src := grantSource{EventID: in.res.EventID, PurchaseID: purchaseID, OrderID: in.ev.OrderID}
	return in.engineTx(ctx, func(w world, rc *refCtx, out *engineOutcome) error {
		if o.Trigger == parrain.TriggerSignup {
			return applySignup(ctx, w, in.prog, rc, in.ev, src, out)
		}
		pf := purchaseFacts{Amount: o.Amount, Currency: o.Currency}
		var first int64
		if err := in.tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(occurred_at) FROM purchases WHERE referral_id = $1 AND id <= $2`,
			rc.ref.ID, purchaseID).Scan(&pf.PaymentNumber, &first); err != nil {
			return fmt.Errorf("counting payments: %w", err)
		}
		pf.FirstPaymentAt = fromMS(first)
		return applyPurchase(ctx, w, in.prog, rc, in.ev, pf, src, out)
	})
}

// engineReferral finds the referral an engine event (stage, contract,
// cancel) is about: the friend's, attributing a stage event like a signup
// when it is the first thing reported. It answers false, with a message,
// when the person was not referred.
func (in *ingest) engineReferral(ctx context.Context) (bool, error) {
	if in.ev.Type == parrain.EventStage {
		if err := in.upsertFriend(ctx); err != nil {
			return false, err
		}
		created, err := in.attribute(ctx)
		if err != nil {
			return false, err
		}
		if created {
			if err := in.reward(ctx, parrain.Occasion{Trigger: parrain.TriggerSignup}, ""); err != nil {
				return false, err
			}
		}
	} else {
		p, err := scanParticipant(in.tx.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`,
			in.prog.ID, in.ev.ExternalID))
		if errors.Is(err, sql.ErrNoRows) {
			in.res.Message = fmt.Sprintf("%s is not a participant of this program: nothing to do", in.ev.ExternalID)
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("loading participant: %w", err)
		}
		in.friend = &p
		in.res.Participant = &ParticipantRef{ExternalID: p.ExternalID, Code: p.Code}
		ref, err := in.s.referralByFriend(ctx, in.tx, in.prog.ID, p.ID)
		if errors.Is(err, sql.ErrNoRows) {
			in.res.Message = fmt.Sprintf("%s was not referred in this program: nothing to do", in.ev.ExternalID)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		in.referral, in.res.Referral = &ref, &ref
		in.res.Credited = &ParticipantRef{ExternalID: ref.AdvocateExternalID, Code: ref.Code}
	}
	if in.referral == nil {
		if in.res.Message == "" {
			in.res.Message = fmt.Sprintf("%s was not referred in this program: nothing to do", in.ev.ExternalID)
		}
		return false, nil
	}
	if in.referral.Status == parrain.ReferralRejected {
		in.res.Message = "the referral was rejected (" + in.referral.Reason + "): it earns nothing"
		return false, nil
	}
	return true, nil
}

// stage handles a stage event: the lead reached a stage of the program.
func (in *ingest) stage(ctx context.Context) error {
	if !in.prog.HasStage(in.ev.Stage) {
		return parrain.Invalid("stage", "%q is not a stage of this program (%s)", in.ev.Stage, stageNames(in.prog))
	}
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	src := grantSource{EventID: in.res.EventID}
	return in.engineTx(ctx, func(w world, rc *refCtx, out *engineOutcome) error {
		return applyStage(ctx, w, in.prog, rc, in.ev, src, out)
	})
}

// contract handles a contract event: the first-year contract value changed.
func (in *ingest) contract(ctx context.Context) error {
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	src := grantSource{EventID: in.res.EventID}
	return in.engineTx(ctx, func(w world, rc *refCtx, out *engineOutcome) error {
		return applyContract(ctx, w, in.prog, rc, in.ev, src, out)
	})
}

// cancel handles a cancel event: the referred customer cancelled.
func (in *ingest) cancel(ctx context.Context) error {
	ok, err := in.engineReferral(ctx)
	if err != nil || !ok {
		return err
	}
	return in.engineTx(ctx, func(w world, rc *refCtx, out *engineOutcome) error {
		return applyCancel(ctx, w, in.prog, rc, in.ev, out)
	})
}

func stageNames(p *parrain.Program) string {
	if len(p.Stages) == 0 {
		return "the program defines no stages"
	}
	s := ""
	for i, st := range p.Stages {
		if i > 0 {
			s += ", "
		}
		s += st.Name
	}
	return s
}

// decodeAttributes reads a participant's attributes column.
func decodeAttributes(s string) (parrain.Attributes, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	var a parrain.Attributes
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return nil, fmt.Errorf("decoding participant attributes: %w", err)
	}
	return a, nil
}

// encodeAttributes returns the attributes column value (canonical JSON,
// keys sorted).
func encodeAttributes(a *parrain.Attributes) string {
	if a == nil || len(*a) == 0 {
		return "{}"
	}
	b, err := json.Marshal(*a)
	if err != nil {
		return "{}"
	}
	return string(b)
}
