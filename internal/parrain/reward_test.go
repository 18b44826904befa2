package parrain

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// evalProgram has a one-sided signup rule, a double-sided first-purchase rule
// (percent with a cap for the advocate) and a one-sided purchase rule.
func evalProgram(t *testing.T) *Program {
	t.Helper()
	p := &Program{
		Name:       "p",
		LandingURL: "https://example.com",
		Currency:   "EUR",
		Rules: []RewardRule{
			{Trigger: TriggerSignup, Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 500}},
			{Trigger: TriggerFirstPurchase,
				Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, MaxAmount: 5000},
				Friend:   &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 1000, Description: "10 EUR off"}},
			{Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 500}},
		},
	}
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	signupAdv := Draft{RuleID: "rule_1", Role: RoleAdvocate, Trigger: TriggerSignup, Kind: KindCredit, AmountType: AmountFixed,
		Amount: 500, Currency: "EUR", Explanation: "rule rule_1 (signup): fixed 5.00 EUR"}
	friendCoupon := Draft{RuleID: "rule_2", Role: RoleFriend, Trigger: TriggerFirstPurchase, Kind: KindCoupon, AmountType: AmountFixed,
		Amount: 1000, Currency: "EUR", Description: "10 EUR off", Explanation: "rule rule_2 (first_purchase): fixed 10.00 EUR"}
	tests := []struct {
		name  string
		o     Occasion
		want  []Draft
		skips []Skip
	}{
		{
			name: "signup fires only signup rules",
			o:    Occasion{Trigger: TriggerSignup},
			want: []Draft{signupAdv},
		},
		{
			name: "first purchase fires first_purchase and purchase rules",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 4999, Currency: "EUR"},
			want: []Draft{
				{RuleID: "rule_2", Role: RoleAdvocate, Trigger: TriggerFirstPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 500, Currency: "EUR", Explanation: "rule rule_2 (first_purchase): 10% of 49.99 EUR = 5.00 (half-up)"},
				friendCoupon,
				{RuleID: "rule_3", Role: RoleAdvocate, Trigger: TriggerPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 250, Currency: "EUR", Explanation: "rule rule_3 (purchase): 5% of 49.99 EUR = 2.50 (half-up)"},
			},
		},
		{
			name: "second purchase fires only purchase rules",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: false, Amount: 2000, Currency: "EUR"},
			want: []Draft{
				{RuleID: "rule_3", Role: RoleAdvocate, Trigger: TriggerPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 100, Currency: "EUR", Explanation: "rule rule_3 (purchase): 5% of 20.00 EUR = 1.00 (half-up)"},
			},
		},
		{
			name: "percent capped at max_amount",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 100000, Currency: "EUR"},
			want: []Draft{
				{RuleID: "rule_2", Role: RoleAdvocate, Trigger: TriggerFirstPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 5000, Currency: "EUR", Explanation: "rule rule_2 (first_purchase): 10% of 1000.00 EUR = 100.00 (half-up), capped at 50.00"},
				friendCoupon,
				{RuleID: "rule_3", Role: RoleAdvocate, Trigger: TriggerPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 5000, Currency: "EUR", Explanation: "rule rule_3 (purchase): 5% of 1000.00 EUR = 50.00 (half-up)"},
			},
		},
		{
			name: "exactly at cap is not marked capped",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 50000, Currency: "EUR"},
			want: []Draft{
				{RuleID: "rule_2", Role: RoleAdvocate, Trigger: TriggerFirstPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 5000, Currency: "EUR", Explanation: "rule rule_2 (first_purchase): 10% of 500.00 EUR = 50.00 (half-up)"},
				friendCoupon,
				{RuleID: "rule_3", Role: RoleAdvocate, Trigger: TriggerPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 2500, Currency: "EUR", Explanation: "rule rule_3 (purchase): 5% of 500.00 EUR = 25.00 (half-up)"},
			},
		},
		{
			name: "currency mismatch skips percent rewards but not fixed ones",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 4999, Currency: "USD"},
			want: []Draft{friendCoupon},
			skips: []Skip{
				{RuleID: "rule_2", Role: RoleAdvocate, Reason: "currency_mismatch: purchase in USD, program in EUR"},
				{RuleID: "rule_3", Role: RoleAdvocate, Reason: "currency_mismatch: purchase in USD, program in EUR"},
			},
		},
		{
			name: "tiny purchase rounds to zero",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 4, Currency: "EUR"},
			want: []Draft{friendCoupon},
			skips: []Skip{
				{RuleID: "rule_2", Role: RoleAdvocate, Reason: "zero_amount"},
				{RuleID: "rule_3", Role: RoleAdvocate, Reason: "zero_amount"},
			},
		},
		{
			name: "half cent rounds up",
			o:    Occasion{Trigger: TriggerPurchase, FirstPurchase: false, Amount: 10, Currency: "EUR"},
			want: []Draft{
				{RuleID: "rule_3", Role: RoleAdvocate, Trigger: TriggerPurchase, Kind: KindCash, AmountType: AmountPercent,
					Amount: 1, Currency: "EUR", Explanation: "rule rule_3 (purchase): 5% of 0.10 EUR = 0.01 (half-up)"},
			},
		},
		{
			name: "unknown trigger fires nothing",
			o:    Occasion{Trigger: "refund", FirstPurchase: true, Amount: 4999, Currency: "EUR"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := evalProgram(t)
			got, skips := Evaluate(p, tc.o)
			if !slices.Equal(got, tc.want) {
				t.Errorf("drafts:\n got  %+v\n want %+v", got, tc.want)
			}
			if !slices.Equal(skips, tc.skips) {
				t.Errorf("skips:\n got  %+v\n want %+v", skips, tc.skips)
			}
			for _, d := range got {
				if d.Explanation == "" || !strings.Contains(d.Explanation, d.RuleID) {
					t.Errorf("draft %+v: explanation must be non-empty and name the rule", d)
				}
			}
		})
	}
}

