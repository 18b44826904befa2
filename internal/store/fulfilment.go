package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Fulfilment of non-cash rewards: once a reward is approved, a coupon or
// gift card gets a code from its pool, and credits, feature unlocks, custom
// rewards (and codes, when the program has a fulfilment URL) are pushed to
// the customer's system by a signed webhook. The reward is marked fulfilled
// — its value moves from approved to paid in the ledger — only on a 2xx
// acknowledgement, or, for a code without a fulfilment URL, when the code
// is assigned (the participant sees it in the API). Network delivery is
// done by the job runner (internal/jobs), outside any transaction.

// DefaultPool is the generated code pool of coupons that name no pool.
const DefaultPool = "generated"

// Alert kinds.
const (
	AlertPoolEmpty      = "coupon_pool_empty"
	AlertPoolLow        = "coupon_pool_low"
	AlertPoolMissing    = "coupon_pool_missing"
	AlertNoFulfilment   = "fulfilment_not_configured"
	AlertFulfilmentFail = "fulfilment_failing"
)

// FulfilmentFailAlertAfter is how many failed deliveries raise an alert.
const FulfilmentFailAlertAfter = 8

// scheduleFulfilmentTx records a new non-cash reward's fulfilment and
// enqueues its delivery for when its hold ends.
func (s *Store) scheduleFulfilmentTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, spec parrain.RewardSpec) error {
	pool := ""
	if parrain.UsesCode(rw.Kind) {
		pool = spec.Pool
		if pool == "" {
			pool = DefaultPool
		}
	}
	now := ms(s.clock.Now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO reward_fulfilments (reward_id, program_id, kind, status, pool, feature, days, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, rw.ID, rw.ProgramID, rw.Kind, parrain.FulfilScheduled, pool, spec.Feature, spec.Days, now); err != nil {
		return fmt.Errorf("scheduling fulfilment: %w", err)
	}
	rw.Fulfilment = &parrain.FulfilmentState{Status: parrain.FulfilScheduled, Pool: pool, Feature: spec.Feature, Days: spec.Days}
	payload, _ := json.Marshal(parrain.FulfilRewardArgs{RewardID: rw.ID})
	return s.enqueueTx(ctx, tx, parrain.JobFulfilReward, parrain.JobFulfilReward+":"+rw.ID, payload, rw.HoldUntil)
}

// kickJobTx makes a job with a unique key run now: it is inserted if
// missing, or made available again if it finished or waits. A job running
// now is re-armed (rerun): when its run ends it is put back to run at once,
// so a wake-up that arrives while the job is deciding to park is never
// lost.
func (s *Store) kickJobTx(ctx context.Context, q querier, kind, uniqueKey string, payload []byte) error {
	now := ms(s.clock.Now())
	if _, err := q.ExecContext(ctx, `UPDATE jobs SET state = 'available', run_at = $1, attempts = 0, last_error = '', finished_at = NULL, rerun = 0
		WHERE unique_key = $2 AND state <> 'running'`, now, uniqueKey); err != nil {
		return fmt.Errorf("kicking job: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE jobs SET rerun = 1 WHERE unique_key = $1 AND state = 'running'`, uniqueKey); err != nil {
		return fmt.Errorf("re-arming running job: %w", err)
	}
	return s.enqueueTx(ctx, q, kind, uniqueKey, payload, fromMS(now))
}

// KickFulfilment makes an approved reward's delivery run now (the
// maturation job calls it after approving).
func (s *Store) KickFulfilment(ctx context.Context, rewardID string) error {
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM reward_fulfilments WHERE reward_id = $1 AND status = $2`,
		rewardID, parrain.FulfilScheduled).Scan(&n); err != nil || n == 0 {
		return err
	}
	_, err := s.w.ExecContext(ctx, `UPDATE jobs SET run_at = $1 WHERE unique_key = $2 AND state = 'available' AND run_at > $1`,
		ms(s.clock.Now()), parrain.JobFulfilReward+":"+rewardID)
	return err
}

// resumeFulfilmentsTx re-runs the deliveries of a program waiting in
// status (for codes of pool, or for a fulfilment URL).
func (s *Store) resumeFulfilmentsTx(ctx context.Context, tx *sql.Tx, programID string, status parrain.FulfilmentStatus, pool string) error {
	rows, err := tx.QueryContext(ctx, `SELECT reward_id FROM reward_fulfilments WHERE program_id = $1 AND status = $2 AND ($3 = '' OR pool = $3)
		ORDER BY reward_id`, programID, status, pool)
	if err != nil {
		return fmt.Errorf("listing waiting fulfilments: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		payload, _ := json.Marshal(parrain.FulfilRewardArgs{RewardID: id})
		if err := s.kickJobTx(ctx, tx, parrain.JobFulfilReward, parrain.JobFulfilReward+":"+id, payload); err != nil {
			return err
		}
	}
	return nil
}

// ResumeFulfilments re-runs the deliveries of a program waiting in status
// (for codes of pool, or for a fulfilment URL when pool is "").
func (t *Tx) ResumeFulfilments(ctx context.Context, programID string, status parrain.FulfilmentStatus, pool string) error {
	return t.s.resumeFulfilmentsTx(ctx, t.tx, programID, status, pool)
}

// FulfilmentDelivery is a webhook the job runner must deliver for a
// reward; empty URL means nothing to deliver now.
type FulfilmentDelivery struct {
	RewardID string
	URL      string
	Secret   string
	MsgID    string
	Payload  []byte
	// Snooze, when set, is when to look again (the reward is not approved
	// yet).
	Snooze time.Time
}

// FulfilmentPayload is the JSON body of a fulfilment webhook (Standard
// Webhooks shape: type, timestamp, data).
type FulfilmentPayload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      FulfilmentOrder `json:"data"`
}

// FulfilmentOrder is what the customer's system must deliver.
type FulfilmentOrder struct {
	RewardID      string             `json:"reward_id"`
	ProgramID     string             `json:"program_id"`
	ExternalID    string             `json:"external_id"`
	Email         string             `json:"email,omitempty"`
	Role          parrain.Role       `json:"role"`
	Kind          parrain.RewardKind `json:"kind"`
	Amount        int64              `json:"amount"`
	Currency      string             `json:"currency"`
	Description   string             `json:"description,omitempty"`
	Code          string             `json:"code,omitempty"`
	Pool          string             `json:"pool,omitempty"`
	PercentOffBps int64              `json:"percent_off_bps,omitempty"`
	Feature       string             `json:"feature,omitempty"`
	Days          int                `json:"days,omitempty"`
	ReferralID    string             `json:"referral_id"`
}

// WebhookFulfilment is the type of fulfilment webhooks.
const WebhookFulfilment = "reward.fulfilment"

// PrepareFulfilment moves a reward's delivery forward as far as the
// database goes: it waits while the reward is pending, cancels when it was
// reversed, assigns a code (raising an alert when the pool is dry), and
// either settles the reward or returns the webhook to deliver.
func (s *Store) PrepareFulfilment(ctx context.Context, rewardID string) (FulfilmentDelivery, error) {
	var d FulfilmentDelivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d = FulfilmentDelivery{RewardID: rewardID, MsgID: "ful_" + strings.TrimPrefix(rewardID, "rwd_")}
		rws, err := s.rewardsWhere(ctx, tx, `r.id = $1`+s.d.forUpdate, rewardID)
		if err != nil {
			return err
		}
		if len(rws) == 0 {
			return nil // gone: nothing to deliver
		}
		rw := &rws[0]
		f, err := s.fulfilmentTx(ctx, tx, rewardID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case f.Status == parrain.FulfilFulfilled || f.Status == parrain.FulfilCancelled:
			return nil
		case rw.Outstanding() <= 0 || rw.Status == parrain.RewardReversed || rw.Status == parrain.RewardClawedBack:
			return s.setFulfilmentTx(ctx, tx, rewardID, parrain.FulfilCancelled, "")
		case rw.Status == parrain.RewardPending:
			// Due rewards are approved here too (the same rules as the
			// maturation job, which may run at the same instant), so the
			// delivery does not depend on which job runs first. Rewards still
			// on hold, under review or waiting for a manager are looked at
			// again later; approvals made by hand are picked up within the
			// hour.
			ok, nb, err := s.approveDueTx(ctx, tx, rw)
			if err != nil {
				return err
			}
			if !ok {
				d.Snooze = s.clock.Now().Add(time.Hour)
				if !nb.IsZero() {
					d.Snooze = nb
				}
				return nil
			}
		case rw.Status != parrain.RewardApproved:
			return nil // paid by other means
		}
		if parrain.UsesCode(rw.Kind) && f.Code == "" {
			code, ok, err := s.assignCodeTx(ctx, tx, rw, f.Pool)
			if err != nil || !ok {
				return err
			}
			f.Code = code
		}
		url, secret, err := s.fulfilmentTarget(ctx, tx, rw.ProgramID)
		if err != nil {
			return err
		}
		if url == "" {
			if parrain.UsesCode(rw.Kind) {
				return s.settleTx(ctx, tx, rw, "code "+f.Code+" assigned")
			}
			if err := s.setFulfilmentTx(ctx, tx, rewardID, parrain.FulfilWaitingConfig, ""); err != nil {
				return err
			}
			return s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertNoFulfilment, "fulfilment",
				fmt.Sprintf("%s rewards wait for delivery: set the program's fulfilment URL so they can be pushed to your system", rw.Kind))
		}
		if secret == "" {
			if err := s.setFulfilmentTx(ctx, tx, rewardID, parrain.FulfilWaitingConfig, "the fulfilment URL has no secret"); err != nil {
				return err
			}
			return s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertNoFulfilment, "fulfilment",
				"the fulfilment URL has no signing secret: set fulfilment.secret so deliveries can be signed")
		}
		var spec rewardDetails
		var det, email string
		if err := tx.QueryRowContext(ctx, `SELECT r.details, p.email FROM rewards r JOIN participants p ON p.id = r.participant_id WHERE r.id = $1`,
			rewardID).Scan(&det, &email); err != nil {
			return err
		}
		if det != "" {
			_ = json.Unmarshal([]byte(det), &spec)
		}
		body, err := json.Marshal(FulfilmentPayload{Type: WebhookFulfilment, Timestamp: s.clock.Now(), Data: FulfilmentOrder{
			RewardID: rw.ID, ProgramID: rw.ProgramID, ExternalID: rw.ExternalID, Email: email, Role: rw.Role, Kind: rw.Kind,
			Amount: rw.Amount, Currency: rw.Currency, Description: rw.Description, Code: f.Code, Pool: f.Pool,
			PercentOffBps: spec.Spec.PercentOffBps, Feature: f.Feature, Days: f.Days, ReferralID: rw.ReferralID}})
		if err != nil {
			return err
		}
		if f.Status != parrain.FulfilDelivering {
			if err := s.setFulfilmentTx(ctx, tx, rewardID, parrain.FulfilDelivering, ""); err != nil {
				return err
			}
		}
		d.URL, d.Secret, d.Payload = url, secret, body
		return nil
	})
	return d, err
}

// RecordFulfilment records a delivery attempt's outcome: a 2xx settles the
// reward; a failure counts an attempt, keeps the error, raises an alert
// after FulfilmentFailAlertAfter attempts, and returns how many attempts
// failed so far (the runner waits before the next).
func (s *Store) RecordFulfilment(ctx context.Context, rewardID string, ok bool, errMsg string) (int, error) {
	attempts := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		attempts = 0
		rws, err := s.rewardsWhere(ctx, tx, `r.id = $1`+s.d.forUpdate, rewardID)
		if err != nil || len(rws) == 0 {
			return err
		}
		rw := &rws[0]
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM reward_fulfilments WHERE reward_id = $1`+s.d.forUpdate, rewardID).Scan(&attempts); err != nil {
			return err
		}
		attempts++
		now := ms(s.clock.Now())
		if ok {
			if _, err := tx.ExecContext(ctx, `UPDATE reward_fulfilments SET attempts = $1, last_error = '', updated_at = $2 WHERE reward_id = $3`,
				attempts, now, rewardID); err != nil {
				return err
			}
			if rw.Status != parrain.RewardApproved {
				// Reversed meanwhile: the customer's system has it; the
				// ledger already took the value back.
				return s.setFulfilmentTx(ctx, tx, rewardID, parrain.FulfilFulfilled, "")
			}
			if err := s.resolveAlertsTx(ctx, tx, rw.ProgramID, AlertFulfilmentFail, "fulfilment"); err != nil {
				return err
			}
			return s.settleTx(ctx, tx, rw, "delivery acknowledged")
		}
		errMsg = truncateStr(errMsg, 500)
		if _, err := tx.ExecContext(ctx, `UPDATE reward_fulfilments SET attempts = $1, last_error = $2, updated_at = $3 WHERE reward_id = $4`,
			attempts, errMsg, now, rewardID); err != nil {
			return err
		}
		if attempts >= FulfilmentFailAlertAfter {
			return s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertFulfilmentFail, "fulfilment",
				fmt.Sprintf("deliveries to the fulfilment URL keep failing (reward %s: %d attempts, last error: %s); Parrain keeps retrying", rw.ID, attempts, errMsg))
		}
		return nil
	})
	return attempts, err
}

