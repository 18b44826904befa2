package fraud

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// assessedAt is an assessment of one signal at an exact weight, so a score
// lands exactly on a threshold.
func assessedAt(at time.Time, w float64) Assessment {
	a := Score([]Signal{{Code: NetSameIP, Weight: w, Reason: "r"}})
	a.At = at
	return a
}

func TestDecideThresholdBoundaries(t *testing.T) {
	p := DefaultPolicy() // flag 30, hold 45, reject 75, 72h
	tests := []struct {
		w      float64
		want   Action
		reason string
	}{
		{0, ActionApprove, "approve: score 0 < flag threshold 30"},
		{0.29, ActionApprove, "approve: score 29 < flag threshold 30"},
		{0.30, ActionFlag, "flag: score 30 ≥ flag threshold 30 and < hold threshold 45"},
		{0.44, ActionFlag, "flag: score 44 ≥ flag threshold 30 and < hold threshold 45"},
		{0.45, ActionHold, "hold: score 45 ≥ hold threshold 45 and < reject threshold 75"},
		{0.74, ActionHold, "hold: score 74 ≥ hold threshold 45 and < reject threshold 75"},
		{0.75, ActionReject, "reject: score 75 ≥ reject threshold 75"},
		{1, ActionReject, "reject: score 100 ≥ reject threshold 75"},
	}
	for _, tt := range tests {
		d := Decide(p, assessedAt(t0, tt.w))
		if d.Action != tt.want {
			t.Errorf("weight %.2f: action %s, want %s", tt.w, d.Action, tt.want)
		}
		if len(d.Reasons) == 0 || d.Reasons[0] != tt.reason {
			t.Errorf("weight %.2f: first reason %q, want %q", tt.w, first(d.Reasons), tt.reason)
		}
		if wantDetected := tt.want == ActionHold || tt.want == ActionReject; d.Detected() != wantDetected {
			t.Errorf("weight %.2f: Detected() = %v", tt.w, d.Detected())
		}
	}

	t.Run("flagging disabled", func(t *testing.T) {
		q := p
		q.FlagAt = 0
		d := Decide(q, assessedAt(t0, 0.44))
		if d.Action != ActionApprove || d.Reasons[0] != "approve: score 44 < hold threshold 45" {
			t.Errorf("FlagAt 0: %s, %q", d.Action, d.Reasons[0])
		}
	})
	t.Run("hold equal to reject", func(t *testing.T) {
		q := p
		q.HoldAt, q.RejectAt = 60, 60
		if err := q.Validate(); err != nil {
			t.Fatalf("HoldAt = RejectAt is allowed: %v", err)
		}
		if d := Decide(q, assessedAt(t0, 0.6)); d.Action != ActionReject {
			t.Errorf("score 60 with hold = reject = 60: %s, want reject", d.Action)
		}
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestDecideReviewDeadline(t *testing.T) {
	p := DefaultPolicy()
	tests := []struct {
		name   string
		window time.Duration
		at     time.Time
		w      float64
		want   time.Time
	}{
		{"held: assessment time plus the window", 72 * time.Hour, t0, 0.5, t0.Add(72 * time.Hour)},
		{"held, no window: no deadline", 0, t0, 0.5, time.Time{}},
		{"held, no assessment time: no deadline", 72 * time.Hour, time.Time{}, 0.5, time.Time{}},
		{"rejected: no deadline", 72 * time.Hour, t0, 0.9, time.Time{}},
		{"flagged: no deadline", 72 * time.Hour, t0, 0.3, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := p
			q.ReviewWindow = tt.window
			d := Decide(q, assessedAt(tt.at, tt.w))
			if !d.ReviewBy.Equal(tt.want) {
				t.Errorf("ReviewBy = %v, want %v", d.ReviewBy, tt.want)
			}
			hasLine := slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.HasPrefix(s, "review by ") })
			if hasLine != !tt.want.IsZero() {
				t.Errorf("review line present = %v, reasons %q", hasLine, d.Reasons)
			}
			if !tt.want.IsZero() && !slices.Contains(d.Reasons, "review by 2026-03-05T12:00:00Z") {
				t.Errorf("reasons %q lack the UTC deadline", d.Reasons)
			}
		})
	}
	// A deadline is written in UTC whatever the assessment's zone.
	paris := time.FixedZone("CET", 3600)
	d := Decide(p, assessedAt(t0.In(paris), 0.5))
	if !slices.Contains(d.Reasons, "review by 2026-03-05T12:00:00Z") {
		t.Errorf("reasons %q: deadline not in UTC", d.Reasons)
	}
}

