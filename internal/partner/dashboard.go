package partner

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Onboarding is a partner's first-30-days checklist.
type Onboarding struct {
	AgreementAccepted bool      `json:"agreement_accepted"`
	KickoffDone       bool      `json:"kickoff_done"`
	TrainingDone      bool      `json:"training_done"`
	FirstLead         bool      `json:"first_lead_registered"`
	Done              int       `json:"done"`
	Total             int       `json:"total"`
	Due               time.Time `json:"due"` // 30 days after approval
}

// Dashboard is everything a partner sees on the portal's home.
type Dashboard struct {
	Partner     parrain.Partner   `json:"partner"`
	Tier        parrain.Tier      `json:"tier"`
	NextTier    *parrain.Tier     `json:"next_tier,omitempty"`
	NextNeeds   []string          `json:"next_needs,omitempty"`
	Leads       []parrain.Lead    `json:"leads"`
	Commissions map[string]int64  `json:"commissions"` // pending, approved, paid (program currency)
	Currency    string            `json:"currency"`
	Quarter     parrain.KPIs      `json:"quarter"`
	History     []store.TierEvent `json:"history"`
	Onboarding  Onboarding        `json:"onboarding"`
	Extensions  []store.Extension `json:"extensions"`
	// Extendable holds the leads whose exclusivity can be extended: open,
	// sourced, and not lapsed with the account registered by another
	// partner since.
	Extendable map[string]bool `json:"-"`
}

// DashboardFor assembles a partner's dashboard: only their own leads,
// commissions and history.
func (s *Service) DashboardFor(ctx context.Context, pp store.PartnerProgram, p parrain.Partner) (Dashboard, error) {
	d := Dashboard{Partner: p, Currency: pp.Currency, Commissions: map[string]int64{"pending": 0, "approved": 0, "paid": 0}}
	d.Tier, _ = pp.Tier(p.Tier)
	now := s.now()
	leads, _, err := s.st.Leads(ctx, pp.ProgramID, store.LeadFilter{PartnerID: p.ID}, store.Page{Limit: 200})
	if err != nil {
		return d, err
	}
	d.Leads = leads
	d.Extendable = map[string]bool{}
	for _, l := range leads {
		if l.StageKind != parrain.StageOpen || l.Credit != parrain.CreditSourced {
			continue
		}
		if l.ExpiresAt.After(now) {
			d.Extendable[l.ID] = true
			continue
		}
		claims, _, err := s.st.AccountState(ctx, pp.ProgramID, l.Domain, l.CompanyName)
		if err != nil {
			return d, err
		}
		if _, taken := parrain.TakenBy(now, l.ID, claims); !taken {
			d.Extendable[l.ID] = true
		}
	}
	won, err := s.st.WonDeals(ctx, p.ID)
	if err != nil {
		return d, err
	}
	rec := parrain.PartnerRecord{TrainingDone: p.TrainingAt != nil, Won: won}
	for _, t := range pp.Tiers {
		if t.Rank > d.Tier.Rank {
			d.NextTier, d.NextNeeds = &t, parrain.Missing(now, t, rec, pp.Currency)
			break
		}
	}
	if p.ParticipantID != "" {
		st, err := s.st.ParticipantStats(ctx, p.ParticipantID)
		if err != nil {
			return d, err
		}
		for status, byCur := range st.Rewards {
			if _, ok := d.Commissions[status]; ok {
				d.Commissions[status] += byCur[pp.Currency]
			}
		}
	}
	from, to := parrain.QuarterBounds(now)
	var deals []parrain.KPIDeal
	for _, l := range leads {
		deals = append(deals, parrain.KPIDeal{PartnerID: p.ID, Credit: l.Credit, RegisteredAt: l.RegisteredAt, ClosedAt: l.ClosedAt, Won: l.StageKind == parrain.StageWon, Value: l.Value})
	}
	d.Quarter = parrain.ComputeKPIs(from, to, pp.Currency, []parrain.KPIPartner{{ID: p.ID, Tier: p.Tier, ApprovedAt: p.ApprovedAt}}, deals)
	if d.History, err = s.st.TierHistory(ctx, p.ID); err != nil {
		return d, err
	}
	if d.Extensions, err = s.st.Extensions(ctx, pp.ProgramID, p.ID, ""); err != nil {
		return d, err
	}
	d.Onboarding = Onboarding{AgreementAccepted: p.AgreementVersion == pp.TermsVersion, KickoffDone: p.KickoffAt != nil, TrainingDone: p.TrainingAt != nil,
		FirstLead: len(leads) > 0, Total: 4}
	for _, b := range []bool{d.Onboarding.AgreementAccepted, d.Onboarding.KickoffDone, d.Onboarding.TrainingDone, d.Onboarding.FirstLead} {
		if b {
			d.Onboarding.Done++
		}
	}
	if p.ApprovedAt != nil {
		d.Onboarding.Due = p.ApprovedAt.AddDate(0, 0, 30)
	}
	return d, nil
}

// KPIReport is the KPIs of a period overall, per tier and per partner.
type KPIReport struct {
	Overall   parrain.KPIs            `json:"overall"`
	ByTier    map[string]parrain.KPIs `json:"by_tier"`
	ByPartner []PartnerKPIs           `json:"by_partner"`
}

// PartnerKPIs is one partner's KPIs.
type PartnerKPIs struct {
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	Tier      string `json:"tier"`
	parrain.KPIs
}

// KPIReportFor computes the partner KPIs of a program over [from, to). A
// deal counts in the tier its partner has now.
func (s *Service) KPIReportFor(ctx context.Context, programID string, from, to time.Time) (KPIReport, error) {
	rep := KPIReport{ByTier: map[string]parrain.KPIs{}, ByPartner: []PartnerKPIs{}}
	pp, err := s.st.PartnerProgram(ctx, programID)
	if err != nil {
		return rep, err
	}
	partners, names, err := s.st.KPIPartners(ctx, programID)
	if err != nil {
		return rep, err
	}
	tierOf := map[string]string{}
	for _, p := range partners {
		tierOf[p.ID] = p.Tier
	}
	deals, err := s.st.KPIDeals(ctx, programID)
	if err != nil {
		return rep, err
	}
	for i := range deals {
		deals[i].Tier = tierOf[deals[i].PartnerID]
	}
	rep.Overall = parrain.ComputeKPIs(from, to, pp.Currency, partners, deals)
	for _, t := range pp.Tiers {
		var ps []parrain.KPIPartner
		var ds []parrain.KPIDeal
		for _, p := range partners {
			if p.Tier == t.Key {
				ps = append(ps, p)
			}
		}
		for _, d := range deals {
			if d.Tier == t.Key {
				ds = append(ds, d)
			}
		}
		rep.ByTier[t.Key] = parrain.ComputeKPIs(from, to, pp.Currency, ps, ds)
	}
	for _, p := range partners {
		var ds []parrain.KPIDeal
		for _, d := range deals {
			if d.PartnerID == p.ID {
				ds = append(ds, d)
			}
		}
		rep.ByPartner = append(rep.ByPartner, PartnerKPIs{PartnerID: p.ID, Name: names[p.ID], Tier: p.Tier,
			KPIs: parrain.ComputeKPIs(from, to, pp.Currency, []parrain.KPIPartner{p}, ds)})
	}
	return rep, nil
}
