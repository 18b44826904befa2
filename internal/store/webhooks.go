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

// AuditWebhookDisabled is the audit action recorded when an endpoint is
// disabled automatically after failing for days.
const AuditWebhookDisabled = "webhook_endpoint.disabled"

// WebhookMessage is the JSON body of every outgoing webhook, the envelope
// the Standard Webhooks specification recommends.
type WebhookMessage struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// emitTx enqueues, in the caller's transaction, one delivery of an event to
// every active endpoint of the program subscribed to eventType: the
// deliveries exist if and only if the change they announce commits. payload
// is the event's data object (a reward, a referral, a payout…).
func (s *Store) emitTx(ctx context.Context, tx *sql.Tx, programID, eventType string, payload any) error {
	if parrain.MarketingWebhook(eventType) {
		if out, err := s.optedOut(ctx, tx, programID, payload); err != nil || out {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, event_types FROM webhook_endpoints WHERE program_id = $1 AND status = 'active'`, programID)
	if err != nil {
		return fmt.Errorf("finding webhook endpoints: %w", err)
	}
	var targets []string
	for rows.Next() {
		var e parrain.WebhookEndpoint
		var types string
		if err := rows.Scan(&e.ID, &types); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
			rows.Close()
			return fmt.Errorf("decoding event types of %s: %w", e.ID, err)
		}
		if e.Subscribed(eventType) {
			targets = append(targets, e.ID)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(targets) == 0 {
		return err
	}
	now := s.clock.Now()
	body, err := json.Marshal(WebhookMessage{Type: eventType, Timestamp: now, Data: payload})
	if err != nil {
		return fmt.Errorf("encoding %s webhook: %w", eventType, err)
	}
	for _, ep := range targets {
		id := newID("msg")
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, program_id, event_type, payload, status, next_attempt_at, created_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)`, id, ep, programID, eventType, string(body), ms(now)); err != nil {
			return fmt.Errorf("inserting webhook delivery: %w", err)
		}
		payload, _ := json.Marshal(parrain.WebhookDeliverArgs{DeliveryID: id})
		if err := s.enqueueTx(ctx, tx, parrain.JobWebhookDeliver, parrain.JobWebhookDeliver+":"+id, payload, now); err != nil {
			return err
		}
	}
	return nil
}

// Emit announces an event outside any other write (for callers whose change
// is not a store write). Prefer emitTx inside the write's transaction.
func (s *Store) Emit(ctx context.Context, programID, eventType string, payload any) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.emitTx(ctx, tx, programID, eventType, payload) })
}

const endpointCols = `id, program_id, url, description, event_types, status, disabled_reason, failing_since, last_success_at, created_at, updated_at`

func scanEndpoint(sc scanner) (parrain.WebhookEndpoint, error) {
	var e parrain.WebhookEndpoint
	var types string
	var failing, success sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.ProgramID, &e.URL, &e.Description, &types, &e.Status, &e.DisabledReason, &failing, &success, &created, &updated); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return e, fmt.Errorf("decoding event types: %w", err)
	}
	e.FailingSince, e.LastSuccessAt = fromNullMS(failing), fromNullMS(success)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	return e, nil
}

func (s *Store) endpointTx(ctx context.Context, q querier, programID, id, lock string) (parrain.WebhookEndpoint, error) {
	e, err := scanEndpoint(q.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1 AND ($2 = '' OR program_id = $2)`+lock, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("webhook endpoint")
	}
	if err != nil {
		return e, fmt.Errorf("loading webhook endpoint: %w", err)
	}
	return e, nil
}

// WebhookEndpoint returns an endpoint (without its secret).
func (s *Store) WebhookEndpoint(ctx context.Context, programID, id string) (parrain.WebhookEndpoint, error) {
	return s.endpointTx(ctx, s.r, programID, id, "")
}

// WebhookEndpoints lists a program's endpoints, newest first.
func (s *Store) WebhookEndpoints(ctx context.Context, programID string, pg Page) ([]parrain.WebhookEndpoint, string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE program_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`,
		programID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing webhook endpoints: %w", err)
	}
	defer rows.Close()
	out := []parrain.WebhookEndpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(e parrain.WebhookEndpoint) string { return e.ID })
}

// NewWebhookEndpointID returns a fresh endpoint id.
func (t *Tx) NewWebhookEndpointID() string { return newID("whe") }

// WebhookEndpoint returns an endpoint (without its secret) of a program
// (any program when programID is ""), locked until the transaction ends.
func (t *Tx) WebhookEndpoint(ctx context.Context, programID, id string) (parrain.WebhookEndpoint, error) {
	return t.s.endpointTx(ctx, t.tx, programID, id, t.s.d.forUpdate)
}

