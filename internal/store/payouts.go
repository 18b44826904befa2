package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// openPayouts is the SQL list of payout statuses that hold their rewards.
var openPayouts = func() string {
	var q []string
	for _, s := range parrain.OpenPayoutStatuses {
		q = append(q, "'"+string(s)+"'")
	}
	return "(" + strings.Join(q, ", ") + ")"
}()

// ---- payout accounts ----

func (s *Store) participantTx(ctx context.Context, q querier, programID, externalID string) (parrain.Participant, error) {
	p, err := scanParticipant(q.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND external_id = $2`, programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("participant")
	}
	if err != nil {
		return p, fmt.Errorf("loading participant: %w", err)
	}
	return p, nil
}

const payoutAccountSelect = `SELECT a.participant_id, a.program_id, p.external_id, a.method, a.stripe_account, a.paypal_email, a.bank,
	a.created_at, a.updated_at FROM payout_accounts a JOIN participants p ON p.id = a.participant_id`

func scanPayoutAccount(sc scanner) (parrain.PayoutAccount, error) {
	var a parrain.PayoutAccount
	var bank string
	var created, updated int64
	if err := sc.Scan(&a.ParticipantID, &a.ProgramID, &a.ExternalID, &a.Method, &a.StripeAccount, &a.PayPalEmail, &bank, &created, &updated); err != nil {
		return a, err
	}
	if bank != "" {
		a.Bank = &parrain.BankDetails{}
		if err := json.Unmarshal([]byte(bank), a.Bank); err != nil {
			return a, fmt.Errorf("decoding bank details: %w", err)
		}
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, nil
}

// SetPayoutAccount creates or replaces a participant's payout account.
func (s *Store) SetPayoutAccount(ctx context.Context, programID, externalID string, in parrain.PayoutAccountInput, idem Idem) (parrain.PayoutAccount, bool, error) {
	if err := in.Normalize(); err != nil {
		return parrain.PayoutAccount{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.PayoutAccount, error) {
		p, err := s.participantTx(ctx, tx, programID, externalID)
		if err != nil {
			return parrain.PayoutAccount{}, err
		}
		bank := ""
		if in.Bank != nil {
			b, err := json.Marshal(in.Bank)
			if err != nil {
				return parrain.PayoutAccount{}, err
			}
			bank = string(b)
		}
		now := ms(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO payout_accounts (participant_id, program_id, method, stripe_account, paypal_email, bank, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
			ON CONFLICT (participant_id) DO UPDATE SET method = $3, stripe_account = $4, paypal_email = $5, bank = $6, updated_at = $7`,
			p.ID, programID, in.Method, in.StripeAccount, in.PayPalEmail, bank, now); err != nil {
			return parrain.PayoutAccount{}, fmt.Errorf("storing payout account: %w", err)
		}
		if err := s.audit(ctx, tx, AuditPayoutAccountSet, "participant", p.ID, programID,
			map[string]any{"participant": externalID, "method": in.Method}); err != nil {
			return parrain.PayoutAccount{}, err
		}
		return scanPayoutAccount(tx.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, p.ID))
	})
}

// PayoutAccount returns a participant's payout account (unmasked: callers
// showing it mask it).
func (s *Store) PayoutAccount(ctx context.Context, programID, externalID string) (parrain.PayoutAccount, error) {
	a, err := scanPayoutAccount(s.r.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.program_id = $1 AND p.external_id = $2`, programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, perr := s.Participant(ctx, programID, externalID); perr != nil {
			return a, perr
		}
		return a, notFound("payout account")
	}
	return a, err
}

// DeletePayoutAccount removes a participant's payout account; payouts
// already in a batch keep the destination they were made with.
func (s *Store) DeletePayoutAccount(ctx context.Context, programID, externalID string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.participantTx(ctx, tx, programID, externalID)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM payout_accounts WHERE participant_id = $1`, p.ID)
		if err != nil {
			return fmt.Errorf("deleting payout account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("payout account")
		}
		return s.audit(ctx, tx, AuditPayoutAccountDeleted, "participant", p.ID, programID, map[string]any{"participant": externalID})
	})
}

// ---- settings and schedule ----

func (s *Store) payoutSettingsTx(ctx context.Context, q querier, programID, lock string) (parrain.PayoutSettings, error) {
	st := parrain.PayoutSettings{ProgramID: programID}
	var next sql.NullInt64
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT schedule, day, hour, minimum_amount, auto_approve_limit, next_run_at, updated_at
		FROM payout_settings WHERE program_id = $1`+lock, programID).
		Scan(&st.Schedule, &st.Day, &st.Hour, &st.MinimumAmount, &st.AutoApproveLimit, &next, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.programQ(ctx, q, programID, ""); err != nil {
			return st, err
		}
		return parrain.DefaultPayoutSettings(programID), nil
	}
	if err != nil {
		return st, fmt.Errorf("loading payout settings: %w", err)
	}
	st.NextRunAt, st.UpdatedAt = fromNullMS(next), fromMS(updated)
	return st, nil
}

// PayoutSettings returns a program's payout settings (the defaults when it
// set none).
func (s *Store) PayoutSettings(ctx context.Context, programID string) (parrain.PayoutSettings, error) {
	return s.payoutSettingsTx(ctx, s.r, programID, "")
}

// SetPayoutSettings replaces a program's payout settings and schedules the
// next run. A run job scheduled under the previous settings finds its slot
// stale and does nothing.
func (s *Store) SetPayoutSettings(ctx context.Context, programID string, in parrain.PayoutSettings) (parrain.PayoutSettings, error) {
	if err := in.Normalize(); err != nil {
		return in, err
	}
	var out parrain.PayoutSettings
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.programQ(ctx, tx, programID, s.d.forUpdate); err != nil {
			return err
		}
		now := s.clock.Now()
		in.ProgramID, in.UpdatedAt, in.NextRunAt = programID, now, nil
		if next, ok := parrain.NextPayoutRun(in, now); ok {
			in.NextRunAt = &next
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO payout_settings (program_id, schedule, day, hour, minimum_amount, auto_approve_limit, next_run_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (program_id) DO UPDATE SET schedule = $2, day = $3, hour = $4, minimum_amount = $5, auto_approve_limit = $6, next_run_at = $7, updated_at = $8`,
			programID, in.Schedule, in.Day, in.Hour, in.MinimumAmount, in.AutoApproveLimit, nullMS(in.NextRunAt), ms(now)); err != nil {
			return fmt.Errorf("storing payout settings: %w", err)
		}
		if err := s.audit(ctx, tx, AuditPayoutSettings, "program", programID, programID, map[string]any{"schedule": in.Schedule,
			"minimum_amount": in.MinimumAmount, "auto_approve_limit": in.AutoApproveLimit}); err != nil {
			return err
		}
		out = in
		if in.NextRunAt != nil {
			return s.schedulePayoutTx(ctx, tx, programID, *in.NextRunAt)
		}
		return nil
	})
	return out, err
}

