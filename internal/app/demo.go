package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// SeedDemo fills an empty database with a demo program: advocates, clicks,
// signups, purchases, a refund and rewards in every state, so that every
// screen has something to show. It does nothing if any program exists.
func SeedDemo(ctx context.Context, st *store.Store, ref *referral.Service, log *slog.Logger) error {
	ps, _, err := st.Programs(ctx, store.Page{Limit: 1})
	if err != nil || len(ps) > 0 {
		return err
	}
	now := st.Clock().Now()
	// Personalised rewards (VIP advocates earn more, German-speaking
	// friends a bigger coupon) and activity-based success: a friend who
	// never used the product during the hold earns nobody a reward.
	demo := parrain.Program{
		Name:       "Acme friends & family",
		LandingURL: "https://acme.example/signup",
		Currency:   "EUR",
		HoldDays:   30,
		Rules: []parrain.RewardRule{
			{ID: "welcome", Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000, Variants: []parrain.RewardVariant{
					{When: parrain.VariantCondition{Advocate: &parrain.PersonCondition{Attributes: map[string][]string{"vip": {"true"}}}}, Amount: 3000}}},
				Friend: &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000, Variants: []parrain.RewardVariant{
					{When: parrain.VariantCondition{Friend: &parrain.PersonCondition{Locales: []string{"de"}}}, Amount: 1500}}}},
			{ID: "loyalty", Trigger: parrain.TriggerPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountPercent, PercentBps: 500, MaxAmount: 2500}},
		},
	}
	demo.Activity = &parrain.ActivityRequirement{Required: true}
	prog, _, err := program.New(st).Create(ctx, demo, store.Idem{})
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(42, 2026))
	names := []string{"Alice Martin", "Bruno Petit", "Chloé Bernard", "David Leroy", "Emma Moreau", "Farid Haddad", "Giulia Rossi",
		"Hugo Laurent", "Inès Garcia", "Jonas Weber", "Karin Olsen", "Léa Fontaine"}
	var advocates []parrain.Participant
	for i, n := range names {
		in := parrain.ParticipantInput{
			ExternalID: fmt.Sprintf("cust_%03d", i+1), Name: n, Email: fmt.Sprintf("advocate%d@acme.example", i+1), Locale: []string{"en", "fr"}[i%2],
		}
		if i%4 == 0 {
			in.Attributes = &parrain.Attributes{"vip": true}
		}
		p, _, err := referral.New(st).UpsertParticipant(ctx, prog.ID, in, store.Idem{})
		if err != nil {
			return err
		}
		advocates = append(advocates, p)
	}
	var clicks []store.Click
	friend := 0
	for day := 59; day >= 0; day-- {
		for range 2 + r.IntN(5) {
			a := advocates[r.IntN(len(advocates)/2+r.IntN(len(advocates)/2+1))%len(advocates)]
			at := now.Add(-time.Duration(day)*24*time.Hour - time.Duration(r.IntN(20*60))*time.Minute)
			clicks = append(clicks, store.Click{ProgramID: prog.ID, ParticipantID: a.ID, Code: a.Code, Valid: true,
				UserAgent: "Mozilla/5.0 (demo)", Referer: []string{"https://mail.example/", "https://social.example/", ""}[r.IntN(3)], At: at})
			if r.IntN(3) != 0 {
				continue
			}
			friend++
			fid := fmt.Sprintf("friend_%03d", friend)
			signup := at.Add(time.Duration(10+r.IntN(600)) * time.Minute)
			if signup.After(now) {
				signup = now
			}
			if _, _, err := ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fid,
				Email: fmt.Sprintf("friend%d@mail.example", friend), Name: fmt.Sprintf("Friend %d", friend), Locale: []string{"en", "fr", "de"}[friend%3],
				Touches: []parrain.Touch{{Code: a.Code, At: at.Truncate(time.Second)}}, OccurredAt: signup}, store.Idem{}); err != nil {
				return err
			}
			if r.IntN(3) == 0 {
				continue
			}
			buy := signup.Add(time.Duration(1+r.IntN(72)) * time.Hour)
			if buy.After(now) {
				buy = now
			}
			order := fmt.Sprintf("demo_order_%03d", friend)
			if _, _, err := ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: fid, OrderID: order,
				Amount: int64(2900 + 100*r.IntN(200)), Currency: "EUR", OccurredAt: buy}, store.Idem{}); err != nil {
				return err
			}
			// Most friends use the product in the days after buying; one in
			// eight never does, and its rewards are voided as inactive.
			if friend%8 != 0 {
				for d := range 1 + r.IntN(4) {
					seen := buy.Add(time.Duration(1+d*3+r.IntN(3))*24*time.Hour + time.Duration(r.IntN(600))*time.Minute)
					if seen.After(now) {
						break
					}
					if _, _, err := ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventActivity, ExternalID: fid,
						OccurredAt: seen}, store.Idem{}); err != nil {
						return err
					}
				}
			}
			if friend%9 == 0 {
				if _, _, err := ref.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: order,
					Amount: 2900, OccurredAt: buy.Add(time.Hour)}, store.Idem{}); err != nil {
					return err
				}
			}
		}
	}
	// Visits of unknown codes count as invalid clicks.
	clicks = append(clicks, store.Click{Code: "NOSUCH1", Valid: false, UserAgent: "Mozilla/5.0 (demo)", At: now.Add(-time.Hour)})
	if err := st.InsertClicks(ctx, clicks); err != nil {
		return err
	}
	// The friend's personalised landing page on /r/{code}, and a widget
	// secret so the widget can be tried (see docs/integration.md).
	x, err := st.Experience(ctx, prog.ID)
	if err != nil {
		return err
	}
	x.LandingPage = true
	if _, err := ref.SetExperience(ctx, prog.ID, x); err != nil {
		return fmt.Errorf("demo experience: %w", err)
	}
	ws, _, err := ref.RotateWidgetSecret(ctx, prog.ID, store.Idem{})
	if err != nil {
		return fmt.Errorf("demo widget secret: %w", err)
	}
	log.Info("demo widget secret (shown once; sign widget tokens with it, see docs/integration.md)", "program_id", prog.ID, "secret", ws.Secret)
	// Suspicious signups for the fraud review queue: a throwaway address
	// (held), an advocate's own device (rejected), a shared office IP
	// (approved: never decisive alone).
	if err := seedFraudDemo(ctx, st, ref, prog.ID, advocates[0], now); err != nil {
		return fmt.Errorf("seeding the fraud demo: %w", err)
	}
	// The reward engine's demo programs: tiered, multi-stage B2B, a contest.
	if err := seedEngineDemo(ctx, st, ref, log); err != nil {
		return fmt.Errorf("seeding the reward engine demo: %w", err)
	}
	key, _, err := access.New(st, log, access.Config{}).CreateAPIKey(ctx, "demo", nil, "")
	if err != nil {
		return err
	}
	log.Info("demo program created", "program_id", prog.ID, "advocates", len(advocates), "friends", friend, "clicks", len(clicks))
	log.Info("demo API key (shown once; create more with `parrain apikey create`)", "key", key)
	// The B2B partner program (issue 6): tiers, partners, deals at every stage.
	if err := SeedPartnerDemo(ctx, st, log); err != nil {
		return fmt.Errorf("seeding the partner demo: %w", err)
	}
	return nil
}

