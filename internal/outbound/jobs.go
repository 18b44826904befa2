package outbound

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
)

// RegisterJobs installs the delivery of outgoing webhooks, retried on the
// Standard Webhooks schedule.
func (d *Dispatcher) RegisterJobs(r *jobs.Runner) {
	r.Handle(parrain.JobWebhookDeliver, jobs.WithArgs(parrain.JobWebhookDeliver, func(ctx context.Context, a parrain.WebhookDeliverArgs) (time.Time, error) {
		return d.Deliver(ctx, a.DeliveryID)
	}))
}
