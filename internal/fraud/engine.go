package fraud

// Engine assesses referrals under one [Policy]. It holds the policy's lists
// in parsed form; build it once per program (or per policy change) with
// [NewEngine]. An Engine is immutable and safe for concurrent use.
type Engine struct {
	policy Policy
	tuning Tuning
	lists  *compiledLists
}

// NewEngine validates a policy and parses its lists. Errors wrap
// [ErrInvalidPolicy] or [ErrInvalidList].
func NewEngine(p Policy) (*Engine, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	l, err := compileLists(p.Lists)
	if err != nil {
		return nil, err
	}
	rules := make(map[Code]Rule, len(p.Rules))
	for c, r := range p.Rules {
		rules[c] = r
	}
	p.Rules = rules
	embeddedDisposable() // parse the embedded list now rather than on the first referral
	return &Engine{policy: p, tuning: p.Tuning.withDefaults(), lists: l}, nil
}

// Policy returns the engine's policy. Its Rules map is a copy; its list
// slices are shared and must not be modified.
func (e *Engine) Policy() Policy {
	p := e.policy
	p.Rules = make(map[Code]Rule, len(e.policy.Rules))
	for c, r := range e.policy.Rules {
		p.Rules[c] = r
	}
	return p
}

// Signals runs every detector over a referral and returns the signals that
// fired, in detector order, at catalogue weights.
func (e *Engine) Signals(r *Referral) []Signal {
	f := newFacts(r)
	out := make([]Signal, 0, 8)
	for _, d := range detectors {
		out = d(e, f, out)
	}
	return out
}

// Assess returns the policy-free [Assessment] of a referral: its signals and
// score at catalogue weights, stamped with r.At.
func (e *Engine) Assess(r *Referral) Assessment {
	a := Score(e.Signals(r))
	a.At = r.At
	return a
}

// Decide assesses a referral and applies the engine's policy:
// Decide(policy, Assess(r)).
func (e *Engine) Decide(r *Referral) Decision {
	return Decide(e.policy, e.Assess(r))
}
