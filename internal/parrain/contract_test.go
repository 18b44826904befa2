package parrain

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTrueUp(t *testing.T) {
	p := mustProgram(t, progSpec{Currency: "USD", FXRates: map[string]string{"EUR": "1.1"}, Stages: []Stage{{Name: "closed_won"}},
		Caps: &Caps{PerReferral: 2000000},
		Rules: []RewardRule{{ID: "acv", Trigger: TriggerStage, Stage: "closed_won",
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1500, TrueUpMonths: 12}}}})
	closed := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	line := func(earned int64) CommissionLine {
		r, _ := p.Rule("acv")
		return CommissionLine{Rule: r, Role: RoleAdvocate, Owner: "adv_a", Version: 3, RateBps: 1500, ReachedAt: closed, Earned: earned}
	}
	contract := func(value int64, cur string, at time.Time) Occasion {
		return Occasion{Trigger: TriggerContract, Amount: value, Currency: cur, At: at, ReferralID: "ref_1", Advocate: advA, Friend: frnd}
	}
	tests := []struct {
		name   string
		o      Occasion
		earned int64
		up     []int64
		down   []int64
		skips  []string
	}{
		{"expansion", contract(6000000, "USD", closed.AddDate(0, 3, 0)), 720000, []int64{180000}, nil, nil},
		{"contraction", contract(4000000, "USD", closed.AddDate(0, 6, 0)), 720000, nil, []int64{120000}, nil},
		{"back to zero", contract(0, "USD", closed.AddDate(0, 6, 0)), 720000, nil, []int64{720000}, nil},
		{"unchanged", contract(4800000, "USD", closed.AddDate(0, 1, 0)), 720000, nil, nil, []string{"no_change"}},
		{"in EUR", contract(5000000, "EUR", closed.AddDate(0, 1, 0)), 720000, []int64{105000}, nil, nil}, // 55000 USD × 15% = 8250
		{"after the window", contract(6000000, "USD", closed.AddDate(1, 0, 0)), 720000, nil, nil, []string{"true_up_window_over"}},
		{"capped by the per-referral cap", contract(20000000, "USD", closed.AddDate(0, 2, 0)), 720000, []int64{1280000}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ups, downs, skips, err := TrueUp(p, tc.o, []CommissionLine{line(tc.earned)}, &memFacts{rewards: []memReward{{"adv_a", "ref_1", "acv", closed, tc.earned}}})
			if err != nil {
				t.Fatal(err)
			}
			var d []int64
			for _, x := range downs {
				d = append(d, x.Amount)
				if !strings.Contains(x.Explanation, "true-down") || x.Line.Rule.ID != "acv" {
					t.Errorf("down %+v", x)
				}
			}
			if !slices.Equal(amounts(ups), tc.up) || !slices.Equal(d, tc.down) || !slices.Equal(reasons(skips), tc.skips) {
				t.Fatalf("ups %v downs %v skips %+v", amounts(ups), d, skips)
			}
			for _, u := range ups {
				if u.Trigger != TriggerContract || u.RuleID != "acv" || !strings.Contains(u.Explanation, "true-up") ||
					!strings.Contains(u.Inputs.RateSource, "program v3") {
					t.Errorf("up %+v", u)
				}
			}
		})
	}
	// The rate is the original reward's, not the program's current one.
	l := line(720000)
	l.RateBps = 1000
	// 10% of 60000.00 = 6000.00, below the 7200.00 earned: a true-down.
	ups, downs, _, _ := TrueUp(p, contract(6000000, "USD", closed.AddDate(0, 1, 0)), []CommissionLine{l}, nil)
	if len(ups) != 0 || len(downs) != 1 || downs[0].Amount != 120000 {
		t.Errorf("original rate not used: ups %v downs %+v", amounts(ups), downs)
	}
}
