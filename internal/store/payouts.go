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

// openPayouts is the SQL list of payout statuses that hold their rewards.
var openPayouts = func() string {
	var q []string
	for _, s := range parrain.OpenPayoutStatuses {
		q = append(q, "'"+string(s)+"'")
	}
	return "(" + strings.Join(q, ", ") + ")"
}()

// ---- payout accounts ----

// sealBank seals bank details (JSON) for their table and row; nil is "".
func (s *Store) sealBank(b *parrain.BankDetails, table, id string) (string, error) {
	if b == nil {
		return "", nil
	}
	j, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	return s.seal(string(j), table, "bank", id)
}

// openBank opens bank details sealed by sealBank; "" is nil.
func (s *Store) openBank(v, table, id string) (*parrain.BankDetails, error) {
	j, err := s.open(v, table, "bank", id)
	if err != nil || j == "" {
		return nil, err
	}
	b := &parrain.BankDetails{}
	if err := json.Unmarshal([]byte(j), b); err != nil {
		return nil, fmt.Errorf("decoding the bank details of %s %s: %w", table, id, err)
	}
	return b, nil
}

const payoutAccountSelect = `SELECT a.participant_id, a.program_id, p.external_id, a.method, a.stripe_account, a.paypal_email, a.bank,
	a.created_at, a.updated_at FROM payout_accounts a JOIN participants p ON p.id = a.participant_id`

func (s *Store) scanPayoutAccount(sc scanner) (parrain.PayoutAccount, error) {
	var a parrain.PayoutAccount
	var bank string
	var created, updated int64
	if err := sc.Scan(&a.ParticipantID, &a.ProgramID, &a.ExternalID, &a.Method, &a.StripeAccount, &a.PayPalEmail, &bank, &created, &updated); err != nil {
		return a, err
	}
	var err error
	if a.Bank, err = s.openBank(bank, "payout_accounts", a.ParticipantID); err != nil {
		return a, err
	}
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	return a, nil
}

// PayoutAccount returns a participant's payout account (unmasked: callers
// showing it mask it).
func (s *Store) PayoutAccount(ctx context.Context, programID, externalID string) (parrain.PayoutAccount, error) {
	a, err := s.scanPayoutAccount(s.r.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.program_id = $1 AND p.external_id = $2`, programID, externalID))
	if errors.Is(err, sql.ErrNoRows) {
		if _, perr := s.Participant(ctx, programID, externalID); perr != nil {
			return a, perr
		}
		return a, notFound("payout account")
	}
	return a, err
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

// ---- batches ----

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

// ---- payouts ----

const payoutSelect = `SELECT p.id, p.batch_id, p.program_id, p.participant_id, pa.external_id, p.method, p.destination, p.bank, p.amount, p.currency,
	p.idempotency_key, p.status, p.attempts, p.provider_ref, p.provider_status, p.failure_reason, p.last_error,
	p.sent_at, p.paid_at, p.failed_at, p.created_at, p.updated_at
	FROM payouts p JOIN participants pa ON pa.id = p.participant_id`

func (s *Store) scanPayout(sc scanner) (parrain.Payout, error) {
	var p parrain.Payout
	var bank string
	var sent, paid, failed sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.BatchID, &p.ProgramID, &p.ParticipantID, &p.ExternalID, &p.Method, &p.Destination, &bank, &p.Amount, &p.Currency,
		&p.IdempotencyKey, &p.Status, &p.Attempts, &p.ProviderRef, &p.ProviderStatus, &p.FailureReason, &p.LastError,
		&sent, &paid, &failed, &created, &updated); err != nil {
		return p, err
	}
	var err error
	if p.Bank, err = s.openBank(bank, "payouts", p.ID); err != nil {
		return p, err
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
		p, err := s.scanPayout(rows)
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

// ---- the write transaction's payout repository (internal/payout decides) ----

// SavePayoutAccount creates or replaces a participant's payout account and
// returns it as stored.
func (t *Tx) SavePayoutAccount(ctx context.Context, participantID, programID string, in parrain.PayoutAccountInput, now time.Time) (parrain.PayoutAccount, error) {
	bank, err := t.s.sealBank(in.Bank, "payout_accounts", participantID)
	if err != nil {
		return parrain.PayoutAccount{}, err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO payout_accounts (participant_id, program_id, method, stripe_account, paypal_email, bank, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (participant_id) DO UPDATE SET method = $3, stripe_account = $4, paypal_email = $5, bank = $6, updated_at = $7`,
		participantID, programID, in.Method, in.StripeAccount, in.PayPalEmail, bank, ms(now)); err != nil {
		return parrain.PayoutAccount{}, fmt.Errorf("storing payout account: %w", err)
	}
	return t.s.scanPayoutAccount(t.tx.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, participantID))
}

