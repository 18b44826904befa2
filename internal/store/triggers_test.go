package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// trigger stores a moment trigger of prog with status at the clock's time.
func (e *env) trigger(prog, name string, kind parrain.MomentKind, status string) parrain.MomentTrigger {
	e.T.Helper()
	var tr parrain.MomentTrigger
	e.inTx(func(tx *store.Tx) error {
		score := 9
		tr = parrain.MomentTrigger{ID: tx.NewTriggerID(), ProgramID: prog, Name: name, Kind: kind, MinScore: &score, CooldownDays: 30,
			Effects: []parrain.Effect{parrain.EffectEmail, parrain.EffectWebhook}, Status: status, CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
		return tx.InsertTrigger(ctx, tr)
	})
	return tr
}

func triggerNames(ts []parrain.MomentTrigger) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

// Moment triggers: stored as their definition, read and listed per
// program (deleted ones hidden, active ones on request), updated and
// deleted only within their program.
func TestTriggerRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		nps := e.trigger(prog.ID, "promoters", parrain.MomentNPS, parrain.MomentActive)
		up := e.trigger(prog.ID, "upgrades", parrain.MomentPlanUpgrade, parrain.MomentDisabled)
		gone := e.trigger(prog.ID, "gone", parrain.MomentCustom, parrain.MomentActive)
		far := e.trigger(other.ID, "far", parrain.MomentRating, parrain.MomentActive)
		if nps.ID[:4] != "trg_" || nps.ID == up.ID {
			t.Fatalf("ids %q %q", nps.ID, up.ID)
		}

		got, err := e.St.Trigger(ctx, prog.ID, nps.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "promoters" || got.Kind != parrain.MomentNPS || got.MinScore == nil || *got.MinScore != 9 || got.CooldownDays != 30 ||
			!slices.Equal(got.Effects, []parrain.Effect{parrain.EffectEmail, parrain.EffectWebhook}) || got.Status != parrain.MomentActive || !got.CreatedAt.Equal(t0) {
			t.Errorf("read back as %+v", got)
		}
		if _, err := e.St.Trigger(ctx, other.ID, nps.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("read through another program: %v", err)
		}

		e.Clock.Advance(time.Hour)
		e.inTx(func(tx *store.Tx) error {
			tr, err := tx.Trigger(ctx, prog.ID, up.ID)
			if err != nil {
				return err
			}
			tr.Status, tr.Plans, tr.UpdatedAt = parrain.MomentActive, []string{"pro"}, tx.Now()
			if err := tx.UpdateTrigger(ctx, tr); err != nil {
				return err
			}
			stray := far
			stray.ProgramID = prog.ID
			if err := tx.UpdateTrigger(ctx, stray); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("updating another program's trigger: %v", err)
			}
			if err := tx.DeleteTrigger(ctx, other.ID, gone.ID, tx.Now()); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("deleting through another program: %v", err)
			}
			return tx.DeleteTrigger(ctx, prog.ID, gone.ID, tx.Now())
		})
		e.inTx(func(tx *store.Tx) error {
			if _, err := tx.Trigger(ctx, prog.ID, gone.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("a deleted trigger is read: %v", err)
			}
			if err := tx.DeleteTrigger(ctx, prog.ID, gone.ID, tx.Now()); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("deleting twice: %v", err)
			}
			gone.Name = "revived"
			if err := tx.UpdateTrigger(ctx, gone); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("updating a deleted trigger: %v", err)
			}
			active, err := tx.ActiveTriggers(ctx, prog.ID)
			if n := triggerNames(active); !slices.Equal(n, []string{"promoters", "upgrades"}) {
				t.Errorf("active: %v", n)
			}
			return err
		})
		u, err := e.St.Trigger(ctx, prog.ID, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != parrain.MomentActive || !slices.Equal(u.Plans, []string{"pro"}) || !u.UpdatedAt.Equal(t0.Add(time.Hour)) || !u.CreatedAt.Equal(t0) {
			t.Errorf("updated as %+v", u)
		}
		for _, c := range []struct {
			prog string
			want []string
		}{{prog.ID, []string{"promoters", "upgrades"}}, {other.ID, []string{"far"}}, {"prg_none", []string{}}} {
			ts, err := e.St.Triggers(ctx, c.prog)
			if err != nil {
				t.Fatal(err)
			}
			if n := triggerNames(ts); !slices.Equal(n, c.want) {
				t.Errorf("triggers of %s: %v, want %v", c.prog, n, c.want)
			}
		}
		// A deleted trigger's row stays, disabled.
		var status string
		var deleted *int64
		if err := e.St.DB().QueryRow(`SELECT status, deleted_at FROM moment_triggers WHERE id = $1`, gone.ID).Scan(&status, &deleted); err != nil {
			t.Fatal(err)
		}
		if status != parrain.MomentDisabled || deleted == nil || *deleted != t0.Add(time.Hour).UnixMilli() {
			t.Errorf("deleted row: %s %v", status, deleted)
		}
	})
}

