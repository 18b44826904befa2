package parrain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// memFacts is an in-memory history for engine tests.
type memFacts struct {
	successes []memSuccess
	rewards   []memReward
}

type memSuccess struct {
	advocate, referral string
	at                 time.Time
}

type memReward struct {
	owner, referral, rule string
	at                    time.Time
	amount                int64
}

func (m *memFacts) Successes(adv, excl string, from, to time.Time) (int, error) {
	n := 0
	for _, s := range m.successes {
		if s.advocate == adv && s.referral != excl && !s.at.Before(from) && s.at.Before(to) {
			n++
		}
	}
	return n, nil
}

func (m *memFacts) Earned(p, ref string, from, to time.Time) (int64, error) {
	var n int64
	for _, r := range m.rewards {
		if r.owner == p && (ref == "" || r.referral == ref) && !r.at.Before(from) && r.at.Before(to) {
			n += r.amount
		}
	}
	return n, nil
}

func (m *memFacts) Spent(from, to time.Time) (int64, error) {
	var n int64
	for _, r := range m.rewards {
		if !r.at.Before(from) && r.at.Before(to) {
			n += r.amount
		}
	}
	return n, nil
}

func (m *memFacts) Rewarded(rule, p string, from, to time.Time) (bool, error) {
	for _, r := range m.rewards {
		if r.rule == rule && r.owner == p && !r.at.Before(from) && r.at.Before(to) && r.amount > 0 {
			return true, nil
		}
	}
	return false, nil
}

// record adds awards to the history, as the store would.
func (m *memFacts) record(o Occasion, awards []Award) {
	for _, a := range awards {
		m.rewards = append(m.rewards, memReward{owner: a.Owner, referral: o.ReferralID, rule: a.RuleID, at: o.At, amount: a.Amount})
	}
}

var (
	advA  = &Participant{ID: "adv_a", Name: "Alice Martin", Attributes: Attributes{"plan": "pro", "paying": true, "partner_tier": "active"}}
	frnd  = &Participant{ID: "fr_1"}
	nov10 = time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
)

// progSpec is a flat description of a test program (Program embeds its
// settings, which composite literals cannot name directly).
type progSpec struct {
	Currency    string
	Rules       []RewardRule
	Rounding    Rounding
	Success     *Success
	Stages      []Stage
	Eligibility *Eligibility
	Caps        *Caps
	FXRates     map[string]string
}

func mustProgram(t *testing.T, s progSpec) *Program {
	t.Helper()
	p := Program{Name: "P", LandingURL: "https://shop.example/", Currency: s.Currency, Rules: s.Rules}
	if p.Currency == "" {
		p.Currency = "EUR"
	}
	p.Rounding, p.Success, p.Stages, p.Eligibility, p.Caps, p.FXRates = s.Rounding, s.Success, s.Stages, s.Eligibility, s.Caps, s.FXRates
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return &p
}

func purchase(amount int64, cur string) Occasion {
	return Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: amount, Currency: cur, At: nov10, PaymentNumber: 1,
		FirstPaymentAt: nov10, ReferralID: "ref_1", Advocate: advA, Friend: frnd}
}

func amounts(awards []Award) []int64 {
	var out []int64
	for _, a := range awards {
		out = append(out, a.Amount)
	}
	return out
}

func reasons(skips []Skip) []string {
	var out []string
	for _, s := range skips {
		r, _, _ := strings.Cut(s.Reason, ":")
		out = append(out, r)
	}
	return out
}

