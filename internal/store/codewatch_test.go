package store_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// What the code caches hear: subscribers are told each code whose
// resolution a committed transaction changed (AllCodes for any), nothing
// for a rolled-back one or a change that leaves codes alone; the shared
// version moves with every change but a new participant.
func TestCodeChangeNotices(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		var mu sync.Mutex
		var heard []string
		e.St.OnCodeChange(func(code string) { mu.Lock(); heard = append(heard, code); mu.Unlock() })
		take := func() []string {
			mu.Lock()
			defer mu.Unlock()
			out := heard
			heard = nil
			return out
		}
		version := func() int64 {
			v, err := e.St.CodeCacheVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		upsert := func(in parrain.ParticipantInput) parrain.Participant {
			var p parrain.Participant
			e.inTx(func(tx *store.Tx) error {
				var err error
				p, _, err = tx.UpsertParticipant(ctx, prog.ID, in)
				return err
			})
			return p
		}
		code1, code2 := parrain.NormalizeCode("ANNCODE1"), parrain.NormalizeCode("ANNCODE2")
		errRollback := errors.New("roll back")
		for _, c := range []struct {
			name  string
			do    func()
			heard []string
			bumps bool
		}{
			{"a new participant", func() {
				upsert(parrain.ParticipantInput{ExternalID: "ann", Email: "ann@example.com", Code: "ANNCODE1"})
			}, []string{code1}, false},
			{"a rolled-back one", func() {
				err := e.St.InTx(ctx, func(tx *store.Tx) error {
					if _, _, err := tx.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "bob", Code: "BOBCODE1"}); err != nil {
						return err
					}
					return errRollback
				})
				if !errors.Is(err, errRollback) {
					t.Fatalf("rollback: %v", err)
				}
			}, nil, false},
			{"a new name only", func() { upsert(parrain.ParticipantInput{ExternalID: "ann", Name: "Ann"}) }, nil, false},
			{"a new code", func() { upsert(parrain.ParticipantInput{ExternalID: "ann", Code: "ANNCODE2"}) }, []string{code1, code2}, true},
			{"a status", func() {
				p := upsert(parrain.ParticipantInput{ExternalID: "ann"})
				e.inTx(func(tx *store.Tx) error { return tx.SetParticipantStatus(ctx, p.ID, parrain.ParticipantDisabled) })
			}, []string{store.AllCodes}, true},
		} {
			before := version()
			c.do()
			if got := take(); !slices.Equal(got, c.heard) {
				t.Errorf("%s: heard %q, want %q", c.name, got, c.heard)
			}
			if after := version(); (after != before) != c.bumps {
				t.Errorf("%s: version %d → %d", c.name, before, after)
			}
		}
		if _, err := e.St.Participant(ctx, prog.ID, "bob"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("the rolled-back participant: %v", err)
		}
	})
}
