package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/inbound"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
)

// routes registers the API's routes on the env's mux exactly as
// internal/app/routes.go does (same patterns, scopes and handlers); the
// widget, portal and console routes belong to other packages.
func (e *env) routes() {
	a := e.a
	handle := func(pattern string, h http.HandlerFunc) { e.mux.HandleFunc(pattern, h) }

	handle("POST /api/v1/programs", a.Auth(store.ScopeAdmin, a.CreateProgram))
	handle("GET /api/v1/programs", a.Auth(store.ScopeRead, a.ListPrograms))
	handle("GET /api/v1/audit-log", a.Auth(store.ScopeAdmin, a.AuditLog))
	handle("GET /api/v1/programs/{program_id}", a.Auth(store.ScopeRead, a.GetProgram))
	handle("PATCH /api/v1/programs/{program_id}", a.Auth(store.ScopeAdmin, a.UpdateProgram))
	handle("PUT /api/v1/programs/{program_id}/participants/{external_id}", a.Auth(store.ScopeEvents, a.UpsertParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}", a.Auth(store.ScopeRead, a.GetParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/rewards", a.Auth(store.ScopeRead, a.ParticipantRewards))
	handle("POST /api/v1/programs/{program_id}/events", a.Auth(store.ScopeEvents, a.CreateEvent))
	handle("GET /api/v1/programs/{program_id}/referrals", a.Auth(store.ScopeRead, a.ListReferrals))
	handle("GET /api/v1/programs/{program_id}/rewards/{reward_id}", a.Auth(store.ScopeRead, a.GetRewardExplained))

	rp := a.Reports(report.New(e.st))
	handle("GET /api/v1/programs/{program_id}/kpis", a.Auth(store.ScopeRead, rp.KPIs))
	handle("GET /api/v1/programs/{program_id}/participants", a.Auth(store.ScopeRead, rp.ListParticipants))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/report", a.Auth(store.ScopeRead, rp.AdvocateReport))
	handle("POST /api/v1/programs/{program_id}/imports", a.Auth(store.ScopeAdmin, rp.CreateImport))
	handle("GET /api/v1/programs/{program_id}/imports/{import_id}", a.Auth(store.ScopeRead, rp.GetImport))

	handle("PUT /api/v1/programs/{program_id}", a.Auth(store.ScopeAdmin, a.ReplaceProgram))
	handle("GET /api/v1/programs/{program_id}/versions", a.Auth(store.ScopeRead, a.ListProgramVersions))
	handle("GET /api/v1/programs/{program_id}/rewards", a.Auth(store.ScopeRead, a.ListProgramRewards))
	handle("POST /api/v1/programs/{program_id}/rewards/{reward_id}/review", a.Auth(store.ScopeAdmin, a.ReviewReward))
	handle("POST /api/v1/programs/{program_id}/rewards/{reward_id}/reinstate", a.Auth(store.ScopeAdmin, a.ReinstateReward))
	handle("POST /api/v1/programs/{program_id}/dry-run", a.Auth(store.ScopeRead, a.DryRun))
	handle("POST /api/v1/programs/{program_id}/replay", a.Auth(store.ScopeRead, a.Replay))
	handle("GET /api/v1/programs/{program_id}/terms", a.Auth(store.ScopeRead, a.GetTerms))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/terms", a.Auth(store.ScopeRead, a.ListTermsAcceptances))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/terms", a.Auth(store.ScopeEvents, a.AcceptTerms))
	handle("POST /api/v1/programs/{program_id}/contests", a.Auth(store.ScopeAdmin, a.CreateContest))
	handle("GET /api/v1/programs/{program_id}/contests", a.Auth(store.ScopeRead, a.ListContests))
	handle("GET /api/v1/programs/{program_id}/contests/{contest_id}", a.Auth(store.ScopeRead, a.GetContest))
	handle("GET /api/v1/programs/{program_id}/contests/{contest_id}/leaderboard", a.Auth(store.ScopeRead, a.ContestLeaderboard))
	handle("POST /api/v1/programs/{program_id}/coupon-pools", a.Auth(store.ScopeAdmin, a.CreateCouponPool))
	handle("GET /api/v1/programs/{program_id}/coupon-pools", a.Auth(store.ScopeRead, a.ListCouponPools))
	handle("POST /api/v1/programs/{program_id}/coupon-pools/{pool}/codes", a.Auth(store.ScopeAdmin, a.ImportCodes))
	handle("GET /api/v1/programs/{program_id}/alerts", a.Auth(store.ScopeRead, a.ListAlerts))
	handle("GET /api/v1/public/contests/{contest_id}/leaderboard", a.PublicLeaderboard)
	handle("GET /terms/{program_id}", a.TermsPage)

	handle("GET /api/v1/fraud/signals", a.Auth(store.ScopeRead, a.FraudSignals))
	handle("GET /api/v1/programs/{program_id}/fraud/policy", a.Auth(store.ScopeRead, a.GetFraudPolicy))
	handle("PUT /api/v1/programs/{program_id}/fraud/policy", a.Auth(store.ScopeAdmin, a.PutFraudPolicy))
	handle("GET /api/v1/programs/{program_id}/fraud/stats", a.Auth(store.ScopeRead, a.FraudStats))
	handle("GET /api/v1/programs/{program_id}/reviews", a.Auth(store.ScopeRead, a.ListReviews))
	handle("POST /api/v1/programs/{program_id}/referrals/{referral_id}/review", a.Auth(store.ScopeAdmin, a.ReviewReferral))

	handle("POST /api/v1/programs/{program_id}/widget-secret", a.Auth(store.ScopeAdmin, a.RotateWidgetSecret))
	handle("POST /api/v1/programs/{program_id}/widget-tokens", a.Auth(store.ScopeEvents, a.MintWidgetToken))
	handle("GET /api/v1/programs/{program_id}/experience", a.Auth(store.ScopeRead, a.GetExperience))
	handle("PUT /api/v1/programs/{program_id}/experience", a.Auth(store.ScopeAdmin, a.PutExperience))
	handle("GET /api/v1/programs/{program_id}/share-stats", a.Auth(store.ScopeRead, a.ShareStats))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/notifications", a.Auth(store.ScopeRead, a.ParticipantNotifications))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/notifications/read", a.Auth(store.ScopeEvents, a.MarkNotificationsRead))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/consents", a.Auth(store.ScopeRead, a.ListConsents))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/consents", a.Auth(store.ScopeEvents, a.RecordConsent))
	handle("POST /api/v1/programs/{program_id}/experiments", a.Auth(store.ScopeAdmin, a.CreateExperiment))
	handle("GET /api/v1/programs/{program_id}/experiments", a.Auth(store.ScopeRead, a.ListExperiments))
	handle("GET /api/v1/programs/{program_id}/experiments/{experiment_id}", a.Auth(store.ScopeRead, a.GetExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/start", a.Auth(store.ScopeAdmin, a.StartExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/stop", a.Auth(store.ScopeAdmin, a.StopExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/promote", a.Auth(store.ScopeAdmin, a.PromoteExperiment))
	handle("GET /api/v1/programs/{program_id}/experiments/{experiment_id}/results", a.Auth(store.ScopeRead, a.ExperimentResults))
	handle("POST /api/v1/programs/{program_id}/triggers", a.Auth(store.ScopeAdmin, a.CreateTrigger))
	handle("GET /api/v1/programs/{program_id}/triggers", a.Auth(store.ScopeRead, a.ListTriggers))
	handle("GET /api/v1/programs/{program_id}/triggers/{trigger_id}", a.Auth(store.ScopeRead, a.GetTrigger))
	handle("PUT /api/v1/programs/{program_id}/triggers/{trigger_id}", a.Auth(store.ScopeAdmin, a.PutTrigger))
	handle("DELETE /api/v1/programs/{program_id}/triggers/{trigger_id}", a.Auth(store.ScopeAdmin, a.DeleteTrigger))
	handle("GET /api/v1/programs/{program_id}/triggers/{trigger_id}/firings", a.Auth(store.ScopeRead, a.ListFirings))
	handle("GET /api/v1/programs/{program_id}/emails", a.Auth(store.ScopeRead, a.ListEmails))
	handle("GET /api/v1/programs/{program_id}/email-templates", a.Auth(store.ScopeRead, a.ListEmailTemplates))
	handle("GET /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", a.Auth(store.ScopeRead, a.GetEmailTemplate))
	handle("PUT /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", a.Auth(store.ScopeAdmin, a.PutEmailTemplate))
	handle("DELETE /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", a.Auth(store.ScopeAdmin, a.DeleteEmailTemplate))

	handle("PUT /api/v1/programs/{program_id}/participants/{external_id}/payout-account", a.Auth(store.ScopeEvents, a.SetPayoutAccount))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/payout-account", a.Auth(store.ScopeRead, a.GetPayoutAccount))
	handle("DELETE /api/v1/programs/{program_id}/participants/{external_id}/payout-account", a.Auth(store.ScopeEvents, a.DeletePayoutAccount))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/payouts", a.Auth(store.ScopeRead, a.ParticipantPayouts))
	handle("GET /api/v1/programs/{program_id}/payout-settings", a.Auth(store.ScopeRead, a.GetPayoutSettings))
	handle("PUT /api/v1/programs/{program_id}/payout-settings", a.Auth(store.ScopeAdmin, a.SetPayoutSettings))
	handle("POST /api/v1/programs/{program_id}/payout-batches", a.Auth(store.ScopeAdmin, a.CreatePayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payout-batches", a.Auth(store.ScopeRead, a.ListPayoutBatches))
	handle("GET /api/v1/programs/{program_id}/payout-batches/{batch_id}", a.Auth(store.ScopeRead, a.GetPayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/approve", a.Auth(store.ScopeAdmin, a.ApprovePayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/cancel", a.Auth(store.ScopeAdmin, a.CancelPayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payout-batches/{batch_id}/export.csv", a.Auth(store.ScopeAdmin, a.ExportPayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/import", a.Auth(store.ScopeAdmin, a.ImportPayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payouts", a.Auth(store.ScopeRead, a.ListPayouts))
	handle("GET /api/v1/programs/{program_id}/payouts/{payout_id}", a.Auth(store.ScopeRead, a.GetPayout))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/mark-paid", a.Auth(store.ScopeAdmin, a.MarkPayoutPaid))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/mark-failed", a.Auth(store.ScopeAdmin, a.MarkPayoutFailed))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/cancel", a.Auth(store.ScopeAdmin, a.CancelPayout))

	hk := a.Integrations(inbound.New(e.st, a.ref, slog.New(slog.DiscardHandler), inbound.Config{}), outbound.NewService(e.st), false)
	handle("GET /api/v1/programs/{program_id}/inbound-events", a.Auth(store.ScopeRead, hk.ListInboundEvents))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints", a.Auth(store.ScopeAdmin, hk.CreateWebhookEndpoint))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints", a.Auth(store.ScopeRead, hk.ListWebhookEndpoints))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", a.Auth(store.ScopeRead, hk.GetWebhookEndpoint))
	handle("PATCH /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", a.Auth(store.ScopeAdmin, hk.UpdateWebhookEndpoint))
	handle("DELETE /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", a.Auth(store.ScopeAdmin, hk.DeleteWebhookEndpoint))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/rotate-secret", a.Auth(store.ScopeAdmin, hk.RotateWebhookSecret))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries", a.Auth(store.ScopeRead, hk.ListWebhookDeliveries))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}", a.Auth(store.ScopeRead, hk.GetWebhookDelivery))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", a.Auth(store.ScopeAdmin, hk.ReplayWebhookDelivery))
	handle("GET /api/v1/programs/{program_id}/crm", a.Auth(store.ScopeRead, hk.GetCRM))
	handle("PUT /api/v1/programs/{program_id}/crm", a.Auth(store.ScopeAdmin, hk.SetCRM))
	handle("DELETE /api/v1/programs/{program_id}/crm", a.Auth(store.ScopeAdmin, hk.DeleteCRM))

	const pp = "/api/v1/programs/{program_id}/"
	handle("GET "+pp+"partner-program", a.Auth(store.ScopeRead, a.GetPartnerProgram))
	handle("PUT "+pp+"partner-program", a.Auth(store.ScopeAdmin, a.PutPartnerProgram))
	handle("GET "+pp+"partners", a.Auth(store.ScopeRead, a.ListPartners))
	handle("POST "+pp+"partners", a.Auth(store.ScopeAdmin, a.InvitePartner))
	handle("GET "+pp+"partners/{partner_id}", a.Auth(store.ScopeRead, a.GetPartner))
	handle("POST "+pp+"partners/{partner_id}/decision", a.Auth(store.ScopeAdmin, a.DecidePartner))
	handle("POST "+pp+"partners/{partner_id}/onboarding", a.Auth(store.ScopeAdmin, a.SetPartnerOnboarding))
	handle("POST "+pp+"partners/{partner_id}/leads", a.Auth(store.ScopeEvents, a.RegisterLead))
	handle("GET "+pp+"leads", a.Auth(store.ScopeRead, a.ListLeads))
	handle("GET "+pp+"leads/{lead_id}", a.Auth(store.ScopeRead, a.GetLead))
	handle("POST "+pp+"leads/{lead_id}/stage", a.Auth(store.ScopeEvents, a.MoveDeal))
	handle("POST "+pp+"leads/{lead_id}/extend", a.Auth(store.ScopeAdmin, a.ExtendLead))
	handle("GET "+pp+"partner-extensions", a.Auth(store.ScopeRead, a.ListExtensions))
	handle("POST "+pp+"partner-extensions/{extension_id}/decision", a.Auth(store.ScopeAdmin, a.DecideExtension))
	handle("GET "+pp+"account-check", a.Auth(store.ScopeRead, a.CheckAccount))
	handle("GET "+pp+"partner-exclusions", a.Auth(store.ScopeRead, a.ListExclusions))
	handle("POST "+pp+"partner-exclusions", a.Auth(store.ScopeAdmin, a.AddExclusion))
	handle("DELETE "+pp+"partner-exclusions/{exclusion_id}", a.Auth(store.ScopeAdmin, a.DeleteExclusion))
	handle("GET "+pp+"partner-decisions", a.Auth(store.ScopeRead, a.ListPartnerDecisions))
	handle("GET "+pp+"partner-kpis", a.Auth(store.ScopeRead, a.PartnerKPIs))
	handle("GET "+pp+"partner-assets", a.Auth(store.ScopeRead, a.ListAssets))
	handle("POST "+pp+"partner-assets", a.Auth(store.ScopeAdmin, a.CreateAsset))
	handle("POST "+pp+"partner-surveys", a.Auth(store.ScopeAdmin, a.CreateSurvey))
	handle("GET "+pp+"partner-surveys/{survey_id}/answers", a.Auth(store.ScopeRead, a.SurveyAnswers))
}

// keyFor creates an API key holding scopes (nil: all), restricted to
// programID unless it is empty, and returns its secret.
func (e *env) keyFor(scopes []string, programID string) string {
	e.t.Helper()
	k, _, err := access.New(e.st, nil, access.Config{}).CreateAPIKey(context.Background(), "key-"+programID, scopes, programID)
	if err != nil {
		e.t.Fatalf("create key: %v", err)
	}
	return k
}

// call serves a request with key (the env's key when empty) and an
// Idempotency-Key when idemKey is set.
func (e *env) call(key, method, path, idemKey, body string) *httptest.ResponseRecorder {
	hdr := map[string]string{}
	if key != "" {
		hdr["Authorization"] = "Bearer " + key
	}
	if idemKey != "" {
		hdr["Idempotency-Key"] = idemKey
	}
	return e.do(method, path, hdr, body)
}

// ok serves a request with the env's key, fails unless it answers status,
// and decodes the answer into out (when not nil).
func (e *env) ok(status int, method, path, idemKey, body string, out any) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.call("", method, path, idemKey, body)
	if w.Code != status {
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, status)
	}
	if out != nil {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: decoding %s: %v", method, path, w.Body, err)
		}
	}
	return w
}