// settleTx marks a delivered reward fulfilled: its approved value moves to
// paid with fulfilment entries and its status becomes paid.
func (s *Store) settleTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, memo string) error {
	if moves, st, ok := parrain.Fulfil(rw); ok {
		if err := s.applyMoves(ctx, tx, rw, moves, st, rw.Reversed, "fulfilled: "+memo); err != nil {
			return err
		}
	}
	return s.setFulfilmentTx(ctx, tx, rw.ID, parrain.FulfilFulfilled, "")
}

func (s *Store) setFulfilmentTx(ctx context.Context, tx *sql.Tx, rewardID string, st parrain.FulfilmentStatus, lastErr string) error {
	now := ms(s.clock.Now())
	var done sql.NullInt64
	if st == parrain.FulfilFulfilled {
		done = sql.NullInt64{Int64: now, Valid: true}
	}
	_, err := tx.ExecContext(ctx, `UPDATE reward_fulfilments SET status = $1, last_error = CASE WHEN $2 = '' THEN last_error ELSE $2 END,
		fulfilled_at = COALESCE(fulfilled_at, $3), updated_at = $4 WHERE reward_id = $5`, st, lastErr, done, now, rewardID)
	if err != nil {
		return fmt.Errorf("updating fulfilment: %w", err)
	}
	return nil
}

