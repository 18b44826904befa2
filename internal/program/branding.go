package program

import (
	"context"

	"github.com/parrainhq/parrain/internal/store"
)

// SetBranding validates and stores a program's branding (logo and
// colours, shown by the widget, the landing page and the emails) and
// audits the change under the actor the context carries, whose label is
// kept as updated_by.
func (s *Service) SetBranding(ctx context.Context, b store.Branding) (store.Branding, error) {
	if err := b.Normalize(); err != nil {
		return b, err
	}
	a := store.ContextActor(ctx)
	b.UpdatedAt, b.UpdatedBy = s.st.Clock().Now(), a.Email
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Program(ctx, b.ProgramID); err != nil {
			return err
		}
		if err := tx.SetProgramBranding(ctx, b); err != nil {
			return err
		}
		return tx.Audit(ctx, a, store.AuditBrandingUpdated, "program", b.ProgramID, b.ProgramID, map[string]any{
			"logo_url": b.LogoURL, "primary_color": b.PrimaryColor, "accent_color": b.AccentColor})
	})
	return b, err
}
