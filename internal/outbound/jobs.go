package outbound

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/store"
)

// RegisterJobs installs the delivery of outgoing webhooks, retried on the
// Standard Webhooks schedule.
func (d *Dispatcher) RegisterJobs(r *jobs.Runner) {
	r.Handle(store.JobWebhookDeliver, jobs.WithArgs(store.JobWebhookDeliver, func(ctx context.Context, a store.WebhookDeliverArgs) (time.Time, error) {
		return d.Deliver(ctx, a.DeliveryID)
	}))
}