// InsertWebhookEndpoint stores a new endpoint with its signing secret.
func (t *Tx) InsertWebhookEndpoint(ctx context.Context, e parrain.WebhookEndpoint, secret string) error {
	types, err := json.Marshal(e.EventTypes)
	if err != nil {
		return fmt.Errorf("encoding event types: %w", err)
	}
	sealed, err := t.s.seal(secret, "webhook_endpoints", "secret", e.ID)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, program_id, url, description, event_types, secret, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, e.ID, e.ProgramID, e.URL, e.Description, string(types), sealed, e.Status, ms(e.CreatedAt)); err != nil {
		return fmt.Errorf("inserting webhook endpoint: %w", err)
	}
	return nil
}

// UpdateWebhookEndpoint saves an endpoint's URL, description, event types,
// status, disabled reason and failure record.
func (t *Tx) UpdateWebhookEndpoint(ctx context.Context, e parrain.WebhookEndpoint, now time.Time) error {
	types, err := json.Marshal(e.EventTypes)
	if err != nil {
		return fmt.Errorf("encoding event types: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, status = $4, disabled_reason = $5,
		failing_since = $6, updated_at = $7 WHERE id = $8`,
		e.URL, e.Description, string(types), e.Status, e.DisabledReason, nullMS(e.FailingSince), ms(now), e.ID); err != nil {
		return fmt.Errorf("updating webhook endpoint: %w", err)
	}
	return nil
}

// SetWebhookSecret replaces an endpoint's signing secret.
func (t *Tx) SetWebhookSecret(ctx context.Context, id, secret string, now time.Time) error {
	sealed, err := t.s.seal(secret, "webhook_endpoints", "secret", id)
	if err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1, updated_at = $2 WHERE id = $3`, sealed, ms(now), id); err != nil {
		return fmt.Errorf("rotating secret: %w", err)
	}
	return nil
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries and their
// log.
func (t *Tx) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	for _, q := range []string{
		`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)`,
		`DELETE FROM webhook_deliveries WHERE endpoint_id = $1`,
		`DELETE FROM webhook_endpoints WHERE id = $1`,
	} {
		if _, err := t.tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("deleting webhook endpoint: %w", err)
		}
	}
	return nil
}

// WebhookEndpointSucceeded records a delivery to the endpoint: it is no
// longer failing.
func (t *Tx) WebhookEndpointSucceeded(ctx context.Context, id string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = $1 WHERE id = $2`, ms(now), id); err != nil {
		return fmt.Errorf("recording endpoint success: %w", err)
	}
	return nil
}

// WebhookEndpointFailing records that the endpoint fails every delivery
// since a time.
func (t *Tx) WebhookEndpointFailing(ctx context.Context, id string, since time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2`, ms(since), id); err != nil {
		return fmt.Errorf("recording endpoint failure: %w", err)
	}
	return nil
}

// DisableWebhookEndpoint disables an endpoint for a reason.
func (t *Tx) DisableWebhookEndpoint(ctx context.Context, id, reason string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1, updated_at = $2 WHERE id = $3`,
		reason, ms(now), id); err != nil {
		return fmt.Errorf("disabling webhook endpoint: %w", err)
	}
	return nil
}

// WebhookTarget returns where and how to deliver to an endpoint: its URL,
// signing secret and status.
func (t *Tx) WebhookTarget(ctx context.Context, endpointID string) (url, secret string, status parrain.EndpointStatus, err error) {
	if err := t.tx.QueryRowContext(ctx, `SELECT url, secret, status FROM webhook_endpoints WHERE id = $1`, endpointID).Scan(&url, &secret, &status); err != nil {
		return "", "", "", fmt.Errorf("loading endpoint: %w", err)
	}
	if secret, err = t.s.open(secret, "webhook_endpoints", "secret", endpointID); err != nil {
		return "", "", "", err
	}
	return url, secret, status, nil
}

const deliveryCols = `id, endpoint_id, program_id, event_type, payload, status, attempts, next_attempt_at, last_status_code, last_error, created_at, completed_at`

func scanDelivery(sc scanner) (parrain.WebhookDelivery, error) {
	var d parrain.WebhookDelivery
	var next, completed sql.NullInt64
	var created int64
	err := sc.Scan(&d.ID, &d.EndpointID, &d.ProgramID, &d.EventType, &d.Payload, &d.Status, &d.Attempts, &next, &d.LastStatusCode,
		&d.LastError, &created, &completed)
	d.NextAttemptAt, d.CompletedAt, d.CreatedAt = fromNullMS(next), fromNullMS(completed), fromMS(created)
	return d, err
}

// WebhookDeliveries lists an endpoint's deliveries, newest first, filtered
// by status when given ("" for all).
func (s *Store) WebhookDeliveries(ctx context.Context, programID, endpointID, status string, pg Page) ([]parrain.WebhookDelivery, string, error) {
	if _, err := s.endpointTx(ctx, s.r, programID, endpointID, ""); err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE endpoint_id = $1 AND ($2 = '' OR status = $2)
		AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`, endpointID, status, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing deliveries: %w", err)
	}
	defer rows.Close()
	out := []parrain.WebhookDelivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(d parrain.WebhookDelivery) string { return d.ID })
}

