package referral_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// wantField checks that err is a parrain.Error of code on field.
func wantField(t *testing.T, name string, err error, code parrain.Code, field string) {
	t.Helper()
	var pe *parrain.Error
	if parrain.ErrorCode(err) != code || (field != "" && (!errors.As(err, &pe) || pe.Field != field)) {
		t.Errorf("%s: %v, want %s on %q", name, err, code, field)
	}
}

// auditCount counts a program's audit entries of an action.
func (e *env) auditCount(programID, action string) int {
	e.T.Helper()
	var n int
	if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE program_id = $1 AND action = $2`, programID, action).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

// Creating a code pool: every invalid pool is refused on its field, a
// name is taken once per program, and each creation is audited.
func TestCreateCouponPoolChecks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		for _, c := range []struct {
			name  string
			prog  string
			pool  store.CouponPool
			code  parrain.Code
			field string
		}{
			{"empty name", prog.ID, store.CouponPool{Name: "  "}, parrain.CodeInvalid, "name"},
			{"upper case", prog.ID, store.CouponPool{Name: "Amazon"}, parrain.CodeInvalid, "name"},
			{"a colon", prog.ID, store.CouponPool{Name: "a:b"}, parrain.CodeInvalid, "name"},
			{"too long", prog.ID, store.CouponPool{Name: strings.Repeat("a", 65)}, parrain.CodeInvalid, "name"},
			{"short generated codes", prog.ID, store.CouponPool{Name: "gen", GenerateLength: 5}, parrain.CodeInvalid, "generate_length"},
			{"long generated codes", prog.ID, store.CouponPool{Name: "gen", GenerateLength: 33}, parrain.CodeInvalid, "generate_length"},
			{"a prefix without generation", prog.ID, store.CouponPool{Name: "gen", GeneratePrefix: "X-"}, parrain.CodeInvalid, "generate_prefix"},
			{"a prefix with a space", prog.ID, store.CouponPool{Name: "gen", GeneratePrefix: "X ", GenerateLength: 8}, parrain.CodeInvalid, "generate_prefix"},
			{"negative low water", prog.ID, store.CouponPool{Name: "gen", LowWater: -1}, parrain.CodeInvalid, "low_water"},
			{"unknown program", "prg_none", store.CouponPool{Name: "gen"}, parrain.CodeNotFound, ""},
			{"imported", prog.ID, store.CouponPool{Name: "amazon", LowWater: 2}, "", ""},
			{"generated", prog.ID, store.CouponPool{Name: "gen", GeneratePrefix: "G-", GenerateLength: 8}, "", ""},
			{"taken", prog.ID, store.CouponPool{Name: " amazon "}, parrain.CodeConflict, "name"},
			{"same name elsewhere", other.ID, store.CouponPool{Name: "amazon"}, "", ""},
		} {
			p, _, err := e.Ref.CreateCouponPool(ctx, c.prog, c.pool, store.Idem{})
			if c.code == "" {
				if err != nil || p.ID == "" || p.Name != strings.TrimSpace(c.pool.Name) {
					t.Errorf("%s: %+v %v", c.name, p, err)
				}
				continue
			}
			wantField(t, c.name, err, c.code, c.field)
		}
		if n := e.auditCount(prog.ID, store.AuditCouponPoolCreated); n != 2 {
			t.Errorf("%d pool creations audited, want 2", n)
		}
	})
}

// Importing codes: the list is checked before anything is stored, a
// generated pool takes no codes, duplicates (in the file or already in the
// program) are skipped and reported, and the pool's stock is returned.
func TestImportCodesChecks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		for _, p := range []store.CouponPool{{Name: "amazon"}, {Name: "fnac"}, {Name: "gen", GenerateLength: 8}} {
			if _, _, err := e.Ref.CreateCouponPool(ctx, prog.ID, p, store.Idem{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name  string
			pool  string
			codes []string
			code  parrain.Code
			field string
		}{
			{"no codes", "amazon", nil, parrain.CodeInvalid, "codes"},
			{"too many", "amazon", make([]string, store.MaxImport+1), parrain.CodeInvalid, "codes"},
			{"a blank code", "amazon", []string{"A-1", "   "}, parrain.CodeInvalid, "codes[1]"},
			{"a long code", "amazon", []string{strings.Repeat("x", 101)}, parrain.CodeInvalid, "codes[0]"},
			{"a space inside", "amazon", []string{"A-1", "A-2", "A 3"}, parrain.CodeInvalid, "codes[2]"},
			{"a control character", "amazon", []string{"A\x7f"}, parrain.CodeInvalid, "codes[0]"},
			{"a generated pool", "gen", []string{"G-1"}, parrain.CodeInvalid, "pool"},
			{"an unknown pool", "none", []string{"N-1"}, parrain.CodeNotFound, ""},
		} {
			_, _, err := e.Ref.ImportCodes(ctx, prog.ID, c.pool, c.codes, store.Idem{})
			wantField(t, c.name, err, c.code, c.field)
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM coupon_codes`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d codes stored by refused imports", n)
		}

		for _, c := range []struct {
			pool      string
			codes     []string
			imported  int
			dups      []string
			available int64
		}{
			{"amazon", []string{" A-1 ", "A-2", "A-1"}, 2, []string{"A-1"}, 2},
			{"amazon", []string{"A-2", "A-3"}, 1, []string{"A-2"}, 3},
			// A code is unique in the program, across pools.
			{"fnac", []string{"A-3", "F-1"}, 1, []string{"A-3"}, 1},
		} {
			res, _, err := e.Ref.ImportCodes(ctx, prog.ID, c.pool, c.codes, store.Idem{})
			if err != nil {
				t.Fatalf("%s %v: %v", c.pool, c.codes, err)
			}
			if res.Imported != c.imported || !slices.Equal(res.Duplicates, c.dups) || res.Pool.Name != c.pool || res.Pool.Available != c.available {
				t.Errorf("%s %v: %+v", c.pool, c.codes, res)
			}
		}
		if n := e.auditCount(prog.ID, store.AuditCouponCodesImported); n != 3 {
			t.Errorf("%d imports audited, want 3", n)
		}
	})
}
