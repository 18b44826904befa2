package parrain

import (
	"strings"
	"testing"
)

// engineProgram is a valid program using every engine setting.
func engineProgram() Program {
	p := Program{Name: "B2B", LandingURL: "https://b2b.example/", Currency: "USD", Rules: []RewardRule{
		{ID: "demo", Trigger: TriggerStage, Stage: "demo_booked", Advocate: &RewardSpec{Kind: KindGiftCard, Type: AmountFixed, Amount: 2500, Pool: "amazon"}},
		{ID: "won", Trigger: TriggerStage, Stage: "closed_won", Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000,
			PartnerRates: map[string]int64{"referral": 1200, "active": 2200}, TrueUpMonths: 12}},
		{ID: "rec", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, Months: 12,
			IntroPayments: 3, IntroPercentBps: 2000}},
		{ID: "tier", Trigger: TriggerFirstPurchase, Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 1000,
			Tiers: []TierStep{{From: 5, Amount: 2000}}}, Friend: &RewardSpec{Kind: KindFeatureUnlock, Type: AmountFixed, Amount: 900, Feature: "premium", Days: 30}},
		{ID: "bonus", Trigger: TriggerMilestone, Milestone: &Milestone{Count: 5}, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 5000}},
	}}
	p.Stages = []Stage{{Name: "demo_booked"}, {Name: "closed_won", Label: "Closed won"}}
	p.Success = &Success{Trigger: TriggerStage, Stage: "closed_won"}
	p.Eligibility = &Eligibility{Advocates: &AdvocateEligibility{Plans: []string{"pro"}}, Purchases: &PurchaseEligibility{MinAmount: 100}}
	p.Caps = &Caps{PerReferral: 100000, PerParticipant: &PeriodCap{Amount: 500000, Period: PeriodQuarter}, Budget: &PeriodCap{Amount: 10000000}}
	p.FXRates = map[string]string{"eur": "1.08"}
	p.Fulfilment = &Fulfilment{URL: "https://crm.example/parrain", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
	p.Terms = &TermsSettings{Notes: "notes"}
	p.Key = "b2b-partners"
	return p
}

