package parrain

import (
	"fmt"
	"strings"
	"testing"
)

// personalProgram pays VIP advocates 20 € and others 10 €, gives
// German-speaking friends a 15 % coupon instead of a 5 € credit, and turns
// the advocate's 10th referral into a product credit.
func personalProgram(t *testing.T) *Program {
	t.Helper()
	return mustProgram(t, progSpec{Rules: []RewardRule{{ID: "ref", Trigger: TriggerFirstPurchase,
		Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1000, Variants: []RewardVariant{
			{When: VariantCondition{Referrals: &CountCondition{From: 10, To: 10}}, Kind: KindCredit, Amount: 5000},
			{When: VariantCondition{Advocate: &PersonCondition{Attributes: map[string][]string{"vip": {"true"}}}}, Amount: 2000},
		}},
		Friend: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 500, Variants: []RewardVariant{
			{When: VariantCondition{Friend: &PersonCondition{Locales: []string{"de"}}}, Kind: KindCoupon, Amount: 800, PercentOffBps: 1500},
		}},
	}, {ID: "pct", Trigger: TriggerPurchase,
		Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 500, Variants: []RewardVariant{
			{When: VariantCondition{Advocate: &PersonCondition{Attributes: map[string][]string{"segment": {"gold", "platinum"}}}}, PercentBps: 1000},
		}},
	}}})
}

func TestPersonalisedRewards(t *testing.T) {
	p := personalProgram(t)
	tests := []struct {
		name        string
		adv, friend Participant
		before      int // the advocate's earlier successful referrals
		want        []string
		variants    []int
	}{
		{"no variant", Participant{ID: "a"}, Participant{ID: "f", Locale: "fr-FR"}, 0,
			[]string{"advocate cash 1000", "friend credit 500", "advocate cash 250"}, []int{0, 0, 0}},
		{"VIP advocate earns 20 €", Participant{ID: "a", Attributes: Attributes{"vip": true}}, Participant{ID: "f"}, 0,
			[]string{"advocate cash 2000", "friend credit 500", "advocate cash 250"}, []int{2, 0, 0}},
		{"VIP as a string attribute", Participant{ID: "a", Attributes: Attributes{"vip": "true"}}, Participant{ID: "f"}, 3,
			[]string{"advocate cash 2000", "friend credit 500", "advocate cash 250"}, []int{2, 0, 0}},
		{"German-speaking friend gets a coupon", Participant{ID: "a"}, Participant{ID: "f", Locale: "de-AT"}, 0,
			[]string{"advocate cash 1000", "friend coupon 800", "advocate cash 250"}, []int{0, 1, 0}},
		{"bare de matches de", Participant{ID: "a"}, Participant{ID: "f", Locale: "de"}, 0,
			[]string{"advocate cash 1000", "friend coupon 800", "advocate cash 250"}, []int{0, 1, 0}},
		{"10th referral earns a product credit, before VIP", Participant{ID: "a", Attributes: Attributes{"vip": true}}, Participant{ID: "f"}, 9,
			[]string{"advocate credit 5000", "friend credit 500", "advocate cash 250"}, []int{1, 0, 0}},
		{"11th referral is cash again", Participant{ID: "a"}, Participant{ID: "f"}, 10,
			[]string{"advocate cash 1000", "friend credit 500", "advocate cash 250"}, []int{0, 0, 0}},
		{"segment percentage", Participant{ID: "a", Attributes: Attributes{"segment": "gold"}}, Participant{ID: "f"}, 0,
			[]string{"advocate cash 1000", "friend credit 500", "advocate cash 500"}, []int{0, 0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &memFacts{}
			for i := range tc.before {
				f.successes = append(f.successes, memSuccess{tc.adv.ID, fmt.Sprintf("old_%d", i), nov10})
			}
			o := purchase(5000, "EUR")
			o.Advocate, o.Friend = &tc.adv, &tc.friend
			aw, skips, err := EvaluateWith(p, o, f)
			if err != nil || len(skips) != 0 {
				t.Fatalf("got %+v %v", skips, err)
			}
			var got []string
			var vs []int
			for _, a := range aw {
				got = append(got, fmt.Sprintf("%s %s %d", a.Role, a.Kind, a.Amount))
				vs = append(vs, a.Inputs.Variant)
				if a.Spec.Kind != a.Kind || len(a.Spec.Variants) != 0 {
					t.Errorf("the award's spec is not the variant's: %+v", a.Spec)
				}
				if a.Inputs.Variant > 0 && !strings.Contains(a.Explanation, fmt.Sprintf("variant %d applies (", a.Inputs.Variant)) {
					t.Errorf("explanation does not name the variant: %s", a.Explanation)
				}
				if a.Inputs.Variant == 0 && !strings.Contains(a.Explanation, "no variant applies") {
					t.Errorf("explanation does not say no variant applied: %s", a.Explanation)
				}
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") || fmt.Sprint(vs) != fmt.Sprint(tc.variants) {
				t.Errorf("got %v variants %v, want %v variants %v", got, vs, tc.want, tc.variants)
			}
		})
	}
}

