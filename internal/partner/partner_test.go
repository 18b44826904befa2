package partner_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// partnerEnv is a program with a partner program (three tiers, stage
// rewards) and approved partners.
type partnerEnv struct {
	*env
	prog     parrain.Program
	partners map[string]parrain.Partner
}

func partnerProgram(e *env, partners ...string) *partnerEnv {
	e.t.Helper()
	prog := e.program(func(p *parrain.Program) {
		p.Stages = []parrain.Stage{{Name: "demo_completed"}, {Name: "closed_won"}}
		p.Success = &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"}
		p.Rules = []parrain.RewardRule{
			{ID: "demo", Trigger: parrain.TriggerStage, Stage: "demo_completed",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 25000}},
			{ID: "close", Trigger: parrain.TriggerStage, Stage: "closed_won",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000,
					PartnerRates: map[string]int64{"referral": 1000, "referral_influenced": 400, "advisor": 1500, "advisor_influenced": 600}}},
		}
	})
	_, err := e.ps.PutProgram(ctx, prog.ID, parrain.PartnerSettings{Slug: "acme-partners", ApplicationsOpen: true,
		Qualification: parrain.Qualification{MinCompanySize: 50}},
		[]parrain.Tier{
			{Key: "referral", Name: "Referral Partner", Rank: 0},
			{Key: "advisor", Name: "Solution Advisor", Rank: 1, Criteria: parrain.TierCriteria{MinWonDeals: 1, TrainingRequired: true}},
			{Key: "reseller", Name: "Certified Reseller", Rank: 2, Criteria: parrain.TierCriteria{MinWonDeals: 3, MinRevenue: 5_000_000}},
		})
	if err != nil {
		e.t.Fatalf("put partner program: %v", err)
	}
	pe := &partnerEnv{env: e, prog: prog, partners: map[string]parrain.Partner{}}
	for _, name := range partners {
		p, _, err := e.ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: strings.ToLower(name) + "@partner.example", Name: name}, "application", store.Idem{})
		if err != nil {
			e.t.Fatalf("apply: %v", err)
		}
		if p, _, err = e.ps.Decide(ctx, prog.ID, p.ID, true, "welcome", store.Idem{}); err != nil {
			e.t.Fatalf("approve: %v", err)
		}
		pe.partners[name] = p
	}
	return pe
}

func (pe *partnerEnv) register(name, company, domain string) partner.LeadResult {
	pe.t.Helper()
	r, _, err := pe.ps.RegisterLead(ctx, pe.prog.ID, pe.partners[name].ID, parrain.LeadInput{CompanyName: company, CompanyDomain: domain,
		ContactEmail: "buyer@" + parrain.AccountDomain(domain), CompanySize: 200, Consent: true}, partner.RegisterOptions{Actor: "test"}, store.Idem{})
	if err != nil {
		pe.t.Fatalf("register %s: %v", company, err)
	}
	return r
}

func wantOutcome(t *testing.T, r partner.LeadResult, outcome, reason string) {
	t.Helper()
	if r.Decision.Outcome != outcome || r.Decision.Reason != reason {
		t.Fatalf("decision = %s/%s (%s), want %s/%s", r.Decision.Outcome, r.Decision.Reason, r.Decision.Explanation, outcome, reason)
	}
	if (r.Lead != nil) != (outcome == parrain.OutcomeAccepted) {
		t.Fatalf("lead = %v for outcome %s", r.Lead, outcome)
	}
}