func TestEngineSettingsNormalize(t *testing.T) {
	p := engineProgram()
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if p.Rounding != RoundHalfUp || p.Caps.OnCap != CapStop || p.Caps.Budget.Period != PeriodLifetime || p.FXRates["EUR"] != "1.08" ||
		p.Rules[3].Advocate.TierPeriod != PeriodLifetime || p.Rules[1].Advocate.PartnerAttribute != "partner_tier" ||
		p.Rules[4].Milestone.Period != PeriodLifetime {
		t.Errorf("defaults not applied: %+v", p.ProgramSettings)
	}
	if def := (Program{Name: "x", LandingURL: "https://x.example", Currency: "EUR"}); def.Normalize() != nil || def.Success.Trigger != TriggerFirstPurchase {
		t.Errorf("default success: %+v", def.Success)
	}
	tests := []struct {
		name  string
		mod   func(*Program)
		field string
	}{
		{"key", func(p *Program) { p.Key = "Bad Key" }, "key"},
		{"rounding", func(p *Program) { p.Rounding = "down" }, "rounding"},
		{"stage name", func(p *Program) { p.Stages[0].Name = "Demo Booked" }, "stages[0].name"},
		{"stage twice", func(p *Program) { p.Stages[1].Name = "demo_booked" }, "stages[1].name"},
		{"success stage unknown", func(p *Program) { p.Success.Stage = "lost" }, "success.stage"},
		{"success trigger", func(p *Program) { p.Success.Trigger = TriggerPurchase }, "success.trigger"},
		{"rule stage unknown", func(p *Program) { p.Rules[0].Stage = "lost" }, "rules[0].stage"},
		{"stage rule without stage", func(p *Program) { p.Rules[0].Stage = "" }, "rules[0].stage"},
		{"stage on purchase rule", func(p *Program) { p.Rules[2].Stage = "demo_booked" }, "rules[2].stage"},
		{"milestone missing", func(p *Program) { p.Rules[4].Milestone = nil }, "rules[4].milestone"},
		{"milestone zero", func(p *Program) { p.Rules[4].Milestone.Count = 0 }, "rules[4].milestone.count"},
		{"milestone for the friend", func(p *Program) { p.Rules[4].Friend = &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1} }, "rules[4].friend"},
		{"milestone percent", func(p *Program) {
			p.Rules[4].Advocate = &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1}
		}, "rules[4].advocate.type"},
		{"milestone on other trigger", func(p *Program) { p.Rules[2].Milestone = &Milestone{Count: 1} }, "rules[2].milestone"},
		{"tier from 1", func(p *Program) { p.Rules[3].Advocate.Tiers[0].From = 1 }, "rules[3].advocate.tiers[0].from"},
		{"tiers decreasing", func(p *Program) {
			p.Rules[3].Advocate.Tiers = []TierStep{{From: 5, Amount: 2}, {From: 3, Amount: 3}}
		}, "rules[3].advocate.tiers[1].from"},
		{"tier percent on fixed", func(p *Program) { p.Rules[3].Advocate.Tiers[0] = TierStep{From: 5, PercentBps: 10} }, "rules[3].advocate.tiers[0].amount"},
		{"tier period alone", func(p *Program) { p.Rules[2].Advocate.TierPeriod = PeriodMonth }, "rules[2].advocate.tier_period"},
		{"partner rate too high", func(p *Program) { p.Rules[1].Advocate.PartnerRates["active"] = 10001 }, "rules[1].advocate.partner_rates.active"},
		{"partner rates on fixed", func(p *Program) { p.Rules[0].Advocate.PartnerRates = map[string]int64{"a": 1} }, "rules[0].advocate.partner_rates"},
		{"partner rates with tiers", func(p *Program) {
			p.Rules[1].Advocate.Tiers = []TierStep{{From: 2, PercentBps: 5}}
		}, "rules[1].advocate.partner_rates"},
		{"recurring on a stage", func(p *Program) { p.Rules[1].Advocate.Months = 12 }, "rules[1].advocate.months"},
		{"intro without rate", func(p *Program) { p.Rules[2].Advocate.IntroPercentBps = 0 }, "rules[2].advocate.intro_payments"},
		{"true-up on purchase", func(p *Program) { p.Rules[2].Advocate.TrueUpMonths = 12 }, "rules[2].advocate.true_up_months"},
		{"gift card without pool", func(p *Program) { p.Rules[0].Advocate.Pool = "" }, "rules[0].advocate.pool"},
		{"pool on cash", func(p *Program) { p.Rules[2].Advocate.Pool = "x" }, "rules[2].advocate.pool"},
		{"unlock without feature", func(p *Program) { p.Rules[3].Friend.Feature = "" }, "rules[3].friend.feature"},
		{"unlock without days", func(p *Program) { p.Rules[3].Friend.Days = 0 }, "rules[3].friend.days"},
		{"deliver", func(p *Program) { p.Rules[3].Friend.Deliver = "later" }, "rules[3].friend.deliver"},
		{"min amount", func(p *Program) { p.Eligibility.Purchases.MinAmount = -1 }, "eligibility.purchases.min_amount"},
		{"empty plan", func(p *Program) { p.Eligibility.Advocates.Plans = []string{" "} }, "eligibility.advocates.plans[0]"},
		{"cap negative", func(p *Program) { p.Caps.PerReferral = -1 }, "caps.per_referral"},
		{"cap period", func(p *Program) { p.Caps.PerParticipant.Period = "week" }, "caps.per_participant.period"},
		{"budget zero", func(p *Program) { p.Caps.Budget.Amount = 0 }, "caps.budget.amount"},
		{"on cap", func(p *Program) { p.Caps.OnCap = "ignore" }, "caps.on_cap"},
		{"fx currency", func(p *Program) { p.FXRates = map[string]string{"EURO": "1"} }, "fx_rates"},
		{"fx of the program currency", func(p *Program) { p.FXRates = map[string]string{"USD": "1"} }, "fx_rates.USD"},
		{"fx rate", func(p *Program) { p.FXRates = map[string]string{"EUR": "1.2.3"} }, "fx_rates.EUR"},
		{"fulfilment url", func(p *Program) { p.Fulfilment.URL = "ftp://x" }, "fulfilment.url"},
		{"fulfilment credentials", func(p *Program) { p.Fulfilment.URL = "https://u:p@x.example/" }, "fulfilment.url"},
		{"fulfilment secret", func(p *Program) { p.Fulfilment.Secret = "secret" }, "fulfilment.secret"},
		{"notes", func(p *Program) { p.Terms.Notes = strings.Repeat("n", 5001) }, "terms.notes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := engineProgram()
			tc.mod(&p)
			wantInvalid(t, p.Normalize(), tc.field)
		})
	}
}

