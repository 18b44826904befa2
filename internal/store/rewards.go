package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

const rewardSelect = `SELECT r.id, r.program_id, r.participant_id, (SELECT p.external_id FROM participants p WHERE p.id = r.participant_id),
	r.referral_id, r.purchase_id, (SELECT pu.order_id FROM purchases pu WHERE pu.id = r.purchase_id), r.event_id, r.rule_id, r.rule_version,
	r.role, r.trigger_type, r.kind, r.amount_type, r.amount, r.currency, r.reversed, r.status, r.description, r.explanation,
	r.hold_until, r.approved_at, r.created_at, r.void_reason, r.occurred_at FROM rewards r`

func scanReward(sc scanner) (parrain.Reward, error) {
	var r parrain.Reward
	var purchase, order sql.NullString
	var hold, created int64
	var approved, occurred sql.NullInt64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.ParticipantID, &r.ExternalID, &r.ReferralID, &purchase, &order, &r.EventID, &r.RuleID,
		&r.RuleVersion, &r.Role, &r.Trigger, &r.Kind, &r.AmountType, &r.Amount, &r.Currency, &r.Reversed, &r.Status,
		&r.Description, &r.Explanation, &hold, &approved, &created, &r.VoidReason, &occurred)
	r.OccurredAt = fromNullMS(occurred)
	r.PurchaseID, r.OrderID = purchase.String, order.String
	r.HoldUntil, r.ApprovedAt, r.CreatedAt = fromMS(hold), fromNullMS(approved), fromMS(created)
	return r, err
}