func (s *Store) fulfilmentTx(ctx context.Context, q querier, rewardID string) (parrain.FulfilmentState, error) {
	var f parrain.FulfilmentState
	var done sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT status, code, pool, feature, days, attempts, last_error, fulfilled_at FROM reward_fulfilments WHERE reward_id = $1`,
		rewardID).Scan(&f.Status, &f.Code, &f.Pool, &f.Feature, &f.Days, &f.Attempts, &f.LastError, &done)
	f.FulfilledAt = fromNullMS(done)
	return f, err
}

// assignCodeTx gives a reward a code from its pool: a free imported code,
// or a generated one. ok is false when none is available (the reward waits
// and an alert is open).
func (s *Store) assignCodeTx(ctx context.Context, tx *sql.Tx, rw *parrain.Reward, poolName string) (string, bool, error) {
	pool, err := s.poolTx(ctx, tx, rw.ProgramID, poolName)
	if errors.Is(err, sql.ErrNoRows) && poolName == DefaultPool {
		pool, err = s.createPoolTx(ctx, tx, rw.ProgramID, CouponPool{Name: DefaultPool, GenerateLength: 10})
	}
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.setFulfilmentTx(ctx, tx, rw.ID, parrain.FulfilWaitingCodes, "pool "+poolName+" does not exist"); err != nil {
			return "", false, err
		}
		return "", false, s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertPoolMissing, poolName,
			fmt.Sprintf("rewards wait for codes of pool %q, which does not exist: create it and import codes", poolName))
	}
	if err != nil {
		return "", false, err
	}
	now := ms(s.clock.Now())
	if pool.GenerateLength > 0 {
		for range 10 {
			code := pool.GeneratePrefix + randomCode(pool.GenerateLength)
			res, err := tx.ExecContext(ctx, `INSERT INTO coupon_codes (id, pool_id, program_id, code, reward_id, assigned_at, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING`, newID("cpn"), pool.ID, rw.ProgramID, code, rw.ID, now)
			if err != nil {
				return "", false, fmt.Errorf("storing generated code: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return code, true, s.codeAssignedTx(ctx, tx, rw.ID, code)
			}
		}
		return "", false, errors.New("could not generate a unique code")
	}
	var id, code string
	draw := func() error {
		return tx.QueryRowContext(ctx, `SELECT id, code FROM coupon_codes WHERE pool_id = $1 AND reward_id IS NULL ORDER BY id LIMIT 1`+s.d.skipLocked,
			pool.ID).Scan(&id, &code)
	}
	err = draw()
	if errors.Is(err, sql.ErrNoRows) && s.d.forUpdate != "" {
		// Before parking the reward, wait for an import committing now
		// (ImportCodes holds the pool's row) and look again: either this
		// sees its codes, or the import sees this reward waiting and wakes
		// it (PostgreSQL; SQLite's single writer already orders them).
		if _, err := tx.ExecContext(ctx, `SELECT id FROM coupon_pools WHERE id = $1`+s.d.forUpdate, pool.ID); err != nil {
			return "", false, fmt.Errorf("locking pool: %w", err)
		}
		err = draw()
	}
	if errors.Is(err, sql.ErrNoRows) {
		if err := s.setFulfilmentTx(ctx, tx, rw.ID, parrain.FulfilWaitingCodes, "pool "+poolName+" is empty"); err != nil {
			return "", false, err
		}
		return "", false, s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertPoolEmpty, poolName,
			fmt.Sprintf("the code pool %q is empty: rewards wait for codes; import more to deliver them", poolName))
	}
	if err != nil {
		return "", false, fmt.Errorf("drawing a code: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE coupon_codes SET reward_id = $1, assigned_at = $2 WHERE id = $3`, rw.ID, now, id); err != nil {
		return "", false, fmt.Errorf("assigning code: %w", err)
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM coupon_codes WHERE pool_id = $1 AND reward_id IS NULL`, pool.ID).Scan(&left); err != nil {
		return "", false, err
	}
	if pool.LowWater > 0 && left < pool.LowWater {
		if err := s.raiseAlertTx(ctx, tx, rw.ProgramID, AlertPoolLow, poolName,
			fmt.Sprintf("the code pool %q is running low: %d codes left (alert below %d)", poolName, left, pool.LowWater)); err != nil {
			return "", false, err
		}
	}
	return code, true, s.codeAssignedTx(ctx, tx, rw.ID, code)
}

func (s *Store) codeAssignedTx(ctx context.Context, tx *sql.Tx, rewardID, code string) error {
	_, err := tx.ExecContext(ctx, `UPDATE reward_fulfilments SET code = $1, updated_at = $2 WHERE reward_id = $3`, code, ms(s.clock.Now()), rewardID)
	return err
}

// codeAlphabet avoids look-alike characters, like referral codes.
const codeAlphabet = parrain.CodeAlphabet

func randomCode(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(codeAlphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = codeAlphabet[v.Int64()]
	}
	return string(b)
}

// ---- code pools ----

// CouponPool is a pool of coupon or gift card codes.
type CouponPool struct {
	ID        string `json:"id"`
	ProgramID string `json:"program_id"`
	Name      string `json:"name"`
	// GeneratePrefix and GenerateLength make a generated pool: codes are
	// made on demand (prefix + length random characters) and it never runs
	// dry. Without them, codes are imported.
	GeneratePrefix string `json:"generate_prefix,omitempty"`
	GenerateLength int    `json:"generate_length,omitempty"`
	// LowWater raises a low-stock alert when fewer codes are left; 0 turns
	// the alert off. Absent from a JSON request it is DefaultLowWater.
	LowWater  int       `json:"low_water"`
	Available int64     `json:"available"`
	Assigned  int64     `json:"assigned"`
	CreatedAt time.Time `json:"created_at"`
}

// DefaultLowWater is a pool's low-stock threshold when a request names none.
const DefaultLowWater = 10

// UnmarshalJSON reads a pool strictly (unknown fields are errors), with
// low_water defaulting to DefaultLowWater only when absent: an explicit 0
// turns the low-stock alert off.
func (p *CouponPool) UnmarshalJSON(b []byte) error {
	type plain CouponPool
	v := plain{LowWater: DefaultLowWater}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*p = CouponPool(v)
	return nil
}

// Normalize validates a pool before it is created.
func (p *CouponPool) Normalize() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || len(p.Name) > 64 || strings.ToLower(p.Name) != p.Name || strings.ContainsAny(p.Name, " :/") {
		return parrain.Invalid("name", "must be a pool name: lower-case letters, digits, - and _ (at most 64)")
	}
	if p.GenerateLength < 0 || p.GenerateLength > 32 || (p.GenerateLength > 0 && p.GenerateLength < 6) {
		return parrain.Invalid("generate_length", "must be between 6 and 32 (or 0 for imported codes)")
	}
	if p.GeneratePrefix != "" && p.GenerateLength == 0 {
		return parrain.Invalid("generate_prefix", "is only for generated pools (set generate_length)")
	}
	if len(p.GeneratePrefix) > 20 || strings.ContainsAny(p.GeneratePrefix, " \t\n") {
		return parrain.Invalid("generate_prefix", "must be at most 20 characters without spaces")
	}
	if p.LowWater < 0 || p.LowWater > 1000000 {
		return parrain.Invalid("low_water", "must be between 0 (no low-stock alert) and 1000000")
	}
	return nil
}

// CouponPool returns a program's pool by name (not found when missing).
func (t *Tx) CouponPool(ctx context.Context, programID, name string) (CouponPool, error) {
	p, err := t.s.poolTx(ctx, t.tx, programID, name)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("pool")
	}
	return p, err
}

// LockCouponPool locks a pool until the transaction ends, ordering a code
// import with a delivery parking a reward for lack of codes (see
// assignCodeTx): the rewards waiting are counted after it commits.
func (t *Tx) LockCouponPool(ctx context.Context, poolID string) error {
	if _, err := t.tx.ExecContext(ctx, `SELECT id FROM coupon_pools WHERE id = $1`+t.s.d.forUpdate, poolID); err != nil {
		return fmt.Errorf("locking pool: %w", err)
	}
	return nil
}

// CreateCouponPool inserts a pool (validated by the caller) and returns it
// with its id.
func (t *Tx) CreateCouponPool(ctx context.Context, programID string, p CouponPool) (CouponPool, error) {
	return t.s.createPoolTx(ctx, t.tx, programID, p)
}

// InsertCouponCodes adds codes to a pool; codes already in the program are
// returned as duplicates and skipped.
func (t *Tx) InsertCouponCodes(ctx context.Context, pool CouponPool, codes []string) (imported int, duplicates []string, err error) {
	now := ms(t.s.clock.Now())
	duplicates = []string{}
	for _, c := range codes {
		r, err := t.tx.ExecContext(ctx, `INSERT INTO coupon_codes (id, pool_id, program_id, code, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT DO NOTHING`, newID("cpn"), pool.ID, pool.ProgramID, c, now)
		if err != nil {
			return imported, duplicates, fmt.Errorf("importing code: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 1 {
			imported++
		} else {
			duplicates = append(duplicates, c)
		}
	}
	return imported, duplicates, nil
}

// CouponStock counts a pool's codes left and the rewards waiting for one.
func (t *Tx) CouponStock(ctx context.Context, pool CouponPool) (left, waiting int64, err error) {
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM coupon_codes WHERE pool_id = $1 AND reward_id IS NULL`, pool.ID).Scan(&left); err != nil {
		return 0, 0, fmt.Errorf("counting codes: %w", err)
	}
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM reward_fulfilments WHERE program_id = $1 AND pool = $2 AND status = $3`,
		pool.ProgramID, pool.Name, parrain.FulfilWaitingCodes).Scan(&waiting); err != nil {
		return 0, 0, fmt.Errorf("counting waiting rewards: %w", err)
	}
	return left, waiting, nil
}

// ResolveAlerts marks a program's open alerts of a kind and subject
// resolved.
func (t *Tx) ResolveAlerts(ctx context.Context, programID, kind, subject string) error {
	return t.s.resolveAlertsTx(ctx, t.tx, programID, kind, subject)
}

func (s *Store) createPoolTx(ctx context.Context, tx *sql.Tx, programID string, p CouponPool) (CouponPool, error) {
	p.ID, p.ProgramID, p.CreatedAt = newID("pool"), programID, s.clock.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO coupon_pools (id, program_id, name, generate_prefix, generate_length, low_water, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, programID, p.Name, p.GeneratePrefix, p.GenerateLength, p.LowWater, ms(p.CreatedAt)); err != nil {
		return p, fmt.Errorf("creating pool: %w", err)
	}
	return p, nil
}

func (s *Store) poolTx(ctx context.Context, q querier, programID, name string) (CouponPool, error) {
	var p CouponPool
	var created int64
	err := q.QueryRowContext(ctx, `SELECT id, program_id, name, generate_prefix, generate_length, low_water, created_at FROM coupon_pools
		WHERE program_id = $1 AND name = $2`, programID, name).Scan(&p.ID, &p.ProgramID, &p.Name, &p.GeneratePrefix, &p.GenerateLength, &p.LowWater, &created)
	p.CreatedAt = fromMS(created)
	return p, err
}

// CouponPools lists a program's pools with their counts.
func (s *Store) CouponPools(ctx context.Context, programID string) ([]CouponPool, error) {
	if _, err := s.Program(ctx, programID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT p.id, p.program_id, p.name, p.generate_prefix, p.generate_length, p.low_water, p.created_at,
		(SELECT COUNT(*) FROM coupon_codes c WHERE c.pool_id = p.id AND c.reward_id IS NULL),
		(SELECT COUNT(*) FROM coupon_codes c WHERE c.pool_id = p.id AND c.reward_id IS NOT NULL)
		FROM coupon_pools p WHERE p.program_id = $1 ORDER BY p.name`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing pools: %w", err)
	}
	defer rows.Close()
	out := []CouponPool{}
	for rows.Next() {
		var p CouponPool
		var created int64
		if err := rows.Scan(&p.ID, &p.ProgramID, &p.Name, &p.GeneratePrefix, &p.GenerateLength, &p.LowWater, &created, &p.Available, &p.Assigned); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// ImportResult says what a code import did.
type ImportResult struct {
	Imported   int        `json:"imported"`
	Duplicates []string   `json:"duplicates"`
	Pool       CouponPool `json:"pool"`
}

// MaxImport bounds the codes of one import request.
const MaxImport = 10000

// ---- alerts ----

// Alert is something a program manager must see and act on.
type Alert struct {
	ID          string     `json:"id"`
	ProgramID   string     `json:"program_id"`
	Kind        string     `json:"kind"`
	Subject     string     `json:"subject"`
	Message     string     `json:"message"`
	Occurrences int        `json:"occurrences"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
}

// raiseAlertTx opens an alert, or counts one more occurrence of the open
// alert of the same kind and subject.
func (s *Store) raiseAlertTx(ctx context.Context, tx *sql.Tx, programID, kind, subject, message string) error {
	now := ms(s.clock.Now())
	res, err := tx.ExecContext(ctx, `UPDATE alerts SET occurrences = occurrences + 1, message = $1, updated_at = $2
		WHERE program_id = $3 AND kind = $4 AND subject = $5 AND resolved_at IS NULL`, message, now, programID, kind, subject)
	if err != nil {
		return fmt.Errorf("updating alert: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, program_id, kind, subject, message, occurrences, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $6)`, newID("alr"), programID, kind, subject, message, now); err != nil {
		return fmt.Errorf("raising alert: %w", err)
	}
	return nil
}

func (s *Store) resolveAlertsTx(ctx context.Context, tx *sql.Tx, programID, kind, subject string) error {
	_, err := tx.ExecContext(ctx, `UPDATE alerts SET resolved_at = $1, updated_at = $1 WHERE program_id = $2 AND kind = $3 AND subject = $4
		AND resolved_at IS NULL`, ms(s.clock.Now()), programID, kind, subject)
	return err
}

// Alerts lists a program's alerts, newest first; open only when asked.
func (s *Store) Alerts(ctx context.Context, programID string, openOnly bool) ([]Alert, error) {
	if _, err := s.Program(ctx, programID); err != nil {
		return nil, err
	}
	q := `SELECT id, program_id, kind, subject, message, occurrences, created_at, updated_at, resolved_at FROM alerts WHERE program_id = $1`
	if openOnly {
		q += ` AND resolved_at IS NULL`
	}
	rows, err := s.r.QueryContext(ctx, q+` ORDER BY id DESC LIMIT 500`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var created, updated int64
		var resolved sql.NullInt64
		if err := rows.Scan(&a.ID, &a.ProgramID, &a.Kind, &a.Subject, &a.Message, &a.Occurrences, &created, &updated, &resolved); err != nil {
			return nil, err
		}
		a.CreatedAt, a.UpdatedAt, a.ResolvedAt = fromMS(created), fromMS(updated), fromNullMS(resolved)
		out = append(out, a)
	}
	return out, rows.Err()
}

// kickFulfilmentTx makes a reinstated reward's delivery run now: a
// delivery cancelled by the void is scheduled again.
func (s *Store) kickFulfilmentTx(ctx context.Context, tx *sql.Tx, rewardID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE reward_fulfilments SET status = $1, updated_at = $2 WHERE reward_id = $3 AND status IN ($1, $4)`,
		parrain.FulfilScheduled, ms(s.clock.Now()), rewardID, parrain.FulfilCancelled)
	if err != nil {
		return fmt.Errorf("rescheduling fulfilment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // cash, or already delivered
	}
	payload, _ := json.Marshal(parrain.FulfilRewardArgs{RewardID: rewardID})
	return s.kickJobTx(ctx, tx, parrain.JobFulfilReward, parrain.JobFulfilReward+":"+rewardID, payload)
}
