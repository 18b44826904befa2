package fraudgen

import (
	"strings"
	"testing"
)

func TestDecision(t *testing.T) {
	tests := []struct {
		o    Outcome
		want string
	}{
		{Outcome{Status: "signed_up", RiskAction: "approve", ReviewStatus: "none"}, "allow"},
		{Outcome{Status: "signed_up"}, "allow"},
		{Outcome{Status: "signed_up", RiskAction: "flag", ReviewStatus: "flagged"}, "flag"},
		{Outcome{Status: "converted", RiskAction: "hold", ReviewStatus: "held"}, "hold"},
		{Outcome{Status: "converted", RiskAction: "flag", ReviewStatus: "held"}, "hold"}, // tightened by a later event
		{Outcome{Status: "rejected", Reason: "self_referral"}, "reject"},
		{Outcome{Status: "rejected", RiskAction: "suspend"}, "reject"},
	}
	for _, tt := range tests {
		if got := tt.o.Decision(); got != tt.want {
			t.Errorf("%+v: %s, want %s", tt.o, got, tt.want)
		}
	}
}

func TestReport(t *testing.T) {
	labels := []labelled{
		{"household", false, Arrivals[0], "h1"}, {"household", false, Arrivals[0], "h2"},
		{"office_nat", false, Arrivals[3], "o1"}, {"self_referral", true, Arrivals[2], "s1"},
		{"self_referral", true, Arrivals[2], "s2"}, {"click_farm", true, Arrivals[1], "c1"},
	}
	out := map[string]Outcome{
		"h1": {Friend: "h1", RiskAction: "flag", ReviewStatus: "flagged"},
		"o1": {Friend: "o1", Status: "rejected"},
		"s1": {Friend: "s1", Status: "rejected"},
		"s2": {Friend: "s2", RiskAction: "hold", ReviewStatus: "held"},
		"c1": {Friend: "c1", RiskAction: "approve"},
	}
	r := newReport(Config{Seed: 1, Scale: 1}, labels, out, map[string][]string{"s2": {"net.same_ip"}})
	if r.Fraud.Cases != 3 || r.Fraud.Held() != 2 || r.Benign.Cases != 3 || r.Benign.Held() != 1 || r.Benign.Missing != 1 {
		t.Fatalf("totals %+v %+v", r.Fraud, r.Benign)
	}
	if got := r.RejectPrecision(); got != 0.5 {
		t.Errorf("reject precision %v, want 0.5", got)
	}
	if w := r.WorstLookAlike(); w.Name != "office_nat" || w.HeldRate() != 1 {
		t.Errorf("worst look-alike %+v", w)
	}
	if got := r.FlaggedFalsePositiveRate(); got != 2.0/3 {
		t.Errorf("flag-or-worse FPR %v", got)
	}
	if r.Signals["self_referral"]["net.same_ip"] != 1 {
		t.Errorf("signals %v", r.Signals)
	}
	if tab := r.Table(); !strings.Contains(tab, "(1 not attributed)") || !strings.Contains(tab, "proxy+cookie fraud") {
		t.Errorf("table:\n%s", tab)
	}
	// The plan is reproducible from the seed.
	a, b := plan(3, 1), plan(3, 1)
	if len(a) != len(b) || a[0].advocate != b[0].advocate || a[len(a)-1].friends[0].p != b[len(b)-1].friends[0].p {
		t.Error("plan differs between two calls with one seed")
	}
}