func (s *Store) rewardsWhere(ctx context.Context, q querier, where string, args ...any) ([]parrain.Reward, error) {
	rows, err := q.QueryContext(ctx, rewardSelect+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("loading rewards: %w", err)
	}
	defer rows.Close()
	out := []parrain.Reward{}
	for rows.Next() {
		r, err := scanReward(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// insertReward stores a new pending reward, its accrual entry and the job
// that approves it when the hold ends — all in the caller's transaction, so
// none exists without the others.
func (s *Store) insertReward(ctx context.Context, tx *sql.Tx, rw *parrain.Reward) error {
	var purchase sql.NullString
	if rw.PurchaseID != "" {
		purchase = sql.NullString{String: rw.PurchaseID, Valid: true}
	}
	now := ms(rw.CreatedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO rewards (id, program_id, participant_id, referral_id, purchase_id, event_id, rule_id, rule_version,
		role, trigger_type, kind, amount_type, amount, currency, reversed, status, description, explanation, hold_until, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $15, $16, $17, $18, $19, $19)`,
		rw.ID, rw.ProgramID, rw.ParticipantID, rw.ReferralID, purchase, rw.EventID, rw.RuleID, rw.RuleVersion, rw.Role, rw.Trigger,
		rw.Kind, rw.AmountType, rw.Amount, rw.Currency, rw.Status, rw.Description, rw.Explanation, ms(rw.HoldUntil), now); err != nil {
		return fmt.Errorf("inserting reward: %w", err)
	}
	for _, m := range parrain.Accrue(rw.Amount) {
		if err := s.insertEntry(ctx, tx, rw, m, "reward created"); err != nil {
			return err
		}
	}
	if err := s.emitTx(ctx, tx, rw.ProgramID, parrain.WebhookRewardCreated, rw); err != nil {
		return err
	}
	payload, _ := json.Marshal(parrain.MatureRewardArgs{RewardID: rw.ID})
	return s.enqueueTx(ctx, tx, parrain.JobMatureReward, parrain.JobMatureReward+":"+rw.ID, payload, rw.HoldUntil)
}

func (s *Store) insertEntry(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, m parrain.Movement, memo string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (id, program_id, participant_id, reward_id, type, bucket, amount, currency, memo, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		newID("le"), rw.ProgramID, rw.ParticipantID, rw.ID, m.Type, m.Bucket, m.Amount, rw.Currency, memo, ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("appending ledger entry: %w", err)
	}
	return nil
}

// applyMoves appends ledger movements for a reward and updates its status
// projection.
func (s *Store) applyMoves(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, moves []parrain.Movement, st parrain.RewardStatus, reversed int64, memo string) error {
	for _, m := range moves {
		if err := s.insertEntry(ctx, tx, rw, m, memo); err != nil {
			return err
		}
	}
	now := s.clock.Now()
	approved := rw.ApprovedAt
	if st == parrain.RewardApproved && rw.Status == parrain.RewardPending {
		approved = &now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE rewards SET status = $1, reversed = $2, approved_at = $3, updated_at = $4 WHERE id = $5`,
		st, reversed, nullMS(approved), ms(now), rw.ID); err != nil {
		return fmt.Errorf("updating reward: %w", err)
	}
	before := rw.Status
	rw.Status, rw.Reversed, rw.ApprovedAt = st, reversed, approved
	return s.emitRewardMovesTx(ctx, tx, before, rw, moves)
}

// ApproveReward approves a pending reward whose hold has ended. It is
// idempotent: approving twice, or approving a reversed reward, does nothing
// and returns false. If the hold has not ended yet, notBefore says when to
// try again.
func (s *Store) ApproveReward(ctx context.Context, id string) (approved bool, notBefore time.Time, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rws, err := s.rewardsWhere(ctx, tx, `r.id = $1`+s.d.forUpdate, id)
		if err != nil {
			return err
		}
		if len(rws) == 0 {
			return notFound("reward")
		}
		approved, notBefore, err = s.approveDueTx(ctx, tx, &rws[0])
		return err
	})
	return approved, notBefore, err
}

// approveDueTx approves a pending reward (locked by the caller) whose hold
// has ended, unless its referral waits for fraud review, its referred
// customer shows no activity, or a manager must decide it (cap review).
// notBefore is set when it should be tried again later.
func (s *Store) approveDueTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward) (approved bool, notBefore time.Time, err error) {
	if s.clock.Now().Before(rw.HoldUntil) {
		return false, rw.HoldUntil, nil
	}
	if rw.Status != parrain.RewardPending {
		return false, time.Time{}, nil
	}
	var review string
	if err := tx.QueryRowContext(ctx, `SELECT review FROM rewards WHERE id = $1`, rw.ID).Scan(&review); err != nil {
		return false, time.Time{}, fmt.Errorf("loading reward review: %w", err)
	}
	if review == ReviewWaiting {
		return false, time.Time{}, nil // a manager decides (ReviewReward)
	}
	// A referral waiting for fraud review keeps its rewards pending: look
	// again in an hour (a reviewer's decision ends the wait).
	if st, err := s.referralReviewStatus(ctx, tx, rw.ReferralID); err != nil {
		return false, time.Time{}, err
	} else if parrain.UnderReview(st) {
		return false, s.clock.Now().Add(time.Hour), nil
	}
	if wait, err := s.maturityCheck(ctx, tx, rw); err != nil {
		return false, time.Time{}, err
	} else if wait {
		return false, s.clock.Now().Add(time.Hour), nil
	}
	moves, st, ok := parrain.Approve(rw)
	if !ok {
		return false, time.Time{}, nil
	}
	return true, time.Time{}, s.applyMoves(ctx, tx, rw, moves, st, rw.Reversed, "hold period ended")
}

// Reward returns a reward by id within a program.
func (s *Store) Reward(ctx context.Context, programID, id string) (parrain.Reward, error) {
	rws, err := s.rewardsWhere(ctx, s.r, `r.id = $1 AND r.program_id = $2`, id, programID)
	if err != nil {
		return parrain.Reward{}, err
	}
	if len(rws) == 0 {
		return parrain.Reward{}, notFound("reward")
	}
	return rws[0], nil
}

// ParticipantRewards lists a participant's rewards, newest first, filtered
// by status when given.
func (s *Store) ParticipantRewards(ctx context.Context, participantID, status string, pg Page) ([]parrain.Reward, string, error) {
	if status != "" && !parrain.ValidRewardStatus(status) {
		return nil, "", parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back")
	}
	rws, err := s.rewardsWhere(ctx, s.r, `r.participant_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = '' OR r.id < $3) ORDER BY r.id DESC LIMIT $4`,
		participantID, status, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", err
	}
	return pageOf(rws, pg.limit(), func(r parrain.Reward) string { return r.ID })
}

