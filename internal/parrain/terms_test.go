package parrain

import (
	"strings"
	"testing"
)

func TestRenderTermsFromConfiguration(t *testing.T) {
	p := mustProgram(t, progSpec{Currency: "EUR", FXRates: map[string]string{"USD": "0.92"},
		Stages:  []Stage{{Name: "demo_booked", Label: "Demo booked"}, {Name: "closed_won", Label: "Closed won"}},
		Success: &Success{Trigger: TriggerStage, Stage: "closed_won"},
		Eligibility: &Eligibility{Advocates: &AdvocateEligibility{PayingOnly: true, Plans: []string{"pro"}},
			Purchases: &PurchaseEligibility{MinAmount: 2000, NewCustomersOnly: true}},
		Caps: &Caps{PerParticipant: &PeriodCap{Amount: 100000, Period: PeriodMonth}, OnCap: CapReview},
		Rules: []RewardRule{
			{ID: "t", Trigger: TriggerFirstPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1000,
				Tiers: []TierStep{{From: 5, Amount: 2000}}}, Friend: &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 500, PercentOffBps: 2000}},
			{ID: "d", Trigger: TriggerStage, Stage: "demo_booked", Advocate: &RewardSpec{Kind: KindGiftCard, Type: AmountFixed, Amount: 2500, Pool: "amazon"}},
			{ID: "w", Trigger: TriggerStage, Stage: "closed_won", Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 1500, TrueUpMonths: 12}},
			{ID: "b", Trigger: TriggerMilestone, Milestone: &Milestone{Count: 1}, Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 10000}},
		}})
	p.HoldDays = 30
	p.Terms = &TermsSettings{Notes: "Be <nice>."}
	md := RenderTerms(TermsInput{Program: p, Payouts: &PayoutSettings{Schedule: ScheduleMonthly, Day: 5, MinimumAmount: 5000}})
	for _, want := range []string{
		"Only paying customers", "plans: pro",
		"reaches the stage **Closed won**",
		"Purchases count from 20.00 EUR", "Only new customers count",
		"10.00 EUR in cash (20.00 EUR from your 5th successful referral (counted in total))",
		"a 20% discount coupon (valued at 5.00 EUR)",
		"When the referred lead reaches Demo booked**: you receive a gift card worth 25.00 EUR",
		"15% of the deal value in cash (adjusted if the contract value changes within 12 months)",
		"Bonus at your 1st successful referral",
		"1 USD = 0.92 EUR",
		"At most 1000.00 EUR per participant per calendar month", "waits for the program manager's approval",
		"held for 30 days",
		"every month on day 5", "Balances below 50.00 EUR",
		"Referring yourself",
		"Be <nice>.",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("terms lack %q:\n%s", want, md)
		}
	}
	// Same configuration, same text; a change of rules changes it.
	if RenderTerms(TermsInput{Program: p, Payouts: &PayoutSettings{Schedule: ScheduleMonthly, Day: 5, MinimumAmount: 5000}}) != md {
		t.Error("rendering is not deterministic")
	}
	p.HoldDays = 14
	if RenderTerms(TermsInput{Program: p}) == md {
		t.Error("hold change did not change the terms")
	}
	html := MarkdownHTML(md)
	if strings.Contains(html, "<nice>") || !strings.Contains(html, "Be &lt;nice&gt;.") {
		t.Errorf("notes not escaped: %s", html)
	}
	if !strings.Contains(html, "<h2>Who may refer</h2>") || !strings.Contains(html, "<strong>Closed won</strong>") || !strings.Contains(html, "<ul>") {
		t.Errorf("html structure: %s", html)
	}
}

func TestMarkdownHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"# T\n\npara one\nline two\n", "<h1>T</h1>\n<p>para one line two</p>\n"},
		{"## H\n- a **b**\n- c\n\nend", "<h2>H</h2>\n<ul>\n<li>a <strong>b</strong></li>\n<li>c</li>\n</ul>\n<p>end</p>\n"},
		{"<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"},
		{"unmatched ** stays", "<p>unmatched ** stays</p>\n"},
		{"- x\ntext after list", "<ul>\n<li>x</li>\n</ul>\n<p>text after list</p>\n"},
		{`quotes " & '`, "<p>quotes &#34; &amp; &#39;</p>\n"},
	}
	for _, tc := range tests {
		if got := MarkdownHTML(tc.in); got != tc.want {
			t.Errorf("MarkdownHTML(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTermsDigest(t *testing.T) {
	a, b := TermsDigest("# Terms\n"), TermsDigest("# Terms \n")
	if len(a) != 64 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("digest %q is not hex SHA-256", a)
	}
	if a == b || a != TermsDigest("# Terms\n") {
		t.Errorf("digest not a function of the text: %s %s", a, b)
	}
	// The SHA-256 of the empty string, so that stored digests stay valid.
	if got := TermsDigest(""); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty digest %s", got)
	}
}

func TestAcceptedTermsVersion(t *testing.T) {
	tests := []struct {
		requested, current, want int
		invalid                  bool
	}{
		{0, 3, 3, false},
		{1, 3, 1, false},
		{3, 3, 3, false},
		{9, 3, 9, false}, // whether it exists is the store's to say
		{-1, 3, 0, true},
	}
	for _, tt := range tests {
		got, err := AcceptedTermsVersion(tt.requested, tt.current)
		if tt.invalid {
			wantInvalid(t, err, "version")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("AcceptedTermsVersion(%d, %d) = %d, %v; want %d", tt.requested, tt.current, got, err, tt.want)
		}
	}
}
