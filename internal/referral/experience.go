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
// rotation. A replay with the same idempotency key returns the secret that
// request created, as long as it is still the current one: secrets are
// shown once.
func (s *Service) RotateWidgetSecret(ctx context.Context, programID string, idem store.Idem) (store.WidgetSecret, bool, error) {
	type rotated struct{ Version int }
	r, replayed, err := store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (rotated, error) {
		if _, err := tx.ProgramForUpdate(ctx, programID); err != nil {
			return rotated{}, err
		}
		version, err := tx.RotateWidgetSecret(ctx, programID)
		if err != nil {
			return rotated{}, err
		}
		return rotated{Version: version}, tx.Audit(ctx, store.ContextActor(ctx), store.AuditWidgetSecretRotated, "program", programID, programID,
			map[string]any{"version": version})
	})
	if err != nil {
		return store.WidgetSecret{}, false, err
	}
	w, err := s.st.CurrentWidgetSecret(ctx, programID)
	if err != nil {
		return store.WidgetSecret{}, false, err
	}
	if w.Version != r.Version {
		return store.WidgetSecret{}, replayed, &parrain.Error{Code: parrain.CodeConflict, Field: "Idempotency-Key",
			Message: "the secret this request created has since been rotated again; secrets are shown once: rotate with a new key"}
	}
	return w, replayed, nil
}
