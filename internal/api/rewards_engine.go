package api

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// Handlers of the reward engine: full program updates and versions,
// explained rewards and their review, dry runs and replays, terms,
// contests, code pools and alerts.

// ReplaceProgram handles PUT /api/v1/programs/{program_id}: the full
// program document replaces the current one as a new version (no version
// when nothing changed). A "version" in the document must be the current
// one.
func (a *API) ReplaceProgram(w http.ResponseWriter, r *http.Request) {
	var p parrain.Program
	body, err := readJSON(w, r, &p)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if p.ID != "" && p.ID != r.PathValue("program_id") {
		httpx.WriteError(w, r, a.log, parrain.Invalid("id", "does not match the program in the path"))
		return
	}
	p.ID = ""
	id, err := idem(r, body, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out, replayed, err := a.programs.Update(r.Context(), r.PathValue("program_id"), p, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, out)
}

// ListProgramVersions handles GET /api/v1/programs/{program_id}/versions.
func (a *API) ListProgramVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := a.st.ProgramVersions(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.ProgramVersion]{Data: vs})
}

// GetRewardExplained handles GET /api/v1/programs/{program_id}/rewards/{reward_id}:
// the reward with its details, fulfilment, ledger entries and explanation
// (the rule of the version that made it, the event, the inputs and the
// arithmetic).
func (a *API) GetRewardExplained(w http.ResponseWriter, r *http.Request) {
	rw, err := a.st.ExplainReward(r.Context(), r.PathValue("program_id"), r.PathValue("reward_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rw)
}

// ListProgramRewards handles GET /api/v1/programs/{program_id}/rewards.
func (a *API) ListProgramRewards(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	q := r.URL.Query()
	rws, next, err := a.st.ProgramRewards(r.Context(), r.PathValue("program_id"), store.RewardFilter{Status: q.Get("status"), Review: q.Get("review")}, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Reward]{Data: rws, NextCursor: httpx.Cursor(next)})
}

// ReviewReward handles POST /api/v1/programs/{program_id}/rewards/{reward_id}/review.
func (a *API) ReviewReward(w http.ResponseWriter, r *http.Request) {
	var d referral.ReviewDecision
	body, err := readJSON(w, r, &d)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	rw, replayed, err := a.ref.ReviewReward(r.Context(), r.PathValue("program_id"), r.PathValue("reward_id"), d, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, rw)
}

// ReinstateReward handles POST /api/v1/programs/{program_id}/rewards/{reward_id}/reinstate.
func (a *API) ReinstateReward(w http.ResponseWriter, r *http.Request) {
	var d referral.ReinstateDecision
	body, err := readJSON(w, r, &d)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	rw, replayed, err := a.ref.ReinstateReward(r.Context(), r.PathValue("program_id"), r.PathValue("reward_id"), d, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, rw)
}

// DryRunRequest is the body of a dry run: an event and, optionally,
// proposed rules (a full program document) to evaluate instead of the
// current ones.
type DryRunRequest struct {
	Event   *parrain.Event   `json:"event"`
	Program *parrain.Program `json:"program,omitempty"`
}

// DryRun handles POST /api/v1/programs/{program_id}/dry-run.
func (a *API) DryRun(w http.ResponseWriter, r *http.Request) {
	var in DryRunRequest
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, prefixField(err, "event"))
		return
	}
	if in.Event == nil {
		httpx.WriteError(w, r, a.log, parrain.Invalid("event", "is required: the hypothetical event"))
		return
	}
	res, err := a.ref.DryRun(r.Context(), r.PathValue("program_id"), *in.Event, in.Program)
	if err != nil {
		httpx.WriteError(w, r, a.log, prefixField(err, "event"))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

// prefixField names validation errors of a nested event ("event.amount").
func prefixField(err error, prefix string) error {
	e := parrain.AsError(err)
	if e == nil || e.Code != parrain.CodeInvalid || e.Field == "" || e.Field == "body" || e.Field == prefix ||
		strings.HasPrefix(e.Field, prefix+".") || strings.HasPrefix(e.Field, "program") || e.Field == "Idempotency-Key" {
		return err
	}
	return &parrain.Error{Code: e.Code, Field: prefix + "." + e.Field, Message: e.Message}
}

// ReplayRequest is the body of a replay: the proposed rules and the window.
type ReplayRequest struct {
	Program *parrain.Program `json:"program"`
	Days    int              `json:"days"`
}

// Replay handles POST /api/v1/programs/{program_id}/replay.
func (a *API) Replay(w http.ResponseWriter, r *http.Request) {
	var in ReplayRequest
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if in.Program == nil {
		httpx.WriteError(w, r, a.log, parrain.Invalid("program", "is required: the proposed program document"))
		return
	}
	if in.Days == 0 {
		in.Days = 30
	}
	rep, err := a.ref.Replay(r.Context(), r.PathValue("program_id"), *in.Program, in.Days)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}

// termsVersion reads the optional ?version= of a terms request.
func termsVersion(r *http.Request) (int, error) {
	v := r.URL.Query().Get("version")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, parrain.Invalid("version", "must be a terms version (1, 2, …)")
	}
	return n, nil
}

