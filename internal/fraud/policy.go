package fraud

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Assessment is the policy-free result of examining a referral: every
// signal that fired and the combined score at catalogue weights.
type Assessment struct {
	// At is the assessment time copied from [Referral.At]; it anchors
	// review deadlines.
	At time.Time
	// Score is the combined risk, 0 (no evidence) to 100.
	Score int
	// Signals are the signals that fired, strongest first.
	Signals []Signal
}

// Score combines signals into an [Assessment].
//
// Weights are treated as independent pieces of evidence and combined like
// probabilities ("noisy-OR"): Score = round(100 × (1 − Π(1 − wᵢ))). One signal
// of weight 0.5 scores 50; two score 75; adding evidence always raises the
// score, never past 100, and weak signals need company to matter. When a
// code appears more than once only its heaviest instance counts. Weights are
// clamped to [0, 1]. Signals are returned strongest first, ties by code.
func Score(signals []Signal) Assessment {
	out := make([]Signal, 0, len(signals))
	for _, s := range signals {
		s.Weight = clampWeight(s.Weight)
		dup := false
		for i := range out {
			if out[i].Code == s.Code {
				dup = true
				if s.Weight > out[i].Weight {
					out[i] = s
				}
				break
			}
		}
		if !dup {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Weight != out[j].Weight {
			return out[i].Weight > out[j].Weight
		}
		return out[i].Code < out[j].Code
	})
	keep := 1.0
	for _, s := range out {
		keep *= 1 - s.Weight
	}
	return Assessment{Score: scoreOf(keep), Signals: out}
}

func clampWeight(w float64) float64 {
	switch {
	case math.IsNaN(w) || w < 0:
		return 0
	case w > 1:
		return 1
	}
	return w
}

// scoreOf turns the product of (1 − w) into a 0..100 score.
func scoreOf(keep float64) int {
	return int(math.Round(100 * (1 - keep)))
}

// Action is what to do with a referral.
type Action string

// Decision actions, from least to most severe.
const (
	// ActionApprove: pay the reward.
	ActionApprove Action = "approve"
	// ActionFlag: pay the reward and put the referral in the review queue
	// for an optional look (observe-and-pay); a reviewer may still reject
	// it, which reverses what is left of its rewards.
	ActionFlag Action = "flag"
	// ActionHold: withhold the reward until a reviewer decides, by the
	// review deadline.
	ActionHold Action = "hold"
	// ActionReject: refuse (or claw back) the reward.
	ActionReject Action = "reject"
	// ActionSuspend: reject and suspend the advocate from the program.
	ActionSuspend Action = "suspend"
)

// severity orders actions.
func (a Action) severity() int {
	switch a {
	case ActionFlag:
		return 1
	case ActionHold:
		return 2
	case ActionReject:
		return 3
	case ActionSuspend:
		return 4
	}
	return 0
}

// RuleAction is what a [Policy] does with one signal when it fires.
type RuleAction string

// Per-signal rule actions.
const (
	// RuleScore (the default, also spelled "") counts the signal toward the
	// score and lets the thresholds decide.
	RuleScore RuleAction = "score"
	// RuleObserve records the signal in the decision but does not count it
	// toward the score: use it to try a rule out before trusting it.
	RuleObserve RuleAction = "observe"
	// RuleFlag counts the signal and makes the decision at least "flag".
	RuleFlag RuleAction = "flag"
	// RuleHold counts the signal and makes the decision at least "hold".
	RuleHold RuleAction = "hold"
	// RuleReject counts the signal and makes the decision at least
	// "reject".
	RuleReject RuleAction = "reject"
	// RuleSuspendAdvocate counts the signal and suspends the advocate.
	RuleSuspendAdvocate RuleAction = "suspend_advocate"
)

// forces returns the minimum decision a rule action imposes.
func (r RuleAction) forces() Action {
	switch r {
	case RuleFlag:
		return ActionFlag
	case RuleHold:
		return ActionHold
	case RuleReject:
		return ActionReject
	case RuleSuspendAdvocate:
		return ActionSuspend
	}
	return ActionApprove
}

