package fraud

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func sig(c Code) Signal { return newSignal(c, "test "+string(c)) }

func TestScore(t *testing.T) {
	tests := []struct {
		name    string
		signals []Signal
		want    int
	}{
		{"nothing", nil, 0},
		{"one 0.5", []Signal{{Code: "a", Weight: 0.5}}, 50},
		{"two 0.5 combine like probabilities", []Signal{{Code: "a", Weight: 0.5}, {Code: "b", Weight: 0.5}}, 75},
		{"same IP and User-Agent", []Signal{sig(NetSameIP), sig(NetSameUserAgent)}, 40},
		{"duplicate code counts once, heaviest", []Signal{{Code: "a", Weight: 0.2}, {Code: "a", Weight: 0.5}}, 50},
		{"weights are clamped", []Signal{{Code: "a", Weight: 3}, {Code: "b", Weight: -1}}, 100},
		{"NaN is zero", []Signal{{Code: "a", Weight: math.NaN()}}, 0},
		{"never above 100", []Signal{sig(SelfSameAccount), sig(SelfSameEmail), sig(SelfSamePayment), sig(SelfSameDevice)}, 100},
	}
	for _, tt := range tests {
		a := Score(tt.signals)
		if a.Score != tt.want {
			t.Errorf("%s: Score = %d, want %d", tt.name, a.Score, tt.want)
		}
	}
	a := Score([]Signal{{Code: "b", Weight: 0.2}, {Code: "c", Weight: 0.9}, {Code: "a", Weight: 0.2}})
	if a.Signals[0].Code != "c" || a.Signals[1].Code != "a" || a.Signals[2].Code != "b" {
		t.Errorf("signals not ordered strongest first, then by code: %+v", a.Signals)
	}
}

// TestDecideThresholds maps scores to actions; shared-network signals at
// their catalogue weights can tip a referral into hold, never into reject
// (issue 14: colleagues and same-named relatives behind one NAT).
func TestDecideThresholds(t *testing.T) {
	p := DefaultPolicy()
	at := t0
	tests := []struct {
		signals []Signal
		want    Action
	}{
		{nil, ActionApprove},
		{[]Signal{sig(NetSameIP)}, ActionApprove},                                            // 25
		{[]Signal{sig(SelfSameName)}, ActionFlag},                                            // 30
		{[]Signal{sig(NetSameIP), sig(NetSameUserAgent)}, ActionFlag},                        // 40
		{[]Signal{sig(IDDisposableEmail)}, ActionHold},                                       // 50
		{[]Signal{sig(NetSameIP), sig(NetSameUserAgent), sig(SelfSimilarEmail)}, ActionHold}, // 70
		{[]Signal{sig(SelfSameDevice)}, ActionReject},                                        // 80
		// 79, but 65 without the shared network: a same-named relative at home is held for a person, not rejected.
		{[]Signal{sig(NetSameIP), sig(NetSameUserAgent), sig(SelfSimilarEmail), sig(SelfSameName)}, ActionHold},
		{[]Signal{sig(NetSameIP), sig(SelfSameName), sig(SelfSameDevice)}, ActionReject},                                            // 89, 86 without the network
		{[]Signal{sig(NetSameIP), sig(NetSameUserAgent), sig(SelfSimilarEmail), sig(IDRandomEmail), sig(SelfSameName)}, ActionHold}, // 83, 72 without
	}
	for _, tt := range tests {
		a := Score(tt.signals)
		a.At = at
		d := Decide(p, a)
		if d.Action != tt.want {
			t.Errorf("signals %v (score %d): action %s, want %s; reasons %q", codes(tt.signals), d.Score, d.Action, tt.want, d.Reasons)
		}
		if d.Score != a.Score || d.RawScore != a.Score {
			t.Errorf("score %d/%d, want %d", d.Score, d.RawScore, a.Score)
		}
		if (d.Action == ActionHold) != !d.ReviewBy.IsZero() {
			t.Errorf("ReviewBy %v for action %s", d.ReviewBy, d.Action)
		}
		if d.Action == ActionHold && !d.ReviewBy.Equal(at.Add(72*time.Hour)) {
			t.Errorf("ReviewBy = %v, want 72h after %v", d.ReviewBy, at)
		}
		if !strings.HasPrefix(d.Reasons[0], string(d.Action)+":") {
			t.Errorf("first reason %q does not state the action %s", d.Reasons[0], d.Action)
		}
		if d.Detected() != (d.Action == ActionHold || d.Action == ActionReject || d.Action == ActionSuspend) {
			t.Errorf("Detected() wrong for %s", d.Action)
		}
	}
}

