package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

func newWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
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

func normalizeEndpoint(in parrain.WebhookEndpointInput, create bool) (parrain.WebhookEndpointInput, error) {
	if create && in.URL == nil {
		return in, parrain.Invalid("url", "is required")
	}
	if in.URL != nil {
		u, err := parrain.NormalizeWebhookURL("url", *in.URL)
		if err != nil {
			return in, err
		}
		in.URL = &u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 500 {
			return in, parrain.Invalid("description", "must be at most 500 characters")
		}
		in.Description = &d
	}
	if create || in.EventTypes != nil {
		types, err := parrain.NormalizeEventTypes("event_types", in.EventTypes)
		if err != nil {
			return in, err
		}
		in.EventTypes = types
	}
	if in.Status != nil && *in.Status != parrain.EndpointActive && *in.Status != parrain.EndpointDisabled {
		return in, parrain.Invalid("status", "must be active or disabled")
	}
	return in, nil
}

// CreateWebhookEndpoint registers an endpoint for a program's events and
// returns it with its signing secret, shown this once.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, programID string, in parrain.WebhookEndpointInput, idem Idem) (parrain.WebhookEndpoint, bool, error) {
	in, err := normalizeEndpoint(in, true)
	if err != nil {
		return parrain.WebhookEndpoint{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.WebhookEndpoint, error) {
		if _, err := s.programQ(ctx, tx, programID, ""); err != nil {
			return parrain.WebhookEndpoint{}, err
		}
		secret, err := newWebhookSecret()
		if err != nil {
			return parrain.WebhookEndpoint{}, err
		}
		status := parrain.EndpointActive
		if in.Status != nil {
			status = *in.Status
		}
		desc := ""
		if in.Description != nil {
			desc = *in.Description
		}
		types, _ := json.Marshal(in.EventTypes)
		id, now := newID("whe"), ms(s.clock.Now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, program_id, url, description, event_types, secret, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, id, programID, *in.URL, desc, string(types), secret, status, now); err != nil {
			return parrain.WebhookEndpoint{}, fmt.Errorf("inserting webhook endpoint: %w", err)
		}
		e, err := s.endpointTx(ctx, tx, programID, id, "")
		if err != nil {
			return e, err
		}
		e.Secret = secret
		return e, s.audit(ctx, tx, AuditWebhookCreated, "webhook_endpoint", id, programID,
			map[string]any{"url": e.URL, "event_types": e.EventTypes})
	})
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