func TestTieredRewards(t *testing.T) {
	p := mustProgram(t, progSpec{Rules: []RewardRule{{ID: "tier", Trigger: TriggerFirstPurchase,
		Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1000, Tiers: []TierStep{{From: 5, Amount: 2000}, {From: 10, Amount: 3000}}}}}})
	pm := mustProgram(t, progSpec{Rules: []RewardRule{{ID: "tierm", Trigger: TriggerFirstPurchase,
		Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, TierPeriod: PeriodMonth,
			Tiers: []TierStep{{From: 3, PercentBps: 1500}}}}}})
	tests := []struct {
		name   string
		p      *Program
		before []time.Time // earlier successes of the advocate
		want   int64
		count  int
	}{
		{"1st referral: base", p, nil, 1000, 1},
		{"4th referral: base", p, []time.Time{nov10, nov10, nov10}, 1000, 4},
		{"5th referral: tier 2", p, []time.Time{nov10, nov10, nov10, nov10}, 2000, 5},
		{"10th referral: tier 3", p, slices.Repeat([]time.Time{nov10}, 9), 3000, 10},
		{"lifetime counts every month", p, []time.Time{nov10.AddDate(-1, 0, 0), nov10.AddDate(0, -3, 0), nov10, nov10}, 2000, 5},
		{"monthly: October does not count", pm, []time.Time{nov10.AddDate(0, -1, 0), nov10.AddDate(0, -1, 0)}, 500, 1},
		{"monthly: 3rd in November", pm, []time.Time{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nov10}, 750, 3},
		{"monthly: December 1st resets", pm, nil, 500, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &memFacts{}
			for i, at := range tc.before {
				f.successes = append(f.successes, memSuccess{"adv_a", fmt.Sprintf("old_%d", i), at})
			}
			// This referral already counted as successful must not count twice.
			f.successes = append(f.successes, memSuccess{"adv_a", "ref_1", nov10})
			aw, skips, err := EvaluateWith(tc.p, purchase(5000, "EUR"), f)
			if err != nil || len(skips) != 0 || len(aw) != 1 {
				t.Fatalf("got %+v %+v %v", aw, skips, err)
			}
			if aw[0].Amount != tc.want || aw[0].Inputs.SuccessfulReferrals != tc.count {
				t.Errorf("amount %d (want %d), count %d (want %d): %s", aw[0].Amount, tc.want, aw[0].Inputs.SuccessfulReferrals, tc.count, aw[0].Explanation)
			}
			if !strings.Contains(aw[0].Explanation, ordinal(tc.count)) {
				t.Errorf("explanation does not name the count: %s", aw[0].Explanation)
			}
		})
	}
}

func TestStageRewards(t *testing.T) {
	p := mustProgram(t, progSpec{Currency: "USD", FXRates: map[string]string{"EUR": "1.08"},
		Stages: []Stage{{Name: "demo_booked"}, {Name: "demo_completed"}, {Name: "closed_won", Label: "Closed won"}},
		Rules: []RewardRule{
			{ID: "booked", Trigger: TriggerStage, Stage: "demo_booked", Advocate: &RewardSpec{Kind: KindGiftCard, Type: AmountFixed, Amount: 2500, Pool: "amazon"}},
			{ID: "completed", Trigger: TriggerStage, Stage: "demo_completed", Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 25000}},
			{ID: "won", Trigger: TriggerStage, Stage: "closed_won", Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1500}},
		}})
	stage := func(name string, value int64, cur, rate string) Occasion {
		return Occasion{Trigger: TriggerStage, Stage: name, Amount: value, Currency: cur, FXRate: rate, At: nov10, ReferralID: "ref_1",
			Advocate: advA, Friend: frnd}
	}
	tests := []struct {
		name    string
		o       Occasion
		want    []int64
		rules   []string
		skips   []string
		explain string
	}{
		{"demo booked: gift card", stage("demo_booked", 0, "", ""), []int64{2500}, []string{"booked"}, nil, "fixed 25.00 USD"},
		{"demo completed", stage("demo_completed", 0, "", ""), []int64{25000}, []string{"completed"}, nil, ""},
		{"closed won: 15% of contract value", stage("closed_won", 4800000, "USD", ""), []int64{720000}, []string{"won"}, nil, "15% of 48000.00 USD = 7200.00"},
		{"closed won in EUR at the table rate", stage("closed_won", 1000000, "EUR", ""), []int64{162000}, []string{"won"}, nil, "10000.00 EUR at 1.08 (program rate) = 10800.00 USD"},
		{"closed won in EUR at the event's rate", stage("closed_won", 1000000, "EUR", "1.1"), []int64{165000}, []string{"won"}, nil, "(event rate)"},
		{"closed won in GBP: no rate", stage("closed_won", 1000000, "GBP", ""), nil, nil, []string{"currency_mismatch"}, ""},
		{"closed won without value", stage("closed_won", 0, "", ""), nil, nil, []string{"no_value"}, ""},
		{"unknown stage fires nothing", stage("lost", 0, "", ""), nil, nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aw, skips, err := EvaluateWith(p, tc.o, &memFacts{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(amounts(aw), tc.want) || !slices.Equal(reasons(skips), tc.skips) {
				t.Fatalf("amounts %v skips %+v; want %v %v", amounts(aw), skips, tc.want, tc.skips)
			}
			for i, a := range aw {
				if a.RuleID != tc.rules[i] || a.Stage != tc.o.Stage || a.Trigger != TriggerStage {
					t.Errorf("award %+v", a)
				}
				if !strings.Contains(a.Explanation, tc.explain) {
					t.Errorf("explanation %q lacks %q", a.Explanation, tc.explain)
				}
			}
			if tc.o.Currency == "EUR" && len(aw) == 1 {
				fx := aw[0].Inputs.FX
				if fx == nil || fx.From != "EUR" || fx.To != "USD" || fx.Amount != 1000000 {
					t.Errorf("fx snapshot %+v", fx)
				}
			}
		})
	}
}

