package api

import (
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// programLists are the program-scoped GET routes that need nothing but the
// program.
var programLists = []string{
	"", "/referrals", "/rewards", "/versions", "/terms", "/contests", "/coupon-pools", "/alerts", "/fraud/policy", "/fraud/stats",
	"/reviews", "/experience", "/share-stats", "/triggers", "/emails", "/email-templates", "/payout-settings", "/payout-batches",
	"/payouts", "/inbound-events", "/webhook-endpoints", "/partners", "/leads", "/partner-extensions",
	"/account-check?domain=acme.com", "/partner-exclusions", "/partner-decisions", "/partner-kpis", "/partner-assets",
}

// Every program-scoped list answers 404 for an unknown program (never an
// empty page), and for a key restricted to another program; a key without
// the read scope is refused.
func TestProgramScopedLists(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, q := e.program("P"), e.program("Q")
		e.partnerProgram(p.ID)
		restricted := e.keyFor(nil, q.ID)
		eventsOnly := e.keyFor([]string{store.ScopeEvents, store.ScopeAdmin}, "")
		var cases []errCase
		for _, l := range programLists {
			cases = append(cases,
				errCase{name: "unknown program " + l, method: "GET", path: "/api/v1/programs/prg_nope" + l, status: 404, code: parrain.CodeNotFound},
				errCase{name: "other program " + l, key: restricted, method: "GET", path: "/api/v1/programs/" + p.ID + l, status: 404, code: parrain.CodeNotFound},
				errCase{name: "without read " + l, key: eventsOnly, method: "GET", path: "/api/v1/programs/" + p.ID + l, status: 403, code: parrain.CodeForbidden},
			)
		}
		cases = append(cases, errCase{name: "answers of an unknown survey", method: "GET", path: "/api/v1/programs/" + p.ID + "/partner-surveys/psv_nope/answers", status: 404, code: parrain.CodeNotFound})
		e.checkErrors(t, cases)
		// The same lists answer 200 for the program and its own key.
		own := e.keyFor([]string{store.ScopeRead}, p.ID)
		for _, l := range programLists {
			if w := e.call(own, "GET", "/api/v1/programs/"+p.ID+l, "", ""); w.Code != 200 {
				t.Errorf("GET %s with the program's own key: %d %s", l, w.Code, w.Body)
			}
		}
	})
}

// Writes need their scope: a read-only key is refused on each.
func TestWriteScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.URL(t, "sqlite"))
	p := e.program("P")
	base := "/api/v1/programs/" + p.ID
	readOnly := e.keyFor([]string{store.ScopeRead}, "")
	eventsOnly := e.keyFor([]string{store.ScopeEvents}, "")
	var cases []errCase
	for _, r := range []struct{ method, path, scope string }{
		{"POST", "/api/v1/programs", store.ScopeAdmin},
		{"PATCH", base, store.ScopeAdmin},
		{"PUT", base, store.ScopeAdmin},
		{"PUT", base + "/participants/x", store.ScopeEvents},
		{"POST", base + "/events", store.ScopeEvents},
		{"POST", base + "/rewards/rwd_x/review", store.ScopeAdmin},
		{"POST", base + "/participants/x/terms", store.ScopeEvents},
		{"POST", base + "/contests", store.ScopeAdmin},
		{"POST", base + "/coupon-pools", store.ScopeAdmin},
		{"POST", base + "/coupon-pools/x/codes", store.ScopeAdmin},
		{"PUT", base + "/fraud/policy", store.ScopeAdmin},
		{"POST", base + "/referrals/ref_x/review", store.ScopeAdmin},
		{"POST", base + "/widget-secret", store.ScopeAdmin},
		{"POST", base + "/widget-tokens", store.ScopeEvents},
		{"PUT", base + "/experience", store.ScopeAdmin},
		{"POST", base + "/participants/x/notifications/read", store.ScopeEvents},
		{"POST", base + "/participants/x/consents", store.ScopeEvents},
		{"POST", base + "/triggers", store.ScopeAdmin},
		{"PUT", base + "/triggers/trg_x", store.ScopeAdmin},
		{"DELETE", base + "/triggers/trg_x", store.ScopeAdmin},
		{"PUT", base + "/email-templates/welcome/en", store.ScopeAdmin},
		{"DELETE", base + "/email-templates/welcome/en", store.ScopeAdmin},
		{"PUT", base + "/participants/x/payout-account", store.ScopeEvents},
		{"DELETE", base + "/participants/x/payout-account", store.ScopeEvents},
		{"PUT", base + "/payout-settings", store.ScopeAdmin},
		{"POST", base + "/payout-batches", store.ScopeAdmin},
		{"POST", base + "/payout-batches/b/approve", store.ScopeAdmin},
		{"POST", base + "/payout-batches/b/cancel", store.ScopeAdmin},
		{"GET", base + "/payout-batches/b/export.csv", store.ScopeAdmin},
		{"POST", base + "/payout-batches/b/import", store.ScopeAdmin},
		{"POST", base + "/payouts/p/mark-paid", store.ScopeAdmin},
		{"POST", base + "/payouts/p/mark-failed", store.ScopeAdmin},
		{"POST", base + "/payouts/p/cancel", store.ScopeAdmin},
		{"POST", base + "/webhook-endpoints", store.ScopeAdmin},
		{"PATCH", base + "/webhook-endpoints/w", store.ScopeAdmin},
		{"DELETE", base + "/webhook-endpoints/w", store.ScopeAdmin},
		{"POST", base + "/webhook-endpoints/w/rotate-secret", store.ScopeAdmin},
		{"POST", base + "/webhook-endpoints/w/deliveries/d/replay", store.ScopeAdmin},
		{"PUT", base + "/crm", store.ScopeAdmin},
		{"DELETE", base + "/crm", store.ScopeAdmin},
		{"PUT", base + "/partner-program", store.ScopeAdmin},
		{"POST", base + "/partners", store.ScopeAdmin},
		{"POST", base + "/partners/x/decision", store.ScopeAdmin},
		{"POST", base + "/partners/x/onboarding", store.ScopeAdmin},
		{"POST", base + "/partners/x/leads", store.ScopeEvents},
		{"POST", base + "/leads/x/stage", store.ScopeEvents},
		{"POST", base + "/leads/x/extend", store.ScopeAdmin},
		{"POST", base + "/partner-extensions/x/decision", store.ScopeAdmin},
		{"POST", base + "/partner-exclusions", store.ScopeAdmin},
		{"DELETE", base + "/partner-exclusions/x", store.ScopeAdmin},
		{"POST", base + "/partner-assets", store.ScopeAdmin},
		{"POST", base + "/partner-surveys", store.ScopeAdmin},
		{"GET", "/api/v1/audit-log", store.ScopeAdmin},
	} {
		cases = append(cases, errCase{name: r.method + " " + r.path + " read-only", key: readOnly, method: r.method, path: r.path, body: `{}`, status: 403, code: parrain.CodeForbidden})
		if r.scope == store.ScopeAdmin {
			cases = append(cases, errCase{name: r.method + " " + r.path + " events-only", key: eventsOnly, method: r.method, path: r.path, body: `{}`, status: 403, code: parrain.CodeForbidden})
		}
	}
	e.checkErrors(t, cases)
}
