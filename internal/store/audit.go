package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Actor is who performs an audited change: a console user (with the IP the
// request came from) or a named system actor such as "cli".
type Actor struct {
	UserID string
	Email  string
	IP     string
}

// SystemActor returns an actor for changes made outside the console, such
// as by the command line.
func SystemActor(name string) Actor { return Actor{Email: name} }

// AuditEntry is one line of the audit log: who did what to which object,
// when, with details.
type AuditEntry struct {
	ID         string         `json:"id"`
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
	AuditBrandingUpdated  = "branding.updated"
	AuditEmailSender      = "email_sender.updated"
	AuditSignIn           = "user.signed_in"
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
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log (id, user_id, user_email, ip, action, target_type, target_id, program_id, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		newID("aud"), a.UserID, a.Email, a.IP, action, targetType, targetID, programID, string(b), ms(s.clock.Now()))
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, user_email, ip, action, target_type, target_id, program_id, details, created_at
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
		if err := rows.Scan(&e.ID, &e.UserID, &e.UserEmail, &e.IP, &e.Action, &e.TargetType, &e.TargetID, &e.ProgramID, &details, &created); err != nil {
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

// Audit appends an audit entry in the transaction: it exists if and only
// if the change it describes commits.
func (t *Tx) Audit(ctx context.Context, a Actor, action, targetType, targetID, programID string, details map[string]any) error {
	return t.s.auditTx(ctx, t.tx, a, action, targetType, targetID, programID, details)
}