func TestRecurringCommission(t *testing.T) {
	p := mustProgram(t, progSpec{Rules: []RewardRule{{ID: "rec", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash,
		Type: AmountPercent, PercentBps: 1000, Months: 12, IntroPayments: 3, IntroPercentBps: 2000}}}})
	pay := func(n int, at time.Time) Occasion {
		o := purchase(10000, "EUR")
		o.PaymentNumber, o.FirstPurchase, o.At, o.FirstPaymentAt = n, n == 1, at, nov10
		return o
	}
	tests := []struct {
		name string
		o    Occasion
		want []int64
		skip []string
	}{
		{"1st payment: intro rate", pay(1, nov10), []int64{2000}, nil},
		{"3rd payment: intro rate", pay(3, nov10.AddDate(0, 2, 0)), []int64{2000}, nil},
		{"4th payment: regular rate", pay(4, nov10.AddDate(0, 3, 0)), []int64{1000}, nil},
		{"last day of the 12 months", pay(12, nov10.AddDate(0, 12, 0).Add(-time.Millisecond)), []int64{1000}, nil},
		{"after 12 months", pay(13, nov10.AddDate(0, 12, 0)), nil, []string{"commission_period_over"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aw, skips, _ := EvaluateWith(p, tc.o, &memFacts{})
			if !slices.Equal(amounts(aw), tc.want) || !slices.Equal(reasons(skips), tc.skip) {
				t.Fatalf("got %v %+v, want %v %v", amounts(aw), skips, tc.want, tc.skip)
			}
		})
	}
	// A payment cap instead of a time limit.
	pc := mustProgram(t, progSpec{Rules: []RewardRule{{ID: "rec", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash,
		Type: AmountPercent, PercentBps: 1000, Payments: 6}}}})
	if aw, _, _ := EvaluateWith(pc, pay(6, nov10), &memFacts{}); !slices.Equal(amounts(aw), []int64{1000}) {
		t.Errorf("6th payment: %v", amounts(aw))
	}
	if _, skips, _ := EvaluateWith(pc, pay(7, nov10), &memFacts{}); !slices.Equal(reasons(skips), []string{"commission_period_over"}) {
		t.Errorf("7th payment: %+v", skips)
	}
}

func TestPartnerRates(t *testing.T) {
	p := mustProgram(t, progSpec{Stages: []Stage{{Name: "closed_won"}}, Rules: []RewardRule{{ID: "won", Trigger: TriggerStage, Stage: "closed_won",
		Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, PartnerRates: map[string]int64{"referral": 1200, "active": 2500}}}}})
	tests := []struct {
		name      string
		adv       *Participant
		dealTier  string
		want      int64
		tier, src string
	}{
		{"advocate attribute active", advA, "", 25000, "active", "partner tier active (from the advocate's partner_tier)"},
		{"deal overrides the attribute", advA, "referral", 12000, "referral", "partner tier referral (from the deal)"},
		{"no tier: default", &Participant{ID: "x"}, "", 10000, "", "no partner tier: default rate"},
		{"unknown tier: default", &Participant{ID: "x", Attributes: Attributes{"partner_tier": "gold"}}, "", 10000, "", "partner tier gold has no rate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := Occasion{Trigger: TriggerStage, Stage: "closed_won", Amount: 100000, Currency: "EUR", PartnerTier: tc.dealTier, At: nov10,
				Advocate: tc.adv, Friend: frnd, ReferralID: "r"}
			aw, _, _ := EvaluateWith(p, o, &memFacts{})
			if len(aw) != 1 || aw[0].Amount != tc.want || aw[0].Inputs.PartnerTier != tc.tier || !strings.Contains(aw[0].Inputs.RateSource, tc.src) {
				t.Fatalf("got %+v", aw)
			}
		})
	}
}

