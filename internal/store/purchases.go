package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Purchase is a reported purchase as stored.
type Purchase struct {
	ID            string
	ProgramID     string
	ParticipantID string
	ReferralID    string // empty when not referred
	OrderID       string
	Amount        int64
	Currency      string
	Refunded      int64
	EventID       string
	OccurredAt    time.Time
}

// InsertPurchase stores a purchase; false when its order was already
// reported.
func (t *Tx) InsertPurchase(ctx context.Context, p Purchase) (bool, error) {
	var refID sql.NullString
	if p.ReferralID != "" {
		refID = sql.NullString{String: p.ReferralID, Valid: true}
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO purchases (id, program_id, participant_id, referral_id, order_id, amount, currency, event_id, occurred_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		p.ID, p.ProgramID, p.ParticipantID, refID, p.OrderID, p.Amount, p.Currency, p.EventID, ms(p.OccurredAt), ms(t.s.clock.Now()))
	if err != nil {
		return false, fmt.Errorf("inserting purchase: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PurchaseByOrderForUpdate returns a program's purchase by order id,
// locked; found is false when there is none.
func (t *Tx) PurchaseByOrderForUpdate(ctx context.Context, programID, orderID string) (p Purchase, found bool, err error) {
	var refID sql.NullString
	var at int64
	err = t.tx.QueryRowContext(ctx, `SELECT id, amount, currency, refunded, referral_id, occurred_at FROM purchases WHERE program_id = $1 AND order_id = $2`+t.s.d.forUpdate,
		programID, orderID).Scan(&p.ID, &p.Amount, &p.Currency, &p.Refunded, &refID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("loading purchase: %w", err)
	}
	p.ProgramID, p.OrderID, p.ReferralID, p.OccurredAt = programID, orderID, refID.String, fromMS(at)
	return p, true, nil
}

// RecordRefund stores a refund of amount on a purchase, whose refunded
// total becomes total.
func (t *Tx) RecordRefund(ctx context.Context, programID, purchaseID string, amount, total int64, eventID string) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE purchases SET refunded = $1 WHERE id = $2`, total, purchaseID); err != nil {
		return fmt.Errorf("updating purchase: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO refunds (id, program_id, purchase_id, amount, event_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		newID("rfd"), programID, purchaseID, amount, eventID, ms(t.s.clock.Now())); err != nil {
		return fmt.Errorf("inserting refund: %w", err)
	}
	return nil
}

func paymentRank(ctx context.Context, q querier, referralID, purchaseID string) (int, time.Time, error) {
	var n int
	var first int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), MIN(occurred_at) FROM purchases WHERE referral_id = $1 AND id <= $2`,
		referralID, purchaseID).Scan(&n, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("counting payments: %w", err)
	}
	return n, fromMS(first), nil
}

// PaymentRank returns a purchase's rank among its referral's purchases
// and when the first of them happened.
func (t *Tx) PaymentRank(ctx context.Context, referralID, purchaseID string) (int, time.Time, error) {
	return paymentRank(ctx, t.tx, referralID, purchaseID)
}

// PaymentRank is Tx.PaymentRank on the read pool.
func (s *Store) PaymentRank(ctx context.Context, referralID, purchaseID string) (int, time.Time, error) {
	return paymentRank(ctx, s.r, referralID, purchaseID)
}

// PurchasesBetween counts a participant's purchases in (from, to].
func (t *Tx) PurchasesBetween(ctx context.Context, participantID string, from, to time.Time) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM purchases WHERE participant_id = $1 AND occurred_at > $2 AND occurred_at <= $3`,
		participantID, ms(from), ms(to)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting purchases: %w", err)
	}
	return n, nil
}

// PurchaseOfEvent returns the purchase an event created; found is false
// for a duplicate report of an order.
func (s *Store) PurchaseOfEvent(ctx context.Context, eventID string) (p Purchase, found bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT id, amount, currency FROM purchases WHERE event_id = $1`, eventID).Scan(&p.ID, &p.Amount, &p.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// RefundOfEvent is the refund an event recorded, with its purchase's amount
// and the refunded total once it was applied.
type RefundOfEvent struct {
	PurchaseID     string
	PurchaseAmount int64
	RefundedTotal  int64
}

// RefundOfEvent returns the refund an event recorded (found false if none).
func (s *Store) RefundOfEvent(ctx context.Context, eventID string) (r RefundOfEvent, found bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT f.purchase_id, p.amount, (SELECT SUM(o.amount) FROM refunds o WHERE o.purchase_id = f.purchase_id AND o.id <= f.id)
		FROM refunds f JOIN purchases p ON p.id = f.purchase_id WHERE f.event_id = $1`, eventID).Scan(&r.PurchaseID, &r.PurchaseAmount, &r.RefundedTotal)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	return r, err == nil, err
}
