package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// extensionIDs lists extension request ids in order.
func extensionIDs(xs []store.Extension) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, x.ID)
	}
	return out
}

// Extension requests: inserted pending, listed newest first per program
// with partner and status filters, counted while pending, locked only
// within their program, decided once with who, why and when.
func TestExtensionRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann, bob := e.partner(prog.ID, "ann@example.com", "Ann"), e.partner(prog.ID, "bob@example.com", "Bob")
		oth := e.partner(other.ID, "oth@example.com", "Oth")
		acme := e.lead(prog.ID, ann, "Acme", "acme.example", t0)
		globex := e.lead(prog.ID, bob, "Globex", "globex.example", t0)
		far := e.lead(other.ID, oth, "Far", "far.example", t0)

		reqs := []store.Extension{
			{LeadID: acme.ID, PartnerID: ann, Days: 30, Reason: "long procurement", CreatedAt: t0},
			{LeadID: acme.ID, PartnerID: ann, Days: 15, Reason: "legal review", CreatedAt: t0.Add(time.Hour)},
			{LeadID: globex.ID, PartnerID: bob, Days: 60, Reason: "budget next year", CreatedAt: t0.Add(2 * time.Hour)},
			{LeadID: far.ID, PartnerID: oth, Days: 10, Reason: "elsewhere", CreatedAt: t0},
		}
		e.inTx(func(tx *store.Tx) error {
			for i := range reqs {
				p := prog.ID
				if reqs[i].LeadID == far.ID {
					p = other.ID
				}
				if err := tx.InsertExtension(ctx, p, &reqs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		for i, r := range reqs {
			if len(r.ID) < 5 || r.ID[:5] != "pext_" {
				t.Fatalf("request %d id %q", i, r.ID)
			}
		}
		e.inTx(func(tx *store.Tx) error {
			x, err := tx.Extension(ctx, reqs[0].ID)
			if x.LeadID != acme.ID || x.PartnerID != ann || x.Company != "Acme" || x.Days != 30 || x.Reason != "long procurement" ||
				x.Status != "pending" || x.DecidedBy != "" || x.Decision != "" || x.DecidedAt != nil || !x.CreatedAt.Equal(t0) {
				t.Errorf("read back as %+v", x)
			}
			return err
		})

		e.inTx(func(tx *store.Tx) error {
			if _, err := tx.LockExtension(ctx, other.ID, reqs[0].ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("locking through another program: %v", err)
			}
			x, err := tx.LockExtension(ctx, prog.ID, reqs[0].ID)
			if err != nil {
				return err
			}
			if x.LeadID != acme.ID || x.PartnerID != ann || x.Status != "pending" || x.Days != 30 {
				t.Errorf("locked %+v", x)
			}
			n, err := tx.PendingExtensions(ctx, acme.ID)
			if n != 2 {
				t.Errorf("pending for Acme: %d", n)
			}
			if err != nil {
				return err
			}
			return tx.DecideExtension(ctx, reqs[0].ID, "granted", "usr_1", "fine", t0.Add(3*time.Hour))
		})
		e.inTx(func(tx *store.Tx) error {
			n, err := tx.PendingExtensions(ctx, acme.ID)
			if n != 1 {
				t.Errorf("pending for Acme after a grant: %d", n)
			}
			if err != nil {
				return err
			}
			x, err := tx.Extension(ctx, reqs[0].ID)
			if x.Status != "granted" || x.DecidedBy != "usr_1" || x.Decision != "fine" || x.DecidedAt == nil || !x.DecidedAt.Equal(t0.Add(3*time.Hour)) {
				t.Errorf("decided as %+v", x)
			}
			return err
		})

		for _, c := range []struct {
			name, prog, partner, status string
			want                        []string
		}{
			{"all, newest first", prog.ID, "", "", []string{reqs[2].ID, reqs[1].ID, reqs[0].ID}},
			{"one partner", prog.ID, ann, "", []string{reqs[1].ID, reqs[0].ID}},
			{"pending", prog.ID, "", "pending", []string{reqs[2].ID, reqs[1].ID}},
			{"partner and status", prog.ID, ann, "granted", []string{reqs[0].ID}},
			{"refused: none", prog.ID, "", "refused", []string{}},
			{"another program", other.ID, "", "", []string{reqs[3].ID}},
			{"a partner of another program", prog.ID, oth, "", []string{}},
		} {
			xs, err := e.St.Extensions(ctx, c.prog, c.partner, c.status)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := extensionIDs(xs); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	})
}