func TestEngineEventsNormalize(t *testing.T) {
	v := func(n int64) *int64 { return &n }
	ok := []Event{
		{Type: EventStage, ExternalID: "lead", Stage: "demo_booked"},
		{Type: EventStage, ExternalID: "lead", Stage: "closed_won", Value: v(4800000), Currency: "usd", FXRate: "0.92", PartnerTier: "active"},
		{Type: EventContract, ExternalID: "lead", Value: v(0), Currency: "EUR"},
		{Type: EventCancel, ExternalID: "cust"},
		{Type: EventPurchase, ExternalID: "f", OrderID: "o", Amount: 100, Currency: "USD", FXRate: "92/100", Plan: "annual", ExistingCustomer: true},
	}
	for i, e := range ok {
		if err := e.Normalize(t0); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
	stage := func() Event { return Event{Type: EventStage, ExternalID: "lead", Stage: "s"} }
	tests := []struct {
		name  string
		ev    func() Event
		mod   func(*Event)
		field string
	}{
		{"stage missing", stage, func(e *Event) { e.Stage = "" }, "stage"},
		{"stage syntax", stage, func(e *Event) { e.Stage = "Closed Won" }, "stage"},
		{"stage on purchase", func() Event {
			return Event{Type: EventPurchase, ExternalID: "f", OrderID: "o", Amount: 1, Currency: "EUR", Stage: "x"}
		}, nil, "stage"},
		{"external id", stage, func(e *Event) { e.ExternalID = "" }, "external_id"},
		{"negative value", stage, func(e *Event) { e.Value, e.Currency = v(-1), "EUR" }, "value"},
		{"value without currency", stage, func(e *Event) { e.Value = v(5) }, "currency"},
		{"currency without value", stage, func(e *Event) { e.Currency = "EUR" }, "currency"},
		{"amount on stage", stage, func(e *Event) { e.Amount = 5 }, "amount"},
		{"contract without value", func() Event { return Event{Type: EventContract, ExternalID: "l", Currency: "EUR"} }, nil, "value"},
		{"cancel with value", func() Event { return Event{Type: EventCancel, ExternalID: "c", Value: v(1)} }, nil, "value"},
		{"bad rate", stage, func(e *Event) { e.Value, e.Currency, e.FXRate = v(5), "EUR", "-1" }, "fx_rate"},
		{"rate on signup", func() Event { return Event{Type: EventSignup, ExternalID: "f", FXRate: "1"} }, nil, "fx_rate"},
		{"tier syntax", stage, func(e *Event) { e.PartnerTier = "Gold Tier" }, "partner_tier"},
		{"plan on signup", func() Event { return Event{Type: EventSignup, ExternalID: "f", Plan: "pro"} }, nil, "plan"},
		{"value on purchase", func() Event {
			return Event{Type: EventPurchase, ExternalID: "f", OrderID: "o", Amount: 1, Currency: "EUR", Value: v(1)}
		}, nil, "value"},
		{"existing on refund", func() Event { return Event{Type: EventRefund, OrderID: "o", Amount: 1, ExistingCustomer: true} }, nil, "existing_customer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.ev()
			if tc.mod != nil {
				tc.mod(&e)
			}
			wantInvalid(t, e.Normalize(t0), tc.field)
		})
	}
}

func TestFulfilLedger(t *testing.T) {
	r := &Reward{Status: RewardApproved, Amount: 1000, Reversed: 200}
	moves, st, ok := Fulfil(r)
	if !ok || st != RewardPaid || len(moves) != 2 || moves[0].Amount != -800 || moves[0].Bucket != BucketApproved ||
		moves[1].Amount != 800 || moves[1].Bucket != BucketPaid || moves[0].Type != EntryFulfilment {
		t.Fatalf("Fulfil = %+v %s %v", moves, st, ok)
	}
	for _, r := range []*Reward{{Status: RewardPending, Amount: 5}, {Status: RewardApproved, Amount: 5, Reversed: 5}, {Status: RewardPaid, Amount: 5}} {
		if _, _, ok := Fulfil(r); ok {
			t.Errorf("Fulfil(%+v) ok", r)
		}
	}
	for k, want := range map[RewardKind]bool{KindCash: false, KindCredit: true, KindCoupon: true, KindGiftCard: true, KindFeatureUnlock: true, KindCustom: true} {
		if NeedsFulfilment(k) != want {
			t.Errorf("NeedsFulfilment(%s)", k)
		}
	}
}