// errCase is a request expected to fail with a JSON error.
type errCase struct {
	name, key, method, path, idem, body string
	status                              int
	code                                parrain.Code
	field                               string
}

// checkErrors runs each case as a subtest: the answer must be the JSON
// error named, with a message.
func (e *env) checkErrors(t *testing.T, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := e.call(c.key, c.method, c.path, c.idem, c.body)
			var body httpx.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%d: not a JSON error: %v: %s", w.Code, err, w.Body)
			}
			if w.Code != c.status || body.Error.Code != c.code || body.Error.Field != c.field || body.Error.Message == "" {
				t.Errorf("%s %s: got %d %+v, want %d %s field %q", c.method, c.path, w.Code, body.Error, c.status, c.code, c.field)
			}
		})
	}
}

// participant upserts a participant and returns it.
func (e *env) participant(programID, externalID string) ParticipantView {
	e.t.Helper()
	var v ParticipantView
	w := e.call("", "PUT", "/api/v1/programs/"+programID+"/participants/"+externalID, "", `{"email":"`+externalID+`@example.com","name":"`+externalID+` Martin"}`)
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || (w.Code != http.StatusCreated && w.Code != http.StatusOK) {
		e.t.Fatalf("upsert %s: %d %s %v", externalID, w.Code, w.Body, err)
	}
	return v
}

// event reports an event and returns its result.
func (e *env) event(programID, idemKey, body string) parrain.EventResult {
	e.t.Helper()
	var res parrain.EventResult
	e.ok(http.StatusCreated, "POST", "/api/v1/programs/"+programID+"/events", idemKey, body, &res)
	return res
}

// decodeBody decodes a recorded JSON answer.
func decodeBody(w *httptest.ResponseRecorder, v any) error {
	return json.Unmarshal(w.Body.Bytes(), v)
}
