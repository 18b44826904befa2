package api

import (
	"net/http"
	"time"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// auditActorTypes are the actor_type values the audit log filter accepts.
var auditActorTypes = map[string]bool{
	string(parrain.ActorUser): true, string(parrain.ActorAPIKey): true, string(parrain.ActorCLI): true,
	string(parrain.ActorPartner): true, string(parrain.ActorAdvocate): true, string(parrain.ActorSystem): true,
	string(parrain.ActorWebhook): true,
}

// AuditLog handles GET /api/v1/audit-log: every state-changing action with
// its actor, action, target and time, newest first, filtered by actor_type,
// actor (an id or label such as an email), action (exact, or a family
// ending in "."), target_type, target_id, program_id, since and until
// (RFC 3339, since inclusive, until exclusive). A key restricted to one
// program sees that program's entries only.
func (a *API) AuditLog(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	f, err := auditFilter(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if k := apiKey(r); k.ProgramID != "" {
		if f.ProgramID != "" && f.ProgramID != k.ProgramID {
			httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeNotFound, "program not found"))
			return
		}
		f.ProgramID = k.ProgramID
	}
	entries, next, err := a.st.AuditLog(r.Context(), f, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.AuditEntry]{Data: entries, NextCursor: httpx.Cursor(next)})
}

// auditFilter reads the audit log's query filters.
func auditFilter(r *http.Request) (store.AuditFilter, error) {
	q := r.URL.Query()
	f := store.AuditFilter{
		ActorType: q.Get("actor_type"), ActorID: q.Get("actor"), Action: q.Get("action"),
		TargetType: q.Get("target_type"), TargetID: q.Get("target_id"), ProgramID: q.Get("program_id"),
	}
	if f.ActorType != "" && !auditActorTypes[f.ActorType] {
		return f, parrain.Invalid("actor_type", "must be one of user, api_key, cli, partner, advocate, system, webhook")
	}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, parrain.Invalid(p.name, "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")
		}
		*p.to = t.UTC()
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return f, parrain.Invalid("until", "must be after since")
	}
	for name, v := range map[string]string{"actor": f.ActorID, "action": f.Action, "target_type": f.TargetType, "target_id": f.TargetID, "program_id": f.ProgramID} {
		if len(v) > 200 {
			return f, parrain.Invalid(name, "must be at most 200 characters")
		}
	}
	return f, nil
}