// LedgerEntries returns a reward's ledger entries in order.
func (s *Store) LedgerEntries(ctx context.Context, rewardID string) ([]parrain.Entry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, program_id, participant_id, reward_id, type, bucket, amount, currency, memo, created_at
		FROM ledger_entries WHERE reward_id = $1 ORDER BY id`, rewardID)
	if err != nil {
		return nil, fmt.Errorf("loading ledger: %w", err)
	}
	defer rows.Close()
	out := []parrain.Entry{}
	for rows.Next() {
		var e parrain.Entry
		var created int64
		if err := rows.Scan(&e.ID, &e.ProgramID, &e.ParticipantID, &e.RewardID, &e.Type, &e.Bucket, &e.Amount, &e.Currency, &e.Memo, &created); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMS(created)
		out = append(out, e)
	}
	return out, rows.Err()
}

// MaxBulk bounds how many rewards or referrals one bulk action may touch.
const MaxBulk = 500

// SettleManualReview records the decision on a reward the engine queued
// for manual approval (review "waiting", e.g. over a cap); a reward not
// waiting is left alone.
func (t *Tx) SettleManualReview(ctx context.Context, rw *parrain.Reward, decision string) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE rewards SET review = $1 WHERE id = $2 AND review = 'waiting'`, decision, rw.ID)
	if err != nil {
		return fmt.Errorf("recording the review decision: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		rw.Review = decision
	}
	return nil
}

// ReferralReviewStatus returns a referral's fraud review state.
func (t *Tx) ReferralReviewStatus(ctx context.Context, referralID string) (string, error) {
	return t.s.referralReviewStatus(ctx, t.tx, referralID)
}

// Earned sums a participant's outstanding rewards in [from, to); with a
// referralID, only those of that referral.
func (t *Tx) Earned(ctx context.Context, participantID, referralID string, from, to time.Time) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE participant_id = $1 AND ($2 = '' OR referral_id = $2)
		AND occurred_at >= $3 AND occurred_at < $4`, participantID, referralID, ms(from), ms(to)).Scan(&n)
	return n, err
}

// Spent sums a program's outstanding rewards in [from, to).
func (t *Tx) Spent(ctx context.Context, programID string, from, to time.Time) (int64, error) {
	var n int64
	err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
		programID, ms(from), ms(to)).Scan(&n)
	return n, err
}

// Rewarded reports whether a rule gave a participant an outstanding reward
// in [from, to).
func (t *Tx) Rewarded(ctx context.Context, ruleID, participantID string, from, to time.Time) (bool, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rewards WHERE participant_id = $1 AND rule_id = $2 AND occurred_at >= $3 AND occurred_at < $4
		AND amount > reversed`, participantID, ruleID, ms(from), ms(to)).Scan(&n)
	return n > 0, err
}

// ReferralRewardsForUpdate lists a referral's rewards, oldest first,
// locked and with their details.
func (t *Tx) ReferralRewardsForUpdate(ctx context.Context, referralID string) ([]parrain.Reward, error) {
	rws, err := t.s.rewardsWhere(ctx, t.tx, `r.referral_id = $1 ORDER BY r.id`+t.s.d.forUpdate, referralID)
	if err != nil {
		return nil, err
	}
	return rws, t.s.decorate(ctx, t.tx, rws)
}

// PurchaseRewardsForUpdate lists the rewards of a purchase, locked.
func (t *Tx) PurchaseRewardsForUpdate(ctx context.Context, purchaseID string) ([]parrain.Reward, error) {
	return t.s.rewardsWhere(ctx, t.tx, `r.purchase_id = $1`+t.s.d.forUpdate, purchaseID)
}

