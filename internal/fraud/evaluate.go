package fraud

import (
	"fmt"
	"sort"
	"strings"
)

// GroupMetrics are the results for one label or scenario.
type GroupMetrics struct {
	// Label is the ground truth of the group.
	Label Label
	// Scenario is the sub-case, or "" for a whole label.
	Scenario string
	// Cases is the number of cases in the group.
	Cases int
	// Detected counts cases held, rejected or suspended.
	Detected int
	// Flagged counts cases flagged (paid, with a mark for an optional
	// review).
	Flagged int
	// Rate is Detected/Cases: recall for abuse, false-positive rate for
	// genuine cases.
	Rate float64
}

// Metrics measure a policy against labelled cases. A case counts as
// detected when the decision is hold, reject or suspend: those stop the
// reward. A flag pays the reward and puts the referral in the review queue
// for an optional look, so it is neither a detection nor a false positive
// of the hold rate; but a flag still costs a reviewer's attention, so the
// genuine cases flagged or worse are reported as their own rate,
// [Metrics.FlaggedFalsePositiveRate].
type Metrics struct {
	// Cases, Genuine and Abusive count the cases evaluated.
	Cases, Genuine, Abusive int
	// TruePositives are abusive cases detected; FalseNegatives abusive
	// cases approved or flagged; FalsePositives genuine cases detected;
	// TrueNegatives genuine cases approved or flagged.
	TruePositives, FalseNegatives, FalsePositives, TrueNegatives int
	// Precision is TP/(TP+FP).
	Precision float64
	// Recall is TP/(TP+FN) over all abuse kinds.
	Recall float64
	// FalsePositiveRate is FP/(FP+TN): genuine referrals held or rejected.
	FalsePositiveRate float64
	// GenuineFlagged counts genuine cases flagged (paid, but shown to a
	// reviewer).
	GenuineFlagged int
	// FlaggedFalsePositiveRate is (FP+GenuineFlagged)/Genuine: genuine
	// referrals flagged, held or rejected — the share of honest friends a
	// reviewer may look at.
	FlaggedFalsePositiveRate float64
	// Actions counts decisions by action.
	Actions map[Action]int
	// ByLabel has one entry per label present, in [Labels] order.
	ByLabel []GroupMetrics
	// ByScenario has one entry per label and scenario, sorted.
	ByScenario []GroupMetrics
	// SignalCounts counts how often each signal fired, per label.
	SignalCounts map[Label]map[Code]int
}

// Evaluate decides every case under the policy and measures the result.
// It fails only when the policy is invalid.
func Evaluate(p Policy, cases []LabelledCase) (Metrics, error) {
	e, err := NewEngine(p)
	if err != nil {
		return Metrics{}, fmt.Errorf("fraud: evaluate: %w", err)
	}
	return e.Evaluate(cases), nil
}