func TestMilestoneBonus(t *testing.T) {
	p := mustProgram(t, progSpec{Rules: []RewardRule{
		{ID: "fifth", Trigger: TriggerMilestone, Milestone: &Milestone{Count: 5}, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 5000}},
		{ID: "first_month", Trigger: TriggerMilestone, Milestone: &Milestone{Count: 1, Period: PeriodMonth}, Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 500}},
	}})
	o := func(success bool) Occasion {
		return Occasion{Trigger: TriggerPurchase, Amount: 100, Currency: "EUR", FirstPurchase: true, At: nov10, Success: success,
			ReferralID: "ref_9", Advocate: advA, Friend: frnd}
	}
	f := &memFacts{}
	for i := range 4 {
		f.successes = append(f.successes, memSuccess{"adv_a", fmt.Sprint("r", i), nov10.AddDate(0, -2, 0)})
	}
	aw, skips, _ := EvaluateWith(p, o(true), f)
	if !slices.Equal(amounts(aw), []int64{5000, 500}) || len(skips) != 0 {
		t.Fatalf("5th success: %v %+v", amounts(aw), skips)
	}
	if aw[0].Trigger != TriggerMilestone || aw[0].Role != RoleAdvocate || !strings.Contains(aw[0].Explanation, "5th successful referral") {
		t.Errorf("award %+v", aw[0])
	}
	// Not a success event: milestones do not fire at all.
	if aw, skips, _ := EvaluateWith(p, o(false), f); len(aw)+len(skips) != 0 {
		t.Errorf("non-success fired %+v %+v", aw, skips)
	}
	// Already rewarded in the period: skipped with the reason.
	f.record(o(true), aw)
	_, skips, _ = EvaluateWith(p, o(true), &memFacts{successes: f.successes[:4], rewards: f.rewards})
	if !slices.Equal(reasons(skips), []string{"milestone_already_rewarded", "milestone_already_rewarded"}) {
		t.Errorf("second time: %+v", skips)
	}
	// The 6th success does not fire the 5th-referral bonus.
	f.successes = append(f.successes, memSuccess{"adv_a", "ref_9", nov10})
	o6 := o(true)
	o6.ReferralID = "ref_10"
	_, skips, _ = EvaluateWith(p, o6, &memFacts{successes: f.successes})
	if len(skips) == 0 || reasons(skips)[0] != "milestone_not_reached" {
		t.Errorf("6th: %+v", skips)
	}
}

