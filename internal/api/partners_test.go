package api

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// partnerProgram turns programID into a partner program: leads of 50+
// employees, two tiers.
func (e *env) partnerProgram(programID string) store.PartnerProgram {
	e.t.Helper()
	var pp store.PartnerProgram
	e.ok(http.StatusOK, "PUT", "/api/v1/programs/"+programID+"/partner-program", "", `{"slug":"acme-`+strings.ToLower(programID[len(programID)-6:])+`",
		"applications_open":true,"window_days":90,"qualification":{"min_company_size":50},"terms_version":"2026-1",
		"tiers":[{"key":"referral","name":"Referral","rank":0},{"key":"reseller","name":"Reseller","rank":1,"criteria":{"min_won_deals":3}}]}`, &pp)
	return pp
}

// application is a partner's application on the public form.
func (e *env) application(programID, email string) parrain.Partner {
	e.t.Helper()
	p, _, err := e.a.partners.Apply(context.Background(), programID, parrain.PartnerApplication{Email: email, Name: "Pat Partner", Company: "Partner Co"}, "application", store.Idem{})
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return p
}

// invite invites an active partner by API.
func (e *env) invite(programID, email string) parrain.Partner {
	e.t.Helper()
	var p parrain.Partner
	e.ok(http.StatusCreated, "POST", "/api/v1/programs/"+programID+"/partners", "inv-"+email, `{"email":"`+email+`","name":"Ina Vited"}`, &p)
	return p
}