func (s *Store) schedulePayoutTx(ctx context.Context, tx *sql.Tx, programID string, at time.Time) error {
	payload, _ := json.Marshal(parrain.PayoutScheduleArgs{ProgramID: programID, At: ms(at)})
	return s.enqueueTx(ctx, tx, parrain.JobPayoutSchedule, fmt.Sprintf("%s:%s:%d", parrain.JobPayoutSchedule, programID, ms(at)), payload, at)
}

// RunScheduledPayout makes the scheduled payout batch of slot at and
// schedules the next slot. It does nothing for a stale slot (the settings
// changed since it was scheduled) or a slot already run, and returns
// notBefore when the slot is still to come.
func (s *Store) RunScheduledPayout(ctx context.Context, programID string, at time.Time) (batch *parrain.PayoutBatch, notBefore time.Time, err error) {
	now := s.clock.Now()
	if now.Before(at) {
		return nil, at, nil
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		batch = nil // a retried attempt starts afresh
		if _, err := s.programQ(ctx, tx, programID, s.d.forUpdate); err != nil {
			return err
		}
		st, err := s.payoutSettingsTx(ctx, tx, programID, "")
		if err != nil {
			return err
		}
		if st.NextRunAt == nil || !st.NextRunAt.Equal(at) {
			return nil // stale: the settings changed
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payout_batches WHERE program_id = $1 AND scheduled_for = $2`, programID, ms(at)).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			slot := at
			b, err := s.assembleBatchTx(ctx, tx, programID, "schedule", &slot, st)
			if err != nil {
				return err
			}
			batch = &b
		}
		// The next slot after both the slot and now: a server down for
		// months makes one run, not one per missed month.
		from := at
		if now.After(from) {
			from = now
		}
		next, ok := parrain.NextPayoutRun(st, from)
		if !ok {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_settings SET next_run_at = $1 WHERE program_id = $2`, ms(next), programID); err != nil {
			return fmt.Errorf("updating next payout run: %w", err)
		}
		return s.schedulePayoutTx(ctx, tx, programID, next)
	})
	return batch, time.Time{}, err
}

// ---- batches ----

// CreatePayoutBatch runs a payout run on demand: it gathers the program's
// approved cash rewards not held by an open payout, per participant and
// currency, and makes a batch of the payouts due. The batch is approved at
// once when its total is within the program's auto-approval limit.
func (s *Store) CreatePayoutBatch(ctx context.Context, programID string, idem Idem) (parrain.PayoutBatch, bool, error) {
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.PayoutBatch, error) {
		if _, err := s.programQ(ctx, tx, programID, s.d.forUpdate); err != nil {
			return parrain.PayoutBatch{}, err
		}
		st, err := s.payoutSettingsTx(ctx, tx, programID, "")
		if err != nil {
			return parrain.PayoutBatch{}, err
		}
		return s.assembleBatchTx(ctx, tx, programID, "manual", nil, st)
	})
}

