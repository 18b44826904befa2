// Package outbound delivers Parrain's outgoing webhooks from the durable job
// queue: each message is signed per the Standard Webhooks specification,
// POSTed over the SSRF-safe client, logged with the receiver's answer, and
// retried on the specification's schedule (5 s … 10 h, over 27 hours). An
// endpoint that fails every delivery for parrain.EndpointDisableAfter is
// disabled, with an alert (an error log line and an audit log entry).
//
// The endpoints' lifecycle and the delivery state machine are use cases of
// Service (endpoints.go) over rules of the domain (parrain/webhook.go).
//
// It imports the domain, the store, the job runner (to register its kind),
// internal/integration/webhook and the metrics; never the HTTP packages.
package outbound

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/metrics"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Dispatcher delivers webhook messages.
type Dispatcher struct {
	svc    *Service
	st     *store.Store
	log    *slog.Logger
	client *http.Client
}

// New returns a Dispatcher. allowPrivate lets deliveries reach loopback and
// private addresses (development and tests only).
func New(st *store.Store, log *slog.Logger, allowPrivate bool) *Dispatcher {
	return &Dispatcher{svc: NewService(st), st: st, log: log, client: webhook.NewClient(allowPrivate)}
}

// Deliver is the webhook.deliver job: one attempt of one message. It
// returns when to try again (zero when the message is delivered, given up,
// or has nothing left to do).
func (d *Dispatcher) Deliver(ctx context.Context, deliveryID string) (retryAt time.Time, err error) {
	w, ok, notBefore, err := d.svc.next(ctx, deliveryID)
	if err != nil || !ok {
		return notBefore, err
	}
	start := time.Now()
	status, body, derr := webhook.Deliver(ctx, d.client, w.URL, w.Secret, w.Delivery.ID, w.Delivery.EventType, []byte(w.Delivery.Payload))
	res := parrain.WebhookAttempt{StatusCode: status, Body: string(body), Duration: time.Since(start)}
	attempt := w.Delivery.Attempts + 1
	log := d.log.With("delivery", deliveryID, "endpoint", w.Delivery.EndpointID, "event", w.Delivery.EventType, "attempt", attempt)
	if derr != nil {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err() // shutting down: not the receiver's fault
		}
		res.Err = derr.Error()
		if errors.Is(derr, webhook.ErrForbiddenAddress) {
			res.Err = "refused: the endpoint resolves to a private or loopback address (" + derr.Error() + ")"
		}
		res.RetryAt = parrain.RetryAt(d.st.Clock().Now(), attempt, webhook.MaxAttempts, webhook.Backoff)
	}
	disabled, err := d.svc.record(ctx, deliveryID, res)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case derr == nil:
		metrics.WebhookDeliveries.WithLabelValues("delivered").Inc()
	case res.RetryAt == nil:
		metrics.WebhookDeliveries.WithLabelValues("given_up").Inc()
	default:
		metrics.WebhookDeliveries.WithLabelValues("retrying").Inc()
	}
	switch {
	case derr == nil:
		log.Debug("webhook delivered", "status", status)
	case res.RetryAt == nil:
		log.Warn("webhook given up after the last attempt", "status", status, "err", derr)
	default:
		log.Info("webhook attempt failed; will retry", "status", status, "err", derr, "retry_at", res.RetryAt)
	}
	if disabled {
		log.Error("ALERT: webhook endpoint disabled after failing every delivery for days; fix it, enable it and replay its failed deliveries",
			"url", w.URL)
	}
	if res.RetryAt != nil {
		return *res.RetryAt, nil
	}
	return time.Time{}, nil
}