func TestPartnerExclusivity(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		r := pe.register("Alpha", "Acme Inc", "acme.com")
		wantOutcome(t, r, parrain.OutcomeAccepted, "")
		if got, want := r.Lead.ExpiresAt, t0.Add(90*24*time.Hour); !got.Equal(want) {
			t.Fatalf("expires_at = %v, want %v (90-day default window)", got, want)
		}
		// The same account in other spellings, by another partner.
		for _, c := range []struct{ company, domain string }{
			{"ACME, Inc.", "https://www.ACME.com/contact"},
			{"Acme Corporation", "sales.acme.com"},
			{"Acmé", "acme.io"},         // company name match
			{"Roadrunner", "ACME.COM."}, // domain match
			{"Acme Ltd", "jane@acme.com"},
		} {
			r := pe.register("Beta", c.company, c.domain)
			wantOutcome(t, r, parrain.OutcomeRefused, parrain.ReasonOwnedByOther)
			if !strings.Contains(r.Decision.Explanation, "until 2027-01-30") {
				t.Errorf("%s: explanation %q lacks the window's end", c.company, r.Decision.Explanation)
			}
			if r.Decision.Holder == nil || r.Decision.Holder.PartnerID != pe.partners["Alpha"].ID {
				t.Errorf("%s: holder = %+v", c.company, r.Decision.Holder)
			}
		}
		wantOutcome(t, pe.register("Alpha", "acme", "acme.com"), parrain.OutcomeRefused, parrain.ReasonAlreadyYours)
		// Direct sales checks the account.
		d, err := e.ps.CheckAccount(ctx, pe.prog.ID, "www.acme.com", "", "sales:bob")
		if err != nil || d.Outcome != parrain.OutcomeRefused || !strings.Contains(d.Explanation, "registered by Alpha until 2027-01-30") {
			t.Fatalf("check = %+v, %v", d, err)
		}
		if d, _ := e.ps.CheckAccount(ctx, pe.prog.ID, "other.com", "Other", "sales:bob"); d.Outcome != parrain.OutcomeClear {
			t.Fatalf("check of a free account = %+v", d)
		}
		// The window runs out: the first partner is no longer protected.
		e.clock.Advance(90*24*time.Hour - time.Millisecond)
		wantOutcome(t, pe.register("Beta", "Acme", "acme.com"), parrain.OutcomeRefused, parrain.ReasonOwnedByOther)
		e.clock.Advance(time.Millisecond)
		r2 := pe.register("Beta", "Acme", "acme.com")
		wantOutcome(t, r2, parrain.OutcomeAccepted, "")
		// Every decision is logged and explainable.
		ds, _, err := e.st.PartnerDecisions(ctx, pe.prog.ID, "", "acme.com", store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		// Alpha's acceptance, 4 refusals on the domain (the acme.io one is
		// logged under acme.io), Alpha's duplicate, the check, Beta's
		// refusal at the last millisecond and acceptance after it.
		if len(ds) != 9 {
			var sb strings.Builder
			for _, d := range ds {
				fmt.Fprintf(&sb, "\n%s %s %s", d.Kind, d.Outcome, d.Explanation)
			}
			t.Fatalf("%d decisions for acme.com:%s", len(ds), sb.String())
		}
	})
}

func TestPartnerQualification(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		_, err := e.ps.PutProgram(ctx, pe.prog.ID, parrain.PartnerSettings{Slug: "acme-partners", WindowDays: 30,
			Qualification: parrain.Qualification{MinCompanySize: 100, Industries: []string{"Retail", "Logistics"}}},
			[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			in    parrain.LeadInput
			field string
		}{
			{parrain.LeadInput{CompanyName: "Small", CompanyDomain: "small.com", CompanySize: 20, Industry: "Retail", Consent: true}, "company_size"},
			{parrain.LeadInput{CompanyName: "Bank", CompanyDomain: "bank.com", CompanySize: 500, Industry: "Banking", Consent: true}, "industry"},
			{parrain.LeadInput{CompanyName: "Shop", CompanyDomain: "shop.com", CompanySize: 500, Industry: "retail"}, "consent"},
		} {
			r, _, err := e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners["Alpha"].ID, c.in, partner.RegisterOptions{}, store.Idem{})
			if err != nil {
				t.Fatal(err)
			}
			wantOutcome(t, r, parrain.OutcomeRefused, parrain.ReasonNotQualified)
			if r.Decision.Field != c.field {
				t.Errorf("%s: field %q, want %q (%s)", c.in.CompanyName, r.Decision.Field, c.field, r.Decision.Explanation)
			}
		}
		r, _, err := e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners["Alpha"].ID, parrain.LeadInput{CompanyName: "Shop", CompanyDomain: "shop.com",
			CompanySize: 500, Industry: "retail", Consent: true}, partner.RegisterOptions{}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		wantOutcome(t, r, parrain.OutcomeAccepted, "")
		if !r.Lead.ExpiresAt.Equal(t0.Add(30 * 24 * time.Hour)) {
			t.Fatalf("expires_at %v with a 30-day window", r.Lead.ExpiresAt)
		}
		// A bad field is an error, not a decision.
		_, _, err = e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners["Alpha"].ID, parrain.LeadInput{CompanyName: "X", CompanyDomain: "not a domain"}, partner.RegisterOptions{}, store.Idem{})
		if e := parrain.AsError(err); e == nil || e.Field != "company_domain" {
			t.Fatalf("bad domain: %v", err)
		}
	})
}