// DeletePayoutAccount removes a participant's payout account and reports
// whether there was one.
func (t *Tx) DeletePayoutAccount(ctx context.Context, participantID string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM payout_accounts WHERE participant_id = $1`, participantID)
	if err != nil {
		return false, fmt.Errorf("deleting payout account: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// LockPayoutProgram locks a program's row, so that two payout runs of the
// program never gather the same rewards (PostgreSQL; SQLite has one
// writer), and returns its payout settings (the defaults when it set none).
func (t *Tx) LockPayoutProgram(ctx context.Context, programID string) (parrain.PayoutSettings, error) {
	if _, err := t.s.programQ(ctx, t.tx, programID, t.s.d.forUpdate); err != nil {
		return parrain.PayoutSettings{}, err
	}
	return t.s.payoutSettingsTx(ctx, t.tx, programID, "")
}

// SavePayoutSettings creates or replaces a program's payout settings.
func (t *Tx) SavePayoutSettings(ctx context.Context, st parrain.PayoutSettings) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO payout_settings (program_id, schedule, day, hour, minimum_amount, auto_approve_limit, next_run_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (program_id) DO UPDATE SET schedule = $2, day = $3, hour = $4, minimum_amount = $5, auto_approve_limit = $6, next_run_at = $7, updated_at = $8`,
		st.ProgramID, st.Schedule, st.Day, st.Hour, st.MinimumAmount, st.AutoApproveLimit, nullMS(st.NextRunAt), ms(st.UpdatedAt)); err != nil {
		return fmt.Errorf("storing payout settings: %w", err)
	}
	return nil
}

// SetNextPayoutRun records when a program's next scheduled run is.
func (t *Tx) SetNextPayoutRun(ctx context.Context, programID string, next time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payout_settings SET next_run_at = $1 WHERE program_id = $2`, ms(next), programID); err != nil {
		return fmt.Errorf("updating next payout run: %w", err)
	}
	return nil
}

// ScheduledBatchExists reports whether the scheduled run of slot already
// made its batch.
func (t *Tx) ScheduledBatchExists(ctx context.Context, programID string, slot time.Time) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payout_batches WHERE program_id = $1 AND scheduled_for = $2`, programID, ms(slot)).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for the scheduled batch: %w", err)
	}
	return n > 0, nil
}