// VoidReward reverses what is left of a pending reward at maturation
// with a void reason (parrain.VoidInactive): a reversal entry with the
// memo, the reason on the reward, the reward.reversed webhook.
func (t *Tx) VoidReward(ctx context.Context, rw *parrain.Reward, reason, memo string) error {
	x := rw.Outstanding()
	moves, st := parrain.Reverse(rw, x)
	if len(moves) == 0 {
		return parrain.Errorf(parrain.CodeConflict, "reward %s (%s) cannot be voided", rw.ID, rw.Status)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE rewards SET void_reason = $1 WHERE id = $2`, reason, rw.ID); err != nil {
		return fmt.Errorf("recording the void reason: %w", err)
	}
	rw.VoidReason = reason
	return t.s.applyMoves(ctx, t.tx, rw, moves, st, rw.Reversed+x, memo)
}

// ReinstateReward brings back a reward voided as inactive: a
// reinstatement entry, approved now, the void reason cleared, the
// reward.approved webhook and its delivery scheduled.
func (t *Tx) ReinstateReward(ctx context.Context, rw *parrain.Reward, memo string) (int64, error) {
	moves, st, ok := parrain.Reinstate(rw)
	if !ok {
		return 0, parrain.Errorf(parrain.CodeConflict, "reward %s is %s: only a reward voided as inactive can be reinstated", rw.ID, rw.Status)
	}
	before := rw.Status
	for _, m := range moves {
		if err := t.s.insertEntry(ctx, t.tx, rw, m, memo); err != nil {
			return 0, err
		}
	}
	now := t.s.clock.Now()
	if _, err := t.tx.ExecContext(ctx, `UPDATE rewards SET status = $1, reversed = 0, approved_at = $2, void_reason = '', updated_at = $2 WHERE id = $3`,
		st, ms(now), rw.ID); err != nil {
		return 0, fmt.Errorf("reinstating reward: %w", err)
	}
	x := rw.Reversed
	rw.Status, rw.Reversed, rw.ApprovedAt, rw.VoidReason = st, 0, &now, ""
	if err := t.s.emitRewardMovesTx(ctx, t.tx, before, rw, moves); err != nil {
		return 0, err
	}
	return x, t.s.kickFulfilmentTx(ctx, t.tx, rw.ID)
}

// ActivityDays counts the distinct UTC days on which a participant
// reported events of a type in a program in [from, to].
func (t *Tx) ActivityDays(ctx context.Context, programID, participantID string, typ parrain.EventType, from, to time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT occurred_at / 86400000) FROM events
		WHERE participant_id = $1 AND program_id = $2 AND type = $3 AND occurred_at >= $4 AND occurred_at <= $5`,
		participantID, programID, string(typ), ms(from), ms(to)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting activity days: %w", err)
	}
	return n, nil
}

// ApplyMoves records ledger movements on a reward with its new status and
// reversed total.
func (t *Tx) ApplyMoves(ctx context.Context, rw *parrain.Reward, moves []parrain.Movement, st parrain.RewardStatus, reversed int64, memo string) error {
	return t.s.applyMoves(ctx, t.tx, rw, moves, st, reversed, memo)
}

// GrantReward stores an award on a referral as a pending reward, with its
// accrual entry, maturation and fulfilment.
func (t *Tx) GrantReward(ctx context.Context, prog *parrain.Program, ref *parrain.Referral, a parrain.Award, src parrain.GrantSource) (parrain.Reward, error) {
	return t.s.grantTx(ctx, t.tx, prog, ref, a, src)
}

// VoidReferralRewards reverses (pending) or claws back (approved) what is
// left of a referral's rewards.
func (t *Tx) VoidReferralRewards(ctx context.Context, referralID, memo string) error {
	return t.s.voidRewardsTx(ctx, t.tx, `r.referral_id = $1 AND r.status IN ('pending', 'approved')`, memo, referralID)
}

// RewardForUpdate returns a program's reward, locked, with its review
// state (not found error when missing).
func (t *Tx) RewardForUpdate(ctx context.Context, programID, id string) (parrain.Reward, string, error) {
	rws, err := t.s.rewardsWhere(ctx, t.tx, `r.id = $1 AND r.program_id = $2`+t.s.d.forUpdate, id, programID)
	if err != nil {
		return parrain.Reward{}, "", err
	}
	if len(rws) == 0 {
		return parrain.Reward{}, "", notFound("reward")
	}
	var review string
	if err := t.tx.QueryRowContext(ctx, `SELECT review FROM rewards WHERE id = $1`, id).Scan(&review); err != nil {
		return rws[0], "", err
	}
	return rws[0], review, nil
}