func TestDecideRuleEffects(t *testing.T) {
	a := Score([]Signal{
		{Code: NetSameIP, Weight: 0.25, Reason: "same ip"},
		{Code: LeakFBCLID, Weight: 0.10, Reason: "fbclid"},
		{Code: SelfSameName, Weight: 0.30, Reason: "same name"},
	})
	a.At = t0
	tests := []struct {
		name    string
		rules   map[Code]Rule
		action  Action
		score   int
		effects map[Code]string
		raised  string
	}{
		{name: "defaults: fbclid observed", rules: DefaultPolicy().Rules, action: ActionHold, score: 48,
			effects: map[Code]string{
				SelfSameName: "scored at weight 0.30",
				NetSameIP:    "scored at weight 0.25",
				LeakFBCLID:   "observed only: recorded, not scored",
			}},
		{name: "a policy weight replaces the catalogue's", rules: map[Code]Rule{NetSameIP: {Weight: 0.9}}, action: ActionReject, score: 94,
			effects: map[Code]string{NetSameIP: "scored at policy weight 0.90 (default 0.25)"}},
		{name: "a weight of zero keeps the catalogue's", rules: map[Code]Rule{NetSameIP: {Action: RuleScore, Weight: 0}}, action: ActionHold, score: 53,
			effects: map[Code]string{NetSameIP: "scored at weight 0.25"}},
		{name: "a rule raises the action", rules: map[Code]Rule{LeakFBCLID: {Action: RuleReject}}, action: ActionReject, score: 53,
			effects: map[Code]string{LeakFBCLID: "scored at weight 0.10; rule forces at least reject"},
			raised:  "raised to reject by rule leak.fbclid=reject"},
		{name: "a rule equal to the threshold's action is not a raise", rules: map[Code]Rule{LeakFBCLID: {Action: RuleHold}}, action: ActionHold, score: 53,
			effects: map[Code]string{LeakFBCLID: "scored at weight 0.10; rule forces at least hold"}},
		{name: "the strictest of several rules wins, all are named", rules: map[Code]Rule{
			NetSameIP: {Action: RuleFlag}, SelfSameName: {Action: RuleSuspendAdvocate}, LeakFBCLID: {Action: RuleObserve},
		}, action: ActionSuspend, score: 48,
			effects: map[Code]string{SelfSameName: "scored at weight 0.30; rule forces at least suspend"},
			raised:  "raised to suspend by rule self.same_name=suspend_advocate, rule net.same_ip=flag"},
		{name: "a rule never lowers", rules: map[Code]Rule{NetSameIP: {Action: RuleFlag, Weight: 1}}, action: ActionReject, score: 100},
		{name: "observing everything approves", rules: map[Code]Rule{
			NetSameIP: {Action: RuleObserve}, SelfSameName: {Action: RuleObserve}, LeakFBCLID: {Action: RuleObserve},
		}, action: ActionApprove, score: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Rules = tt.rules
			d := Decide(p, a)
			if d.Action != tt.action || d.Score != tt.score {
				t.Errorf("action %s score %d, want %s %d; reasons %q", d.Action, d.Score, tt.action, tt.score, d.Reasons)
			}
			if d.RawScore != a.Score {
				t.Errorf("RawScore = %d, want the assessment's %d", d.RawScore, a.Score)
			}
			if len(d.Signals) != 3 {
				t.Fatalf("%d outcomes, want every signal (observed ones too)", len(d.Signals))
			}
			for _, o := range d.Signals {
				if want, ok := tt.effects[o.Code]; ok && o.Effect != want {
					t.Errorf("%s effect %q, want %q", o.Code, o.Effect, want)
				}
				if o.Counted != (o.Rule != RuleObserve) || (!o.Counted && o.Weight != 0) {
					t.Errorf("%s: counted %v weight %v under rule %s", o.Code, o.Counted, o.Weight, o.Rule)
				}
				if !slices.Contains(d.Reasons, string(o.Code)+" ["+o.Effect+"]: "+o.Reason) {
					t.Errorf("reasons %q lack the line of %s", d.Reasons, o.Code)
				}
			}
			hasRaised := slices.ContainsFunc(d.Reasons, func(s string) bool { return strings.HasPrefix(s, "raised to ") })
			if tt.raised == "" && hasRaised {
				t.Errorf("reasons %q say raised, but nothing was", d.Reasons)
			}
			if tt.raised != "" && (len(d.Reasons) < 2 || d.Reasons[1] != tt.raised) {
				t.Errorf("second reason %q, want %q", d.Reasons, tt.raised)
			}
		})
	}
	t.Run("no signals", func(t *testing.T) {
		d := Decide(DefaultPolicy(), Assessment{At: t0})
		if d.Action != ActionApprove || !slices.Equal(d.Reasons, []string{"approve: score 0 < flag threshold 30", "no signals fired"}) {
			t.Errorf("empty assessment: %s %q", d.Action, d.Reasons)
		}
		if d.Signals == nil {
			t.Error("Signals is nil: the JSON form would say null instead of []")
		}
	})
}