func TestPartnerExtension(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		lead := pe.register("Alpha", "Beta Corp", "betacorp.com").Lead
		// Beta cannot ask for Alpha's lead.
		if _, _, err := e.ps.RequestExtension(ctx, pe.prog.ID, pe.partners["Beta"].ID, lead.ID, parrain.ExtensionInput{Days: 30, Reason: "x"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("extension of another partner's lead: %v", err)
		}
		x, _, err := e.ps.RequestExtension(ctx, pe.prog.ID, pe.partners["Alpha"].ID, lead.ID, parrain.ExtensionInput{Days: 30, Reason: "procurement is slow"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		x, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x.ID, true, "", "manager:ann", store.Idem{})
		if err != nil || x.Status != "granted" {
			t.Fatalf("grant: %+v %v", x, err)
		}
		e.clock.Advance(100 * 24 * time.Hour) // past 90 days, inside 120
		wantOutcome(t, pe.register("Beta", "Beta Corp", "betacorp.com"), parrain.OutcomeRefused, parrain.ReasonOwnedByOther)
		e.clock.Advance(20 * 24 * time.Hour)
		wantOutcome(t, pe.register("Beta", "Beta Corp", "betacorp.com"), parrain.OutcomeAccepted, "")
		// Alpha's registration lapsed and Beta holds it: it cannot be extended.
		if _, _, err := e.ps.ExtendLead(ctx, pe.prog.ID, lead.ID, 10, "manager:ann", store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("extending a lost account: %v", err)
		}
		// A refused request is logged too.
		l2 := pe.register("Alpha", "Gamma", "gamma.com").Lead
		x2, _, _ := e.ps.RequestExtension(ctx, pe.prog.ID, pe.partners["Alpha"].ID, l2.ID, parrain.ExtensionInput{Days: 10, Reason: "more time"}, store.Idem{})
		x2, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x2.ID, false, "no activity logged", "manager:ann", store.Idem{})
		if err != nil || x2.Status != "refused" || !strings.Contains(x2.Decision, "no activity logged") {
			t.Fatalf("refuse: %+v %v", x2, err)
		}
		ds, _, _ := e.st.PartnerDecisions(ctx, pe.prog.ID, pe.partners["Alpha"].ID, "", store.Page{})
		kinds := map[string]int{}
		for _, d := range ds {
			kinds[d.Kind+"/"+d.Outcome]++
		}
		if kinds["extension/granted"] != 1 || kinds["extension/refused"] != 1 {
			t.Fatalf("decisions %v", kinds)
		}
	})
}

