package fraud

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// Accuracy floors for DefaultPolicy on the synthetic program.
const (
	accuracySeed  = 20260302
	accuracyCases = 20000
)

func TestDefaultPolicyAccuracy(t *testing.T) {
	cases := Simulate(accuracySeed, accuracyCases)
	m, err := Evaluate(DefaultPolicy(), cases)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DefaultPolicy on Simulate(seed=%d, n=%d):\n%s", accuracySeed, accuracyCases, m.Table(testing.Verbose()))
	floors := map[Label]float64{LabelSelfReferral: 0.9, LabelClickFlood: 0.9}
	for _, g := range m.ByLabel {
		if f, ok := floors[g.Label]; ok && g.Rate < f {
			t.Errorf("recall on %s = %.3f, want ≥ %.2f", g.Label, g.Rate, f)
		}
	}
	if m.Recall < 0.85 {
		t.Errorf("overall recall = %.3f, want ≥ 0.85", m.Recall)
	}
	if m.FalsePositiveRate > 0.02 {
		t.Errorf("false-positive rate = %.4f, want ≤ 0.02", m.FalsePositiveRate)
	}
	// Flags pay the reward but send the referral to the review queue: they
	// are counted in their own false-positive rate, reported and bounded.
	if m.GenuineFlagged == 0 || m.FlaggedFalsePositiveRate <= m.FalsePositiveRate {
		t.Errorf("flagged genuine cases not counted: %d flagged, flagged-or-worse FPR %.4f", m.GenuineFlagged, m.FlaggedFalsePositiveRate)
	}
	if m.FlaggedFalsePositiveRate > 0.05 {
		t.Errorf("flagged-or-worse false-positive rate = %.4f, want ≤ 0.05", m.FlaggedFalsePositiveRate)
	}
}

func TestSimulateDeterministic(t *testing.T) {
	a, b := Simulate(7, 300), Simulate(7, 300)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("Simulate is not reproducible for a fixed seed")
	}
	if reflect.DeepEqual(a, Simulate(8, 300)) {
		t.Fatal("different seeds gave identical cases")
	}
	if Simulate(1, 0) != nil {
		t.Fatal("Simulate(n=0) should be nil")
	}
}

// TestAccuracyAcrossSeeds reports how the figures move with the seed. It is
// slow, so it only runs with FRAUD_SEEDS=1:
//
//	FRAUD_SEEDS=1 go test -run TestAccuracyAcrossSeeds -v ./internal/fraud/
func TestAccuracyAcrossSeeds(t *testing.T) {
	if os.Getenv("FRAUD_SEEDS") == "" {
		t.Skip("set FRAUD_SEEDS=1 to run")
	}
	e, err := NewEngine(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	for seed := int64(1); seed <= 8; seed++ {
		m := e.Evaluate(Simulate(seed, accuracyCases))
		rate := map[Label]float64{}
		for _, g := range m.ByLabel {
			rate[g.Label] = g.Rate
		}
		t.Logf("seed %d: precision %.3f recall %.3f FPR %.4f flagged-or-worse FPR %.4f self-referral %.3f click-flood %.3f",
			seed, m.Precision, m.Recall, m.FalsePositiveRate, m.FlaggedFalsePositiveRate, rate[LabelSelfReferral], rate[LabelClickFlood])
	}
}

func TestEvaluateCounts(t *testing.T) {
	cases := Simulate(11, 2000)
	m, err := Evaluate(DefaultPolicy(), cases)
	if err != nil {
		t.Fatal(err)
	}
	if m.Cases != 2000 || m.Genuine+m.Abusive != m.Cases || m.GenuineFlagged > m.TrueNegatives ||
		m.FlaggedFalsePositiveRate != float64(m.FalsePositives+m.GenuineFlagged)/float64(m.Genuine) ||
		m.TruePositives+m.FalseNegatives != m.Abusive || m.FalsePositives+m.TrueNegatives != m.Genuine {
		t.Fatalf("inconsistent counts: %+v", m)
	}
	total, scen := 0, 0
	for _, g := range m.ByLabel {
		total += g.Cases
	}
	for _, g := range m.ByScenario {
		scen += g.Cases
	}
	acts := 0
	for _, n := range m.Actions {
		acts += n
	}
	if total != m.Cases || scen != m.Cases || acts != m.Cases {
		t.Fatalf("groups do not add up: labels %d scenarios %d actions %d", total, scen, acts)
	}
	if m.ByLabel[0].Label != LabelGenuine {
		t.Errorf("genuine should come first, got %s", m.ByLabel[0].Label)
	}
	if tab := m.Table(true); !strings.Contains(tab, "false-positive rate") || !strings.Contains(tab, "self_referral") {
		t.Errorf("table lacks expected rows:\n%s", tab)
	}
	for _, c := range cases {
		if c.Referral.At.IsZero() || c.Label == "" || c.Scenario == "" {
			t.Fatalf("incomplete case %+v", c)
		}
	}
}

// TestSimulateHonesty checks that the generator does not leak labels through
// fields only it could set: the same kinds of facts are present for genuine
// and abusive cases.
func TestSimulateHonesty(t *testing.T) {
	type presence struct{ n, click, conv, act, recent, address int }
	by := map[bool]*presence{false: {}, true: {}}
	for _, c := range Simulate(5, 6000) {
		p := by[c.Label != LabelGenuine]
		p.n++
		r := c.Referral
		if r.Click != nil {
			p.click++
		}
		if r.Conversion != nil {
			p.conv++
		}
		if r.FriendActivity != nil {
			p.act++
		}
		if len(r.RecentClicks) > 0 {
			p.recent++
		}
		if r.Friend.Address != "" {
			p.address++
		}
	}
	g, a := by[false], by[true]
	for name, pair := range map[string][2]int{
		"attributed click": {g.click, a.click}, "conversion": {g.conv, a.conv},
		"activity": {g.act, a.act}, "recent clicks": {g.recent, a.recent}, "address": {g.address, a.address},
	} {
		fg, fa := float64(pair[0])/float64(g.n), float64(pair[1])/float64(a.n)
		if fg < 0.05 || fa < 0.05 {
			t.Errorf("%s present in %.0f%% of genuine and %.0f%% of abusive cases: one side never has it", name, 100*fg, 100*fa)
		}
	}
}
