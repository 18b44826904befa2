package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// savePartnerProgram stores a program's partner settings and tiers at now.
func (e *env) savePartnerProgram(set parrain.PartnerSettings, tiers []parrain.Tier, now time.Time) error {
	return e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SavePartnerProgram(ctx, set, tiers, now) })
}

// Partner programs: settings and tiers saved as a whole, replaced in
// place (created_at kept), read by program and by slug (any case), listed
// in creation order; a slug belongs to one program.
func TestPartnerProgramRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a := e.Program(func(p *parrain.Program) { p.Name = "Alpha"; p.Currency = "EUR" })
		b := e.Program(func(p *parrain.Program) { p.Name = "Beta"; p.Currency = "USD" })
		if l, err := e.St.PartnerPrograms(ctx); err != nil || len(l) != 0 {
			t.Fatalf("before any: %+v %v", l, err)
		}
		if _, err := e.St.PartnerProgram(ctx, a.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("missing partner program: %v", err)
		}
		tiers := []parrain.Tier{
			{Key: "silver", Name: "Silver", Rank: 0},
			{Key: "gold", Name: "Gold", Rank: 1, Description: "closes deals", Criteria: parrain.TierCriteria{MinWonDeals: 3, MinRevenue: 500000}},
		}
		set := parrain.PartnerSettings{ProgramID: a.ID, Slug: "alpha", WindowDays: 90, DirectEngagedMonths: 6, ApplicationsOpen: true,
			TermsVersion: "v1", TermsText: "Be nice.", Qualification: parrain.Qualification{MinCompanySize: 50, Industries: []string{"saas"}},
			Branding: parrain.Branding{CompanyName: "Alpha Inc", PrimaryColor: "#112233"},
			// Ignored: the row's own times are used.
			CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0.Add(-time.Hour)}
		if err := e.savePartnerProgram(set, tiers, t0); err != nil {
			t.Fatal(err)
		}
		if err := e.savePartnerProgram(parrain.PartnerSettings{ProgramID: b.ID, Slug: "beta", WindowDays: 30}, []parrain.Tier{{Key: "base", Name: "Base"}}, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}

		pp, err := e.St.PartnerProgram(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pp.ProgramID != a.ID || pp.Slug != "alpha" || pp.WindowDays != 90 || pp.DirectEngagedMonths != 6 || !pp.ApplicationsOpen ||
			pp.TermsVersion != "v1" || pp.TermsText != "Be nice." || pp.Qualification.MinCompanySize != 50 ||
			!slices.Equal(pp.Qualification.Industries, []string{"saas"}) || pp.Branding.CompanyName != "Alpha Inc" || pp.Branding.PrimaryColor != "#112233" {
			t.Errorf("settings read back as %+v", pp.PartnerSettings)
		}
		if pp.Name != "Alpha" || pp.Currency != "EUR" || !pp.CreatedAt.Equal(t0) || !pp.UpdatedAt.Equal(t0) {
			t.Errorf("program %q %q, times %v %v", pp.Name, pp.Currency, pp.CreatedAt, pp.UpdatedAt)
		}
		if !slices.EqualFunc(pp.Tiers, tiers, func(x, y parrain.Tier) bool { return x == y }) {
			t.Errorf("tiers %+v", pp.Tiers)
		}
		for _, c := range []struct {
			key  string
			ok   bool
			rank int
		}{{"silver", true, 0}, {"gold", true, 1}, {"platinum", false, -1}, {"", false, -1}} {
			tier, ok := pp.Tier(c.key)
			if ok != c.ok || (ok && tier.Key != c.key) || pp.TierRank(c.key) != c.rank {
				t.Errorf("tier %q: %+v %v rank %d", c.key, tier, ok, pp.TierRank(c.key))
			}
		}

		for _, c := range []struct {
			slug, want string
		}{{"alpha", a.ID}, {"ALPHA", a.ID}, {"Beta", b.ID}, {"gamma", ""}} {
			pp, err := e.St.PartnerProgramBySlug(ctx, c.slug)
			if c.want == "" {
				if parrain.ErrorCode(err) != parrain.CodeNotFound {
					t.Errorf("slug %q: %+v %v", c.slug, pp, err)
				}
				continue
			}
			if err != nil || pp.ProgramID != c.want {
				t.Errorf("slug %q: %s %v", c.slug, pp.ProgramID, err)
			}
		}

		for _, c := range []struct {
			slug, prog, want string
		}{{"alpha", b.ID, a.ID}, {"alpha", a.ID, ""}, {"beta", a.ID, b.ID}, {"gamma", a.ID, ""}} {
			e.inTx(func(tx *store.Tx) error {
				got, err := tx.PartnerSlugOwner(ctx, c.slug, c.prog)
				if got != c.want {
					t.Errorf("owner of %q besides %s: %q, want %q", c.slug, c.prog, got, c.want)
				}
				return err
			})
		}
		// Two programs cannot share a slug.
		if err := e.savePartnerProgram(parrain.PartnerSettings{ProgramID: b.ID, Slug: "alpha"}, nil, t0.Add(2*time.Minute)); err == nil {
			t.Fatal("a second program took the slug alpha")
		}

		// Saving again replaces settings and tiers but keeps created_at.
		set.Slug, set.WindowDays, set.ApplicationsOpen = "alpha-2", 120, false
		if err := e.savePartnerProgram(set, tiers[:1], t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		e.inTx(func(tx *store.Tx) error {
			pp, err := tx.PartnerProgram(ctx, a.ID)
			if pp.Slug != "alpha-2" || pp.WindowDays != 120 || pp.ApplicationsOpen || len(pp.Tiers) != 1 ||
				!pp.CreatedAt.Equal(t0) || !pp.UpdatedAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("after replacing: %+v", pp)
			}
			return err
		})
		if _, err := e.St.PartnerProgramBySlug(ctx, "alpha"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("the old slug still answers: %v", err)
		}

		all, err := e.St.PartnerPrograms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ProgramID != a.ID || all[1].ProgramID != b.ID || all[1].Currency != "USD" || all[1].Tiers[0].Key != "base" {
			t.Errorf("all: %+v", all)
		}
	})
}