func codes(s []Signal) []Code {
	var out []Code
	for _, x := range s {
		out = append(out, x.Code)
	}
	return out
}

func TestDecideRules(t *testing.T) {
	base := DefaultPolicy()
	tests := []struct {
		name      string
		rules     map[Code]Rule
		signals   []Signal
		action    Action
		score     int
		counted   map[Code]bool
		reasonHas string
	}{
		{
			name:    "observe records but does not score",
			rules:   map[Code]Rule{IDDisposableEmail: {Action: RuleObserve}},
			signals: []Signal{sig(IDDisposableEmail), sig(NetSameIP)},
			action:  ActionApprove, score: 25,
			counted:   map[Code]bool{IDDisposableEmail: false, NetSameIP: true},
			reasonHas: "observed only",
		},
		{
			name:    "default policy observes fbclid",
			signals: []Signal{sig(LeakFBCLID)},
			action:  ActionApprove, score: 0,
			counted: map[Code]bool{LeakFBCLID: false},
		},
		{
			name:    "weight override",
			rules:   map[Code]Rule{NetSameIP: {Weight: 0.5}},
			signals: []Signal{sig(NetSameIP)},
			action:  ActionHold, score: 50,
			reasonHas: "policy weight 0.50 (default 0.25)",
		},
		{
			name:    "blocklist rule rejects whatever the score",
			signals: []Signal{{Code: IDBlockedCountry, Weight: 0.1, Reason: "friend country KP is blocked"}},
			action:  ActionReject, score: 10,
			reasonHas: "raised to reject by rule id.blocked_country=reject",
		},
		{
			name:    "suspend the advocate",
			rules:   map[Code]Rule{NetClickFloodIP: {Action: RuleSuspendAdvocate}},
			signals: []Signal{sig(NetClickFloodIP)},
			action:  ActionSuspend, score: 60,
		},
		{
			name:    "flag rule",
			rules:   map[Code]Rule{NetSameIP: {Action: RuleFlag}},
			signals: []Signal{sig(NetSameIP)},
			action:  ActionFlag, score: 25,
		},
		{
			name:    "hold rule",
			rules:   map[Code]Rule{BehNoActivity: {Action: RuleHold}},
			signals: []Signal{sig(BehNoActivity)},
			action:  ActionHold, score: 25,
		},
		{
			name:    "rules never lower the threshold outcome",
			rules:   map[Code]Rule{SelfSameDevice: {Action: RuleFlag}},
			signals: []Signal{sig(SelfSameDevice)},
			action:  ActionReject, score: 80,
		},
	}
	for _, tt := range tests {
		p := base
		if tt.rules != nil {
			p.Rules = tt.rules
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		d := Decide(p, Score(tt.signals))
		if d.Action != tt.action || d.Score != tt.score {
			t.Errorf("%s: %s/%d, want %s/%d; reasons %q", tt.name, d.Action, d.Score, tt.action, tt.score, d.Reasons)
		}
		for _, o := range d.Signals {
			if want, ok := tt.counted[o.Code]; ok && o.Counted != want {
				t.Errorf("%s: %s counted=%v, want %v", tt.name, o.Code, o.Counted, want)
			}
			if o.Effect == "" || o.Reason == "" {
				t.Errorf("%s: outcome %+v is not explained", tt.name, o)
			}
		}
		if len(d.Signals) != len(tt.signals) {
			t.Errorf("%s: decision lists %d signals, want %d", tt.name, len(d.Signals), len(tt.signals))
		}
		if tt.reasonHas != "" && !strings.Contains(strings.Join(d.Reasons, "\n"), tt.reasonHas) {
			t.Errorf("%s: reasons %q lack %q", tt.name, d.Reasons, tt.reasonHas)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	if err := DefaultPolicy().Validate(); err != nil {
		t.Fatalf("DefaultPolicy invalid: %v", err)
	}
	bad := []Policy{
		{HoldAt: 0, RejectAt: 50},
		{HoldAt: 60, RejectAt: 50},
		{HoldAt: 50, RejectAt: 101},
		{FlagAt: 70, HoldAt: 50, RejectAt: 80},
		{FlagAt: -1, HoldAt: 50, RejectAt: 80},
		{HoldAt: 50, RejectAt: 80, ReviewWindow: -time.Hour},
		{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{"net.same_ipp": {}}},
		{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{NetSameIP: {Action: "ignore"}}},
		{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{NetSameIP: {Weight: 1.5}}},
		{HoldAt: 50, RejectAt: 80, Rules: map[Code]Rule{NetSameIP: {Weight: math.NaN()}}},
	}
	for i, p := range bad {
		err := p.Validate()
		if !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("case %d: Validate() = %v, want ErrInvalidPolicy", i, err)
		}
		if _, err := NewEngine(p); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("case %d: NewEngine err = %v", i, err)
		}
		if _, err := Evaluate(p, nil); !errors.Is(err, ErrInvalidPolicy) {
			t.Errorf("case %d: Evaluate err = %v", i, err)
		}
	}
}

func TestEngineDoesNotShareRules(t *testing.T) {
	p := DefaultPolicy()
	e, err := NewEngine(p)
	if err != nil {
		t.Fatal(err)
	}
	p.Rules[NetSameIP] = Rule{Action: RuleReject}
	e.Policy().Rules[NetSameIP] = Rule{Action: RuleReject}
	r := cleanReferral()
	r.Friend.IP = r.Advocate.IP
	if d := e.Decide(&r); d.Action != ActionApprove {
		t.Errorf("engine saw a rule added after NewEngine: %s", d.Action)
	}
}

// TestTolerance pins the weight design: sharing a network is normal for
// households, offices and mobile carriers and must combine with other
// evidence before anything happens.
func TestTolerance(t *testing.T) {
	e, err := NewEngine(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(r *Referral)
		want   Action
	}{
		{"household: same /24, different devices and emails", func(r *Referral) {
			r.Friend.IP, r.Click.IP = "203.0.113.77", "203.0.113.77"
			r.Friend.Name, r.Friend.Email = "Marie Dupont", "marie.dupont@orange.fr"
			r.Friend.Address = r.Advocate.Address
		}, ActionApprove},
		{"household behind one NAT address", func(r *Referral) {
			r.Friend.IP, r.Click.IP = r.Advocate.IP, r.Advocate.IP
			r.Friend.Name, r.Friend.Email = "Marie Dupont", "marie.dupont@orange.fr"
		}, ActionApprove},
		{"office colleagues: same IP and standard laptop image", func(r *Referral) {
			r.Advocate.Email, r.Friend.Email = "jean.dupont@acme.example", "marie.curie@acme.example"
			r.Friend.IP, r.Click.IP = r.Advocate.IP, r.Advocate.IP
			r.Friend.UserAgent, r.Click.UserAgent = r.Advocate.UserAgent, r.Advocate.UserAgent
		}, ActionFlag},
		{"same IP, User-Agent and a second address from the same words", func(r *Referral) {
			r.Friend.IP, r.Friend.UserAgent = r.Advocate.IP, r.Advocate.UserAgent
			r.Friend.Email = "dupont.jean1984@yahoo.fr"
		}, ActionHold},
		{"same IP, User-Agent and device", func(r *Referral) {
			r.Friend.IP, r.Friend.UserAgent, r.Friend.DeviceID = r.Advocate.IP, r.Advocate.UserAgent, r.Advocate.DeviceID
		}, ActionReject},
		{"gmail alias", func(r *Referral) { r.Friend.Email = "jeandupont+ref@gmail.com" }, ActionReject},
	}
	for _, tt := range tests {
		r := cleanReferral()
		tt.mutate(&r)
		d := e.Decide(&r)
		if d.Action != tt.want {
			t.Errorf("%s: %s (score %d), want %s\n%s", tt.name, d.Action, d.Score, tt.want, strings.Join(d.Reasons, "\n"))
		}
	}
	// Sharing a network, with or without the same User-Agent, never holds on
	// its own (same_ip and same_subnet are exclusive by construction).
	for _, combo := range [][]Signal{
		{sig(NetSameIP)}, {sig(NetSameSubnet)},
		{sig(NetSameIP), sig(NetSameUserAgent)}, {sig(NetSameSubnet), sig(NetSameUserAgent)},
	} {
		if a := Score(combo); a.Score >= DefaultPolicy().HoldAt {
			t.Errorf("%v alone scores %d: must stay below hold (%d)", codes(combo), a.Score, DefaultPolicy().HoldAt)
		}
	}
}

func TestEngineConcurrent(t *testing.T) {
	e, err := NewEngine(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	cases := Simulate(3, 400)
	want := make([]Decision, len(cases))
	for i := range cases {
		want[i] = e.Decide(&cases[i].Referral)
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(cases))
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cases); i += 4 {
				if d := e.Decide(&cases[i].Referral); !reflect.DeepEqual(d, want[i]) {
					errs <- fmt.Sprintf("case %d decided differently concurrently", i)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
