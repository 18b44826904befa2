package parrain

import (
	"strings"
	"testing"
	"time"
)

func validProgram() Program {
	return Program{
		Name:       "  Spring referral  ",
		LandingURL: "https://shop.example.com/welcome?utm=ref",
		Currency:   "eur",
		Rules: []RewardRule{
			{Trigger: TriggerSignup, Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 500}},
			{Trigger: TriggerFirstPurchase,
				Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000, MaxAmount: 5000},
				Friend:   &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 1000}},
		},
	}
}

func TestProgramNormalizeDefaults(t *testing.T) {
	p := validProgram()
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if p.Name != "Spring referral" {
		t.Errorf("Name = %q", p.Name)
	}
	if p.LandingURL != "https://shop.example.com/welcome?utm=ref" {
		t.Errorf("LandingURL = %q", p.LandingURL)
	}
	if p.Currency != "EUR" {
		t.Errorf("Currency = %q, want EUR", p.Currency)
	}
	if p.CookieWindowDays != 30 {
		t.Errorf("CookieWindowDays = %d, want 30", p.CookieWindowDays)
	}
	if p.AttributionModel != LastClick {
		t.Errorf("AttributionModel = %q, want last_click", p.AttributionModel)
	}
	if p.Status != ProgramActive {
		t.Errorf("Status = %q, want active", p.Status)
	}
	if p.HoldDays != 0 {
		t.Errorf("HoldDays = %d, want 0", p.HoldDays)
	}
	if p.Rules[0].ID != "rule_1" || p.Rules[1].ID != "rule_2" {
		t.Errorf("rule ids = %q, %q; want rule_1, rule_2", p.Rules[0].ID, p.Rules[1].ID)
	}
	if p.Window() != 30*24*time.Hour {
		t.Errorf("Window = %v", p.Window())
	}
	if r, ok := p.Rule("rule_2"); !ok || r.Trigger != TriggerFirstPurchase {
		t.Errorf("Rule(rule_2) = %+v, %v", r, ok)
	}
	if _, ok := p.Rule("nope"); ok {
		t.Error("Rule(nope) found")
	}
	// Normalize is idempotent.
	before := p
	if err := p.Normalize(); err != nil {
		t.Fatalf("second Normalize: %v", err)
	}
	if p.Name != before.Name || p.Currency != before.Currency || p.CookieWindowDays != 30 || p.Rules[1].ID != "rule_2" {
		t.Errorf("second Normalize changed the program: %+v", p)
	}
}

func TestProgramNormalizeKeepsExplicitValues(t *testing.T) {
	p := validProgram()
	p.CookieWindowDays = 7
	p.AttributionModel = FirstClick
	p.Status = ProgramPaused
	p.HoldDays = 14
	p.Rules[0].ID = "welcome"
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if p.CookieWindowDays != 7 || p.AttributionModel != FirstClick || p.Status != ProgramPaused || p.HoldDays != 14 {
		t.Errorf("explicit values overwritten: %+v", p)
	}
	if p.Rules[0].ID != "welcome" || p.Rules[1].ID != "rule_2" {
		t.Errorf("rule ids = %q, %q", p.Rules[0].ID, p.Rules[1].ID)
	}
	if p.Hold() != 14*24*time.Hour {
		t.Errorf("Hold = %v", p.Hold())
	}
}

func TestProgramNormalizeEdges(t *testing.T) {
	ok := []struct {
		name string
		mod  func(*Program)
	}{
		{"window 1", func(p *Program) { p.CookieWindowDays = 1 }},
		{"window 730", func(p *Program) { p.CookieWindowDays = 730 }},
		{"hold 365", func(p *Program) { p.HoldDays = 365 }},
		{"http url", func(p *Program) { p.LandingURL = "http://localhost:8080/x" }},
		{"no rules", func(p *Program) { p.Rules = nil }},
		{"50 rules", func(p *Program) { p.Rules = manyRules(50) }},
		{"name 200", func(p *Program) { p.Name = strings.Repeat("n", 200) }},
		{"percent 10000", func(p *Program) { p.Rules[1].Advocate.PercentBps = 10000 }},
		{"percent 1", func(p *Program) { p.Rules[1].Advocate.PercentBps = 1 }},
		{"friend only", func(p *Program) {
			p.Rules[0].Advocate = nil
			p.Rules[0].Friend = &RewardSpec{Kind: KindCustom, Type: AmountFixed, Amount: 1, Description: "a free month"}
		}},
		{"percent on purchase", func(p *Program) { p.Rules[1].Trigger = TriggerPurchase }},
		{"amount MaxAmount", func(p *Program) { p.Rules[0].Advocate.Amount = MaxAmount }},
		{"description 500", func(p *Program) { p.Rules[0].Advocate.Description = strings.Repeat("d", 500) }},
		{"jpy", func(p *Program) { p.Currency = "JPY" }},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mod(&p)
			if err := p.Normalize(); err != nil {
				t.Fatalf("Normalize: %v", err)
			}
		})
	}
}

func manyRules(n int) []RewardRule {
	rs := make([]RewardRule, n)
	for i := range rs {
		rs[i] = RewardRule{Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1}}
	}
	return rs
}

