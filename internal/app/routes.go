package app

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/report"
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
		mux.Handle(pattern, m.edge(pattern, public, h))
		list = append(list, Route{Pattern: pattern, Public: public})
	}
	a := m.api

	// Public.
	handle("GET /r/{code}", true, m.redirect)
	handle("GET /healthz", true, http.HandlerFunc(m.health))
	handle("GET /api/v1/openapi.json", true, http.HandlerFunc(api.OpenAPI))
	handle("GET /api/docs", true, http.HandlerFunc(api.Reference))

	// JSON API v1 (API key with scope).
	handle("POST /api/v1/programs", false, a.Auth(store.ScopeAdmin, a.CreateProgram))
	handle("GET /api/v1/programs", false, a.Auth(store.ScopeRead, a.ListPrograms))
	handle("GET /api/v1/audit-log", false, a.Auth(store.ScopeAdmin, a.AuditLog))
	handle("GET /api/v1/programs/{program_id}", false, a.Auth(store.ScopeRead, a.GetProgram))
	handle("PATCH /api/v1/programs/{program_id}", false, a.Auth(store.ScopeAdmin, a.UpdateProgram))
	handle("PUT /api/v1/programs/{program_id}/participants/{external_id}", false, a.Auth(store.ScopeEvents, a.UpsertParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}", false, a.Auth(store.ScopeRead, a.GetParticipant))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/rewards", false, a.Auth(store.ScopeRead, a.ParticipantRewards))
	// Personal-data rights (docs/privacy.md): export and erasure.
	pv := a.Privacy(m.privacy)
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/export", false, a.Auth(store.ScopeAdmin, pv.Export))
	handle("DELETE /api/v1/programs/{program_id}/participants/{external_id}", false, a.Auth(store.ScopeAdmin, pv.Erase))
	handle("POST /api/v1/programs/{program_id}/events", false, a.Auth(store.ScopeEvents, a.CreateEvent))
	handle("GET /api/v1/programs/{program_id}/referrals", false, a.Auth(store.ScopeRead, a.ListReferrals))
	handle("GET /api/v1/programs/{program_id}/rewards/{reward_id}", false, a.Auth(store.ScopeRead, a.GetRewardExplained))

	// Reports and imports (docs/api.md): the program's KPIs, the participant
	// list, the per-advocate report, bulk imports of existing customers.
	rp := a.Reports(report.New(m.st))
	handle("GET /api/v1/programs/{program_id}/kpis", false, a.Auth(store.ScopeRead, rp.KPIs))
	handle("GET /api/v1/programs/{program_id}/participants", false, a.Auth(store.ScopeRead, rp.ListParticipants))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/report", false, a.Auth(store.ScopeRead, rp.AdvocateReport))
	handle("POST /api/v1/programs/{program_id}/imports", false, a.Auth(store.ScopeAdmin, rp.CreateImport))
	handle("GET /api/v1/programs/{program_id}/imports/{import_id}", false, a.Auth(store.ScopeRead, rp.GetImport))

	// Reward engine: versions, rewards and their review, dry runs and
	// replays, terms, contests, code pools, alerts (docs/rewards.md).
	handle("PUT /api/v1/programs/{program_id}", false, a.Auth(store.ScopeAdmin, a.ReplaceProgram))
	handle("GET /api/v1/programs/{program_id}/versions", false, a.Auth(store.ScopeRead, a.ListProgramVersions))
	handle("GET /api/v1/programs/{program_id}/rewards", false, a.Auth(store.ScopeRead, a.ListProgramRewards))
	handle("POST /api/v1/programs/{program_id}/rewards/{reward_id}/review", false, a.Auth(store.ScopeAdmin, a.ReviewReward))
	handle("POST /api/v1/programs/{program_id}/rewards/{reward_id}/reinstate", false, a.Auth(store.ScopeAdmin, a.ReinstateReward))
	handle("POST /api/v1/programs/{program_id}/dry-run", false, a.Auth(store.ScopeRead, a.DryRun))
	handle("POST /api/v1/programs/{program_id}/replay", false, a.Auth(store.ScopeRead, a.Replay))
	handle("GET /api/v1/programs/{program_id}/terms", false, a.Auth(store.ScopeRead, a.GetTerms))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/terms", false, a.Auth(store.ScopeRead, a.ListTermsAcceptances))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/terms", false, a.Auth(store.ScopeEvents, a.AcceptTerms))
	handle("POST /api/v1/programs/{program_id}/contests", false, a.Auth(store.ScopeAdmin, a.CreateContest))
	handle("GET /api/v1/programs/{program_id}/contests", false, a.Auth(store.ScopeRead, a.ListContests))
	handle("GET /api/v1/programs/{program_id}/contests/{contest_id}", false, a.Auth(store.ScopeRead, a.GetContest))
	handle("GET /api/v1/programs/{program_id}/contests/{contest_id}/leaderboard", false, a.Auth(store.ScopeRead, a.ContestLeaderboard))
	handle("POST /api/v1/programs/{program_id}/coupon-pools", false, a.Auth(store.ScopeAdmin, a.CreateCouponPool))
	handle("GET /api/v1/programs/{program_id}/coupon-pools", false, a.Auth(store.ScopeRead, a.ListCouponPools))
	handle("POST /api/v1/programs/{program_id}/coupon-pools/{pool}/codes", false, a.Auth(store.ScopeAdmin, a.ImportCodes))
	handle("GET /api/v1/programs/{program_id}/alerts", false, a.Auth(store.ScopeRead, a.ListAlerts))
	handle("GET /api/v1/public/contests/{contest_id}/leaderboard", true, http.HandlerFunc(a.PublicLeaderboard))
	handle("GET /terms/{program_id}", true, http.HandlerFunc(a.TermsPage))

	// Fraud: policy, review queue, per-signal statistics.
	handle("GET /api/v1/fraud/signals", false, a.Auth(store.ScopeRead, a.FraudSignals))
	handle("GET /api/v1/programs/{program_id}/fraud/policy", false, a.Auth(store.ScopeRead, a.GetFraudPolicy))
	handle("PUT /api/v1/programs/{program_id}/fraud/policy", false, a.Auth(store.ScopeAdmin, a.PutFraudPolicy))
	handle("GET /api/v1/programs/{program_id}/fraud/stats", false, a.Auth(store.ScopeRead, a.FraudStats))
	handle("GET /api/v1/programs/{program_id}/reviews", false, a.Auth(store.ScopeRead, a.ListReviews))
	handle("POST /api/v1/programs/{program_id}/referrals/{referral_id}/review", false, a.Auth(store.ScopeAdmin, a.ReviewReferral))

	// Advocate and friend experience (docs/integration.md): the snippet, the
	// widget page and its token-authenticated API, the landing page's consent
	// form (cross-origin protected), refer-by-name, unsubscribe.
	wg := m.widgets
	handle("GET /js/parrain.js", true, http.HandlerFunc(wg.Snippet))
	handle("GET /widget", true, http.HandlerFunc(wg.WidgetPage))
	handle("GET /widget/assets/{file}", true, http.HandlerFunc(wg.Asset))
	handle("POST /r/{code}", true, http.NewCrossOriginProtection().Handler(http.HandlerFunc(wg.Landing().Submit)))
	handle("GET /u/{token}", true, http.HandlerFunc(wg.Unsubscribe))
	handle("POST /u/{token}", true, http.HandlerFunc(wg.UnsubscribePost))
	handle("GET /api/v1/widget/me", true, http.HandlerFunc(wg.MeHandler))
	handle("POST /api/v1/widget/shares", true, http.HandlerFunc(wg.ShareHandler))
	handle("POST /api/v1/widget/invites", true, http.HandlerFunc(wg.InviteHandler))
	handle("GET /api/v1/widget/notifications", true, http.HandlerFunc(wg.NotificationsHandler))
	handle("POST /api/v1/widget/notifications/read", true, http.HandlerFunc(wg.MarkReadHandler))
	handle("POST /api/v1/widget/lookup", true, http.HandlerFunc(wg.LookupHandler))
	handle("GET /api/v1/widget/payout-account", true, http.HandlerFunc(wg.PayoutAccountHandler))
	handle("PUT /api/v1/widget/payout-account", true, http.HandlerFunc(wg.SetPayoutAccountHandler))
	handle("POST /api/v1/widget/privacy", true, wg.PrivacyHandler(m.privacy))
	handle("OPTIONS /api/v1/widget/{path...}", true, http.HandlerFunc(wg.Preflight))
	handle("POST /api/v1/programs/{program_id}/widget-secret", false, a.Auth(store.ScopeAdmin, a.RotateWidgetSecret))
	handle("POST /api/v1/programs/{program_id}/widget-tokens", false, a.Auth(store.ScopeEvents, a.MintWidgetToken))
	handle("GET /api/v1/programs/{program_id}/experience", false, a.Auth(store.ScopeRead, a.GetExperience))
	handle("PUT /api/v1/programs/{program_id}/experience", false, a.Auth(store.ScopeAdmin, a.PutExperience))
	handle("GET /api/v1/programs/{program_id}/share-stats", false, a.Auth(store.ScopeRead, a.ShareStats))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/notifications", false, a.Auth(store.ScopeRead, a.ParticipantNotifications))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/notifications/read", false, a.Auth(store.ScopeEvents, a.MarkNotificationsRead))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/consents", false, a.Auth(store.ScopeRead, a.ListConsents))
	handle("POST /api/v1/programs/{program_id}/participants/{external_id}/consents", false, a.Auth(store.ScopeEvents, a.RecordConsent))
	handle("POST /api/v1/programs/{program_id}/triggers", false, a.Auth(store.ScopeAdmin, a.CreateTrigger))
	handle("GET /api/v1/programs/{program_id}/triggers", false, a.Auth(store.ScopeRead, a.ListTriggers))
	handle("GET /api/v1/programs/{program_id}/triggers/{trigger_id}", false, a.Auth(store.ScopeRead, a.GetTrigger))
	handle("PUT /api/v1/programs/{program_id}/triggers/{trigger_id}", false, a.Auth(store.ScopeAdmin, a.PutTrigger))
	handle("DELETE /api/v1/programs/{program_id}/triggers/{trigger_id}", false, a.Auth(store.ScopeAdmin, a.DeleteTrigger))
	handle("GET /api/v1/programs/{program_id}/triggers/{trigger_id}/firings", false, a.Auth(store.ScopeRead, a.ListFirings))
	handle("POST /api/v1/programs/{program_id}/experiments", false, a.Auth(store.ScopeAdmin, a.CreateExperiment))
	handle("GET /api/v1/programs/{program_id}/experiments", false, a.Auth(store.ScopeRead, a.ListExperiments))
	handle("GET /api/v1/programs/{program_id}/experiments/{experiment_id}", false, a.Auth(store.ScopeRead, a.GetExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/start", false, a.Auth(store.ScopeAdmin, a.StartExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/stop", false, a.Auth(store.ScopeAdmin, a.StopExperiment))
	handle("POST /api/v1/programs/{program_id}/experiments/{experiment_id}/promote", false, a.Auth(store.ScopeAdmin, a.PromoteExperiment))
	handle("GET /api/v1/programs/{program_id}/experiments/{experiment_id}/results", false, a.Auth(store.ScopeRead, a.ExperimentResults))
	handle("GET /api/v1/programs/{program_id}/emails", false, a.Auth(store.ScopeRead, a.ListEmails))
	handle("GET /api/v1/programs/{program_id}/email-templates", false, a.Auth(store.ScopeRead, a.ListEmailTemplates))
	handle("GET /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", false, a.Auth(store.ScopeRead, a.GetEmailTemplate))
	handle("PUT /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", false, a.Auth(store.ScopeAdmin, a.PutEmailTemplate))
	handle("DELETE /api/v1/programs/{program_id}/email-templates/{kind}/{locale}", false, a.Auth(store.ScopeAdmin, a.DeleteEmailTemplate))

	// Payouts (docs/payouts.md): accounts, settings, runs, batches, CSV.
	handle("PUT /api/v1/programs/{program_id}/participants/{external_id}/payout-account", false, a.Auth(store.ScopeEvents, a.SetPayoutAccount))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/payout-account", false, a.Auth(store.ScopeRead, a.GetPayoutAccount))
	handle("DELETE /api/v1/programs/{program_id}/participants/{external_id}/payout-account", false, a.Auth(store.ScopeEvents, a.DeletePayoutAccount))
	handle("GET /api/v1/programs/{program_id}/participants/{external_id}/payouts", false, a.Auth(store.ScopeRead, a.ParticipantPayouts))
	handle("GET /api/v1/programs/{program_id}/payout-settings", false, a.Auth(store.ScopeRead, a.GetPayoutSettings))
	handle("PUT /api/v1/programs/{program_id}/payout-settings", false, a.Auth(store.ScopeAdmin, a.SetPayoutSettings))
	handle("POST /api/v1/programs/{program_id}/payout-batches", false, a.Auth(store.ScopeAdmin, a.CreatePayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payout-batches", false, a.Auth(store.ScopeRead, a.ListPayoutBatches))
	handle("GET /api/v1/programs/{program_id}/payout-batches/{batch_id}", false, a.Auth(store.ScopeRead, a.GetPayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/approve", false, a.Auth(store.ScopeAdmin, a.ApprovePayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/cancel", false, a.Auth(store.ScopeAdmin, a.CancelPayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payout-batches/{batch_id}/export.csv", false, a.Auth(store.ScopeAdmin, a.ExportPayoutBatch))
	handle("POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/import", false, a.Auth(store.ScopeAdmin, a.ImportPayoutBatch))
	handle("GET /api/v1/programs/{program_id}/payouts", false, a.Auth(store.ScopeRead, a.ListPayouts))
	handle("GET /api/v1/programs/{program_id}/payouts/{payout_id}", false, a.Auth(store.ScopeRead, a.GetPayout))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/mark-paid", false, a.Auth(store.ScopeAdmin, a.MarkPayoutPaid))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/mark-failed", false, a.Auth(store.ScopeAdmin, a.MarkPayoutFailed))
	handle("POST /api/v1/programs/{program_id}/payouts/{payout_id}/cancel", false, a.Auth(store.ScopeAdmin, a.CancelPayout))

	// Integrations (docs/integrations.md): provider webhooks in (signature
	// verified), webhook endpoints out, CRM sync.
	hk := m.hooks
	handle("POST /webhooks/stripe", true, http.HandlerFunc(hk.StripeWebhook))
	handle("POST /webhooks/shopify", true, http.HandlerFunc(hk.ShopifyWebhook))
	handle("GET /api/v1/programs/{program_id}/inbound-events", false, a.Auth(store.ScopeRead, hk.ListInboundEvents))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints", false, a.Auth(store.ScopeAdmin, hk.CreateWebhookEndpoint))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints", false, a.Auth(store.ScopeRead, hk.ListWebhookEndpoints))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", false, a.Auth(store.ScopeRead, hk.GetWebhookEndpoint))
	handle("PATCH /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", false, a.Auth(store.ScopeAdmin, hk.UpdateWebhookEndpoint))
	handle("DELETE /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}", false, a.Auth(store.ScopeAdmin, hk.DeleteWebhookEndpoint))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/rotate-secret", false, a.Auth(store.ScopeAdmin, hk.RotateWebhookSecret))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries", false, a.Auth(store.ScopeRead, hk.ListWebhookDeliveries))
	handle("GET /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}", false, a.Auth(store.ScopeRead, hk.GetWebhookDelivery))
	handle("POST /api/v1/programs/{program_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", false, a.Auth(store.ScopeAdmin, hk.ReplayWebhookDelivery))
	handle("GET /api/v1/programs/{program_id}/crm", false, a.Auth(store.ScopeRead, hk.GetCRM))
	handle("PUT /api/v1/programs/{program_id}/crm", false, a.Auth(store.ScopeAdmin, hk.SetCRM))
	handle("DELETE /api/v1/programs/{program_id}/crm", false, a.Auth(store.ScopeAdmin, hk.DeleteCRM))

	// Partner program (issue 6; docs/partners.md): settings and tiers,
	// partners, lead registration with exclusivity, the direct team's
	// account check, exclusions, extensions, deal stages, assets, surveys,
	// KPIs. Then the partner portal under /partners (its own sign-in).
	m.partnerRoutes(handle, mux)

	// Admin console: see adminRoutes below.
	m.adminRoutes(mux)

	// Operations: /readyz, /metrics and / leading to the console
	// (observe.go).
	m.opsRoutes(mux)

	return mux, list
}

// bodyCaps lists the routes whose bodies may be larger than httpx.MaxBody
// (1 MiB), with their cap (docs/security.md). Every other route accepts
// 1 MiB, and the forms strangers post (public pages outside the API)
// httpx.MaxForm (64 KiB).
var bodyCaps = map[string]int64{
	// Provider webhooks: a Shopify order with many lines, a Stripe invoice
	// with its expanded lines.
	"POST /webhooks/stripe":  4 << 20,
	"POST /webhooks/shopify": 4 << 20,
	// The bank's CSV of a payout batch.
	"POST /api/v1/programs/{program_id}/payout-batches/{batch_id}/import": 8 << 20,
	// A file of existing customers to import (streamed).
	"POST /api/v1/programs/{program_id}/imports": referral.MaxImportBytes,
	"POST /admin/imports":                        referral.MaxImportBytes,
	// A partner asset, base64 in JSON.
	"POST /api/v1/programs/{program_id}/partner-assets": 2 * partner.MaxAssetSize,
}

// edge puts a route behind the checks every request passes before its
// handler (httpx.Guard: body cap, text of path values, query and form
// fields) and, for public routes, behind the per-IP rate limit, which
// answers first so that refused clients cost nothing. Errors of API and
// webhook routes are JSON bodies; pages and forms get plain text.
func (m *Main) edge(pattern string, public bool, h http.Handler) http.Handler {
	_, path, _ := strings.Cut(pattern, " ")
	isAPI := strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/")
	limit, ok := bodyCaps[pattern]
	if !ok && public && !isAPI {
		limit = httpx.MaxForm
	}
	h = httpx.Guard{Pattern: pattern, MaxBody: limit, JSON: isAPI, Log: m.log}.Wrap(h)
	if public {
		h = m.limiter.wrap(h)
	}
	return h
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

// adminRoutes registers the admin console under /admin. Each page is
// wrapped by Require(role, …), which admits a signed-in user holding at
// least that role (analyst < manager < owner) and, on writes, checks the
// session's CSRF token and the request's origin; Guest pages are for
// visitors (sign-in, first-run setup). The routes are listed in
// m.AdminRoutes (the route × role test covers each one), not in the API's
// OpenAPI document.
func (m *Main) adminRoutes(mux *http.ServeMux) {
	c := m.console
	admin := func(pattern string, public bool, h http.Handler) {
		mux.Handle(pattern, m.edge(pattern, public, h))
		m.AdminRoutes = append(m.AdminRoutes, Route{Pattern: pattern, Public: public})
	}
	analyst, manager, owner := parrain.UserRoleAnalyst, parrain.UserRoleManager, parrain.UserRoleOwner

	// Visitors: assets, sign-in, the one-time setup.
	admin("GET /admin/static/{file}", true, c.Static())
	admin("GET /admin/login", true, c.Guest(c.LoginPage))
	admin("POST /admin/login", true, c.Guest(c.Login))
	admin("GET /admin/setup", true, c.Guest(c.SetupPage))
	admin("POST /admin/setup", true, c.Guest(c.Setup))

	// Every signed-in user: their account and sessions.
	admin("POST /admin/logout", false, c.Require(analyst, c.Logout))
	admin("GET /admin/account", false, c.Require(analyst, c.Account))
	admin("POST /admin/account/password", false, c.Require(analyst, c.ChangePassword))
	admin("POST /admin/account/sign-out-everywhere", false, c.Require(analyst, c.LogoutEverywhere))

	// Overview: KPIs, chart, top advocates, alerts.
	admin("GET /admin/{$}", false, c.Require(analyst, c.Overview))
	admin("GET /admin/overview.csv", false, c.Require(analyst, c.OverviewCSV))
	admin("GET /admin/kpis.csv", false, c.Require(analyst, c.KPIsCSV))
	admin("GET /admin/jobs", false, c.Require(analyst, c.Jobs))

	// Programs.
	admin("GET /admin/programs", false, c.Require(analyst, c.Programs))
	admin("GET /admin/programs/new", false, c.Require(manager, c.NewProgram))
	admin("POST /admin/programs", false, c.Require(manager, c.CreateProgram))
	admin("POST /admin/programs/preview", false, c.Require(manager, c.PreviewProgram))
	admin("GET /admin/programs/{id}", false, c.Require(analyst, c.Program))
	admin("GET /admin/programs/{id}/edit", false, c.Require(manager, c.EditProgram))
	admin("POST /admin/programs/{id}", false, c.Require(manager, c.UpdateProgram))
	admin("POST /admin/programs/{id}/status", false, c.Require(manager, c.SetProgramStatus))

	// Experiments (docs/experiments.md): setup, live results, start/stop/promote.
	admin("GET /admin/experiments", false, c.Require(analyst, c.Experiments))
	admin("POST /admin/experiments", false, c.Require(manager, c.CreateExperiment))
	admin("POST /admin/experiments/{id}/{action}", false, c.Require(manager, c.ExperimentAction))

	// Participants, referrals, fraud review, rewards, audit log.
	admin("GET /admin/participants", false, c.Require(analyst, c.Participants))
	admin("GET /admin/participants/{id}", false, c.Require(analyst, c.Participant))
	// Reports and imports: participants CSV, per-advocate report, revenue
	// and rewards cost per day, shares by channel, bulk imports.
	admin("GET /admin/participants.csv", false, c.Require(analyst, c.ParticipantsCSV))
	admin("GET /admin/participants/{id}/report", false, c.Require(analyst, c.AdvocateReport))
	admin("GET /admin/participants/{id}/report.csv", false, c.Require(analyst, c.AdvocateReportCSV))
	admin("GET /admin/reports", false, c.Require(analyst, c.Reports))
	admin("GET /admin/reports.csv", false, c.Require(analyst, c.ReportsCSV))
	admin("GET /admin/imports", false, c.Require(analyst, c.Imports))
	admin("POST /admin/imports", false, c.Require(manager, c.CreateImport))
	admin("GET /admin/imports/{id}", false, c.Require(analyst, c.Import))
	admin("GET /admin/imports/{id}/rejected.csv", false, c.Require(analyst, c.ImportRejectedCSV))
	admin("GET /admin/participants/{id}/export", false, c.Require(manager, c.ExportParticipant))
	admin("POST /admin/participants/{id}/do-not-sell", false, c.Require(manager, c.SetDoNotSell))
	admin("POST /admin/participants/{id}/erase", false, c.Require(owner, c.EraseParticipant))
	admin("GET /admin/referrals", false, c.Require(analyst, c.Referrals))
	admin("GET /admin/referrals.csv", false, c.Require(analyst, c.ReferralsCSV))
	admin("POST /admin/referrals/bulk", false, c.Require(manager, c.BulkReferrals))
	admin("GET /admin/reviews", false, c.Require(analyst, c.Reviews))
	admin("POST /admin/reviews/{id}/clear", false, c.Require(manager, c.ClearReview))
	admin("POST /admin/reviews/{id}/reject", false, c.Require(manager, c.RejectReview))
	admin("GET /admin/rewards", false, c.Require(analyst, c.Rewards))
	admin("GET /admin/rewards.csv", false, c.Require(analyst, c.RewardsCSV))
	admin("POST /admin/rewards/bulk", false, c.Require(manager, c.BulkRewards))
	admin("GET /admin/rewards/{id}", false, c.Require(analyst, c.Reward))
	admin("POST /admin/rewards/{id}/approve", false, c.Require(manager, c.ApproveReward))
	admin("POST /admin/rewards/{id}/reject", false, c.Require(manager, c.RejectReward))
	admin("POST /admin/rewards/{id}/reinstate", false, c.Require(manager, c.ReinstateReward))
	admin("GET /admin/audit", false, c.Require(analyst, c.Audit))
	// The partner program (docs/console.md, Partners): account check,
	// KPIs, applications, leads and deals.
	admin("GET /admin/partners", false, c.Require(analyst, c.Partners))
	admin("GET /admin/partners/kpis.csv", false, c.Require(analyst, c.PartnerKPIsCSV))
	admin("POST /admin/partners/{id}/approve", false, c.Require(manager, c.ApprovePartner))
	admin("POST /admin/partners/{id}/reject", false, c.Require(manager, c.RejectPartner))
	admin("GET /admin/partners/deals", false, c.Require(analyst, c.Deals))
	admin("POST /admin/partners/deals/{id}/stage", false, c.Require(manager, c.MoveDealStage))

	// Payouts: runs on demand, batch approval.
	admin("GET /admin/payouts", false, c.Require(analyst, c.Payouts))
	admin("POST /admin/payouts", false, c.Require(manager, c.RunPayouts))
	admin("POST /admin/payouts/{id}/approve", false, c.Require(manager, c.ApprovePayouts))
	admin("POST /admin/payouts/{id}/cancel", false, c.Require(manager, c.CancelPayouts))

	// Settings.
	admin("GET /admin/settings", false, c.Require(analyst, c.Settings))
	admin("GET /admin/settings/users", false, c.Require(owner, c.Users))
	admin("POST /admin/settings/users", false, c.Require(owner, c.CreateUser))
	admin("POST /admin/settings/users/{id}/role", false, c.Require(owner, c.SetUserRole))
	admin("POST /admin/settings/users/{id}/disable", false, c.Require(owner, c.DisableUser))
	admin("POST /admin/settings/users/{id}/enable", false, c.Require(owner, c.EnableUser))
	admin("POST /admin/settings/users/{id}/sign-out", false, c.Require(owner, c.SignOutUser))
	admin("GET /admin/settings/api-keys", false, c.Require(owner, c.APIKeys))
	admin("POST /admin/settings/api-keys", false, c.Require(owner, c.CreateAPIKey))
	admin("POST /admin/settings/api-keys/{id}/revoke", false, c.Require(owner, c.RevokeAPIKey))
	admin("POST /admin/settings/api-keys/{id}/rate-limit", false, c.Require(owner, c.SetAPIKeyRateLimit))
	admin("GET /admin/settings/branding", false, c.Require(analyst, c.Branding))
	admin("POST /admin/settings/branding", false, c.Require(manager, c.SetBranding))
	admin("GET /admin/settings/email", false, c.Require(analyst, c.EmailSender))
	admin("POST /admin/settings/email", false, c.Require(manager, c.SetEmailSender))
	admin("GET /admin/settings/webhooks", false, c.Require(analyst, c.Webhooks))
	admin("POST /admin/settings/webhooks", false, c.Require(manager, c.CreateWebhook))
	admin("POST /admin/settings/webhooks/{id}/delete", false, c.Require(manager, c.DeleteWebhook))
	admin("POST /admin/settings/webhooks/{id}/deliveries/{delivery}/replay", false, c.Require(manager, c.ReplayWebhook))
	// Program settings (docs/console.md, Settings): each form calls the use
	// case its API route calls.
	admin("GET /admin/settings/experience", false, c.Require(analyst, c.Experience))
	admin("POST /admin/settings/experience", false, c.Require(manager, c.SetExperience))
	admin("GET /admin/settings/fraud", false, c.Require(analyst, c.FraudPolicy))
	admin("POST /admin/settings/fraud", false, c.Require(manager, c.SetFraudPolicy))
	admin("GET /admin/settings/payouts", false, c.Require(analyst, c.PayoutSettings))
	admin("POST /admin/settings/payouts", false, c.Require(manager, c.SetPayoutSettings))
	admin("GET /admin/settings/email-templates", false, c.Require(analyst, c.EmailTemplates))
	admin("POST /admin/settings/email-templates", false, c.Require(manager, c.SetEmailTemplate))
	admin("GET /admin/settings/email-log", false, c.Require(analyst, c.EmailLog))
	admin("GET /admin/settings/partner-program", false, c.Require(analyst, c.PartnerProgramSettings))
	admin("POST /admin/settings/partner-program", false, c.Require(manager, c.SetPartnerProgram))
	admin("GET /admin/settings/coupon-pools", false, c.Require(analyst, c.CouponPools))
	admin("POST /admin/settings/coupon-pools", false, c.Require(manager, c.CreateCouponPool))
	admin("POST /admin/settings/coupon-pools/codes", false, c.Require(manager, c.ImportCouponCodes))

	// Anything else under /admin/: a console 404 page.
	admin("GET /admin/", false, c.Require(analyst, c.NotFound))
}

// partnerRoutes registers the partner program's API and the partner portal.
// Portal pages are wrapped by Public (visitors: apply, sign-in; writes pass
// the cross-origin check) or Private (a partner's session of this program,
// CSRF token on writes); visitor pages are rate-limited.
//
// Portal routes are listed in m.PortalRoutes, not in the API's OpenAPI
// document.
func (m *Main) partnerRoutes(handle func(string, bool, http.Handler), mux *http.ServeMux) {
	a, p := m.api, m.portal
	const pp = "/api/v1/programs/{program_id}/"
	handle("GET "+pp+"partner-program", false, a.Auth(store.ScopeRead, a.GetPartnerProgram))
	handle("PUT "+pp+"partner-program", false, a.Auth(store.ScopeAdmin, a.PutPartnerProgram))
	handle("GET "+pp+"partners", false, a.Auth(store.ScopeRead, a.ListPartners))
	handle("POST "+pp+"partners", false, a.Auth(store.ScopeAdmin, a.InvitePartner))
	handle("GET "+pp+"partners/{partner_id}", false, a.Auth(store.ScopeRead, a.GetPartner))
	handle("POST "+pp+"partners/{partner_id}/decision", false, a.Auth(store.ScopeAdmin, a.DecidePartner))
	handle("POST "+pp+"partners/{partner_id}/onboarding", false, a.Auth(store.ScopeAdmin, a.SetPartnerOnboarding))
	handle("POST "+pp+"partners/{partner_id}/leads", false, a.Auth(store.ScopeEvents, a.RegisterLead))
	handle("GET "+pp+"leads", false, a.Auth(store.ScopeRead, a.ListLeads))
	handle("GET "+pp+"leads/{lead_id}", false, a.Auth(store.ScopeRead, a.GetLead))
	handle("POST "+pp+"leads/{lead_id}/stage", false, a.Auth(store.ScopeEvents, a.MoveDeal))
	handle("POST "+pp+"leads/{lead_id}/extend", false, a.Auth(store.ScopeAdmin, a.ExtendLead))
	handle("GET "+pp+"partner-extensions", false, a.Auth(store.ScopeRead, a.ListExtensions))
	handle("POST "+pp+"partner-extensions/{extension_id}/decision", false, a.Auth(store.ScopeAdmin, a.DecideExtension))
	handle("GET "+pp+"account-check", false, a.Auth(store.ScopeRead, a.CheckAccount))
	handle("GET "+pp+"partner-exclusions", false, a.Auth(store.ScopeRead, a.ListExclusions))
	handle("POST "+pp+"partner-exclusions", false, a.Auth(store.ScopeAdmin, a.AddExclusion))
	handle("DELETE "+pp+"partner-exclusions/{exclusion_id}", false, a.Auth(store.ScopeAdmin, a.DeleteExclusion))
	handle("GET "+pp+"partner-decisions", false, a.Auth(store.ScopeRead, a.ListPartnerDecisions))
	handle("GET "+pp+"partner-kpis", false, a.Auth(store.ScopeRead, a.PartnerKPIs))
	handle("GET "+pp+"partner-assets", false, a.Auth(store.ScopeRead, a.ListAssets))
	handle("POST "+pp+"partner-assets", false, a.Auth(store.ScopeAdmin, a.CreateAsset))
	handle("POST "+pp+"partner-surveys", false, a.Auth(store.ScopeAdmin, a.CreateSurvey))
	handle("GET "+pp+"partner-surveys/{survey_id}/answers", false, a.Auth(store.ScopeRead, a.SurveyAnswers))

	// Partner portal.
	handle = func(pattern string, public bool, h http.Handler) {
		mux.Handle(pattern, m.edge(pattern, public, h))
		m.PortalRoutes = append(m.PortalRoutes, Route{Pattern: pattern, Public: public})
	}
	handle("GET /partner-static/{file}", true, p.Static())
	handle("GET /partners/{slug}/apply", true, p.Public(p.ApplyPage))
	handle("POST /partners/{slug}/apply", true, p.Public(p.Apply))
	handle("GET /partners/{slug}/login", true, p.Public(p.LoginPage))
	handle("POST /partners/{slug}/login", true, p.Public(p.Login))
	handle("POST /partners/{slug}/magic", true, p.Public(p.SendMagicLink))
	handle("GET /partners/{slug}/magic/{token}", true, p.Public(p.MagicLink))
	handle("POST /partners/{slug}/logout", false, p.Private(p.Logout))
	handle("GET /partners/{slug}/{$}", false, p.Private(p.Dashboard))
	handle("GET /partners/{slug}/leads/new", false, p.Private(p.NewLeadPage))
	handle("GET /partners/{slug}/leads/check", false, p.Private(p.CheckLead))
	handle("POST /partners/{slug}/leads", false, p.Private(p.RegisterLead))
	handle("POST /partners/{slug}/leads/{lead_id}/extension", false, p.Private(p.RequestExtension))
	handle("GET /partners/{slug}/assets", false, p.Private(p.Assets))
	handle("GET /partners/{slug}/assets/{asset_id}", false, p.Private(p.DownloadAsset))
	handle("POST /partners/{slug}/agreement", false, p.Private(p.AcceptAgreement))
	handle("POST /partners/{slug}/onboarding", false, p.Private(p.Onboarding))
	handle("POST /partners/{slug}/password", false, p.Private(p.SetPassword))
	handle("GET /partners/{slug}/payout", false, p.Private(p.PayoutPage))
	handle("POST /partners/{slug}/payout", false, p.Private(p.SetPayout))
	handle("POST /partners/{slug}/survey", false, p.Private(p.AnswerSurvey))
}
