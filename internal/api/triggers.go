package api

import (
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Moment triggers: rules that invite a participant to refer at a moment of
// satisfaction (NPS ≥ 9, a 5-star rating, a plan upgrade, the Nth purchase
// within D days, a milestone, a custom event).

// CreateTrigger handles POST /api/v1/programs/{program_id}/triggers.
func (a *API) CreateTrigger(w http.ResponseWriter, r *http.Request) {
	var t parrain.MomentTrigger
	body, err := readJSON(w, r, &t)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	t, replayed, err := a.ref.CreateTrigger(r.Context(), r.PathValue("program_id"), t, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, t)
}

// ListTriggers handles GET /api/v1/programs/{program_id}/triggers.
func (a *API) ListTriggers(w http.ResponseWriter, r *http.Request) {
	ts, err := a.ref.Triggers(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.MomentTrigger]{Data: ts})
}

// GetTrigger handles GET /api/v1/programs/{program_id}/triggers/{trigger_id}.
func (a *API) GetTrigger(w http.ResponseWriter, r *http.Request) {
	t, err := a.ref.Trigger(r.Context(), r.PathValue("program_id"), r.PathValue("trigger_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, t)
}

// PutTrigger handles PUT /api/v1/programs/{program_id}/triggers/{trigger_id}:
// the new definition replaces the old (the cooldown state is kept).
func (a *API) PutTrigger(w http.ResponseWriter, r *http.Request) {
	var t parrain.MomentTrigger
	_, err := readJSON(w, r, &t)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if t.ID != "" && t.ID != r.PathValue("trigger_id") {
		httpx.WriteError(w, r, a.log, parrain.Invalid("id", "does not match the URL"))
		return
	}
	t, err = a.ref.UpdateTrigger(r.Context(), r.PathValue("program_id"), r.PathValue("trigger_id"), t)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, t)
}

// DeleteTrigger handles DELETE /api/v1/programs/{program_id}/triggers/{trigger_id}.
func (a *API) DeleteTrigger(w http.ResponseWriter, r *http.Request) {
	if err := a.ref.DeleteTrigger(r.Context(), r.PathValue("program_id"), r.PathValue("trigger_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListFirings handles GET .../triggers/{trigger_id}/firings: each time the
// trigger fired, for whom, and what each effect became.
func (a *API) ListFirings(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	fs, next, err := a.ref.Firings(r.Context(), r.PathValue("program_id"), r.PathValue("trigger_id"), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.Firing]{Data: fs, NextCursor: httpx.Cursor(next)})
}
