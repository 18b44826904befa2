package referral_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestFulfilmentCodesAndAlerts(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.HoldDays = 0
			p.Rules = []parrain.RewardRule{
				{ID: "gift", Trigger: parrain.TriggerFirstPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindGiftCard, Type: parrain.AmountFixed, Amount: 2500, Pool: "amazon"},
					Friend: &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000, PercentOffBps: 2000}},
				{ID: "credit", Trigger: parrain.TriggerSignup, Advocate: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 300}},
			}
		})
		if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, store.CouponPool{Name: "amazon", LowWater: 2}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if res, _, err := e.Ref.ImportCodes(ctx, prog.ID, "amazon", []string{"AMZ-1", "AMZ-2", "AMZ-1"}, store.Idem{}); err != nil || res.Imported != 2 || len(res.Duplicates) != 1 {
			t.Fatalf("import: %+v %v", res, err)
		}
		adv := e.Advocate(prog.ID, "adv", "")
		deliver := func(rw parrain.Reward) parrain.Reward {
			t.Helper()
			if _, _, err := e.St.ApproveReward(ctx, rw.ID); err != nil {
				t.Fatal(err)
			}
			d, err := e.St.PrepareFulfilment(ctx, rw.ID)
			if err != nil || d.URL != "" {
				t.Fatalf("prepare: %+v %v", d, err)
			}
			ex, err := e.St.ExplainReward(ctx, prog.ID, rw.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ex.Reward
		}
		var gifts []parrain.Reward
		for i := range 3 {
			f := fmt.Sprint("f", i)
			r := e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: f, ReferralCode: adv.Code})
			credit := deliver(r.Rewards[0])
			if credit.Fulfilment.Status != parrain.FulfilWaitingConfig || credit.Status != parrain.RewardApproved {
				t.Fatalf("credit without URL: %+v", credit.Fulfilment)
			}
			r = e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: f, Amount: 5000, Currency: "EUR"})
			for _, rw := range r.Rewards {
				got := deliver(rw)
				if rw.Kind == parrain.KindCoupon {
					if got.Fulfilment.Status != parrain.FulfilFulfilled || got.Status != parrain.RewardPaid || len(got.Fulfilment.Code) != 10 {
						t.Fatalf("generated coupon: %+v %s", got.Fulfilment, got.Status)
					}
				} else {
					gifts = append(gifts, got)
				}
			}
		}
		if gifts[0].Fulfilment.Code != "AMZ-1" || gifts[1].Fulfilment.Code != "AMZ-2" || gifts[0].Status != parrain.RewardPaid {
			t.Fatalf("gift codes: %+v %+v", gifts[0].Fulfilment, gifts[1].Fulfilment)
		}
		if gifts[2].Fulfilment.Status != parrain.FulfilWaitingCodes || gifts[2].Status != parrain.RewardApproved {
			t.Fatalf("dry pool: %+v", gifts[2].Fulfilment)
		}
		alerts, _ := e.St.Alerts(ctx, prog.ID, true)
		kinds := map[string]int{}
		for _, a := range alerts {
			kinds[a.Kind] = a.Occurrences
		}
		if kinds[store.AlertPoolEmpty] != 1 || kinds[store.AlertPoolLow] < 1 || kinds[store.AlertNoFulfilment] != 3 {
			t.Fatalf("alerts %+v", alerts)
		}
		// Importing codes delivers the waiting reward and resolves the alert.
		if _, _, err := e.Ref.ImportCodes(ctx, prog.ID, "amazon", []string{"AMZ-3", "AMZ-4", "AMZ-5"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		var state string
		if err := e.St.DB().QueryRow(`SELECT state FROM jobs WHERE unique_key = $1`, parrain.JobFulfilReward+":"+gifts[2].ID).Scan(&state); err != nil {
			t.Fatalf("query: %v", err)
		}
		if state != "available" {
			t.Fatalf("waiting delivery not kicked: %q", state)
		}
		if _, err := e.St.PrepareFulfilment(ctx, gifts[2].ID); err != nil {
			t.Fatal(err)
		}
		ex, _ := e.St.ExplainReward(ctx, prog.ID, gifts[2].ID)
		if ex.Fulfilment.Code != "AMZ-3" || ex.Status != parrain.RewardPaid {
			t.Fatalf("after import: %+v", ex.Fulfilment)
		}
		alerts, _ = e.St.Alerts(ctx, prog.ID, true)
		for _, a := range alerts {
			if a.Kind == store.AlertPoolEmpty {
				t.Errorf("empty-pool alert still open: %+v", a)
			}
		}
		pools, _ := e.St.CouponPools(ctx, prog.ID)
		if len(pools) != 2 || pools[0].Name != "amazon" || pools[0].Available != 2 || pools[0].Assigned != 3 || pools[1].Name != store.DefaultPool {
			t.Fatalf("pools %+v", pools)
		}
		// Each code went to one reward only.
		var dup int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM (SELECT reward_id FROM coupon_codes WHERE reward_id IS NOT NULL GROUP BY reward_id HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil {
			t.Fatalf("query: %v", err)
		}
		if dup != 0 {
			t.Fatal("a reward got two codes")
		}
		// Configuring a fulfilment URL resumes the credits waiting for it.
		p := prog
		p.Version = 0
		p.Fulfilment = &parrain.Fulfilment{URL: "https://crm.example/hook", Secret: testSecret}
		if _, _, err := e.Prog.Update(ctx, prog.ID, p, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		var waiting int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM jobs j JOIN reward_fulfilments f ON j.unique_key = 'reward.fulfil:' || f.reward_id
			WHERE f.status = 'waiting_for_config' AND j.state = 'available'`).Scan(&waiting); err != nil {
			t.Fatalf("query: %v", err)
		}
		if waiting != 3 {
			t.Fatalf("%d credit deliveries resumed, want 3", waiting)
		}
		rws, _, _ := e.St.ProgramRewards(ctx, prog.ID, store.RewardFilter{}, store.Page{})
		var creditID string
		for _, rw := range rws {
			if rw.Kind == parrain.KindCredit {
				creditID = rw.ID
			}
		}
		d, err := e.St.PrepareFulfilment(ctx, creditID)
		if err != nil || d.URL != "https://crm.example/hook" || d.Secret != testSecret || d.MsgID == "" {
			t.Fatalf("delivery %+v %v", d, err)
		}
		var body store.FulfilmentPayload
		if err := json.Unmarshal(d.Payload, &body); err != nil || body.Type != store.WebhookFulfilment || body.Data.Kind != parrain.KindCredit ||
			body.Data.Amount != 300 || body.Data.ExternalID != "adv" {
			t.Fatalf("payload %s %v", d.Payload, err)
		}
		// Failures count and alert; an acknowledgement settles.
		for i := 1; i <= store.FulfilmentFailAlertAfter; i++ {
			n, err := e.St.RecordFulfilment(ctx, creditID, false, "503 Service Unavailable")
			if err != nil || n != i {
				t.Fatalf("attempt %d: %d %v", i, n, err)
			}
		}
		alerts, _ = e.St.Alerts(ctx, prog.ID, true)
		failing := false
		for _, a := range alerts {
			failing = failing || a.Kind == store.AlertFulfilmentFail
		}
		if !failing {
			t.Fatalf("no failing alert: %+v", alerts)
		}
		if _, err := e.St.RecordFulfilment(ctx, creditID, true, ""); err != nil {
			t.Fatal(err)
		}
		ex, _ = e.St.ExplainReward(ctx, prog.ID, creditID)
		if ex.Status != parrain.RewardPaid || ex.Fulfilment.Status != parrain.FulfilFulfilled || ex.Fulfilment.Attempts != 9 || ex.Fulfilment.FulfilledAt == nil {
			t.Fatalf("acknowledged: %s %+v", ex.Status, ex.Fulfilment)
		}
		if b := e.Balance(adv.ID); b[parrain.BucketPaid] == 0 || b[parrain.BucketPending] != 0 {
			t.Errorf("balances %v", b)
		}
		// A reversed reward is never delivered.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "late", ReferralCode: adv.Code})
		late := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "late", OrderID: "late", Amount: 5000, Currency: "EUR"})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "late", Amount: 5000})
		if len(late.Rewards) != 2 {
			t.Fatalf("late purchase rewards %+v", late.Rewards)
		}
		for _, rw := range late.Rewards {
			if _, err := e.St.PrepareFulfilment(ctx, rw.ID); err != nil {
				t.Fatal(err)
			}
			ex, _ := e.St.ExplainReward(ctx, prog.ID, rw.ID)
			if ex.Status != parrain.RewardReversed || ex.Fulfilment.Status != parrain.FulfilCancelled || ex.Fulfilment.Code != "" {
				t.Errorf("reversed reward delivered: %s %+v", ex.Status, ex.Fulfilment)
			}
		}
		// Pool validation and isolation.
		if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, store.CouponPool{Name: "amazon"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("duplicate pool: %v", err)
		}
		if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, store.CouponPool{Name: "Bad Name"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("bad pool name: %v", err)
		}
		if _, _, err := e.Ref.ImportCodes(ctx, e.Program(nil).ID, "amazon", []string{"X"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("pool of another program: %v", err)
		}
	})
}

func TestContestsAndLeaderboards(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) { p.HoldDays = 7 })
		start := e.Clock.Now()
		c, _, err := e.Ref.CreateContest(ctx, prog.ID, parrain.Contest{Name: "November", StartsAt: start, EndsAt: start.Add(10 * 24 * time.Hour),
			TieRule: parrain.TieShared, Public: true, Prizes: []parrain.Prize{
				{Rank: 1, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 50000}},
				{Rank: 2, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 20000}}}}, store.Idem{})
		if err != nil || c.Status != parrain.ContestRunning {
			t.Fatalf("create: %+v %v", c, err)
		}
		names := map[string]string{"ann": "Ann Lee", "bob": "Bob Stone", "cat": ""}
		advs := map[string]parrain.Participant{}
		for ext, name := range names {
			p, _, _ := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: ext, Name: name}, store.Idem{})
			advs[ext] = p
		}
		n := 0
		refer := func(adv string, buy bool) {
			n++
			f := fmt.Sprint("friend", n)
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: f, ReferralCode: advs[adv].Code})
			if buy {
				e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: f, Amount: 1000, Currency: "EUR"})
			}
			e.Clock.Advance(time.Hour)
		}
		refer("ann", true)
		refer("bob", true)
		refer("ann", true)
		refer("cat", false) // signed up, never bought: not successful
		refer("bob", true)
		refer("cat", true)
		lb, err := e.Ref.ContestLeaderboard(ctx, prog.ID, c.ID, 10)
		if err != nil || len(lb.Entries) != 3 || lb.Entries[0].Rank != 1 || lb.Entries[1].Rank != 1 || lb.Entries[2].Rank != 3 ||
			lb.Entries[2].ExternalID != "cat" || lb.Entries[0].Score != 2 {
			t.Fatalf("leaderboard %+v %v", lb.Entries, err)
		}
		pub, err := e.Ref.PublicLeaderboard(ctx, c.ID, 10)
		if err != nil || pub.Entries[0].ExternalID != "" || pub.Entries[0].Name != "" || pub.Entries[0].DisplayName != "Ann L." ||
			pub.Entries[2].DisplayName != "Advocate #3" {
			t.Fatalf("public %+v %v", pub.Entries, err)
		}
		if nb, err := e.Ref.FinishContest(ctx, c.ID); err != nil || !nb.Equal(c.EndsAt) {
			t.Fatalf("finish before the end: %v %v", nb, err)
		}
		// A success after the end does not count.
		e.Clock.Set(c.EndsAt.Add(time.Minute))
		refer("cat", true)
		refer("cat", true)
		if _, err := e.Ref.FinishContest(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Ref.FinishContest(ctx, c.ID); err != nil { // idempotent
			t.Fatal(err)
		}
		got, err := e.Ref.Contest(ctx, prog.ID, c.ID)
		if err != nil || got.Status != parrain.ContestFinished || len(got.Winners) != 2 {
			t.Fatalf("finished %+v %v", got, err)
		}
		for _, w := range got.Winners {
			if w.Rank != 1 || w.Amount != 50000 || (w.ExternalID != "ann" && w.ExternalID != "bob") {
				t.Errorf("winner %+v", w)
			}
			ex, err := e.St.ExplainReward(ctx, prog.ID, w.RewardID)
			if err != nil || ex.Trigger != parrain.TriggerContest || ex.Explain.Contest != c.ID || len(ex.Ledger) != 1 ||
				!ex.HoldUntil.Equal(c.EndsAt.Add(7*24*time.Hour)) || !strings.Contains(ex.Explanation, "shared") {
				t.Errorf("prize %+v %+v %v", ex.Reward, ex.Explain, err)
			}
		}
		var prizes int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM rewards WHERE trigger_type = 'contest'`).Scan(&prizes); err != nil {
			t.Fatalf("query: %v", err)
		}
		if prizes != 2 {
			t.Errorf("%d prizes recorded", prizes)
		}
		// Private contests have no public leaderboard; contests are
		// isolated per program.
		priv, _, _ := e.Ref.CreateContest(ctx, prog.ID, parrain.Contest{Name: "Private", StartsAt: start, EndsAt: start.Add(time.Hour),
			Prizes: []parrain.Prize{{Rank: 1, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 1}}}}, store.Idem{})
		if _, err := e.Ref.PublicLeaderboard(ctx, priv.ID, 10); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("private public: %v", err)
		}
		if _, err := e.Ref.Contest(ctx, e.Program(nil).ID, c.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("foreign program: %v", err)
		}
		if _, _, err := e.Ref.CreateContest(ctx, prog.ID, parrain.Contest{Name: "x"}, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "starts_at" {
			t.Errorf("invalid contest: %v", err)
		}
	})
}

