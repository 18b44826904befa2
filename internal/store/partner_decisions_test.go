package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// The conflict decisions log: appended with every field, read back newest
// first per program, filtered by partner and by account domain (any
// spelling of it), and paged by cursor.
func TestPartnerDecisionRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann, bob := e.partner(prog.ID, "ann@example.com", "Ann"), e.partner(prog.ID, "bob@example.com", "Bob")
		var ids []string // in insertion order
		e.inTx(func(tx *store.Tx) error {
			for i := range 6 {
				d := store.PartnerDecision{Kind: "registration", PartnerID: ann, LeadID: fmt.Sprintf("lead_%d", i), Domain: "acme.com", CompanyName: "Acme",
					Outcome: "accepted", Reason: "first", Explanation: fmt.Sprintf("decision %d", i), Actor: "system", CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
				if i%2 == 1 {
					d.PartnerID, d.Domain, d.CompanyName, d.Outcome, d.Reason, d.Actor = bob, "globex.co.uk", "Globex", "refused", "duplicate", "usr_1"
				}
				id, err := tx.RecordPartnerDecision(ctx, prog.ID, d)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			_, err := tx.RecordPartnerDecision(ctx, other.ID, store.PartnerDecision{Kind: "registration", PartnerID: ann, Domain: "acme.com", Outcome: "accepted", Explanation: "elsewhere", CreatedAt: t0})
			return err
		})
		desc := slices.Clone(ids)
		slices.Reverse(desc)

		all, next, err := e.St.PartnerDecisions(ctx, prog.ID, "", "", store.Page{})
		if err != nil || next != "" {
			t.Fatalf("all: %v next %q", err, next)
		}
		if len(all) != 6 {
			t.Fatalf("all: %+v", all)
		}
		d := all[0] // the last one, Bob's
		if d.ID != ids[5] || d.Kind != "registration" || d.PartnerID != bob || d.LeadID != "lead_5" || d.Domain != "globex.co.uk" || d.CompanyName != "Globex" ||
			d.Outcome != "refused" || d.Reason != "duplicate" || d.Explanation != "decision 5" || d.Actor != "usr_1" || !d.CreatedAt.Equal(t0.Add(5*time.Minute)) {
			t.Errorf("read back as %+v", d)
		}

		decisionIDs := func(ds []store.PartnerDecision) []string {
			out := []string{}
			for _, d := range ds {
				out = append(out, d.ID)
			}
			return out
		}
		for _, c := range []struct {
			name, prog, partner, domain string
			want                        []string
		}{
			{"everything", prog.ID, "", "", desc},
			{"Ann's", prog.ID, ann, "", []string{ids[4], ids[2], ids[0]}},
			{"a domain as a URL", prog.ID, "", "https://www.ACME.com/contact", []string{ids[4], ids[2], ids[0]}},
			{"a subdomain under a two-level suffix", prog.ID, "", "sales.globex.co.uk", []string{ids[5], ids[3], ids[1]}},
			{"partner and domain", prog.ID, bob, "acme.com", []string{}},
			{"another program", other.ID, "", "", nil},
		} {
			got, _, err := e.St.PartnerDecisions(ctx, c.prog, c.partner, c.domain, store.Page{})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if c.want == nil {
				if len(got) != 1 || got[0].Explanation != "elsewhere" {
					t.Errorf("%s: %+v", c.name, got)
				}
				continue
			}
			if g := decisionIDs(got); !slices.Equal(g, c.want) {
				t.Errorf("%s: %v, want %v", c.name, g, c.want)
			}
		}
		paged := walk(t, 4, 3, func(pg store.Page) ([]store.PartnerDecision, string, error) {
			return e.St.PartnerDecisions(ctx, prog.ID, "", "", pg)
		}, func(d store.PartnerDecision) string { return d.ID })
		if !slices.Equal(paged, desc) {
			t.Errorf("paged %v, want %v", paged, desc)
		}
		paged = walk(t, 2, 3, func(pg store.Page) ([]store.PartnerDecision, string, error) {
			return e.St.PartnerDecisions(ctx, prog.ID, ann, "", pg)
		}, func(d store.PartnerDecision) string { return d.ID })
		if !slices.Equal(paged, []string{ids[4], ids[2], ids[0]}) {
			t.Errorf("Ann's paged %v", paged)
		}
	})
}
