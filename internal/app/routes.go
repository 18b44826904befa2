package app

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/store"
)

// Route is one registered route, listed for the OpenAPI sync test.
type Route struct {
	Pattern string
	Public  bool
}

// routes registers every route Parrain serves. It is the one place to look
// for what the server answers.
func (m *Main) routes() (*http.ServeMux, []Route) {
	mux := http.NewServeMux()
	var list []Route
	handle := func(pattern string, public bool, h http.Handler) {
		if public {
			h = m.limiter.wrap(h)
		}
		mux.Handle(pattern, h)
		list = append(list, Route{Pattern: pattern, Public: public})
	}
	a := m.api

	// Public.
	handle("GET /r/{code}", true, m.redirect)
	handle("GET /healthz", true, http.HandlerFunc(m.health))
	handle("GET /api/v1/openapi.json", true, http.HandlerFunc(api.OpenAPI))

	// JSON API v1 (API key with scope).
	handle("POST /api/v1/programs", false, a.Auth(store.ScopeAdmin, a.CreateProgram))
	handle("GET /api/v1/programs", false, a.Auth(store.ScopeRead, a.ListPrograms))
	handle("GET /api/v1/programs/{program_id}", false, a.Auth(store.ScopeRead, a.GetProgram))
	handle("PATCH /api/v1/programs/{program_id}", false, a.Auth(store.ScopeAdmin, a.UpdateProgram))
	handle("PUT /api/v1/programs/{program_id}/participants/{external_id}", false, a.Auth(store.ScopeEvents, a.UpsertParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}", false, a.Auth(store.ScopeRead, a.GetParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/rewards", false, a.Auth(store.ScopeRead, a.ParticipantRewards))
	handle("POST /api/v1/programs/{program_id}/events", false, a.Auth(store.ScopeEvents, a.CreateEvent))
	handle("GET /api/v1/programs/{program_id}/referrals", false, a.Auth(store.ScopeRead, a.ListReferrals))
	handle("GET /api/v1/programs/{program_id}/rewards/{reward_id}", false, a.Auth(store.ScopeRead, a.GetReward))

	return mux, list
}

// jsonMisses makes the mux's own 404 and 405 answers under /api/ JSON
// errors like every other API answer (405 keeps its Allow header).
func (m *Main) jsonMisses(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			mux.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, r)
			if allow := rec.Header().Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			m.api.Miss(w, r, rec.Code)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (m *Main) health(w http.ResponseWriter, r *http.Request) {
	if err := m.st.DB().PingContext(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}
