package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

func TestFraudPolicy(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		var def fraud.Policy
		e.ok(http.StatusOK, "GET", base+"/fraud/policy", "", "", &def)
		want := fraud.DefaultPolicy()
		if def.FlagAt != want.FlagAt || def.HoldAt != want.HoldAt || def.RejectAt != want.RejectAt {
			t.Fatalf("default policy %+v", def)
		}
		var put fraud.Policy
		e.ok(http.StatusOK, "PUT", base+"/fraud/policy", "", `{"flag_at":20,"hold_at":50,"reject_at":90,
			"rules":{"net.same_ip":{"action":"observe"}},"lists":{"blocked_emails":["*@fraud.example"]}}`, &put)
		if put.FlagAt != 20 || put.HoldAt != 50 || put.RejectAt != 90 || put.Rules["net.same_ip"].Action != fraud.RuleObserve ||
			len(put.Lists.BlockedEmails) != 1 {
			t.Fatalf("put %+v", put)
		}
		var got fraud.Policy
		e.ok(http.StatusOK, "GET", base+"/fraud/policy", "", "", &got)
		// What GET answers, PUT takes back unchanged.
		raw := e.ok(http.StatusOK, "GET", base+"/fraud/policy", "", "", nil).Body.String()
		var back fraud.Policy
		if w := e.ok(http.StatusOK, "PUT", base+"/fraud/policy", "", raw, &back); w.Body.String() != raw {
			t.Errorf("round trip changed the policy:\n%s\n%s", raw, w.Body)
		}
		if got.HoldAt != 50 || got.Rules["net.same_ip"].Action != fraud.RuleObserve || len(got.Lists.BlockedEmails) != 1 {
			t.Errorf("stored %+v", got)
		}
		// The blocklist applies: the friend's referral is rejected.
		adv := e.participant(p.ID, "anna")
		r := e.event(p.ID, "s1", `{"type":"signup","external_id":"mallory","email":"m@fraud.example","referral_code":"`+adv.Code+`"}`)
		if r.Referral == nil || r.Referral.Status != parrain.ReferralRejected {
			t.Errorf("blocked friend's referral: %+v", r.Referral)
		}
		var refs List[parrain.Referral]
		e.ok(http.StatusOK, "GET", base+"/referrals?status=rejected", "", "", &refs)
		if len(refs.Data) != 1 {
			t.Errorf("rejected referrals %+v", refs.Data)
		}

		var signals map[string][]fraud.SignalInfo
		e.ok(http.StatusOK, "GET", "/api/v1/fraud/signals", "", "", &signals)
		if len(signals["data"]) == 0 {
			t.Error("empty signal catalogue")
		}
		var stats List[referral.SignalStat]
		e.ok(http.StatusOK, "GET", base+"/fraud/stats", "", "", &stats)

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "hold above reject", method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":80,"reject_at":50}`, status: 400, code: parrain.CodeInvalid, field: "reject_at"},
			{name: "hold zero", method: "PUT", path: base + "/fraud/policy", body: `{"hold_at":0,"reject_at":50}`, status: 400, code: parrain.CodeInvalid, field: "hold_at"},
			{name: "unknown signal", method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50,"rules":{"moon_phase":{"action":"flag"}}}`, status: 400, code: parrain.CodeInvalid, field: "rules.moon_phase"},
			{name: "unknown action", method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50,"rules":{"net.same_ip":{"action":"shout"}}}`, status: 400, code: parrain.CodeInvalid, field: "rules.net.same_ip.action"},
			{name: "weight above one", method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50,"rules":{"net.same_ip":{"weight":2}}}`, status: 400, code: parrain.CodeInvalid, field: "rules.net.same_ip.weight"},
			{name: "unknown field", method: "PUT", path: base + "/fraud/policy", body: `{"hold":40}`, status: 400, code: parrain.CodeInvalid, field: "hold"},
			{name: "thresholds as strings", method: "PUT", path: base + "/fraud/policy", body: `{"hold_at":"40"}`, status: 400, code: parrain.CodeInvalid, field: "hold_at"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50}`, status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: restricted, method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50}`, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "PUT", path: base + "/fraud/policy", body: `{"flag_at":10,"hold_at":40,"reject_at":50}`, status: 403, code: parrain.CodeForbidden},
			{name: "get unknown program", method: "GET", path: "/api/v1/programs/prg_nope/fraud/policy", status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: base + "/fraud/policy", status: 404, code: parrain.CodeNotFound},
			{name: "stats unknown program", method: "GET", path: "/api/v1/programs/prg_nope/fraud/stats", status: 404, code: parrain.CodeNotFound},
			{name: "signals without read", key: e.keyFor([]string{store.ScopeEvents}, ""), method: "GET", path: "/api/v1/fraud/signals", status: 403, code: parrain.CodeForbidden},
		})
		// Failed writes kept the policy.
		e.ok(http.StatusOK, "GET", base+"/fraud/policy", "", "", &got)
		if got.HoldAt != 50 {
			t.Errorf("policy changed by a failed write: %+v", got)
		}
	})
}

// A friend refunding two days after the reward: the referral is held for
// review; a reviewer clears or rejects it.
func TestFraudReviewQueue(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		var p parrain.Program
		e.ok(http.StatusCreated, "POST", "/api/v1/programs", "", `{"name":"P","landing_url":"https://shop.example/","currency":"EUR","hold_days":30,
			"rules":[{"trigger":"first_purchase","advocate":{"kind":"cash","type":"fixed","amount":1500}},
				{"trigger":"signup","advocate":{"kind":"cash","type":"fixed","amount":300}}]}`, &p)
		base := "/api/v1/programs/" + p.ID
		held := func(friend string) parrain.Referral {
			t.Helper()
			adv := e.participant(p.ID, "adv-"+friend)
			e.event(p.ID, "buy-"+friend, `{"type":"purchase","external_id":"`+friend+`","email":"`+friend+`@mail.example","referral_code":"`+adv.Code+`",
				"order_id":"o-`+friend+`","amount":5000,"currency":"EUR"}`)
			e.clock.Advance(48 * time.Hour)
			r := e.event(p.ID, "refund-"+friend, `{"type":"refund","order_id":"o-`+friend+`","amount":5000}`)
			if r.Referral == nil || r.Referral.ReviewStatus != parrain.ReviewHeld {
				t.Fatalf("refund two days later: %+v", r.Referral)
			}
			return *r.Referral
		}
		first, second := held("fred"), held("gina")

		var queue List[referral.ReviewItem]
		e.ok(http.StatusOK, "GET", base+"/reviews", "", "", &queue)
		if len(queue.Data) != 2 || len(queue.Data[0].Signals) == 0 {
			t.Fatalf("queue %+v", queue.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/reviews?status=held&limit=1", "", "", &queue)
		if len(queue.Data) != 1 || queue.NextCursor == "" {
			t.Errorf("first page %+v", queue)
		}

		var cleared parrain.Referral
		e.ok(http.StatusOK, "POST", base+"/referrals/"+first.ID+"/review", "", `{"decision":"clear"}`, &cleared)
		if cleared.ID != first.ID || cleared.ReviewStatus != parrain.ReviewCleared {
			t.Errorf("cleared %+v", cleared)
		}
		var rejected parrain.Referral
		e.ok(http.StatusOK, "POST", base+"/referrals/"+second.ID+"/review", "", `{"decision":"reject","reason":"refund abuse"}`, &rejected)
		if rejected.ReviewStatus != parrain.ReviewRejected || rejected.Status != parrain.ReferralRejected {
			t.Errorf("rejected %+v", rejected)
		}
		e.ok(http.StatusOK, "GET", base+"/reviews", "", "", &queue)
		if len(queue.Data) != 0 {
			t.Errorf("queue after decisions %+v", queue.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/reviews?status=cleared", "", "", &queue)
		if len(queue.Data) != 1 || queue.Data[0].Referral.ID != first.ID {
			t.Errorf("cleared queue %+v", queue.Data)
		}
		var stats List[referral.SignalStat]
		e.ok(http.StatusOK, "GET", base+"/fraud/stats", "", "", &stats)
		fired, clearedN, rejectedN := 0, 0, 0
		for _, s := range stats.Data {
			fired, clearedN, rejectedN = fired+s.Fired, clearedN+s.Cleared, rejectedN+s.Rejected
		}
		if fired == 0 || clearedN == 0 || rejectedN == 0 {
			t.Errorf("stats %+v", stats.Data)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "clear again", method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"clear"}`, status: 409, code: parrain.CodeConflict, field: "decision"},
			{name: "unknown decision", method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"approve"}`, status: 400, code: parrain.CodeInvalid, field: "decision"},
			{name: "reject without reason", method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"reject"}`, status: 400, code: parrain.CodeInvalid, field: "reason"},
			{name: "reason too long", method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"reject","reason":"` + strings.Repeat("x", 1001) + `"}`, status: 400, code: parrain.CodeInvalid, field: "reason"},
			{name: "unknown referral", method: "POST", path: base + "/referrals/ref_nope/review", body: `{"decision":"clear"}`, status: 404, code: parrain.CodeNotFound},
			{name: "referral of another program", method: "POST", path: "/api/v1/programs/" + other.ID + "/referrals/" + first.ID + "/review", body: `{"decision":"clear"}`, status: 404, code: parrain.CodeNotFound},
			{name: "review other program", key: restricted, method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"clear"}`, status: 404, code: parrain.CodeNotFound},
			{name: "review read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/referrals/" + first.ID + "/review", body: `{"decision":"clear"}`, status: 403, code: parrain.CodeForbidden},
			{name: "queue bad status", method: "GET", path: base + "/reviews?status=pending", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "queue bad limit", method: "GET", path: base + "/reviews?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "queue unknown program", method: "GET", path: "/api/v1/programs/prg_nope/reviews", status: 404, code: parrain.CodeNotFound},
			{name: "queue other program", key: restricted, method: "GET", path: base + "/reviews", status: 404, code: parrain.CodeNotFound},
		})
	})
}
