package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

func TestMoneyAndRatios(t *testing.T) {
	cases := []struct{ got, want string }{
		{money(123456, "EUR"), "1,234.56 EUR"},
		{money(-5, "EUR"), "-0.05 EUR"},
		{money(1234567, "JPY"), "1,234,567 JPY"},
		{money(1500, "KWD"), "1.500 KWD"},
		{money(0, "USD"), "0.00 USD"},
		{Ratio{1, 3}.Percent(), "33.3 %"},
		{Ratio{2, 3}.Percent(), "66.7 %"}, // half-up
		{Ratio{5, 0}.Percent(), "—"},
		{Ratio{-1, 4}.Percent(), "-25.0 %"},
		{Ratio{238, 12}.Times(), "19.8×"},
		{Ratio{0, 0}.Times(), "—"},
		{change(120, 100), "+20.0 %"},
		{change(50, 100), "-50.0 %"},
		{change(5, 0), "new"},
		{change(0, 0), "—"},
		{changePoints(250, 200), "+5.0 pts"},
		{trend(1, 2), "down"},
		{label("signed_up"), "Signed up"},
		{thousands(-1234567), "-1,234,567"},
		{string(qs("program", "p 1", "status", "", "cursor", "a&b")), "cursor=a%26b&program=p+1"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	cases := []struct {
		in     string
		digits int
		want   int64
		err    string
	}{
		{"12.5", 2, 1250, ""},
		{"12,50", 2, 1250, ""},
		{"0.01", 2, 1, ""},
		{".5", 2, 50, ""},
		{"100", 0, 100, ""},
		{"1.5", 0, 0, "whole number"},
		{"1.234", 2, 0, "at most 2 decimals"},
		{"1.2345", 3, 0, "at most 3 decimals"},
		{"-1", 2, 0, "positive number"},
		{"1e3", 2, 0, "positive number"},
		{"1,000.50", 2, 0, "positive number"}, // no thousands separators
		{"99999999999999999999", 2, 0, "too large"},
		{"", 2, 0, ""},
	}
	for _, c := range cases {
		got, err := parseDecimal("f", c.in, c.digits)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || parrain.AsError(err).Field != "f" {
				t.Errorf("%q: %v, want error %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %d %v, want %d", c.in, got, err, c.want)
		}
		if c.in != "" && c.in[0] != '.' && !strings.Contains(c.in, ",") {
			if back := formatDecimal(got, c.digits); back != strings.TrimRight(strings.TrimRight(c.in, "0"), ".") && back != c.in {
				t.Errorf("formatDecimal(%d) = %q, from %q", got, back, c.in)
			}
		}
	}
}

func TestProgramFormRoundTrip(t *testing.T) {
	p := parrain.Program{ID: "prog_1", Name: "P", LandingURL: "https://x.example", Currency: "EUR", CookieWindowDays: 30, HoldDays: 7,
		AttributionModel: parrain.LastClick, Version: 3, Rules: []parrain.RewardRule{
			{ID: "a", Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1250, MaxAmount: 3000,
					Tiers: []parrain.TierStep{{From: 5, Amount: 4000}}},
				Friend: &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}},
		}}
	pf := formFromProgram(p)
	if pf.Rules[0].Advocate.Percent != "12.5" || pf.Rules[0].Advocate.Max != "30" || pf.Rules[0].Friend.Amount != "10" ||
		len(pf.Rules[0].Extras) != 1 || pf.Rules[0].Extras[0] != "tiers" {
		t.Fatalf("form %+v", pf.Rules[0])
	}
	// Posting the form back rebuilds the program and keeps what the form
	// does not show (the tiers).
	v := url.Values{"name": {"P"}, "landing_url": {"https://x.example"}, "cookie_window_days": {"30"}, "hold_days": {"7"},
		"attribution_model": {"last_click"}, "rule.0.id": {"a"}, "rule.0.trigger": {"first_purchase"},
		"rule.0.advocate.kind": {"cash"}, "rule.0.advocate.type": {"percent"}, "rule.0.advocate.percent": {"12.5"}, "rule.0.advocate.max": {"30"},
		"rule.0.friend.kind": {"coupon"}, "rule.0.friend.type": {"fixed"}, "rule.0.friend.amount": {"10"},
		"rule.3.trigger": {"signup"}, "rule.3.remove": {"1"}, "rule.3.advocate.kind": {"cash"}}
	rf := readProgramForm(v)
	got, err := rf.program(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rules) != 1 || got.Rules[0].Advocate.PercentBps != 1250 || len(got.Rules[0].Advocate.Tiers) != 1 || got.Currency != "EUR" {
		t.Errorf("rebuilt %+v %+v", got.Rules, got.Rules[0].Advocate)
	}
	// A rule with engine settings the form cannot show is kept exactly.
	if !pf.Rules[0].Keep || !strings.Contains(pf.Rules[0].Summary, "12.5 % of the purchase") {
		t.Errorf("tiered rule not locked: %+v", pf.Rules[0])
	}
	stage := p
	stage.Rules = append(stage.Rules, parrain.RewardRule{ID: "b", Trigger: parrain.TriggerStage, Stage: "demo_booked",
		Advocate: &parrain.RewardSpec{Kind: parrain.KindGiftCard, Type: parrain.AmountFixed, Amount: 2500}})
	kept := url.Values{"name": {"P"}, "landing_url": {"https://x.example"}, "rule.0.id": {"a"}, "rule.0.keep": {"1"},
		"rule.1.id": {"b"}, "rule.1.keep": {"1"}}
	kf := readProgramForm(kept)
	back, err := kf.program(stage)
	if err != nil || len(back.Rules) != 2 || back.Rules[1].Stage != "demo_booked" || back.Rules[1].Advocate.Kind != parrain.KindGiftCard ||
		len(back.Rules[0].Advocate.Tiers) != 1 {
		t.Errorf("kept rules %+v %v", back.Rules, err)
	}
	if f := formFromProgram(stage); !f.Rules[1].Keep {
		t.Errorf("stage rule editable")
	}
	// Errors name the inputs of the row the browser shows.
	pf2 := readProgramForm(url.Values{"rule.0.trigger": {"signup"}, "rule.0.remove": {"1"}, "rule.2.trigger": {""}, "rule.2.advocate.kind": {"cash"}})
	pf2.Errors = map[string]string{fieldName("rules[0].trigger"): "is required"}
	if e := pf2.inputErrors(); e["rule.2.trigger"] != "is required" {
		t.Errorf("input errors %v", e)
	}
}

