package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// SeedPartnerDemo adds a B2B partner program to the demo: three tiers,
// partners in each (and an applicant), deals at every stage, an excluded
// account, an asset and a survey. Its portal is /partners/acme-partners/;
// partners sign in by email link (printed in the server log when no mailer
// is configured).
func SeedPartnerDemo(ctx context.Context, st *store.Store, log *slog.Logger) error {
	ps := partner.New(st, st.Clock(), referral.New(st))
	prog, _, err := program.New(st).Create(ctx, parrain.Program{
		Name: "Acme partner program", LandingURL: "https://acme.example/partners", Currency: "USD", HoldDays: 30,
		ProgramSettings: parrain.ProgramSettings{
			Stages:  []parrain.Stage{{Name: "demo_completed", Label: "Qualified demo"}, {Name: "closed_won", Label: "Closed won"}},
			Success: &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"},
		},
		Rules: []parrain.RewardRule{
			{ID: "qualified-demo", Trigger: parrain.TriggerStage, Stage: "demo_completed",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 25000}},
			{ID: "first-year", Trigger: parrain.TriggerStage, Stage: "closed_won",
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000, PartnerRates: map[string]int64{
					"referral": 1000, "referral_influenced": 400, "advisor": 1500, "advisor_influenced": 600, "reseller": 2000, "reseller_influenced": 800}}},
		},
	}, store.Idem{})
	if err != nil {
		return err
	}
	_, err = ps.PutProgram(ctx, prog.ID, parrain.PartnerSettings{Slug: "acme-partners", ApplicationsOpen: true, WindowDays: 90,
		Qualification: parrain.Qualification{MinCompanySize: 20},
		TermsVersion:  "2026-1", TermsText: "Partners register leads in good faith, with the contact's consent. Commissions follow the program rules.",
		Branding: demoPartnerBranding},
		[]parrain.Tier{
			{Key: "referral", Name: "Referral Partner", Rank: 0},
			{Key: "advisor", Name: "Solution Advisor", Rank: 1, Criteria: parrain.TierCriteria{MinWonDeals: 1, TrainingRequired: true}},
			{Key: "reseller", Name: "Certified Reseller", Rank: 2, Criteria: parrain.TierCriteria{MinWonDeals: 2, MinRevenue: 5_000_000, TrainingRequired: true}},
		})
	if err != nil {
		return err
	}
	partners := map[string]parrain.Partner{}
	for _, n := range []string{"Nora Consulting", "Brightpath Advisors", "Vertex Resellers"} {
		p, _, err := ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: fmt.Sprintf("contact@%s.example", slugOf(n)), Name: n, Company: n}, "invite", store.Idem{})
		if err != nil {
			return err
		}
		partners[n] = p
	}
	if _, _, err := ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: "hello@newcomer.example", Name: "Newcomer Labs",
		Message: "We resell to mid-market retail."}, "application", store.Idem{}); err != nil {
		return err
	}
	for _, n := range []string{"Brightpath Advisors", "Vertex Resellers"} {
		if _, err := ps.SetOnboardingStep(ctx, prog.ID, partners[n].ID, partner.StepTraining, true); err != nil {
			return err
		}
	}
	type deal struct {
		partner, company, domain string
		stages                   []string
		value                    int64
	}
	deals := []deal{
		{"Nora Consulting", "Initrode", "initrode.example", nil, 0},
		{"Nora Consulting", "Umbrella Health", "umbrella-health.example", []string{"accepted"}, 0},
		{"Nora Consulting", "Stark Logistics", "stark-logistics.example", []string{"accepted", "demo_booked"}, 0},
		{"Brightpath Advisors", "Wayne Retail", "wayne-retail.example", []string{"accepted", "demo_booked", "demo_completed"}, 0},
		{"Brightpath Advisors", "Tyrell Systems", "tyrell.example", []string{"accepted", "demo_booked", "demo_completed", "poc"}, 0},
		{"Brightpath Advisors", "Cyberdyne", "cyberdyne.example", []string{"accepted", "demo_completed", "closed_won"}, 2_400_000},
		{"Vertex Resellers", "Oscorp", "oscorp.example", []string{"accepted", "demo_completed", "closed_won"}, 3_600_000},
		{"Vertex Resellers", "Massive Dynamic", "massive-dynamic.example", []string{"accepted", "demo_completed", "poc", "closed_won"}, 2_000_000},
		{"Vertex Resellers", "Hooli", "hooli.example", []string{"accepted", "closed_lost"}, 0},
	}
	for _, d := range deals {
		r, _, err := ps.RegisterLead(ctx, prog.ID, partners[d.partner].ID, parrain.LeadInput{CompanyName: d.company, CompanyDomain: d.domain,
			ContactName: "Jordan Buyer", ContactEmail: "jordan@" + d.domain, CompanySize: 250, Industry: "Software", Consent: true},
			partner.RegisterOptions{Actor: "demo"}, store.Idem{})
		if err != nil {
			return err
		}
		if r.Lead == nil {
			return fmt.Errorf("demo lead %s refused: %s", d.company, r.Decision.Explanation)
		}
		for _, s := range d.stages {
			mv := partner.DealMove{Stage: s, Source: "manager", Actor: "demo"}
			if s == "closed_won" {
				v := d.value
				mv.Value = &v
			}
			if _, _, err := ps.MoveDeal(ctx, prog.ID, r.Lead.ID, mv, store.Idem{}); err != nil {
				return fmt.Errorf("demo deal %s to %s: %w", d.company, s, err)
			}
		}
	}
	// The direct team's accounts and a refused duplicate, for the log.
	engaged := st.Clock().Now().AddDate(0, -1, 0)
	if _, _, err := ps.AddExclusion(ctx, prog.ID, parrain.Exclusion{Kind: parrain.ExcludeDirectEngaged, Domain: "globex.example", EngagedAt: &engaged,
		Reason: "direct team demo in progress"}, store.Idem{}); err != nil {
		return err
	}
	if _, _, err := ps.AddExclusion(ctx, prog.ID, parrain.Exclusion{Kind: parrain.ExcludeCustomer, Domain: "acme-customer.example", CompanyName: "Longtime Customer"}, store.Idem{}); err != nil {
		return err
	}
	if _, _, err := ps.RegisterLead(ctx, prog.ID, partners["Vertex Resellers"].ID, parrain.LeadInput{CompanyName: "Initrode Inc.", CompanyDomain: "www.initrode.example",
		CompanySize: 300, Consent: true}, partner.RegisterOptions{Actor: "demo"}, store.Idem{}); err != nil {
		return err
	}
	if _, _, err := ps.CreateAsset(ctx, prog.ID, store.Asset{Title: "Acme one-pager", Kind: "one_pager", Filename: "acme-one-pager.txt", ContentType: "text/plain",
		Content: []byte("Acme: referral and partner programs that run themselves.\n")}, store.Idem{}); err != nil {
		return err
	}
	if _, _, err := ps.CreateSurvey(ctx, prog.ID, store.Survey{Title: "Quarterly partner pulse", Questions: []string{"What helped you sell this quarter?", "What should we improve?"}}, store.Idem{}); err != nil {
		return err
	}
	log.Info("demo partner program created", "program_id", prog.ID, "portal", "/partners/acme-partners/", "partners", len(partners),
		"sign_in", "ask for an email link on the portal: it is printed in this log")
	return nil
}

func slugOf(s string) string {
	out := []rune{}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, r+32)
		case r >= 'a' && r <= 'z':
			out = append(out, r)
		}
	}
	return string(out)
}

// demoPartnerBranding is the demo portal's look; its colours carry white
// text at WCAG AA contrast (a test checks it).
var demoPartnerBranding = parrain.Branding{CompanyName: "Acme", PrimaryColor: "#0b5394", AccentColor: "#b35408",
	Welcome: "Welcome to the Acme partner program: register your leads, follow your deals, grow with us."}
