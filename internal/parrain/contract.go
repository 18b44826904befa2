package parrain

import (
	"fmt"
	"strings"
	"time"
)

// Contract true-ups. A percentage of a stage's value (typically 15% of the
// first-year contract value at closed_won) with true_up_months follows the
// contract: a "contract" event within that many months of the close reports
// the contract's new first-year value, and the commission is brought to the
// original rate times the new value — a positive true-up reward when the
// contract expanded, a reversal (or clawback once approved) of what was
// earned when it contracted. The rate is the one recorded on the original
// reward, so a later change of the program's rules never changes a deal
// already closed.

// CommissionLine is what one true-up rule side has earned on a referral.
type CommissionLine struct {
	Rule    RewardRule // the rule as of Version
	Role    Role
	Owner   string // participant id
	Version int    // the program version of the original reward
	RateBps int64  // the rate of the original reward
	// ReachedAt is when the stage was reached (the close).
	ReachedAt time.Time
	// Earned is the outstanding total of the line: the original reward and
	// its true-ups, minus reversals.
	Earned int64
}

// Spec returns the line's reward spec.
func (l CommissionLine) Spec() *RewardSpec {
	if l.Role == RoleFriend {
		return l.Rule.Friend
	}
	return l.Rule.Advocate
}

// Adjustment is a downward true-up: Amount (positive) of the line's
// rewards is to be reversed.
type Adjustment struct {
	Line        CommissionLine
	Amount      int64
	Inputs      Inputs
	Steps       []string
	Explanation string
}

// TrueUp computes the true-ups of a contract change (o.Trigger contract,
// o.Amount the new first-year value in o.Currency) for each commission
// line: awards for increases (subject to the program's current caps) and
// adjustments for decreases. Lines outside their true-up window, or
// unchanged, are skipped with the reason.
func TrueUp(p *Program, o Occasion, lines []CommissionLine, f Facts) ([]Award, []Adjustment, []Skip, error) {
	ev := newEvaluation(p, o, f)
	var awards []Award
	var downs []Adjustment
	var skips []Skip
	for _, l := range lines {
		s := l.Spec()
		if s == nil || s.TrueUpMonths == 0 {
			continue
		}
		end := l.ReachedAt.AddDate(0, s.TrueUpMonths, 0)
		if !o.At.Before(end) {
			skips = append(skips, Skip{RuleID: l.Rule.ID, Role: l.Role, Reason: fmt.Sprintf(
				"true_up_window_over: the %s stage was reached on %s and true-ups run until %s",
				l.Rule.Stage, l.ReachedAt.Format("2006-01-02"), end.Format("2006-01-02"))})
			continue
		}
		a := Award{
			Draft: Draft{RuleID: l.Rule.ID, Role: l.Role, Trigger: TriggerContract, Kind: s.Kind, AmountType: AmountPercent,
				Currency: p.Currency, Description: s.Description},
			Owner: l.Owner, At: o.At, Stage: l.Rule.Stage, Spec: *s,
			Inputs: Inputs{Event: o.describe(), Amount: o.Amount, Currency: o.Currency, RateBps: l.RateBps,
				RateSource: fmt.Sprintf("the rate of the original reward (program v%d)", l.Version), Earned: l.Earned},
		}
		base, why, err := ev.base(&a)
		if err != nil {
			return nil, nil, nil, err
		}
		if why != "" {
			skips = append(skips, Skip{RuleID: l.Rule.ID, Role: l.Role, Reason: why})
			continue
		}
		target, err := MulDiv(base, l.RateBps, 10000, ev.mode)
		if err != nil {
			skips = append(skips, Skip{RuleID: l.Rule.ID, Role: l.Role, Reason: "overflow"})
			continue
		}
		a.Steps = append(a.Steps,
			fmt.Sprintf("new first-year contract value %s %s", FormatMinor(base, p.Currency), p.Currency),
			fmt.Sprintf("%s%% of it = %s (%s)", FormatBps(l.RateBps), FormatMinor(target, p.Currency), RoundingLabel(ev.mode)),
			fmt.Sprintf("already earned %s", FormatMinor(l.Earned, p.Currency)))
		delta := target - l.Earned
		label := fmt.Sprintf("rule %s (contract true-up of stage %s)", l.Rule.ID, l.Rule.Stage)
		switch {
		case delta == 0:
			skips = append(skips, Skip{RuleID: l.Rule.ID, Role: l.Role, Reason: "no_change: the commission already matches the contract value"})
		case delta > 0:
			a.Steps = append(a.Steps, fmt.Sprintf("true-up +%s", FormatMinor(delta, p.Currency)))
			amt, why, err := ev.applyCaps(&a, delta)
			if err != nil {
				return nil, nil, nil, err
			}
			if why != "" {
				skips = append(skips, Skip{RuleID: l.Rule.ID, Role: l.Role, Reason: why})
				continue
			}
			a.Amount = amt
			a.Explanation = label + ": " + strings.Join(a.Steps, ", ")
			awards = append(awards, a)
		default:
			a.Steps = append(a.Steps, fmt.Sprintf("true-down −%s", FormatMinor(-delta, p.Currency)))
			downs = append(downs, Adjustment{Line: l, Amount: -delta, Inputs: a.Inputs, Steps: a.Steps,
				Explanation: label + ": " + strings.Join(a.Steps, ", ")})
		}
	}
	return awards, downs, skips, nil
}
