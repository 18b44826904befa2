package parrain

import (
	"math"
)

// This file is the statistics of experiments: pure functions over per-arm
// sums, no I/O. The choices (docs/experiments.md says why):
//
//   - every metric is a ratio of two per-unit sums, Σx / Σy; a mean per
//     unit is the ratio with y = 1 for every unit. Its variance comes from
//     the delta method, so ratio metrics (friend conversion rate, ROI, cost
//     per conversion) are analysed per unit, the unit that was randomised;
//   - intervals are always-valid: an asymptotic confidence sequence with a
//     normal mixture (Waudby-Smith, Arnold, Wu, Howard, Ramdas, Lindon:
//     "Time-uniform central limit theory", 2023; the mixture boundary of
//     Howard et al. 2021), the same family GrowthBook uses for its
//     sequential testing. Looking at the result after every new unit keeps
//     the chance of ever seeing a false positive at or below α;
//   - with several treatment arms α is split between them (Bonferroni);
//   - the sample-ratio-mismatch check is Pearson's chi-square test of the
//     observed unit counts against the weights, flagged below p = 0.001.

// Sums are an arm's sufficient statistics for one metric: over its units,
// the sums of x, y, x², y² and x·y, where the metric is Σx / Σy.
type Sums struct {
	N                int64
	X, Y, XX, YY, XY float64
}

// Add counts one unit with numerator x and denominator y.
func (s *Sums) Add(x, y float64) {
	s.N++
	s.X += x
	s.Y += y
	s.XX += x * x
	s.YY += y * y
	s.XY += x * y
}

// AddMean counts one unit of a per-unit mean metric (y = 1).
func (s *Sums) AddMean(x float64) { s.Add(x, 1) }

// Merge adds the units of o.
func (s *Sums) Merge(o Sums) {
	s.N += o.N
	s.X += o.X
	s.Y += o.Y
	s.XX += o.XX
	s.YY += o.YY
	s.XY += o.XY
}

// Ratio returns the metric's value Σx / Σy and the variance of that
// estimate (delta method); ok is false without units or when Σy is 0.
func (s Sums) Ratio() (r, variance float64, ok bool) {
	if s.N < 2 || s.Y == 0 {
		return 0, 0, false
	}
	n := float64(s.N)
	mx, my := s.X/n, s.Y/n
	vx := (s.XX - n*mx*mx) / (n - 1)
	vy := (s.YY - n*my*my) / (n - 1)
	cxy := (s.XY - n*mx*my) / (n - 1)
	r = mx / my
	variance = (vx - 2*r*cxy + r*r*vy) / (my * my * n)
	if variance < 0 {
		variance = 0
	}
	return r, variance, true
}

// StatsOptions tune the analysis. Zero values take the defaults.
type StatsOptions struct {
	// Alpha is the false-positive rate over the whole experiment, however
	// often it is looked at (default 0.05).
	Alpha float64
	// Power is the probability of detecting an effect of the minimum
	// detectable size, used for the units still needed (default 0.8).
	Power float64
	// TuningN is the total number of units at which the confidence
	// sequence is tightest (default 10,000).
	TuningN float64
	// MinUnitsPerArm: below it, no conclusion is drawn (default 100).
	MinUnitsPerArm int64
}

// Defaults of StatsOptions.
const (
	DefaultAlpha          = 0.05
	DefaultPower          = 0.8
	DefaultTuningN        = 10000
	DefaultMinUnitsPerArm = 100
	SRMThreshold          = 0.001
)

func (o StatsOptions) withDefaults() StatsOptions {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = DefaultAlpha
	}
	if o.Power <= 0 || o.Power >= 1 {
		o.Power = DefaultPower
	}
	if o.TuningN <= 0 {
		o.TuningN = DefaultTuningN
	}
	if o.MinUnitsPerArm <= 0 {
		o.MinUnitsPerArm = DefaultMinUnitsPerArm
	}
	return o
}

// ArmInput is what the analysis needs from one arm.
type ArmInput struct {
	Key       string
	Weight    int
	Units     int64 // units assigned
	Exposures int64 // exposures recorded (a unit may be exposed many times)
	Metrics   map[Metric]Sums
}

// Interval is an estimate with its always-valid bounds.
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// Verdict says what the test concludes about an arm against the control.
type Verdict string