func TestBarChart(t *testing.T) {
	days := []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	svg := string(barChart(series{ID: "c", Title: "Clicks <b>", Color: "clicks", Days: days, Values: []int64{3, 0}}))
	for _, want := range []string{`role="img"`, `<title id="c-title">Clicks &lt;b&gt; per day</title>`, "3 in total from 2026-01-01 to 2026-01-02",
		"<title>Thu 1 Jan: 3</title>", "<title>Fri 2 Jan: 0</title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	if strings.Count(svg, `class="bar"`) != 2 {
		t.Errorf("bars: %s", svg)
	}
	// An empty period draws an empty chart, not a division by zero.
	if s := string(barChart(series{ID: "e", Title: "x"})); !strings.Contains(s, "0 in total over 0 days") {
		t.Errorf("empty chart %s", s)
	}
}

func TestContrast(t *testing.T) {
	for _, c := range []struct {
		hex  string
		pass bool
	}{{"#1d4ed8", true}, {"#047857", true}, {"#ffff00", false}, {"#777777", false}, {"#000000", true}} {
		r, ok := contrastWithWhite(c.hex)
		if !ok || (r >= 4.5) != c.pass {
			t.Errorf("%s: %.2f", c.hex, r)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/admin/rewards?status=pending": "/admin/rewards?status=pending",
		"https://evil.example/admin/":   "/admin/",
		"//evil.example/admin/":         "/admin/",
		"/admin/\r\nSet-Cookie: x":      "/admin/",
		"/api/v1/programs":              "/admin/",
		"":                              "/admin/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q", in, got)
		}
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=HYPERLINK(1)": "'=HYPERLINK(1)", "+1": "'+1", "@x": "'@x", "alice": "alice", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q", in, got)
		}
	}
}

func TestAuditWords(t *testing.T) {
	if got := actionLabel("reward.rejected"); got != "Rejected a reward" {
		t.Errorf("action %q", got)
	}
	if got := actionLabel("something.new"); got != "something.new" {
		t.Errorf("unknown action %q", got)
	}
	// Details as decoded from JSON: numbers are float64.
	got := strings.Join(auditDetails(map[string]any{"amount": float64(720), "currency": "EUR", "reason": "duplicate", "before_hold_end": true}), "; ")
	if got != "Amount: 7.20 EUR; Before hold end: true; Reason: duplicate" {
		t.Errorf("details %q", got)
	}
}
