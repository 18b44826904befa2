package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// A program's key (its name in programs-as-code): set, found, taken by
// another program or not, cleared; the status set and read back locked.
func TestProgramKeyAndStatusRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		e.inTx(func(tx *store.Tx) error { return tx.SetProgramKey(ctx, a.ID, "spring") })
		e.inTx(func(tx *store.Tx) error {
			for _, c := range []struct {
				key, except string
				want        bool
			}{{"spring", b.ID, true}, {"spring", a.ID, false}, {"summer", b.ID, false}} {
				taken, err := tx.ProgramKeyTaken(ctx, c.key, c.except)
				if err != nil || taken != c.want {
					t.Errorf("%q taken except %s: %v %v, want %v", c.key, c.except, taken, err, c.want)
				}
			}
			for key, want := range map[string]string{"spring": a.ID, "summer": ""} {
				if id, err := tx.ProgramIDByKey(ctx, key); err != nil || id != want {
					t.Errorf("by key %q: %q %v, want %q", key, id, err, want)
				}
			}
			return nil
		})
		// Cleared, the key is free for another program.
		e.inTx(func(tx *store.Tx) error {
			if err := tx.SetProgramKey(ctx, a.ID, ""); err != nil {
				return err
			}
			return tx.SetProgramKey(ctx, b.ID, "spring")
		})
		e.inTx(func(tx *store.Tx) error {
			if id, err := tx.ProgramIDByKey(ctx, "spring"); err != nil || id != b.ID {
				t.Errorf("after the move: %q %v", id, err)
			}
			return nil
		})

		at := t0.Add(time.Hour)
		e.inTx(func(tx *store.Tx) error { return tx.SetProgramStatus(ctx, a.ID, parrain.ProgramPaused, at) })
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SetProgramStatus(ctx, "prg_nope", parrain.ProgramPaused, at) }); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("status of an unknown program: %v", err)
		}
		e.inTx(func(tx *store.Tx) error {
			p, err := tx.ProgramForUpdate(ctx, a.ID)
			if err != nil || p.Status != parrain.ProgramPaused || p.Name != a.Name {
				t.Errorf("locked read: %+v %v", p, err)
			}
			if _, err := tx.ProgramForUpdate(ctx, "prg_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("unknown program locked: %v", err)
			}
			return nil
		})
		if p, err := e.St.Program(ctx, b.ID); err != nil || p.Status != parrain.ProgramActive {
			t.Errorf("the other program: %+v %v", p, err)
		}
	})
}