// seedEngineDemo adds the reward engine's demo: a tiered program with a
// milestone bonus and a running public contest, and a multi-stage B2B
// partner program with partner-tier commissions on contract value,
// true-ups, a gift card pool and leads at every stage.
func seedEngineDemo(ctx context.Context, st *store.Store, ref *referral.Service, log *slog.Logger) error {
	now := st.Clock().Now()
	r := rand.New(rand.NewPCG(7, 2026))
	ev := func(programID string, e parrain.Event) error {
		_, _, err := ref.IngestEvent(ctx, programID, e, store.Idem{})
		return err
	}

	// Tiered: 10 € per referral, 20 € from the 5th, a 50 € bonus at the 5th,
	// a 20 % coupon for the friend, paying customers only, capped monthly.
	tiered := parrain.Program{Name: "Acme Pro — tiered referrals", LandingURL: "https://acme.example/pro", Currency: "EUR", HoldDays: 14,
		Rules: []parrain.RewardRule{
			{ID: "referral", Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 1000, Tiers: []parrain.TierStep{{From: 5, Amount: 2000}}},
				Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 500, PercentOffBps: 2000, Deliver: parrain.DeliverImmediately}},
			{ID: "fifth", Trigger: parrain.TriggerMilestone, Milestone: &parrain.Milestone{Count: 5},
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 5000}},
		}}
	tiered.Key = "demo-tiered"
	tiered.Eligibility = &parrain.Eligibility{Advocates: &parrain.AdvocateEligibility{PayingOnly: true},
		Purchases: &parrain.PurchaseEligibility{MinAmount: 1500}}
	tiered.Caps = &parrain.Caps{PerParticipant: &parrain.PeriodCap{Amount: 30000, Period: parrain.PeriodMonth}}
	tiered.Terms = &parrain.TermsSettings{Notes: "Rewards are paid to the bank account in your Acme profile."}
	programs := program.New(st)
	tp, _, err := programs.Create(ctx, tiered, store.Idem{})
	if err != nil {
		return err
	}
	if _, _, err := ref.CreateContest(ctx, tp.ID, parrain.Contest{Name: "Autumn referral sprint", Description: "Most successful referrals wins.",
		StartsAt: now.Add(-10 * 24 * time.Hour), EndsAt: now.Add(20 * 24 * time.Hour), Public: true, MinReferrals: 2,
		Prizes: []parrain.Prize{{Rank: 1, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 20000}},
			{Rank: 2, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 10000}},
			{Rank: 3, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Amount: 5000}}}}, store.Idem{}); err != nil {
		return err
	}
	names := []string{"Maya Dubois", "Noah Schmidt", "Olivia Rossi", "Paul Henry", "Quentin Blanc", "Rosa Diaz"}
	friends := 0
	for i, n := range names {
		attrs := parrain.Attributes{"paying": i != 5, "plan": []string{"pro", "business"}[i%2]}
		adv, _, err := referral.New(st).UpsertParticipant(ctx, tp.ID, parrain.ParticipantInput{ExternalID: fmt.Sprintf("pro_%02d", i+1), Name: n,
			Email: fmt.Sprintf("pro%d@acme.example", i+1), Attributes: &attrs}, store.Idem{})
		if err != nil {
			return err
		}
		for k := range 7 - i {
			friends++
			fid := fmt.Sprintf("pro_friend_%03d", friends)
			at := now.Add(-time.Duration(40-k*5-r.IntN(4)) * 24 * time.Hour)
			if err := ev(tp.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fid, ReferralCode: adv.Code, OccurredAt: at}); err != nil {
				return err
			}
			if err := ev(tp.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: fid, OrderID: "pro_" + fid, Plan: "annual",
				Amount: int64(1200 + 100*r.IntN(60)), Currency: "EUR", OccurredAt: at.Add(2 * time.Hour)}); err != nil {
				return err
			}
		}
	}

	// Multi-stage B2B: a gift card at demo_booked, 250 $ at demo_completed,
	// 15–25 % of the first-year contract value at closed_won (by partner
	// tier) with true-ups for a year, a bonus for the first deal.
	b2b := parrain.Program{Name: "Partner program (B2B)", LandingURL: "https://saas.example/partners", Currency: "USD", HoldDays: 60,
		Rules: []parrain.RewardRule{
			{ID: "demo_booked", Trigger: parrain.TriggerStage, Stage: "demo_booked",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindGiftCard, Type: parrain.AmountFixed, Amount: 2500, Pool: "gift-25", Deliver: parrain.DeliverImmediately}},
			{ID: "demo_completed", Trigger: parrain.TriggerStage, Stage: "demo_completed",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 25000}},
			{ID: "closed_won", Trigger: parrain.TriggerStage, Stage: "closed_won",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1500,
					PartnerRates: map[string]int64{"referral": 1500, "active": 2500}, TrueUpMonths: 12}},
			{ID: "first_deal", Trigger: parrain.TriggerMilestone, Milestone: &parrain.Milestone{Count: 1},
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 50000}},
		}}
	b2b.Key = "demo-b2b"
	b2b.Stages = []parrain.Stage{{Name: "demo_booked", Label: "Demo booked"}, {Name: "demo_completed", Label: "Demo completed"}, {Name: "closed_won", Label: "Closed won"}}
	b2b.Success = &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"}
	b2b.FXRates = map[string]string{"EUR": "1.08", "GBP": "1.27"}
	b2b.Caps = &parrain.Caps{PerReferral: 5000000, Budget: &parrain.PeriodCap{Amount: 50000000, Period: parrain.PeriodYear}, OnCap: parrain.CapReview}
	bp, _, err := programs.Create(ctx, b2b, store.Idem{})
	if err != nil {
		return err
	}
	if _, _, err := ref.CreateCouponPool(ctx, bp.ID, store.CouponPool{Name: "gift-25", LowWater: 5}, store.Idem{}); err != nil {
		return err
	}
	var codes []string
	for i := range 12 {
		codes = append(codes, fmt.Sprintf("GIFT25-DEMO-%04d", 1000+i*37))
	}
	if _, _, err := ref.ImportCodes(ctx, bp.ID, "gift-25", codes, store.Idem{}); err != nil {
		return err
	}
	partners := []struct{ id, name, tier string }{{"agency_blue", "Blue Agency", "active"}, {"consult_ivy", "Ivy Consulting", "referral"}, {"freelance_sam", "Sam Okafor", "referral"}}
	var codesByPartner []string
	for _, pt := range partners {
		attrs := parrain.Attributes{"partner_tier": pt.tier}
		p, _, err := referral.New(st).UpsertParticipant(ctx, bp.ID, parrain.ParticipantInput{ExternalID: pt.id, Name: pt.name, Attributes: &attrs}, store.Idem{})
		if err != nil {
			return err
		}
		codesByPartner = append(codesByPartner, p.Code)
	}
	value := func(v int64) *int64 { return &v }
	leads := []struct {
		id      string
		partner int
		stages  []string // in the order they are reported (out of order on purpose for some)
		acv     int64
		cur     string
	}{
		{"lead_northwind", 0, []string{"demo_booked", "demo_completed", "closed_won"}, 4800000, "USD"},
		{"lead_globex", 0, []string{"demo_booked", "closed_won", "demo_completed"}, 3000000, "EUR"},
		{"lead_initech", 1, []string{"demo_booked", "demo_completed"}, 0, ""},
		{"lead_umbrella", 1, []string{"demo_booked", "demo_completed", "closed_won"}, 12000000, "USD"},
		{"lead_hooli", 2, []string{"demo_booked"}, 0, ""},
		{"lead_stark", 2, []string{"demo_completed", "demo_booked", "closed_won"}, 2500000, "GBP"},
	}
	for i, l := range leads {
		at := now.Add(-time.Duration(90-i*12) * 24 * time.Hour)
		for k, s := range l.stages {
			e := parrain.Event{Type: parrain.EventStage, ExternalID: l.id, Stage: s, OccurredAt: at.Add(time.Duration(k*7) * 24 * time.Hour)}
			if k == 0 {
				e.ReferralCode = codesByPartner[l.partner]
			}
			if s == "closed_won" {
				e.Value, e.Currency = value(l.acv), l.cur
			}
			if err := ev(bp.ID, e); err != nil {
				return err
			}
		}
	}
	// Northwind expands, Umbrella contracts, within the first year.
	if err := ev(bp.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "lead_northwind", Value: value(6000000), Currency: "USD",
		OccurredAt: now.Add(-10 * 24 * time.Hour)}); err != nil {
		return err
	}
	if err := ev(bp.ID, parrain.Event{Type: parrain.EventContract, ExternalID: "lead_umbrella", Value: value(9000000), Currency: "USD",
		OccurredAt: now.Add(-5 * 24 * time.Hour)}); err != nil {
		return err
	}
	log.Info("demo reward engine programs created", "tiered_program_id", tp.ID, "b2b_program_id", bp.ID, "tiered_friends", friends, "leads", len(leads))
	return nil
}

