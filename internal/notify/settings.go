package notify

import (
	"context"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The email settings a manager edits (by API or in the console): a
// program's overrides of the built-in emails and the installation's
// sender. Each change is audited in its own transaction under the actor
// the context carries. Like Preview they need only the store, not the
// sending Service, so the HTTP packages call them without an SMTP server
// configured.

// SetEmailTemplate validates an override of a built-in email (it must
// render, see ValidateTemplate), stores it for the program, kind and
// locale, and audits the change.
func SetEmailTemplate(ctx context.Context, st *store.Store, programID string, t store.EmailTemplate) (store.EmailTemplate, error) {
	if err := ValidateTemplate(t); err != nil {
		return t, err
	}
	out := t
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Program(ctx, programID); err != nil {
			return err
		}
		var err error
		if out, err = tx.SetEmailTemplate(ctx, programID, t); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditEmailTemplateUpdated, "email_template", string(t.Kind)+"/"+t.Locale, programID,
			map[string]any{"kind": t.Kind, "locale": t.Locale})
	})
	return out, err
}

// DeleteEmailTemplate removes a program's override, restoring the built-in
// email (not found when there is none), and audits it.
func DeleteEmailTemplate(ctx context.Context, st *store.Store, programID string, kind parrain.NoticeKind, locale string) error {
	return st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteEmailTemplate(ctx, programID, kind, locale); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditEmailTemplateDeleted, "email_template", string(kind)+"/"+locale, programID,
			map[string]any{"kind": kind, "locale": locale})
	})
}

// SetEmailSender validates and stores who emails come from, and audits
// the change under the actor (whose label is kept as updated_by).
func SetEmailSender(ctx context.Context, st *store.Store, e store.EmailSender) (store.EmailSender, error) {
	if err := e.Normalize(); err != nil {
		return e, err
	}
	a := store.ContextActor(ctx)
	e.UpdatedAt, e.UpdatedBy = st.Clock().Now(), a.Email
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetEmailSender(ctx, e); err != nil {
			return err
		}
		return tx.Audit(ctx, a, store.AuditEmailSender, "settings", store.EmailSenderKey, "", map[string]any{
			"name": e.Name, "address": e.Address, "reply_to": e.ReplyTo})
	})
	return e, err
}
