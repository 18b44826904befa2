package payout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// payee returns a program's participant by external id (not found error
// when missing).
func payee(ctx context.Context, tx *store.Tx, programID, externalID string) (parrain.Participant, error) {
	p, found, err := tx.ParticipantByExternalID(ctx, programID, externalID)
	if err != nil {
		return p, err
	}
	if !found {
		return p, store.NotFound("participant")
	}
	return p, nil
}

// SetPayoutAccount creates or replaces a participant's payout account
// (by API, by the advocate in the widget, by the partner in the portal, in
// the console). The participant is told by email, every time; when the
// destination changes (not the first account ever set), payout runs leave
// them out for the cooling-off period (Config.CoolingOff), so a stolen
// widget token or session cannot redirect the next run's money silently.
func (s *Service) SetPayoutAccount(ctx context.Context, programID, externalID string, in parrain.PayoutAccountInput, idem store.Idem) (parrain.PayoutAccount, bool, error) {
	if err := in.Normalize(); err != nil {
		return parrain.PayoutAccount{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.PayoutAccount, error) {
		p, err := payee(ctx, tx, programID, externalID)
		if err != nil {
			return parrain.PayoutAccount{}, err
		}
		before, err := tx.Payee(ctx, p.ID)
		if err != nil {
			return parrain.PayoutAccount{}, err
		}
		had, _, err := tx.PayoutAccountHistory(ctx, p.ID)
		if err != nil {
			return parrain.PayoutAccount{}, err
		}
		now := tx.Now()
		changed := parrain.PayoutDestinationChanged(had, before.Account, in)
		a, err := tx.SavePayoutAccount(ctx, p.ID, programID, in, now)
		if err != nil {
			return a, err
		}
		if err := tx.RecordPayoutAccountSet(ctx, p.ID, programID, now, changed); err != nil {
			return a, err
		}
		notice := parrain.NotifyArgs{Kind: parrain.NoticePayoutAccountChanged, ProgramID: programID, ParticipantID: p.ID, ChangeID: store.NewID("pac")}
		details := map[string]any{"participant": externalID, "method": in.Method, "destination_changed": changed}
		if until, held := parrain.PayoutHeld(&now, s.cfg.CoolingOff, now); changed && held {
			details["payouts_held_until"] = until
			notice.HeldUntil = &until
		}
		if err := audit(ctx, tx, AuditPayoutAccountSet, "participant", p.ID, programID, details); err != nil {
			return a, err
		}
		return a, tx.EnqueueNotify(ctx, notice)
	})
}

// DeletePayoutAccount removes a participant's payout account; payouts
// already in a batch keep the destination they were made with.
func (s *Service) DeletePayoutAccount(ctx context.Context, programID, externalID string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := payee(ctx, tx, programID, externalID)
		if err != nil {
			return err
		}
		had, err := tx.DeletePayoutAccount(ctx, p.ID)
		if err != nil {
			return err
		}
		if !had {
			return store.NotFound("payout account")
		}
		return audit(ctx, tx, AuditPayoutAccountDeleted, "participant", p.ID, programID, map[string]any{"participant": externalID})
	})
}

// SetPayoutSettings replaces a program's payout settings and schedules the
// next run. A run job scheduled under the previous settings finds its slot
// stale and does nothing.
func (s *Service) SetPayoutSettings(ctx context.Context, programID string, in parrain.PayoutSettings) (parrain.PayoutSettings, error) {
	if err := in.Normalize(); err != nil {
		return in, err
	}
	var out parrain.PayoutSettings
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.LockPayoutProgram(ctx, programID); err != nil {
			return err
		}
		st := in
		now := tx.Now()
		st.ProgramID, st.UpdatedAt, st.NextRunAt = programID, now, nil
		if next, ok := parrain.NextPayoutRun(st, now); ok {
			st.NextRunAt = &next
		}
		if err := tx.SavePayoutSettings(ctx, st); err != nil {
			return err
		}
		if err := audit(ctx, tx, AuditPayoutSettings, "program", programID, programID, map[string]any{"schedule": st.Schedule,
			"minimum_amount": st.MinimumAmount, "auto_approve_limit": st.AutoApproveLimit}); err != nil {
			return err
		}
		out = st
		if st.NextRunAt != nil {
			return schedule(ctx, tx, programID, *st.NextRunAt)
		}
		return nil
	})
	return out, err
}

// schedule enqueues the scheduled run of slot at, once per slot.
func schedule(ctx context.Context, tx *store.Tx, programID string, at time.Time) error {
	payload, err := json.Marshal(parrain.PayoutScheduleArgs{ProgramID: programID, At: at.UnixMilli()})
	if err != nil {
		return err
	}
	return tx.Enqueue(ctx, parrain.JobPayoutSchedule, fmt.Sprintf("%s:%s:%d", parrain.JobPayoutSchedule, programID, at.UnixMilli()), payload, at)
}
