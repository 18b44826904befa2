package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// lead inserts a lead of partner through the repository.
func (e *env) lead(prog, partnerID, company, domain string, at time.Time) parrain.Lead {
	e.T.Helper()
	var l parrain.Lead
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		l = parrain.Lead{ID: tx.NewLeadID(), ProgramID: prog, PartnerID: partnerID, CompanyName: company, Domain: domain,
			ContactEmail: "buyer@" + domain, Consent: true, Credit: parrain.CreditSourced, Stage: "new", StageKind: parrain.StageOpen,
			Currency: "EUR", ExpiresAt: at.Add(90 * 24 * time.Hour), RegisteredAt: at}
		return tx.InsertLead(ctx, l)
	})
	if err != nil {
		e.T.Fatalf("insert lead %s: %v", company, err)
	}
	return l
}

func leadCompanies(ls []parrain.Lead) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.CompanyName
	}
	return out
}

func TestLeadsFiltersPagesAndScope(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		ann, bob := e.partner(a.ID, "ann@example.com", "Ann"), e.partner(a.ID, "bob@example.com", "Bob")
		oth := e.partner(b.ID, "ann@example.com", "Other")
		var leads []parrain.Lead
		for i := range 6 {
			p := ann
			if i%2 == 1 {
				p = bob
			}
			leads = append(leads, e.lead(a.ID, p, fmt.Sprintf("C%d", i), fmt.Sprintf("c%d.example", i), t0))
		}
		other := e.lead(b.ID, oth, "Elsewhere", "else.example", t0)
		won := t0.Add(10 * 24 * time.Hour)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetLeadStage(ctx, leads[2].ID, parrain.DealStage{Name: "won", Kind: parrain.StageWon}, 500000, &won, "gold", won); err != nil {
				return err
			}
			return tx.SetLeadStage(ctx, leads[3].ID, parrain.DealStage{Name: "demo", Kind: parrain.StageOpen}, 1000, nil, "", won)
		})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			f    store.LeadFilter
			want []string
		}{
			{store.LeadFilter{}, []string{"C5", "C4", "C3", "C2", "C1", "C0"}},
			{store.LeadFilter{PartnerID: ann}, []string{"C4", "C2", "C0"}},
			{store.LeadFilter{PartnerID: bob, Stage: "demo"}, []string{"C3"}},
			{store.LeadFilter{PartnerID: bob, Stage: "won"}, nil},
			{store.LeadFilter{Stage: "new"}, []string{"C5", "C4", "C1", "C0"}},
			{store.LeadFilter{PartnerID: oth}, nil},
		}
		for _, c := range cases {
			for _, limit := range []int{1, 4, 50} {
				got := walk(t, limit, 7, func(pg store.Page) ([]parrain.Lead, string, error) {
					return e.St.Leads(ctx, a.ID, c.f, pg)
				}, func(l parrain.Lead) string { return l.CompanyName })
				if !slices.Equal(got, c.want) {
					t.Errorf("%+v limit %d: %v, want %v", c.f, limit, got, c.want)
				}
			}
		}
		l, err := e.St.Lead(ctx, a.ID, leads[2].ID)
		if err != nil || l.Stage != "won" || l.StageKind != parrain.StageWon || l.Value != 500000 || l.ClosedAt == nil || !l.ClosedAt.Equal(won) ||
			l.DaysToClose == nil || *l.DaysToClose != 10 || l.PartnerName != "Ann" || l.ReferralID != "" || !l.UpdatedAt.Equal(won) {
			t.Errorf("won lead %+v %v", l, err)
		}
		if l, err := e.St.Lead(ctx, a.ID, leads[3].ID); err != nil || l.ClosedAt != nil || l.DaysToClose != nil {
			t.Errorf("open lead %+v %v", l, err)
		}
		for _, c := range []struct{ prog, id string }{{b.ID, leads[0].ID}, {a.ID, other.ID}, {a.ID, "lead_missing"}} {
			if _, err := e.St.Lead(ctx, c.prog, c.id); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("lead %s of %s: %v", c.id, c.prog, err)
			}
		}
		if ls, _, err := e.St.Leads(ctx, b.ID, store.LeadFilter{}, store.Page{}); err != nil || !slices.Equal(leadCompanies(ls), []string{"Elsewhere"}) {
			t.Errorf("program b: %v %v", leadCompanies(ls), err)
		}
		deals, err := e.St.WonDeals(ctx, ann)
		if err != nil || len(deals) != 1 || deals[0].Value != 500000 {
			t.Errorf("won deals %+v %v", deals, err)
		}
		if deals, err := e.St.WonDeals(ctx, bob); err != nil || len(deals) != 0 {
			t.Errorf("bob's won deals %+v %v", deals, err)
		}
	})
}

