package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// Terms versions: found by digest and by version, the last version, a
// version recorded twice kept as first written; acceptances kept at their
// first time, listed newest version first.
func TestTermsRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		other := e.Program(nil)
		adv := e.Advocate(prog.ID, "u1", "")
		// The program's own creation may have recorded terms: start after.
		var base int
		e.inTx(func(tx *store.Tx) error {
			var err error
			base, err = tx.LastTermsVersion(ctx, prog.ID)
			return err
		})
		v1 := store.Terms{ProgramID: prog.ID, Version: base + 1, ProgramVersion: 1, SHA256: "sha-one", Markdown: "# One", CreatedAt: t0}
		v2 := store.Terms{ProgramID: prog.ID, Version: base + 2, ProgramVersion: 3, SHA256: "sha-two", Markdown: "# Two", CreatedAt: t0.Add(time.Hour)}
		e.inTx(func(tx *store.Tx) error {
			for _, v := range []store.Terms{v1, v2, {ProgramID: prog.ID, Version: base + 1, SHA256: "sha-late", Markdown: "late", CreatedAt: t0}} {
				if err := tx.InsertTerms(ctx, v); err != nil {
					return err
				}
			}
			last, err := tx.LastTermsVersion(ctx, prog.ID)
			if err != nil || last != base+2 {
				t.Errorf("last version %d %v, want %d", last, err, base+2)
			}
			for _, c := range []struct {
				sha   string
				found bool
				want  int
			}{{"sha-one", true, base + 1}, {"sha-two", true, base + 2}, {"sha-late", false, 0}, {"nope", false, 0}} {
				got, found, err := tx.TermsByDigest(ctx, prog.ID, c.sha)
				if err != nil || found != c.found || got.Version != c.want {
					t.Errorf("by digest %s: %+v %v %v", c.sha, got, found, err)
				}
			}
			if _, found, err := tx.TermsByDigest(ctx, other.ID, "sha-one"); err != nil || found {
				t.Errorf("another program's digest: %v %v", found, err)
			}
			got, found, err := tx.TermsAt(ctx, prog.ID, base+2)
			if err != nil || !found || got != v2 {
				t.Errorf("at %d in the transaction: %+v %v %v", base+2, got, found, err)
			}
			return nil
		})
		got, found, err := e.St.TermsAt(ctx, prog.ID, base+1)
		if err != nil || !found || got != v1 {
			t.Fatalf("at %d: %+v %v %v, want %+v (the first write kept)", base+1, got, found, err, v1)
		}
		if _, found, err := e.St.TermsAt(ctx, prog.ID, base+3); err != nil || found {
			t.Fatalf("a version not recorded: %v %v", found, err)
		}

		var firsts []time.Time
		e.inTx(func(tx *store.Tx) error {
			for _, c := range []struct {
				version int
				at      time.Time
			}{{base + 1, t0}, {base + 1, t0.Add(time.Hour)}, {base + 2, t0.Add(2 * time.Hour)}} {
				first, err := tx.AcceptTerms(ctx, prog.ID, adv.ID, c.version, c.at)
				if err != nil {
					return err
				}
				firsts = append(firsts, first)
			}
			return nil
		})
		if !firsts[0].Equal(t0) || !firsts[1].Equal(t0) || !firsts[2].Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("first acceptances %v", firsts)
		}
		as, err := e.St.TermsAcceptancesOf(ctx, adv.ID)
		if err != nil || len(as) != 2 || as[0].TermsVersion != base+2 || as[1].TermsVersion != base+1 || !as[1].AcceptedAt.Equal(t0) {
			t.Fatalf("acceptances %+v %v", as, err)
		}
		if as, err := e.St.TermsAcceptancesOf(ctx, "par_nobody"); err != nil || as == nil || len(as) != 0 {
			t.Fatalf("none: %#v %v", as, err)
		}
	})
}

// A program without stored payout settings has none to state in its
// terms.
func TestConfiguredPayoutSettingsAbsent(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		e.inTx(func(tx *store.Tx) error {
			ps, found, err := tx.ConfiguredPayoutSettings(ctx, prog.ID)
			if err != nil || found || ps.ProgramID != "" {
				t.Errorf("settings of a fresh program: %+v %v %v", ps, found, err)
			}
			return nil
		})
	})
}
