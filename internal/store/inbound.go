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

// Inbound event states.
const (
	InboundProcessed = "processed" // turned into a Parrain event (or a link)
	InboundIgnored   = "ignored"   // nothing to do (not referred, not paid, unknown type…); Detail says why
	InboundDeferred  = "deferred"  // waits for what it refers to (a refund before its order)
)

// InboundEvent is a provider webhook received (Stripe, Shopify),
// deduplicated by the provider's event id.
type InboundEvent struct {
	Provider    string     `json:"provider"`
	EventID     string     `json:"event_id"`
	ProgramID   string     `json:"program_id,omitempty"`
	Type        string     `json:"type"`
	Status      string     `json:"status"`
	Detail      string     `json:"detail,omitempty"`
	Payload     string     `json:"-"` // kept while deferred
	ReceivedAt  time.Time  `json:"received_at"`
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
}

// InboundEvent returns a received provider event.
func (s *Store) InboundEvent(ctx context.Context, provider, eventID string) (InboundEvent, bool, error) {
	e := InboundEvent{Provider: provider, EventID: eventID}
	var received int64
	var processed sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT program_id, type, status, detail, payload, received_at, processed_at FROM inbound_events
		WHERE provider = $1 AND event_id = $2`, provider, eventID).Scan(&e.ProgramID, &e.Type, &e.Status, &e.Detail, &e.Payload, &received, &processed)
	if errors.Is(err, sql.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("loading inbound event: %w", err)
	}
	e.ReceivedAt, e.ProcessedAt = fromMS(received), fromNullMS(processed)
	return e, true, nil
}

// RecordInbound records the outcome of a provider event. A deferred event
// keeps its payload and waits on refs (provider object ids); a processed or
// ignored one stops waiting.
func (s *Store) RecordInbound(ctx context.Context, e InboundEvent, waitRefs []string) error {
	e.Detail = truncateStr(e.Detail, 1000)
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := ms(s.clock.Now())
		payload, processed := "", sql.NullInt64{Int64: now, Valid: true}
		if e.Status == InboundDeferred {
			payload, processed = e.Payload, sql.NullInt64{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbound_events (provider, event_id, program_id, type, status, detail, payload, received_at, processed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (provider, event_id) DO UPDATE SET program_id = $3, status = $5, detail = $6, payload = $7, processed_at = $9`,
			e.Provider, e.EventID, e.ProgramID, e.Type, e.Status, e.Detail, payload, now, processed); err != nil {
			return fmt.Errorf("recording inbound event: %w", err)
		}
		if e.Status != InboundDeferred {
			_, err := tx.ExecContext(ctx, `DELETE FROM inbound_waits WHERE provider = $1 AND event_id = $2`, e.Provider, e.EventID)
			return err
		}
		for _, ref := range waitRefs {
			if ref == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO inbound_waits (provider, ref, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
				e.Provider, ref, e.EventID); err != nil {
				return fmt.Errorf("recording inbound wait: %w", err)
			}
		}
		return nil
	})
}