func seedFraudDemo(ctx context.Context, st *store.Store, ref *referral.Service, programID string, adv parrain.Participant, now time.Time) error {
	if _, _, err := referral.New(st).UpsertParticipant(ctx, programID, parrain.ParticipantInput{ExternalID: adv.ExternalID,
		Context: &parrain.EventContext{IP: "203.0.113.20", DeviceID: "demo-device-alice", UserAgent: "Mozilla/5.0 (Macintosh) Safari/605"}}, store.Idem{}); err != nil {
		return err
	}
	for i, ev := range []parrain.Event{
		{ExternalID: "suspect_1", Email: "promo.hunter@mailinator.com", Context: &parrain.EventContext{IP: "198.51.100.40"}},
		{ExternalID: "suspect_2", Email: "alice.second@mail.example", Context: &parrain.EventContext{DeviceID: "demo-device-alice"}},
		{ExternalID: "colleague_1", Email: "sam@office.example", Context: &parrain.EventContext{IP: "203.0.113.20", UserAgent: "Mozilla/5.0 (Windows NT 10.0) Chrome/131"}},
	} {
		ev.Type, ev.ReferralCode, ev.OccurredAt = parrain.EventSignup, adv.Code, now.Add(-time.Duration(3-i)*time.Hour)
		if _, _, err := ref.IngestEvent(ctx, programID, ev, store.Idem{}); err != nil {
			return err
		}
	}
	return nil
}

// logDemoAccess tells, at every start with --demo, where to look: the
// console (and how to get in) and the partner portal with a partner's
// email to sign in with.
func (m *Main) logDemoAccess(ctx context.Context) {
	users, err := m.st.Users(ctx)
	if err != nil {
		m.log.Warn("demo: listing console users", "err", err)
	}
	signIn := "sign in with your console user"
	if err == nil && len(users) == 0 {
		signIn = "no console user yet: the first visit creates the owner at " + m.cfg.BaseURL + "/admin/setup (or run `parrain user create --role owner --email you@example.com`)"
	}
	m.log.Info("demo console", "url", m.cfg.BaseURL+"/admin/", "sign_in", signIn)
	m.log.Info("demo partner portal", "url", m.cfg.BaseURL+"/partners/acme-partners/login", "partner_email", "contact@noraconsulting.example",
		"sign_in", "ask for an email link; without --smtp-host the link is printed in this log")
}