// PayableRewards returns the approved balance of each of a program's cash
// rewards that no open payout holds (negative for a clawback of a paid
// reward), the balances a payout run gathers.
func (t *Tx) PayableRewards(ctx context.Context, programID string) ([]parrain.RewardBalance, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT le.reward_id, le.participant_id, le.currency, SUM(le.amount)
		FROM ledger_entries le JOIN rewards r ON r.id = le.reward_id
		WHERE le.program_id = $1 AND le.bucket = 'approved' AND r.kind = 'cash'
		AND NOT EXISTS (SELECT 1 FROM payout_items pi JOIN payouts p ON p.id = pi.payout_id
			WHERE pi.reward_id = le.reward_id AND p.status IN `+openPayouts+`)
		GROUP BY le.reward_id, le.participant_id, le.currency
		HAVING SUM(le.amount) <> 0`, programID)
	if err != nil {
		return nil, fmt.Errorf("gathering balances: %w", err)
	}
	defer rows.Close()
	var out []parrain.RewardBalance
	for rows.Next() {
		var b parrain.RewardBalance
		if err := rows.Scan(&b.RewardID, &b.ParticipantID, &b.Currency, &b.Amount); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Payee is a participant as a payout needs them: who, whether active, and
// where they are paid (nil without a payout account).
type Payee struct {
	ExternalID string
	Name       string
	Email      string
	Status     parrain.ParticipantStatus
	Account    *parrain.PayoutAccount
	// AccountChangedAt is when the payout destination last changed (nil:
	// never, or only set once).
	AccountChangedAt *time.Time
}

// Payee returns a participant with their payout account.
func (t *Tx) Payee(ctx context.Context, participantID string) (Payee, error) {
	var w Payee
	if err := t.tx.QueryRowContext(ctx, `SELECT external_id, name, email, status FROM participants WHERE id = $1`, participantID).
		Scan(&w.ExternalID, &w.Name, &w.Email, &w.Status); err != nil {
		return w, fmt.Errorf("loading participant: %w", err)
	}
	a, err := t.s.scanPayoutAccount(t.tx.QueryRowContext(ctx, payoutAccountSelect+` WHERE a.participant_id = $1`, participantID))
	switch {
	case err == nil:
		w.Account = &a
	case !errors.Is(err, sql.ErrNoRows):
		return w, fmt.Errorf("loading payout account: %w", err)
	}
	if _, w.AccountChangedAt, err = t.PayoutAccountHistory(ctx, participantID); err != nil {
		return w, err
	}
	return w, nil
}

// InsertPayoutBatch stores a new batch (without its payouts).
func (t *Tx) InsertPayoutBatch(ctx context.Context, b parrain.PayoutBatch) error {
	totals, err := json.Marshal(b.Totals)
	if err != nil {
		return err
	}
	skipped, err := json.Marshal(b.Skipped)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO payout_batches (id, program_id, status, trigger_type, scheduled_for, payout_count, totals, skipped, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
		b.ID, b.ProgramID, b.Status, b.Trigger, nullMS(b.ScheduledFor), b.PayoutCount, string(totals), string(skipped), ms(b.CreatedAt)); err != nil {
		return fmt.Errorf("inserting payout batch: %w", err)
	}
	return nil
}

// InsertPayout stores a new payout and its items.
func (t *Tx) InsertPayout(ctx context.Context, p parrain.Payout) error {
	bank, err := t.s.sealBank(p.Bank, "payouts", p.ID)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO payouts (id, batch_id, program_id, participant_id, method, destination, bank, amount, currency,
		idempotency_key, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
		p.ID, p.BatchID, p.ProgramID, p.ParticipantID, p.Method, p.Destination, bank, p.Amount, p.Currency, p.IdempotencyKey, p.Status, ms(p.CreatedAt)); err != nil {
		return fmt.Errorf("inserting payout: %w", err)
	}
	for _, it := range p.Items {
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO payout_items (payout_id, reward_id, amount, planned, status) VALUES ($1, $2, $3, $4, $5)`,
			p.ID, it.RewardID, it.Amount, it.Planned, it.Status); err != nil {
			return fmt.Errorf("inserting payout item: %w", err)
		}
	}
	return nil
}

// PayoutBatch returns a batch with its payouts (without their items),
// ordered by id; an empty programID finds it in any program.
func (t *Tx) PayoutBatch(ctx context.Context, programID, id string) (parrain.PayoutBatch, error) {
	return t.s.batchTx(ctx, t.tx, programID, id, "")
}

// PayoutBatchForUpdate is PayoutBatch with the batch's row locked.
func (t *Tx) PayoutBatchForUpdate(ctx context.Context, programID, id string) (parrain.PayoutBatch, error) {
	return t.s.batchTx(ctx, t.tx, programID, id, t.s.d.forUpdate)
}