func TestLeadStageHistory(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		p := e.partner(a.ID, "ann@example.com", "Ann")
		l := e.lead(a.ID, p, "Acme", "acme.example", t0)
		moves := []parrain.StageChange{
			{From: "", To: "new", Source: "partner", Actor: "ann@example.com", CreatedAt: t0},
			{From: "new", To: "demo", Value: 1000, Source: "crm", EventID: "evt_1", CreatedAt: t0.Add(time.Hour)},
			{From: "demo", To: "won", Value: 5000, Source: "console", Actor: "usr_1", CreatedAt: t0.Add(time.Hour)},
		}
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			for _, m := range moves {
				if err := tx.RecordStageChange(ctx, a.ID, l.ID, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.St.LeadStages(ctx, a.ID, l.ID)
		if err != nil || len(got) != 3 {
			t.Fatalf("stages %+v %v", got, err)
		}
		for i, m := range moves {
			g := got[i]
			if g.From != m.From || g.To != m.To || g.Value != m.Value || g.Source != m.Source || g.Actor != m.Actor || g.EventID != m.EventID ||
				!g.CreatedAt.Equal(m.CreatedAt) || g.ID == "" {
				t.Errorf("stage %d: %+v, want %+v", i, g, m)
			}
		}
		for _, c := range []struct{ prog, lead string }{{b.ID, l.ID}, {a.ID, "lead_missing"}} {
			if got, err := e.St.LeadStages(ctx, c.prog, c.lead); err != nil || got == nil || len(got) != 0 {
				t.Errorf("stages of %s in %s: %v %v", c.lead, c.prog, got, err)
			}
		}
	})
}

