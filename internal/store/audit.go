package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Actor is who performs an audited change: its kind (a console user when
// empty), its id (user, API key, partner, advocate id), a label (email, key
// name) and the IP the request came from.
type Actor struct {
	Kind   parrain.ActorKind
	UserID string
	Email  string
	IP     string
}

// SystemActor returns an actor for changes made outside the console, such
// as by the command line.
func SystemActor(name string) Actor {
	kind := parrain.ActorSystem
	if name == "cli" {
		kind = parrain.ActorCLI
	}
	return Actor{Kind: kind, Email: name}
}

// ActorOf converts the domain actor a request context carries.
func ActorOf(a parrain.Actor) Actor {
	return Actor{Kind: a.Kind, UserID: a.ID, Email: a.Label, IP: a.IP}
}

// ContextActor is the actor ctx carries, as the audit log names it: a
// caller without an id or label (a background job) is labelled by its kind.
func ContextActor(ctx context.Context) Actor {
	a := parrain.ActorFrom(ctx)
	if a.ID == "" && a.Label == "" {
		a.Label = string(a.Kind)
	}
	return ActorOf(a)
}

// audit appends an audit entry in the caller's transaction under the actor
// ctx carries: the store's own use cases audit their writes this way.
func (s *Store) audit(ctx context.Context, q querier, action, targetType, targetID, programID string, details map[string]any) error {
	return s.auditTx(ctx, q, ContextActor(ctx), action, targetType, targetID, programID, details)
}

// Audit appends an audit entry in the transaction, so that it exists if and
// only if the change it describes commits.
func (t *Tx) Audit(ctx context.Context, a Actor, action, targetType, targetID, programID string, details map[string]any) error {
	return t.s.auditTx(ctx, t.tx, a, action, targetType, targetID, programID, details)
}

// AuditEntry is one line of the audit log: who did what to which object,
// when, with details.
type AuditEntry struct {
	ID         string         `json:"id"`
	ActorType  string         `json:"actor_type"`
	UserID     string         `json:"user_id,omitempty"`
	UserEmail  string         `json:"user_email"`
	IP         string         `json:"ip,omitempty"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type,omitempty"`
	TargetID   string         `json:"target_id,omitempty"`
	ProgramID  string         `json:"program_id,omitempty"`
	Details    map[string]any `json:"details,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Audit actions recorded by the store.
const (
	AuditRewardApproved   = "reward.approved"
	AuditRewardRejected   = "reward.rejected"
	AuditRewardReinstated = "reward.reinstated"
	AuditReferralCleared  = "referral.cleared"
	AuditReferralRejected = "referral.rejected"
	AuditProgramCreated   = "program.created"
	AuditProgramUpdated   = "program.updated"
	AuditProgramPaused    = "program.paused"
	AuditProgramResumed   = "program.resumed"
	AuditUserCreated      = "user.created"
	AuditUserRole         = "user.role_changed"
	AuditUserDisabled     = "user.disabled"
	AuditUserEnabled      = "user.enabled"
	AuditUserPassword     = "user.password_changed"
	AuditUserSignedOutAll = "user.signed_out_everywhere"
	AuditAPIKeyCreated    = "api_key.created"
	AuditAPIKeyRevoked    = "api_key.revoked"
	AuditAPIKeyRateLimit  = "api_key.rate_limit_changed"
	AuditBrandingUpdated  = "branding.updated"
	AuditEmailSender      = "email_sender.updated"
	AuditSignIn           = "user.signed_in"

	AuditContestCreated      = "contest.created"
	AuditCouponPoolCreated   = "coupon_pool.created"
	AuditCouponCodesImported = "coupon_pool.codes_imported"
	// AuditParticipantsImported is an import of existing customers
	// started (dry run or not); AuditImportFinished its job's end.
	AuditParticipantsImported = "import.started"
	AuditImportFinished       = "import.finished"
	AuditFraudPolicyUpdated   = "fraud_policy.updated"
	AuditWidgetSecretRotated  = "widget_secret.rotated"
	AuditExperienceUpdated    = "experience.updated"
	AuditEmailTemplateUpdated = "email_template.updated"
	AuditEmailTemplateDeleted = "email_template.deleted"
	AuditTriggerCreated       = "trigger.created"
	AuditTriggerUpdated       = "trigger.updated"
	AuditTriggerDeleted       = "trigger.deleted"

	AuditWebhookCreated       = "webhook.created"
	AuditWebhookUpdated       = "webhook.updated"
	AuditWebhookDeleted       = "webhook.deleted"
	AuditWebhookSecretRotated = "webhook.secret_rotated"
	AuditWebhookReplayed      = "webhook.replayed"
	AuditCRMConnected         = "crm.connected"
	AuditCRMDisconnected      = "crm.disconnected"
	AuditPartnerPassword      = "partner.password_set"

	AuditParticipantErased   = "participant.erased"
	AuditParticipantExported = "participant.exported"
	AuditDoNotSell           = "participant.do_not_sell"
)

// auditTx appends an audit entry in the caller's transaction, so the entry
// exists if and only if the change it describes commits.
func (s *Store) auditTx(ctx context.Context, q querier, a Actor, action, targetType, targetID, programID string, details map[string]any) error {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("encoding audit details: %w", err)
	}
	kind := a.Kind
	if kind == "" {
		kind = parrain.ActorUser
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log (id, actor_type, user_id, user_email, ip, action, target_type, target_id, program_id, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		newID("aud"), string(kind), a.UserID, a.Email, a.IP, action, targetType, targetID, programID, string(b), ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("writing audit log: %w", err)
	}
	return nil
}

// Audit records an action on its own (for actions whose change is not a
// store write, such as a sign-in or an API key created by another function).
func (s *Store) Audit(ctx context.Context, a Actor, action, targetType, targetID, programID string, details map[string]any) error {
	return s.auditTx(ctx, s.w, a, action, targetType, targetID, programID, details)
}

// AuditFilter narrows an audit log listing. Empty fields match everything.
type AuditFilter struct {
	TargetType string
	TargetID   string
	ProgramID  string
	// Action matches exactly, or every action of a family when it ends in
	// "." ("reward." for all reward actions).
	Action string
	// ActorType and ActorID name the actor (ActorID matches the actor's id
	// or its label, e.g. a user's email).
	ActorType string
	ActorID   string
	// Since and Until bound the entries' time (Since inclusive, Until
	// exclusive); zero means unbounded.
	Since, Until time.Time
}

// AuditLog lists audit entries, newest first, by keyset on id.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter, pg Page) ([]AuditEntry, string, error) {
	where := []string{`($1 = '' OR id < $1)`}
	args := []any{pg.Cursor}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.TargetType != "" {
		add(`target_type = $%d`, f.TargetType)
	}
	if f.TargetID != "" {
		add(`target_id = $%d`, f.TargetID)
	}
	if f.ProgramID != "" {
		add(`program_id = $%d`, f.ProgramID)
	}
	if f.ActorType != "" {
		add(`actor_type = $%d`, f.ActorType)
	}
	if f.ActorID != "" {
		args = append(args, f.ActorID)
		where = append(where, fmt.Sprintf(`(user_id = $%d OR user_email = $%d)`, len(args), len(args)))
	}
	if !f.Since.IsZero() {
		add(`created_at >= $%d`, ms(f.Since))
	}
	if !f.Until.IsZero() {
		add(`created_at < $%d`, ms(f.Until))
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			// A family: a range on the action string (no LIKE, whose case
			// sensitivity differs between the databases).
			args = append(args, f.Action, f.Action[:len(f.Action)-1]+"/")
			where = append(where, fmt.Sprintf(`action >= $%d AND action < $%d`, len(args)-1, len(args)))
		} else {
			add(`action = $%d`, f.Action)
		}
	}
	args = append(args, pg.limit()+1)
	rows, err := s.r.QueryContext(ctx, `SELECT id, actor_type, user_id, user_email, ip, action, target_type, target_id, program_id, details, created_at
		FROM audit_log WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var details string
		var created int64
		if err := rows.Scan(&e.ID, &e.ActorType, &e.UserID, &e.UserEmail, &e.IP, &e.Action, &e.TargetType, &e.TargetID, &e.ProgramID, &details, &created); err != nil {
			return nil, "", err
		}
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			return nil, "", fmt.Errorf("decoding audit details of %s: %w", e.ID, err)
		}
		e.CreatedAt = fromMS(created)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(e AuditEntry) string { return e.ID })
}
