package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Personalised rules and the activity requirement through the API: the
// program accepts them (and names the bad field), a VIP advocate earns the
// variant's amount, a reward whose friend showed no activity is voided as
// inactive at maturation and reinstated by POST …/reinstate, once.
func TestPersonalisedRewardsAndActivityAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		const doc = `{"name":"P","landing_url":"https://shop.example/","currency":"EUR","hold_days":30,
			"activity":{"required":true,"min_days":1},
			"rules":[{"id":"ref","trigger":"first_purchase","advocate":{"kind":"cash","type":"fixed","amount":1000,
				"variants":[{"when":{"advocate":{"attributes":{"vip":["true"]}}},"amount":2000}]}}]}`
		e.checkErrors(t, []errCase{
			{name: "variant without condition", method: "POST", path: "/api/v1/programs", idem: "bad-1",
				body:   strings.Replace(doc, `"when":{"advocate":{"attributes":{"vip":["true"]}}}`, `"when":{}`, 1),
				status: 400, code: parrain.CodeInvalid, field: "rules[0].advocate.variants[0].when"},
			{name: "variant locale", method: "POST", path: "/api/v1/programs", idem: "bad-2",
				body:   strings.Replace(doc, `"advocate":{"attributes":{"vip":["true"]}}`, `"friend":{"locales":["d"]}`, 1),
				status: 400, code: parrain.CodeInvalid, field: "rules[0].advocate.variants[0].when.friend.locales[0]"},
			{name: "activity without hold", method: "POST", path: "/api/v1/programs", idem: "bad-3",
				body: strings.Replace(doc, `"hold_days":30`, `"hold_days":0`, 1), status: 400, code: parrain.CodeInvalid, field: "activity.required"},
			{name: "activity event type", method: "POST", path: "/api/v1/programs", idem: "bad-4",
				body: strings.Replace(doc, `"min_days":1`, `"event_type":"signup"`, 1), status: 400, code: parrain.CodeInvalid, field: "activity.event_type"},
		})
		var p parrain.Program
		e.ok(http.StatusCreated, "POST", "/api/v1/programs", "create", doc, &p)
		if p.Activity == nil || !p.Activity.Required || p.Activity.EventType != parrain.EventActivity || len(p.Rules[0].Advocate.Variants) != 1 {
			t.Fatalf("program %+v", p)
		}
		base := "/api/v1/programs/" + p.ID
		e.ok(http.StatusCreated, "PUT", base+"/participants/vip", "vip", `{"attributes":{"vip":true}}`, nil)
		vip := e.participant(p.ID, "vip")
		plain := e.participant(p.ID, "plain")
		e.event(p.ID, "s1", `{"type":"signup","external_id":"f1","referral_code":"`+vip.Code+`"}`)
		e.event(p.ID, "s2", `{"type":"signup","external_id":"f2","referral_code":"`+plain.Code+`"}`)
		r1 := e.event(p.ID, "b1", purchase("f1", "o1", 5000)).Rewards
		r2 := e.event(p.ID, "b2", purchase("f2", "o2", 5000)).Rewards
		if len(r1) != 1 || r1[0].Amount != 2000 || len(r2) != 1 || r2[0].Amount != 1000 {
			t.Fatalf("rewards %+v %+v", r1, r2)
		}
		// f2 uses the product; f1 never does.
		e.clock.Advance(2 * 24 * time.Hour)
		e.event(p.ID, "a2", `{"type":"activity","external_id":"f2"}`)
		e.clock.Advance(29 * 24 * time.Hour)
		for _, id := range []string{r1[0].ID, r2[0].ID} {
			if _, _, err := e.st.ApproveReward(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}
		var got parrain.Reward
		e.ok(http.StatusOK, "GET", base+"/rewards/"+r2[0].ID, "", "", &got)
		if got.Status != parrain.RewardApproved {
			t.Errorf("active friend's reward %+v", got)
		}
		var voided store.RewardExplained
		e.ok(http.StatusOK, "GET", base+"/rewards/"+r1[0].ID, "", "", &voided)
		if voided.Status != parrain.RewardReversed || voided.VoidReason != parrain.VoidInactive || len(voided.Ledger) != 2 ||
			!strings.HasPrefix(voided.Ledger[1].Memo, "inactive:") {
			t.Fatalf("inactive friend's reward %+v", voided)
		}
		e.checkErrors(t, []errCase{
			{name: "reinstate an approved reward", method: "POST", path: base + "/rewards/" + r2[0].ID + "/reinstate", idem: "ri-x", body: `{}`,
				status: 409, code: parrain.CodeConflict},
			{name: "note too long", method: "POST", path: base + "/rewards/" + r1[0].ID + "/reinstate", idem: "ri-y",
				body: `{"note":"` + strings.Repeat("x", 501) + `"}`, status: 400, code: parrain.CodeInvalid, field: "note"},
		})
		w := e.ok(http.StatusOK, "POST", base+"/rewards/"+r1[0].ID+"/reinstate", "ri-1", `{"note":"activity feed outage"}`, &got)
		if got.Status != parrain.RewardApproved || got.VoidReason != "" || got.Reversed != 0 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("reinstated %+v", got)
		}
		w = e.ok(http.StatusOK, "POST", base+"/rewards/"+r1[0].ID+"/reinstate", "ri-1", `{"note":"activity feed outage"}`, &got)
		if w.Header().Get("Idempotent-Replayed") != "true" || got.Status != parrain.RewardApproved {
			t.Errorf("replayed reinstate %q %+v", w.Header().Get("Idempotent-Replayed"), got)
		}
		e.checkErrors(t, []errCase{{name: "reinstate twice", method: "POST", path: base + "/rewards/" + r1[0].ID + "/reinstate", idem: "ri-2",
			body: `{}`, status: 409, code: parrain.CodeConflict}})
	})
}