func TestCaps(t *testing.T) {
	base := func(c Caps) *Program {
		return mustProgram(t, progSpec{Caps: &c, Rules: []RewardRule{{ID: "pct", Trigger: TriggerPurchase,
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000},
			Friend:   &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 1000}}}})
	}
	f := func(rs ...memReward) *memFacts { return &memFacts{rewards: rs} }
	tests := []struct {
		name   string
		p      *Program
		f      *memFacts
		amount int64
		want   []int64
		skips  []string
		review bool
	}{
		{"per referral: room left", base(Caps{PerReferral: 3000}), f(memReward{"adv_a", "ref_1", "pct", nov10, 2000}), 50000, []int64{1000, 1000}, nil, false},
		{"per referral: other referral does not count", base(Caps{PerReferral: 3000}), f(memReward{"adv_a", "ref_2", "pct", nov10, 2500}), 20000, []int64{2000, 1000}, nil, false},
		{"per referral: used up", base(Caps{PerReferral: 3000}), f(memReward{"adv_a", "ref_1", "pct", nov10, 3000}), 20000, []int64{1000}, []string{"cap_reached"}, false},
		{"per participant monthly", base(Caps{PerParticipant: &PeriodCap{Amount: 5000, Period: PeriodMonth}}),
			f(memReward{"adv_a", "ref_2", "pct", nov10.AddDate(0, 0, -5), 4500}, memReward{"adv_a", "ref_3", "pct", nov10.AddDate(0, -1, 0), 4500}), 20000, []int64{500, 1000}, nil, false},
		{"budget counts both sides of this event", base(Caps{Budget: &PeriodCap{Amount: 10000}}), f(memReward{"x", "r", "pct", nov10, 7500}), 20000, []int64{2000, 500}, nil, false},
		{"budget exhausted", base(Caps{Budget: &PeriodCap{Amount: 10000}}), f(memReward{"x", "r", "pct", nov10, 10000}), 20000, nil, []string{"cap_reached", "cap_reached"}, false},
		{"review keeps the amount", base(Caps{PerReferral: 1000, OnCap: CapReview}), f(), 50000, []int64{5000, 1000}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aw, skips, err := EvaluateWith(tc.p, purchase(tc.amount, "EUR"), tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(amounts(aw), tc.want) || !slices.Equal(reasons(skips), tc.skips) {
				t.Fatalf("got %v %+v; want %v %v", amounts(aw), skips, tc.want, tc.skips)
			}
			if tc.review && (aw[0].Review == "" || !strings.Contains(aw[0].Explanation, "queued for manual approval")) {
				t.Errorf("review not marked: %+v", aw[0])
			}
			if !tc.review {
				for _, a := range aw {
					if a.Review != "" {
						t.Errorf("unexpected review %q", a.Review)
					}
				}
			}
			for _, a := range aw {
				for _, c := range a.Inputs.Caps {
					if c.Applied && !strings.Contains(a.Explanation, "cap") {
						t.Errorf("applied cap not explained: %s", a.Explanation)
					}
				}
			}
		})
	}
}

