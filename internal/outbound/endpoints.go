package outbound

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Service runs the outgoing webhooks' use cases: the endpoints' lifecycle
// (each change audited in its transaction under the context's actor), the
// deliveries' log and replay, and the delivery state machine the
// Dispatcher drives (parrain/webhook.go decides, the store records).
type Service struct {
	st *store.Store
}

// NewService returns the service.
func NewService(st *store.Store) *Service { return &Service{st: st} }

// newSecret returns a fresh signing secret ("whsec_" and 32 random bytes
// in base64, as the Standard Webhooks specification suggests).
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating webhook secret: %w", err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), nil
}

// CreateEndpoint registers an endpoint for a program's events and returns
// it with its signing secret, shown this once. The bool is true when the
// answer is a replay of idem.
func (s *Service) CreateEndpoint(ctx context.Context, programID string, in parrain.WebhookEndpointInput, idem store.Idem) (parrain.WebhookEndpoint, bool, error) {
	in, err := parrain.NormalizeEndpointInput(in, true)
	if err != nil {
		return parrain.WebhookEndpoint{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.WebhookEndpoint, error) {
		if _, err := tx.Program(ctx, programID); err != nil {
			return parrain.WebhookEndpoint{}, err
		}
		secret, err := newSecret()
		if err != nil {
			return parrain.WebhookEndpoint{}, err
		}
		e := parrain.NewWebhookEndpoint(tx.NewWebhookEndpointID(), programID, in, tx.Now())
		if err := tx.InsertWebhookEndpoint(ctx, e, secret); err != nil {
			return parrain.WebhookEndpoint{}, err
		}
		if e, err = tx.WebhookEndpoint(ctx, programID, e.ID); err != nil {
			return e, err
		}
		e.Secret = secret
		return e, tx.Audit(ctx, store.ContextActor(ctx), store.AuditWebhookCreated, "webhook_endpoint", e.ID, programID,
			map[string]any{"url": e.URL, "event_types": e.EventTypes})
	})
}

// Endpoint returns an endpoint of a program (without its secret).
func (s *Service) Endpoint(ctx context.Context, programID, id string) (parrain.WebhookEndpoint, error) {
	return s.st.WebhookEndpoint(ctx, programID, id)
}

// Endpoints lists a program's endpoints, newest first.
func (s *Service) Endpoints(ctx context.Context, programID string, pg store.Page) ([]parrain.WebhookEndpoint, string, error) {
	return s.st.WebhookEndpoints(ctx, programID, pg)
}

// UpdateEndpoint changes an endpoint's URL, description, event types or
// status. Enabling a disabled endpoint clears its failure record; its
// failed deliveries can be replayed.
func (s *Service) UpdateEndpoint(ctx context.Context, programID, id string, in parrain.WebhookEndpointInput) (parrain.WebhookEndpoint, error) {
	in, err := parrain.NormalizeEndpointInput(in, false)
	if err != nil {
		return parrain.WebhookEndpoint{}, err
	}
	var out parrain.WebhookEndpoint
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		e, err := tx.WebhookEndpoint(ctx, programID, id)
		if err != nil {
			return err
		}
		e.Apply(in)
		if err := tx.UpdateWebhookEndpoint(ctx, e, tx.Now()); err != nil {
			return err
		}
		if out, err = tx.WebhookEndpoint(ctx, programID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditWebhookUpdated, "webhook_endpoint", id, programID,
			map[string]any{"url": out.URL, "event_types": out.EventTypes, "status": out.Status})
	})
	return out, err
}

// RotateSecret gives an endpoint a new signing secret and returns it
// (shown this once). Deliveries from now on are signed with the new secret.
func (s *Service) RotateSecret(ctx context.Context, programID, id string) (parrain.WebhookEndpoint, error) {
	var out parrain.WebhookEndpoint
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.WebhookEndpoint(ctx, programID, id); err != nil {
			return err
		}
		secret, err := newSecret()
		if err != nil {
			return err
		}
		if err := tx.SetWebhookSecret(ctx, id, secret, tx.Now()); err != nil {
			return err
		}
		if out, err = tx.WebhookEndpoint(ctx, programID, id); err != nil {
			return err
		}
		out.Secret = secret
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditWebhookSecretRotated, "webhook_endpoint", id, programID, nil)
	})
	return out, err
}

// DeleteEndpoint removes an endpoint with its deliveries and their log;
// deliveries still queued are dropped.
func (s *Service) DeleteEndpoint(ctx context.Context, programID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		e, err := tx.WebhookEndpoint(ctx, programID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditWebhookDeleted, "webhook_endpoint", id, programID, map[string]any{"url": e.URL})
	})
}

// Deliveries lists an endpoint's deliveries, newest first, filtered by
// status when given.
func (s *Service) Deliveries(ctx context.Context, programID, endpointID, status string, pg store.Page) ([]parrain.WebhookDelivery, string, error) {
	if err := parrain.ValidDeliveryFilter(status); err != nil {
		return nil, "", err
	}
	return s.st.WebhookDeliveries(ctx, programID, endpointID, status, pg)
}

