package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/hubspot/hubspottest"
	"github.com/parrainhq/parrain/internal/parrain"
	pay "github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// auditStep is one API request of TestAuditLogAPIActions and the audit
// entry it must leave: action "" for a request that must leave none (a
// data-plane write, a replay, a refused write).
type auditStep struct {
	name   string
	method string
	path   func() string
	idem   string
	body   func() any
	status int
	// action, targetType and target (read from the answer, or from earlier
	// answers) name the entry; program is its program (the first program
	// when empty).
	action, targetType string
	target             func(answer map[string]any) string
	program            func() string
}

// auditRun holds the answers of the steps run so far, by step name.
type auditRun map[string]map[string]any

func (r auditRun) str(step string, path ...string) string {
	var v any = r[step]
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

func fixed(s string) func() string { return func() string { return s } }

// TestAuditLogAPIActions performs every audited action of the API once
// under one API key, with data-plane writes, an idempotent replay and
// refused writes in between, and checks the audit log holds exactly one
// entry per action, in order, naming the key.
func TestAuditLogAPIActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		hs := hubspottest.New()
		defer hs.Close()
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
		defer hook.Close()
		cfg := testConfig(url)
		cfg.Integrations = IntegrationsConfig{HubSpotToken: hubspottest.Token, HubSpotAPIURL: hs.URL, WebhooksAllowPrivate: true}
		// The account is deleted and set again before the runs: without a
		// cooling-off they pay it at once (the hold has its own tests).
		cfg.PayoutCoolingOff = new(time.Duration)
		h := newHarness(t, cfg)
		ctx := context.Background()
		key, err := access.New(h.m.Store(), nil, access.Config{}).AuthenticateAPIKey(ctx, h.key)
		if err != nil {
			t.Fatal(err)
		}

		run := auditRun{}
		var prog, b2b string
		p := func() string { return "/api/v1/programs/" + prog }
		pb := func() string { return "/api/v1/programs/" + b2b }
		self := func(a map[string]any) string { s, _ := a["id"].(string); return s }
		program := func(map[string]any) string { return prog }
		body := func(v any) func() any { return func() any { return v } }
		path := func(f func() string, tail string) func() string { return func() string { return f() + tail } }
		programDoc := map[string]any{"name": "Audited", "landing_url": "https://shop.example/", "currency": "EUR", "hold_days": 0,
			"rules": []map[string]any{{"trigger": "purchase", "advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 1500}}}}
		renamed := map[string]any{}
		for k, v := range programDoc {
			renamed[k] = v
		}
		renamed["name"] = "Audited, renamed"
		batch := func(n int) []auditStep {
			b := fmt.Sprintf("batch%d", n)
			return []auditStep{
				{name: b, method: "POST", path: path(p, "/payout-batches"), idem: b, status: 201, action: pay.AuditPayoutBatchCreated, targetType: "payout_batch", target: self},
				{name: b + " approve", method: "POST", path: func() string { return p() + "/payout-batches/" + run.str(b, "id") + "/approve" }, status: 200,
					action: pay.AuditPayoutBatchApproved, targetType: "payout_batch", target: self},
				{name: b + " payouts", method: "GET", path: func() string { return p() + "/payouts?batch=" + run.str(b, "id") }, status: 200},
			}
		}
		payout := func(n int) func() string {
			return func() string { return run.str(fmt.Sprintf("batch%d payouts", n), "data", "0", "id") }
		}
		steps := []auditStep{
			{name: "program", method: "POST", path: fixed("/api/v1/programs"), idem: "prog-1", body: body(programDoc), status: 201,
				action: store.AuditProgramCreated, targetType: "program", target: self},
			{name: "program replayed", method: "POST", path: fixed("/api/v1/programs"), idem: "prog-1", body: body(programDoc), status: 201},
			{name: "program refused", method: "POST", path: fixed("/api/v1/programs"), body: body(map[string]any{"name": "x", "landing_url": "https://x.example", "currency": "EURO"}), status: 400},
			{name: "pause", method: "PATCH", path: p, body: body(map[string]any{"status": "paused"}), status: 200,
				action: store.AuditProgramPaused, targetType: "program", target: program},
			{name: "resume", method: "PATCH", path: p, body: body(map[string]any{"status": "active"}), status: 200,
				action: store.AuditProgramResumed, targetType: "program", target: program},
			{name: "replace", method: "PUT", path: p, idem: "put-1", body: body(renamed), status: 200,
				action: store.AuditProgramUpdated, targetType: "program", target: program},
			{name: "replace replayed", method: "PUT", path: p, idem: "put-1", body: body(renamed), status: 200},
			{name: "replace unchanged", method: "PUT", path: p, idem: "put-2", body: body(renamed), status: 200},
			{name: "fraud policy", method: "PUT", path: path(p, "/fraud/policy"), body: body(map[string]any{"flag_at": 20, "hold_at": 40, "reject_at": 80}), status: 200,
				action: store.AuditFraudPolicyUpdated, targetType: "program", target: program},
			{name: "fraud policy refused", method: "PUT", path: path(p, "/fraud/policy"), body: body(map[string]any{"flag_at": 10, "hold_at": 5, "reject_at": 80}), status: 400},
			{name: "contest", method: "POST", path: path(p, "/contests"), body: body(map[string]any{"name": "November", "starts_at": "2026-11-01T00:00:00Z",
				"ends_at": "2026-12-01T00:00:00Z", "prizes": []map[string]any{{"rank": 1, "reward": map[string]any{"kind": "cash", "amount": 100}}}}), status: 201,
				action: store.AuditContestCreated, targetType: "contest", target: self},
			{name: "pool", method: "POST", path: path(p, "/coupon-pools"), body: body(map[string]any{"name": "spring"}), status: 201,
				action: store.AuditCouponPoolCreated, targetType: "coupon_pool", target: self},
			{name: "codes", method: "POST", path: path(p, "/coupon-pools/spring/codes"), body: body(map[string]any{"codes": []string{"SPRING-1", "SPRING-2"}}), status: 201,
				action: store.AuditCouponCodesImported, targetType: "coupon_pool", target: func(map[string]any) string { return run.str("pool", "id") }},
			{name: "widget secret", method: "POST", path: path(p, "/widget-secret"), status: 201,
				action: store.AuditWidgetSecretRotated, targetType: "program", target: program},
			{name: "experience", method: "PUT", path: path(p, "/experience"), body: body(map[string]any{"landing_page": true, "sender_name": "Acme"}), status: 200,
				action: store.AuditExperienceUpdated, targetType: "program", target: program},
			{name: "email template", method: "PUT", path: path(p, "/email-templates/welcome/fr"),
				body: body(map[string]any{"subject": "Bienvenue {{.FirstName}}", "text": "Lien : {{.Link}}\n{{.UnsubscribeURL}}"}), status: 200,
				action: store.AuditEmailTemplateUpdated, targetType: "email_template", target: func(map[string]any) string { return "welcome/fr" }},
			{name: "email template deleted", method: "DELETE", path: path(p, "/email-templates/welcome/fr"), status: 204,
				action: store.AuditEmailTemplateDeleted, targetType: "email_template", target: func(map[string]any) string { return "welcome/fr" }},
			{name: "trigger", method: "POST", path: path(p, "/triggers"), body: body(map[string]any{"name": "Promoters", "event": "nps", "effects": []string{"notification"}}), status: 201,
				action: store.AuditTriggerCreated, targetType: "trigger", target: self},
			{name: "trigger updated", method: "PUT", path: func() string { return p() + "/triggers/" + run.str("trigger", "id") }, body: body(map[string]any{"event": "rating", "min_score": 4}), status: 200,
				action: store.AuditTriggerUpdated, targetType: "trigger", target: self},
			{name: "trigger deleted", method: "DELETE", path: func() string { return p() + "/triggers/" + run.str("trigger", "id") }, status: 204,
				action: store.AuditTriggerDeleted, targetType: "trigger", target: func(map[string]any) string { return run.str("trigger", "id") }},
			{name: "endpoint", method: "POST", path: path(p, "/webhook-endpoints"), body: func() any { return map[string]any{"url": hook.URL, "event_types": []string{"*"}} }, status: 201,
				action: store.AuditWebhookCreated, targetType: "webhook_endpoint", target: self},
			{name: "endpoint updated", method: "PATCH", path: func() string { return p() + "/webhook-endpoints/" + run.str("endpoint", "id") }, body: body(map[string]any{"description": "shop"}), status: 200,
				action: store.AuditWebhookUpdated, targetType: "webhook_endpoint", target: self},
			{name: "endpoint rotated", method: "POST", path: func() string { return p() + "/webhook-endpoints/" + run.str("endpoint", "id") + "/rotate-secret" }, status: 200,
				action: store.AuditWebhookSecretRotated, targetType: "webhook_endpoint", target: self},
			// Data plane: a participant, a referred purchase (its reward is
			// approved at once, hold 0), consents, terms: not audited.
			{name: "alice", method: "PUT", path: path(p, "/participants/alice"), body: body(map[string]any{"email": "alice@example.com", "name": "Alice"}), status: 201},
			{name: "purchase", method: "POST", path: path(p, "/events"), idem: "buy-1", body: func() any {
				return map[string]any{"type": "purchase", "external_id": "bob", "referral_code": run.str("alice", "code"), "order_id": "o1", "amount": 5000, "currency": "EUR"}
			}, status: 201},
			{name: "consent", method: "POST", path: path(p, "/participants/alice/consents"), body: body(map[string]any{"granted": true, "wording": "Yes, email me", "wording_version": "v1"}), status: 201},
			{name: "deliveries", method: "GET", path: func() string { return p() + "/webhook-endpoints/" + run.str("endpoint", "id") + "/deliveries" }, status: 200},
			{name: "replay", method: "POST", path: func() string {
				return p() + "/webhook-endpoints/" + run.str("endpoint", "id") + "/deliveries/" + run.str("deliveries", "data", "0", "id") + "/replay"
			}, status: 202, action: store.AuditWebhookReplayed, targetType: "webhook_delivery", target: self},
			{name: "endpoint deleted", method: "DELETE", path: func() string { return p() + "/webhook-endpoints/" + run.str("endpoint", "id") }, status: 204,
				action: store.AuditWebhookDeleted, targetType: "webhook_endpoint", target: func(map[string]any) string { return run.str("endpoint", "id") }},
			{name: "account", method: "PUT", path: path(p, "/participants/alice/payout-account"), body: body(map[string]any{"method": "bank",
				"bank": map[string]any{"holder_name": "Alice Martin", "iban": "FR14 2004 1010 0505 0001 3M02 606", "bic": "PSSTFRPPXXX"}}), status: 200,
				action: pay.AuditPayoutAccountSet, targetType: "participant", target: func(map[string]any) string { return run.str("alice", "id") }},
			{name: "account deleted", method: "DELETE", path: path(p, "/participants/alice/payout-account"), status: 204,
				action: pay.AuditPayoutAccountDeleted, targetType: "participant", target: func(map[string]any) string { return run.str("alice", "id") }},
			{name: "account again", method: "PUT", path: path(p, "/participants/alice/payout-account"), body: body(map[string]any{"method": "bank",
				"bank": map[string]any{"holder_name": "Alice Martin", "iban": "DE89 3704 0044 0532 0130 00"}}), status: 200,
				action: pay.AuditPayoutAccountSet, targetType: "participant", target: func(map[string]any) string { return run.str("alice", "id") }},
			{name: "payout settings", method: "PUT", path: path(p, "/payout-settings"), body: body(map[string]any{"schedule": "manual", "minimum_amount": 100}), status: 200,
				action: pay.AuditPayoutSettings, targetType: "program", target: program},
			{name: "batch0", method: "POST", path: path(p, "/payout-batches"), idem: "batch0", status: 201,
				action: pay.AuditPayoutBatchCreated, targetType: "payout_batch", target: self},
			{name: "batch0 replayed", method: "POST", path: path(p, "/payout-batches"), idem: "batch0", status: 201},
			{name: "batch0 cancelled", method: "POST", path: func() string { return p() + "/payout-batches/" + run.str("batch0", "id") + "/cancel" }, status: 200,
				action: pay.AuditPayoutBatchCancelled, targetType: "payout_batch", target: self},
			{name: "batch0 cancelled again", method: "POST", path: func() string { return p() + "/payout-batches/" + run.str("batch0", "id") + "/cancel" }, status: 200},
			{name: "batch0 approve refused", method: "POST", path: func() string { return p() + "/payout-batches/" + run.str("batch0", "id") + "/approve" }, status: 409},
		}
		steps = append(steps, batch(1)...)
		steps = append(steps, auditStep{name: "payout cancelled", method: "POST", path: func() string { return p() + "/payouts/" + payout(1)() + "/cancel" }, status: 200,
			action: pay.AuditPayoutCancelled, targetType: "payout", target: self})
		steps = append(steps, batch(2)...)
		steps = append(steps, auditStep{name: "payout failed", method: "POST", path: func() string { return p() + "/payouts/" + payout(2)() + "/mark-failed" },
			body: body(map[string]any{"reason": "account closed"}), status: 200, action: pay.AuditPayoutMarkedFailed, targetType: "payout", target: self})
		steps = append(steps, batch(3)...)
		steps = append(steps, auditStep{name: "import", method: "POST", path: func() string { return p() + "/payout-batches/" + run.str("batch3", "id") + "/import" },
			body: func() any { return "payout_id,status,reason\n" + payout(3)() + ",failed,bounced\n" }, status: 200,
			action: pay.AuditPayoutMarkedFailed, targetType: "payout", target: func(map[string]any) string { return payout(3)() }})
		steps = append(steps, batch(4)...)
		steps = append(steps, []auditStep{
			{name: "payout paid", method: "POST", path: func() string { return p() + "/payouts/" + payout(4)() + "/mark-paid" },
				body: body(map[string]any{"reference": "SEPA-1"}), status: 200, action: pay.AuditPayoutMarkedPaid, targetType: "payout", target: self},
			{name: "payout paid again", method: "POST", path: func() string { return p() + "/payouts/" + payout(4)() + "/mark-paid" },
				body: body(map[string]any{"reference": "SEPA-1"}), status: 200},
			// Fraud review: a disposable email is held for review.
			{name: "anna", method: "PUT", path: path(p, "/participants/anna"), body: body(map[string]any{"email": "anna@company.example"}), status: 201},
			{name: "held signup", method: "POST", path: path(p, "/events"), idem: "s1", body: func() any {
				return map[string]any{"type": "signup", "external_id": "f1", "email": "f1@mailinator.com", "referral_code": run.str("anna", "code")}
			}, status: 201},
			{name: "referral cleared", method: "POST", path: func() string { return p() + "/referrals/" + run.str("held signup", "referral", "id") + "/review" },
				body: body(map[string]any{"decision": "clear"}), status: 200, action: store.AuditReferralCleared, targetType: "referral", target: self},
			{name: "referral cleared again", method: "POST", path: func() string { return p() + "/referrals/" + run.str("held signup", "referral", "id") + "/review" },
				body: body(map[string]any{"decision": "clear"}), status: 409},
			{name: "crm", method: "PUT", path: path(p, "/crm"), body: body(map[string]any{"provider": "hubspot"}), status: 200,
				action: store.AuditCRMConnected, targetType: "program", target: program},
			{name: "crm deleted", method: "DELETE", path: path(p, "/crm"), status: 204,
				action: store.AuditCRMDisconnected, targetType: "program", target: program},
			// The partner program.
			{name: "partner program", method: "PUT", path: path(p, "/partner-program"), body: body(map[string]any{"slug": "audited-partners",
				"tiers": []map[string]any{{"key": "referral", "name": "Referral Partner"}}}), status: 200,
				action: "partner_program.updated", targetType: "program", target: program},
			{name: "partner", method: "POST", path: path(p, "/partners"), idem: "inv-1", body: body(map[string]any{"email": "agency@partner.example", "name": "Agency"}), status: 201,
				action: "partner.invited", targetType: "partner", target: self},
			{name: "partner replayed", method: "POST", path: path(p, "/partners"), idem: "inv-1", body: body(map[string]any{"email": "agency@partner.example", "name": "Agency"}), status: 201},
			{name: "onboarding", method: "POST", path: func() string { return p() + "/partners/" + run.str("partner", "id") + "/onboarding" },
				body: body(map[string]any{"step": "kickoff", "done": true}), status: 200, action: "partner.onboarding_updated", targetType: "partner", target: self},
			{name: "suspended", method: "POST", path: func() string { return p() + "/partners/" + run.str("partner", "id") + "/onboarding" },
				body: body(map[string]any{"status": "suspended"}), status: 200, action: "partner.suspended", targetType: "partner", target: self},
			{name: "reactivated", method: "POST", path: func() string { return p() + "/partners/" + run.str("partner", "id") + "/onboarding" },
				body: body(map[string]any{"status": "active"}), status: 200, action: "partner.reactivated", targetType: "partner", target: self},
			{name: "exclusion", method: "POST", path: path(p, "/partner-exclusions"), idem: "exc-1", body: body(map[string]any{"kind": "customer", "domain": "bigco.example", "company_name": "BigCo"}), status: 201,
				action: "partner_exclusion.added", targetType: "partner_exclusion", target: self},
			{name: "exclusion deleted", method: "DELETE", path: func() string { return p() + "/partner-exclusions/" + run.str("exclusion", "id") }, status: 204,
				action: "partner_exclusion.deleted", targetType: "partner_exclusion", target: func(map[string]any) string { return run.str("exclusion", "id") }},
			{name: "asset", method: "POST", path: path(p, "/partner-assets"), idem: "asset-1", body: body(map[string]any{"title": "One pager", "kind": "one_pager", "filename": "one.pdf",
				"content": "JVBERi0xLjQK"}), status: 201, action: "partner_asset.created", targetType: "partner_asset", target: self},
			{name: "survey", method: "POST", path: path(p, "/partner-surveys"), idem: "survey-1", body: body(map[string]any{"title": "How is it going?", "questions": []string{"What works?"}}), status: 201,
				action: "partner_survey.created", targetType: "partner_survey", target: self},
			// A reward over its cap, queued for review, in a second program.
			{name: "b2b", method: "POST", path: fixed("/api/v1/programs"), body: func() any { return json.RawMessage(b2bProgram) }, status: 201,
				action: store.AuditProgramCreated, targetType: "program", target: self, program: func() string { return b2b }},
			{name: "pat", method: "PUT", path: path(pb, "/participants/pat"), body: body(map[string]any{"name": "Pat"}), status: 201},
			{name: "demo", method: "POST", path: path(pb, "/events"), idem: "b1", body: func() any {
				return map[string]any{"type": "stage", "external_id": "acme", "stage": "demo_booked", "referral_code": run.str("pat", "code")}
			}, status: 201},
			{name: "won", method: "POST", path: path(pb, "/events"), idem: "b2", body: body(map[string]any{"type": "stage", "external_id": "acme", "stage": "closed_won", "value": 2000000, "currency": "USD"}), status: 201},
			{name: "contract", method: "POST", path: path(pb, "/events"), idem: "b3", body: body(map[string]any{"type": "contract", "external_id": "acme", "value": 4000000, "currency": "USD"}), status: 201},
			{name: "reward approved", method: "POST", path: func() string { return pb() + "/rewards/" + run.str("contract", "rewards", "0", "id") + "/review" }, idem: "rv1",
				body: body(map[string]any{"decision": "approve"}), status: 200, action: store.AuditRewardApproved, targetType: "reward", target: self, program: func() string { return b2b }},
			{name: "reward approved replayed", method: "POST", path: func() string { return pb() + "/rewards/" + run.str("contract", "rewards", "0", "id") + "/review" }, idem: "rv1",
				body: body(map[string]any{"decision": "approve"}), status: 200},
		}...)

		type entry struct{ action, targetType, target, program string }
		var want []entry
		for _, s := range steps {
			var b any
			if s.body != nil {
				b = s.body()
			}
			if raw, ok := b.(json.RawMessage); ok {
				b = string(raw)
			}
			res, data := h.raw(s.method, s.path(), h.key, s.idem, b)
			if res.StatusCode != s.status {
				t.Fatalf("%s: %s %s answered %d, want %d: %s", s.name, s.method, s.path(), res.StatusCode, s.status, data)
			}
			answer := map[string]any{}
			if len(data) > 0 && data[0] == '{' {
				if err := json.Unmarshal(data, &answer); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
			}
			run[s.name] = answer
			h.drain()
			switch s.name {
			case "program":
				prog = run.str(s.name, "id")
			case "b2b":
				b2b = run.str(s.name, "id")
			}
			if s.action == "" {
				continue
			}
			pid := prog
			if s.program != nil {
				pid = s.program()
			}
			want = append(want, entry{s.action, s.targetType, s.target(run[s.name]), pid})
		}

		if len(want) < 50 {
			t.Fatalf("only %d audited steps", len(want))
		}
		var log api.List[store.AuditEntry]
		h.ok("GET", "/api/v1/audit-log?actor_type=api_key&limit=200", "", nil, &log, 200)
		var got []entry
		for i := len(log.Data) - 1; i >= 0; i-- {
			e := log.Data[i]
			if e.ActorType != string(parrain.ActorAPIKey) || e.UserID != key.ID || e.UserEmail != "test" {
				t.Errorf("entry %s by %s %s %s", e.Action, e.ActorType, e.UserID, e.UserEmail)
			}
			got = append(got, entry{e.Action, e.TargetType, e.TargetID, e.ProgramID})
		}
		for i := 0; i < len(want) || i < len(got); i++ {
			var w, g entry
			if i < len(want) {
				w = want[i]
			}
			if i < len(got) {
				g = got[i]
			}
			if w != g {
				t.Errorf("entry %d: got %+v, want %+v", i, g, w)
			}
		}
	})
}

// TestAuditLogActorsAndFilters checks who the log names beyond API keys —
// an advocate in the widget, the command line, the payout schedule as the
// system — and the log's filters: actor, actor type, since and until, and a
// key restricted to one program seeing only that program's entries.
func TestAuditLogActorsAndFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		x := newXP(t, url) // at 12:00: program.created, widget_secret.rotated by the key
		ctx := context.Background()
		key, err := access.New(x.m.Store(), nil, access.Config{}).AuthenticateAPIKey(ctx, x.key)
		if err != nil {
			t.Fatal(err)
		}
		list := func(q, k string) []store.AuditEntry {
			t.Helper()
			var l api.List[store.AuditEntry]
			if res := x.do("GET", "/api/v1/audit-log?limit=200&"+q, k, "", nil, &l); res.StatusCode != 200 {
				t.Fatalf("audit log %s: %d", q, res.StatusCode)
			}
			return l.Data
		}
		actions := func(es []store.AuditEntry) string {
			var out []string
			for i := len(es) - 1; i >= 0; i-- {
				out = append(out, es[i].Action)
			}
			return strings.Join(out, " ")
		}

		x.clock.Advance(time.Hour) // 13:00
		// The advocate sets their payout account in the widget.
		if res, body := x.call("PUT", "/api/v1/widget/payout-account", bearer(x.token("alice", time.Hour)),
			`{"method":"bank","bank":{"holder_name":"Alice Martin","iban":"FR76 3000 6000 0112 3456 7890 189","bic":"AGRIFRPP"}}`); res.StatusCode != 200 {
			t.Fatalf("widget payout account: %d %s", res.StatusCode, body)
		}
		x.ok("PUT", "/api/v1/programs/"+x.prog.ID+"/payout-settings", "", map[string]any{"schedule": "monthly", "day": 1, "hour": 6, "minimum_amount": 100}, nil, 200)
		// Another program, and a key restricted to it made on the command line.
		var other parrain.Program
		x.ok("POST", "/api/v1/programs", "", map[string]any{"name": "Other", "landing_url": "https://other.example/", "currency": "EUR"}, &other, 201)
		cli := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorCLI, Label: "cli"})
		scoped, sk, err := access.New(x.m.Store(), nil, access.Config{}).CreateAPIKey(cli, "scoped", nil, other.ID)
		if err != nil {
			t.Fatal(err)
		}

		// The monthly run on December 1st, by the system.
		x.clock.Set(time.Date(2026, 12, 1, 6, 0, 1, 0, time.UTC))
		x.drain()
		runs := list("actor_type=system&action=payout.batch_created", x.key)
		if len(runs) != 1 || runs[0].UserID != parrain.JobPayoutSchedule || runs[0].ProgramID != x.prog.ID || runs[0].TargetType != "payout_batch" ||
			runs[0].Details["trigger"] != "schedule" {
			t.Fatalf("scheduled run entries %+v", runs)
		}

		if got := list("actor_type=advocate", x.key); len(got) != 1 || got[0].Action != pay.AuditPayoutAccountSet || got[0].UserID != x.alice.ID ||
			got[0].UserEmail != "alice" || got[0].TargetID != x.alice.ID || got[0].ProgramID != x.prog.ID || got[0].IP != "" {
			t.Errorf("advocate entries %+v", got)
		}
		if got := list("actor_type=cli", x.key); len(got) != 1 || got[0].Action != store.AuditAPIKeyCreated || got[0].TargetID != sk.ID || got[0].ProgramID != other.ID {
			t.Errorf("cli entries %+v", got)
		}
		const byKey = "program.created widget_secret.rotated payout_settings.updated program.created"
		for _, actor := range []string{key.ID, "test"} {
			if got := actions(list("actor="+actor, x.key)); got != byKey {
				t.Errorf("actor=%s: %s", actor, got)
			}
		}
		if got := actions(list("actor_type=api_key&until=2026-11-01T13:00:00Z", x.key)); got != "program.created widget_secret.rotated" {
			t.Errorf("until 13:00: %s", got)
		}
		if got := actions(list("actor_type=api_key&since=2026-11-01T13:00:00Z", x.key)); got != "payout_settings.updated program.created" {
			t.Errorf("since 13:00: %s", got)
		}
		if got := actions(list("since=2026-11-01T13:00:00Z&until=2026-11-01T14:00:00Z&program_id="+x.prog.ID, x.key)); got != "payout_account.updated payout_settings.updated" {
			t.Errorf("13:00 to 14:00 in the first program: %s", got)
		}
		var bad httpx.ErrorBody
		if res := x.do("GET", "/api/v1/audit-log?actor_type=robot", x.key, "", nil, &bad); res.StatusCode != 400 || bad.Error.Field != "actor_type" {
			t.Errorf("bad actor type: %d %+v", res.StatusCode, bad)
		}

		// The restricted key sees its program's entries only.
		got := list("", scoped)
		if actions(got) != "program.created api_key.created" {
			t.Errorf("restricted key sees %s", actions(got))
		}
		for _, e := range got {
			if e.ProgramID != other.ID {
				t.Errorf("restricted key sees %+v", e)
			}
		}
		if res := x.do("GET", "/api/v1/audit-log?program_id="+x.prog.ID, scoped, "", nil, &bad); res.StatusCode != 404 {
			t.Errorf("restricted key asking for another program: %d", res.StatusCode)
		}
	})
}
