package fraud

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// compiled caches one engine per policy document.
var compiled sync.Map // policy JSON → *Engine

// Compiled returns the engine of a stored policy document (the default
// policy when the document is empty), compiling each document once.
func Compiled(policyJSON string) (*Engine, error) {
	if e, ok := compiled.Load(policyJSON); ok {
		return e.(*Engine), nil
	}
	p := DefaultPolicy()
	if policyJSON != "" {
		if err := json.Unmarshal([]byte(policyJSON), &p); err != nil {
			return nil, fmt.Errorf("decoding fraud policy: %w", err)
		}
	}
	e, err := NewEngine(p)
	if err != nil {
		return nil, err
	}
	compiled.Store(policyJSON, e)
	return e, nil
}

// Terms states the policy in the program terms' words: what is
// checked, what each score does, and the rules the operator forced.
func (p Policy) Terms() []string {
	out := []string{
		"Every referral is checked when it happens and again when new evidence arrives: the same device, payment method, " +
			"name or email as the advocate; network addresses shared with the advocate (never decisive on their own, since " +
			"households and offices share them); bursts of clicks or sign-ups; throwaway or machine-made email addresses; " +
			"codes posted on coupon sites or promoted with paid ads; people who were already customers; refunds soon after a " +
			"reward; and, where reported, referred customers who never use the product.",
		fmt.Sprintf("The checks give each referral a risk score from 0 to 100. From %d it is flagged for a person to look at, and paid as usual; "+
			"from %d its rewards are held until a reviewer decides (within %d hours, and never approved automatically meanwhile); "+
			"from %d it is rejected. A rejected referral earns nothing and its rewards are reversed.",
			p.FlagAt, p.HoldAt, int(p.ReviewWindow/time.Hour), p.RejectAt),
	}
	codes := make([]string, 0, len(p.Rules))
	for c := range p.Rules {
		codes = append(codes, string(c))
	}
	sort.Strings(codes)
	for _, c := range codes {
		r := p.Rules[Code(c)]
		info, ok := Info(Code(c))
		if !ok {
			continue
		}
		what := strings.TrimSpace(strings.TrimSuffix(info.Summary, "."))
		if i := strings.IndexAny(what, ";:("); i > 0 {
			what = strings.TrimSpace(what[:i])
		}
		if what != "" {
			what = strings.ToLower(what[:1]) + what[1:]
		}
		switch r.Action {
		case RuleReject:
			out = append(out, fmt.Sprintf("Rejected outright: %s.", strings.TrimSpace(what)))
		case RuleSuspendAdvocate:
			out = append(out, fmt.Sprintf("Suspends the advocate, whose pending rewards are then cancelled: %s.", strings.TrimSpace(what)))
		case RuleHold:
			out = append(out, fmt.Sprintf("Always held for review: %s.", strings.TrimSpace(what)))
		}
	}
	if len(p.Lists.BlockedCountries) > 0 {
		cs := append([]string(nil), p.Lists.BlockedCountries...)
		sort.Strings(cs)
		out = append(out, "Sign-ups from these countries are not eligible: "+strings.Join(cs, ", ")+".")
	}
	return out
}
