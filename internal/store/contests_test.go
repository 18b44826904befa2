package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Contests' rows: the document stored and read back whole, listed newest
// first per program, found per program, locked, finished; unknown ids
// answer not found.
func TestContestRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		mk := func(tx *store.Tx, programID, name string, start time.Time) parrain.Contest {
			c := parrain.Contest{ID: tx.NewContestID(), ProgramID: programID, Name: name, Description: "Win big", StartsAt: start,
				EndsAt: start.Add(7 * 24 * time.Hour), Metric: parrain.MetricSuccessfulReferrals, TieRule: parrain.TieFirstToReach, MinReferrals: 2, Public: true,
				Prizes: []parrain.Prize{{Rank: 1, Reward: parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 10000}}, {Rank: 2, Reward: parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountFixed, Amount: 5000}}}, CreatedAt: tx.Now()}
			if err := tx.InsertContest(ctx, c); err != nil {
				t.Fatal(err)
			}
			return c
		}
		var a, b, c parrain.Contest
		e.inTx(func(tx *store.Tx) error {
			a = mk(tx, prog.ID, "Spring", t0)
			e.Clock.Advance(time.Millisecond)
			b = mk(tx, prog.ID, "Summer", t0.Add(90*24*time.Hour))
			c = mk(tx, other.ID, "Elsewhere", t0)
			return nil
		})
		if a.ID == b.ID || len(a.ID) < 5 || a.ID[:4] != "cst_" {
			t.Fatalf("ids %q %q", a.ID, b.ID)
		}
		list, err := e.St.Contests(ctx, prog.ID)
		if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
			t.Fatalf("list %+v %v", list, err)
		}
		got, err := e.St.Contest(ctx, prog.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Spring" || got.Description != "Win big" || !got.StartsAt.Equal(a.StartsAt) || !got.EndsAt.Equal(a.EndsAt) ||
			got.Metric != a.Metric || got.TieRule != a.TieRule || got.MinReferrals != 2 || !got.Public || len(got.Prizes) != 2 ||
			got.Prizes[1].Reward.Amount != 5000 || got.Prizes[1].Reward.Kind != parrain.KindCredit || got.FinishedAt != nil || len(got.Winners) != 0 {
			t.Fatalf("read back %+v", got)
		}
		for _, c := range []struct{ prog, id string }{{other.ID, a.ID}, {prog.ID, "cst_nope"}} {
			if _, err := e.St.Contest(ctx, c.prog, c.id); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("contest %s in %s: %v", c.id, c.prog, err)
			}
		}
		if p, err := e.St.ContestProgram(ctx, c.ID); err != nil || p != other.ID {
			t.Errorf("program of %s: %q %v", c.ID, p, err)
		}
		if _, err := e.St.ContestProgram(ctx, "cst_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("program of an unknown contest: %v", err)
		}
		end := t0.Add(8 * 24 * time.Hour)
		e.inTx(func(tx *store.Tx) error {
			locked, err := tx.ContestForUpdate(ctx, a.ID)
			if err != nil || locked.ID != a.ID || locked.ProgramID != prog.ID {
				t.Errorf("for update %+v %v", locked, err)
			}
			if _, err := tx.ContestForUpdate(ctx, "cst_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("unknown for update: %v", err)
			}
			// Nothing succeeded: the standings are empty.
			if ss, err := tx.ContestSuccesses(ctx, locked); err != nil || len(ss) != 0 {
				t.Errorf("successes %+v %v", ss, err)
			}
			return tx.MarkContestFinished(ctx, a.ID, end)
		})
		if got, err := e.St.Contest(ctx, prog.ID, a.ID); err != nil || got.FinishedAt == nil || !got.FinishedAt.Equal(end) {
			t.Fatalf("finished %+v %v", got, err)
		}
		if got, err := e.St.Contest(ctx, prog.ID, b.ID); err != nil || got.FinishedAt != nil {
			t.Fatalf("the other contest finished too: %+v %v", got, err)
		}
		if list, err := e.St.Contests(ctx, "prg_none"); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("no contests: %#v %v", list, err)
		}
	})
}