// The per-participant cooldown: the first firing always starts it; later
// ones only once the last firing is at or before the cutoff.
func TestTriggerCooldown(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		tr := e.trigger(prog.ID, "promoters", parrain.MomentNPS, parrain.MomentActive)
		ann, bob := e.Advocate(prog.ID, "ann", "ann@example.com"), e.Advocate(prog.ID, "bob", "bob@example.com")
		day := 24 * time.Hour
		for _, c := range []struct {
			name   string
			who    string
			now    time.Time
			cutoff time.Time
			want   bool
		}{
			{"first for ann", ann.ID, t0, t0.Add(-30 * day), true},
			{"ann again a day later", ann.ID, t0.Add(day), t0.Add(-29 * day), false},
			{"first for bob", bob.ID, t0.Add(day), t0.Add(-29 * day), true},
			{"ann when the cutoff reaches her last firing", ann.ID, t0.Add(30 * day), t0, true},
			{"ann right after", ann.ID, t0.Add(31 * day), t0.Add(day), false},
		} {
			e.inTx(func(tx *store.Tx) error {
				ok, err := tx.StartTriggerCooldown(ctx, tr.ID, c.who, c.now, c.cutoff)
				if ok != c.want {
					t.Errorf("%s: %v, want %v", c.name, ok, c.want)
				}
				return err
			})
		}
		var last int64
		if err := e.St.DB().QueryRow(`SELECT last_fired_at FROM moment_trigger_state WHERE trigger_id = $1 AND participant_id = $2`, tr.ID, ann.ID).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if last != t0.Add(30*day).UnixMilli() {
			t.Errorf("ann last fired at %v", time.UnixMilli(last).UTC())
		}
		e.inTx(func(tx *store.Tx) error {
			n, err := tx.SubscribedEndpoints(ctx, prog.ID, "trigger.fired")
			if n != 0 {
				t.Errorf("endpoints without any: %d", n)
			}
			return err
		})
	})
}

// Firings: recorded with their effects, read by id with the participant's
// external id, paged newest first per trigger, and their effects' outcomes
// set one at a time.
func TestFiringRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		tr := e.trigger(prog.ID, "promoters", parrain.MomentNPS, parrain.MomentActive)
		tr2 := e.trigger(prog.ID, "upgrades", parrain.MomentPlanUpgrade, parrain.MomentActive)
		ann := e.Advocate(prog.ID, "ann", "ann@example.com")
		var want []string
		e.inTx(func(tx *store.Tx) error {
			for i := range 5 {
				f := store.Firing{ID: fmt.Sprintf("fir_%02d", i), TriggerID: tr.ID, ProgramID: prog.ID, ParticipantID: ann.ID, EventID: fmt.Sprintf("evt_%d", i),
					Effects:   []store.EffectOutcome{{Effect: parrain.EffectEmail, Status: store.EffectPending}, {Effect: parrain.EffectWebhook, Status: store.EffectPending}},
					CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
				if err := tx.InsertFiring(ctx, f); err != nil {
					return err
				}
				want = append([]string{f.ID}, want...)
			}
			return tx.InsertFiring(ctx, store.Firing{ID: "fir_99", TriggerID: tr2.ID, ProgramID: prog.ID, ParticipantID: ann.ID, EventID: "evt_x", CreatedAt: t0})
		})
		f, err := e.St.FiringByID(ctx, "fir_02")
		if err != nil {
			t.Fatal(err)
		}
		if f.TriggerID != tr.ID || f.ProgramID != prog.ID || f.ParticipantID != ann.ID || f.ExternalID != "ann" || f.EventID != "evt_2" ||
			!f.CreatedAt.Equal(t0.Add(2*time.Minute)) || len(f.Effects) != 2 || f.Effects[0].Status != store.EffectPending || f.Effects[0].At != nil {
			t.Errorf("read back as %+v", f)
		}
		if _, err := e.St.FiringByID(ctx, "fir_none"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing firing: %v", err)
		}
		got := walk(t, 2, 4, func(pg store.Page) ([]store.Firing, string, error) { return e.St.Firings(ctx, prog.ID, tr.ID, pg) },
			func(f store.Firing) string { return f.ID })
		if !slices.Equal(got, want) {
			t.Errorf("firings %v, want %v", got, want)
		}
		if fs, _, err := e.St.Firings(ctx, other.ID, tr.ID, store.Page{}); err != nil || len(fs) != 0 {
			t.Errorf("through another program: %+v %v", fs, err)
		}

		e.Clock.Advance(time.Hour)
		long := strings.Repeat("x", 600)
		if err := e.St.SetFiringEffect(ctx, "fir_02", parrain.EffectWebhook, store.EffectFailed, long); err != nil {
			t.Fatal(err)
		}
		if err := e.St.SetFiringEffect(ctx, "fir_02", parrain.EffectEmail, store.EffectDone, ""); err != nil {
			t.Fatal(err)
		}
		if err := e.St.SetFiringEffect(ctx, "fir_none", parrain.EffectEmail, store.EffectDone, ""); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("setting an effect of a missing firing: %v", err)
		}
		f, err = e.St.FiringByID(ctx, "fir_02")
		if err != nil {
			t.Fatal(err)
		}
		at := t0.Add(time.Hour)
		if len(f.Effects) != 2 || f.Effects[0].Status != store.EffectDone || f.Effects[0].At == nil || !f.Effects[0].At.Equal(at) ||
			f.Effects[1].Status != store.EffectFailed || len(f.Effects[1].Detail) > 500 || len(f.Effects[1].Detail) == 0 {
			t.Errorf("effects %+v", f.Effects)
		}
		if f, err := e.St.FiringByID(ctx, "fir_01"); err != nil || f.Effects[0].Status != store.EffectPending || f.Effects[1].Status != store.EffectPending {
			t.Errorf("another firing changed: %+v %v", f, err)
		}
	})
}