func TestEligibility(t *testing.T) {
	p := mustProgram(t, progSpec{FXRates: map[string]string{"USD": "0.9"},
		Eligibility: &Eligibility{
			Advocates: &AdvocateEligibility{PayingOnly: true, Plans: []string{"pro", "business"}, Attributes: map[string][]string{"region": {"eu"}}},
			Purchases: &PurchaseEligibility{MinAmount: 3000, Plans: []string{"annual"}, NewCustomersOnly: true},
		},
		Rules: []RewardRule{
			{ID: "signup", Trigger: TriggerSignup, Friend: &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 500}},
			{ID: "buy", Trigger: TriggerFirstPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 2000}},
		}})
	good := &Participant{ID: "a", Attributes: Attributes{"paying": true, "plan": "pro", "region": "eu"}}
	tests := []struct {
		name  string
		adv   *Participant
		mod   func(*Occasion)
		want  []int64
		skips []string
		why   string
	}{
		{"eligible", good, nil, []int64{2000}, nil, ""},
		{"not paying", &Participant{ID: "a", Attributes: Attributes{"plan": "pro", "region": "eu"}}, nil, nil, []string{"advocate_not_eligible"}, "paying"},
		{"paying false", &Participant{ID: "a", Attributes: Attributes{"paying": false, "plan": "pro", "region": "eu"}}, nil, nil, []string{"advocate_not_eligible"}, "paying"},
		{"free plan", &Participant{ID: "a", Attributes: Attributes{"paying": true, "plan": "free", "region": "eu"}}, nil, nil, []string{"advocate_not_eligible"}, `plan "free"`},
		{"other region", &Participant{ID: "a", Attributes: Attributes{"paying": true, "plan": "pro", "region": "us"}}, nil, nil, []string{"advocate_not_eligible"}, "region"},
		{"below minimum", good, func(o *Occasion) { o.Amount = 2999 }, nil, []string{"purchase_not_eligible"}, "below the minimum of 30.00 EUR"},
		{"USD converted above minimum", good, func(o *Occasion) { o.Amount, o.Currency = 3400, "USD" }, []int64{2000}, nil, ""},
		{"USD converted below minimum", good, func(o *Occasion) { o.Amount, o.Currency = 3300, "USD" }, nil, []string{"purchase_not_eligible"}, "29.70 EUR"},
		{"GBP without a rate", good, func(o *Occasion) { o.Currency = "GBP" }, nil, []string{"purchase_not_eligible"}, "currency_mismatch"},
		{"monthly plan", good, func(o *Occasion) { o.Plan = "monthly" }, nil, []string{"purchase_not_eligible"}, `plan "monthly"`},
		{"existing customer", good, func(o *Occasion) { o.ExistingCustomer = true }, nil, []string{"purchase_not_eligible"}, "already a customer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := purchase(5000, "EUR")
			o.Plan, o.Advocate = "annual", tc.adv
			if tc.mod != nil {
				tc.mod(&o)
			}
			aw, skips, _ := EvaluateWith(p, o, &memFacts{})
			if !slices.Equal(amounts(aw), tc.want) || !slices.Equal(reasons(skips), tc.skips) {
				t.Fatalf("got %v %+v; want %v %v", amounts(aw), skips, tc.want, tc.skips)
			}
			if tc.why != "" && !strings.Contains(skips[0].Reason, tc.why) {
				t.Errorf("reason %q lacks %q", skips[0].Reason, tc.why)
			}
		})
	}
	// An ineligible advocate's referral earns the friend nothing either.
	_, skips, _ := EvaluateWith(p, Occasion{Trigger: TriggerSignup, At: nov10, Advocate: &Participant{ID: "b"}, Friend: frnd}, &memFacts{})
	if len(skips) != 1 || skips[0].Role != RoleFriend || reasons(skips)[0] != "advocate_not_eligible" {
		t.Errorf("signup of ineligible advocate: %+v", skips)
	}
	// First purchase only.
	fp := mustProgram(t, progSpec{Eligibility: &Eligibility{Purchases: &PurchaseEligibility{FirstPurchaseOnly: true}},
		Rules: []RewardRule{{ID: "each", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 100}}}})
	o := purchase(5000, "EUR")
	o.PaymentNumber = 2
	if _, skips, _ := EvaluateWith(fp, o, &memFacts{}); !slices.Equal(reasons(skips), []string{"purchase_not_eligible"}) {
		t.Errorf("second purchase counted: %+v", skips)
	}
}

func TestRoundingModes(t *testing.T) {
	for _, tc := range []struct {
		mode   Rounding
		amount int64
		want   int64
	}{
		{RoundHalfUp, 25, 3},   // 2.5 → 3
		{RoundHalfEven, 25, 2}, // 2.5 → 2 (even)
		{RoundHalfUp, 35, 4},   // 3.5 → 4
		{RoundHalfEven, 35, 4}, // 3.5 → 4 (even)
		{RoundHalfEven, 36, 4}, // 3.6 → 4
	} {
		p := mustProgram(t, progSpec{Rounding: tc.mode, Rules: []RewardRule{{ID: "r", Trigger: TriggerPurchase,
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000}}}})
		aw, _, _ := EvaluateWith(p, purchase(tc.amount, "EUR"), nil)
		if len(aw) != 1 || aw[0].Amount != tc.want || !strings.Contains(aw[0].Explanation, "("+RoundingLabel(tc.mode)+")") {
			t.Errorf("%s of %d: %+v", tc.mode, tc.amount, aw)
		}
	}
}

func TestSuccessMatches(t *testing.T) {
	stage := mustProgram(t, progSpec{Stages: []Stage{{Name: "closed_won"}}, Success: &Success{Trigger: TriggerStage, Stage: "closed_won"}})
	signup := mustProgram(t, progSpec{Success: &Success{Trigger: TriggerSignup}})
	def := mustProgram(t, progSpec{})
	tests := []struct {
		p    *Program
		o    Occasion
		want bool
	}{
		{def, Occasion{Trigger: TriggerPurchase, FirstPurchase: true}, true},
		{def, Occasion{Trigger: TriggerPurchase}, false},
		{def, Occasion{Trigger: TriggerSignup}, false},
		{signup, Occasion{Trigger: TriggerSignup}, true},
		{stage, Occasion{Trigger: TriggerStage, Stage: "closed_won"}, true},
		{stage, Occasion{Trigger: TriggerStage, Stage: "demo"}, false},
		{stage, Occasion{Trigger: TriggerPurchase, FirstPurchase: true}, false},
	}
	for i, tc := range tests {
		if got := tc.p.SuccessMatches(tc.o); got != tc.want {
			t.Errorf("%d: SuccessMatches = %v", i, got)
		}
	}
	if def.SuccessRule().Trigger != TriggerFirstPurchase {
		t.Errorf("default success %+v", def.SuccessRule())
	}
}