func (a *API) terms(r *http.Request) (store.Terms, error) {
	v, err := termsVersion(r)
	if err != nil {
		return store.Terms{}, err
	}
	if v == 0 {
		return a.programs.CurrentTerms(r.Context(), r.PathValue("program_id"))
	}
	return a.programs.TermsVersion(r.Context(), r.PathValue("program_id"), v)
}

// GetTerms handles GET /api/v1/programs/{program_id}/terms.
func (a *API) GetTerms(w http.ResponseWriter, r *http.Request) {
	t, err := a.terms(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, t)
}

var termsPage = template.Must(template.New("terms").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Program terms</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}footer{margin-top:3rem;color:#666;font-size:.85rem}</style>
</head><body>
<main>{{.HTML}}</main>
<footer>Terms version {{.Version}} · {{.CreatedAt.Format "2006-01-02"}} · SHA-256 {{.SHA256}}</footer>
</body></html>
`))

// TermsPage handles GET /terms/{program_id}: the program's terms as a
// public HTML page (?version= for an earlier version).
func (a *API) TermsPage(w http.ResponseWriter, r *http.Request) {
	t, err := a.terms(r)
	if err != nil {
		status := httpx.Status(parrain.ErrorCode(err))
		if status >= 500 {
			a.log.ErrorContext(r.Context(), "terms page", "err", err)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = termsPage.Execute(w, struct {
		store.Terms
		HTML template.HTML
	}{t, template.HTML(t.HTML)}) //nolint:gosec // MarkdownHTML escapes every text
}

// AcceptTermsRequest is the body of a terms acceptance.
type AcceptTermsRequest struct {
	// Version is the terms version accepted (0 or absent: the current one).
	Version int `json:"version"`
}

// AcceptTerms handles POST /api/v1/programs/{program_id}/participants/{external_id}/terms.
func (a *API) AcceptTerms(w http.ResponseWriter, r *http.Request) {
	var in AcceptTermsRequest
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if strings.TrimSpace(string(body)) != "" {
		if err := httpx.DecodeJSON(body, &in); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	acc, replayed, err := a.programs.AcceptTerms(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"), in.Version, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, acc)
}

// TermsAcceptancesView is a participant's terms acceptances.
type TermsAcceptancesView struct {
	CurrentVersion  int                     `json:"current_version"`
	AcceptedCurrent bool                    `json:"accepted_current"`
	Data            []store.TermsAcceptance `json:"data"`
}

// ListTermsAcceptances handles GET /api/v1/programs/{program_id}/participants/{external_id}/terms.
func (a *API) ListTermsAcceptances(w http.ResponseWriter, r *http.Request) {
	accs, cur, err := a.programs.TermsAcceptances(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	v := TermsAcceptancesView{CurrentVersion: cur.Version, Data: accs}
	for _, acc := range accs {
		v.AcceptedCurrent = v.AcceptedCurrent || acc.Current
	}
	httpx.WriteJSON(w, http.StatusOK, v)
}

// CreateContest handles POST /api/v1/programs/{program_id}/contests.
func (a *API) CreateContest(w http.ResponseWriter, r *http.Request) {
	var c parrain.Contest
	body, err := readJSON(w, r, &c)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out, replayed, err := a.ref.CreateContest(r.Context(), r.PathValue("program_id"), c, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, out)
}

// ListContests handles GET /api/v1/programs/{program_id}/contests.
func (a *API) ListContests(w http.ResponseWriter, r *http.Request) {
	cs, err := a.ref.Contests(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Contest]{Data: cs})
}

// GetContest handles GET /api/v1/programs/{program_id}/contests/{contest_id}.
func (a *API) GetContest(w http.ResponseWriter, r *http.Request) {
	c, err := a.ref.Contest(r.Context(), r.PathValue("program_id"), r.PathValue("contest_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// leaderboardLimit reads the limit of a leaderboard: 50 places unless
// asked, at most 500.
func leaderboardLimit(r *http.Request) (int, error) {
	return httpx.ParseLimit(r, 50, 500)
}

// ContestLeaderboard handles GET /api/v1/programs/{program_id}/contests/{contest_id}/leaderboard.
func (a *API) ContestLeaderboard(w http.ResponseWriter, r *http.Request) {
	n, err := leaderboardLimit(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	lb, err := a.ref.ContestLeaderboard(r.Context(), r.PathValue("program_id"), r.PathValue("contest_id"), n)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, lb)
}

// PublicLeaderboard handles GET /api/v1/public/contests/{contest_id}/leaderboard:
// a public contest's standings with display names only, no API key.
func (a *API) PublicLeaderboard(w http.ResponseWriter, r *http.Request) {
	n, err := leaderboardLimit(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	lb, err := a.ref.PublicLeaderboard(r.Context(), r.PathValue("contest_id"), n)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "public, max-age=60")
	httpx.WriteJSON(w, http.StatusOK, lb)
}

// CreateCouponPool handles POST /api/v1/programs/{program_id}/coupon-pools.
func (a *API) CreateCouponPool(w http.ResponseWriter, r *http.Request) {
	var p store.CouponPool
	body, err := readJSON(w, r, &p)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if p.ID != "" || p.ProgramID != "" || p.Available != 0 || p.Assigned != 0 || !p.CreatedAt.IsZero() {
		httpx.WriteError(w, r, a.log, parrain.Invalid("id", "id, program_id, counts and created_at are set by the server"))
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	out, replayed, err := a.ref.CreateCouponPool(r.Context(), r.PathValue("program_id"), p, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, out)
}

// ListCouponPools handles GET /api/v1/programs/{program_id}/coupon-pools.
func (a *API) ListCouponPools(w http.ResponseWriter, r *http.Request) {
	ps, err := a.st.CouponPools(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.CouponPool]{Data: ps})
}

// ImportCodesRequest is the body of a code import.
type ImportCodesRequest struct {
	Codes []string `json:"codes"`
}

// ImportCodes handles POST /api/v1/programs/{program_id}/coupon-pools/{pool}/codes.
func (a *API) ImportCodes(w http.ResponseWriter, r *http.Request) {
	var in ImportCodesRequest
	body, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	res, replayed, err := a.ref.ImportCodes(r.Context(), r.PathValue("program_id"), r.PathValue("pool"), in.Codes, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, res)
}

// ListAlerts handles GET /api/v1/programs/{program_id}/alerts (?open=true
// for open alerts only).
func (a *API) ListAlerts(w http.ResponseWriter, r *http.Request) {
	open := false
	if v := r.URL.Query().Get("open"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpx.WriteError(w, r, a.log, parrain.Invalid("open", "must be true or false"))
			return
		}
		open = b
	}
	as, err := a.st.Alerts(r.Context(), r.PathValue("program_id"), open)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.Alert]{Data: as})
}