func TestPartnerProgramAndPartners(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.checkErrors(t, []errCase{{name: "no partner program yet", method: "GET", path: base + "/partner-program", status: 404, code: parrain.CodeNotFound}})
		pp := e.partnerProgram(p.ID)
		if pp.ProgramID != p.ID || pp.WindowDays != 90 || len(pp.Tiers) != 2 || len(pp.Stages) == 0 || pp.Currency != "EUR" {
			t.Fatalf("partner program %+v", pp)
		}
		var got store.PartnerProgram
		e.ok(http.StatusOK, "GET", base+"/partner-program", "", "", &got)
		if got.Slug != pp.Slug || got.Qualification.MinCompanySize != 50 {
			t.Errorf("get %+v", got)
		}

		inv := e.invite(p.ID, "ina@partner.example")
		if inv.ID == "" || inv.Status != parrain.PartnerActive || inv.Source != "invite" || inv.Tier != "referral" {
			t.Fatalf("invited %+v", inv)
		}
		var again parrain.Partner
		w := e.ok(http.StatusCreated, "POST", base+"/partners", "inv-ina@partner.example", `{"email":"ina@partner.example","name":"Ina Vited"}`, &again)
		if again.ID != inv.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		applied, refused := e.application(p.ID, "pat@partner.example"), e.application(p.ID, "rex@partner.example")
		var approved, rejected parrain.Partner
		e.ok(http.StatusOK, "POST", base+"/partners/"+applied.ID+"/decision", "d1", `{"approve":true,"note":"welcome"}`, &approved)
		if approved.Status != parrain.PartnerActive || approved.Tier != "referral" || approved.Code == "" {
			t.Errorf("approved %+v", approved)
		}
		e.ok(http.StatusOK, "POST", base+"/partners/"+refused.ID+"/decision", "d2", `{"approve":false,"note":"not a fit"}`, &rejected)
		if rejected.Status != parrain.PartnerRejected || rejected.DecisionNote != "not a fit" {
			t.Errorf("rejected %+v", rejected)
		}
		var onboarded parrain.Partner
		e.ok(http.StatusOK, "POST", base+"/partners/"+inv.ID+"/onboarding", "", `{"step":"kickoff","done":true}`, &onboarded)
		if onboarded.KickoffAt == nil {
			t.Errorf("kickoff %+v", onboarded)
		}
		var suspended parrain.Partner
		e.ok(http.StatusOK, "POST", base+"/partners/"+inv.ID+"/onboarding", "", `{"status":"suspended"}`, &suspended)
		if suspended.Status != parrain.PartnerSuspended {
			t.Errorf("suspended %+v", suspended)
		}
		var detail struct {
			parrain.Partner
			TierHistory []store.TierEvent `json:"tier_history"`
		}
		e.ok(http.StatusOK, "GET", base+"/partners/"+applied.ID, "", "", &detail)
		if detail.ID != applied.ID || len(detail.TierHistory) != 1 {
			t.Errorf("detail %+v", detail)
		}
		for query, want := range map[string]int{"": 3, "?status=active": 1, "?status=rejected": 1, "?status=suspended": 1, "?status=applied": 0} {
			var list List[parrain.Partner]
			e.ok(http.StatusOK, "GET", base+"/partners"+query, "", "", &list)
			if len(list.Data) != want {
				t.Errorf("partners%s: %d, want %d", query, len(list.Data), want)
			}
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, "")
		e.checkErrors(t, []errCase{
			{name: "no tiers", method: "PUT", path: base + "/partner-program", body: `{"slug":"x-partners"}`, status: 400, code: parrain.CodeInvalid, field: "tiers"},
			{name: "bad window", method: "PUT", path: base + "/partner-program", body: `{"slug":"x-partners","window_days":7,"tiers":[{"key":"r","name":"R","rank":0}]}`, status: 400, code: parrain.CodeInvalid, field: "window_days"},
			{name: "unknown settings field", method: "PUT", path: base + "/partner-program", body: `{"slogan":"x"}`, status: 400, code: parrain.CodeInvalid, field: "slogan"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/partner-program", body: `{"slug":"x-partners","tiers":[{"key":"r","name":"R","rank":0}]}`, status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: restricted, method: "PUT", path: base + "/partner-program", body: `{}`, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: readOnly, method: "PUT", path: base + "/partner-program", body: `{}`, status: 403, code: parrain.CodeForbidden},
			{name: "invite without idempotency key", method: "POST", path: base + "/partners", body: `{"email":"x@partner.example","name":"X"}`, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "invite bad email", method: "POST", path: base + "/partners", idem: "i1", body: `{"email":"not-an-email","name":"X"}`, status: 400, code: parrain.CodeInvalid, field: "email"},
			{name: "invite without name", method: "POST", path: base + "/partners", idem: "i2", body: `{"email":"x@partner.example"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "invite same key other body", method: "POST", path: base + "/partners", idem: "inv-ina@partner.example", body: `{"email":"other@partner.example","name":"O"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "invite read-only", key: readOnly, method: "POST", path: base + "/partners", idem: "i3", body: `{"email":"x@partner.example","name":"X"}`, status: 403, code: parrain.CodeForbidden},
			{name: "decide again", method: "POST", path: base + "/partners/" + applied.ID + "/decision", idem: "d3", body: `{"approve":false}`, status: 409, code: parrain.CodeConflict, field: "status"},
			{name: "decide without approve", method: "POST", path: base + "/partners/" + applied.ID + "/decision", idem: "d4", body: `{"note":"x"}`, status: 400, code: parrain.CodeInvalid, field: "approve"},
			{name: "decide without idempotency key", method: "POST", path: base + "/partners/" + applied.ID + "/decision", body: `{"approve":true}`, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "decide unknown", method: "POST", path: base + "/partners/prt_nope/decision", idem: "d5", body: `{"approve":true}`, status: 404, code: parrain.CodeNotFound},
			{name: "decide under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/partners/" + applied.ID + "/decision", idem: "d6", body: `{"approve":true}`, status: 404, code: parrain.CodeNotFound},
			{name: "onboarding unknown step", method: "POST", path: base + "/partners/" + approved.ID + "/onboarding", body: `{"step":"golf","done":true}`, status: 400, code: parrain.CodeInvalid, field: "step"},
			{name: "onboarding bad status", method: "POST", path: base + "/partners/" + approved.ID + "/onboarding", body: `{"status":"retired"}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "onboarding unknown partner", method: "POST", path: base + "/partners/prt_nope/onboarding", body: `{"step":"kickoff","done":true}`, status: 404, code: parrain.CodeNotFound},
			{name: "list bad status", method: "GET", path: base + "/partners?status=gold", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "list bad limit", method: "GET", path: base + "/partners?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "get unknown", method: "GET", path: base + "/partners/prt_nope", status: 404, code: parrain.CodeNotFound},
			{name: "get under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/partners/" + applied.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: base + "/partners/" + applied.ID, status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestPartnerLeads(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.partnerProgram(p.ID)
		ina, bea := e.invite(p.ID, "ina@partner.example"), e.invite(p.ID, "bea@partner.example")
		lead := `{"company_name":"Acme Inc.","company_domain":"https://www.acme.com","contact_email":"jane@acme.com","company_size":200,"consent":true}`

		var res leadAnswer
		w := e.ok(http.StatusCreated, "POST", base+"/partners/"+ina.ID+"/leads", "l1", lead, &res)
		if res.Decision.Outcome != parrain.OutcomeAccepted || res.Lead == nil || res.Lead.Domain != "acme.com" || res.Error != nil || res.DecisionID == "" ||
			w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("registered %+v", res)
		}
		w = e.ok(http.StatusCreated, "POST", base+"/partners/"+ina.ID+"/leads", "l1", lead, &res)
		if w.Header().Get("Idempotent-Replayed") != "true" {
			t.Error("replay not flagged")
		}
		leadID := res.Lead.ID
		// Another partner: refused with 409 and an error object.
		var taken leadAnswer
		e.ok(http.StatusConflict, "POST", base+"/partners/"+bea.ID+"/leads", "l2", strings.Replace(lead, "Acme Inc.", "ACME", 1), &taken)
		if taken.Decision.Reason != parrain.ReasonOwnedByOther || taken.Error == nil || taken.Error.Code != parrain.CodeConflict || taken.Lead != nil {
			t.Errorf("taken %+v", taken)
		}
		// Too small: 400 with the field.
		var small leadAnswer
		e.ok(http.StatusBadRequest, "POST", base+"/partners/"+bea.ID+"/leads", "l3", `{"company_name":"Tiny","company_domain":"tiny.example","company_size":3,"consent":true}`, &small)
		if small.Decision.Reason != parrain.ReasonNotQualified || small.Error == nil || small.Error.Code != parrain.CodeInvalid || small.Error.Field != "company_size" {
			t.Errorf("small %+v", small)
		}
		// An excluded account: 409.
		var x parrain.Exclusion
		e.ok(http.StatusCreated, "POST", base+"/partner-exclusions", "x1", `{"kind":"named_account","domain":"globex.com","reason":"strategic"}`, &x)
		if x.ID == "" || x.Domain != "globex.com" {
			t.Fatalf("exclusion %+v", x)
		}
		var excluded leadAnswer
		e.ok(http.StatusConflict, "POST", base+"/partners/"+bea.ID+"/leads", "l4", `{"company_name":"Globex","company_domain":"globex.com","company_size":500,"consent":true}`, &excluded)
		if excluded.Decision.Reason != parrain.ReasonExcluded {
			t.Errorf("excluded %+v", excluded)
		}
		var check parrain.Decision
		e.ok(http.StatusOK, "GET", base+"/account-check?domain=acme.com", "", "", &check)
		if check.Holder == nil {
			t.Errorf("account check %+v", check)
		}
		var clear parrain.Decision
		e.ok(http.StatusOK, "GET", base+"/account-check?domain=initech.example", "", "", &clear)
		if clear.Outcome != parrain.OutcomeClear || clear.Holder != nil || clear.Exclusion != nil {
			t.Errorf("clear account %+v", clear)
		}
		var decisions List[store.PartnerDecision]
		e.ok(http.StatusOK, "GET", base+"/partner-decisions?domain=acme.com", "", "", &decisions)
		if len(decisions.Data) < 2 {
			t.Errorf("decisions %+v", decisions.Data)
		}

		// Stages, extension, lists.
		var moved partner.DealMoveResult
		e.ok(http.StatusOK, "POST", base+"/leads/"+leadID+"/stage", "m1", `{"stage":"demo_booked"}`, &moved)
		if moved.Lead.Stage != "demo_booked" {
			t.Errorf("moved %+v", moved.Lead)
		}
		var ext parrain.Decision
		e.ok(http.StatusOK, "POST", base+"/leads/"+leadID+"/extend", "e1", `{"days":30}`, &ext)
		if ext.ExpiresAt == nil || !ext.ExpiresAt.After(res.Lead.ExpiresAt) {
			t.Errorf("extended %+v", ext)
		}
		var full struct {
			parrain.Lead
			Stages []parrain.StageChange `json:"stages"`
		}
		e.ok(http.StatusOK, "GET", base+"/leads/"+leadID, "", "", &full)
		if full.ID != leadID || len(full.Stages) < 2 {
			t.Errorf("lead %+v", full)
		}
		var leads List[parrain.Lead]
		e.ok(http.StatusOK, "GET", base+"/leads?partner="+ina.ID, "", "", &leads)
		if len(leads.Data) != 1 {
			t.Errorf("ina's leads %+v", leads.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/leads?partner="+bea.ID, "", "", &leads)
		if len(leads.Data) != 0 {
			t.Errorf("bea's leads %+v", leads.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/leads?stage=demo_booked", "", "", &leads)
		if len(leads.Data) != 1 {
			t.Errorf("demo_booked leads %+v", leads.Data)
		}
		var exts List[store.Extension]
		e.ok(http.StatusOK, "GET", base+"/partner-extensions?status=pending", "", "", &exts)
		var xs List[parrain.Exclusion]
		e.ok(http.StatusOK, "GET", base+"/partner-exclusions", "", "", &xs)
		if len(xs.Data) != 1 {
			t.Errorf("exclusions %+v", xs.Data)
		}
		if w := e.call("", "DELETE", base+"/partner-exclusions/"+x.ID, "", ""); w.Code != http.StatusNoContent {
			t.Errorf("delete exclusion: %d %s", w.Code, w.Body)
		}
		var kpis partner.KPIReport
		e.ok(http.StatusOK, "GET", base+"/partner-kpis", "", "", &kpis)
		e.ok(http.StatusOK, "GET", base+"/partner-kpis?from=2026-01-01&to=2026-12-31T00:00:00Z", "", "", &kpis)

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead}, "")
		e.checkErrors(t, []errCase{
			{name: "register without idempotency key", method: "POST", path: base + "/partners/" + ina.ID + "/leads", body: lead, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "register unknown field", method: "POST", path: base + "/partners/" + ina.ID + "/leads", idem: "l9", body: `{"company":"x"}`, status: 400, code: parrain.CodeInvalid, field: "company"},
			{name: "register same key other body", method: "POST", path: base + "/partners/" + ina.ID + "/leads", idem: "l1", body: strings.Replace(lead, "200", "300", 1), status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "register unknown partner", method: "POST", path: base + "/partners/prt_nope/leads", idem: "l10", body: lead, status: 404, code: parrain.CodeNotFound},
			{name: "register read-only", key: readOnly, method: "POST", path: base + "/partners/" + ina.ID + "/leads", idem: "l11", body: lead, status: 403, code: parrain.CodeForbidden},
			{name: "register other program", key: restricted, method: "POST", path: base + "/partners/" + ina.ID + "/leads", idem: "l12", body: lead, status: 404, code: parrain.CodeNotFound},
			{name: "move unknown stage", method: "POST", path: base + "/leads/" + leadID + "/stage", idem: "m2", body: `{"stage":"party"}`, status: 400, code: parrain.CodeInvalid, field: "stage"},
			{name: "close won without value", method: "POST", path: base + "/leads/" + leadID + "/stage", idem: "m3", body: `{"stage":"closed_won"}`, status: 400, code: parrain.CodeInvalid, field: "value"},
			{name: "move unknown lead", method: "POST", path: base + "/leads/led_nope/stage", idem: "m4", body: `{"stage":"demo_booked"}`, status: 404, code: parrain.CodeNotFound},
			{name: "move under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/leads/" + leadID + "/stage", idem: "m5", body: `{"stage":"demo_booked"}`, status: 404, code: parrain.CodeNotFound},
			{name: "move read-only", key: readOnly, method: "POST", path: base + "/leads/" + leadID + "/stage", idem: "m6", body: `{"stage":"poc"}`, status: 403, code: parrain.CodeForbidden},
			{name: "extend zero days", method: "POST", path: base + "/leads/" + leadID + "/extend", idem: "e2", body: `{"days":0}`, status: 400, code: parrain.CodeInvalid, field: "days"},
			{name: "extend unknown lead", method: "POST", path: base + "/leads/led_nope/extend", idem: "e3", body: `{"days":30}`, status: 404, code: parrain.CodeNotFound},
			{name: "extend events-only key", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/leads/" + leadID + "/extend", idem: "e4", body: `{"days":30}`, status: 403, code: parrain.CodeForbidden},
			{name: "get unknown lead", method: "GET", path: base + "/leads/led_nope", status: 404, code: parrain.CodeNotFound},
			{name: "get lead under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/leads/" + leadID, status: 404, code: parrain.CodeNotFound},
			{name: "leads bad limit", method: "GET", path: base + "/leads?limit=abc", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "decide unknown extension", method: "POST", path: base + "/partner-extensions/ext_nope/decision", idem: "x2", body: `{"grant":true}`, status: 404, code: parrain.CodeNotFound},
			{name: "decide extension without grant", method: "POST", path: base + "/partner-extensions/ext_nope/decision", idem: "x3", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "grant"},
			{name: "exclusion bad kind", method: "POST", path: base + "/partner-exclusions", idem: "x4", body: `{"kind":"enemy","domain":"x.com"}`, status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "exclusion server fields", method: "POST", path: base + "/partner-exclusions", idem: "x5", body: `{"id":"exc_1","kind":"customer","domain":"x.com"}`, status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "exclusion without idempotency key", method: "POST", path: base + "/partner-exclusions", body: `{"kind":"customer","domain":"x.com"}`, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "exclusion read-only", key: readOnly, method: "POST", path: base + "/partner-exclusions", idem: "x6", body: `{"kind":"customer","domain":"x.com"}`, status: 403, code: parrain.CodeForbidden},
			{name: "delete exclusion again", method: "DELETE", path: base + "/partner-exclusions/" + x.ID, status: 404, code: parrain.CodeNotFound},
			{name: "decisions bad limit", method: "GET", path: base + "/partner-decisions?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "kpis bad from", method: "GET", path: base + "/partner-kpis?from=Q1", status: 400, code: parrain.CodeInvalid, field: "from"},
			{name: "kpis to before from", method: "GET", path: base + "/partner-kpis?from=2026-06-01&to=2026-01-01", status: 400, code: parrain.CodeInvalid, field: "to"},
			{name: "account check other program", key: restricted, method: "GET", path: base + "/account-check?domain=acme.com", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestPartnerAssetsAndSurveys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.partnerProgram(p.ID)
		content := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 one pager"))
		var a store.Asset
		w := e.ok(http.StatusCreated, "POST", base+"/partner-assets", "a1", `{"title":"One pager","kind":"one_pager","filename":"acme.pdf","content":"`+content+`","min_tier":"reseller"}`, &a)
		if a.ID == "" || a.Title != "One pager" || a.Size != int64(len("%PDF-1.4 one pager")) || a.MinTier != "reseller" || len(a.Content) != 0 ||
			w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("asset %+v", a)
		}
		var assets List[store.Asset]
		e.ok(http.StatusOK, "GET", base+"/partner-assets", "", "", &assets)
		if len(assets.Data) != 1 || assets.Data[0].Downloads != 0 {
			t.Errorf("assets %+v", assets.Data)
		}
		var sv store.Survey
		e.ok(http.StatusCreated, "POST", base+"/partner-surveys", "s1", `{"title":"Q4","questions":["How likely are you to recommend us?"],"period_days":90}`, &sv)
		if sv.ID == "" || len(sv.Questions) != 1 || !sv.Active {
			t.Fatalf("survey %+v", sv)
		}
		var answers List[store.SurveyAnswer]
		e.ok(http.StatusOK, "GET", base+"/partner-surveys/"+sv.ID+"/answers", "", "", &answers)
		if len(answers.Data) != 0 {
			t.Errorf("answers %+v", answers.Data)
		}
		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "asset bad kind", method: "POST", path: base + "/partner-assets", idem: "a2", body: `{"title":"x","kind":"poster","filename":"x.pdf","content":"` + content + `"}`, status: 400, code: parrain.CodeInvalid, field: "kind"},
			{name: "asset without content", method: "POST", path: base + "/partner-assets", idem: "a3", body: `{"title":"x","kind":"other","filename":"x.pdf"}`, status: 400, code: parrain.CodeInvalid, field: "content"},
			{name: "asset bad base64", method: "POST", path: base + "/partner-assets", idem: "a4", body: `{"title":"x","kind":"other","filename":"x.pdf","content":"!!!"}`, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "asset unknown tier", method: "POST", path: base + "/partner-assets", idem: "a5", body: `{"title":"x","kind":"other","filename":"x.pdf","content":"` + content + `","min_tier":"gold"}`, status: 400, code: parrain.CodeInvalid, field: "min_tier"},
			{name: "asset without idempotency key", method: "POST", path: base + "/partner-assets", body: `{"title":"x","kind":"other","filename":"x.pdf","content":"` + content + `"}`, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "asset too large", method: "POST", path: base + "/partner-assets", idem: "a6", body: `{"title":"x","kind":"other","filename":"x.pdf","content":"` + strings.Repeat("A", int(partner.MaxAssetSize*2)) + `"}`, status: 413, code: parrain.CodeTooLarge},
			{name: "asset read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/partner-assets", idem: "a7", body: `{}`, status: 403, code: parrain.CodeForbidden},
			{name: "survey without questions", method: "POST", path: base + "/partner-surveys", idem: "s2", body: `{"title":"x","questions":[]}`, status: 400, code: parrain.CodeInvalid, field: "questions"},
			{name: "survey without title", method: "POST", path: base + "/partner-surveys", idem: "s3", body: `{"questions":["q"]}`, status: 400, code: parrain.CodeInvalid, field: "title"},
			{name: "survey same key other body", method: "POST", path: base + "/partner-surveys", idem: "s1", body: `{"title":"Q1","questions":["q"]}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "answers of unknown survey", method: "GET", path: base + "/partner-surveys/srv_nope/answers", status: 404, code: parrain.CodeNotFound},
			{name: "answers under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/partner-surveys/" + sv.ID + "/answers", status: 404, code: parrain.CodeNotFound},
			{name: "assets other program", key: e.keyFor(nil, other.ID), method: "GET", path: base + "/partner-assets", status: 404, code: parrain.CodeNotFound},
		})
	})
}