func (r RuleAction) valid() bool {
	switch r {
	case "", RuleScore, RuleObserve, RuleFlag, RuleHold, RuleReject, RuleSuspendAdvocate:
		return true
	}
	return false
}

// Rule overrides how a [Policy] treats one signal.
type Rule struct {
	// Action is what happens when the signal fires; "" means [RuleScore].
	Action RuleAction `json:"action"`
	// Weight replaces the catalogue weight when positive (in (0, 1]).
	Weight float64 `json:"weight"`
}

// Policy is a program's fraud policy: thresholds on the score, per-signal
// rules, the operator's lists and the detector tuning.
//
// With the score s of the counted signals: s < FlagAt approves; FlagAt ≤ s <
// HoldAt flags; HoldAt ≤ s < RejectAt holds for review within
// ReviewWindow; s ≥ RejectAt rejects. A rule's action can raise (never
// lower) the result.
type Policy struct {
	// FlagAt is the score from which referrals are flagged; 0 disables
	// flagging by score.
	FlagAt int `json:"flag_at"`
	// HoldAt is the score from which referrals are held for review (1..100).
	HoldAt int `json:"hold_at"`
	// RejectAt is the score from which referrals are rejected
	// (HoldAt..100).
	RejectAt int `json:"reject_at"`
	// ReviewWindow is how long a reviewer has to decide on a held referral;
	// [Decision.ReviewBy] is the assessment time plus this.
	ReviewWindow time.Duration `json:"-"`
	// Rules override actions and weights per signal code.
	Rules map[Code]Rule `json:"rules"`
	// Lists are the operator's lists (blocklists, ranges, coupon sites).
	Lists Lists `json:"lists"`
	// Tuning holds the detectors' thresholds; zero fields take defaults.
	Tuning Tuning `json:"-"`
}

// DefaultPolicy returns the recommended policy: flag from 30, hold from 45
// (a single 0.5-weight signal), reject from 75, three days to review; the
// operator blocklists reject outright; fbclid is observed only.
//
// The thresholds encode the tolerance rules: the same IP (0.25) alone is
// approved; the same IP and User-Agent (40) only flagged; a third piece of
// evidence is needed to hold, and a device, payment or mailbox match to
// reject.
func DefaultPolicy() Policy {
	return Policy{
		FlagAt:       30,
		HoldAt:       45,
		RejectAt:     75,
		ReviewWindow: 72 * time.Hour,
		Rules: map[Code]Rule{
			IDBlockedEmail:   {Action: RuleReject},
			IDBlockedDomain:  {Action: RuleReject},
			IDBlockedIP:      {Action: RuleReject},
			IDBlockedCountry: {Action: RuleReject},
			LeakFBCLID:       {Action: RuleObserve},
		},
		Tuning: DefaultTuning(),
	}
}

// ErrInvalidPolicy reports a policy that cannot be used.
var ErrInvalidPolicy = errors.New("invalid fraud policy")