func TestPartnerExcludedAccounts(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		engaged := t0.AddDate(0, -2, 0)
		for _, x := range []parrain.Exclusion{
			{Kind: parrain.ExcludeCustomer, Domain: "https://customer.com", Reason: "signed 2025"},
			{Kind: parrain.ExcludeNamedAccount, CompanyName: "Globex Corporation"},
			{Kind: parrain.ExcludeDirectEngaged, Domain: "initech.com", EngagedAt: &engaged},
		} {
			if _, _, err := e.ps.AddExclusion(ctx, pe.prog.ID, x, store.Idem{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := e.ps.AddExclusion(ctx, pe.prog.ID, parrain.Exclusion{Kind: parrain.ExcludeDirectEngaged, Domain: "x.com"}, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "engaged_at" {
			t.Fatalf("direct_engaged without a date: %v", err)
		}
		wantOutcome(t, pe.register("Alpha", "Customer", "www.customer.com"), parrain.OutcomeRefused, parrain.ReasonExcluded)
		wantOutcome(t, pe.register("Alpha", "GLOBEX, Inc.", "globex.net"), parrain.OutcomeRefused, parrain.ReasonExcluded)
		r := pe.register("Alpha", "Initech", "initech.com")
		wantOutcome(t, r, parrain.OutcomeRefused, parrain.ReasonExcluded)
		if !strings.Contains(r.Decision.Explanation, "excluded until 2027-03-01") {
			t.Fatalf("explanation %q", r.Decision.Explanation)
		}
		d, _ := e.ps.CheckAccount(ctx, pe.prog.ID, "customer.com", "", "sales")
		if d.Reason != parrain.ReasonExcluded {
			t.Fatalf("check of a customer: %+v", d)
		}
		// Six months after the engagement, partners may register it.
		e.clock.Set(engaged.AddDate(0, 6, 0))
		wantOutcome(t, pe.register("Alpha", "Initech", "initech.com"), parrain.OutcomeAccepted, "")
	})
}

func TestPartnerConcurrentRegistrations(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		for round := range 4 {
			domain := fmt.Sprintf("race%d.com", round)
			var wg sync.WaitGroup
			results := make([]partner.LeadResult, 2)
			errs := make([]error, 2)
			for i, name := range []string{"Alpha", "Beta"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Different spellings of one account.
					results[i], _, errs[i] = e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners[name].ID, parrain.LeadInput{
						CompanyName: []string{fmt.Sprintf("Race %d Co", round), fmt.Sprintf("RACE %d CO INC", round)}[i], CompanyDomain: []string{domain, "www." + domain}[i],
						CompanySize: 100, Consent: true}, partner.RegisterOptions{}, store.Idem{})
				}()
			}
			wg.Wait()
			accepted := 0
			for i := range results {
				if errs[i] != nil {
					t.Fatalf("round %d: %v", round, errs[i])
				}
				if results[i].Decision.Outcome == parrain.OutcomeAccepted {
					accepted++
				} else if results[i].Decision.Reason != parrain.ReasonOwnedByOther {
					t.Fatalf("round %d: refusal %+v", round, results[i].Decision)
				}
			}
			if accepted != 1 {
				t.Fatalf("round %d: %d registrations accepted, want exactly 1", round, accepted)
			}
			leads, _, _ := e.st.Leads(ctx, pe.prog.ID, store.LeadFilter{}, store.Page{Limit: 200})
			if len(leads) != round+1 {
				t.Fatalf("round %d: %d leads", round, len(leads))
			}
		}
	})
}