// TestAllModelsCombined runs one program with every model through a
// referral's life and checks the awards in order.
func TestAllModelsCombined(t *testing.T) {
	p := mustProgram(t, progSpec{Currency: "EUR", Rounding: RoundHalfEven, FXRates: map[string]string{"USD": "92/100"},
		Stages: []Stage{{Name: "demo"}, {Name: "won"}},
		Caps:   &Caps{PerReferral: 100000, PerParticipant: &PeriodCap{Amount: 150000, Period: PeriodYear}},
		Rules: []RewardRule{
			{ID: "welcome", Trigger: TriggerSignup, Friend: &RewardSpec{Kind: KindFeatureUnlock, Type: AmountFixed, Amount: 900, Feature: "premium", Days: 30, Deliver: DeliverImmediately}},
			{ID: "demo", Trigger: TriggerStage, Stage: "demo", Advocate: &RewardSpec{Kind: KindGiftCard, Type: AmountFixed, Amount: 2500, Pool: "amazon"}},
			{ID: "won", Trigger: TriggerStage, Stage: "won", Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1500, TrueUpMonths: 12}},
			{ID: "rec", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, Months: 12,
				Tiers: []TierStep{{From: 2, PercentBps: 1200}}}},
			{ID: "bonus", Trigger: TriggerMilestone, Milestone: &Milestone{Count: 1}, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 10000}},
		}})
	f := &memFacts{}
	step := func(o Occasion) []Award {
		t.Helper()
		o.At, o.ReferralID, o.Advocate, o.Friend = nov10, "ref_1", advA, frnd
		aw, _, err := EvaluateWith(p, o, f)
		if err != nil {
			t.Fatal(err)
		}
		f.record(o, aw)
		return aw
	}
	got := map[string]int64{}
	for _, o := range []Occasion{
		{Trigger: TriggerSignup},
		{Trigger: TriggerStage, Stage: "demo"},
		{Trigger: TriggerStage, Stage: "won", Amount: 5000000, Currency: "USD", Success: true},
		{Trigger: TriggerPurchase, Amount: 1000, Currency: "EUR", PaymentNumber: 1, FirstPaymentAt: nov10, FirstPurchase: true},
	} {
		for _, a := range step(o) {
			got[a.RuleID] += a.Amount
		}
	}
	// won: 15% of 50000 USD × 0.92 = 46000 EUR → 6900 EUR = 690000, capped
	// by the per-referral cap (100000 minus the 2500 gift card) = 97500.
	want := map[string]int64{"welcome": 900, "demo": 2500, "won": 97500}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if f.rewards[2].amount != 97500 {
		t.Errorf("cap order: %+v", f.rewards)
	}
}