func TestValidateMessages(t *testing.T) {
	err := Policy{
		HoldAt: 0, RejectAt: -1, FlagAt: 5, ReviewWindow: -time.Hour,
		Rules: map[Code]Rule{"zz.unknown": {Action: "nuke", Weight: 2}, NetSameIP: {Weight: -0.1}},
	}.Validate()
	if !errors.Is(err, ErrInvalidPolicy) {
		t.Fatalf("Validate() = %v, want ErrInvalidPolicy", err)
	}
	want := "fraud: invalid fraud policy: HoldAt 0 not in 1..100; RejectAt -1 not in HoldAt(0)..100; FlagAt 5 not in 0..HoldAt(0); " +
		"ReviewWindow -1h0m0s is negative; rule for net.same_ip has weight -0.1 outside 0..1; " +
		`rule for unknown signal "zz.unknown"; rule for zz.unknown has unknown action "nuke"; rule for zz.unknown has weight 2 outside 0..1`
	if err.Error() != want {
		t.Errorf("message\n got %s\nwant %s", err, want)
	}
	ok := []Policy{
		{HoldAt: 1, RejectAt: 1},
		{HoldAt: 100, RejectAt: 100, FlagAt: 100},
		{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{NetSameIP: {Action: "", Weight: 1}, SelfSameName: {Action: RuleSuspendAdvocate, Weight: 0}}},
	}
	for _, p := range ok {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
}

func TestNewEngineListErrors(t *testing.T) {
	tests := []struct {
		name  string
		lists Lists
		want  string
	}{
		{"three-letter country", Lists{BlockedCountries: []string{"FRA"}}, `fraud: blocked country "fra" is not an ISO 3166-1 alpha-2 code: invalid list entry`},
		{"digits as a country", Lists{BlockedCountries: []string{"F1"}}, `fraud: blocked country "f1" is not an ISO 3166-1 alpha-2 code`},
		{"not an address", Lists{BlockedIPs: []string{"300.1.1.1"}}, `fraud: blocked IP "300.1.1.1" is not an IP address or CIDR range: invalid list entry`},
		{"prefix too long", Lists{DatacenterRanges: []string{"10.0.0.0/33"}}, `fraud: datacenter range "10.0.0.0/33": invalid list entry: `},
		{"garbage Tor entry", Lists{TorExitRanges: []string{"exit-node"}}, `fraud: Tor exit range "exit-node" is not an IP address or CIDR range`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultPolicy()
			p.Lists = tt.lists
			_, err := NewEngine(p)
			if !errors.Is(err, ErrInvalidList) {
				t.Fatalf("NewEngine = %v, want ErrInvalidList", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q does not start with %q", err, tt.want)
			}
			if _, err := Evaluate(p, nil); !errors.Is(err, ErrInvalidList) {
				t.Errorf("Evaluate = %v, want ErrInvalidList", err)
			}
		})
	}
	// Blank and commented entries never fail, in any list.
	p := DefaultPolicy()
	p.Lists = Lists{BlockedCountries: []string{"", "# iso codes", " kp "}, BlockedIPs: []string{"  ", "#10.0.0.0/8"}}
	if _, err := NewEngine(p); err != nil {
		t.Errorf("comments and blanks: %v", err)
	}
	// An IPv4-mapped CIDR is the IPv4 range.
	p.Lists = Lists{BlockedIPs: []string{"::ffff:192.0.2.0/120"}}
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := e.lists.blockedIPs.match(mustAddr(t, "192.0.2.77")); !ok {
		t.Error("::ffff:192.0.2.0/120 does not contain 192.0.2.77")
	}
	if _, ok := e.lists.blockedIPs.match(mustAddr(t, "192.0.3.1")); ok {
		t.Error("::ffff:192.0.2.0/120 contains 192.0.3.1")
	}
}

func TestPolicyJSON(t *testing.T) {
	t.Run("hours and no tuning", func(t *testing.T) {
		p := DefaultPolicy()
		p.ReviewWindow = 90 * time.Minute // whole hours only: 1
		p.Tuning.ClickFloodPerIP = 3
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, `"review_window_hours":1`) || strings.Contains(s, "ReviewWindow") || strings.Contains(s, "Tuning") || strings.Contains(s, "ClickFlood") {
			t.Errorf("JSON %s", s)
		}
		var q Policy
		if err := json.Unmarshal(b, &q); err != nil {
			t.Fatal(err)
		}
		if q.ReviewWindow != time.Hour || q.Tuning != DefaultTuning() {
			t.Errorf("decoded window %s tuning %+v: want 1h and the default tuning", q.ReviewWindow, q.Tuning)
		}
	})
	t.Run("bad documents", func(t *testing.T) {
		for _, doc := range []string{`{"hold_at":"45"}`, `{"rules":[]}`, `{"review_window_hours":1.5}`, `[`, `{"rules":{"net.same_ip":{"weight":"x"}}}`} {
			var p Policy
			if err := json.Unmarshal([]byte(doc), &p); err == nil {
				t.Errorf("%s decoded without error: %+v", doc, p)
			}
		}
	})
	t.Run("partial documents keep zero thresholds", func(t *testing.T) {
		var p Policy
		if err := json.Unmarshal([]byte(`{"hold_at":50}`), &p); err != nil {
			t.Fatal(err)
		}
		// reject_at is 0 < hold_at: the document is not a usable policy.
		if err := p.Validate(); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("Validate = %v, want ErrInvalidPolicy", err)
		}
	})
}

