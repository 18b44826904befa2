package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// referralByFriend returns the friend's referral in a program.
func (s *Store) referralByFriend(ctx context.Context, q querier, programID, friendID string) (parrain.Referral, error) {
	return scanReferral(q.QueryRowContext(ctx, referralSelect+` WHERE r.program_id = $1 AND r.friend_id = $2`, programID, friendID))
}

func (s *Store) referralByID(ctx context.Context, q querier, id string) (parrain.Referral, error) {
	r, err := scanReferral(q.QueryRowContext(ctx, referralSelect+` WHERE r.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("referral")
	}
	return r, err
}

const referralSelect = `SELECT r.id, r.program_id, r.advocate_id, a.external_id, r.friend_id, f.external_id, r.code, r.status, r.reason,
	r.clicked_at, r.signed_up_at, r.converted_at, r.created_at, r.risk_score, r.risk_action, r.review_status, r.review_deadline
	FROM referrals r JOIN participants a ON a.id = r.advocate_id JOIN participants f ON f.id = r.friend_id`

func scanReferral(sc scanner) (parrain.Referral, error) {
	var r parrain.Referral
	var clicked, converted, deadline sql.NullInt64
	var signed, created int64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.AdvocateID, &r.AdvocateExternalID, &r.FriendID, &r.FriendExternalID, &r.Code,
		&r.Status, &r.Reason, &clicked, &signed, &converted, &created, &r.RiskScore, &r.RiskAction, &r.ReviewStatus, &deadline)
	r.ClickedAt, r.ConvertedAt, r.ReviewDeadline = fromNullMS(clicked), fromNullMS(converted), fromNullMS(deadline)
	r.SignedUpAt, r.CreatedAt = fromMS(signed), fromMS(created)
	return r, err
}

// ReferralFilter narrows a referral listing.
type ReferralFilter struct {
	Status     string
	AdvocateID string
}

// Referrals lists a program's referrals, newest first.
func (s *Store) Referrals(ctx context.Context, programID string, f ReferralFilter, pg Page) ([]parrain.Referral, string, error) {
	where := []string{`r.program_id = $1`, `($2 = '' OR r.id < $2)`}
	args := []any{programID, pg.Cursor}
	if f.Status != "" {
		args = append(args, f.Status)
		where = append(where, fmt.Sprintf(`r.status = $%d`, len(args)))
	}
	if f.AdvocateID != "" {
		args = append(args, f.AdvocateID)
		where = append(where, fmt.Sprintf(`r.advocate_id = $%d`, len(args)))
	}
	args = append(args, pg.limit()+1)
	rows, err := s.r.QueryContext(ctx, referralSelect+` WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY r.id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing referrals: %w", err)
	}
	defer rows.Close()
	out := []parrain.Referral{}
	for rows.Next() {
		r, err := scanReferral(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(r parrain.Referral) string { return r.ID })
}

// ReferralByFriend returns the friend's referral in a program; found is
// false when the friend was not referred.
func (t *Tx) ReferralByFriend(ctx context.Context, programID, friendID string) (ref parrain.Referral, found bool, err error) {
	ref, err = t.s.referralByFriend(ctx, t.tx, programID, friendID)
	if errors.Is(err, sql.ErrNoRows) {
		return ref, false, nil
	}
	return ref, err == nil, err
}

// ReferralByID returns a referral (not found error when missing).
func (t *Tx) ReferralByID(ctx context.Context, id string) (parrain.Referral, error) {
	return t.s.referralByID(ctx, t.tx, id)
}

// ReferralForUpdate returns a referral, locked (PostgreSQL) until the
// transaction ends.
func (t *Tx) ReferralForUpdate(ctx context.Context, id string) (parrain.Referral, error) {
	if _, err := t.tx.ExecContext(ctx, `UPDATE referrals SET review_status = review_status WHERE id = $1`, id); err != nil {
		return parrain.Referral{}, err // takes the row lock on PostgreSQL
	}
	return t.s.referralByID(ctx, t.tx, id)
}

// InsertReferral stores a new referral; false when the friend already has
// one (a concurrent event referred them first).
func (t *Tx) InsertReferral(ctx context.Context, ref *parrain.Referral, via, signals string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO referrals (id, program_id, advocate_id, friend_id, code, status, reason, via, clicked_at, signed_up_at, created_at,
			risk_score, risk_action, risk_signals, review_status, review_deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
		ref.ID, ref.ProgramID, ref.AdvocateID, ref.FriendID, ref.Code, ref.Status, ref.Reason, via, nullMS(ref.ClickedAt),
		ms(ref.SignedUpAt), ms(ref.CreatedAt), ref.RiskScore, ref.RiskAction, signals, ref.ReviewStatus, nullMS(ref.ReviewDeadline))
	if err != nil {
		return false, fmt.Errorf("inserting referral: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// ConvertReferral marks a referral converted at its first purchase; false
// when it already was.
func (t *Tx) ConvertReferral(ctx context.Context, id string, at time.Time) (bool, error) {
	r, err := t.tx.ExecContext(ctx, `UPDATE referrals SET status = 'converted', converted_at = $1 WHERE id = $2 AND converted_at IS NULL`, ms(at), id)
	if err != nil {
		return false, fmt.Errorf("converting referral: %w", err)
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// ReferralConverted announces a referral's first purchase: the
// referral.converted webhook and the CRM sync.
func (t *Tx) ReferralConverted(ctx context.Context, ref *parrain.Referral, ev *parrain.Event) error {
	return t.s.referralConvertedTx(ctx, t.tx, ref, ev)
}

// MarkSucceeded marks a referral successful at at, unless it already is.
func (t *Tx) MarkSucceeded(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE referrals SET succeeded_at = $1 WHERE id = $2 AND succeeded_at IS NULL`, ms(at), id)
	if err != nil {
		return false, fmt.Errorf("marking referral successful: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SucceededAt returns when a referral succeeded (nil if not, or voided).
func (t *Tx) SucceededAt(ctx context.Context, id string) (*time.Time, error) {
	var at sql.NullInt64
	err := t.tx.QueryRowContext(ctx, `SELECT succeeded_at FROM referrals WHERE id = $1 AND voided_at IS NULL`, id).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return fromNullMS(at), err
}

// RecordCancel records a customer's cancellation, voiding the referral's
// success if void.
func (t *Tx) RecordCancel(ctx context.Context, id string, at time.Time, void bool) error {
	q := `UPDATE referrals SET cancelled_at = COALESCE(cancelled_at, $1) WHERE id = $2`
	if void {
		q = `UPDATE referrals SET cancelled_at = COALESCE(cancelled_at, $1), voided_at = COALESCE(voided_at, $1) WHERE id = $2`
	}
	if _, err := t.tx.ExecContext(ctx, q, ms(at), id); err != nil {
		return fmt.Errorf("recording cancellation: %w", err)
	}
	return nil
}

// Successes counts the advocate's successful, non-voided referrals other
// than exclude that succeeded in [from, to).
func (t *Tx) Successes(ctx context.Context, advocateID, exclude string, from, to time.Time) (int, error) {
	var n int
	err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND id <> $2 AND succeeded_at >= $3 AND succeeded_at < $4
		AND voided_at IS NULL`, advocateID, exclude, ms(from), ms(to)).Scan(&n)
	return n, err
}

// UpdateReferralRisk stores a new fraud decision on a referral.
func (t *Tx) UpdateReferralRisk(ctx context.Context, ref *parrain.Referral, signals string) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE referrals SET status = $1, reason = $2, risk_score = $3, risk_action = $4, risk_signals = $5,
		review_status = $6, review_deadline = $7 WHERE id = $8`, ref.Status, ref.Reason, ref.RiskScore, ref.RiskAction, signals,
		ref.ReviewStatus, nullMS(ref.ReviewDeadline), ref.ID); err != nil {
		return fmt.Errorf("updating referral risk: %w", err)
	}
	return nil
}

// SetReferralReview stores a reviewer's decision: status, reason and
// review state.
func (t *Tx) SetReferralReview(ctx context.Context, ref *parrain.Referral) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE referrals SET status = $1, reason = $2, review_status = $3 WHERE id = $4`,
		ref.Status, ref.Reason, ref.ReviewStatus, ref.ID); err != nil {
		return fmt.Errorf("updating referral: %w", err)
	}
	return nil
}

// ReferralRiskSignals returns the stored signals (JSON) of a referral.
func (t *Tx) ReferralRiskSignals(ctx context.Context, id string) (string, error) {
	var signals string
	err := t.tx.QueryRowContext(ctx, `SELECT risk_signals FROM referrals WHERE id = $1`, id).Scan(&signals)
	return signals, err
}

// AdvocateHistory counts an advocate's referrals, and those of them with a
// refunded purchase in the program.
func (t *Tx) AdvocateHistory(ctx context.Context, programID, advocateID string) (referrals, refunded int, err error) {
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1`, advocateID).Scan(&referrals); err != nil {
		return 0, 0, fmt.Errorf("counting advocate history: %w", err)
	}
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(DISTINCT p.referral_id) FROM purchases p JOIN referrals r ON r.id = p.referral_id
		WHERE p.program_id = $1 AND p.refunded > 0 AND r.advocate_id = $2`, programID, advocateID).Scan(&refunded); err != nil {
		return 0, 0, fmt.Errorf("counting refunded referrals: %w", err)
	}
	return referrals, refunded, nil
}

// InactiveReferrals counts an advocate's referrals signed up before before
// whose friend never reported activity.
func (t *Tx) InactiveReferrals(ctx context.Context, advocateID string, before time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = $1 AND r.signed_up_at < $2
			AND NOT EXISTS (SELECT 1 FROM events e WHERE e.participant_id = r.friend_id AND e.type = 'activity')`,
		advocateID, ms(before)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting inactive referrals: %w", err)
	}
	return n, nil
}

// Referred loads a referral's participants.
func (t *Tx) Referred(ctx context.Context, ref parrain.Referral) (*parrain.Referred, error) {
	return t.s.loadRefCtx(ctx, t.tx, ref)
}

// Referred loads a referral with its participants (read pool).
func (s *Store) Referred(ctx context.Context, id string) (*parrain.Referred, error) {
	ref, err := s.referralByID(ctx, s.r, id)
	if err != nil {
		return nil, err
	}
	return s.loadRefCtx(ctx, s.r, ref)
}

// ReachStage records that a referral reached a stage; false when it
// already had.
func (t *Tx) ReachStage(ctx context.Context, programID, referralID, stage, eventID string, value *int64, currency string, at time.Time) (bool, error) {
	var v sql.NullInt64
	if value != nil {
		v = sql.NullInt64{Int64: *value, Valid: true}
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO referral_stages (referral_id, stage, program_id, event_id, value, currency, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, referralID, stage, programID, eventID, v, currency, ms(at), ms(t.s.clock.Now()))
	if err != nil {
		return false, fmt.Errorf("recording stage: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// StageReachedAt says when a referral reached a stage.
func (t *Tx) StageReachedAt(ctx context.Context, referralID, stage string) (time.Time, bool, error) {
	var at int64
	err := t.tx.QueryRowContext(ctx, `SELECT occurred_at FROM referral_stages WHERE referral_id = $1 AND stage = $2`, referralID, stage).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromMS(at), err == nil, err
}

// ---- reads of the database as it stood before a replay's window ----

// SuccessesBefore lists the advocate's referrals other than exclude that
// succeeded in [from, to) and before before, and were not voided before it.
func (s *Store) SuccessesBefore(ctx context.Context, advocateID, exclude string, from, to, before time.Time) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, succeeded_at FROM referrals WHERE advocate_id = $1 AND id <> $2 AND succeeded_at >= $3
		AND succeeded_at < $4 AND succeeded_at < $5 AND (voided_at IS NULL OR voided_at >= $5)`, advocateID, exclude, ms(from), ms(to), ms(before))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SucceededBefore returns when a referral succeeded, if it did before
// before and was not voided before it.
func (s *Store) SucceededBefore(ctx context.Context, id string, before time.Time) (*time.Time, error) {
	var at sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT succeeded_at FROM referrals WHERE id = $1 AND succeeded_at < $2 AND (voided_at IS NULL OR voided_at >= $2)`,
		id, ms(before)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return fromNullMS(at), err
}

// SucceededSomeTimeBefore reports whether a referral succeeded before
// before (voided or not).
func (s *Store) SucceededSomeTimeBefore(ctx context.Context, id string, before time.Time) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE id = $1 AND succeeded_at < $2`, id, ms(before)).Scan(&n)
	return n > 0, err
}

// StageReachedBefore says when a referral reached a stage, if before before.
func (s *Store) StageReachedBefore(ctx context.Context, referralID, stage string, before time.Time) (time.Time, bool, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT occurred_at FROM referral_stages WHERE referral_id = $1 AND stage = $2 AND occurred_at < $3`,
		referralID, stage, ms(before)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromMS(at), err == nil, err
}

// ReferralQuery narrows a program's referral list.
type ReferralQuery struct {
	ProgramID  string
	Status     string    // signed_up, converted, rejected; "" for all
	From, To   time.Time // signup time in [From, To); zero for open ends
	Flagged    bool      // only referrals flagged: waiting for fraud review (flagged, held) or rejected
	AdvocateID string    // only this advocate's referrals
}

// ReferralRow is a referral with what the console shows beside it.
type ReferralRow struct {
	parrain.Referral
	AdvocateName   string `json:"advocate_name"`
	FriendName     string `json:"friend_name"`
	FriendEmail    string `json:"friend_email"`
	Via            string `json:"via"`             // code (typed) or cookie (link click)
	PendingRewards int64  `json:"pending_rewards"` // rewards awaiting approval
}

// UnderReview reports whether the referral waits for a fraud reviewer.
func (r ReferralRow) UnderReview() bool { return parrain.UnderReview(r.ReviewStatus) }

const referralRowSelect = `SELECT r.id, r.program_id, r.advocate_id, a.external_id, r.friend_id, f.external_id, r.code, r.status, r.reason,
	r.clicked_at, r.signed_up_at, r.converted_at, r.created_at, r.risk_score, r.review_status, a.name, f.name, f.email, r.via,
	(SELECT COUNT(*) FROM rewards rw WHERE rw.referral_id = r.id AND rw.status = 'pending')
	FROM referrals r JOIN participants a ON a.id = r.advocate_id JOIN participants f ON f.id = r.friend_id`

func scanReferralRow(sc scanner) (ReferralRow, error) {
	var r ReferralRow
	var clicked, converted sql.NullInt64
	var signed, created int64
	err := sc.Scan(&r.ID, &r.ProgramID, &r.AdvocateID, &r.AdvocateExternalID, &r.FriendID, &r.FriendExternalID, &r.Code,
		&r.Status, &r.Reason, &clicked, &signed, &converted, &created, &r.RiskScore, &r.ReviewStatus, &r.AdvocateName, &r.FriendName, &r.FriendEmail, &r.Via, &r.PendingRewards)
	r.ClickedAt, r.ConvertedAt = fromNullMS(clicked), fromNullMS(converted)
	r.SignedUpAt, r.CreatedAt = fromMS(signed), fromMS(created)
	return r, err
}

// referralCursor is "<signed_up_at ms>.<id>": the list is ordered by signup
// time, then id, both descending.
func referralCursor(r ReferralRow) string {
	return strconv.FormatInt(ms(r.SignedUpAt), 10) + "." + r.ID
}

// ReferralsPage lists a program's referrals by signup time, newest first,
// filtered by status, signup dates, flag and advocate.
func (s *Store) ReferralsPage(ctx context.Context, q ReferralQuery, pg Page) ([]ReferralRow, string, error) {
	query, args, err := referralsPageSQL(q, pg)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing referrals: %w", err)
	}
	defer rows.Close()
	out := []ReferralRow{}
	for rows.Next() {
		r, err := scanReferralRow(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), referralCursor)
}

// referralsPageSQL builds ReferralsPage's query (separate so that a test
// can check its plan uses the indexes).
func referralsPageSQL(q ReferralQuery, pg Page) (string, []any, error) {
	switch parrain.ReferralStatus(q.Status) {
	case "", parrain.ReferralSignedUp, parrain.ReferralConverted, parrain.ReferralRejected:
	default:
		return "", nil, parrain.Invalid("status", "must be signed_up, converted or rejected")
	}
	where := []string{`r.program_id = $1`}
	args := []any{q.ProgramID}
	add := func(cond string, vs ...any) {
		idx := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			idx[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, idx...))
	}
	if q.Status != "" {
		add(`r.status = $%d`, q.Status)
	}
	if !q.From.IsZero() {
		add(`r.signed_up_at >= $%d`, ms(q.From))
	}
	if !q.To.IsZero() {
		add(`r.signed_up_at < $%d`, ms(q.To))
	}
	if q.Flagged {
		where = append(where, `(r.review_status IN ('flagged', 'held') OR r.status = 'rejected')`)
	}
	if q.AdvocateID != "" {
		add(`r.advocate_id = $%d`, q.AdvocateID)
	}
	if pg.Cursor != "" {
		at, id, ok := strings.Cut(pg.Cursor, ".")
		t, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || id == "" {
			return "", nil, parrain.Invalid("cursor", "is not a cursor from a previous page")
		}
		add(`(r.signed_up_at < $%d OR (r.signed_up_at = $%d AND r.id < $%d))`, t, t, id)
	}
	args = append(args, pg.limit()+1)
	return referralRowSelect + ` WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY r.signed_up_at DESC, r.id DESC LIMIT $%d`, len(args)), args, nil
}

// ReferralOfFriend returns the referral that brought a participant into
// their program (who referred them), or not_found.
func (s *Store) ReferralOfFriend(ctx context.Context, programID, friendID string) (ReferralRow, error) {
	r, err := scanReferralRow(s.r.QueryRowContext(ctx, referralRowSelect+` WHERE r.program_id = $1 AND r.friend_id = $2`, programID, friendID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("referral")
	}
	if err != nil {
		return r, fmt.Errorf("loading referral: %w", err)
	}
	return r, nil
}