// WebhookDelivery returns a delivery with its attempt log.
func (s *Store) WebhookDelivery(ctx context.Context, programID, endpointID, id string) (parrain.WebhookDelivery, error) {
	d, err := scanDelivery(s.r.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2 AND program_id = $3`,
		id, endpointID, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("webhook delivery")
	}
	if err != nil {
		return d, fmt.Errorf("loading delivery: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT attempt, status_code, response_body, error, duration_ms, created_at FROM webhook_attempts
		WHERE delivery_id = $1 ORDER BY id`, id)
	if err != nil {
		return d, fmt.Errorf("loading delivery log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a parrain.DeliveryAttempt
		var at int64
		if err := rows.Scan(&a.Attempt, &a.StatusCode, &a.ResponseBody, &a.Error, &a.DurationMS, &at); err != nil {
			return d, err
		}
		a.At = fromMS(at)
		d.Log = append(d.Log, a)
	}
	return d, rows.Err()
}

// WebhookDelivery returns a delivery, locked until the transaction ends.
func (t *Tx) WebhookDelivery(ctx context.Context, id string) (parrain.WebhookDelivery, error) {
	d, err := scanDelivery(t.tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("webhook delivery")
	}
	if err != nil {
		return d, fmt.Errorf("loading delivery: %w", err)
	}
	return d, nil
}

// ResetWebhookDelivery puts a delivery back to pending with no attempt
// made, due at now.
func (t *Tx) ResetWebhookDelivery(ctx context.Context, id string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, completed_at = NULL WHERE id = $2`,
		ms(now), id); err != nil {
		return fmt.Errorf("replaying delivery: %w", err)
	}
	return nil
}

// FailWebhookDelivery marks a delivery failed without an attempt.
func (t *Tx) FailWebhookDelivery(ctx context.Context, id, lastErr string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = $1, completed_at = $2 WHERE id = $3`,
		lastErr, ms(now), id); err != nil {
		return fmt.Errorf("failing delivery: %w", err)
	}
	return nil
}

// LogWebhookAttempt appends an attempt to a delivery's log, numbered after
// the attempts logged before.
func (t *Tx) LogWebhookAttempt(ctx context.Context, deliveryID string, a parrain.WebhookAttempt, now time.Time) error {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = $1`, deliveryID).Scan(&n); err != nil {
		return fmt.Errorf("counting attempts: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO webhook_attempts (id, delivery_id, attempt, status_code, response_body, error, duration_ms, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("wha"), deliveryID, n+1, a.StatusCode, a.Body, a.Err, a.Duration.Milliseconds(), ms(now)); err != nil {
		return fmt.Errorf("logging attempt: %w", err)
	}
	return nil
}

// RecordWebhookAttempt counts an attempt on a delivery and leaves it in
// status, with the attempt's answer and error, its next attempt (nil for
// none) and its completion time (nil while pending).
func (t *Tx) RecordWebhookAttempt(ctx context.Context, id string, status parrain.DeliveryStatus, a parrain.WebhookAttempt, completed *time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status_code = $2, last_error = $3,
		next_attempt_at = $4, completed_at = $5 WHERE id = $6`, status, a.StatusCode, a.Err, nullMS(a.RetryAt), nullMS(completed), id); err != nil {
		return fmt.Errorf("recording attempt: %w", err)
	}
	return nil
}

// emitRewardMovesTx announces what a ledger change did to a reward (the
// event type parrain.RewardMoveWebhook names, if any). It is called by
// applyMoves, the one place rewards change.
func (s *Store) emitRewardMovesTx(ctx context.Context, tx *sql.Tx, before parrain.RewardStatus, rw *parrain.Reward, moves []parrain.Movement) error {
	typ := parrain.RewardMoveWebhook(before, rw, moves)
	if typ == "" {
		return nil
	}
	return s.emitTx(ctx, tx, rw.ProgramID, typ, rw)
}

// Emit enqueues the deliveries of a webhook event in the transaction (see
// emitTx).
func (t *Tx) Emit(ctx context.Context, programID, eventType string, payload any) error {
	return t.s.emitTx(ctx, t.tx, programID, eventType, payload)
}

// optedOut reports whether a marketing webhook's payload is about a
// participant who chose "do not sell or share" (docs/privacy.md): a
// referral (advocate or friend) or a trigger's firing.
func (s *Store) optedOut(ctx context.Context, tx *sql.Tx, programID string, payload any) (bool, error) {
	var n int
	var err error
	switch v := payload.(type) {
	case *parrain.Referral:
		return s.optedOut(ctx, tx, programID, *v)
	case parrain.Referral:
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE id IN ($1, $2) AND do_not_sell`, v.AdvocateID, v.FriendID).Scan(&n)
	case TriggerFiredPayload:
		err = tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participants WHERE program_id = $1 AND external_id = $2 AND do_not_sell`,
			programID, v.ExternalID).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("reading do-not-sell choices: %w", err)
	}
	return n > 0, nil
}