func TestCompiled(t *testing.T) {
	e1, err := Compiled("")
	if err != nil {
		t.Fatal(err)
	}
	if got := e1.Policy(); got.HoldAt != 45 || got.RejectAt != 75 || got.ReviewWindow != 72*time.Hour {
		t.Errorf("empty document: %+v, want the default policy", got)
	}
	doc := `{"flag_at":10,"hold_at":20,"reject_at":90,"review_window_hours":24,"rules":{"self.same_device":{"action":"reject"}}}`
	e2, err := Compiled(doc)
	if err != nil {
		t.Fatal(err)
	}
	e3, err := Compiled(doc)
	if err != nil {
		t.Fatal(err)
	}
	if e2 != e3 {
		t.Error("the same document compiled twice")
	}
	if e2 == e1 {
		t.Error("two documents share an engine")
	}
	// A document is the whole policy (stored documents are complete ones,
	// written by MarshalJSON): rules it does not name are not added from
	// the default policy.
	got := e2.Policy()
	if got.FlagAt != 10 || got.ReviewWindow != 24*time.Hour || got.Rules[SelfSameDevice].Action != RuleReject {
		t.Errorf("compiled policy %+v", got)
	}
	if _, ok := got.Rules[IDBlockedEmail]; ok || len(got.Rules) != 1 {
		t.Errorf("compiled rules %v, want only the document's", got.Rules)
	}
	if _, err := Compiled(`{"hold_at":`); err == nil || !strings.HasPrefix(err.Error(), "decoding fraud policy: ") {
		t.Errorf("truncated document: %v", err)
	}
	for range 2 { // an invalid policy is not cached as valid
		if _, err := Compiled(`{"hold_at":90,"reject_at":50}`); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("invalid thresholds: %v, want ErrInvalidPolicy", err)
		}
	}
	if _, err := Compiled(`{"hold_at":50,"reject_at":80,"lists":{"blocked_ips":["nope"]}}`); !errors.Is(err, ErrInvalidList) {
		t.Errorf("invalid list: %v, want ErrInvalidList", err)
	}
}

