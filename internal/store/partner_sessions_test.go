package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The portal's magic links: counted per partner since a time, consumed
// once, before they expire, and only by their own hash.
func TestPartnerMagicLinks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		ann, bob := e.partner(prog.ID, "ann@example.com", "Ann"), e.partner(prog.ID, "bob@example.com", "Bob")
		for i, c := range []struct {
			hash, partner string
			at            time.Time
		}{{"l1", ann, t0}, {"l2", ann, t0.Add(30 * time.Minute)}, {"l3", bob, t0.Add(30 * time.Minute)}} {
			if err := e.St.InsertPartnerMagicLink(ctx, c.hash, c.partner, c.at.Add(15*time.Minute), c.at); err != nil {
				t.Fatalf("link %d: %v", i, err)
			}
		}
		for _, c := range []struct {
			partner string
			since   time.Time
			want    int
		}{{ann, t0, 2}, {ann, t0.Add(time.Minute), 1}, {ann, t0.Add(time.Hour), 0}, {bob, t0, 1}, {"ptn_nope", t0, 0}} {
			n, err := e.St.PartnerMagicLinksSince(ctx, c.partner, c.since)
			if err != nil || n != c.want {
				t.Errorf("links of %s since %v: %d %v, want %d", c.partner, c.since, n, err, c.want)
			}
		}
		consume := func(hash string, at time.Time) (string, error) { return e.St.ConsumePartnerMagicLink(ctx, hash, at) }
		if id, err := consume("l1", t0.Add(time.Minute)); err != nil || id != ann {
			t.Fatalf("consume: %q %v", id, err)
		}
		for _, c := range []struct {
			name, hash string
			at         time.Time
		}{
			{"used", "l1", t0.Add(2 * time.Minute)},
			{"expired", "l2", t0.Add(45 * time.Minute)},
			{"at its expiry", "l3", t0.Add(45 * time.Minute)},
			{"unknown", "l9", t0},
		} {
			if id, err := consume(c.hash, c.at); parrain.ErrorCode(err) != parrain.CodeUnauthenticated || id != "" {
				t.Errorf("%s: %q %v", c.name, id, err)
			}
		}
		if id, err := consume("l2", t0.Add(44*time.Minute)); err != nil || id != ann {
			t.Fatalf("consume before expiry: %q %v", id, err)
		}
	})
}

// Portal sessions: found by hash until they expire, ended one by one or
// all but one.
func TestPartnerSessions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		ann, bob := e.partner(prog.ID, "ann@example.com", "Ann"), e.partner(prog.ID, "bob@example.com", "Bob")
		for _, c := range []struct{ hash, partner string }{{"s1", ann}, {"s2", ann}, {"s3", ann}, {"s4", bob}} {
			if err := e.St.InsertPartnerSession(ctx, c.hash, c.partner, "csrf-"+c.hash, t0.Add(time.Hour), t0); err != nil {
				t.Fatal(err)
			}
		}
		if id, csrf, err := e.St.PartnerSession(ctx, "s1", t0.Add(59*time.Minute)); err != nil || id != ann || csrf != "csrf-s1" {
			t.Fatalf("session: %q %q %v", id, csrf, err)
		}
		for _, c := range []struct {
			hash string
			at   time.Time
		}{{"s1", t0.Add(time.Hour)}, {"s9", t0}} {
			if id, _, err := e.St.PartnerSession(ctx, c.hash, c.at); parrain.ErrorCode(err) != parrain.CodeUnauthenticated || id != "" {
				t.Errorf("%s at %v: %q %v", c.hash, c.at, id, err)
			}
		}
		var ended int64
		e.inTx(func(tx *store.Tx) error {
			var err error
			ended, err = tx.DeletePartnerSessions(ctx, ann, "s2")
			return err
		})
		if ended != 2 {
			t.Fatalf("ended %d sessions, want 2", ended)
		}
		alive := func(hash string) bool {
			_, _, err := e.St.PartnerSession(ctx, hash, t0)
			if err != nil && parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
				t.Fatal(err)
			}
			return err == nil
		}
		for hash, want := range map[string]bool{"s1": false, "s2": true, "s3": false, "s4": true} {
			if alive(hash) != want {
				t.Errorf("%s alive %v, want %v", hash, !want, want)
			}
		}
		if err := e.St.DeletePartnerSession(ctx, "s2"); err != nil {
			t.Fatal(err)
		}
		if alive("s2") || !alive("s4") {
			t.Error("signing out ended the wrong session")
		}
	})
}

// A partner's password hash, read locked in a transaction or on the read
// pool; an unknown partner answers not found.
func TestPartnerPasswordHashRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		ann := e.partner(prog.ID, "ann@example.com", "Ann")
		if p, h, err := e.St.PartnerPasswordHash(ctx, ann); err != nil || p != prog.ID || h != "" {
			t.Fatalf("no password yet: %q %q %v", p, h, err)
		}
		if err := setPartnerHash(e, ann, "$argon2id$x"); err != nil {
			t.Fatal(err)
		}
		e.inTx(func(tx *store.Tx) error {
			p, h, err := tx.PartnerPasswordHash(ctx, ann)
			if err != nil || p != prog.ID || h != "$argon2id$x" {
				t.Errorf("locked read: %q %q %v", p, h, err)
			}
			if _, _, err := tx.PartnerPasswordHash(ctx, "ptn_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("unknown partner in the transaction: %v", err)
			}
			return nil
		})
		if _, _, err := e.St.PartnerPasswordHash(ctx, "ptn_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown partner: %v", err)
		}
		if err := setPartnerHash(e, "ptn_nope", "h"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("setting an unknown partner's password: %v", err)
		}
	})
}