// count returns a row count, for checking that nothing was written.
func (e *env) count(table string) int {
	var n int
	if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

func TestDryRunWritesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		before := map[string]int{}
		tables := []string{"participants", "referrals", "events", "purchases", "rewards", "ledger_entries", "jobs", "referral_stages", "idempotency_keys"}
		for _, tb := range tables {
			before[tb] = e.count(tb)
		}
		res, err := e.Ref.DryRun(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "guest", ReferralCode: adv.Code,
			OrderID: "o", Amount: 5000, Currency: "EUR"}, nil)
		if err != nil || !res.DryRun || res.RuleVersion != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		wantAmounts(t, "dry run", res.Rewards, map[string]int64{"rule_1/advocate": 2000, "rule_1/friend": 1000})
		// With proposed rules.
		p := prog
		p.Rules = []parrain.RewardRule{{ID: "new", Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 2500}}}
		res, err = e.Ref.DryRun(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "guest", ReferralCode: adv.Code,
			OrderID: "o", Amount: 5000, Currency: "EUR"}, &p)
		if err != nil || res.RuleVersion != 2 {
			t.Fatalf("proposed: %+v %v", res, err)
		}
		wantAmounts(t, "proposed", res.Rewards, map[string]int64{"new/advocate": 1250})
		for _, tb := range tables {
			if n := e.count(tb); n != before[tb] {
				t.Errorf("dry run wrote to %s: %d → %d", tb, before[tb], n)
			}
		}
		if _, err := e.Ref.DryRun(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase}, nil); parrain.AsError(err) == nil || parrain.AsError(err).Field != "external_id" {
			t.Errorf("invalid event: %v", err)
		}
		p.Currency = "USD"
		if _, err := e.Ref.DryRun(ctx, prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "x"}, &p); parrain.AsError(err) == nil ||
			parrain.AsError(err).Field != "program.currency" {
			t.Errorf("currency change: %v", err)
		}
	})
}

