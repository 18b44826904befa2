package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// fireMoments evaluates the program's active triggers against the event,
// for the event's participant, inside the event's transaction: matching
// triggers that are not cooling down for this participant record a firing
// and enqueue its effects.
func (in *ingest) fireMoments(ctx context.Context) error {
	if in.friend == nil || in.prog.Status != parrain.ProgramActive || in.res.Duplicate {
		return nil // a re-reported order is not a new purchase
	}
	switch in.ev.Type {
	case parrain.EventPurchase, parrain.EventNPS, parrain.EventRating, parrain.EventPlanUpgrade, parrain.EventMilestone, parrain.EventCustom:
	default:
		return nil // no trigger watches other events: spare the query
	}
	trs, err := in.tx.ActiveTriggers(ctx, in.prog.ID)
	if err != nil {
		return err
	}
	now := in.tx.Now()
	for i := range trs {
		tr := &trs[i]
		if !tr.Watches(in.ev.Type) {
			continue
		}
		facts := parrain.MomentFacts{Event: in.ev}
		if tr.Kind == parrain.MomentPurchaseCount {
			from := in.ev.OccurredAt.Add(-time.Duration(tr.WithinDays) * 24 * time.Hour)
			if facts.RecentPurchases, err = in.tx.PurchasesBetween(ctx, in.friend.ID, from, in.ev.OccurredAt); err != nil {
				return err
			}
		}
		if !tr.Matches(facts) {
			continue
		}
		// The conditional upsert is the cooldown: it succeeds only if the
		// trigger never fired for this participant or last fired a full
		// cooldown ago, also under concurrency.
		fired, err := in.tx.StartTriggerCooldown(ctx, tr.ID, in.friend.ID, now, now.Add(-tr.Cooldown()))
		if err != nil {
			return err
		}
		if !fired {
			continue
		}
		f := store.Firing{ID: store.NewID("fir"), TriggerID: tr.ID, ProgramID: in.prog.ID, ParticipantID: in.friend.ID, EventID: in.res.EventID, CreatedAt: now}
		notify := false
		for _, e := range tr.Effects {
			o := store.EffectOutcome{Effect: e, Status: store.EffectPending}
			switch e {
			case parrain.EffectEmail, parrain.EffectNotification:
				notify = true
			case parrain.EffectWebhook:
				n, err := in.tx.SubscribedEndpoints(ctx, in.prog.ID, parrain.WebhookTriggerFired)
				if err != nil {
					return err
				}
				if n == 0 {
					o.Status, o.Detail = store.EffectSkipped, "no active webhook endpoint is subscribed to "+parrain.WebhookTriggerFired
				} else {
					o.Status, o.Detail = store.EffectDone, fmt.Sprintf("queued for %d webhook endpoint(s); see their deliveries", n)
					o.At = &now
				}
			}
			f.Effects = append(f.Effects, o)
		}
		if err := in.tx.InsertFiring(ctx, f); err != nil {
			return err
		}
		if notify {
			if err := in.tx.EnqueueNotify(ctx, parrain.NotifyArgs{Kind: parrain.NoticeMoment, ProgramID: in.prog.ID,
				ParticipantID: in.friend.ID, FiringID: f.ID}); err != nil {
				return err
			}
		}
		for _, o := range f.Effects {
			if o.Effect == parrain.EffectWebhook && o.Status == store.EffectDone {
				if err := in.tx.Emit(ctx, in.prog.ID, parrain.WebhookTriggerFired, store.TriggerFiredPayload{
					FiringID: f.ID, TriggerID: tr.ID, TriggerName: tr.Name, Event: string(tr.Kind), ExternalID: in.friend.ExternalID,
					Email: in.friend.Email, Code: in.friend.Code, EventID: f.EventID, FiredAt: now}); err != nil {
					return err
				}
			}
		}
		in.res.TriggersFired = append(in.res.TriggersFired, parrain.FiredTrigger{TriggerID: tr.ID, FiringID: f.ID, Name: tr.Name})
	}
	return nil
}

// CreateTrigger validates and stores a moment trigger, audited in its
// transaction. The bool is true when the answer is a replay of idem.
func (s *Service) CreateTrigger(ctx context.Context, programID string, t parrain.MomentTrigger, idem store.Idem) (parrain.MomentTrigger, bool, error) {
	if err := t.NormalizeNew(programID); err != nil {
		return t, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.MomentTrigger, error) {
		t := t // a fresh copy per attempt: the transaction may be retried
		if _, err := tx.Program(ctx, programID); err != nil {
			return t, err
		}
		now := tx.Now()
		t.ID, t.CreatedAt, t.UpdatedAt = tx.NewTriggerID(), now, now
		if err := tx.InsertTrigger(ctx, t); err != nil {
			return t, err
		}
		return t, tx.Audit(ctx, store.ContextActor(ctx), store.AuditTriggerCreated, "trigger", t.ID, programID,
			map[string]any{"kind": t.Kind, "status": t.Status})
	})
}

// UpdateTrigger replaces a trigger's definition (its id, program and
// creation time stay), audited in its transaction.
func (s *Service) UpdateTrigger(ctx context.Context, programID, id string, t parrain.MomentTrigger) (parrain.MomentTrigger, error) {
	var out parrain.MomentTrigger
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		old, err := tx.Trigger(ctx, programID, id)
		if err != nil {
			return err
		}
		out = t
		if err := out.NormalizeReplacing(old); err != nil {
			return err
		}
		out.UpdatedAt = tx.Now()
		if err := tx.UpdateTrigger(ctx, out); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditTriggerUpdated, "trigger", id, programID,
			map[string]any{"kind": out.Kind, "status": out.Status})
	})
	if err != nil {
		return t, err
	}
	return out, nil
}

// DeleteTrigger removes a trigger, audited in its transaction; its firings
// stay on record.
func (s *Service) DeleteTrigger(ctx context.Context, programID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteTrigger(ctx, programID, id, tx.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditTriggerDeleted, "trigger", id, programID, nil)
	})
}

// Triggers lists a program's triggers, oldest first.
func (s *Service) Triggers(ctx context.Context, programID string) ([]parrain.MomentTrigger, error) {
	if _, err := s.st.Program(ctx, programID); err != nil {
		return nil, err
	}
	return s.st.Triggers(ctx, programID)
}

// Trigger returns a program's trigger.
func (s *Service) Trigger(ctx context.Context, programID, id string) (parrain.MomentTrigger, error) {
	return s.st.Trigger(ctx, programID, id)
}

// Firings lists a trigger's firings, newest first: each time it fired, for
// whom, and what each effect became.
func (s *Service) Firings(ctx context.Context, programID, triggerID string, pg store.Page) ([]store.Firing, string, error) {
	if _, err := s.st.Trigger(ctx, programID, triggerID); err != nil {
		return nil, "", err
	}
	return s.st.Firings(ctx, programID, triggerID, pg)
}