func TestProgramNormalizeErrors(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(*Program)
		field string
	}{
		{"name missing", func(p *Program) { p.Name = "  " }, "name"},
		{"name too long", func(p *Program) { p.Name = strings.Repeat("n", 201) }, "name"},
		{"landing missing", func(p *Program) { p.LandingURL = "" }, "landing_url"},
		{"landing blank", func(p *Program) { p.LandingURL = "   " }, "landing_url"},
		{"landing relative", func(p *Program) { p.LandingURL = "/welcome" }, "landing_url"},
		{"landing scheme-relative", func(p *Program) { p.LandingURL = "//shop.example.com/" }, "landing_url"},
		{"landing javascript", func(p *Program) { p.LandingURL = "javascript:alert(1)" }, "landing_url"},
		{"landing ftp", func(p *Program) { p.LandingURL = "ftp://example.com/" }, "landing_url"},
		{"landing no host", func(p *Program) { p.LandingURL = "https:///path" }, "landing_url"},
		{"landing unparsable", func(p *Program) { p.LandingURL = "https://exa mple.com/%zz" }, "landing_url"},
		{"currency missing", func(p *Program) { p.Currency = "" }, "currency"},
		{"currency unknown", func(p *Program) { p.Currency = "EURO" }, "currency"},
		{"window negative", func(p *Program) { p.CookieWindowDays = -1 }, "cookie_window_days"},
		{"window too long", func(p *Program) { p.CookieWindowDays = 731 }, "cookie_window_days"},
		{"model unknown", func(p *Program) { p.AttributionModel = "linear" }, "attribution_model"},
		{"hold negative", func(p *Program) { p.HoldDays = -1 }, "hold_days"},
		{"hold too long", func(p *Program) { p.HoldDays = 366 }, "hold_days"},
		{"status unknown", func(p *Program) { p.Status = "archived" }, "status"},
		{"too many rules", func(p *Program) { p.Rules = manyRules(51) }, "rules"},
		{"duplicate explicit id", func(p *Program) { p.Rules[0].ID = "x"; p.Rules[1].ID = "x" }, "rules[1].id"},
		{"explicit id collides with default", func(p *Program) { p.Rules[0].ID = "rule_2" }, "rules[1].id"},
		{"trigger missing", func(p *Program) { p.Rules[1].Trigger = "" }, "rules[1].trigger"},
		{"trigger unknown", func(p *Program) { p.Rules[0].Trigger = "click" }, "rules[0].trigger"},
		{"no side", func(p *Program) { p.Rules[1].Advocate = nil; p.Rules[1].Friend = nil }, "rules[1]"},
		{"kind missing", func(p *Program) { p.Rules[0].Advocate.Kind = "" }, "rules[0].advocate.kind"},
		{"kind unknown", func(p *Program) { p.Rules[1].Friend.Kind = "gift" }, "rules[1].friend.kind"},
		{"type missing", func(p *Program) { p.Rules[0].Advocate.Type = "" }, "rules[0].advocate.type"},
		{"type unknown", func(p *Program) { p.Rules[1].Friend.Type = "tiered" }, "rules[1].friend.type"},
		{"fixed zero amount", func(p *Program) { p.Rules[0].Advocate.Amount = 0 }, "rules[0].advocate.amount"},
		{"fixed negative amount", func(p *Program) { p.Rules[0].Advocate.Amount = -100 }, "rules[0].advocate.amount"},
		{"fixed amount too large", func(p *Program) { p.Rules[0].Advocate.Amount = MaxAmount + 1 }, "rules[0].advocate.amount"},
		{"fixed with percent", func(p *Program) { p.Rules[1].Friend.PercentBps = 500 }, "rules[1].friend.percent_bps"},
		{"percent on signup", func(p *Program) {
			p.Rules[0].Advocate = &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000}
		}, "rules[0].advocate.type"},
		{"percent on signup friend", func(p *Program) {
			p.Rules[0].Friend = &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1000}
		}, "rules[0].friend.type"},
		{"percent zero", func(p *Program) { p.Rules[1].Advocate.PercentBps = 0 }, "rules[1].advocate.percent_bps"},
		{"percent over 100%", func(p *Program) { p.Rules[1].Advocate.PercentBps = 10001 }, "rules[1].advocate.percent_bps"},
		{"percent friend negative", func(p *Program) {
			p.Rules[1].Friend = &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: -5}
		}, "rules[1].friend.percent_bps"},
		{"percent with amount", func(p *Program) { p.Rules[1].Advocate.Amount = 100 }, "rules[1].advocate.amount"},
		{"max amount negative", func(p *Program) { p.Rules[1].Advocate.MaxAmount = -1 }, "rules[1].advocate.max_amount"},
		{"max amount too large", func(p *Program) { p.Rules[1].Advocate.MaxAmount = MaxAmount + 1 }, "rules[1].advocate.max_amount"},
		{"description too long", func(p *Program) { p.Rules[1].Friend.Description = strings.Repeat("d", 501) }, "rules[1].friend.description"},
		{"advocate error reported before friend", func(p *Program) {
			p.Rules[1].Advocate.Kind = ""
			p.Rules[1].Friend.Kind = ""
		}, "rules[1].advocate.kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := validProgram()
			tc.mod(&p)
			wantInvalid(t, p.Normalize(), tc.field)
		})
	}
}

func TestProgramNormalizeURLAndScheme(t *testing.T) {
	p := validProgram()
	p.LandingURL = "  HTTPS://shop.example.com/a b  "
	if err := p.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if p.LandingURL != "https://shop.example.com/a%20b" {
		t.Errorf("LandingURL = %q", p.LandingURL)
	}
}