func TestPersonalisedExplanation(t *testing.T) {
	p := personalProgram(t)
	o := purchase(5000, "EUR")
	o.Advocate = &Participant{ID: "a", Attributes: Attributes{"vip": true}}
	o.Friend = &Participant{ID: "f", Locale: "de-DE"}
	aw, _, err := EvaluateWith(p, o, NoFacts{})
	if err != nil || len(aw) != 3 {
		t.Fatalf("%+v %v", aw, err)
	}
	for i, want := range []string{
		"rule ref (first_purchase): variant 2 applies (advocate vip is true), fixed 20.00 EUR",
		"rule ref (first_purchase): variant 1 applies (friend locale is de-DE), fixed 8.00 EUR",
	} {
		if aw[i].Explanation != want {
			t.Errorf("explanation %d:\n got %s\nwant %s", i, aw[i].Explanation, want)
		}
	}
}

func TestVariantValidation(t *testing.T) {
	base := func() Program {
		return Program{Name: "P", LandingURL: "https://shop.example/", Currency: "EUR", Rules: []RewardRule{{ID: "r", Trigger: TriggerFirstPurchase,
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1000, Variants: []RewardVariant{
				{When: VariantCondition{Advocate: &PersonCondition{Attributes: map[string][]string{"vip": {"true"}}}}, Amount: 2000}}}}}}
	}
	v := func(p *Program) *RewardVariant { return &p.Rules[0].Advocate.Variants[0] }
	tests := []struct {
		name  string
		mod   func(*Program)
		field string
	}{
		{"valid", func(*Program) {}, ""},
		{"no condition", func(p *Program) { v(p).When = VariantCondition{} }, "rules[0].advocate.variants[0].when"},
		{"empty person", func(p *Program) { v(p).When.Advocate = &PersonCondition{} }, "rules[0].advocate.variants[0].when.advocate"},
		{"bad attribute name", func(p *Program) { v(p).When.Advocate.Attributes = map[string][]string{"VIP": {"x"}} },
			"rules[0].advocate.variants[0].when.advocate.attributes"},
		{"attribute without value", func(p *Program) { v(p).When.Advocate.Attributes = map[string][]string{"vip": {}} },
			"rules[0].advocate.variants[0].when.advocate.attributes.vip"},
		{"bad locale", func(p *Program) { v(p).When.Friend = &PersonCondition{Locales: []string{"de", "x"}} },
			"rules[0].advocate.variants[0].when.friend.locales[1]"},
		{"negative amount", func(p *Program) { v(p).Amount = -5 }, "rules[0].advocate.variants[0].amount"},
		{"percent on a fixed reward without rate", func(p *Program) { v(p).Type = AmountPercent; v(p).Amount = 0 },
			"rules[0].advocate.variants[0].percent_bps"},
		{"amount and percent", func(p *Program) { v(p).PercentBps = 100 }, "rules[0].advocate.variants[0].percent_bps"},
		{"unknown kind", func(p *Program) { v(p).Kind = "voucher" }, "rules[0].advocate.variants[0].kind"},
		{"feature unlock needs a feature", func(p *Program) { v(p).Kind = KindFeatureUnlock }, "rules[0].advocate.variants[0].feature"},
		{"gift card needs a pool", func(p *Program) { v(p).Kind = KindGiftCard }, "rules[0].advocate.variants[0].pool"},
		{"referrals empty", func(p *Program) { v(p).When = VariantCondition{Referrals: &CountCondition{}} },
			"rules[0].advocate.variants[0].when.referrals"},
		{"referrals to below from", func(p *Program) { v(p).When = VariantCondition{Referrals: &CountCondition{From: 5, To: 3}} },
			"rules[0].advocate.variants[0].when.referrals.to"},
		{"referrals period", func(p *Program) { v(p).When = VariantCondition{Referrals: &CountCondition{Every: 3, Period: "week"}} },
			"rules[0].advocate.variants[0].when.referrals.period"},
		{"too many", func(p *Program) {
			p.Rules[0].Advocate.Variants = make([]RewardVariant, maxVariants+1)
		}, "rules[0].advocate.variants"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			tc.mod(&p)
			err := p.Normalize()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				return
			}
			if e := AsError(err); e == nil || e.Field != tc.field {
				t.Errorf("error %v, want field %s", err, tc.field)
			}
		})
	}
}

func TestVariantTerms(t *testing.T) {
	p := personalProgram(t)
	md := RenderTerms(TermsInput{Program: p})
	for _, want := range []string{
		"you receive 10.00 EUR in cash; but 50.00 EUR as account credit when it is the advocate's 10th successful referral in total; otherwise 20.00 EUR in cash when the advocate's vip is true",
		"your friend receives 5.00 EUR as account credit; but a 15% discount coupon (valued at 8.00 EUR) when the friend's language is de",
		"5% of the purchase in cash; but 10% of the purchase in cash when the advocate's segment is gold or platinum",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("terms lack %q:\n%s", want, md)
		}
	}
}