func TestTerms(t *testing.T) {
	p := DefaultPolicy()
	p.Rules[SelfSameDevice] = Rule{Action: RuleHold}
	p.Rules[SelfSameAccount] = Rule{Action: RuleSuspendAdvocate}
	p.Rules[NetSameIP] = Rule{Action: RuleFlag} // flag and score rules are not terms
	p.Rules[NetSameSubnet] = Rule{Weight: 0.5}
	p.Lists.BlockedCountries = []string{"KP", "IR"}
	got := p.Terms()
	want := []string{
		got[0], // the fixed description of the checks
		"The checks give each referral a risk score from 0 to 100. From 30 it is flagged for a person to look at, and paid as usual; " +
			"from 45 its rewards are held until a reviewer decides (within 72 hours, and never approved automatically meanwhile); " +
			"from 75 it is rejected. A rejected referral earns nothing and its rewards are reversed.",
		"Rejected outright: a party's country is on the operator's country blocklist.",
		"Rejected outright: an email domain is on the operator's domain blocklist.",
		"Rejected outright: an address matches the operator's email blocklist.",
		"Rejected outright: an IP is inside an operator-blocked range.",
		"Suspends the advocate, whose pending rewards are then cancelled: the friend has the advocate's own external id.",
		"Always held for review: the friend signed up on the advocate's device.",
		"Sign-ups from these countries are not eligible: IR, KP.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Terms():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(got[0], "coupon sites") || !strings.Contains(got[0], "refunds soon after") {
		t.Errorf("first term %q does not describe the checks", got[0])
	}
	if p.Lists.BlockedCountries[0] != "KP" {
		t.Error("Terms sorted the policy's own country list")
	}
	// An unknown rule code (a policy that never validated) is skipped, not
	// rendered as an empty sentence.
	p = Policy{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{"zz.unknown": {Action: RuleReject}}}
	if got := p.Terms(); len(got) != 2 {
		t.Errorf("unknown rule rendered: %q", got)
	}
}

func TestCatalogueCopies(t *testing.T) {
	c := Catalogue()
	c[0].Weight = 0
	if Catalogue()[0].Weight == 0 {
		t.Error("Catalogue returned the package's own slice")
	}
	info, ok := Info(SelfSameAccount)
	if !ok || info.Category != CategorySelf || info.Weight != 0.99 {
		t.Errorf("Info(SelfSameAccount) = %+v %v", info, ok)
	}
	for _, s := range Catalogue() {
		prefix := map[Category]string{CategorySelf: "self.", CategoryNetwork: "net.", CategoryIdentity: "id.", CategoryBehaviour: "beh.", CategoryLeak: "leak."}[s.Category]
		if prefix == "" || !strings.HasPrefix(string(s.Code), prefix) {
			t.Errorf("%s in category %q: the code's prefix does not name its category", s.Code, s.Category)
		}
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, ok := ParseIP(s)
	if !ok {
		t.Fatalf("ParseIP(%q) failed", s)
	}
	return a
}