// LockPayoutBatch locks a batch's row and returns its status and the
// statuses of its payouts, read after the lock: whoever completes the batch
// sees every payout as committed.
func (t *Tx) LockPayoutBatch(ctx context.Context, batchID string) (parrain.BatchStatus, []parrain.PayoutStatus, error) {
	var st parrain.BatchStatus
	if err := t.tx.QueryRowContext(ctx, `SELECT status FROM payout_batches WHERE id = $1`+t.s.d.forUpdate, batchID).Scan(&st); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return st, nil, notFound("payout batch")
		}
		return st, nil, fmt.Errorf("locking payout batch: %w", err)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT status FROM payouts WHERE batch_id = $1`, batchID)
	if err != nil {
		return st, nil, fmt.Errorf("loading payout statuses: %w", err)
	}
	defer rows.Close()
	var out []parrain.PayoutStatus
	for rows.Next() {
		var s parrain.PayoutStatus
		if err := rows.Scan(&s); err != nil {
			return st, nil, err
		}
		out = append(out, s)
	}
	return st, out, rows.Err()
}

// SetPayoutBatchStatus moves a batch to status.
func (t *Tx) SetPayoutBatchStatus(ctx context.Context, id string, status parrain.BatchStatus, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payout_batches SET status = $1, updated_at = $2 WHERE id = $3`, status, ms(now), id); err != nil {
		return fmt.Errorf("updating payout batch: %w", err)
	}
	return nil
}

// ApprovePayoutBatch records a batch's approval by by.
func (t *Tx) ApprovePayoutBatch(ctx context.Context, id, by string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payout_batches SET status = $1, approved_by = $2, approved_at = $3, updated_at = $3 WHERE id = $4`,
		parrain.BatchApproved, by, ms(now), id); err != nil {
		return fmt.Errorf("approving batch: %w", err)
	}
	return nil
}

// AdjustPayoutBatch adds count to a batch's payout count and delta to its
// total in currency.
func (t *Tx) AdjustPayoutBatch(ctx context.Context, id string, count int, currency string, delta int64, now time.Time) error {
	if count == 0 && delta == 0 {
		return nil
	}
	var totals string
	if err := t.tx.QueryRowContext(ctx, `SELECT totals FROM payout_batches WHERE id = $1`, id).Scan(&totals); err != nil {
		return fmt.Errorf("loading batch totals: %w", err)
	}
	m := map[string]int64{}
	if err := json.Unmarshal([]byte(totals), &m); err != nil {
		return fmt.Errorf("decoding batch totals: %w", err)
	}
	if delta != 0 {
		m[currency] += delta
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE payout_batches SET payout_count = payout_count + $1, totals = $2, updated_at = $3 WHERE id = $4`,
		count, string(b), ms(now), id); err != nil {
		return fmt.Errorf("updating batch: %w", err)
	}
	return nil
}

// PayoutForUpdate returns a payout with its items, its row locked; an
// empty programID finds it in any program (for jobs).
func (t *Tx) PayoutForUpdate(ctx context.Context, programID, id string) (parrain.Payout, error) {
	return t.s.payoutTx(ctx, t.tx, programID, id, t.s.d.forUpdate)
}

// Payout returns a payout with its items.
func (t *Tx) Payout(ctx context.Context, programID, id string) (parrain.Payout, error) {
	return t.s.payoutTx(ctx, t.tx, programID, id, "")
}

// SetPayoutStatus moves a payout to status.
func (t *Tx) SetPayoutStatus(ctx context.Context, id string, status parrain.PayoutStatus, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, updated_at = $2 WHERE id = $3`, status, ms(now), id); err != nil {
		return fmt.Errorf("updating payout status: %w", err)
	}
	return nil
}

// DropPayout cancels a payout for reason, keeping its amount.
func (t *Tx) DropPayout(ctx context.Context, id, reason string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, failure_reason = $2, updated_at = $3 WHERE id = $4`,
		parrain.PayoutCancelled, reason, ms(now), id); err != nil {
		return fmt.Errorf("cancelling payout: %w", err)
	}
	return nil
}