func TestPartnerDealStagesRewardsAndTiers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		alpha := pe.partners["Alpha"]
		if alpha.Tier != "referral" || alpha.Code == "" {
			t.Fatalf("approved partner %+v", alpha)
		}
		lead := pe.register("Alpha", "Wonka", "wonka.com").Lead
		if lead.Stage != "registered" {
			t.Fatalf("stage %s", lead.Stage)
		}
		move := func(leadID, stage string, value int64) partner.DealMoveResult {
			t.Helper()
			mv := partner.DealMove{Stage: stage, Source: "manager", Actor: "ann"}
			if value > 0 {
				mv.Value = &value
			}
			r, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, leadID, mv, store.Idem{})
			if err != nil {
				t.Fatalf("move to %s: %v", stage, err)
			}
			return r
		}
		if r := move(lead.ID, "accepted", 0); len(r.Rewards) != 0 {
			t.Fatalf("accepted earned %v", r.Rewards)
		}
		e.clock.Advance(5 * 24 * time.Hour)
		r := move(lead.ID, "demo_completed", 0)
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 25000 {
			t.Fatalf("demo rewards %+v", r.Rewards)
		}
		if _, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, lead.ID, partner.DealMove{Stage: "closed_won"}, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "value" {
			t.Fatalf("closing without a value: %v", err)
		}
		if _, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, lead.ID, partner.DealMove{Stage: "signed"}, store.Idem{}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "stage" {
			t.Fatalf("unknown stage: %v", err)
		}
		e.clock.Advance(25 * 24 * time.Hour)
		r = move(lead.ID, "closed_won", 1_200_000)
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 120_000 {
			t.Fatalf("close rewards %+v (10%% referral tier rate of 12000.00)", r.Rewards)
		}
		if r.Lead.DaysToClose == nil || *r.Lead.DaysToClose != 30 || r.Lead.StageKind != parrain.StageWon {
			t.Fatalf("closed lead %+v", r.Lead)
		}
		if _, _, err := e.ps.MoveDeal(ctx, pe.prog.ID, lead.ID, partner.DealMove{Stage: "poc"}, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("moving a closed deal: %v", err)
		}
		stages, _ := e.st.LeadStages(ctx, pe.prog.ID, lead.ID)
		if len(stages) != 4 || stages[3].From != "demo_completed" || stages[3].To != "closed_won" || stages[3].EventID == "" {
			t.Fatalf("history %+v", stages)
		}
		// Won account stays Alpha's even after the window.
		e.clock.Advance(200 * 24 * time.Hour)
		wantOutcome(t, pe.register("Beta", "Wonka", "wonka.com"), parrain.OutcomeRefused, parrain.ReasonOwnedByOther)
		// Training completes the advisor criteria: promotion, recorded.
		p, err := e.ps.SetOnboardingStep(ctx, pe.prog.ID, alpha.ID, partner.StepTraining, true)
		if err != nil || p.Tier != "advisor" {
			t.Fatalf("after training: %+v %v", p, err)
		}
		h, err := e.st.TierHistory(ctx, alpha.ID)
		if err != nil || len(h) != 2 || h[0].Direction != "promotion" || !strings.Contains(h[0].Reason, "Solution Advisor") {
			t.Fatalf("tier history %+v %v", h, err)
		}
		// The promotion is audited with its direction (the first history entry is the tier given on approval).
		changes, _, err := e.st.AuditLog(ctx, store.AuditFilter{Action: partner.AuditTierChanged, TargetID: alpha.ID}, store.Page{})
		if err != nil || len(changes) != 1 || changes[0].Details["to"] != "advisor" || changes[0].Details["direction"] != "promotion" {
			t.Fatalf("tier changes audited %+v %v", changes, err)
		}
		// Now at the advisor rate; an influenced deal pays the influenced rate.
		l2 := pe.register("Alpha", "Hooli", "hooli.com").Lead
		if r := move(l2.ID, "closed_won", 1_000_000); r.Rewards[0].Amount != 150_000 {
			t.Fatalf("advisor rate: %+v", r.Rewards)
		}
		inf, _, err := e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners["Beta"].ID, parrain.LeadInput{CompanyName: "Hooli", CompanyDomain: "hooli.com",
			CompanySize: 900, Consent: true}, partner.RegisterOptions{Credit: parrain.CreditInfluenced, Actor: "manager:ann"}, store.Idem{})
		if err != nil || inf.Lead == nil || inf.Lead.Credit != parrain.CreditInfluenced {
			t.Fatalf("influenced: %+v %v", inf, err)
		}
		if r := move(inf.Lead.ID, "closed_won", 1_000_000); r.Rewards[0].Amount != 40_000 {
			t.Fatalf("influenced rate: %+v", r.Rewards)
		}
		// Lost deals release the account.
		l3 := pe.register("Alpha", "Soylent", "soylent.com").Lead
		move(l3.ID, "closed_lost", 0)
		wantOutcome(t, pe.register("Beta", "Soylent", "soylent.com"), parrain.OutcomeAccepted, "")
		// Dashboard: only Alpha's leads, commissions, next tier needs.
		pp, _ := e.st.PartnerProgram(ctx, pe.prog.ID)
		alpha, _ = e.st.Partner(ctx, pe.prog.ID, alpha.ID)
		d, err := e.ps.DashboardFor(ctx, pp, alpha)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range d.Leads {
			if l.PartnerID != alpha.ID {
				t.Fatalf("dashboard shows another partner's lead %+v", l)
			}
		}
		if len(d.Leads) != 3 || d.Commissions["pending"] != 25000+120_000+150_000 || d.NextTier == nil || d.NextTier.Key != "reseller" || len(d.NextNeeds) != 2 {
			t.Fatalf("dashboard leads=%d commissions=%v next=%+v needs=%v", len(d.Leads), d.Commissions, d.NextTier, d.NextNeeds)
		}
		// The scheduled evaluation demotes nobody here and is idempotent.
		if ch, err := e.ps.EvaluateTiers(ctx, pe.prog.ID); err != nil || len(ch) != 0 {
			t.Fatalf("evaluate: %v %v", ch, err)
		}
		// KPIs over everything.
		rep, err := e.ps.KPIReportFor(ctx, pe.prog.ID, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		o := rep.Overall
		if o.SignedPartners != 2 || o.ActivePartners != 2 || o.Leads != 5 || o.Won != 3 || o.Lost != 1 || o.SourcedRevenue != 2_200_000 ||
			o.InfluencedRevenue != 1_000_000 || o.AverageDealSize != 1_066_667 || o.ConversionBps != 6000 {
			t.Fatalf("kpis %+v", o)
		}
		if rep.ByTier["advisor"].Won != 2 || len(rep.ByPartner) != 2 {
			t.Fatalf("by tier %+v by partner %+v", rep.ByTier, rep.ByPartner)
		}
	})
}