// ApproveRewardReview records a manager's approval of a reward waiting for
// review and schedules its maturation at the end of its hold.
func (t *Tx) ApproveRewardReview(ctx context.Context, rw *parrain.Reward) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE rewards SET review = $1, updated_at = $2 WHERE id = $3`, ReviewApproved, ms(t.s.clock.Now()), rw.ID); err != nil {
		return err
	}
	payload, _ := json.Marshal(parrain.MatureRewardArgs{RewardID: rw.ID})
	return t.s.enqueueTx(ctx, t.tx, parrain.JobMatureReward, parrain.JobMatureReward+":"+rw.ID, payload, rw.HoldUntil)
}

// SetRewardReview records a reward's review state.
func (t *Tx) SetRewardReview(ctx context.Context, id, review string) error {
	_, err := t.tx.ExecContext(ctx, `UPDATE rewards SET review = $1 WHERE id = $2`, review, id)
	return err
}

// Decorated returns a reward with its details.
func (t *Tx) Decorated(ctx context.Context, rw parrain.Reward) (parrain.Reward, error) {
	one := []parrain.Reward{rw}
	if err := t.s.decorate(ctx, t.tx, one); err != nil {
		return rw, err
	}
	return one[0], nil
}

// ---- reads of the database as it stood before a replay's window ----

// preWindow is the condition selecting the rewards the database knew before
// the window, whose start is parameter n (contest prizes always count:
// they are not replayed).
func preWindow(n int) string {
	return fmt.Sprintf(`(occurred_at < $%d OR trigger_type = 'contest')`, n)
}

// EarnedBefore is Tx.Earned over the rewards known before before.
func (s *Store) EarnedBefore(ctx context.Context, participantID, referralID string, from, to, before time.Time) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE participant_id = $1 AND ($2 = '' OR referral_id = $2)
		AND occurred_at >= $3 AND occurred_at < $4 AND `+preWindow(5), participantID, referralID, ms(from), ms(to), ms(before)).Scan(&n)
	return n, err
}

// SpentBefore is Tx.Spent over the rewards known before before.
func (s *Store) SpentBefore(ctx context.Context, programID string, from, to, before time.Time) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount - reversed), 0) FROM rewards WHERE program_id = $1 AND occurred_at >= $2
		AND occurred_at < $3 AND `+preWindow(4), programID, ms(from), ms(to), ms(before)).Scan(&n)
	return n, err
}

// RewardedBefore is Tx.Rewarded over the rewards known before before.
func (s *Store) RewardedBefore(ctx context.Context, ruleID, participantID string, from, to, before time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM rewards WHERE participant_id = $1 AND rule_id = $2 AND occurred_at >= $3 AND occurred_at < $4
		AND amount > reversed AND `+preWindow(5), participantID, ruleID, ms(from), ms(to), ms(before)).Scan(&n)
	return n > 0, err
}

// ReferralRewardsBefore lists a referral's rewards known before before
// (and its contest prizes), oldest first, with their details.
func (s *Store) ReferralRewardsBefore(ctx context.Context, referralID string, before time.Time) ([]parrain.Reward, error) {
	rws, err := s.rewardsWhere(ctx, s.r, `r.referral_id = $1 AND (r.occurred_at < $2 OR r.trigger_type = 'contest') ORDER BY r.id`, referralID, ms(before))
	if err != nil {
		return nil, err
	}
	return rws, s.decorate(ctx, s.r, rws)
}

// Granted is what one reward granted for an event is worth now.
type Granted struct {
	ExternalID, Name, RuleID string
	Net                      int64 // amount less reversals
}

