package parrain

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func expProgram(t *testing.T) *Program {
	t.Helper()
	p := &Program{Name: "Acme", LandingURL: "https://acme.test", Currency: "EUR",
		Rules: []RewardRule{{Trigger: TriggerFirstPurchase,
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 1000}}}}
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	return p
}

func validExperiment() Experiment {
	return Experiment{ID: "exp_1", Name: "Cash vs credit", PrimaryMetric: MetricConversionsPerAdvocate,
		Arms: []Arm{{Key: "control", Weight: 1}, {Key: "credit", Weight: 1, Overrides: ArmOverrides{
			Rules: []RewardRule{{Trigger: TriggerFirstPurchase,
				Advocate: &RewardSpec{Kind: KindCredit, Type: AmountFixed, Amount: 1500}}}}}}}
}

func TestExperimentNormalize(t *testing.T) {
	p := expProgram(t)
	tests := []struct {
		name  string
		mod   func(*Experiment)
		field string
	}{
		{"valid", func(*Experiment) {}, ""},
		{"no name", func(e *Experiment) { e.Name = " " }, "name"},
		{"bad unit", func(e *Experiment) { e.Unit = "team" }, "unit"},
		{"no metric", func(e *Experiment) { e.PrimaryMetric = "" }, "primary_metric"},
		{"unknown metric", func(e *Experiment) { e.PrimaryMetric = "happiness" }, "primary_metric"},
		{"metric of another unit", func(e *Experiment) { e.PrimaryMetric = MetricVisitorConversionRate }, "primary_metric"},
		{"duplicate guardrail", func(e *Experiment) { e.Guardrails = []Metric{MetricConversionsPerAdvocate} }, "guardrails[0]"},
		{"bad mde", func(e *Experiment) { e.MDEBps = 5 }, "mde_bps"},
		{"one arm", func(e *Experiment) { e.Arms = e.Arms[:1] }, "arms"},
		{"bad key", func(e *Experiment) { e.Arms[1].Key = "B!" }, "arms[1].key"},
		{"duplicate key", func(e *Experiment) { e.Arms[1].Key = "control" }, "arms[1].key"},
		{"zero weight", func(e *Experiment) { e.Arms[1].Weight = 0 }, "arms[1].weight"},
		{"bad arm rule", func(e *Experiment) { e.Arms[1].Overrides.Rules[0].Advocate.Amount = -5 }, "arms[1].overrides.rules[0].advocate.amount"},
		{"control overrides", func(e *Experiment) { e.Arms[0].Overrides.ShareMessage = map[string]string{"en": "hi"} }, "arms[0].overrides"},
		{"nothing differs", func(e *Experiment) { e.Arms[1].Overrides = ArmOverrides{} }, "arms"},
		{"empty text", func(e *Experiment) {
			e.Arms[1].Overrides.ShareMessage = map[string]string{"de": " "}
		}, "arms[1].overrides.share_message.de"},
		{"two-line subject", func(e *Experiment) {
			e.Arms[1].Overrides.ShareSubject = map[string]string{"en": "a\nb"}
		}, "arms[1].overrides.share_subject.en"},
		{"email of another kind", func(e *Experiment) {
			e.Arms[1].Overrides.Emails = map[NoticeKind]EmailCopy{NoticeWelcome: {Subject: "x"}}
		}, "arms[1].overrides.emails.welcome"},
		{"visitor rules", func(e *Experiment) {
			e.Unit, e.PrimaryMetric = UnitVisitor, MetricVisitorConversionRate
		}, "arms[1].overrides.rules"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validExperiment()
			tc.mod(&e)
			err := e.Normalize(p)
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.Status != ExperimentDraft || e.Unit != UnitAdvocate || e.MDEBps != DefaultMDEBps || len(e.Guardrails) != 2 {
					t.Fatalf("defaults: %+v", e)
				}
				return
			}
			wantInvalid(t, err, tc.field)
		})
	}
}