// Delivery returns a delivery with its attempt log.
func (s *Service) Delivery(ctx context.Context, programID, endpointID, id string) (parrain.WebhookDelivery, error) {
	return s.st.WebhookDelivery(ctx, programID, endpointID, id)
}

// Replay sends a delivery again from a fresh retry schedule, with the same
// webhook-id (receivers deduplicate on it). The endpoint must be active; a
// delivery still pending is already on its way and left alone.
func (s *Service) Replay(ctx context.Context, programID, endpointID, id string) (parrain.WebhookDelivery, error) {
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		e, err := tx.WebhookEndpoint(ctx, programID, endpointID)
		if err != nil {
			return err
		}
		if err := e.CanReplay(); err != nil {
			return err
		}
		d, err := tx.WebhookDelivery(ctx, id)
		if err != nil {
			return err
		}
		if d.EndpointID != endpointID {
			return parrain.Errorf(parrain.CodeNotFound, "webhook delivery not found")
		}
		if d.Status == parrain.DeliveryPending {
			return nil
		}
		if d.Payload == "" {
			return parrain.Errorf(parrain.CodeConflict, "the body of this delivery was deleted after the retention period (--retain-webhook-bodies, docs/privacy.md); it cannot be sent again")
		}
		now := tx.Now()
		if err := tx.ResetWebhookDelivery(ctx, id, now); err != nil {
			return err
		}
		payload, err := json.Marshal(parrain.WebhookDeliverArgs{DeliveryID: id})
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%s:%s:replay:%d", parrain.JobWebhookDeliver, id, now.UnixMilli())
		if err := tx.Enqueue(ctx, parrain.JobWebhookDeliver, key, payload, now); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditWebhookReplayed, "webhook_delivery", id, programID,
			map[string]any{"endpoint": endpointID, "event_type": d.EventType})
	})
	if err != nil {
		return parrain.WebhookDelivery{}, err
	}
	return s.st.WebhookDelivery(ctx, programID, endpointID, id)
}

// work is what one delivery attempt needs.
type work struct {
	Delivery parrain.WebhookDelivery
	URL      string
	Secret   string
}

// next returns the delivery to attempt now. ok is false when there is
// nothing to do: the delivery succeeded, failed or no longer exists, or its
// endpoint is disabled (the delivery is then marked failed; it can be
// replayed once the endpoint is enabled). notBefore is set when the attempt
// is not due yet.
func (s *Service) next(ctx context.Context, deliveryID string) (w work, ok bool, notBefore time.Time, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		w, ok, notBefore = work{}, false, time.Time{} // a retried transaction starts afresh
		d, err := tx.WebhookDelivery(ctx, deliveryID)
		if parrain.ErrorCode(err) == parrain.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		now := tx.Now()
		var status parrain.EndpointStatus
		if d.Status == parrain.DeliveryPending && (d.NextAttemptAt == nil || !now.Before(*d.NextAttemptAt)) {
			if w.URL, w.Secret, status, err = tx.WebhookTarget(ctx, d.EndpointID); err != nil {
				return err
			}
		}
		switch d.NextStep(status, now) {
		case parrain.StepWait:
			notBefore = *d.NextAttemptAt
		case parrain.StepFail:
			return tx.FailWebhookDelivery(ctx, deliveryID, parrain.EndpointDisabledError, now)
		case parrain.StepAttempt:
			w.Delivery, ok = d, true
		}
		return nil
	})
	return w, ok, notBefore, err
}

// record logs an attempt and updates the delivery and its endpoint's
// health in one transaction. An endpoint that has failed every delivery
// for parrain.EndpointDisableAfter is disabled (disabled is then true, with
// an audit log entry under the system actor as the alert).
func (s *Service) record(ctx context.Context, deliveryID string, a parrain.WebhookAttempt) (disabled bool, err error) {
	a = a.Clipped()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		disabled = false // a retried transaction starts afresh
		d, err := tx.WebhookDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		now := tx.Now()
		if err := tx.LogWebhookAttempt(ctx, deliveryID, a, now); err != nil {
			return err
		}
		status := a.DeliveryStatus()
		var completed *time.Time
		if status != parrain.DeliveryPending {
			completed = &now
		}
		if status == parrain.DeliverySucceeded {
			a.RetryAt = nil
		}
		if err := tx.RecordWebhookAttempt(ctx, deliveryID, status, a, completed); err != nil {
			return err
		}
		if status == parrain.DeliverySucceeded {
			return tx.WebhookEndpointSucceeded(ctx, d.EndpointID, now)
		}
		e, err := tx.WebhookEndpoint(ctx, "", d.EndpointID)
		if err != nil {
			return err
		}
		switch e.AfterFailure(now) {
		case parrain.HealthStartFailing:
			return tx.WebhookEndpointFailing(ctx, e.ID, now)
		case parrain.HealthDisable:
			if err := tx.DisableWebhookEndpoint(ctx, e.ID, e.AutoDisabledReason(a.Err), now); err != nil {
				return err
			}
			disabled = true
			return tx.Audit(ctx, store.SystemActor("webhooks"), store.AuditWebhookDisabled, "webhook_endpoint", e.ID, e.ProgramID,
				map[string]any{"url": e.URL, "failing_since": e.FailingSince, "last_error": a.Err})
		}
		return nil
	})
	return disabled, err
}