// assembleBatchTx gathers balances and stores a batch, its payouts and their
// items. The caller holds the program row lock (PostgreSQL) so that two runs
// never gather the same rewards.
func (s *Store) assembleBatchTx(ctx context.Context, tx *sql.Tx, programID, trigger string, slot *time.Time, st parrain.PayoutSettings) (parrain.PayoutBatch, error) {
	rows, err := tx.QueryContext(ctx, `SELECT le.reward_id, le.participant_id, le.currency, SUM(le.amount)
		FROM ledger_entries le JOIN rewards r ON r.id = le.reward_id
		WHERE le.program_id = $1 AND le.bucket = 'approved' AND r.kind = 'cash'
		AND NOT EXISTS (SELECT 1 FROM payout_items pi JOIN payouts p ON p.id = pi.payout_id
			WHERE pi.reward_id = le.reward_id AND p.status IN `+openPayouts+`)
		GROUP BY le.reward_id, le.participant_id, le.currency
		HAVING SUM(le.amount) <> 0`, programID)
	if err != nil {
		return parrain.PayoutBatch{}, fmt.Errorf("gathering balances: %w", err)
	}
	var balances []parrain.RewardBalance
	for rows.Next() {
		var b parrain.RewardBalance
		if err := rows.Scan(&b.RewardID, &b.ParticipantID, &b.Currency, &b.Amount); err != nil {
			rows.Close()
			return parrain.PayoutBatch{}, err
		}
		balances = append(balances, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return parrain.PayoutBatch{}, err
	}
	// The participants concerned: status, external id, payout account.
	type who struct {
		ext    string
		status parrain.ParticipantStatus
		acct   *parrain.PayoutAccount
	}
	people := map[string]*who{}
	for _, b := range balances {
		if people[b.ParticipantID] != nil {
			continue
		}
		w := &who{}
		if err := tx.QueryRowContext(ctx, `SELECT external_id, status FROM participants WHERE id = $1`, b.ParticipantID).Scan(&w.ext, &w.status); err != nil {
			return parrain.PayoutBatch{}, fmt.Errorf("loading participant: %w", err)
		}
		a, err := scanPayoutAccount(tx.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, b.ParticipantID))
		if err == nil {
			w.acct = &a
		} else if !errors.Is(err, sql.ErrNoRows) {
			return parrain.PayoutBatch{}, err
		}
		people[b.ParticipantID] = w
	}
	lines, skips := parrain.AssemblePayouts(balances, func(id string) string {
		switch w := people[id]; {
		case w.status != parrain.ParticipantActive:
			return parrain.SkipDisabled
		case w.acct == nil:
			return parrain.SkipNoAccount
		}
		return ""
	}, st.MinimumAmount)
	for i := range skips {
		skips[i].ExternalID = people[skips[i].ParticipantID].ext
	}

	now := s.clock.Now()
	b := parrain.PayoutBatch{ID: newID("pbat"), ProgramID: programID, Status: parrain.BatchPendingApproval, Trigger: trigger,
		ScheduledFor: slot, PayoutCount: len(lines), Totals: map[string]int64{}, Skipped: skips, CreatedAt: now, UpdatedAt: now}
	if b.Skipped == nil {
		b.Skipped = []parrain.PayoutSkip{}
	}
	for _, l := range lines {
		b.Totals[l.Currency] += l.Amount
	}
	if len(lines) == 0 {
		b.Status = parrain.BatchCompleted
	}
	totals, _ := json.Marshal(b.Totals)
	skipped, _ := json.Marshal(b.Skipped)
	if _, err := tx.ExecContext(ctx, `INSERT INTO payout_batches (id, program_id, status, trigger_type, scheduled_for, payout_count, totals, skipped, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		b.ID, programID, b.Status, trigger, nullMS(slot), len(lines), string(totals), string(skipped), ms(now)); err != nil {
		return b, fmt.Errorf("inserting payout batch: %w", err)
	}
	for _, l := range lines {
		w := people[l.ParticipantID]
		p := parrain.Payout{ID: newID("pay"), BatchID: b.ID, ProgramID: programID, ParticipantID: l.ParticipantID, ExternalID: w.ext,
			Method: w.acct.Method, Destination: w.acct.Destination(), Bank: w.acct.Bank, Amount: l.Amount, Currency: l.Currency,
			IdempotencyKey: parrain.PayoutKey(b.ID, l.ParticipantID, l.Currency), Status: parrain.PayoutPending,
			CreatedAt: now, UpdatedAt: now, Items: l.Items}
		bank := ""
		if p.Bank != nil {
			j, _ := json.Marshal(p.Bank)
			bank = string(j)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO payouts (id, batch_id, program_id, participant_id, method, destination, bank, amount, currency,
			idempotency_key, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
			p.ID, p.BatchID, programID, p.ParticipantID, p.Method, p.Destination, bank, p.Amount, p.Currency, p.IdempotencyKey, p.Status, ms(now)); err != nil {
			return b, fmt.Errorf("inserting payout: %w", err)
		}
		for _, it := range l.Items {
			if _, err := tx.ExecContext(ctx, `INSERT INTO payout_items (payout_id, reward_id, amount, planned, status) VALUES ($1, $2, $3, $3, $4)`,
				p.ID, it.RewardID, it.Amount, parrain.PayoutItemDue); err != nil {
				return b, fmt.Errorf("inserting payout item: %w", err)
			}
		}
		b.Payouts = append(b.Payouts, p)
	}
	if err := s.audit(ctx, tx, AuditPayoutBatchCreated, "payout_batch", b.ID, programID,
		map[string]any{"trigger": trigger, "payouts": b.PayoutCount, "totals": b.Totals}); err != nil {
		return b, err
	}
	if len(lines) > 0 && parrain.AutoApprove(st.AutoApproveLimit, b.Totals) {
		return s.approveBatchTx(ctx, tx, b.ID, "auto")
	}
	return b, nil
}

const batchCols = `id, program_id, status, trigger_type, scheduled_for, payout_count, totals, skipped, approved_by, approved_at, created_at, updated_at`

func scanBatch(sc scanner) (parrain.PayoutBatch, error) {
	var b parrain.PayoutBatch
	var slot, approved sql.NullInt64
	var totals, skipped string
	var created, updated int64
	if err := sc.Scan(&b.ID, &b.ProgramID, &b.Status, &b.Trigger, &slot, &b.PayoutCount, &totals, &skipped, &b.ApprovedBy, &approved, &created, &updated); err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(totals), &b.Totals); err != nil {
		return b, fmt.Errorf("decoding batch totals: %w", err)
	}
	if err := json.Unmarshal([]byte(skipped), &b.Skipped); err != nil {
		return b, fmt.Errorf("decoding batch skips: %w", err)
	}
	b.ScheduledFor, b.ApprovedAt = fromNullMS(slot), fromNullMS(approved)
	b.CreatedAt, b.UpdatedAt = fromMS(created), fromMS(updated)
	return b, nil
}

func (s *Store) batchTx(ctx context.Context, q querier, programID, id, lock string) (parrain.PayoutBatch, error) {
	b, err := scanBatch(q.QueryRowContext(ctx, `SELECT `+batchCols+` FROM payout_batches WHERE id = $1 AND ($2 = '' OR program_id = $2)`+lock, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return b, notFound("payout batch")
	}
	if err != nil {
		return b, fmt.Errorf("loading payout batch: %w", err)
	}
	ps, err := s.payoutsWhere(ctx, q, `p.batch_id = $1 ORDER BY p.id`, id)
	if err != nil {
		return b, err
	}
	b.Payouts = ps
	return b, nil
}

// PayoutBatch returns a batch with its payouts.
func (s *Store) PayoutBatch(ctx context.Context, programID, id string) (parrain.PayoutBatch, error) {
	return s.batchTx(ctx, s.r, programID, id, "")
}

// PayoutBatches lists a program's batches, newest first, without their
// payouts.
func (s *Store) PayoutBatches(ctx context.Context, programID string, pg Page) ([]parrain.PayoutBatch, string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+batchCols+` FROM payout_batches WHERE program_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`,
		programID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing payout batches: %w", err)
	}
	defer rows.Close()
	out := []parrain.PayoutBatch{}
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(b parrain.PayoutBatch) string { return b.ID })
}

// ApprovePayoutBatch approves a batch awaiting approval: its Stripe and
// PayPal payouts are queued for sending, its bank payouts await the manual
// transfer. Approving an approved batch again changes nothing.
func (s *Store) ApprovePayoutBatch(ctx context.Context, programID, id, by string) (parrain.PayoutBatch, error) {
	var out parrain.PayoutBatch
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b, err := s.batchTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		switch b.Status {
		case parrain.BatchApproved, parrain.BatchCompleted:
			if b.ApprovedAt != nil || b.PayoutCount == 0 {
				out = b
				return nil
			}
			return parrain.Errorf(parrain.CodeConflict, "the batch is %s", b.Status)
		case parrain.BatchCancelled:
			return parrain.Errorf(parrain.CodeConflict, "the batch was cancelled")
		}
		if out, err = s.approveBatchTx(ctx, tx, id, by); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPayoutBatchApproved, "payout_batch", id, out.ProgramID,
			map[string]any{"payouts": out.PayoutCount, "totals": out.Totals})
	})
	return out, err
}

func (s *Store) approveBatchTx(ctx context.Context, tx *sql.Tx, id, by string) (parrain.PayoutBatch, error) {
	now := s.clock.Now()
	ps, err := s.payoutsWhere(ctx, tx, `p.batch_id = $1 AND p.status = 'pending' ORDER BY p.id`, id)
	if err != nil {
		return parrain.PayoutBatch{}, err
	}
	// What is approved is what is still owed now, not what was owed when
	// the batch was made: a reward clawed back meanwhile is dropped.
	for i := range ps {
		if err := s.revalidatePayoutTx(ctx, tx, &ps[i]); err != nil {
			return parrain.PayoutBatch{}, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET status = $1, approved_by = $2, approved_at = $3, updated_at = $3 WHERE id = $4`,
		parrain.BatchApproved, by, ms(now), id); err != nil {
		return parrain.PayoutBatch{}, fmt.Errorf("approving batch: %w", err)
	}
	for _, p := range ps {
		if p.Status != parrain.PayoutPending {
			continue // nothing left: cancelled by the re-validation
		}
		next := parrain.PayoutQueued
		if p.Method == parrain.PayoutBank {
			next = parrain.PayoutManual
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payouts SET status = $1, updated_at = $2 WHERE id = $3`, next, ms(now), p.ID); err != nil {
			return parrain.PayoutBatch{}, fmt.Errorf("queueing payout: %w", err)
		}
		if next == parrain.PayoutQueued {
			payload, _ := json.Marshal(parrain.PayoutJobArgs{PayoutID: p.ID})
			if err := s.enqueueTx(ctx, tx, parrain.JobPayoutSend, parrain.JobPayoutSend+":"+p.ID, payload, now); err != nil {
				return parrain.PayoutBatch{}, err
			}
		}
	}
	if err := s.completeBatchTx(ctx, tx, id); err != nil {
		return parrain.PayoutBatch{}, err
	}
	return s.batchTx(ctx, tx, "", id, "")
}

// CancelPayoutBatch rejects a batch awaiting approval; its rewards return
// to the balance for the next run.
func (s *Store) CancelPayoutBatch(ctx context.Context, programID, id string) (parrain.PayoutBatch, error) {
	var out parrain.PayoutBatch
	err := s.tx(ctx, func(tx *sql.Tx) error {
		b, err := s.batchTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		switch b.Status {
		case parrain.BatchCancelled:
			out = b
			return nil
		case parrain.BatchPendingApproval:
		default:
			return parrain.Errorf(parrain.CodeConflict, "only a batch awaiting approval can be cancelled (this one is %s); cancel its payouts one by one", b.Status)
		}
		now := ms(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'cancelled', updated_at = $1 WHERE batch_id = $2 AND status = 'pending'`, now, id); err != nil {
			return fmt.Errorf("cancelling payouts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET status = 'cancelled', updated_at = $1 WHERE id = $2`, now, id); err != nil {
			return fmt.Errorf("cancelling batch: %w", err)
		}
		if out, err = s.batchTx(ctx, tx, "", id, ""); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPayoutBatchCancelled, "payout_batch", id, out.ProgramID,
			map[string]any{"payouts": out.PayoutCount, "totals": out.Totals})
	})
	return out, err
}