func TestAccountClaims(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		ann, bob := e.partner(a.ID, "ann@example.com", "Ann"), e.partner(a.ID, "bob@example.com", "Bob")
		la := e.lead(a.ID, ann, "Acme", "acme.example", t0)
		lb := e.lead(a.ID, bob, "Acme", "acme.example", t0)
		key := "domain:acme.example"
		until := t0.Add(24 * time.Hour)
		claim := func(fn func(tx *store.Tx) (bool, error)) bool {
			t.Helper()
			var ok bool
			if err := e.St.InTx(ctx, func(tx *store.Tx) error { var err error; ok, err = fn(tx); return err }); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		steps := []struct {
			name string
			fn   func(tx *store.Tx) (bool, error)
			want bool
		}{
			{"ann claims", func(tx *store.Tx) (bool, error) { return tx.ClaimAccount(ctx, a.ID, key, la.ID, ann, until, t0) }, true},
			{"bob cannot while it runs", func(tx *store.Tx) (bool, error) {
				return tx.ClaimAccount(ctx, a.ID, key, lb.ID, bob, until.Add(time.Hour), until.Add(-time.Millisecond))
			}, false},
			{"bob cannot reclaim ann's", func(tx *store.Tx) (bool, error) {
				return tx.ReclaimAccount(ctx, a.ID, key, lb.ID, bob, until.Add(time.Hour), t0)
			}, false},
			{"ann extends her own", func(tx *store.Tx) (bool, error) {
				return tx.ReclaimAccount(ctx, a.ID, key, la.ID, ann, until.Add(time.Hour), t0)
			}, true},
			{"the same key in another program is free", func(tx *store.Tx) (bool, error) {
				return tx.ClaimAccount(ctx, b.ID, key, lb.ID, bob, until, t0)
			}, true},
			{"bob at the instant it ends (half-open)", func(tx *store.Tx) (bool, error) {
				return tx.ClaimAccount(ctx, a.ID, key, lb.ID, bob, until.Add(48*time.Hour), until.Add(time.Hour))
			}, true},
			{"ann cannot take it back", func(tx *store.Tx) (bool, error) {
				return tx.ClaimAccount(ctx, a.ID, key, la.ID, ann, until.Add(72*time.Hour), until.Add(2*time.Hour))
			}, false},
		}
		for _, s := range steps {
			if got := claim(s.fn); got != s.want {
				t.Errorf("%s: %v, want %v", s.name, got, s.want)
			}
		}
		claims, exs, err := e.St.AccountState(ctx, a.ID, "https://www.ACME.example/about", "")
		if err != nil || len(claims) != 1 || claims[0].PartnerID != bob || claims[0].LeadID != lb.ID || claims[0].PartnerName != "Bob" ||
			claims[0].CompanyName != "Acme" || !claims[0].ExpiresAt.Equal(until.Add(48*time.Hour)) || len(exs) != 0 {
			t.Errorf("account state %+v %+v %v", claims, exs, err)
		}
		// Releasing ends bob's claim now; releasing again changes nothing.
		release := until.Add(3 * time.Hour)
		for range 2 {
			if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.ReleaseClaims(ctx, lb.ID, release) }); err != nil {
				t.Fatal(err)
			}
		}
		claims, _, err = e.St.AccountState(ctx, a.ID, "acme.example", "")
		if err != nil || len(claims) != 1 || !claims[0].ExpiresAt.Equal(release) || claims[0].Active(release) {
			t.Errorf("released %+v %v", claims, err)
		}
		// A released claim is free for another lead at that instant.
		if !claim(func(tx *store.Tx) (bool, error) {
			return tx.ClaimAccount(ctx, a.ID, key, la.ID, ann, release.Add(time.Hour), release)
		}) {
			t.Error("released claim not free")
		}
		// Program b's claim was not touched by any of it.
		claims, _, err = e.St.AccountState(ctx, b.ID, "acme.example", "")
		if err != nil || len(claims) != 1 || claims[0].LeadID != lb.ID || !claims[0].ExpiresAt.Equal(until) {
			t.Errorf("program b's claim %+v %v", claims, err)
		}
		if claims, _, err := e.St.AccountState(ctx, a.ID, "nobody.example", "Nobody Inc"); err != nil || len(claims) != 0 {
			t.Errorf("unclaimed account %+v %v", claims, err)
		}
	})
}

func TestClaimsExpiryMoves(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		ann := e.partner(prog.ID, "ann@example.com", "Ann")
		l := e.lead(prog.ID, ann, "Acme & Sons", "acme.example", t0)
		keys := parrain.AccountKeys("acme.example", "Acme & Sons")
		later := t0.Add(200 * 24 * time.Hour)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			for _, k := range keys {
				if ok, err := tx.ClaimAccount(ctx, prog.ID, k, l.ID, ann, t0.Add(time.Hour), t0); err != nil || !ok {
					return fmt.Errorf("claim %s: %v %v", k, ok, err)
				}
			}
			if err := tx.SetClaimsExpiry(ctx, l.ID, later); err != nil {
				return err
			}
			if err := tx.SetLeadExpiry(ctx, l.ID, later, t0.Add(time.Minute)); err != nil {
				return err
			}
			got, err := tx.Claims(ctx, prog.ID, append(keys, "domain:missing.example"))
			if err != nil || len(got) != 2 {
				return fmt.Errorf("claims in tx: %+v %v", got, err)
			}
			for _, c := range got {
				if !c.ExpiresAt.Equal(later) || c.CompanyName != "Acme & Sons" {
					return fmt.Errorf("claim %+v", c)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.St.Lead(ctx, prog.ID, l.ID)
		if err != nil || !got.ExpiresAt.Equal(later) || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("lead expiry %+v %v", got, err)
		}
	})
}