// WaitingInbound returns the deferred events waiting on any of refs, oldest
// first.
func (s *Store) WaitingInbound(ctx context.Context, provider string, refs []string) ([]InboundEvent, error) {
	seen := map[string]bool{}
	var out []InboundEvent
	for _, ref := range refs {
		if ref == "" {
			continue
		}
		rows, err := s.r.QueryContext(ctx, `SELECT w.event_id FROM inbound_waits w JOIN inbound_events e ON e.provider = w.provider AND e.event_id = w.event_id
			WHERE w.provider = $1 AND w.ref = $2 AND e.status = 'deferred' ORDER BY e.received_at`, provider, ref)
		if err != nil {
			return nil, fmt.Errorf("finding waiting events: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			e, ok, err := s.InboundEvent(ctx, provider, id)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// InboundEvents lists the provider events received for a program, newest
// first, for troubleshooting an integration. The cursor is
// "<received ms>|<provider>|<event id>" of the last item of a page.
func (s *Store) InboundEvents(ctx context.Context, programID string, pg Page) ([]InboundEvent, string, error) {
	at, key := int64(1<<62), ""
	if pg.Cursor != "" {
		ms, rest, ok := strings.Cut(pg.Cursor, "|")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil {
			return nil, "", parrain.Invalid("cursor", "is not a cursor from a previous page")
		}
		at, key = n, rest
	}
	rows, err := s.r.QueryContext(ctx, `SELECT provider, event_id, program_id, type, status, detail, received_at, processed_at FROM inbound_events
		WHERE program_id = $1 AND (received_at < $2 OR (received_at = $2 AND provider || '|' || event_id < $3))
		ORDER BY received_at DESC, provider || '|' || event_id DESC LIMIT $4`, programID, at, key, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing inbound events: %w", err)
	}
	defer rows.Close()
	out := []InboundEvent{}
	for rows.Next() {
		var e InboundEvent
		var received int64
		var processed sql.NullInt64
		if err := rows.Scan(&e.Provider, &e.EventID, &e.ProgramID, &e.Type, &e.Status, &e.Detail, &received, &processed); err != nil {
			return nil, "", err
		}
		e.ReceivedAt, e.ProcessedAt = fromMS(received), fromNullMS(processed)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(e InboundEvent) string {
		return strconv.FormatInt(ms(e.ReceivedAt), 10) + "|" + e.Provider + "|" + e.EventID
	})
}

// Kinds of provider links.
const (
	LinkCustomer = "customer" // a provider customer → a participant
	LinkOrder    = "order"    // a provider payment object → an order id
)

// ProviderLink ties a provider object to Parrain's: a customer to a
// participant, a payment object to the order it paid.
type ProviderLink struct {
	Provider      string
	Kind          string
	Ref           string
	ProgramID     string
	ParticipantID string
	OrderID       string
	CanceledAt    *time.Time
}

// FindProviderLink returns the link of a provider object, in programID or
// (when empty) in any program.
func (s *Store) FindProviderLink(ctx context.Context, provider, kind, ref, programID string) (ProviderLink, bool, error) {
	l := ProviderLink{Provider: provider, Kind: kind, Ref: ref}
	var canceled sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT program_id, participant_id, order_id, canceled_at FROM provider_links
		WHERE provider = $1 AND kind = $2 AND ref = $3 AND ($4 = '' OR program_id = $4) ORDER BY created_at LIMIT 1`,
		provider, kind, ref, programID).Scan(&l.ProgramID, &l.ParticipantID, &l.OrderID, &canceled)
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("loading provider link: %w", err)
	}
	l.CanceledAt = fromNullMS(canceled)
	return l, true, nil
}

// LinkProvider records a link; an existing link is kept (the first wins).
func (s *Store) LinkProvider(ctx context.Context, l ProviderLink) error {
	if l.Ref == "" {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO provider_links (provider, kind, ref, program_id, participant_id, order_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, l.Provider, l.Kind, l.Ref, l.ProgramID, l.ParticipantID, l.OrderID, ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("linking %s %s: %w", l.Provider, l.Ref, err)
	}
	return nil
}

// CancelCustomer records that a provider customer's subscription was
// cancelled and announces referral.cancelled for the participant's
// referral, once (a replay finds it already cancelled and returns false).
func (s *Store) CancelCustomer(ctx context.Context, provider, customer, programID, subscription string) (bool, error) {
	done := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		done = false // a retried attempt starts afresh
		var participant string
		var canceled sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT participant_id, canceled_at FROM provider_links WHERE provider = $1 AND kind = 'customer' AND ref = $2 AND program_id = $3`+s.d.forUpdate,
			provider, customer, programID).Scan(&participant, &canceled)
		if errors.Is(err, sql.ErrNoRows) || canceled.Valid {
			return nil
		}
		if err != nil {
			return err
		}
		now := ms(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `UPDATE provider_links SET canceled_at = $1 WHERE provider = $2 AND kind = 'customer' AND ref = $3 AND program_id = $4`,
			now, provider, customer, programID); err != nil {
			return err
		}
		ref, err := s.referralByFriend(ctx, tx, programID, participant)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		done = true
		return s.emitTx(ctx, tx, programID, parrain.WebhookReferralCancelled, map[string]any{
			"referral": ref, "provider": provider, "customer": customer, "subscription": subscription, "cancelled_at": fromMS(now)})
	})
	return done, err
}

// ParticipantByEmail returns the participant of a program with the same
// canonical email (the oldest if several).
func (s *Store) ParticipantByEmail(ctx context.Context, programID, email string) (parrain.Participant, error) {
	if email == "" {
		return parrain.Participant{}, notFound("participant")
	}
	p, err := scanParticipant(s.r.QueryRowContext(ctx, `SELECT `+participantCols+` FROM participants WHERE program_id = $1 AND email_canonical = $2 ORDER BY id LIMIT 1`,
		programID, parrain.CanonicalEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("participant")
	}
	return p, err
}

// PurchaseInfo is a stored purchase, for refund matching.
type PurchaseInfo struct {
	OrderID       string
	ParticipantID string
	Amount        int64
	Refunded      int64
	Currency      string
}

// PurchaseByOrder returns a program's purchase by order id.
func (s *Store) PurchaseByOrder(ctx context.Context, programID, orderID string) (PurchaseInfo, bool, error) {
	p := PurchaseInfo{OrderID: orderID}
	err := s.r.QueryRowContext(ctx, `SELECT participant_id, amount, refunded, currency FROM purchases WHERE program_id = $1 AND order_id = $2`, programID, orderID).
		Scan(&p.ParticipantID, &p.Amount, &p.Refunded, &p.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// MatchPurchase finds a participant's most recent purchase of exactly amount
// in currency that is not fully refunded: how a refunded payment is matched
// to its order when the provider no longer says which invoice it paid.
func (s *Store) MatchPurchase(ctx context.Context, programID, participantID string, amount int64, currency string) (PurchaseInfo, bool, error) {
	p := PurchaseInfo{ParticipantID: participantID}
	err := s.r.QueryRowContext(ctx, `SELECT order_id, amount, refunded, currency FROM purchases
		WHERE program_id = $1 AND participant_id = $2 AND amount = $3 AND currency = $4 AND refunded < amount ORDER BY occurred_at DESC, id DESC LIMIT 1`,
		programID, participantID, amount, currency).Scan(&p.OrderID, &p.Amount, &p.Refunded, &p.Currency)
	if errors.Is(err, sql.ErrNoRows) {
		return p, false, nil
	}
	return p, err == nil, err
}

// SoleProgram returns the id of the installation's only program, if there
// is exactly one.
func (s *Store) SoleProgram(ctx context.Context) (string, bool, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM programs ORDER BY id LIMIT 2`)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", false, err
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return "", false, rows.Err()
	}
	return ids[0], true, rows.Err()
}