// UpdateWebhookEndpoint changes an endpoint's URL, description, event types
// or status. Enabling a disabled endpoint clears its failure record; its
// failed deliveries can be replayed.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, programID, id string, in parrain.WebhookEndpointInput) (parrain.WebhookEndpoint, error) {
	in, err := normalizeEndpoint(in, false)
	if err != nil {
		return parrain.WebhookEndpoint{}, err
	}
	var out parrain.WebhookEndpoint
	err = s.tx(ctx, func(tx *sql.Tx) error {
		e, err := s.endpointTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		if in.URL != nil {
			e.URL = *in.URL
		}
		if in.Description != nil {
			e.Description = *in.Description
		}
		if in.EventTypes != nil {
			e.EventTypes = in.EventTypes
		}
		if in.Status != nil && *in.Status != e.Status {
			e.Status = *in.Status
			e.DisabledReason = ""
			if e.Status == parrain.EndpointDisabled {
				e.DisabledReason = "disabled by hand"
			} else {
				e.FailingSince = nil
			}
		}
		types, _ := json.Marshal(e.EventTypes)
		_, err = tx.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, description = $2, event_types = $3, status = $4, disabled_reason = $5,
			failing_since = $6, updated_at = $7 WHERE id = $8`,
			e.URL, e.Description, string(types), e.Status, e.DisabledReason, nullMS(e.FailingSince), ms(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("updating webhook endpoint: %w", err)
		}
		if out, err = s.endpointTx(ctx, tx, programID, id, ""); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditWebhookUpdated, "webhook_endpoint", id, programID,
			map[string]any{"url": out.URL, "event_types": out.EventTypes, "status": out.Status})
	})
	return out, err
}

// RotateWebhookSecret gives an endpoint a new signing secret and returns it
// (shown this once). Deliveries from now on are signed with the new secret.
func (s *Store) RotateWebhookSecret(ctx context.Context, programID, id string) (parrain.WebhookEndpoint, error) {
	var out parrain.WebhookEndpoint
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.endpointTx(ctx, tx, programID, id, s.d.forUpdate); err != nil {
			return err
		}
		secret, err := newWebhookSecret()
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET secret = $1, updated_at = $2 WHERE id = $3`, secret, ms(s.clock.Now()), id); err != nil {
			return fmt.Errorf("rotating secret: %w", err)
		}
		if out, err = s.endpointTx(ctx, tx, programID, id, ""); err != nil {
			return err
		}
		out.Secret = secret
		return s.audit(ctx, tx, AuditWebhookSecretRotated, "webhook_endpoint", id, programID, nil)
	})
	return out, err
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries and their
// log; deliveries still queued are dropped.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, programID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		e, err := s.endpointTx(ctx, tx, programID, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)`,
			`DELETE FROM webhook_deliveries WHERE endpoint_id = $1`,
			`DELETE FROM webhook_endpoints WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("deleting webhook endpoint: %w", err)
			}
		}
		return s.audit(ctx, tx, AuditWebhookDeleted, "webhook_endpoint", id, programID, map[string]any{"url": e.URL})
	})
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
// by status when given.
func (s *Store) WebhookDeliveries(ctx context.Context, programID, endpointID, status string, pg Page) ([]parrain.WebhookDelivery, string, error) {
	switch parrain.DeliveryStatus(status) {
	case "", parrain.DeliveryPending, parrain.DeliverySucceeded, parrain.DeliveryFailed:
	default:
		return nil, "", parrain.Invalid("status", "must be pending, succeeded or failed")
	}
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

// ReplayWebhookDelivery sends a delivery again from a fresh retry schedule,
// with the same webhook-id (receivers deduplicate on it). The endpoint must
// be active.
func (s *Store) ReplayWebhookDelivery(ctx context.Context, programID, endpointID, id string) (parrain.WebhookDelivery, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		e, err := s.endpointTx(ctx, tx, programID, endpointID, "")
		if err != nil {
			return err
		}
		if e.Status != parrain.EndpointActive {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "status", Message: "the endpoint is disabled: enable it before replaying"}
		}
		var st parrain.DeliveryStatus
		var eventType string
		err = tx.QueryRowContext(ctx, `SELECT status, event_type FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2`+s.d.forUpdate,
			id, endpointID).Scan(&st, &eventType)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("webhook delivery")
		}
		if err != nil {
			return err
		}
		if st == parrain.DeliveryPending {
			return nil // already on its way
		}
		now := s.clock.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, completed_at = NULL WHERE id = $2`,
			ms(now), id); err != nil {
			return fmt.Errorf("replaying delivery: %w", err)
		}
		payload, _ := json.Marshal(parrain.WebhookDeliverArgs{DeliveryID: id})
		if err := s.enqueueTx(ctx, tx, parrain.JobWebhookDeliver, fmt.Sprintf("%s:%s:replay:%d", parrain.JobWebhookDeliver, id, ms(now)), payload, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditWebhookReplayed, "webhook_delivery", id, programID,
			map[string]any{"endpoint": endpointID, "event_type": eventType})
	})
	if err != nil {
		return parrain.WebhookDelivery{}, err
	}
	return s.WebhookDelivery(ctx, programID, endpointID, id)
}

// WebhookWork is what one delivery attempt needs.
type WebhookWork struct {
	Delivery parrain.WebhookDelivery
	URL      string
	Secret   string
}

// NextWebhookAttempt returns the delivery to attempt now. ok is false when
// there is nothing to do: the delivery succeeded, failed or no longer
// exists, or its endpoint is disabled (the delivery is then marked failed;
// it can be replayed once the endpoint is enabled). notBefore is set when
// the attempt is not due yet.
func (s *Store) NextWebhookAttempt(ctx context.Context, deliveryID string) (w WebhookWork, ok bool, notBefore time.Time, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		w, ok, notBefore = WebhookWork{}, false, time.Time{} // a retried attempt starts afresh
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`+s.d.forUpdate, deliveryID))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("loading delivery: %w", err)
		}
		if d.Status != parrain.DeliveryPending {
			return nil
		}
		if d.NextAttemptAt != nil && s.clock.Now().Before(*d.NextAttemptAt) {
			notBefore = *d.NextAttemptAt
			return nil
		}
		var status parrain.EndpointStatus
		if err := tx.QueryRowContext(ctx, `SELECT url, secret, status FROM webhook_endpoints WHERE id = $1`, d.EndpointID).Scan(&w.URL, &w.Secret, &status); err != nil {
			return fmt.Errorf("loading endpoint: %w", err)
		}
		if status != parrain.EndpointActive {
			_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint disabled', completed_at = $1 WHERE id = $2`,
				ms(s.clock.Now()), deliveryID)
			return err
		}
		w.Delivery, ok = d, true
		return nil
	})
	return w, ok, notBefore, err
}