// completeBatchTx marks an approved batch completed once none of its
// payouts is open.
func (s *Store) completeBatchTx(ctx context.Context, tx *sql.Tx, batchID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE payout_batches SET status = 'completed', updated_at = $1
		WHERE id = $2 AND status = 'approved' AND NOT EXISTS (SELECT 1 FROM payouts WHERE batch_id = $2 AND status IN `+openPayouts+`)`,
		ms(s.clock.Now()), batchID)
	if err != nil {
		return fmt.Errorf("completing batch: %w", err)
	}
	return nil
}

// ---- payouts ----

const payoutSelect = `SELECT p.id, p.batch_id, p.program_id, p.participant_id, pa.external_id, p.method, p.destination, p.bank, p.amount, p.currency,
	p.idempotency_key, p.status, p.attempts, p.provider_ref, p.provider_status, p.failure_reason, p.last_error,
	p.sent_at, p.paid_at, p.failed_at, p.created_at, p.updated_at
	FROM payouts p JOIN participants pa ON pa.id = p.participant_id`

func scanPayout(sc scanner) (parrain.Payout, error) {
	var p parrain.Payout
	var bank string
	var sent, paid, failed sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.BatchID, &p.ProgramID, &p.ParticipantID, &p.ExternalID, &p.Method, &p.Destination, &bank, &p.Amount, &p.Currency,
		&p.IdempotencyKey, &p.Status, &p.Attempts, &p.ProviderRef, &p.ProviderStatus, &p.FailureReason, &p.LastError,
		&sent, &paid, &failed, &created, &updated); err != nil {
		return p, err
	}
	if bank != "" {
		p.Bank = &parrain.BankDetails{}
		if err := json.Unmarshal([]byte(bank), p.Bank); err != nil {
			return p, fmt.Errorf("decoding bank snapshot: %w", err)
		}
	}
	p.SentAt, p.PaidAt, p.FailedAt = fromNullMS(sent), fromNullMS(paid), fromNullMS(failed)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

func (s *Store) payoutsWhere(ctx context.Context, q querier, where string, args ...any) ([]parrain.Payout, error) {
	rows, err := q.QueryContext(ctx, payoutSelect+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("loading payouts: %w", err)
	}
	defer rows.Close()
	out := []parrain.Payout{}
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) payoutItems(ctx context.Context, q querier, payoutID string) ([]parrain.PayoutItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT reward_id, amount, planned, status FROM payout_items WHERE payout_id = $1 ORDER BY reward_id`, payoutID)
	if err != nil {
		return nil, fmt.Errorf("loading payout items: %w", err)
	}
	defer rows.Close()
	var out []parrain.PayoutItem
	for rows.Next() {
		var it parrain.PayoutItem
		if err := rows.Scan(&it.RewardID, &it.Amount, &it.Planned, &it.Status); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// payoutTx loads one payout with its items; lock is s.d.forUpdate or "".
func (s *Store) payoutTx(ctx context.Context, q querier, programID, id, lock string) (parrain.Payout, error) {
	ps, err := s.payoutsWhere(ctx, q, `p.id = $1 AND ($2 = '' OR p.program_id = $2)`+lock, id, programID)
	if err != nil {
		return parrain.Payout{}, err
	}
	if len(ps) == 0 {
		return parrain.Payout{}, notFound("payout")
	}
	p := ps[0]
	if p.Items, err = s.payoutItems(ctx, q, id); err != nil {
		return p, err
	}
	return p, nil
}

// Payout returns a payout of a program with its items. An empty programID
// finds it in any program (for jobs).
func (s *Store) Payout(ctx context.Context, programID, id string) (parrain.Payout, error) {
	return s.payoutTx(ctx, s.r, programID, id, "")
}

// PayoutFilter narrows a payout listing.
type PayoutFilter struct {
	Status        string
	ParticipantID string
	BatchID       string
}

// Payouts lists a program's payouts, newest first.
func (s *Store) Payouts(ctx context.Context, programID string, f PayoutFilter, pg Page) ([]parrain.Payout, string, error) {
	if f.Status != "" && !parrain.ValidPayoutStatus(f.Status) {
		return nil, "", parrain.Invalid("status", "must be pending, queued, sending, processing, manual, paid, failed or cancelled")
	}
	ps, err := s.payoutsWhere(ctx, s.r, `p.program_id = $1 AND ($2 = '' OR p.status = $2) AND ($3 = '' OR p.participant_id = $3)
		AND ($4 = '' OR p.batch_id = $4) AND ($5 = '' OR p.id < $5) ORDER BY p.id DESC LIMIT $6`,
		programID, f.Status, f.ParticipantID, f.BatchID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", err
	}
	return pageOf(ps, pg.limit(), func(p parrain.Payout) string { return p.ID })
}

// ParticipantPayouts lists a participant's payouts, newest first (what the
// portal and widget show).
func (s *Store) ParticipantPayouts(ctx context.Context, participantID string, pg Page) ([]parrain.Payout, string, error) {
	ps, err := s.payoutsWhere(ctx, s.r, `p.participant_id = $1 AND ($2 = '' OR p.id < $2) ORDER BY p.id DESC LIMIT $3`,
		participantID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", err
	}
	return pageOf(ps, pg.limit(), func(p parrain.Payout) string { return p.ID })
}

// BeginPayoutSend records that a provider call is about to be made for a
// payout, before making it: a queued payout becomes sending. resumed is
// true when the payout was already sending — a previous attempt may have
// reached the provider, so the caller reconciles before (re)sending with the
// same idempotency key. ok is false when there is nothing to send (paid,
// failed, cancelled, or not approved).
func (s *Store) BeginPayoutSend(ctx context.Context, id string) (p parrain.Payout, resumed, ok bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		p, err = s.payoutTx(ctx, tx, "", id, s.d.forUpdate)
		if err != nil {
			return err
		}
		resumed, ok = false, false
		switch p.Status {
		case parrain.PayoutQueued:
			// The amount sent is decided here, in the transaction that
			// moves the payout to sending: what is still owed on each
			// reward now. A refund committed after this is a clawback
			// netted from the next payout.
			if err := s.revalidatePayoutTx(ctx, tx, &p); err != nil {
				return err
			}
			if p.Status != parrain.PayoutQueued {
				return s.completeBatchTx(ctx, tx, p.BatchID) // nothing left to send
			}
		case parrain.PayoutSending:
			// A previous attempt may have reached the provider with this
			// amount and idempotency key: resend it unchanged.
			resumed = true
		default:
			return nil
		}
		ok = true
		now := s.clock.Now()
		p.Status, p.Attempts = parrain.PayoutSending, p.Attempts+1
		if p.SentAt == nil {
			p.SentAt = &now
		}
		_, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'sending', attempts = $1, sent_at = $2, updated_at = $3 WHERE id = $4`,
			p.Attempts, nullMS(p.SentAt), ms(now), id)
		return err
	})
	return p, resumed, ok, err
}

// RecordPayoutError notes a transient provider error on a sending payout
// (it will be retried with the same idempotency key).
func (s *Store) RecordPayoutError(ctx context.Context, id, msg string) error {
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	_, err := s.w.ExecContext(ctx, `UPDATE payouts SET last_error = $1, updated_at = $2 WHERE id = $3`, msg, ms(s.clock.Now()), id)
	return err
}

// MarkPayoutProcessing records that the provider accepted a payout whose
// final status comes later, and schedules polling for it.
func (s *Store) MarkPayoutProcessing(ctx context.Context, id, ref, providerStatus string, pollAt time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'processing', provider_ref = $1, provider_status = $2, last_error = '', updated_at = $3
			WHERE id = $4 AND status IN ('sending', 'processing')`, ref, providerStatus, ms(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("marking payout processing: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		payload, _ := json.Marshal(parrain.PayoutJobArgs{PayoutID: id})
		return s.enqueueTx(ctx, tx, parrain.JobPayoutPoll, parrain.JobPayoutPoll+":"+id, payload, pollAt)
	})
}

// CompletePayout records a payout as paid with the provider's reference
// and, in the same transaction, moves its rewards from approved to paid in
// the ledger, emits reward.paid and payout.paid and queues the participant's
// notification. It returns false when the payout was not awaiting payment
// (already paid, failed or cancelled): the ledger moves at most once.
func (s *Store) CompletePayout(ctx context.Context, id, ref, providerStatus string) (bool, error) {
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		done, err = s.completePayoutTx(ctx, tx, "", id, ref, providerStatus, []parrain.PayoutStatus{parrain.PayoutSending, parrain.PayoutProcessing})
		return err
	})
	return done, err
}

