package api

import (
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CreateProgram handles POST /api/v1/programs.
func (a *API) CreateProgram(w http.ResponseWriter, r *http.Request) {
	var p parrain.Program
	body, err := readJSON(w, r, &p)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if p.ID != "" || p.Version != 0 || !p.CreatedAt.IsZero() || !p.UpdatedAt.IsZero() {
		httpx.WriteError(w, r, a.log, parrain.Invalid("id", "id, version, created_at and updated_at are set by the server"))
		return
	}
	if k := apiKey(r); k.ProgramID != "" {
		httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeForbidden, "this API key is restricted to one program and cannot create programs"))
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, replayed, err := a.programs.Create(r.Context(), p, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, p)
}

// ListPrograms handles GET /api/v1/programs.
func (a *API) ListPrograms(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ps, next, err := a.st.Programs(r.Context(), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out := []parrain.Program{}
	for _, p := range ps {
		if apiKey(r).CanAccessProgram(p.ID) {
			out = append(out, p)
		}
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Program]{Data: out, NextCursor: httpx.Cursor(next)})
}

// GetProgram handles GET /api/v1/programs/{program_id}.
func (a *API) GetProgram(w http.ResponseWriter, r *http.Request) {
	p, err := a.st.Program(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// UpdateProgram handles PATCH /api/v1/programs/{program_id}: pausing and
// resuming a program.
func (a *API) UpdateProgram(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Status parrain.ProgramStatus `json:"status"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.programs.SetStatus(r.Context(), r.PathValue("program_id"), in.Status)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// ParticipantView is a participant as the API shows it.
type ParticipantView struct {
	parrain.Participant
	Link  string       `json:"link"`
	Stats *store.Stats `json:"stats,omitempty"`
}

func (a *API) view(p parrain.Participant) ParticipantView {
	return ParticipantView{Participant: p, Link: a.baseURL + "/r/" + p.Code}
}

// UpsertParticipant handles PUT /api/v1/programs/{program_id}/participants/{external_id}.
func (a *API) UpsertParticipant(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in parrain.ParticipantInput
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := httpx.DecodeJSON(body, &in); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	in.ExternalID = r.PathValue("external_id")
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, created, err := a.ref.UpsertParticipant(r.Context(), r.PathValue("program_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	httpx.WriteJSON(w, status, a.view(p))
}

// GetParticipant handles GET /api/v1/programs/{program_id}/participants/{external_id}.
func (a *API) GetParticipant(w http.ResponseWriter, r *http.Request) {
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	st, err := a.st.ParticipantStats(r.Context(), p.ID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	v := a.view(p)
	v.Stats = &st
	httpx.WriteJSON(w, http.StatusOK, v)
}

// ParticipantRewards handles GET .../participants/{external_id}/rewards.
func (a *API) ParticipantRewards(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	rws, next, err := a.st.ParticipantRewards(r.Context(), p.ID, r.URL.Query().Get("status"), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Reward]{Data: rws, NextCursor: httpx.Cursor(next)})
}

// RewardView is a reward with its ledger entries.
type RewardView struct {
	parrain.Reward
	Ledger []parrain.Entry `json:"ledger"`
}

// CreateEvent handles POST /api/v1/programs/{program_id}/events.
func (a *API) CreateEvent(w http.ResponseWriter, r *http.Request) {
	var ev parrain.Event
	body, err := readJSON(w, r, &ev)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	res, replayed, err := a.ref.IngestEvent(r.Context(), r.PathValue("program_id"), ev, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, res)
}

// ListReferrals handles GET /api/v1/programs/{program_id}/referrals.
func (a *API) ListReferrals(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	q := r.URL.Query()
	f := store.ReferralFilter{Status: q.Get("status")}
	switch parrain.ReferralStatus(f.Status) {
	case "", parrain.ReferralSignedUp, parrain.ReferralConverted, parrain.ReferralRejected:
	default:
		httpx.WriteError(w, r, a.log, parrain.Invalid("status", "must be signed_up, converted or rejected"))
		return
	}
	if adv := q.Get("advocate"); adv != "" {
		p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), adv)
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
		f.AdvocateID = p.ID
	}
	refs, next, err := a.st.Referrals(r.Context(), r.PathValue("program_id"), f, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Referral]{Data: refs, NextCursor: httpx.Cursor(next)})
}

// Miss answers a request no API route matched: 405 when the path exists
// with other methods, 404 otherwise.
func (a *API) Miss(w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusMethodNotAllowed {
		httpx.WriteJSON(w, status, httpx.ErrorBody{Error: httpx.ErrorDetail{Code: parrain.CodeInvalid, Field: "method",
			Message: "method " + r.Method + " is not allowed here; see the Allow header"}})
		return
	}
	httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
}