// TestCapsProperty drives random programs and events and checks that no
// reward exceeds its own maximum, that every cap holds over the whole
// history, and that every reward explains itself.
func TestCapsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		caps := &Caps{}
		if r.IntN(2) == 0 {
			caps.PerReferral = int64(1 + r.IntN(5000))
		}
		if r.IntN(2) == 0 {
			caps.PerParticipant = &PeriodCap{Amount: int64(1 + r.IntN(20000)), Period: []Period{PeriodLifetime, PeriodMonth, PeriodQuarter, PeriodYear}[r.IntN(4)]}
		}
		if r.IntN(2) == 0 {
			caps.Budget = &PeriodCap{Amount: int64(1 + r.IntN(50000)), Period: []Period{PeriodLifetime, PeriodMonth}[r.IntN(2)]}
		}
		spec := func() *RewardSpec {
			if r.IntN(2) == 0 {
				return &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: int64(1 + r.IntN(3000))}
			}
			return &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: int64(1 + r.IntN(10000)), MaxAmount: int64(r.IntN(2) * (1 + r.IntN(4000)))}
		}
		p := mustProgram(t, progSpec{Caps: caps, Rounding: []Rounding{RoundHalfUp, RoundHalfEven}[r.IntN(2)], Rules: []RewardRule{
			{ID: "a", Trigger: TriggerPurchase, Advocate: spec(), Friend: spec()},
			{ID: "b", Trigger: TriggerFirstPurchase, Advocate: spec()},
		}})
		f := &memFacts{}
		advs := []*Participant{{ID: "a1"}, {ID: "a2"}, {ID: "a3"}}
		type owned struct {
			owner, ref string
			at         time.Time
			amount     int64
		}
		var all []owned
		for ev := range 40 {
			adv := advs[r.IntN(len(advs))]
			o := Occasion{Trigger: TriggerPurchase, FirstPurchase: r.IntN(3) == 0, Amount: int64(1 + r.IntN(100000)), Currency: "EUR",
				At: nov10.AddDate(0, 0, r.IntN(200)), ReferralID: fmt.Sprint("r", r.IntN(6)), Advocate: adv, Friend: &Participant{ID: "f" + adv.ID}, PaymentNumber: 1}
			aw, _, err := EvaluateWith(p, o, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range aw {
				if a.Amount <= 0 {
					t.Fatalf("trial %d event %d: non-positive award %+v", trial, ev, a)
				}
				if a.Spec.MaxAmount > 0 && a.Amount > a.Spec.MaxAmount {
					t.Fatalf("award above its max_amount: %+v", a)
				}
				if !strings.Contains(a.Explanation, a.RuleID) || len(a.Steps) == 0 {
					t.Fatalf("unexplained award %+v", a)
				}
				all = append(all, owned{a.Owner, o.ReferralID, o.At, a.Amount})
			}
			f.record(o, aw)
		}
		sum := func(keep func(owned) bool) int64 {
			var n int64
			for _, w := range all {
				if keep(w) {
					n += w.amount
				}
			}
			return n
		}
		for _, w := range all {
			if c := caps.PerReferral; c > 0 {
				if got := sum(func(x owned) bool { return x.owner == w.owner && x.ref == w.ref }); got > c {
					t.Fatalf("trial %d: per-referral cap %d exceeded: %d", trial, c, got)
				}
			}
			if pc := caps.PerParticipant; pc != nil {
				from, to := pc.Period.Bounds(w.at)
				if got := sum(func(x owned) bool { return x.owner == w.owner && !x.at.Before(from) && x.at.Before(to) }); got > pc.Amount {
					t.Fatalf("trial %d: per-participant cap %d exceeded: %d", trial, pc.Amount, got)
				}
			}
			if b := caps.Budget; b != nil {
				from, to := b.Period.Bounds(w.at)
				if got := sum(func(x owned) bool { return !x.at.Before(from) && x.at.Before(to) }); got > b.Amount {
					t.Fatalf("trial %d: budget %d exceeded: %d", trial, b.Amount, got)
				}
			}
		}
	}
}

func TestPeriodBounds(t *testing.T) {
	at := time.Date(2026, 8, 17, 23, 59, 0, 0, time.FixedZone("X", -3*3600)) // 2026-08-18 02:59 UTC
	tests := []struct {
		p        Period
		from, to string
		label    string
	}{
		{PeriodMonth, "2026-08-01", "2026-09-01", "month 2026-08"},
		{PeriodQuarter, "2026-07-01", "2026-10-01", "quarter 2026-Q3"},
		{PeriodYear, "2026-01-01", "2027-01-01", "year 2026"},
		{PeriodLifetime, "1970-01-01", "9999-12-31", "lifetime"},
	}
	for _, tc := range tests {
		from, to := tc.p.Bounds(at)
		if from.Format("2006-01-02") != tc.from || to.Format("2006-01-02") != tc.to || tc.p.Label(at) != tc.label {
			t.Errorf("%s: %v %v %q", tc.p, from, to, tc.p.Label(at))
		}
	}
	if from, _ := PeriodQuarter.Bounds(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)); from.Month() != time.October {
		t.Errorf("Q4 starts %v", from)
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q", n, got)
		}
	}
}