func (s *Store) completePayoutTx(ctx context.Context, tx *sql.Tx, programID, id, ref, providerStatus string, from []parrain.PayoutStatus) (bool, error) {
	p, ok, err := s.payoutFromTx(ctx, tx, programID, id, from)
	if err != nil || !ok {
		return false, err
	}
	now := s.clock.Now()
	res, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'paid', provider_ref = $1, provider_status = $2, last_error = '', paid_at = $3, updated_at = $3
		WHERE id = $4 AND status = $5`, ref, providerStatus, ms(now), id, p.Status)
	if err != nil {
		return false, fmt.Errorf("marking payout paid: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	memo := fmt.Sprintf("payout %s via %s", p.ID, p.Method)
	if ref != "" {
		memo += " (" + ref + ")"
	}
	for _, it := range p.Items {
		rws, err := s.rewardsWhere(ctx, tx, `r.id = $1`+s.d.forUpdate, it.RewardID)
		if err != nil {
			return false, err
		}
		if len(rws) == 0 {
			return false, fmt.Errorf("payout %s: reward %s vanished", p.ID, it.RewardID)
		}
		rw := &rws[0]
		moves, st := parrain.PayOut(rw, it.Amount)
		// applyMoves also emits reward.paid.
		if err := s.applyMoves(ctx, tx, rw, moves, st, rw.Reversed, memo); err != nil {
			return false, err
		}
		if it.Amount > 0 {
			// The participant's "reward paid" notice, once per reward (the
			// notification sweep uses the same dedupe key).
			if err := s.enqueueNotifyTx(ctx, tx, parrain.NotifyArgs{Kind: parrain.NoticeRewardPaid, ProgramID: p.ProgramID,
				ParticipantID: p.ParticipantID, RewardID: rw.ID}); err != nil {
				return false, err
			}
		}
	}
	p.Status, p.ProviderRef, p.ProviderStatus, p.LastError, p.PaidAt, p.UpdatedAt = parrain.PayoutPaid, ref, providerStatus, "", &now, now
	if err := s.emitTx(ctx, tx, p.ProgramID, parrain.WebhookPayoutPaid, p); err != nil {
		return false, err
	}
	return true, s.completeBatchTx(ctx, tx, p.BatchID)
}

// FailPayout records that the provider refused a payout, with its reason.
// Nothing moved in the ledger: the rewards return to the balance and the
// next run gathers them again. It returns false when the payout was not
// awaiting payment.
func (s *Store) FailPayout(ctx context.Context, id, reason, providerStatus string) (bool, error) {
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		done, err = s.failPayoutTx(ctx, tx, "", id, reason, providerStatus, []parrain.PayoutStatus{parrain.PayoutSending, parrain.PayoutProcessing})
		return err
	})
	return done, err
}

func (s *Store) failPayoutTx(ctx context.Context, tx *sql.Tx, programID, id, reason, providerStatus string, from []parrain.PayoutStatus) (bool, error) {
	p, ok, err := s.payoutFromTx(ctx, tx, programID, id, from)
	if err != nil || !ok {
		return false, err
	}
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	now := s.clock.Now()
	if _, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'failed', failure_reason = $1, provider_status = $2, failed_at = $3, updated_at = $3 WHERE id = $4`,
		reason, providerStatus, ms(now), id); err != nil {
		return false, fmt.Errorf("marking payout failed: %w", err)
	}
	p.Status, p.FailureReason, p.ProviderStatus, p.FailedAt, p.UpdatedAt = parrain.PayoutFailed, reason, providerStatus, &now, now
	if err := s.emitTx(ctx, tx, p.ProgramID, parrain.WebhookPayoutFailed, p); err != nil {
		return false, err
	}
	return true, s.completeBatchTx(ctx, tx, p.BatchID)
}

