package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// purchaseProgram rewards the advocate 10% of each purchase, held 14
// days, with at most 15.00 per referral before manual review.
func (e *env) purchaseProgram(name string) parrain.Program {
	e.t.Helper()
	var p parrain.Program
	e.ok(http.StatusCreated, "POST", "/api/v1/programs", "", `{"name":"`+name+`","landing_url":"https://shop.example/","currency":"EUR","hold_days":14,
		"caps":{"per_referral":1500,"on_cap":"review"},
		"rules":[{"id":"pct","trigger":"purchase","advocate":{"kind":"cash","type":"percent","percent_bps":1000}}]}`, &p)
	return p
}

func purchase(friend, order string, amount int64) string {
	return fmt.Sprintf(`{"type":"purchase","external_id":%q,"order_id":%q,"amount":%d,"currency":"EUR"}`, friend, order, amount)
}

func TestEventsSignupPurchaseRefund(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		adv := e.participant(p.ID, "anna")

		signup := `{"type":"signup","external_id":"fred","email":"fred@mail.example","referral_code":"` + adv.Code + `"}`
		var r parrain.EventResult
		w := e.ok(http.StatusCreated, "POST", base+"/events", "sig-1", signup, &r)
		if r.Type != parrain.EventSignup || r.EventID == "" || r.Duplicate || r.Referral == nil || r.Referral.Status != parrain.ReferralSignedUp ||
			r.Referral.AdvocateExternalID != "anna" || r.Referral.FriendExternalID != "fred" || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("signup: %+v", r)
		}
		// The same request again: the same answer, flagged.
		var again parrain.EventResult
		w = e.ok(http.StatusCreated, "POST", base+"/events", "sig-1", signup, &again)
		if again.EventID != r.EventID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %+v %q", again, w.Header().Get("Idempotent-Replayed"))
		}

		buy := e.event(p.ID, "buy-1", purchase("fred", "o1", 10000))
		if len(buy.Rewards) != 1 {
			t.Fatalf("purchase: %+v", buy)
		}
		rw := buy.Rewards[0]
		if rw.Amount != 1000 || rw.Currency != "EUR" || rw.Status != parrain.RewardPending || rw.ExternalID != "anna" || rw.Role != parrain.RoleAdvocate ||
			!rw.HoldUntil.Equal(e.clock.Now().Add(14*24*time.Hour)) || buy.Referral == nil || buy.Referral.Status != parrain.ReferralConverted {
			t.Fatalf("reward %+v referral %+v", rw, buy.Referral)
		}
		// The second purchase goes over the cap: queued for review.
		over := e.event(p.ID, "buy-2", purchase("fred", "o2", 10000))
		if len(over.Rewards) != 1 || over.Rewards[0].Review != store.ReviewWaiting {
			t.Fatalf("over the cap: %+v", over.Rewards)
		}
		// A refund reverses the reward of its order.
		ref := e.event(p.ID, "ref-1", `{"type":"refund","order_id":"o1","amount":10000}`)
		if len(ref.Reversals) != 1 || ref.Reversals[0].RewardID != rw.ID || ref.Reversals[0].Amount != 1000 {
			t.Fatalf("refund: %+v", ref)
		}
		var got RewardView
		e.ok(http.StatusOK, "GET", base+"/rewards/"+rw.ID, "", "", &got)
		if got.ID != rw.ID || got.Reversed != 1000 || got.Status != parrain.RewardReversed {
			t.Errorf("after refund: %+v", got.Reward)
		}

		// The advocate's stats and rewards.
		var pv ParticipantView
		e.ok(http.StatusOK, "GET", base+"/participants/anna", "", "", &pv)
		if pv.ExternalID != "anna" || pv.Code != adv.Code || pv.Link != "http://parrain.test/r/"+adv.Code || pv.Stats == nil || pv.Stats.Signups != 1 || pv.Stats.Purchases != 1 {
			t.Errorf("participant %+v stats %+v", pv.Participant, pv.Stats)
		}
		var rws List[parrain.Reward]
		e.ok(http.StatusOK, "GET", base+"/participants/anna/rewards", "", "", &rws)
		if len(rws.Data) != 2 {
			t.Errorf("participant rewards %+v", rws.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/participants/anna/rewards?status=reversed", "", "", &rws)
		if len(rws.Data) != 1 || rws.Data[0].ID != rw.ID {
			t.Errorf("reversed rewards %+v", rws.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/participants/anna/rewards?limit=1", "", "", &rws)
		if len(rws.Data) != 1 || rws.NextCursor == "" {
			t.Errorf("first page %+v", rws)
		}
		var rest List[parrain.Reward]
		e.ok(http.StatusOK, "GET", base+"/participants/anna/rewards?limit=1&cursor="+string(rws.NextCursor), "", "", &rest)
		if len(rest.Data) != 1 || rest.NextCursor != "" || rest.Data[0].ID == rws.Data[0].ID {
			t.Errorf("second page %+v", rest)
		}
	})
}

func TestEventsErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		e.participant(p.ID, "anna")
		e.event(p.ID, "k1", `{"type":"signup","external_id":"fred"}`)
		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead}, "")
		e.checkErrors(t, []errCase{
			{name: "same key other body", method: "POST", path: base + "/events", idem: "k1", body: `{"type":"signup","external_id":"gina"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "unknown type", method: "POST", path: base + "/events", idem: "k2", body: `{"type":"visit","external_id":"x"}`, status: 400, code: parrain.CodeInvalid, field: "type"},
			{name: "no type", method: "POST", path: base + "/events", idem: "k3", body: `{"external_id":"x"}`, status: 400, code: parrain.CodeInvalid, field: "type"},
			{name: "signup without external id", method: "POST", path: base + "/events", idem: "k4", body: `{"type":"signup"}`, status: 400, code: parrain.CodeInvalid, field: "external_id"},
			{name: "purchase without order", method: "POST", path: base + "/events", idem: "k5", body: `{"type":"purchase","external_id":"fred","amount":100,"currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "order_id"},
			{name: "purchase negative amount", method: "POST", path: base + "/events", idem: "k6", body: purchase("fred", "o1", -5), status: 400, code: parrain.CodeInvalid, field: "amount"},
			{name: "purchase bad currency", method: "POST", path: base + "/events", idem: "k7", body: `{"type":"purchase","external_id":"fred","order_id":"o","amount":100,"currency":"eur0"}`, status: 400, code: parrain.CodeInvalid, field: "currency"},
			{name: "amount as string", method: "POST", path: base + "/events", idem: "k8", body: `{"type":"purchase","external_id":"fred","order_id":"o","amount":"100","currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "amount"},
			{name: "refund of unknown order", method: "POST", path: base + "/events", idem: "k9", body: `{"type":"refund","order_id":"nope","amount":100}`, status: 404, code: parrain.CodeNotFound, field: "order_id"},
			{name: "unknown program", method: "POST", path: "/api/v1/programs/prg_nope/events", idem: "k10", body: `{"type":"signup","external_id":"x"}`, status: 404, code: parrain.CodeNotFound},
			{name: "other program", key: restricted, method: "POST", path: base + "/events", idem: "k11", body: `{"type":"signup","external_id":"x"}`, status: 404, code: parrain.CodeNotFound},
			{name: "read-only key", key: readOnly, method: "POST", path: base + "/events", idem: "k12", body: `{"type":"signup","external_id":"x"}`, status: 403, code: parrain.CodeForbidden},
			{name: "participant read-only", key: readOnly, method: "PUT", path: base + "/participants/x", body: `{}`, status: 403, code: parrain.CodeForbidden},
			{name: "participant other program", key: restricted, method: "PUT", path: base + "/participants/x", body: `{}`, status: 404, code: parrain.CodeNotFound},
			{name: "participant bad external id", method: "PUT", path: base + "/participants/" + strings.Repeat("x", 300), body: `{}`, status: 400, code: parrain.CodeInvalid, field: "external_id"},
			{name: "participant unknown field", method: "PUT", path: base + "/participants/x", body: `{"mail":"x@example.com"}`, status: 400, code: parrain.CodeInvalid, field: "mail"},
			{name: "participant malformed", method: "PUT", path: base + "/participants/x", body: `{"email":`, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "get unknown participant", method: "GET", path: base + "/participants/ghost", status: 404, code: parrain.CodeNotFound},
			{name: "get participant other program", key: restricted, method: "GET", path: base + "/participants/anna", status: 404, code: parrain.CodeNotFound},
			{name: "participant in the other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/participants/anna", status: 404, code: parrain.CodeNotFound},
			{name: "rewards of unknown participant", method: "GET", path: base + "/participants/ghost/rewards", status: 404, code: parrain.CodeNotFound},
			{name: "rewards bad status", method: "GET", path: base + "/participants/anna/rewards?status=lost", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "rewards bad limit", method: "GET", path: base + "/participants/anna/rewards?limit=-1", status: 400, code: parrain.CodeInvalid, field: "limit"},
		})
	})
}

func TestReferralsList(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		anna, bob := e.participant(p.ID, "anna"), e.participant(p.ID, "bob")
		for i, f := range []struct{ friend, code string }{{"f1", anna.Code}, {"f2", anna.Code}, {"f3", bob.Code}} {
			e.event(p.ID, fmt.Sprint("s", i), `{"type":"signup","external_id":"`+f.friend+`","referral_code":"`+f.code+`"}`)
		}
		e.event(p.ID, "b1", purchase("f1", "o1", 5000))
		cases := []struct {
			query   string
			friends []string
		}{
			{"", []string{"f1", "f2", "f3"}},
			{"?status=converted", []string{"f1"}},
			{"?status=signed_up", []string{"f2", "f3"}},
			{"?status=rejected", nil},
			{"?advocate=anna", []string{"f1", "f2"}},
			{"?advocate=bob&status=signed_up", []string{"f3"}},
			{"?advocate=bob&status=converted", nil},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				var list List[parrain.Referral]
				e.ok(http.StatusOK, "GET", base+"/referrals"+c.query, "", "", &list)
				got := map[string]bool{}
				for _, r := range list.Data {
					got[r.FriendExternalID] = true
					if r.ProgramID != p.ID {
						t.Errorf("referral of program %s", r.ProgramID)
					}
				}
				if len(got) != len(c.friends) || len(list.Data) != len(c.friends) {
					t.Fatalf("friends %v, want %v", got, c.friends)
				}
				for _, f := range c.friends {
					if !got[f] {
						t.Errorf("%s missing", f)
					}
				}
			})
		}
		// Pages of one.
		seen := map[string]bool{}
		path := base + "/referrals?limit=1"
		for range 5 {
			var list List[parrain.Referral]
			e.ok(http.StatusOK, "GET", path, "", "", &list)
			for _, r := range list.Data {
				seen[r.ID] = true
			}
			if list.NextCursor == "" {
				break
			}
			path = base + "/referrals?limit=1&cursor=" + string(list.NextCursor)
		}
		if len(seen) != 3 {
			t.Errorf("paged through %d referrals, want 3", len(seen))
		}
		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "unknown advocate", method: "GET", path: base + "/referrals?advocate=ghost", status: 404, code: parrain.CodeNotFound},
			{name: "bad status", method: "GET", path: base + "/referrals?status=paid", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "bad limit", method: "GET", path: base + "/referrals?limit=201", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "other program", key: e.keyFor(nil, other.ID), method: "GET", path: base + "/referrals", status: 404, code: parrain.CodeNotFound},
			{name: "without read", key: e.keyFor([]string{store.ScopeEvents}, ""), method: "GET", path: base + "/referrals", status: 403, code: parrain.CodeForbidden},
		})
	})
}

func TestRewardsListExplainReview(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		adv := e.participant(p.ID, "anna")
		e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+adv.Code+`"}`)
		first := e.event(p.ID, "b1", purchase("fred", "o1", 10000)).Rewards[0]
		waiting := e.event(p.ID, "b2", purchase("fred", "o2", 10000)).Rewards[0]
		third := e.event(p.ID, "b3", purchase("fred", "o3", 10000)).Rewards[0]

		var all, queue List[parrain.Reward]
		e.ok(http.StatusOK, "GET", base+"/rewards", "", "", &all)
		if len(all.Data) != 3 {
			t.Fatalf("rewards %+v", all.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/rewards?review=waiting", "", "", &queue)
		if len(queue.Data) != 2 {
			t.Fatalf("review queue %+v", queue.Data)
		}
		var ex store.RewardExplained
		e.ok(http.StatusOK, "GET", base+"/rewards/"+first.ID, "", "", &ex)
		if ex.ID != first.ID || ex.Amount != 1000 || ex.Explain.Rule == nil || ex.Explain.Rule.ID != "pct" || ex.Explain.RuleVersion != 1 ||
			ex.Explain.Event == nil || len(ex.Ledger) == 0 {
			t.Errorf("explained %+v", ex)
		}

		// Approve one, with a replay; reject the other.
		var approved parrain.Reward
		w := e.ok(http.StatusOK, "POST", base+"/rewards/"+waiting.ID+"/review", "rv-1", `{"decision":"approve"}`, &approved)
		if approved.ID != waiting.ID || approved.Review != store.ReviewApproved || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("approve: %+v", approved)
		}
		w = e.ok(http.StatusOK, "POST", base+"/rewards/"+waiting.ID+"/review", "rv-1", `{"decision":"approve"}`, &approved)
		if w.Header().Get("Idempotent-Replayed") != "true" || approved.Review != store.ReviewApproved {
			t.Errorf("replayed approve: %q %+v", w.Header().Get("Idempotent-Replayed"), approved)
		}
		var rejected parrain.Reward
		e.ok(http.StatusOK, "POST", base+"/rewards/"+third.ID+"/review", "", `{"decision":"reject","reason":"duplicate order"}`, &rejected)
		if rejected.Review != store.ReviewRejected || rejected.Status != parrain.RewardReversed {
			t.Errorf("reject: %+v", rejected)
		}
		e.ok(http.StatusOK, "GET", base+"/rewards?review=waiting", "", "", &queue)
		if len(queue.Data) != 0 {
			t.Errorf("queue after decisions %+v", queue.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/rewards?status=reversed", "", "", &queue)
		if len(queue.Data) != 1 || queue.Data[0].ID != third.ID {
			t.Errorf("reversed %+v", queue.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/rewards?limit=2", "", "", &all)
		if len(all.Data) != 2 || all.NextCursor == "" {
			t.Errorf("first page %+v", all)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "decided again", method: "POST", path: base + "/rewards/" + waiting.ID + "/review", body: `{"decision":"reject","reason":"no"}`, status: 409, code: parrain.CodeConflict},
			{name: "not in review", method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{"decision":"approve"}`, status: 409, code: parrain.CodeConflict},
			{name: "same key other decision", method: "POST", path: base + "/rewards/" + waiting.ID + "/review", idem: "rv-1", body: `{"decision":"reject","reason":"x"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "reject without reason", method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{"decision":"reject"}`, status: 400, code: parrain.CodeInvalid, field: "reason"},
			{name: "no decision", method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "decision"},
			{name: "unknown decision", method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{"decision":"maybe"}`, status: 400, code: parrain.CodeInvalid, field: "decision"},
			{name: "review read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{"decision":"approve"}`, status: 403, code: parrain.CodeForbidden},
			{name: "review other program", key: restricted, method: "POST", path: base + "/rewards/" + first.ID + "/review", body: `{"decision":"approve"}`, status: 404, code: parrain.CodeNotFound},
			{name: "reward under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/rewards/" + first.ID, status: 404, code: parrain.CodeNotFound},
			{name: "review under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/rewards/" + first.ID + "/review", body: `{"decision":"approve"}`, status: 404, code: parrain.CodeNotFound},
			{name: "unknown reward", method: "GET", path: base + "/rewards/rwd_nope", status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: base + "/rewards/" + first.ID, status: 404, code: parrain.CodeNotFound},
			{name: "list bad status", method: "GET", path: base + "/rewards?status=gone", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "list bad review", method: "GET", path: base + "/rewards?review=later", status: 400, code: parrain.CodeInvalid, field: "review"},
			{name: "list bad limit", method: "GET", path: base + "/rewards?limit=x", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "list other program", key: restricted, method: "GET", path: base + "/rewards", status: 404, code: parrain.CodeNotFound},
		})
	})
}
