package api

import (
	"net/http"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/referral"
)

// GetFraudPolicy handles GET /api/v1/programs/{program_id}/fraud/policy.
func (a *API) GetFraudPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.ref.FraudPolicy(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// PutFraudPolicy handles PUT /api/v1/programs/{program_id}/fraud/policy:
// thresholds, per-signal rules (observe, flag, hold, reject,
// suspend_advocate, or a weight) and blocklists.
func (a *API) PutFraudPolicy(w http.ResponseWriter, r *http.Request) {
	// The policy's JSON form is decoded field by field here rather than
	// through fraud.Policy's UnmarshalJSON, which is lenient (it also reads
	// stored documents) and would accept unknown fields and name wrong types
	// after its internal type.
	var in struct {
		FlagAt            int                       `json:"flag_at"`
		HoldAt            int                       `json:"hold_at"`
		RejectAt          int                       `json:"reject_at"`
		ReviewWindowHours int                       `json:"review_window_hours"`
		Rules             map[fraud.Code]fraud.Rule `json:"rules"`
		Lists             fraud.Lists               `json:"lists"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p := fraud.Policy{FlagAt: in.FlagAt, HoldAt: in.HoldAt, RejectAt: in.RejectAt, ReviewWindow: time.Duration(in.ReviewWindowHours) * time.Hour,
		Rules: in.Rules, Lists: in.Lists, Tuning: fraud.DefaultTuning()}
	p, err = a.ref.SetFraudPolicy(r.Context(), r.PathValue("program_id"), p)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// FraudSignals handles GET /api/v1/fraud/signals: the catalogue of signals
// with their default weights and rationale.
func (a *API) FraudSignals(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"data": fraud.Catalogue()})
}

// FraudStats handles GET /api/v1/programs/{program_id}/fraud/stats.
func (a *API) FraudStats(w http.ResponseWriter, r *http.Request) {
	if _, err := a.st.Program(r.Context(), r.PathValue("program_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	st, err := a.ref.FraudSignalStats(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[referral.SignalStat]{Data: st})
}

// ListReviews handles GET /api/v1/programs/{program_id}/reviews: the fraud
// review queue with evidence.
func (a *API) ListReviews(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if _, err := a.st.Program(r.Context(), r.PathValue("program_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	items, next, err := a.ref.ReviewQueue(r.Context(), r.PathValue("program_id"), r.URL.Query().Get("status"), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[referral.ReviewItem]{Data: items, NextCursor: httpx.Cursor(next)})
}

// ReviewReferral handles POST /api/v1/programs/{program_id}/referrals/{referral_id}/review.
func (a *API) ReviewReferral(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ref, err := a.ref.ReviewReferral(r.Context(), r.PathValue("program_id"), r.PathValue("referral_id"), in.Decision, in.Reason, "api_key:"+apiKey(r).Name)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ref)
}