// MarkPayoutPaid records by hand that a payout was paid: a bank transfer
// made from the CSV export, or a provider payout checked in the provider's
// dashboard. reference is the bank or provider reference. Marking a paid
// payout again returns it unchanged.
func (s *Store) MarkPayoutPaid(ctx context.Context, programID, id, reference string) (parrain.Payout, error) {
	reference = strings.TrimSpace(reference)
	if len(reference) > 200 {
		return parrain.Payout{}, parrain.Invalid("reference", "must be at most 200 characters")
	}
	return s.settleByHandTx(ctx, programID, id, parrain.PayoutPaid, "paid", func(tx *sql.Tx, p parrain.Payout) error {
		ref := reference
		if ref == "" {
			ref = p.ProviderRef
		}
		if _, err := s.completePayoutTx(ctx, tx, programID, id, ref, "marked paid by hand", byHandFrom); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPayoutMarkedPaid, "payout", id, programID, map[string]any{"reference": ref,
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
}

// MarkPayoutFailed records by hand that a payout failed (a bank transfer
// bounced, a provider payout checked in its dashboard): its rewards return
// to the balance. Marking a failed payout again returns it unchanged.
func (s *Store) MarkPayoutFailed(ctx context.Context, programID, id, reason string) (parrain.Payout, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return parrain.Payout{}, parrain.Invalid("reason", "is required (at most 1000 characters)")
	}
	return s.settleByHandTx(ctx, programID, id, parrain.PayoutFailed, "failed", func(tx *sql.Tx, p parrain.Payout) error {
		if _, err := s.failPayoutTx(ctx, tx, programID, id, reason, "marked failed by hand", byHandFrom); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPayoutMarkedFailed, "payout", id, programID, map[string]any{"reason": reason,
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
}

// byHandFrom are the statuses a payout can be settled by hand from.
var byHandFrom = []parrain.PayoutStatus{parrain.PayoutManual, parrain.PayoutSending, parrain.PayoutProcessing}

// settleByHandTx locks a payout and, unless it is already in status to
// (then returned unchanged), applies settle when its status allows a manual
// settlement; it returns the payout as it is afterwards.
func (s *Store) settleByHandTx(ctx context.Context, programID, id string, to parrain.PayoutStatus, verb string,
	settle func(*sql.Tx, parrain.Payout) error) (parrain.Payout, error) {
	var out parrain.Payout
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.payoutTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		if p.Status == to {
			out = p
			return nil
		}
		if !slices.Contains(byHandFrom, p.Status) {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: fmt.Sprintf("a %s payout cannot be marked %s", p.Status, verb)}
		}
		if err := settle(tx, p); err != nil {
			return err
		}
		out, err = s.payoutTx(ctx, tx, programID, id, "")
		return err
	})
	return out, err
}

// CancelPayout withdraws a payout not yet sent (pending, queued or awaiting
// a manual transfer); its rewards return to the balance.
func (s *Store) CancelPayout(ctx context.Context, programID, id string) (parrain.Payout, error) {
	var out parrain.Payout
	err := s.tx(ctx, func(tx *sql.Tx) error {
		p, err := s.payoutTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		switch p.Status {
		case parrain.PayoutCancelled:
			out = p
			return nil
		case parrain.PayoutPending, parrain.PayoutQueued, parrain.PayoutManual:
		default:
			return &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: fmt.Sprintf("a %s payout cannot be cancelled", p.Status)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'cancelled', updated_at = $1 WHERE id = $2`, ms(s.clock.Now()), id); err != nil {
			return fmt.Errorf("cancelling payout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET payout_count = payout_count - 1, updated_at = $1 WHERE id = $2 AND status = 'pending_approval'`,
			ms(s.clock.Now()), p.BatchID); err != nil {
			return fmt.Errorf("updating batch: %w", err)
		}
		if err := s.completeBatchTx(ctx, tx, p.BatchID); err != nil {
			return err
		}
		if out, err = s.payoutTx(ctx, tx, programID, id, ""); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditPayoutCancelled, "payout", id, programID, map[string]any{
			"amount": p.Amount, "currency": p.Currency, "participant": p.ExternalID})
	})
	return out, err
}

// BankPayout is a payout row of the CSV export, with the participant's
// contact details.
type BankPayout struct {
	parrain.Payout
	Name  string
	Email string
}

// BatchBankPayouts returns a batch's bank payouts awaiting a manual
// transfer, with full bank details, for the CSV export. The transfers still
// to make are first checked again against what is owed now, as when a
// provider payout is sent: a reward clawed back since the batch was made
// lowers its payout, and a payout with nothing left is cancelled and not
// exported. The amount exported is the amount marking the payout paid
// records; a refund that arrives after the export is a clawback netted from
// the next payout.
func (s *Store) BatchBankPayouts(ctx context.Context, programID, batchID string) ([]BankPayout, error) {
	var out []BankPayout
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = nil
		if _, err := scanBatch(tx.QueryRowContext(ctx, `SELECT `+batchCols+` FROM payout_batches WHERE id = $1 AND program_id = $2`+s.d.forUpdate,
			batchID, programID)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("payout batch")
			}
			return err
		}
		ps, err := s.payoutsWhere(ctx, tx, `p.batch_id = $1 AND p.method = 'bank' AND p.status IN ('manual', 'paid') ORDER BY p.id`, batchID)
		if err != nil {
			return err
		}
		out = make([]BankPayout, 0, len(ps))
		for _, p := range ps {
			if p.Status == parrain.PayoutManual {
				if p, err = s.payoutTx(ctx, tx, "", p.ID, s.d.forUpdate); err != nil {
					return err
				}
				if err := s.revalidatePayoutTx(ctx, tx, &p); err != nil {
					return err
				}
				if p.Status != parrain.PayoutManual {
					// Nothing left to transfer: the export cancelled it,
					// under whoever asked for the export.
					if err := s.audit(ctx, tx, AuditPayoutCancelled, "payout", p.ID, programID, map[string]any{
						"reason": p.FailureReason, "by": "csv_export"}); err != nil {
						return err
					}
					if err := s.completeBatchTx(ctx, tx, batchID); err != nil {
						return err
					}
					continue
				}
			}
			bp := BankPayout{Payout: p}
			if err := tx.QueryRowContext(ctx, `SELECT name, email FROM participants WHERE id = $1`, p.ParticipantID).Scan(&bp.Name, &bp.Email); err != nil {
				return fmt.Errorf("loading participant: %w", err)
			}
			out = append(out, bp)
		}
		return nil
	})
	return out, err
}

