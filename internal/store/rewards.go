package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// JobMatureReward is the job kind that approves a reward when its hold ends.
const JobMatureReward = "reward.mature"

// MatureRewardArgs is the payload of a JobMatureReward job.
type MatureRewardArgs struct {
	RewardID string `json:"reward_id"`
}

const rewardSelect = `SELECT r.id, r.program_id, r.participant_id, (SELECT p.external_id FROM participants p WHERE p.id = r.participant_id),
	r.referral_id, r.purchase_id, (SELECT pu.order_id FROM purchases pu WHERE pu.id = r.purchase_id), r.event_id, r.rule_id, r.rule_version,
	r.role, r.trigger_type, r.kind, r.amount_type, r.amount, r.currency, r.reversed, r.status, r.description, r.explanation,
	r.hold_until, r.approved_at, r.created_at FROM rewards r`

func scanReward(sc scanner) (parrain.Reward, error) {
	var r parrain.Reward
	var purchase, order sql.NullString
	var hold, created int64
	var approved sql.NullInt64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.ParticipantID, &r.ExternalID, &r.ReferralID, &purchase, &order, &r.EventID, &r.RuleID,
		&r.RuleVersion, &r.Role, &r.Trigger, &r.Kind, &r.AmountType, &r.Amount, &r.Currency, &r.Reversed, &r.Status,
		&r.Description, &r.Explanation, &hold, &approved, &created)
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
	payload, _ := json.Marshal(MatureRewardArgs{RewardID: rw.ID})
	return s.enqueueTx(ctx, tx, JobMatureReward, JobMatureReward+":"+rw.ID, payload, rw.HoldUntil)
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
	rw.Status, rw.Reversed, rw.ApprovedAt = st, reversed, approved
	return nil
}

// ApproveReward approves a pending reward whose hold has ended. It is
// idempotent: approving twice, or approving a reversed reward, does nothing
// and returns false. If the hold has not ended yet, notBefore says when to
// try again.
func (s *Store) ApproveReward(ctx context.Context, id string) (approved bool, notBefore time.Time, err error) {
	done := false
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rws, err := s.rewardsWhere(ctx, tx, `r.id = $1`+s.d.forUpdate, id)
		if err != nil {
			return err
		}
		if len(rws) == 0 {
			return notFound("reward")
		}
		rw := &rws[0]
		if s.clock.Now().Before(rw.HoldUntil) {
			notBefore = rw.HoldUntil
			return nil
		}
		moves, st, ok := parrain.Approve(rw)
		if !ok {
			return nil
		}
		done = true
		return s.applyMoves(ctx, tx, rw, moves, st, rw.Reversed, "hold period ended")
	})
	return done, notBefore, err
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
