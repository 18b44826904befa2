package api

import (
	"net/http"
	"slices"
	"time"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// This file serves the B2B partner program's API: settings and tiers,
// partners, lead registration with exclusivity, the account check of the
// direct sales team, excluded accounts, extensions, deal stages, assets,
// surveys and KPIs. See docs/partners.md.

// partnerJSON reads and strictly decodes a request body into v and builds its
// idempotency identity.
func partnerJSON(w http.ResponseWriter, r *http.Request, v any, idemRequired bool) (store.Idem, error) {
	body, err := readBody(w, r)
	if err != nil {
		return store.Idem{}, err
	}
	if err := httpx.DecodeJSON(body, v); err != nil {
		return store.Idem{}, err
	}
	return idem(r, body, idemRequired)
}

func actor(r *http.Request) string { return "api:" + apiKey(r).ID }

// partnerProgramBody is the document of PUT …/partner-program: what GET
// answers, so a fetched document can be edited and sent back. The
// program's name and currency are read-only (set on the program itself)
// and ignored here.
type partnerProgramBody struct {
	parrain.PartnerSettings
	Tiers    []parrain.Tier `json:"tiers"`
	Currency string         `json:"currency,omitempty"`
	Name     string         `json:"name,omitempty"`
}

// PutPartnerProgram handles PUT /api/v1/programs/{program_id}/partner-program.
func (a *API) PutPartnerProgram(w http.ResponseWriter, r *http.Request) {
	var b partnerProgramBody
	body, err := readBody(w, r)
	if err == nil {
		err = httpx.DecodeJSON(body, &b)
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	pp, err := a.partners.PutProgram(r.Context(), r.PathValue("program_id"), b.PartnerSettings, b.Tiers)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, pp)
}

// GetPartnerProgram handles GET /api/v1/programs/{program_id}/partner-program.
func (a *API) GetPartnerProgram(w http.ResponseWriter, r *http.Request) {
	pp, err := a.st.PartnerProgram(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, pp)
}

// InvitePartner handles POST /api/v1/programs/{program_id}/partners: a
// manager invites a partner, active at once in the entry tier.
func (a *API) InvitePartner(w http.ResponseWriter, r *http.Request) {
	var in parrain.PartnerApplication
	id, err := partnerJSON(w, r, &in, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, replayed, err := a.partners.Apply(r.Context(), r.PathValue("program_id"), in, "invite", id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, p)
}

// ListPartners handles GET /api/v1/programs/{program_id}/partners.
func (a *API) ListPartners(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	st := parrain.PartnerStatus(r.URL.Query().Get("status"))
	switch st {
	case "", parrain.PartnerApplied, parrain.PartnerActive, parrain.PartnerRejected, parrain.PartnerSuspended:
	default:
		httpx.WriteError(w, r, a.log, parrain.Invalid("status", "must be applied, active, rejected or suspended"))
		return
	}
	ps, next, err := a.st.Partners(r.Context(), r.PathValue("program_id"), st, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Partner]{Data: ps, NextCursor: httpx.Cursor(next)})
}

// partnerDetail is a partner with their tier history.
type partnerDetail struct {
	parrain.Partner
	TierHistory []store.TierEvent `json:"tier_history"`
}

// GetPartner handles GET /api/v1/programs/{program_id}/partners/{partner_id}.
func (a *API) GetPartner(w http.ResponseWriter, r *http.Request) {
	p, err := a.st.Partner(r.Context(), r.PathValue("program_id"), r.PathValue("partner_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	h, err := a.st.TierHistory(r.Context(), p.ID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, partnerDetail{p, h})
}

// DecidePartner handles POST …/partners/{partner_id}/decision:
// {"approve": true|false, "note": "…"}.
func (a *API) DecidePartner(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Approve *bool  `json:"approve"`
		Note    string `json:"note"`
	}
	id, err := partnerJSON(w, r, &in, true)
	if err == nil && in.Approve == nil {
		err = parrain.Invalid("approve", "is required: true to approve, false to reject")
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, replayed, err := a.partners.Decide(r.Context(), r.PathValue("program_id"), r.PathValue("partner_id"), *in.Approve, in.Note, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, p)
}

// SetPartnerOnboarding handles POST …/partners/{partner_id}/onboarding:
// {"step": "kickoff"|"training", "done": true}, or {"status":
// "active"|"suspended"}.
func (a *API) SetPartnerOnboarding(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Step   string                `json:"step"`
		Done   bool                  `json:"done"`
		Status parrain.PartnerStatus `json:"status"`
	}
	if _, err := partnerJSON(w, r, &in, false); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	pid, id := r.PathValue("program_id"), r.PathValue("partner_id")
	var p parrain.Partner
	var err error
	if in.Status != "" {
		p, err = a.partners.SetStatus(r.Context(), pid, id, in.Status)
	} else {
		p, err = a.partners.SetOnboardingStep(r.Context(), pid, id, in.Step, in.Done)
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// leadBody is a registration by API: the lead and, for managers, the
// credit.
type leadBody struct {
	parrain.LeadInput
	Credit parrain.Credit `json:"credit,omitempty"`
}

// RegisterLead handles POST …/partners/{partner_id}/leads. An accepted
// registration answers 201 with the decision and the lead; a refused one
// answers 409 (or 400 when it does not qualify) with the explanation, the
// reason and the decision id, and is logged.
func (a *API) RegisterLead(w http.ResponseWriter, r *http.Request) {
	var in leadBody
	id, err := partnerJSON(w, r, &in, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	res, replayed, err := a.partners.RegisterLead(r.Context(), r.PathValue("program_id"), r.PathValue("partner_id"), in.LeadInput,
		partner.RegisterOptions{Credit: in.Credit, Actor: actor(r)}, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	status := http.StatusCreated
	if res.Decision.Outcome != parrain.OutcomeAccepted {
		status = http.StatusConflict
		if res.Decision.Reason == parrain.ReasonNotQualified {
			status = http.StatusBadRequest
		}
	}
	writeWrite(w, status, replayed, refusal(res))
}

// leadAnswer adds an error object to a refused registration, so clients
// that switch on error codes see one.
type leadAnswer struct {
	partner.LeadResult
	Error *httpx.ErrorDetail `json:"error,omitempty"`
}

func refusal(res partner.LeadResult) leadAnswer {
	out := leadAnswer{LeadResult: res}
	if res.Decision.Outcome != parrain.OutcomeAccepted {
		code := parrain.CodeConflict
		if res.Decision.Reason == parrain.ReasonNotQualified {
			code = parrain.CodeInvalid
		}
		out.Error = &httpx.ErrorDetail{Code: code, Message: res.Decision.Explanation, Field: res.Decision.Field}
	}
	return out
}

// ListLeads handles GET /api/v1/programs/{program_id}/leads.
func (a *API) ListLeads(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	q := r.URL.Query()
	ls, next, err := a.st.Leads(r.Context(), r.PathValue("program_id"), store.LeadFilter{PartnerID: q.Get("partner"), Stage: q.Get("stage")}, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Lead]{Data: ls, NextCursor: httpx.Cursor(next)})
}

// GetLead handles GET …/leads/{lead_id}: the deal with its stage history.
func (a *API) GetLead(w http.ResponseWriter, r *http.Request) {
	l, err := a.st.Lead(r.Context(), r.PathValue("program_id"), r.PathValue("lead_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	h, err := a.st.LeadStages(r.Context(), l.ProgramID, l.ID)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct {
		parrain.Lead
		Stages []parrain.StageChange `json:"stages"`
	}{l, h})
}

// MoveDeal handles POST …/leads/{lead_id}/stage: {"stage", "value"}.
func (a *API) MoveDeal(w http.ResponseWriter, r *http.Request) {
	var in partner.DealMove
	id, err := partnerJSON(w, r, &in, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	in.Source, in.Actor = "api", actor(r)
	res, replayed, err := a.partners.MoveDeal(r.Context(), r.PathValue("program_id"), r.PathValue("lead_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, res)
}

// ExtendLead handles POST …/leads/{lead_id}/extend: {"days": 30}.
func (a *API) ExtendLead(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Days int `json:"days"`
	}
	id, err := partnerJSON(w, r, &in, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	d, replayed, err := a.partners.ExtendLead(r.Context(), r.PathValue("program_id"), r.PathValue("lead_id"), in.Days, actor(r), id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, d)
}

// ListExtensions handles GET …/partner-extensions?status=pending.
func (a *API) ListExtensions(w http.ResponseWriter, r *http.Request) {
	if !a.knownProgram(w, r) {
		return
	}
	xs, err := a.st.Extensions(r.Context(), r.PathValue("program_id"), r.URL.Query().Get("partner"), r.URL.Query().Get("status"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.Extension]{Data: xs})
}

// DecideExtension handles POST …/partner-extensions/{extension_id}/decision:
// {"grant": true|false, "note": "…"}.
func (a *API) DecideExtension(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Grant *bool  `json:"grant"`
		Note  string `json:"note"`
	}
	id, err := partnerJSON(w, r, &in, true)
	if err == nil && in.Grant == nil {
		err = parrain.Invalid("grant", "is required: true to grant, false to refuse")
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	x, replayed, err := a.partners.DecideExtension(r.Context(), r.PathValue("program_id"), r.PathValue("extension_id"), *in.Grant, in.Note, actor(r), id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, x)
}

// CheckAccount handles GET …/account-check?domain=&company=: may the
// direct sales team contact this account?
func (a *API) CheckAccount(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := a.partners.CheckAccount(r.Context(), r.PathValue("program_id"), q.Get("domain"), q.Get("company"), actor(r))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// ListExclusions handles GET …/partner-exclusions.
func (a *API) ListExclusions(w http.ResponseWriter, r *http.Request) {
	if !a.knownProgram(w, r) {
		return
	}
	xs, err := a.st.Exclusions(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Exclusion]{Data: xs})
}

// AddExclusion handles POST …/partner-exclusions.
func (a *API) AddExclusion(w http.ResponseWriter, r *http.Request) {
	var in parrain.Exclusion
	id, err := partnerJSON(w, r, &in, true)
	if err == nil && (in.ID != "" || in.ProgramID != "" || !in.CreatedAt.IsZero()) {
		err = parrain.Invalid("id", "id, program_id and created_at are set by the server")
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	x, replayed, err := a.partners.AddExclusion(r.Context(), r.PathValue("program_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, x)
}

// DeleteExclusion handles DELETE …/partner-exclusions/{exclusion_id}.
func (a *API) DeleteExclusion(w http.ResponseWriter, r *http.Request) {
	if err := a.partners.DeleteExclusion(r.Context(), r.PathValue("program_id"), r.PathValue("exclusion_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListPartnerDecisions handles GET …/partner-decisions?partner=&domain=.
func (a *API) ListPartnerDecisions(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	ds, next, err := a.st.PartnerDecisions(r.Context(), r.PathValue("program_id"), r.URL.Query().Get("partner"), r.URL.Query().Get("domain"), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.PartnerDecision]{Data: ds, NextCursor: httpx.Cursor(next)})
}

// PartnerKPIs handles GET …/partner-kpis?from=&to= (RFC 3339 dates;
// default: the current quarter).
func (a *API) PartnerKPIs(w http.ResponseWriter, r *http.Request) {
	from, to := parrain.QuarterBounds(a.st.Clock().Now())
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := r.URL.Query().Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if t, err = time.Parse("2006-01-02", v); err != nil {
					httpx.WriteError(w, r, a.log, parrain.Invalid(p.name, "must be a date (2026-01-01) or an RFC 3339 timestamp"))
					return
				}
			}
			*p.dst = t.UTC()
		}
	}
	if !from.Before(to) {
		httpx.WriteError(w, r, a.log, parrain.Invalid("to", "must be after from"))
		return
	}
	rep, err := a.partners.KPIReportFor(r.Context(), r.PathValue("program_id"), from, to)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}

// CreateAsset handles POST …/partner-assets: a file uploaded as JSON with
// base64 content.
func (a *API) CreateAsset(w http.ResponseWriter, r *http.Request) {
	var in store.Asset
	body, err := httpx.ReadBody(w, r, partner.MaxAssetSize*2) // base64 content: the route allows as much
	if err == nil {
		err = httpx.DecodeJSON(body, &in)
	}
	var id store.Idem
	if err == nil {
		id, err = idem(r, body, true)
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	x, replayed, err := a.partners.CreateAsset(r.Context(), r.PathValue("program_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, x)
}

// ListAssets handles GET …/partner-assets (with download counts).
func (a *API) ListAssets(w http.ResponseWriter, r *http.Request) {
	if !a.knownProgram(w, r) {
		return
	}
	xs, err := a.st.Assets(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.Asset]{Data: xs})
}

// CreateSurvey handles POST …/partner-surveys.
func (a *API) CreateSurvey(w http.ResponseWriter, r *http.Request) {
	var in store.Survey
	id, err := partnerJSON(w, r, &in, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	sv, replayed, err := a.partners.CreateSurvey(r.Context(), r.PathValue("program_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, sv)
}

// SurveyAnswers handles GET …/partner-surveys/{survey_id}/answers.
func (a *API) SurveyAnswers(w http.ResponseWriter, r *http.Request) {
	if !a.knownProgram(w, r) {
		return
	}
	svs, err := a.st.Surveys(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !slices.ContainsFunc(svs, func(sv store.Survey) bool { return sv.ID == r.PathValue("survey_id") }) {
		httpx.WriteError(w, r, a.log, store.NotFound("survey"))
		return
	}
	as, err := a.st.SurveyAnswers(r.Context(), r.PathValue("program_id"), r.PathValue("survey_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.SurveyAnswer]{Data: as})
}
