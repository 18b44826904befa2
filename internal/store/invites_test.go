package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Invitations' rows: one per address and program (compared in canonical
// form), counted per advocate and program since a time and over the last
// day; the addresses skipped are the advocate's own and the program's
// participants'.
func TestInviteRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann := e.Advocate(prog.ID, "ann", "ann.lee@gmail.com")
		bob := e.Advocate(prog.ID, "bob", "bob@example.com")
		zed := e.Advocate(other.ID, "zed", "zed@example.com")
		insert := func(adv parrain.Participant, email string) (store.Invite, bool) {
			t.Helper()
			v := store.Invite{ProgramID: adv.ProgramID, ParticipantID: adv.ID, Email: email, Locale: "fr", Note: "Try it"}
			var ok bool
			e.inTx(func(tx *store.Tx) error {
				var err error
				ok, err = tx.InsertInvite(ctx, &v)
				return err
			})
			return v, ok
		}
		first, ok := insert(ann, "Carol@Example.com")
		if !ok || first.ID[:4] != "inv_" || !first.CreatedAt.Equal(t0) {
			t.Fatalf("first invite: %+v %v", first, ok)
		}
		e.Clock.Advance(time.Hour)
		for _, c := range []struct {
			adv   parrain.Participant
			email string
			want  bool
		}{
			{bob, "carol+x@example.com", false}, // the same person, by another advocate
			{ann, "dave@example.com", true},
			{zed, "carol@example.com", true}, // another program
		} {
			if _, ok := insert(c.adv, c.email); ok != c.want {
				t.Errorf("%s invites %s: %v, want %v", c.adv.ExternalID, c.email, ok, c.want)
			}
		}
		got, err := e.St.InviteByID(ctx, first.ID)
		if err != nil || got.Email != "Carol@Example.com" || got.Locale != "fr" || got.Note != "Try it" || got.ParticipantID != ann.ID || got.ProgramID != prog.ID {
			t.Fatalf("by id %+v %v", got, err)
		}
		if _, err := e.St.InviteByID(ctx, "inv_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("unknown invite: %v", err)
		}
		e.inTx(func(tx *store.Tx) error {
			for _, c := range []struct {
				since         time.Time
				mine, program int
			}{{t0.Add(-time.Minute), 2, 2}, {t0, 1, 1}, {t0.Add(time.Hour), 0, 0}} {
				mine, program, err := tx.InvitesSince(ctx, ann, c.since)
				if err != nil || mine != c.mine || program != c.program {
					t.Errorf("since %v: %d %d %v, want %d %d", c.since, mine, program, err, c.mine, c.program)
				}
			}
			for _, c := range []struct {
				email string
				want  bool
			}{
				{"annlee@gmail.com", true},     // the advocate, canonically
				{"BOB@example.com", true},      // a participant of the program
				{"zed@example.com", false},     // a participant of another program
				{"carol@example.com", false},   // invited, not a participant
				{"someone@example.com", false}, // nobody
			} {
				skipped, err := tx.InviteSkipped(ctx, ann, c.email)
				if err != nil || skipped != c.want {
					t.Errorf("skip %s: %v %v, want %v", c.email, skipped, err, c.want)
				}
			}
			return nil
		})
		for _, c := range []struct {
			advance time.Duration
			want    int
		}{{0, 2}, {23 * time.Hour, 1}, {time.Hour, 0}} {
			e.Clock.Advance(c.advance)
			if n, err := e.St.InvitesSentToday(ctx, ann.ID); err != nil || n != c.want {
				t.Errorf("at %v: %d today, %v, want %d", e.Clock.Now(), n, err, c.want)
			}
		}
	})
}
