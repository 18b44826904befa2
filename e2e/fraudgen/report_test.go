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

func TestRowRates(t *testing.T) {
	tests := []struct {
		name          string
		decisions     []string
		want          Row
		held, flagged float64
	}{
		{"empty", nil, Row{}, 0, 0},
		{"each decision", []string{"allow", "flag", "hold", "reject", "", "unknown"},
			Row{Cases: 6, Allow: 3, Flag: 1, Hold: 1, Reject: 1}, 2.0 / 6, 3.0 / 6},
		{"all held", []string{"hold", "reject"}, Row{Cases: 2, Hold: 1, Reject: 1}, 1, 1},
		{"flags only", []string{"flag", "flag", "allow", "allow"}, Row{Cases: 4, Allow: 2, Flag: 2}, 0, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Row
			for _, d := range tt.decisions {
				r.add(d)
			}
			if r != tt.want {
				t.Errorf("row = %+v, want %+v", r, tt.want)
			}
			if r.HeldRate() != tt.held || r.FlaggedRate() != tt.flagged {
				t.Errorf("held rate %v flagged rate %v, want %v %v", r.HeldRate(), r.FlaggedRate(), tt.held, tt.flagged)
			}
		})
	}
}

func TestReportRates(t *testing.T) {
	tests := []struct {
		name                    string
		r                       Report
		recall, fpr, flagFPR, p float64
		worst                   string
	}{
		{"nothing", Report{}, 0, 0, 0, 1, ""},
		{"no rejection", Report{Fraud: Row{Cases: 4, Hold: 2}, Benign: Row{Cases: 10, Flag: 1}}, 0.5, 0, 0.1, 1, ""},
		{"rejections on both sides", Report{Fraud: Row{Cases: 4, Reject: 3}, Benign: Row{Cases: 10, Reject: 1, Hold: 1},
			Scenarios: []Row{{Name: "a", Cases: 2, Hold: 1}, {Name: "f", Fraud: true, Cases: 1, Reject: 1}, {Name: "b", Cases: 4, Reject: 3}, {Name: "c", Cases: 1}}},
			0.75, 0.2, 0.2, 0.75, "b"},
		{"first benign wins ties", Report{Scenarios: []Row{{Name: "x", Cases: 1}, {Name: "y", Cases: 2}}}, 0, 0, 0, 1, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Recall(); got != tt.recall {
				t.Errorf("recall %v, want %v", got, tt.recall)
			}
			if got := tt.r.FalsePositiveRate(); got != tt.fpr {
				t.Errorf("FPR %v, want %v", got, tt.fpr)
			}
			if got := tt.r.FlaggedFalsePositiveRate(); got != tt.flagFPR {
				t.Errorf("flag FPR %v, want %v", got, tt.flagFPR)
			}
			if got := tt.r.RejectPrecision(); got != tt.p {
				t.Errorf("reject precision %v, want %v", got, tt.p)
			}
			if got := tt.r.WorstLookAlike().Name; got != tt.worst {
				t.Errorf("worst look-alike %q, want %q", got, tt.worst)
			}
		})
	}
}

func TestReportTableLines(t *testing.T) {
	labels := []labelled{
		{"ordinary", false, Arrivals[1], "o1"}, {"ordinary", false, Arrivals[1], "o2"},
		{"click_farm", true, Arrivals[2], "c1"}, {"click_farm", true, Arrivals[2], "c2"},
	}
	out := map[string]Outcome{
		"o1": {RiskAction: "flag"},
		"c1": {RiskAction: "hold"},
		"c2": {Status: "rejected"},
	}
	sig := map[string][]string{"c1": {"click.headless", "net.hosting"}, "c2": {"click.headless"}}
	tab := newReport(Config{Seed: 4, Scale: 2}, labels, out, sig).Table()
	for _, want := range []string{
		"fraudgen seed 4 scale 2: 4 referrals (benign 2, fraud 2) through the HTTP API, default policy\n",
		"hold-or-worse recall 1.000  hold-or-worse FPR 0.0000  flag-or-worse FPR 0.5000  auto-reject precision 1.0000  worst look-alike ordinary 0.000\n",
		"ordinary                     benign      2      1     1     0      0   0.000  held (FPR)  (1 not attributed)\n",
		"click_farm                   fraud       2      0     0     1      1   1.000  held (recall)\n",
		"household                    benign      0      0     0     0      0   0.000  held (FPR)\n",
		"direct+code+cookie benign    benign      2      1     1     0      0   0.000  held (FPR)\n",
		"proxy+cookie fraud           fraud       2      0     0     1      1   1.000  held (recall)\n",
		"  click_farm                 click.headless 2, net.hosting 1\n",
		"  ordinary                   \n",
	} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if n := strings.Count(tab, "\n"); n != 2+1+len(Scenarios)+2+1+2*len(Arrivals)+1+len(Scenarios) {
		t.Errorf("table has %d lines:\n%s", n, tab)
	}
}
