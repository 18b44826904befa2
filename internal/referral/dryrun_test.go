package referral_test

import (
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// TestDryRunMatchesIngestionForActivityAndMoments is the regression test
// of the drifted dispatch: the dry run had its own copy of the event
// switch, without the activity and moment cases, and refused those
// events. A dry run now answers what real ingestion answers, and writes
// nothing.
func TestDryRunMatchesIngestionForActivityAndMoments(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "adv@example.com")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "friend", Email: "friend@example.com", ReferralCode: adv.Code})
		nps, _, err := e.Ref.CreateTrigger(ctx, prog.ID, parrain.MomentTrigger{Name: "Promoters", Kind: parrain.MomentNPS,
			Effects: []parrain.Effect{parrain.EffectEmail}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		score := 10
		for _, ev := range []parrain.Event{
			{Type: parrain.EventActivity, ExternalID: "friend"},
			{Type: parrain.EventNPS, ExternalID: "friend", Score: &score},
		} {
			dry, err := e.Ref.DryRun(ctx, prog.ID, ev, nil)
			if err != nil {
				t.Fatalf("dry run of %s: %v", ev.Type, err)
			}
			if !dry.DryRun || dry.RuleVersion != prog.Version {
				t.Errorf("dry run of %s: %+v", ev.Type, dry)
			}
			real := e.Event(prog.ID, ev)
			if dry.Type != real.Type || dry.Message != real.Message || dry.Duplicate != real.Duplicate ||
				(dry.Participant == nil) != (real.Participant == nil) || len(dry.Rewards) != len(real.Rewards) ||
				len(dry.TriggersFired) != len(real.TriggersFired) {
				t.Errorf("%s: dry run answered %+v, ingestion %+v", ev.Type, dry.EventResult, real)
			}
			if dry.Participant != nil && *dry.Participant != *real.Participant {
				t.Errorf("%s: participant %+v, ingestion %+v", ev.Type, *dry.Participant, *real.Participant)
			}
			for i := range real.TriggersFired {
				if i < len(dry.TriggersFired) && dry.TriggersFired[i].TriggerID != real.TriggersFired[i].TriggerID {
					t.Errorf("%s: fired %+v, ingestion %+v", ev.Type, dry.TriggersFired, real.TriggersFired)
				}
			}
		}
		// The moment fired the trigger once: the dry run's firing was not
		// kept (it would have started the cooldown).
		fs, _, err := e.St.Firings(ctx, prog.ID, nps.ID, store.Page{})
		if err != nil || len(fs) != 1 {
			t.Errorf("firings: %d %v, want the real event's only", len(fs), err)
		}
	})
}