func TestEvaluateDoubleSidedSignupAndNoRules(t *testing.T) {
	p := &Program{Currency: "JPY", Rules: []RewardRule{
		{ID: "welcome", Trigger: TriggerSignup,
			Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 1000},
			Friend:   &RewardSpec{Kind: KindCustom, Type: AmountFixed, Amount: 1, Description: "a free month"}},
	}}
	got, skips := Evaluate(p, Occasion{Trigger: TriggerSignup})
	want := []Draft{
		{RuleID: "welcome", Role: RoleAdvocate, Trigger: TriggerSignup, Kind: KindCredit, AmountType: AmountFixed,
			Amount: 1000, Currency: "JPY", Explanation: "rule welcome (signup): fixed 1000 JPY"},
		{RuleID: "welcome", Role: RoleFriend, Trigger: TriggerSignup, Kind: KindCustom, AmountType: AmountFixed,
			Amount: 1, Currency: "JPY", Description: "a free month", Explanation: "rule welcome (signup): fixed 1 JPY"},
	}
	if !slices.Equal(got, want) || len(skips) != 0 {
		t.Errorf("got %+v, %+v; want %+v", got, skips, want)
	}
	// A purchase does not fire signup rules.
	if got, skips := Evaluate(p, Occasion{Trigger: TriggerPurchase, FirstPurchase: true, Amount: 100, Currency: "JPY"}); len(got) != 0 || len(skips) != 0 {
		t.Errorf("purchase fired signup rule: %+v %+v", got, skips)
	}
	if got, skips := Evaluate(&Program{Currency: "EUR"}, Occasion{Trigger: TriggerSignup}); got != nil || skips != nil {
		t.Errorf("no rules: %+v %+v", got, skips)
	}
}

func TestEvaluateOverflowSkip(t *testing.T) {
	// Not reachable through Normalize (percent_bps <= 10000), but Evaluate must
	// not panic or wrap around on a hand-built program.
	p := &Program{Currency: "EUR", Rules: []RewardRule{
		{ID: "r", Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 20000}},
	}}
	got, skips := Evaluate(p, Occasion{Trigger: TriggerPurchase, Amount: math.MaxInt64, Currency: "EUR"})
	if len(got) != 0 || !slices.Equal(skips, []Skip{{RuleID: "r", Role: RoleAdvocate, Reason: "overflow"}}) {
		t.Errorf("got %+v, %+v", got, skips)
	}
}