func TestExperimentAssignment(t *testing.T) {
	e := validExperiment()
	e.Arms[0].Weight, e.Arms[1].Weight = 1, 3
	// Deterministic: the same unit always lands in the same arm, and the
	// split follows the weights.
	counts := map[string]int{}
	const n = 40000
	for i := range n {
		u := fmt.Sprintf("adv_%d", i)
		a := e.Pick(u)
		if e.Pick(u) != a {
			t.Fatalf("unit %s not sticky", u)
		}
		counts[a]++
	}
	if share := float64(counts["credit"]) / n; math.Abs(share-0.75) > 0.01 {
		t.Fatalf("credit share %.3f, want 0.75 ± 0.01", share)
	}
	// A known value pins the hash across releases (identical on every replica).
	if got := AssignmentBucket("exp_1", "adv_1"); got != 0.8876529868560079 {
		t.Fatalf("bucket %v: the assignment hash changed, which would move every running unit", got)
	}
	if AssignmentBucket("exp_1", "adv_1") == AssignmentBucket("exp_2", "adv_1") {
		t.Fatal("bucket ignores the experiment id")
	}

	start := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	before, after := start.Add(-time.Hour), start.Add(time.Hour)
	tests := []struct {
		name      string
		status    ExperimentStatus
		recorded  string
		entered   time.Time
		wantArm   string
		wantWhy   AssignmentReason
		hashedArm bool
	}{
		{"draft gives control", ExperimentDraft, "", after, "control", AssignInactive, false},
		{"running hashes", ExperimentRunning, "", after, "", AssignHashed, true},
		{"unknown entry time hashes", ExperimentRunning, "", time.Time{}, "", AssignHashed, true},
		{"entered before start keeps control", ExperimentRunning, "", before, "control", AssignEarlier, false},
		{"recorded is sticky", ExperimentRunning, "credit", before, "credit", AssignRecorded, false},
		{"stopped freezes recorded", ExperimentStopped, "credit", after, "credit", AssignRecorded, false},
		{"stopped gives new units control", ExperimentStopped, "", after, "control", AssignInactive, false},
		{"promoted ends the arms", ExperimentPromoted, "credit", after, "control", AssignInactive, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := e
			x.Status, x.StartedAt = tc.status, &start
			arm, why := x.Assign("adv_7", tc.recorded, tc.entered, after)
			want := tc.wantArm
			if tc.hashedArm {
				want = x.Pick("adv_7")
			}
			if arm != want || why != tc.wantWhy {
				t.Fatalf("got %s/%s, want %s/%s", arm, why, want, tc.wantWhy)
			}
		})
	}
}

func TestExperimentTransition(t *testing.T) {
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to ExperimentStatus
		arm      string
		code     Code
	}{
		{"start", ExperimentDraft, ExperimentRunning, "", ""},
		{"restart", ExperimentRunning, ExperimentRunning, "", CodeConflict},
		{"stop", ExperimentRunning, ExperimentStopped, "", ""},
		{"stop twice", ExperimentStopped, ExperimentStopped, "", CodeConflict},
		{"promote", ExperimentStopped, ExperimentPromoted, "credit", ""},
		{"promote control", ExperimentStopped, ExperimentPromoted, "control", CodeInvalid},
		{"promote unknown", ExperimentRunning, ExperimentPromoted, "zz", CodeInvalid},
		{"promote draft", ExperimentDraft, ExperimentPromoted, "credit", CodeConflict},
		{"back to draft", ExperimentStopped, ExperimentDraft, "", CodeInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validExperiment()
			e.Status = tc.from
			err := e.Transition(tc.to, tc.arm, now)
			if ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %q", err, tc.code)
			}
			if err == nil && e.Status != tc.to {
				t.Fatalf("status %s", e.Status)
			}
		})
	}
}

func TestArmApply(t *testing.T) {
	p := expProgram(t)
	e := validExperiment()
	e.Arms[1].Overrides.ShareMessage = map[string]string{"en": "Try {offer}: {link}"}
	if err := e.Normalize(p); err != nil {
		t.Fatal(err)
	}
	x := Experience{ShareMessage: map[string]string{"fr": "Salut {link}"}}
	q, y := e.Arms[1].Apply(*p, x)
	if q.Rules[0].Advocate.Kind != KindCredit || p.Rules[0].Advocate.Kind != KindCash {
		t.Fatalf("rules: arm %v program %v", q.Rules[0].Advocate.Kind, p.Rules[0].Advocate.Kind)
	}
	if y.ShareMessage["en"] != "Try {offer}: {link}" || y.ShareMessage["fr"] != "Salut {link}" || len(x.ShareMessage) != 1 {
		t.Fatalf("share messages %v (base %v)", y.ShareMessage, x.ShareMessage)
	}
	c, cx := e.Arms[0].Apply(*p, x)
	if c.Rules[0].Advocate.Kind != KindCash || len(cx.ShareMessage) != 1 {
		t.Fatal("control changed the program")
	}
}