// Evaluate decides every case with the engine and measures the result.
func (e *Engine) Evaluate(cases []LabelledCase) Metrics {
	m := Metrics{Actions: map[Action]int{}, SignalCounts: map[Label]map[Code]int{}}
	byLabel := map[Label]*GroupMetrics{}
	byScenario := map[[2]string]*GroupMetrics{}
	for i := range cases {
		c := &cases[i]
		d := e.Decide(&c.Referral)
		m.Cases++
		m.Actions[d.Action]++
		det := d.Detected()
		if c.Label == LabelGenuine {
			m.Genuine++
			if det {
				m.FalsePositives++
			} else {
				m.TrueNegatives++
				if d.Action == ActionFlag {
					m.GenuineFlagged++
				}
			}
		} else {
			m.Abusive++
			if det {
				m.TruePositives++
			} else {
				m.FalseNegatives++
			}
		}
		sc := m.SignalCounts[c.Label]
		if sc == nil {
			sc = map[Code]int{}
			m.SignalCounts[c.Label] = sc
		}
		for _, o := range d.Signals {
			sc[o.Code]++
		}
		gl, ok := byLabel[c.Label]
		if !ok {
			gl = &GroupMetrics{Label: c.Label}
			byLabel[c.Label] = gl
		}
		key := [2]string{string(c.Label), c.Scenario}
		gs, ok := byScenario[key]
		if !ok {
			gs = &GroupMetrics{Label: c.Label, Scenario: c.Scenario}
			byScenario[key] = gs
		}
		for _, g := range []*GroupMetrics{gl, gs} {
			g.Cases++
			if det {
				g.Detected++
			} else if d.Action == ActionFlag {
				g.Flagged++
			}
		}
	}
	m.Precision = ratio(m.TruePositives, m.TruePositives+m.FalsePositives)
	m.Recall = ratio(m.TruePositives, m.TruePositives+m.FalseNegatives)
	m.FalsePositiveRate = ratio(m.FalsePositives, m.FalsePositives+m.TrueNegatives)
	m.FlaggedFalsePositiveRate = ratio(m.FalsePositives+m.GenuineFlagged, m.Genuine)
	for _, l := range Labels() {
		if g, ok := byLabel[l]; ok {
			g.Rate = ratio(g.Detected, g.Cases)
			m.ByLabel = append(m.ByLabel, *g)
			delete(byLabel, l)
		}
	}
	rest := make([]Label, 0, len(byLabel))
	for l := range byLabel {
		rest = append(rest, l)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i] < rest[j] })
	for _, l := range rest {
		g := byLabel[l]
		g.Rate = ratio(g.Detected, g.Cases)
		m.ByLabel = append(m.ByLabel, *g)
	}
	order := map[Label]int{}
	for i, l := range Labels() {
		order[l] = i
	}
	for _, g := range byScenario {
		g.Rate = ratio(g.Detected, g.Cases)
		m.ByScenario = append(m.ByScenario, *g)
	}
	sort.Slice(m.ByScenario, func(i, j int) bool {
		a, b := m.ByScenario[i], m.ByScenario[j]
		oa, okA := order[a.Label]
		ob, okB := order[b.Label]
		if !okA {
			oa = len(order)
		}
		if !okB {
			ob = len(order)
		}
		if oa != ob {
			return oa < ob
		}
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.Scenario < b.Scenario
	})
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Table formats the metrics as a plain-text report: totals, then one line
// per label (recall for abuse, false-positive rate for genuine), then, with
// scenarios set, one line per scenario.
func (m Metrics) Table(scenarios bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cases %d (genuine %d, abusive %d)\n", m.Cases, m.Genuine, m.Abusive)
	fmt.Fprintf(&b, "precision %.3f  recall %.3f  false-positive rate %.4f  (TP %d FP %d TN %d FN %d)\n",
		m.Precision, m.Recall, m.FalsePositiveRate, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives)
	fmt.Fprintf(&b, "flagged-or-worse false-positive rate %.4f  (genuine flagged %d, held or worse %d; flags pay, a review is optional)\n",
		m.FlaggedFalsePositiveRate, m.GenuineFlagged, m.FalsePositives)
	fmt.Fprintf(&b, "actions: approve %d, flag %d, hold %d, reject %d, suspend %d\n",
		m.Actions[ActionApprove], m.Actions[ActionFlag], m.Actions[ActionHold], m.Actions[ActionReject], m.Actions[ActionSuspend])
	fmt.Fprintf(&b, "%-20s %7s %9s %8s %8s  %s\n", "label", "cases", "detected", "flagged", "rate", "meaning")
	for _, g := range m.ByLabel {
		meaning := "recall"
		if g.Label == LabelGenuine {
			meaning = "false-positive rate"
		}
		fmt.Fprintf(&b, "%-20s %7d %9d %8d %8.3f  %s\n", g.Label, g.Cases, g.Detected, g.Flagged, g.Rate, meaning)
	}
	if scenarios {
		fmt.Fprintf(&b, "\n%-20s %-44s %6s %9s %8s %7s\n", "label", "scenario", "cases", "detected", "flagged", "rate")
		for _, g := range m.ByScenario {
			fmt.Fprintf(&b, "%-20s %-44s %6d %9d %8d %7.3f\n", g.Label, g.Scenario, g.Cases, g.Detected, g.Flagged, g.Rate)
		}
	}
	return b.String()
}