// GrantedForEvents lists the rewards granted for a program's events on
// referrals that happened in [from, to].
func (s *Store) GrantedForEvents(ctx context.Context, programID string, from, to time.Time) ([]Granted, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT p.external_id, p.name, r.rule_id, r.amount - r.reversed FROM rewards r
		JOIN events e ON e.id = r.event_id JOIN participants p ON p.id = r.participant_id
		WHERE e.program_id = $1 AND e.occurred_at >= $2 AND e.occurred_at <= $3 AND e.referral_id IS NOT NULL`, programID, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("loading granted rewards: %w", err)
	}
	defer rows.Close()
	var out []Granted
	for rows.Next() {
		var g Granted
		if err := rows.Scan(&g.ExternalID, &g.Name, &g.RuleID, &g.Net); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// RewardQuery narrows a program's reward list.
type RewardQuery struct {
	ProgramID string
	Status    string // "" for every status
}

// RewardsPage lists a program's rewards, newest first.
func (s *Store) RewardsPage(ctx context.Context, q RewardQuery, pg Page) ([]parrain.Reward, string, error) {
	if q.Status != "" && !parrain.ValidRewardStatus(q.Status) {
		return nil, "", parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back")
	}
	where := []string{`r.program_id = $1`}
	args := []any{q.ProgramID}
	if q.Status != "" {
		args = append(args, q.Status)
		where = append(where, fmt.Sprintf(`r.status = $%d`, len(args)))
	}
	if pg.Cursor != "" {
		args = append(args, pg.Cursor)
		where = append(where, fmt.Sprintf(`r.id < $%d`, len(args)))
	}
	args = append(args, pg.limit()+1)
	rws, err := s.rewardsWhere(ctx, s.r, strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	return pageOf(rws, pg.limit(), func(r parrain.Reward) string { return r.ID })
}

// RewardByID returns a reward by id, in any program.
func (s *Store) RewardByID(ctx context.Context, id string) (parrain.Reward, error) {
	rws, err := s.rewardsWhere(ctx, s.r, `r.id = $1`, id)
	if err != nil {
		return parrain.Reward{}, err
	}
	if len(rws) == 0 {
		return parrain.Reward{}, notFound("reward")
	}
	return rws[0], nil
}

// PendingRewardIDs returns the pending rewards of some referrals of a
// program, for bulk review from the referral list.
func (s *Store) PendingRewardIDs(ctx context.Context, programID string, referralIDs []string) ([]string, error) {
	if len(referralIDs) == 0 {
		return nil, parrain.Invalid("ids", "select at least one referral")
	}
	if len(referralIDs) > MaxBulk {
		return nil, parrain.Invalid("ids", "at most %d referrals at once", MaxBulk)
	}
	args := []any{programID}
	ph := make([]string, len(referralIDs))
	for i, id := range referralIDs {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM rewards WHERE program_id = $1 AND status = 'pending' AND referral_id IN (`+
		strings.Join(ph, ", ")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing pending rewards: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// decorate fills the engine details and fulfilment of loaded rewards.
func (s *Store) decorate(ctx context.Context, q querier, rws []parrain.Reward) error {
	for start := 0; start < len(rws); start += 200 {
		chunk := rws[start:min(start+200, len(rws))]
		idx := map[string]int{}
		args := make([]any, 0, len(chunk))
		ph := make([]string, 0, len(chunk))
		for i := range chunk {
			idx[chunk[i].ID] = start + i
			args = append(args, chunk[i].ID)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		in := strings.Join(ph, ", ")
		rows, err := q.QueryContext(ctx, `SELECT id, occurred_at, stage, rate_bps, base_amount, base_currency, fx_rate, review, review_reason
			FROM rewards WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("loading reward details: %w", err)
		}
		for rows.Next() {
			var id string
			var d parrain.RewardDetails
			var occurred sql.NullInt64
			if err := rows.Scan(&id, &occurred, &d.Stage, &d.RateBps, &d.BaseAmount, &d.BaseCurrency, &d.FXRate, &d.Review, &d.ReviewReason); err != nil {
				rows.Close()
				return err
			}
			d.OccurredAt = fromNullMS(occurred)
			rw := &rws[idx[id]]
			if d.Review == ReviewWaiting && rw.Status != parrain.RewardPending {
				// Decided elsewhere (the console approves or rejects pending rewards).
				d.Review = ReviewApproved
				if rw.Status == parrain.RewardReversed {
					d.Review = ReviewRejected
				}
			}
			d.Fulfilment, d.VoidReason = rw.Fulfilment, rw.VoidReason
			rw.RewardDetails = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.QueryContext(ctx, `SELECT reward_id, status, code, pool, feature, days, attempts, last_error, fulfilled_at
			FROM reward_fulfilments WHERE reward_id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("loading fulfilments: %w", err)
		}
		for rows.Next() {
			var id string
			var f parrain.FulfilmentState
			var done sql.NullInt64
			if err := rows.Scan(&id, &f.Status, &f.Code, &f.Pool, &f.Feature, &f.Days, &f.Attempts, &f.LastError, &done); err != nil {
				rows.Close()
				return err
			}
			f.FulfilledAt = fromNullMS(done)
			rws[idx[id]].Fulfilment = &f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Explanation is how a reward came to be: the rule of the program version
// that produced it, the event, the inputs and the arithmetic.
type Explanation struct {
	RuleVersion int                 `json:"rule_version"`
	Rule        *parrain.RewardRule `json:"rule,omitempty"`
	Inputs      *parrain.Inputs     `json:"inputs,omitempty"`
	Steps       []string            `json:"steps"`
	// Event is the event as reported (absent for contest prizes).
	Event *json.RawMessage `json:"event,omitempty"`
	// Contest names the contest of a prize.
	Contest string `json:"contest,omitempty"`
	// Text is the one-line explanation.
	Text string `json:"text"`
}

// RewardExplained is a reward with its ledger entries and its explanation.
type RewardExplained struct {
	parrain.Reward
	Ledger  []parrain.Entry `json:"ledger"`
	Explain Explanation     `json:"explain"`
}

// ExplainReward returns a program's reward with its details, ledger and
// explanation.
func (s *Store) ExplainReward(ctx context.Context, programID, id string) (RewardExplained, error) {
	rw, err := s.Reward(ctx, programID, id)
	if err != nil {
		return RewardExplained{}, err
	}
	one := []parrain.Reward{rw}
	if err := s.decorate(ctx, s.r, one); err != nil {
		return RewardExplained{}, err
	}
	out := RewardExplained{Reward: one[0]}
	if out.Ledger, err = s.LedgerEntries(ctx, id); err != nil {
		return out, err
	}
	ex := Explanation{RuleVersion: rw.RuleVersion, Steps: []string{}, Text: rw.Explanation}
	var det string
	if err := s.r.QueryRowContext(ctx, `SELECT details FROM rewards WHERE id = $1`, id).Scan(&det); err != nil {
		return out, err
	}
	if det != "" {
		var d rewardDetails
		if err := json.Unmarshal([]byte(det), &d); err != nil {
			return out, fmt.Errorf("decoding reward details: %w", err)
		}
		ex.Inputs, ex.Steps = &d.Inputs, d.Steps
	}
	if rw.Trigger == parrain.TriggerContest {
		ex.Contest = strings.TrimPrefix(rw.EventID, "contest:")
	} else {
		prog, err := s.programAtVersion(ctx, s.r, programID, rw.RuleVersion)
		if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
			return out, err
		}
		if r, ok := prog.Rule(rw.RuleID); ok {
			ex.Rule = &r
		}
		var payload string
		err = s.r.QueryRowContext(ctx, `SELECT payload FROM events WHERE id = $1`, rw.EventID).Scan(&payload)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, err
		}
		if payload != "" {
			raw := json.RawMessage(payload)
			ex.Event = &raw
		}
	}
	if len(ex.Steps) == 0 {
		ex.Steps = []string{rw.Explanation}
	}
	out.Explain = ex
	return out, nil
}

// RewardFilter narrows a program's reward listing.
type RewardFilter struct {
	Status string
	Review string // waiting: queued for manual approval
}

// ProgramRewards lists a program's rewards, newest first, with their
// details.
func (s *Store) ProgramRewards(ctx context.Context, programID string, f RewardFilter, pg Page) ([]parrain.Reward, string, error) {
	if f.Status != "" && !parrain.ValidRewardStatus(f.Status) {
		return nil, "", parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back")
	}
	switch f.Review {
	case "", ReviewWaiting, ReviewApproved, ReviewRejected:
	default:
		return nil, "", parrain.Invalid("review", "must be waiting, approved or rejected")
	}
	where := `r.program_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = '' OR r.id < $3)`
	switch f.Review {
	case ReviewWaiting:
		where += ` AND r.review = 'waiting' AND r.status = 'pending'`
	case ReviewApproved, ReviewRejected:
		// Decided here, or decided in the console (then still 'waiting').
		where += ` AND (r.review = '` + f.Review + `' OR (r.review = 'waiting' AND r.status <> 'pending'))`
	}
	rws, err := s.rewardsWhere(ctx, s.r, where+` ORDER BY r.id DESC LIMIT $4`, programID, f.Status, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", err
	}
	rws, next, err := pageOf(rws, pg.limit(), func(r parrain.Reward) string { return r.ID })
	if err != nil {
		return nil, "", err
	}
	if err := s.decorate(ctx, s.r, rws); err != nil {
		return nil, "", err
	}
	if f.Review == ReviewApproved || f.Review == ReviewRejected {
		kept := rws[:0]
		for _, r := range rws {
			if r.Review == f.Review {
				kept = append(kept, r)
			}
		}
		rws = kept
	}
	return rws, next, nil
}
