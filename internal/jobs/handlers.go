package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// Register installs Parrain's standard job handlers. The reward engine's
// (RegisterRewardEngine) are installed by the wiring, which knows how its
// webhooks may be delivered.
func Register(r *Runner, st *store.Store) {
	r.Handle(store.JobMatureReward, func(ctx context.Context, payload []byte) error {
		var a store.MatureRewardArgs
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", store.JobMatureReward, err)
		}
		_, notBefore, err := st.ApproveReward(ctx, a.RewardID)
		if err != nil {
			return err
		}
		if !notBefore.IsZero() {
			return &SnoozeError{Until: notBefore}
		}
		// An approved non-cash reward is delivered now (reward engine).
		return st.KickFulfilment(ctx, a.RewardID)
	})
}

// RegisterPartner installs the partner program's job: re-evaluate every
// partner's tier daily (tiers are also evaluated on each won or lost deal
// and completed training).
func RegisterPartner(r *Runner, p *partner.Service, clock parrain.Clock) {
	r.Handle(partner.JobEvaluateTiers, func(ctx context.Context, payload []byte) error {
		if err := p.HandleEvaluateTiers(ctx, payload); err != nil {
			return err
		}
		return &SnoozeError{Until: clock.Now().Add(partner.TierInterval)}
	})
}

// RegisterNotify installs the notification handlers: composing notices,
// sending emails, and the recurring sweep and reminder jobs (see
// internal/notify).
func RegisterNotify(r *Runner, n *notify.Service) {
	r.Handle(store.JobNotify, n.HandleNotify)
	r.Handle(store.JobSendEmail, n.HandleSend)
	r.Handle(store.JobNotifySweep, n.HandleSweep)
	r.Handle(store.JobReminders, n.HandleReminders)
}

// Integrations are the services behind the payout, outgoing webhook and CRM
// jobs (internal/payout, internal/outbound, internal/crm).
type Integrations struct {
	Payouts  *payout.Service
	Webhooks *outbound.Dispatcher
	CRM      *crm.Syncer
}

// RegisterIntegrations installs the payout, outgoing webhook and CRM
// handlers. Each service answers when it wants to run again (a schedule,
// a poll, a webhook retry): the job is snoozed until then.
func RegisterIntegrations(r *Runner, in Integrations) {
	r.Handle(store.JobPayoutSend, withArgs(store.JobPayoutSend, func(ctx context.Context, a store.PayoutJobArgs) (time.Time, error) {
		return in.Payouts.Send(ctx, a.PayoutID)
	}))
	r.Handle(store.JobPayoutPoll, withArgs(store.JobPayoutPoll, func(ctx context.Context, a store.PayoutJobArgs) (time.Time, error) {
		return in.Payouts.Poll(ctx, a.PayoutID)
	}))
	r.Handle(store.JobPayoutSchedule, withArgs(store.JobPayoutSchedule, func(ctx context.Context, a store.PayoutScheduleArgs) (time.Time, error) {
		return in.Payouts.Schedule(ctx, a.ProgramID, time.UnixMilli(a.At).UTC())
	}))
	r.Handle(store.JobWebhookDeliver, withArgs(store.JobWebhookDeliver, func(ctx context.Context, a store.WebhookDeliverArgs) (time.Time, error) {
		return in.Webhooks.Deliver(ctx, a.DeliveryID)
	}))
	r.Handle(store.JobCRMSyncReferral, withArgs(store.JobCRMSyncReferral, in.CRM.SyncReferral))
	r.Handle(store.JobCRMSyncLead, withArgs(store.JobCRMSyncLead, in.CRM.SyncLead))
	r.Handle(store.JobCRMPoll, withArgs(store.JobCRMPoll, in.CRM.Poll))
}

// withArgs decodes a job's payload into T and turns a returned time into
// a snooze.
func withArgs[T any](kind string, f func(context.Context, T) (time.Time, error)) Handler {
	return func(ctx context.Context, payload []byte) error {
		var a T
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", kind, err)
		}
		at, err := f(ctx, a)
		if err != nil {
			return err
		}
		if !at.IsZero() {
			return &SnoozeError{Until: at}
		}
		return nil
	}
}