func TestPartnerApplicationsAndAssets(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		p, _, err := e.ps.Apply(ctx, pe.prog.ID, parrain.PartnerApplication{Email: "New@Partner.example", Name: "Newbie"}, "application", store.Idem{})
		if err != nil || p.Status != parrain.PartnerApplied {
			t.Fatalf("apply %+v %v", p, err)
		}
		if _, _, err := e.ps.Apply(ctx, pe.prog.ID, parrain.PartnerApplication{Email: "new@partner.example", Name: "Again"}, "application", store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("second application: %v", err)
		}
		// An applicant cannot register leads.
		r, _, _ := e.ps.RegisterLead(ctx, pe.prog.ID, p.ID, parrain.LeadInput{CompanyName: "A", CompanyDomain: "a.com", CompanySize: 100, Consent: true}, partner.RegisterOptions{}, store.Idem{})
		wantOutcome(t, r, parrain.OutcomeRefused, parrain.ReasonPartnerInvalid)
		p, _, err = e.ps.Decide(ctx, pe.prog.ID, p.ID, false, "not a fit", store.Idem{})
		if err != nil || p.Status != parrain.PartnerRejected {
			t.Fatalf("reject %+v %v", p, err)
		}
		if _, _, err := e.ps.Decide(ctx, pe.prog.ID, p.ID, true, "", store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("deciding twice: %v", err)
		}
		a1, _, err := e.ps.CreateAsset(ctx, pe.prog.ID, store.Asset{Title: "One-pager", Kind: "one_pager", Filename: "one.pdf", Content: []byte("%PDF-1 one")}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		a2, _, _ := e.ps.CreateAsset(ctx, pe.prog.ID, store.Asset{Title: "Price list", Kind: "other", Filename: "prices.csv", Content: []byte("a,b"), MinTier: "reseller"}, store.Idem{})
		pp, _ := e.st.PartnerProgram(ctx, pe.prog.ID)
		alpha := pe.partners["Alpha"]
		list, _ := e.ps.AssetsFor(ctx, pp, alpha)
		if len(list) != 1 || list[0].ID != a1.ID {
			t.Fatalf("assets for a referral partner: %+v", list)
		}
		got, err := e.ps.DownloadAsset(ctx, pp, alpha, a1.ID)
		if err != nil || string(got.Content) != "%PDF-1 one" {
			t.Fatalf("download %v %v", got, err)
		}
		if _, err := e.ps.DownloadAsset(ctx, pp, alpha, a2.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("download above tier: %v", err)
		}
		all, _ := e.st.Assets(ctx, pe.prog.ID)
		for _, a := range all {
			if want := map[string]int64{a1.ID: 1, a2.ID: 0}[a.ID]; a.Downloads != want {
				t.Fatalf("%s downloads %d want %d", a.Title, a.Downloads, want)
			}
		}
		// Surveys: once per period.
		sv, _, err := e.ps.CreateSurvey(ctx, pe.prog.ID, store.Survey{Title: "Quarterly", Questions: []string{"What helps?", "What blocks?"}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if ps, _ := e.ps.PendingSurvey(ctx, alpha); ps == nil || ps.ID != sv.ID {
			t.Fatalf("pending %+v", ps)
		}
		if err := e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"demos", "pricing"}); err != nil {
			t.Fatal(err)
		}
		if err := e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"again", ""}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("answering twice: %v", err)
		}
		if ps, _ := e.ps.PendingSurvey(ctx, alpha); ps != nil {
			t.Fatalf("still pending")
		}
		e.clock.Advance(91 * 24 * time.Hour)
		if ps, _ := e.ps.PendingSurvey(ctx, alpha); ps == nil {
			t.Fatalf("not asked again next period")
		}
		ans, _ := e.st.SurveyAnswers(ctx, pe.prog.ID, sv.ID)
		if len(ans) != 1 || ans[0].Answers[1] != "pricing" || ans[0].PartnerName != "Alpha" {
			t.Fatalf("answers %+v", ans)
		}
	})
}