func TestValidRewardStatus(t *testing.T) {
	for _, s := range []string{"pending", "approved", "paid", "reversed", "clawed_back"} {
		if !ValidRewardStatus(s) {
			t.Errorf("ValidRewardStatus(%q) = false", s)
		}
	}
	for _, s := range []string{"", "Pending", "cancelled", "clawedback"} {
		if ValidRewardStatus(s) {
			t.Errorf("ValidRewardStatus(%q) = true", s)
		}
	}
}

func TestReversal(t *testing.T) {
	tests := []struct {
		name                  string
		typ                   AmountType
		amount, reversed      int64
		purchase, refundedTot int64
		want                  int64
	}{
		{"fixed partial refund reverses nothing", AmountFixed, 1000, 0, 5000, 2500, 0},
		{"fixed almost full refund reverses nothing", AmountFixed, 1000, 0, 5000, 4999, 0},
		{"fixed full refund", AmountFixed, 1000, 0, 5000, 5000, 1000},
		{"fixed over-refund", AmountFixed, 1000, 0, 5000, 9000, 1000},
		{"fixed full refund after manual reversal", AmountFixed, 1000, 400, 5000, 5000, 600},
		{"fixed already reversed", AmountFixed, 1000, 1000, 5000, 5000, 0},
		{"no refund", AmountPercent, 500, 0, 4999, 0, 0},
		{"negative refund total", AmountPercent, 500, 0, 4999, -10, 0},
		{"percent proportional", AmountPercent, 500, 0, 4999, 1000, 100},     // 100.02
		{"percent half-up", AmountPercent, 3, 0, 2, 1, 2},                    // 1.5
		{"percent half-up 2", AmountPercent, 5, 0, 2, 1, 3},                  // 2.5 (half-even would give 2)
		{"percent below half", AmountPercent, 500, 0, 4999, 2499, 250},       // 249.95
		{"percent second partial", AmountPercent, 500, 100, 4999, 2500, 150}, // target 250.05 -> 250
		{"percent rest on full", AmountPercent, 500, 250, 4999, 4999, 250},
		{"percent over-refund", AmountPercent, 500, 250, 4999, 6000, 250},
		{"percent capped reward", AmountPercent, 5000, 0, 100000, 50000, 2500},
		{"percent target below already reversed", AmountPercent, 500, 300, 4999, 1000, 0},
		{"percent never exceeds outstanding", AmountPercent, 500, 450, 4999, 4998, 50},
		{"nothing outstanding", AmountPercent, 500, 500, 4999, 4999, 0},
		{"over-reversed stays zero", AmountPercent, 500, 600, 4999, 4999, 0},
		{"zero purchase fully refunded", AmountPercent, 500, 0, 0, 1, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reward{AmountType: tc.typ, Amount: tc.amount, Reversed: tc.reversed}
			got, err := Reversal(r, tc.purchase, tc.refundedTot)
			if err != nil {
				t.Fatalf("Reversal: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Reversal = %d, want %d", got, tc.want)
			}
			if got < 0 || (got > 0 && got > r.Outstanding()) {
				t.Fatalf("Reversal = %d outside [0, outstanding %d]", got, r.Outstanding())
			}
		})
	}
}

// TestReversalSuccessivePartials refunds an order in pieces and checks that
// the reversals add up exactly to the reward at full refund.
func TestReversalSuccessivePartials(t *testing.T) {
	r := &Reward{AmountType: AmountPercent, Amount: 500}
	const purchase = 4999
	steps := []struct{ total, want int64 }{
		{1, 0},      // 0.1
		{5, 1},      // 0.50 -> 1
		{5, 0},      // duplicate report of the same total
		{1000, 99},  // 100.02 -> 100, minus 1
		{3333, 233}, // 333.37 -> 333
		{4998, 167}, // 499.9 -> 500
		{4999, 0},
		{6000, 0},
	}
	var sum int64
	for i, s := range steps {
		got, err := Reversal(r, purchase, s.total)
		if err != nil || got != s.want {
			t.Fatalf("step %d (refunded %d): Reversal = %d, %v; want %d", i, s.total, got, err, s.want)
		}
		r.Reversed += got
		sum += got
	}
	if sum != 500 || r.Outstanding() != 0 {
		t.Fatalf("sum of reversals = %d, outstanding %d; want 500, 0", sum, r.Outstanding())
	}
}
