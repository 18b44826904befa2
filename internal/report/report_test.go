package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

var ctx = context.Background()

var alice = store.Actor{UserID: "usr_alice", Email: "alice@corp.example", IP: "192.0.2.1"}

// asUser is ctx carrying a console user as the actor of the use cases.
func asUser(a store.Actor) context.Context {
	return parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorUser, ID: a.UserID, Label: a.Email, IP: a.IP})
}

func TestKPIs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) {
		rep := report.New(e.St)
		prog := e.Program(func(p *parrain.Program) { p.HoldDays = 0 })
		day := 24 * time.Hour
		now := e.Clock.Now()
		// The period ends just after now, so that what is created now (by
		// this test) existed in it.
		cur := parrain.KPIPeriod{From: now.Add(-7 * day), To: now.Add(time.Hour)}
		prev := cur.Previous()
		if !prev.To.Equal(cur.From) || prev.Days() != 7 || !prev.From.Equal(now.Add(-14*day-time.Hour)) {
			t.Fatalf("previous %+v", prev)
		}
		a := e.Advocate(prog.ID, "a", "a@x.example")
		b := e.Advocate(prog.ID, "b", "b@x.example")
		e.Advocate(prog.ID, "c", "c@x.example")
		var clicks []store.Click
		click := func(p parrain.Participant, at time.Time, valid bool) {
			clicks = append(clicks, store.Click{ProgramID: prog.ID, ParticipantID: p.ID, Code: p.Code, Valid: valid, At: at})
		}
		// Current period: a has 3 clicks, b 1, plus an invalid one.
		click(a, now.Add(-1*day), true)
		click(a, now.Add(-2*day), true)
		click(a, now.Add(-2*day+time.Hour), true)
		click(b, now.Add(-3*day), true)
		click(b, now.Add(-3*day), false)
		// Previous period: a has 1 click.
		click(a, now.Add(-10*day), true)
		if err := e.St.InsertClicks(ctx, clicks); err != nil {
			t.Fatal(err)
		}
		sign := func(friend string, adv parrain.Participant, at time.Time) {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: friend, Email: friend + "@f.example", ReferralCode: adv.Code, OccurredAt: at})
		}
		buy := func(friend, order string, amount int64, cur string, at time.Time) {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: friend, OrderID: order, Amount: amount, Currency: cur, OccurredAt: at})
		}
		sign("f1", a, now.Add(-2*day))
		sign("f2", a, now.Add(-2*day))
		sign("f3", b, now.Add(-3*day))
		sign("old", a, now.Add(-10*day))
		buy("f1", "o1", 10000, "EUR", now.Add(-1*day)) // converts: advocate 20, friend 10
		buy("f1", "o2", 5000, "EUR", now.Add(-1*day))  // repeat purchase: no reward (first_purchase rule only)
		buy("f3", "o3", 3000, "USD", now.Add(-1*day))  // converts, other currency
		buy("old", "o4", 4000, "EUR", now.Add(-9*day)) // previous period
		e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: "o2", Amount: 1000})
		// A self-referral is neither a signup nor revenue.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "self2", Email: "A@x.example", ReferralCode: a.Code, OccurredAt: now.Add(-day)})
		buy("self2", "o5", 9999, "EUR", now.Add(-day))
		k, err := rep.KPIs(ctx, prog, cur)
		if err != nil {
			t.Fatal(err)
		}
		// Advocates: a, b, c and the friends f1, f2, f3, old and self2.
		want := parrain.ProgramKPIs{Advocates: 8, Participating: 2, Sharers: 2, Clicks: 4, Signups: 3, Rejected: 1, Conversions: 2, Purchases: 3,
			Revenue: 10000 + 5000 - 1000}
		if k.Advocates != want.Advocates || k.Participating != want.Participating || k.Sharers != want.Sharers || k.Clicks != want.Clicks ||
			k.Signups != want.Signups || k.Rejected != want.Rejected || k.Conversions != want.Conversions || k.Purchases != want.Purchases ||
			k.Revenue != want.Revenue || k.OtherRevenue["USD"] != 3000 || k.SharesTracked {
			t.Errorf("kpis %+v", k)
		}
		// Rewards: f1's and f3's first purchases, each 20 + 10 = 30.00 (the
		// USD purchase's fixed rewards are in EUR, the program currency).
		if k.RewardsCost() != 6000 || k.Rewards[parrain.RewardPending] != 6000 {
			t.Errorf("rewards %v", k.Rewards)
		}
		pk, err := rep.KPIs(ctx, prog, prev)
		if err != nil || pk.Clicks != 1 || pk.Signups != 1 || pk.Conversions != 1 || pk.Revenue != 4000 || pk.RewardsCost() != 3000 || pk.Advocates != 1 {
			t.Errorf("previous kpis %+v %v", pk, err)
		}
		days, err := rep.DailySeries(ctx, prog.ID, cur)
		if err != nil || len(days) != 8 { // 7 days not aligned to midnight span 8 calendar days
			t.Fatalf("days %d %v", len(days), err)
		}
		var sumC, sumS, sumV int64
		for _, d := range days {
			sumC, sumS, sumV = sumC+d.Clicks, sumS+d.Signups, sumV+d.Conversions
		}
		if sumC != 4 || sumS != 3 || sumV != 2 {
			t.Errorf("series sums %d %d %d", sumC, sumS, sumV)
		}
		top, err := rep.TopAdvocates(ctx, prog, cur, 5)
		if err != nil || len(top) != 2 {
			t.Fatalf("top %+v %v", top, err)
		}
		if top[0].Participant.ExternalID != "a" || top[0].Clicks != 3 || top[0].Signups != 2 || top[0].Conversions != 1 || top[0].Revenue != 14000 ||
			top[1].Participant.ExternalID != "b" || top[1].Conversions != 1 || top[1].Revenue != 0 {
			t.Errorf("top %+v", top)
		}
		// Approving changes the split, not the cost.
		e.Clock.Advance(time.Second)
		rws, _, err := e.St.RewardsPage(ctx, store.RewardQuery{ProgramID: prog.ID, Status: "pending"}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		al, err := rep.Alerts(ctx, prog.ID)
		// No hold: every pending reward is overdue (the job has not run).
		if err != nil || len(rws) != 6 || al.PendingRewards != 6 || al.OverdueRewards != 6 || al.FlaggedLast30 != 1 || al.UnderReview != 0 {
			t.Errorf("alerts %+v %v", al, err)
		}
		var o1 parrain.Reward
		for _, rw := range rws {
			if rw.OrderID == "o1" && rw.Role == parrain.RoleAdvocate {
				o1 = rw
			}
		}
		if _, err := e.Ref.ApproveRewardNow(asUser(alice), prog.ID, o1.ID); err != nil {
			t.Fatal(err)
		}
		k2, err := rep.KPIs(ctx, prog, cur)
		if err != nil {
			t.Fatal(err)
		}
		if k2.RewardsCost() != 6000 || k2.Rewards[parrain.RewardApproved] != 2000 || k2.Rewards[parrain.RewardPending] != 4000 {
			t.Errorf("after approval %v", k2.Rewards)
		}
		// In the previous period nobody existed yet (everything was created
		// now, as by a late import) but a took part: a counts.
		// Shares, once the program records them, replace the click proxy.
		if err := e.St.InsertClicks(ctx, []store.Click{{ProgramID: prog.ID, ParticipantID: a.ID, Code: a.Code, Valid: true, At: now}}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []parrain.Participant{a, a, b} {
			if _, err := e.Ref.RecordShare(ctx, prog.ID, p.ID, "email"); err != nil {
				t.Fatal(err)
			}
		}
		around := parrain.KPIPeriod{From: now.Add(-time.Hour), To: now.Add(time.Hour)}
		ks, err := rep.KPIs(ctx, prog, around)
		if err != nil || !ks.SharesTracked || ks.Shares != 2 || ks.Sharers != 2 || ks.Participating != 2 || ks.Clicks != 1 { // the second share of a is debounced
			t.Errorf("with shares %+v %v", ks, err)
		}
	})
}