// revalidatePayoutTx brings a payout not yet sent down to what is still
// owed on each of its rewards now (their approved balance, read with the
// reward locked, so a refund being ingested commits wholly before or after).
// Items and the payout's amount are updated, with the batch totals; when
// nothing is left the payout is cancelled with ReasonNothingLeft. p's items
// are loaded when missing; p reflects the result.
func (s *Store) revalidatePayoutTx(ctx context.Context, tx *sql.Tx, p *parrain.Payout) error {
	if p.Items == nil {
		items, err := s.payoutItems(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		p.Items = items
	}
	var total int64
	changed := false
	for i := range p.Items {
		it := &p.Items[i]
		if _, err := tx.ExecContext(ctx, `SELECT id FROM rewards WHERE id = $1`+s.d.forUpdate, it.RewardID); err != nil {
			return fmt.Errorf("locking reward: %w", err)
		}
		var owed int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE reward_id = $1 AND bucket = 'approved'`,
			it.RewardID).Scan(&owed); err != nil {
			return fmt.Errorf("reading what is owed on reward %s: %w", it.RewardID, err)
		}
		if next := it.Revalidate(owed); next != *it {
			if _, err := tx.ExecContext(ctx, `UPDATE payout_items SET amount = $1, status = $2 WHERE payout_id = $3 AND reward_id = $4`,
				next.Amount, next.Status, p.ID, it.RewardID); err != nil {
				return fmt.Errorf("updating payout item: %w", err)
			}
			*it, changed = next, true
		}
		total += it.Amount
	}
	if !changed && total == p.Amount {
		return nil
	}
	now := s.clock.Now()
	delta := total - p.Amount
	if total <= 0 {
		delta = -p.Amount // a cancelled payout pays nothing
		// The payout keeps the amount last decided (amounts are positive);
		// its items say that nothing is left.
		if _, err := tx.ExecContext(ctx, `UPDATE payouts SET status = 'cancelled', failure_reason = $1, updated_at = $2 WHERE id = $3`,
			parrain.ReasonNothingLeft, ms(now), p.ID); err != nil {
			return fmt.Errorf("cancelling payout: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET payout_count = payout_count - 1, updated_at = $1 WHERE id = $2 AND status = 'pending_approval'`,
			ms(now), p.BatchID); err != nil {
			return fmt.Errorf("updating batch: %w", err)
		}
		p.Status, p.FailureReason = parrain.PayoutCancelled, parrain.ReasonNothingLeft
	} else {
		if _, err := tx.ExecContext(ctx, `UPDATE payouts SET amount = $1, updated_at = $2 WHERE id = $3`, total, ms(now), p.ID); err != nil {
			return fmt.Errorf("updating payout amount: %w", err)
		}
		p.Amount = total
	}
	p.UpdatedAt = now
	var totals string
	if err := tx.QueryRowContext(ctx, `SELECT totals FROM payout_batches WHERE id = $1`, p.BatchID).Scan(&totals); err != nil {
		return fmt.Errorf("loading batch totals: %w", err)
	}
	m := map[string]int64{}
	if err := json.Unmarshal([]byte(totals), &m); err != nil {
		return fmt.Errorf("decoding batch totals: %w", err)
	}
	m[p.Currency] += delta
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET totals = $1, updated_at = $2 WHERE id = $3`, string(b), ms(now), p.BatchID); err != nil {
		return fmt.Errorf("updating batch totals: %w", err)
	}
	return nil
}

// payoutFromTx locks a payout and reports whether it is in one of the
// statuses a transition may start from.
func (s *Store) payoutFromTx(ctx context.Context, tx *sql.Tx, programID, id string, from []parrain.PayoutStatus) (parrain.Payout, bool, error) {
	p, err := s.payoutTx(ctx, tx, programID, id, s.d.forUpdate)
	if err != nil {
		return p, false, err
	}
	for _, f := range from {
		if p.Status == f {
			return p, true, nil
		}
	}
	return p, false, nil
}
