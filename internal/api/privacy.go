package api

import (
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/privacy"
)

// PrivacyHandlers serves the personal-data rights (docs/privacy.md):
// export and erasure of a person across every program of the installation.
type PrivacyHandlers struct {
	a   *API
	svc *privacy.Service
}

// Privacy returns the personal-data handlers over svc.
func (a *API) Privacy(svc *privacy.Service) *PrivacyHandlers { return &PrivacyHandlers{a: a, svc: svc} }

// installationWide refuses a key restricted to one program: export and
// erasure reach the person in every program of the installation.
func (h *PrivacyHandlers) installationWide(w http.ResponseWriter, r *http.Request) bool {
	if apiKey(r).ProgramID != "" {
		httpx.WriteError(w, r, h.a.log, parrain.Errorf(parrain.CodeForbidden,
			"export and erasure reach the person in every program: use an admin key not restricted to one program"))
		return false
	}
	return true
}

// Export handles GET /api/v1/programs/{program_id}/participants/{external_id}/export.
func (h *PrivacyHandlers) Export(w http.ResponseWriter, r *http.Request) {
	if !h.installationWide(w, r) {
		return
	}
	doc, err := h.svc.Export(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="person-export.json"`)
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, doc)
}

// Erase handles DELETE /api/v1/programs/{program_id}/participants/{external_id}[?force=true].
func (h *PrivacyHandlers) Erase(w http.ResponseWriter, r *http.Request) {
	if !h.installationWide(w, r) {
		return
	}
	var force bool
	switch r.URL.Query().Get("force") {
	case "", "false":
	case "true":
		force = true
	default:
		httpx.WriteError(w, r, h.a.log, parrain.Invalid("force", "must be true or false"))
		return
	}
	res, err := h.svc.Erase(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"), force)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}