// Validate checks thresholds, rule codes, actions and weights. It does not
// parse the lists; [NewEngine] does.
func (p Policy) Validate() error {
	var errs []string
	field := "" // the first field at fault, for the error's Field
	at := func(f string) {
		if field == "" {
			field = f
		}
	}
	if p.HoldAt < 1 || p.HoldAt > 100 {
		errs = append(errs, fmt.Sprintf("HoldAt %d not in 1..100", p.HoldAt))
		at("hold_at")
	}
	if p.RejectAt < p.HoldAt || p.RejectAt > 100 {
		errs = append(errs, fmt.Sprintf("RejectAt %d not in HoldAt(%d)..100", p.RejectAt, p.HoldAt))
		at("reject_at")
	}
	if p.FlagAt < 0 || p.FlagAt > p.HoldAt {
		errs = append(errs, fmt.Sprintf("FlagAt %d not in 0..HoldAt(%d)", p.FlagAt, p.HoldAt))
		at("flag_at")
	}
	if p.ReviewWindow < 0 {
		errs = append(errs, fmt.Sprintf("ReviewWindow %s is negative", p.ReviewWindow))
		at("review_window_hours")
	}
	codes := make([]string, 0, len(p.Rules))
	for c := range p.Rules {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	for _, c := range codes {
		r := p.Rules[Code(c)]
		if _, ok := Info(Code(c)); !ok {
			errs = append(errs, fmt.Sprintf("rule for unknown signal %q", c))
			at("rules." + c)
		}
		if !r.Action.valid() {
			errs = append(errs, fmt.Sprintf("rule for %s has unknown action %q", c, r.Action))
			at("rules." + c + ".action")
		}
		if math.IsNaN(r.Weight) || r.Weight < 0 || r.Weight > 1 {
			errs = append(errs, fmt.Sprintf("rule for %s has weight %v outside 0..1", c, r.Weight))
			at("rules." + c + ".weight")
		}
	}
	if len(errs) > 0 {
		return &FieldError{Field: field, Err: fmt.Errorf("fraud: %w: %s", ErrInvalidPolicy, strings.Join(errs, "; "))}
	}
	return nil
}

// FieldError names the policy field at fault (its JSON name: "hold_at",
// "rules.net.same_ip.weight", "lists.blocked_ips"), so the API and the
// console can point at it; it wraps ErrInvalidPolicy or ErrInvalidList.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Outcome is one signal as a [Decision] treated it.
type Outcome struct {
	// Code identifies the signal.
	Code Code `json:"code"`
	// Reason is the signal's explanation.
	Reason string `json:"reason"`
	// DefaultWeight is the weight the signal fired with.
	DefaultWeight float64 `json:"default_weight"`
	// Weight is the weight counted toward the decision's score: the rule's
	// weight if set, else DefaultWeight; 0 when observed.
	Weight float64 `json:"weight"`
	// Rule is the policy rule applied (RuleScore when none was set).
	Rule RuleAction `json:"rule"`
	// Counted reports whether the signal counted toward the score.
	Counted bool `json:"counted"`
	// Effect says in words what the rule did.
	Effect string `json:"effect"`
}

// Decision is the policy's verdict on an assessment, with everything needed
// to explain it.
type Decision struct {
	// Action is the verdict.
	Action Action `json:"action"`
	// Score is the 0..100 score of the counted signals under the policy's
	// weights (observed signals excluded).
	Score int `json:"score"`
	// RawScore is the assessment's score at catalogue weights with every
	// signal counted.
	RawScore int `json:"raw_score"`
	// Signals are all signals that fired with what the policy did with each.
	Signals []Outcome `json:"signals"`
	// Reasons explain the verdict line by line: the threshold outcome, any
	// rule that forced a stricter action, then each signal.
	Reasons []string `json:"reasons"`
	// ReviewBy is the review deadline when Action is hold and the
	// assessment has a time; zero otherwise.
	ReviewBy time.Time `json:"review_by,omitzero"`
}

// Decide applies a policy to an assessment. It is pure: the same policy and
// assessment always give the same decision.
func Decide(p Policy, a Assessment) Decision {
	d := Decision{RawScore: a.Score, Signals: make([]Outcome, 0, len(a.Signals))}
	keep := 1.0
	keepOwn := 1.0 // without the shared-network signals
	forced := ActionApprove
	var forcedBy []string
	for _, s := range a.Signals {
		rule := p.Rules[s.Code]
		act := rule.Action
		if act == "" {
			act = RuleScore
		}
		o := Outcome{Code: s.Code, Reason: s.Reason, DefaultWeight: clampWeight(s.Weight), Rule: act}
		if act == RuleObserve {
			o.Effect = "observed only: recorded, not scored"
			d.Signals = append(d.Signals, o)
			continue
		}
		o.Weight = o.DefaultWeight
		if rule.Weight > 0 {
			o.Weight = clampWeight(rule.Weight)
		}
		o.Counted = true
		keep *= 1 - o.Weight
		if !sharedNetwork(s.Code) || o.Weight != weightOf(s.Code) {
			// A shared-network signal the operator re-weighted counts in
			// full: they made it decisive on purpose.
			keepOwn *= 1 - o.Weight
		}
		if o.Weight != o.DefaultWeight {
			o.Effect = fmt.Sprintf("scored at policy weight %.2f (default %.2f)", o.Weight, o.DefaultWeight)
		} else {
			o.Effect = fmt.Sprintf("scored at weight %.2f", o.Weight)
		}
		if f := act.forces(); f != ActionApprove {
			o.Effect += fmt.Sprintf("; rule forces at least %s", f)
			forcedBy = append(forcedBy, fmt.Sprintf("rule %s=%s", s.Code, act))
			if f.severity() > forced.severity() {
				forced = f
			}
		}
		d.Signals = append(d.Signals, o)
	}
	d.Score = scoreOf(keep)

	base, why := thresholdAction(p, d.Score)
	if own := scoreOf(keepOwn); base == ActionReject && own < p.RejectAt && p.HoldAt <= p.RejectAt {
		// Households, offices and carriers share addresses and phone
		// models: a shared network may tip a referral into review, never
		// into an automatic rejection.
		base = ActionHold
		why = fmt.Sprintf("hold: score %d ≥ reject threshold %d, but %d without the shared-network signals (%s, %s, %s): a shared network alone never rejects",
			d.Score, p.RejectAt, own, NetSameIP, NetSameSubnet, NetSameUserAgent)
	}
	d.Action = base
	d.Reasons = append(d.Reasons, why)
	if forced.severity() > base.severity() {
		d.Action = forced
		d.Reasons = append(d.Reasons, fmt.Sprintf("raised to %s by %s", forced, strings.Join(forcedBy, ", ")))
	}
	if d.Action == ActionHold && !a.At.IsZero() && p.ReviewWindow > 0 {
		d.ReviewBy = a.At.Add(p.ReviewWindow)
		d.Reasons = append(d.Reasons, fmt.Sprintf("review by %s", d.ReviewBy.UTC().Format(time.RFC3339)))
	}
	if len(d.Signals) == 0 {
		d.Reasons = append(d.Reasons, "no signals fired")
	}
	for _, o := range d.Signals {
		d.Reasons = append(d.Reasons, fmt.Sprintf("%s [%s]: %s", o.Code, o.Effect, o.Reason))
	}
	return d
}

// sharedNetwork reports the signals that households, offices and mobile
// carriers produce between unrelated people. At their catalogue weights
// they may tip a decision into hold but never into reject (Decide).
func sharedNetwork(c Code) bool {
	return c == NetSameIP || c == NetSameSubnet || c == NetSameUserAgent
}

// thresholdAction maps a score to an action under the policy's thresholds.
func thresholdAction(p Policy, score int) (Action, string) {
	switch {
	case score >= p.RejectAt:
		return ActionReject, fmt.Sprintf("reject: score %d ≥ reject threshold %d", score, p.RejectAt)
	case score >= p.HoldAt:
		return ActionHold, fmt.Sprintf("hold: score %d ≥ hold threshold %d and < reject threshold %d", score, p.HoldAt, p.RejectAt)
	case p.FlagAt > 0 && score >= p.FlagAt:
		return ActionFlag, fmt.Sprintf("flag: score %d ≥ flag threshold %d and < hold threshold %d", score, p.FlagAt, p.HoldAt)
	}
	return ActionApprove, fmt.Sprintf("approve: score %d < %s", score, lowestThreshold(p))
}

func lowestThreshold(p Policy) string {
	if p.FlagAt > 0 {
		return fmt.Sprintf("flag threshold %d", p.FlagAt)
	}
	return fmt.Sprintf("hold threshold %d", p.HoldAt)
}

// Detected reports whether the decision stops the reward: hold, reject or
// suspend.
func (d Decision) Detected() bool { return d.Action.severity() >= ActionHold.severity() }

// policyJSON is Policy's JSON form: the review window in whole hours.
type policyJSON Policy

// MarshalJSON encodes the policy with "review_window_hours".
func (p Policy) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		policyJSON
		ReviewWindowHours int `json:"review_window_hours"`
	}{policyJSON(p), int(p.ReviewWindow / time.Hour)})
}

// UnmarshalJSON decodes a policy; detector tuning is not part of the JSON
// form and takes the defaults.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var v struct {
		policyJSON
		ReviewWindowHours int `json:"review_window_hours"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Policy(v.policyJSON)
	p.ReviewWindow = time.Duration(v.ReviewWindowHours) * time.Hour
	p.Tuning = DefaultTuning()
	return nil
}