// WebhookAttemptResult is the outcome of one delivery attempt.
type WebhookAttemptResult struct {
	StatusCode int
	Body       string
	Err        string // "" on success
	Duration   time.Duration
	// RetryAt is when to try again after a failure; nil gives up (the
	// delivery fails).
	RetryAt *time.Time
}

// RecordWebhookAttempt logs an attempt and updates the delivery and its
// endpoint's health in one transaction. An endpoint that has failed every
// delivery for parrain.EndpointDisableAfter is disabled (disabled is then
// true, with an audit log entry as the alert).
func (s *Store) RecordWebhookAttempt(ctx context.Context, deliveryID string, r WebhookAttemptResult) (disabled bool, err error) {
	if len(r.Body) > 1024 {
		r.Body = r.Body[:1024]
	}
	if len(r.Err) > 1000 {
		r.Err = r.Err[:1000]
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		disabled = false // a retried attempt starts afresh
		d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`+s.d.forUpdate, deliveryID))
		if err != nil {
			return fmt.Errorf("loading delivery: %w", err)
		}
		now := s.clock.Now()
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_attempts WHERE delivery_id = $1`, deliveryID).Scan(&n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (id, delivery_id, attempt, status_code, response_body, error, duration_ms, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("wha"), deliveryID, n+1, r.StatusCode, r.Body, r.Err, r.Duration.Milliseconds(), ms(now)); err != nil {
			return fmt.Errorf("logging attempt: %w", err)
		}
		if r.Err == "" {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'succeeded', attempts = attempts + 1, last_status_code = $1, last_error = '',
				next_attempt_at = NULL, completed_at = $2 WHERE id = $3`, r.StatusCode, ms(now), deliveryID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = $1 WHERE id = $2`, ms(now), d.EndpointID)
			return err
		}
		status, completed := "pending", sql.NullInt64{}
		if r.RetryAt == nil {
			status, completed = "failed", sql.NullInt64{Int64: ms(now), Valid: true}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, last_status_code = $2, last_error = $3,
			next_attempt_at = $4, completed_at = $5 WHERE id = $6`, status, r.StatusCode, r.Err, nullMS(r.RetryAt), completed, deliveryID); err != nil {
			return err
		}
		e, err := s.endpointTx(ctx, tx, "", d.EndpointID, s.d.forUpdate)
		if err != nil {
			return err
		}
		if e.FailingSince == nil {
			_, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2`, ms(now), e.ID)
			return err
		}
		if e.Status != parrain.EndpointActive || now.Sub(*e.FailingSince) < parrain.EndpointDisableAfter {
			return nil
		}
		reason := fmt.Sprintf("disabled automatically: every delivery failed since %s (last: %s)", e.FailingSince.Format(time.RFC3339), r.Err)
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $1, updated_at = $2 WHERE id = $3`,
			reason, ms(now), e.ID); err != nil {
			return err
		}
		disabled = true
		return s.auditTx(ctx, tx, SystemActor("webhooks"), AuditWebhookDisabled, "webhook_endpoint", e.ID, e.ProgramID,
			map[string]any{"url": e.URL, "failing_since": e.FailingSince, "last_error": r.Err})
	})
	return disabled, err
}

// emitRewardMovesTx announces what a ledger change did to a reward:
// reward.approved when the hold ends (or a manager approves it early),
// reward.reversed for a reversal or clawback, reward.paid when a payout
// pays it. It is called by applyMoves, the one place rewards change.
func (s *Store) emitRewardMovesTx(ctx context.Context, tx *sql.Tx, before parrain.RewardStatus, rw *parrain.Reward, moves []parrain.Movement) error {
	if len(moves) == 0 {
		return nil
	}
	var typ string
	switch {
	case before == parrain.RewardPending && rw.Status == parrain.RewardApproved:
		typ = parrain.WebhookRewardApproved
	case moves[0].Type == parrain.EntryReversal || moves[0].Type == parrain.EntryClawback:
		typ = parrain.WebhookRewardReversed
	case before == parrain.RewardApproved && rw.Status == parrain.RewardPaid:
		typ = parrain.WebhookRewardPaid
	default:
		return nil
	}
	return s.emitTx(ctx, tx, rw.ProgramID, typ, rw)
}

// Emit enqueues the deliveries of a webhook event in the transaction (see
// emitTx).
func (t *Tx) Emit(ctx context.Context, programID, eventType string, payload any) error {
	return t.s.emitTx(ctx, t.tx, programID, eventType, payload)
}
