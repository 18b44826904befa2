package fraudgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Row counts the decisions of one scenario (or one arrival).
type Row struct {
	Name   string
	Fraud  bool
	Cases  int
	Allow  int
	Flag   int
	Hold   int
	Reject int
	// Missing counts labelled friends with no referral at all (the
	// attribution failed): they are counted as allowed.
	Missing int
}

// Held is the number decided hold or worse.
func (r Row) Held() int { return r.Hold + r.Reject }

// HeldRate is Held / Cases: recall for fraud, false-positive rate for benign.
func (r Row) HeldRate() float64 { return ratio(r.Held(), r.Cases) }

// FlaggedRate is the share flagged or worse.
func (r Row) FlaggedRate() float64 { return ratio(r.Flag+r.Held(), r.Cases) }

func (r *Row) add(decision string) {
	r.Cases++
	switch decision {
	case "flag":
		r.Flag++
	case "hold":
		r.Hold++
	case "reject":
		r.Reject++
	default:
		r.Allow++
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Report is the outcome of a run against its labels.
type Report struct {
	Config    Config
	Scenarios []Row // in Scenarios order
	Arrivals  []Row // fraud and benign rows per arrival
	Fraud     Row
	Benign    Row
	// Signals counts, per scenario, the signals counted on its flagged
	// and held referrals (from the review queue).
	Signals map[string]map[string]int
	// Referrals is every labelled referral with its outcome.
	Referrals []Referral
}

// Referral is one labelled referral and what the API said of it.
type Referral struct {
	Scenario string
	Fraud    bool
	Arrival  Arrival
	Outcome  Outcome
	Decision string
	Signals  []string
}

// Recall is the share of fraudulent referrals held or rejected.
func (r *Report) Recall() float64 { return r.Fraud.HeldRate() }

// FalsePositiveRate is the share of benign referrals held or rejected.
func (r *Report) FalsePositiveRate() float64 { return r.Benign.HeldRate() }

// FlaggedFalsePositiveRate is the share of benign referrals flagged or worse.
func (r *Report) FlaggedFalsePositiveRate() float64 { return r.Benign.FlaggedRate() }

// RejectPrecision is the share of automatic rejections that were fraud (1
// when nothing was rejected).
func (r *Report) RejectPrecision() float64 {
	if r.Fraud.Reject+r.Benign.Reject == 0 {
		return 1
	}
	return ratio(r.Fraud.Reject, r.Fraud.Reject+r.Benign.Reject)
}

// WorstLookAlike is the benign scenario with the highest held rate.
func (r *Report) WorstLookAlike() Row {
	var worst Row
	for _, s := range r.Scenarios {
		if !s.Fraud && (worst.Name == "" || s.HeldRate() > worst.HeldRate()) {
			worst = s
		}
	}
	return worst
}

func newReport(cfg Config, labels []labelled, out map[string]Outcome, sig map[string][]string) *Report {
	r := &Report{Config: cfg, Fraud: Row{Name: "all fraud", Fraud: true}, Benign: Row{Name: "all benign"}, Signals: map[string]map[string]int{}}
	idx := map[string]int{}
	for _, s := range Scenarios {
		idx[s.Name] = len(r.Scenarios)
		r.Scenarios = append(r.Scenarios, Row{Name: s.Name, Fraud: s.Fraud})
	}
	arr := map[string]int{}
	for _, a := range Arrivals {
		for _, fraud := range []bool{false, true} {
			name := a.String() + map[bool]string{false: " benign", true: " fraud"}[fraud]
			arr[name] = len(r.Arrivals)
			r.Arrivals = append(r.Arrivals, Row{Name: name, Fraud: fraud})
		}
	}
	for _, l := range labels {
		o, ok := out[l.friend]
		decision := "allow"
		if ok {
			decision = o.Decision()
		}
		r.Referrals = append(r.Referrals, Referral{l.scenario, l.fraud, l.arrival, o, decision, sig[l.friend]})
		row := &r.Scenarios[idx[l.scenario]]
		row.add(decision)
		a := &r.Arrivals[arr[l.arrival.String()+map[bool]string{false: " benign", true: " fraud"}[l.fraud]]]
		a.add(decision)
		total := &r.Benign
		if l.fraud {
			total = &r.Fraud
		}
		total.add(decision)
		for _, code := range sig[l.friend] {
			if r.Signals[l.scenario] == nil {
				r.Signals[l.scenario] = map[string]int{}
			}
			r.Signals[l.scenario][code]++
		}
		if !ok {
			row.Missing++
			total.Missing++
		}
	}
	return r
}

// Table prints the report.
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fraudgen seed %d scale %d: %d referrals (benign %d, fraud %d) through the HTTP API, default policy\n",
		r.Config.Seed, r.Config.Scale, r.Fraud.Cases+r.Benign.Cases, r.Benign.Cases, r.Fraud.Cases)
	fmt.Fprintf(&b, "hold-or-worse recall %.3f  hold-or-worse FPR %.4f  flag-or-worse FPR %.4f  auto-reject precision %.4f  worst look-alike %s %.3f\n",
		r.Recall(), r.FalsePositiveRate(), r.FlaggedFalsePositiveRate(), r.RejectPrecision(), r.WorstLookAlike().Name, r.WorstLookAlike().HeldRate())
	line := func(row Row) {
		kind, meaning := "benign", "held (FPR)"
		if row.Fraud {
			kind, meaning = "fraud", "held (recall)"
		}
		fmt.Fprintf(&b, "%-28s %-6s %6d %6d %5d %5d %6d %7.3f  %s", row.Name, kind, row.Cases, row.Allow, row.Flag, row.Hold, row.Reject, row.HeldRate(), meaning)
		if row.Missing > 0 {
			fmt.Fprintf(&b, "  (%d not attributed)", row.Missing)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-28s %-6s %6s %6s %5s %5s %6s %7s\n", "scenario", "label", "cases", "allow", "flag", "hold", "reject", "held")
	for _, s := range r.Scenarios {
		line(s)
	}
	line(r.Benign)
	line(r.Fraud)
	fmt.Fprintf(&b, "%-28s %-6s %6s %6s %5s %5s %6s %7s\n", "arrival", "label", "cases", "allow", "flag", "hold", "reject", "held")
	for _, a := range r.Arrivals {
		line(a)
	}
	b.WriteString("signals counted on flagged and held referrals (the review queue):\n")
	for _, s := range r.Scenarios {
		counts := r.Signals[s.Name]
		codes := slices.Sorted(maps.Keys(counts))
		slices.SortStableFunc(codes, func(a, b string) int { return counts[b] - counts[a] })
		var parts []string
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%s %d", c, counts[c]))
		}
		fmt.Fprintf(&b, "  %-26s %s\n", s.Name, strings.Join(parts, ", "))
	}
	return b.String()
}
