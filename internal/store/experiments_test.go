package store_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The experiment use cases are tested in internal/referral; these tests
// cover the experiment repository's SQL on both databases.
func TestExperimentRepository(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		exp := parrain.Experiment{ID: store.NewID("exp"), ProgramID: prog.ID, Name: "Double-sided", PrimaryMetric: parrain.MetricConversionsPerAdvocate,
			Arms: []parrain.Arm{{Key: "control", Weight: 1}, {Key: "b", Weight: 1, Overrides: parrain.ArmOverrides{
				ShareMessage: map[string]string{"en": "Get {offer}: {link}"},
				Emails:       map[parrain.NoticeKind]parrain.EmailCopy{parrain.NoticeInvite: {Subject: "A gift"}}}}}}
		if err := exp.Normalize(&prog); err != nil {
			t.Fatal(err)
		}
		exp.CreatedAt, exp.UpdatedAt = t0, t0
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SaveExperiment(ctx, exp) }); err != nil {
			t.Fatal(err)
		}
		got, err := e.St.Experiment(ctx, exp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, exp)
		}
		if err := exp.Transition(parrain.ExperimentRunning, "", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		adv := e.Advocate(prog.ID, "alice", "alice@example.com")
		var arms []string
		if err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SaveExperiment(ctx, exp); err != nil {
				return err
			}
			for i, arm := range []string{"b", "control", "b"} { // a later exposure cannot move the unit
				got, err := tx.RecordExposure(ctx, exp.ID, adv.ID, arm, t0.Add(time.Duration(2+i)*time.Hour))
				if err != nil {
					return err
				}
				arms = append(arms, got)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(arms, []string{"b", "b", "b"}) {
			t.Fatalf("sticky arms %v", arms)
		}
		if arm, err := e.St.Assignment(ctx, exp.ID, adv.ID); err != nil || arm != "b" {
			t.Fatalf("assignment %q %v", arm, err)
		}
		if arm, err := e.St.Assignment(ctx, exp.ID, "nobody"); err != nil || arm != "" {
			t.Fatalf("unassigned %q %v", arm, err)
		}
		list, err := e.St.Experiments(ctx, prog.ID, parrain.ExperimentRunning)
		if err != nil || len(list) != 1 || list[0].Status != parrain.ExperimentRunning || len(list[0].Arms) != 2 {
			t.Fatalf("running %+v %v", list, err)
		}
		if none, err := e.St.Experiments(ctx, prog.ID, parrain.ExperimentDraft); err != nil || len(none) != 0 {
			t.Fatalf("drafts %+v %v", none, err)
		}

		// outcomes: a friend referred and converted after the exposure
		e.Clock.Set(t0.Add(5 * time.Hour))
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", ReferralCode: adv.Code})
		res := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: prog.Currency})
		if len(res.Rewards) == 0 {
			t.Fatalf("no reward: %+v", res)
		}
		rw := res.Rewards[0]
		// ingestion recorded the arm the reward was priced under (internal/referral)
		if x, a, err := e.St.RewardArm(ctx, rw.ID); err != nil || x != exp.ID || a != "b" {
			t.Fatalf("reward arm %q %q %v", x, a, err)
		}
		outs, err := e.St.ExperimentOutcomes(ctx, exp.ID, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var cost int64
		for _, r := range res.Rewards {
			cost += r.Amount
		}
		want := store.UnitOutcome{Assignment: store.Assignment{ExperimentID: exp.ID, UnitID: adv.ID, Arm: "b",
			FirstExposedAt: t0.Add(2 * time.Hour), LastExposedAt: t0.Add(4 * time.Hour), Exposures: 3},
			Referrals: 1, Conversions: 1, Revenue: 5000, RewardCost: cost}
		if len(outs) != 1 || !reflect.DeepEqual(outs[0], want) {
			t.Fatalf("outcomes %+v, want %+v", outs, want)
		}
		// as of before the friend came: the unit, nothing yet
		early, err := e.St.ExperimentOutcomes(ctx, exp.ID, t0.Add(5*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(early) != 1 || early[0].Referrals != 0 || early[0].Revenue != 0 || early[0].RewardCost != 0 {
			t.Fatalf("early outcomes %+v", early)
		}
		if none, err := e.St.ExperimentOutcomes(ctx, exp.ID, t0.Add(time.Hour)); err != nil || len(none) != 0 {
			t.Fatalf("before the first exposure %+v %v", none, err)
		}
		var expl string
		if err := e.St.DB().QueryRow(`SELECT explanation FROM rewards WHERE id = $1`, rw.ID).Scan(&expl); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(expl, "arm b") {
			t.Fatalf("explanation %q", expl)
		}
	})
}
