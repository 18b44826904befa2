package referral_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

func creditExperiment() parrain.Experiment {
	return parrain.Experiment{Name: "Cash vs credit", PrimaryMetric: parrain.MetricConversionsPerAdvocate,
		Arms: []parrain.Arm{{Key: "control", Weight: 1}, {Key: "credit", Weight: 1, Overrides: parrain.ArmOverrides{
			Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 3000}}},
			ShareMessage: map[string]string{"en": "Credit for both of us: {link}"}}}}}
}

// The whole life of an incentive experiment: validation, start, sticky
// assignment on first exposure, rewards priced by the arm and saying so,
// results that match a recomputation from the raw tables, stop (frozen
// assignments), promotion (the program's next version), webhooks and audit.
func TestExperimentLifecycle(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		xs := referral.NewExperiments(e.St, e.Prog)
		prog := e.Program(nil)
		url := "https://hooks.example/exp"
		if _, _, err := outbound.NewService(e.St).CreateEndpoint(ctx, prog.ID, parrain.WebhookEndpointInput{URL: &url,
			EventTypes: []string{parrain.WebhookExperimentStarted, parrain.WebhookExperimentStopped, parrain.WebhookExperimentPromoted}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		bad := creditExperiment()
		bad.Arms[1].Overrides.Rules[0].Advocate.Kind = "gold"
		if _, _, err := xs.Create(ctx, prog.ID, bad, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "arms[1].overrides.rules[0].advocate.kind" {
			t.Fatalf("invalid arm: %v", err)
		}
		exp, _, err := xs.Create(ctx, prog.ID, creditExperiment(), store.Idem{})
		if err != nil || exp.Status != parrain.ExperimentDraft {
			t.Fatalf("create: %+v %v", exp, err)
		}
		early := e.Advocate(prog.ID, "early", "early@example.com") // joined before the start

		e.Clock.Advance(time.Hour)
		if exp, _, err = xs.Start(ctx, prog.ID, exp.ID, store.Idem{}); err != nil || exp.Status != parrain.ExperimentRunning {
			t.Fatalf("start: %+v %v", exp, err)
		}
		other, _, err := xs.Create(ctx, prog.ID, creditExperiment(), store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := xs.Start(ctx, prog.ID, other.ID, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("second running experiment: %v", err)
		}

		e.Clock.Advance(time.Hour)
		x, err := e.St.Experience(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		// the early advocate keeps the control and is not recorded
		if _, _, v, err := e.Ref.ExposeAdvocate(ctx, prog, x, early); err != nil || v.Arm != "" {
			t.Fatalf("early advocate: %+v %v", v, err)
		}
		arms := map[string]string{}
		var advs []parrain.Participant
		for i := range 24 {
			a := e.Advocate(prog.ID, fmt.Sprintf("adv%d", i), fmt.Sprintf("adv%d@example.com", i))
			advs = append(advs, a)
			for range 2 { // the second exposure keeps the arm
				p2, x2, v, err := e.Ref.ExposeAdvocate(ctx, prog, x, a)
				if err != nil {
					t.Fatal(err)
				}
				if v.Arm != exp.Pick(a.ID) || (arms[a.ID] != "" && arms[a.ID] != v.Arm) {
					t.Fatalf("advocate %s: arm %q, hash says %q, before %q", a.ID, v.Arm, exp.Pick(a.ID), arms[a.ID])
				}
				arms[a.ID] = v.Arm
				if v.Arm == "credit" && (p2.Rules[0].Advocate.Kind != parrain.KindCredit || x2.ShareMessage["en"] == "") {
					t.Fatalf("credit arm not applied: %+v %+v", p2.Rules, x2.ShareMessage)
				}
				if v.Arm == "control" && (p2.Rules[0].Advocate.Kind != parrain.KindCash || len(x2.ShareMessage) != 0) {
					t.Fatalf("control changed: %+v %+v", p2.Rules, x2.ShareMessage)
				}
			}
		}
		// every third advocate's friend signs up and buys
		e.Clock.Advance(time.Hour)
		for i, a := range advs {
			if i%3 != 0 {
				continue
			}
			friend := "friend-of-" + a.ExternalID
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: friend, ReferralCode: a.Code})
			res := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: friend, OrderID: "o-" + friend, Amount: 10000, Currency: "EUR"})
			for _, rw := range res.Rewards {
				if rw.Role != parrain.RoleAdvocate {
					continue
				}
				wantKind, wantAmount := parrain.KindCash, int64(2000)
				if arms[a.ID] == "credit" {
					wantKind, wantAmount = parrain.KindCredit, 3000
				}
				if rw.Kind != wantKind || rw.Amount != wantAmount || !strings.Contains(rw.Explanation, "arm "+arms[a.ID]) {
					t.Fatalf("advocate %s in %s: reward %s %d %q", a.ID, arms[a.ID], rw.Kind, rw.Amount, rw.Explanation)
				}
				if xid, arm, err := e.St.RewardArm(ctx, rw.ID); err != nil || xid != exp.ID || arm != arms[a.ID] {
					t.Fatalf("reward arm %q %q %v", xid, arm, err)
				}
			}
		}
		// an advocate never exposed is priced by the program's own rules
		unexposed := e.Advocate(prog.ID, "unexposed", "u@example.com")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "fu", ReferralCode: unexposed.Code})
		res := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "fu", OrderID: "o-fu", Amount: 10000, Currency: "EUR"})
		if len(res.Rewards) == 0 || res.Rewards[0].Amount != 2000 || strings.Contains(res.Rewards[0].Explanation, "experiment") {
			t.Fatalf("unexposed advocate: %+v", res.Rewards)
		}

		// results match a recomputation from the raw rows
		r, err := xs.Results(ctx, prog.ID, exp.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, ar := range r.Analysis.Arms {
			var units, exposures, conv int64
			if err := e.St.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(exposures), 0) FROM experiment_assignments WHERE experiment_id = $1 AND arm = $2`,
				exp.ID, ar.Key).Scan(&units, &exposures); err != nil {
				t.Fatal(err)
			}
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM referrals r JOIN experiment_assignments a ON a.unit_id = r.advocate_id
				WHERE a.experiment_id = $1 AND a.arm = $2 AND r.status = 'converted'`, exp.ID, ar.Key).Scan(&conv); err != nil {
				t.Fatal(err)
			}
			if ar.Units != units || ar.Exposures != exposures || units == 0 || exposures != 2*units {
				t.Fatalf("arm %s: %d units %d exposures, raw %d %d", ar.Key, ar.Units, ar.Exposures, units, exposures)
			}
			if m := ar.Metrics[0]; !m.OK || math.Abs(m.Value.Value-float64(conv)/float64(units)) > 1e-12 {
				t.Fatalf("arm %s: conversions per advocate %+v, raw %d/%d", ar.Key, m, conv, units)
			}
		}
		if r.Analysis.Verdict != parrain.VerdictNotEnoughData || len(r.Series) == 0 {
			t.Fatalf("verdict %s, %d points", r.Analysis.Verdict, len(r.Series))
		}

		// stopping freezes: recorded advocates keep their arm, new ones get the control unrecorded
		e.Clock.Advance(24 * time.Hour)
		if exp, _, err = xs.Stop(ctx, prog.ID, exp.ID, store.Idem{}); err != nil || exp.Status != parrain.ExperimentStopped {
			t.Fatalf("stop: %v", err)
		}
		late := e.Advocate(prog.ID, "late", "late@example.com")
		if _, _, v, err := e.Ref.ExposeAdvocate(ctx, prog, x, late); err != nil || v.Arm != "" {
			t.Fatalf("late advocate: %+v %v", v, err)
		}
		if arm, err := e.St.Assignment(ctx, exp.ID, late.ID); err != nil || arm != "" {
			t.Fatalf("late advocate recorded %q %v", arm, err)
		}
		if _, _, v, err := e.Ref.ExposeAdvocate(ctx, prog, x, advs[0]); err != nil || v.Arm != arms[advs[0].ID] {
			t.Fatalf("frozen advocate: %+v %v", v, err)
		}

		// promotion: the arm's rules are the program's next version
		if _, _, err := xs.Promote(ctx, prog.ID, exp.ID, "control", store.Idem{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Fatalf("promote control: %v", err)
		}
		if exp, _, err = xs.Promote(ctx, prog.ID, exp.ID, "credit", store.Idem{}); err != nil || exp.Status != parrain.ExperimentPromoted {
			t.Fatalf("promote: %v", err)
		}
		cur, err := e.St.Program(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != prog.Version+1 || cur.Rules[0].Advocate.Kind != parrain.KindCredit || cur.Rules[0].Advocate.Amount != 3000 {
			t.Fatalf("promoted program v%d %+v", cur.Version, cur.Rules[0].Advocate)
		}
		nx, err := e.St.Experience(ctx, prog.ID)
		if err != nil || nx.ShareMessage["en"] != "Credit for both of us: {link}" {
			t.Fatalf("promoted experience %+v %v", nx.ShareMessage, err)
		}
		for _, q := range []struct {
			sql  string
			want int
		}{
			{`SELECT COUNT(*) FROM webhook_deliveries WHERE program_id = $1 AND event_type LIKE 'experiment.%'`, 3},
			{`SELECT COUNT(*) FROM audit_log WHERE program_id = $1 AND action LIKE 'experiment.%'`, 5}, // 2 created, started, stopped, promoted
			{`SELECT COUNT(*) FROM audit_log WHERE program_id = $1 AND action = 'program.updated'`, 1},
		} {
			var n int
			if err := e.St.DB().QueryRow(q.sql, prog.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != q.want {
				t.Fatalf("%s: %d, want %d", q.sql, n, q.want)
			}
		}
	})
}