// Verdicts.
const (
	VerdictNotEnoughData Verdict = "not_enough_data" // too few units to say anything
	VerdictInconclusive  Verdict = "inconclusive"    // the interval of the lift still contains 0
	VerdictBetter        Verdict = "better"          // significantly better than the control
	VerdictWorse         Verdict = "worse"           // significantly worse than the control
)

// MetricResult is one metric of one arm.
type MetricResult struct {
	Metric Metric `json:"metric"`
	// Value is the arm's metric with its always-valid interval; OK is
	// false when it cannot be computed (no units, no denominator).
	Value Interval `json:"value"`
	OK    bool     `json:"ok"`
	// Lift is the relative difference against the control (0.2 = +20 %),
	// with its always-valid interval; absent for the control.
	Lift    *Interval `json:"lift,omitempty"`
	Verdict Verdict   `json:"verdict,omitempty"`
}

// ArmResult is the analysis of one arm.
type ArmResult struct {
	Key           string         `json:"key"`
	Units         int64          `json:"units"`
	Exposures     int64          `json:"exposures"`
	ExpectedShare float64        `json:"expected_share"`
	ObservedShare float64        `json:"observed_share"`
	Metrics       []MetricResult `json:"metrics"`
}

// SRM is the sample-ratio-mismatch check.
type SRM struct {
	ChiSquare float64 `json:"chi_square"`
	PValue    float64 `json:"p_value"`
	// Warning is set when the observed split is very unlikely under the
	// weights (p < 0.001): assignment or tracking is broken and the
	// results should not be trusted.
	Warning bool `json:"warning"`
}

// Analysis is an experiment's result at one moment.
type Analysis struct {
	Alpha float64     `json:"alpha"`
	Arms  []ArmResult `json:"arms"`
	SRM   SRM         `json:"srm"`
	// Verdict is the primary metric's verdict over the treatment arms:
	// better or worse when one arm is significant (better wins over
	// worse), else inconclusive or not_enough_data.
	Verdict Verdict `json:"verdict"`
	// UnitsNeededPerArm is how many units each arm needs to detect the
	// minimum detectable effect with the stated power (0 when unknown:
	// the control has no value yet).
	UnitsNeededPerArm int64 `json:"units_needed_per_arm"`
}

// csMargin is the half-width of the normal-mixture confidence sequence for
// an estimate with variance v computed from n units in total: the
// per-unit variance v·n, the boundary tightest near tuningN units.
func csMargin(v float64, n, tuningN, alpha float64) float64 {
	if n <= 0 || v <= 0 {
		return 0
	}
	la := -2 * math.Log(alpha)
	rho2 := (la + math.Log(la+1)) / tuningN
	nr := n * rho2
	return math.Sqrt(v*n) * math.Sqrt(2*(nr+1)/(n*n*rho2)*math.Log(math.Sqrt(nr+1)/alpha))
}

// Analyze computes the analysis of arms (the first is the control) on the
// primary metric and the guardrails. mdeBps is the minimum detectable
// effect in basis points of relative lift.
func Analyze(arms []ArmInput, primary Metric, guardrails []Metric, mdeBps int, o StatsOptions) Analysis {
	o = o.withDefaults()
	out := Analysis{Alpha: o.Alpha, Verdict: VerdictNotEnoughData}
	if len(arms) < 2 {
		return out
	}
	alpha := o.Alpha / float64(len(arms)-1)
	var totalUnits int64
	totalWeight := 0
	for _, a := range arms {
		totalUnits += a.Units
		totalWeight += a.Weight
	}
	out.SRM = srm(arms, totalUnits, totalWeight)
	metrics := append([]Metric{primary}, guardrails...)
	ctl := arms[0]
	enough := true
	for _, a := range arms {
		enough = enough && a.Units >= o.MinUnitsPerArm
	}
	primaryVerdict := VerdictNotEnoughData
	if enough {
		primaryVerdict = VerdictInconclusive
	}
	for i, a := range arms {
		r := ArmResult{Key: a.Key, Units: a.Units, Exposures: a.Exposures}
		if totalWeight > 0 {
			r.ExpectedShare = float64(a.Weight) / float64(totalWeight)
		}
		if totalUnits > 0 {
			r.ObservedShare = float64(a.Units) / float64(totalUnits)
		}
		for _, m := range metrics {
			s := a.Metrics[m]
			mr := MetricResult{Metric: m}
			if v, vv, ok := s.Ratio(); ok {
				h := csMargin(vv, float64(s.N), o.TuningN/float64(len(arms)), alpha)
				mr.Value, mr.OK = Interval{v, v - h, v + h}, true
			}
			if i > 0 {
				mr.Lift, mr.Verdict = lift(ctl.Metrics[m], s, o.TuningN, alpha)
				if !enough {
					mr.Verdict = VerdictNotEnoughData
				}
				if info, ok := Metrics[m]; ok && !info.HigherBetter {
					switch mr.Verdict { // for a cost, an increase is worse
					case VerdictBetter:
						mr.Verdict = VerdictWorse
					case VerdictWorse:
						mr.Verdict = VerdictBetter
					}
				}
				if m == primary {
					switch {
					case mr.Verdict == VerdictBetter:
						primaryVerdict = VerdictBetter
					case mr.Verdict == VerdictWorse && primaryVerdict != VerdictBetter:
						primaryVerdict = VerdictWorse
					}
				}
			}
			r.Metrics = append(r.Metrics, mr)
		}
		out.Arms = append(out.Arms, r)
	}
	out.Verdict = primaryVerdict
	out.UnitsNeededPerArm = unitsNeeded(ctl.Metrics[primary], float64(mdeBps)/10000, o.Power, o.TuningN, alpha)
	return out
}

