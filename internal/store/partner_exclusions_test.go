package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// A program's excluded accounts: inserted with an id, listed per program
// in id order (inside and outside a transaction), deleted per program.
func TestExclusionRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		engaged := t0.Add(-24 * time.Hour)
		in := []parrain.Exclusion{
			{ProgramID: prog.ID, Kind: parrain.ExcludeCustomer, Domain: "acme.example", Reason: "customer since 2020", CreatedAt: t0},
			{ProgramID: prog.ID, Kind: parrain.ExcludeDirectEngaged, CompanyName: "Globex", EngagedAt: &engaged, CreatedAt: t0},
			{ProgramID: other.ID, Kind: parrain.ExcludeNamedAccount, Domain: "initech.example", CreatedAt: t0},
		}
		var out []parrain.Exclusion
		e.inTx(func(tx *store.Tx) error {
			for _, x := range in {
				got, err := tx.InsertExclusion(ctx, x)
				if err != nil {
					return err
				}
				out = append(out, got)
			}
			list, err := tx.Exclusions(ctx, prog.ID)
			if err != nil || len(list) != 2 {
				t.Errorf("in the transaction: %+v %v", list, err)
			}
			return nil
		})
		if out[0].ID == "" || out[0].ID == out[1].ID || out[0].ID[:4] != "pex_" {
			t.Fatalf("ids %q %q", out[0].ID, out[1].ID)
		}
		list, err := e.St.Exclusions(ctx, prog.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("list %+v %v", list, err)
		}
		byID := map[string]parrain.Exclusion{list[0].ID: list[0], list[1].ID: list[1]}
		if list[0].ID > list[1].ID {
			t.Errorf("not in id order: %s %s", list[0].ID, list[1].ID)
		}
		c, g := byID[out[0].ID], byID[out[1].ID]
		if c.Kind != parrain.ExcludeCustomer || c.Domain != "acme.example" || c.Reason != "customer since 2020" || c.EngagedAt != nil || !c.CreatedAt.Equal(t0) {
			t.Errorf("customer read back as %+v", c)
		}
		if g.Kind != parrain.ExcludeDirectEngaged || g.CompanyName != "Globex" || g.EngagedAt == nil || !g.EngagedAt.Equal(engaged) {
			t.Errorf("engaged read back as %+v", g)
		}
		// Another program's exclusion cannot be deleted through this one.
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteExclusion(ctx, prog.ID, out[2].ID) }); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("deleting another program's exclusion: %v", err)
		}
		e.inTx(func(tx *store.Tx) error { return tx.DeleteExclusion(ctx, prog.ID, out[0].ID) })
		if list, err := e.St.Exclusions(ctx, prog.ID); err != nil || len(list) != 1 || list[0].ID != out[1].ID {
			t.Fatalf("after delete: %+v %v", list, err)
		}
		if list, err := e.St.Exclusions(ctx, other.ID); err != nil || len(list) != 1 {
			t.Fatalf("the other program's: %+v %v", list, err)
		}
		if list, err := e.St.Exclusions(ctx, "prg_none"); err != nil || list == nil || len(list) != 0 {
			t.Fatalf("none: %#v %v", list, err)
		}
	})
}