// SetPayoutAmount records what a payout pays now.
func (t *Tx) SetPayoutAmount(ctx context.Context, id string, amount int64, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET amount = $1, updated_at = $2 WHERE id = $3`, amount, ms(now), id); err != nil {
		return fmt.Errorf("updating payout amount: %w", err)
	}
	return nil
}

// SetPayoutItem records what a payout pays now on one of its rewards.
func (t *Tx) SetPayoutItem(ctx context.Context, payoutID string, it parrain.PayoutItem) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payout_items SET amount = $1, status = $2 WHERE payout_id = $3 AND reward_id = $4`,
		it.Amount, it.Status, payoutID, it.RewardID); err != nil {
		return fmt.Errorf("updating payout item: %w", err)
	}
	return nil
}

// OwedOnReward locks a reward and returns what is left of it in the
// approved bucket (negative after a clawback of a paid reward): a refund
// being ingested commits wholly before or after the read.
func (t *Tx) OwedOnReward(ctx context.Context, rewardID string) (int64, error) {
	if _, err := t.tx.ExecContext(ctx, `SELECT id FROM rewards WHERE id = $1`+t.s.d.forUpdate, rewardID); err != nil {
		return 0, fmt.Errorf("locking reward: %w", err)
	}
	var owed int64
	if err := t.tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE reward_id = $1 AND bucket = 'approved'`,
		rewardID).Scan(&owed); err != nil {
		return 0, fmt.Errorf("reading what is owed on reward %s: %w", rewardID, err)
	}
	return owed, nil
}

// SetPayoutSending records a send attempt: the payout is sending, with its
// attempt count and the time of its first send.
func (t *Tx) SetPayoutSending(ctx context.Context, id string, attempts int, sentAt, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, attempts = $2, sent_at = $3, updated_at = $4 WHERE id = $5`,
		parrain.PayoutSending, attempts, ms(sentAt), ms(now), id); err != nil {
		return fmt.Errorf("marking payout sending: %w", err)
	}
	return nil
}

// SetPayoutError notes a transient provider error on a payout.
func (t *Tx) SetPayoutError(ctx context.Context, id, msg string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET last_error = $1, updated_at = $2 WHERE id = $3`, msg, ms(now), id); err != nil {
		return fmt.Errorf("recording payout error: %w", err)
	}
	return nil
}

// SetPayoutProcessing records that the provider accepted a payout under
// ref, its outcome to come.
func (t *Tx) SetPayoutProcessing(ctx context.Context, id, ref, providerStatus string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, provider_ref = $2, provider_status = $3, last_error = '', updated_at = $4 WHERE id = $5`,
		parrain.PayoutProcessing, ref, providerStatus, ms(now), id); err != nil {
		return fmt.Errorf("marking payout processing: %w", err)
	}
	return nil
}

// SetPayoutPaid records a payout paid under the provider's or bank's
// reference.
func (t *Tx) SetPayoutPaid(ctx context.Context, id, ref, providerStatus string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, provider_ref = $2, provider_status = $3, last_error = '', paid_at = $4, updated_at = $4
		WHERE id = $5`, parrain.PayoutPaid, ref, providerStatus, ms(now), id); err != nil {
		return fmt.Errorf("marking payout paid: %w", err)
	}
	return nil
}

// SetPayoutFailed records a payout refused, with the reason.
func (t *Tx) SetPayoutFailed(ctx context.Context, id, reason, providerStatus string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE payouts SET status = $1, failure_reason = $2, provider_status = $3, failed_at = $4, updated_at = $4 WHERE id = $5`,
		parrain.PayoutFailed, reason, providerStatus, ms(now), id); err != nil {
		return fmt.Errorf("marking payout failed: %w", err)
	}
	return nil
}