// lift is the relative lift of t over c with its always-valid interval:
// (r_t / r_c − 1), variance by the delta method, the confidence sequence
// over the two arms' units.
func lift(c, t Sums, tuningN, alpha float64) (*Interval, Verdict) {
	rc, vc, ok1 := c.Ratio()
	rt, vt, ok2 := t.Ratio()
	if !ok1 || !ok2 || rc == 0 {
		return nil, VerdictNotEnoughData
	}
	l := rt/rc - 1
	v := vt/(rc*rc) + rt*rt*vc/(rc*rc*rc*rc)
	h := csMargin(v, float64(c.N+t.N), tuningN, alpha)
	iv := &Interval{l, l - h, l + h}
	switch {
	case iv.Low > 0:
		return iv, VerdictBetter
	case iv.High < 0:
		return iv, VerdictWorse
	}
	return iv, VerdictInconclusive
}

// unitsNeeded is the number of units per arm at which a relative lift of
// mde is detected with the given power by the confidence sequence: the
// smallest n where mde·r − z_power·se(n) ≥ margin(n), se from the control's
// per-unit variance (both arms assumed alike under the null).
func unitsNeeded(c Sums, mde, power, tuningN, alpha float64) int64 {
	rc, vc, ok := c.Ratio()
	if !ok || rc == 0 || vc == 0 || mde <= 0 {
		return 0
	}
	perUnit := vc * float64(c.N) / (rc * rc) // per-unit variance of the relative estimate
	zp := math.Sqrt2 * math.Erfinv(2*power-1)
	detects := func(n float64) bool {
		v := 2 * perUnit / n // variance of the relative lift with n units per arm
		return mde-zp*math.Sqrt(v) >= csMargin(v, 2*n, tuningN, alpha)
	}
	lo, hi := 1.0, 2.0
	for !detects(hi) {
		lo, hi = hi, hi*2
		if hi > 1e12 {
			return 0
		}
	}
	for hi-lo > 1 {
		mid := math.Floor((lo + hi) / 2)
		if detects(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return int64(hi)
}

func srm(arms []ArmInput, total int64, totalWeight int) SRM {
	if total == 0 || totalWeight == 0 {
		return SRM{PValue: 1}
	}
	chi := 0.0
	for _, a := range arms {
		exp := float64(total) * float64(a.Weight) / float64(totalWeight)
		d := float64(a.Units) - exp
		chi += d * d / exp
	}
	p := ChiSquareSurvival(chi, float64(len(arms)-1))
	return SRM{ChiSquare: chi, PValue: p, Warning: p < SRMThreshold}
}

// ChiSquareSurvival is P(X ≥ x) for X chi-square with k degrees of
// freedom: the regularized upper incomplete gamma Q(k/2, x/2).
func ChiSquareSurvival(x, k float64) float64 {
	if x <= 0 {
		return 1
	}
	return gammaQ(k/2, x/2)
}

// gammaQ is the regularized upper incomplete gamma function: a series for
// x < a+1, a continued fraction (modified Lentz) otherwise.
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}