func TestReplay(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			b2b(p)
			p.Currency = "EUR"
			p.FXRates = map[string]string{"USD": "0.9"}
			p.Rules = append(p.Rules,
				parrain.RewardRule{ID: "tier", Trigger: parrain.TriggerPurchase, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent,
					PercentBps: 1000, Tiers: []parrain.TierStep{{From: 2, PercentBps: 1500}}}, Friend: &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 500}})
			p.Caps = &parrain.Caps{PerParticipant: &parrain.PeriodCap{Amount: 800000, Period: parrain.PeriodMonth}}
		})
		a, b := e.Advocate(prog.ID, "ann", ""), e.Advocate(prog.ID, "bob", "")
		// Before the window: one success of Ann.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: "old", Stage: "closed_won", ReferralCode: a.Code, Value: i64(100000), Currency: "EUR"})
		e.Clock.Advance(40 * 24 * time.Hour)
		for i := range 6 {
			adv := []parrain.Participant{a, b}[i%2]
			f := fmt.Sprint("lead", i)
			e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: f, Stage: "demo_completed", ReferralCode: adv.Code})
			e.Event(prog.ID, parrain.Event{Type: parrain.EventStage, ExternalID: f, Stage: "closed_won", Value: i64(int64(1000000 * (i + 1))), Currency: "USD"})
			e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: f, OrderID: f, Amount: int64(10000 * (i + 1)), Currency: "EUR"})
			if i == 2 {
				e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: f, Amount: 10000})
				e.Event(prog.ID, parrain.Event{Type: parrain.EventContract, ExternalID: f, Value: i64(5000000), Currency: "USD"})
			}
			if i == 3 {
				e.Event(prog.ID, parrain.Event{Type: parrain.EventCancel, ExternalID: f})
			}
			e.Clock.Advance(36 * time.Hour)
		}
		cur, _ := e.St.Program(ctx, prog.ID)
		// The same rules replayed give exactly what was granted.
		rep, err := e.Ref.Replay(ctx, prog.ID, cur, 30)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Actual == 0 || rep.Total.Delta != 0 || rep.Total.ActualRewards != rep.Total.ProposedRewards || rep.Events == 0 {
			js, _ := json.MarshalIndent(rep, "", " ")
			t.Fatalf("same rules differ:\n%s", js)
		}
		for _, p := range rep.Participants {
			if p.Delta != 0 {
				t.Errorf("participant %s: %+v", p.ExternalID, p.ReplayLine)
			}
		}
		// Doubling the stage rewards and removing the coupon.
		prop := cur
		prop.Rules = nil
		for _, r := range cur.Rules {
			r2 := r
			if r.Advocate != nil {
				s := *r.Advocate
				s.Amount *= 2
				r2.Advocate = &s
			}
			r2.Friend = nil
			if r2.Advocate != nil || r2.Friend != nil {
				prop.Rules = append(prop.Rules, r2)
			}
		}
		rep2, err := e.Ref.Replay(ctx, prog.ID, prop, 30)
		if err != nil {
			t.Fatal(err)
		}
		byRule := map[string]referral.ReplayRule{}
		for _, r := range rep2.Rules {
			byRule[r.RuleID] = r
		}
		if c := byRule["completed"]; c.Proposed != 2*c.Actual || c.Actual == 0 {
			t.Errorf("completed: %+v", c)
		}
		if c := byRule["tier"]; c.ProposedRewards >= c.ActualRewards {
			t.Errorf("tier without coupons: %+v", c)
		}
		if rep2.Total.Delta == 0 || rep2.ProposedVersion != cur.Version+1 {
			t.Errorf("total %+v", rep2.Total)
		}
		// Replays write nothing and validate their input.
		if _, err := e.Ref.Replay(ctx, prog.ID, prop, 0); parrain.AsError(err) == nil || parrain.AsError(err).Field != "days" {
			t.Errorf("days: %v", err)
		}
	})
}
