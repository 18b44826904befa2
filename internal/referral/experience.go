package referral

import (
	"context"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// SetExperience validates and stores a program's experience settings (the
// landing page, texts, consent wording, invitation limits, emails),
// replacing the previous ones, and audits the change.
func (s *Service) SetExperience(ctx context.Context, programID string, x parrain.Experience) (parrain.Experience, error) {
	if err := x.Normalize(); err != nil {
		return x, err
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Program(ctx, programID); err != nil {
			return err
		}
		if err := tx.SetExperience(ctx, programID, x); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditExperienceUpdated, "program", programID, programID, nil)
	})
	return x, err
}

// RotateWidgetSecret creates the program's widget secret, or replaces it
// (the old one stays valid for store.SecretGrace), and audits the
// rotation. The secret is shown once: the idempotency record keeps the
// rotation without it, and a replay answers the rotation without the
// secret, saying so in SecretNotice.
func (s *Service) RotateWidgetSecret(ctx context.Context, programID string, idem store.Idem) (store.WidgetSecret, bool, error) {
	var fresh string
	w, replayed, err := store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.WidgetSecret, error) {
		fresh = ""
		if _, err := tx.ProgramForUpdate(ctx, programID); err != nil {
			return store.WidgetSecret{}, err
		}
		w, err := tx.RotateWidgetSecret(ctx, programID)
		if err != nil {
			return store.WidgetSecret{}, err
		}
		fresh, w.Secret = w.Secret, ""
		return w, tx.Audit(ctx, store.ContextActor(ctx), store.AuditWidgetSecretRotated, "program", programID, programID,
			map[string]any{"version": w.Version})
	})
	if err != nil {
		return store.WidgetSecret{}, false, err
	}
	if replayed {
		w.ProgramID, w.SecretNotice = programID, parrain.SecretWithheld
		return w, true, nil
	}
	w.Secret = fresh
	return w, false, nil
}
