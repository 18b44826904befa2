// Package report answers "how is the program doing?": a program's KPIs
// for a period beside the previous one, the daily activity, the top
// advocates and what needs a human. It composes the store's raw counts with
// the domain's KPI rules (internal/parrain/kpi.go); it writes nothing.
//
// It imports the domain and the store; never an HTTP package or the wiring.
package report

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Service computes a program's reports on a store.
type Service struct {
	st *store.Store
}

// New returns the service.
func New(st *store.Store) *Service { return &Service{st: st} }

// KPIs computes a program's KPIs for a period.
func (s *Service) KPIs(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod) (parrain.ProgramKPIs, error) {
	a, err := s.st.KPIActivity(ctx, prog.ID, prog.Currency, p.From, p.To)
	if err != nil {
		return parrain.ProgramKPIs{}, err
	}
	return parrain.ComputeProgramKPIs(p, prog.Currency, a), nil
}

// Compare computes a program's KPIs for a period and for the period of the
// same length just before it.
func (s *Service) Compare(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod) (cur, prev parrain.ProgramKPIs, err error) {
	if cur, err = s.KPIs(ctx, prog, p); err != nil {
		return cur, prev, err
	}
	prev, err = s.KPIs(ctx, prog, p.Previous())
	return cur, prev, err
}

// DailySeries returns clicks, signups and conversions per UTC day of the
// period, one entry per day including empty days.
func (s *Service) DailySeries(ctx context.Context, programID string, p parrain.KPIPeriod) ([]parrain.DayCount, error) {
	counts, err := s.st.DailyCounts(ctx, programID, p.From, p.To)
	if err != nil {
		return nil, err
	}
	return parrain.DailySeries(p, counts), nil
}

// TopAdvocates ranks the advocates of a period by conversions, then
// signups, then clicks: at most n (10 when n is not between 1 and 100).
func (s *Service) TopAdvocates(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod, n int) ([]parrain.AdvocateRank, error) {
	n = parrain.TopAdvocatesLimit(n)
	rs, err := s.st.AdvocateFigures(ctx, prog.ID, prog.Currency, p.From, p.To, n)
	if err != nil {
		return nil, err
	}
	return parrain.RankAdvocates(rs, n), nil
}

// Alerts computes a program's alerts now.
func (s *Service) Alerts(ctx context.Context, programID string) (parrain.ProgramAlerts, error) {
	now := s.st.Clock().Now()
	return s.st.ProgramAlertCounts(ctx, programID, now, now.Add(-parrain.FlaggedWindow))
}

// Overview is everything a program's overview page shows for a period.
type Overview struct {
	KPIs, Prev parrain.ProgramKPIs
	// Invalid are the period's clicks no KPI counts.
	Invalid store.InvalidClicks
	Days    []parrain.DayCount
	Top     []parrain.AdvocateRank
	Alerts  parrain.ProgramAlerts
	// Open are the reward engine's open alerts (pool ran dry, fulfilment
	// failing, …).
	Open []store.Alert
	// LowPools are the imported coupon pools empty or at their low-water
	// mark (generated pools never run out).
	LowPools []store.CouponPool
}

// TopOverview is how many advocates the overview ranks.
const TopOverview = 10

// Overview computes a program's overview for a period.
func (s *Service) Overview(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod) (Overview, error) {
	var o Overview
	k, err := s.KPIReport(ctx, prog, p)
	if err != nil {
		return o, err
	}
	o.KPIs, o.Prev, o.Invalid = k.KPIs, k.Prev, k.Invalid
	if o.Days, err = s.DailySeries(ctx, prog.ID, p); err != nil {
		return o, err
	}
	if o.Top, err = s.TopAdvocates(ctx, prog, p, TopOverview); err != nil {
		return o, err
	}
	if o.Alerts, err = s.Alerts(ctx, prog.ID); err != nil {
		return o, err
	}
	if o.Open, err = s.st.Alerts(ctx, prog.ID, true); err != nil {
		return o, err
	}
	pools, err := s.st.CouponPools(ctx, prog.ID)
	if err != nil {
		return o, err
	}
	for _, cp := range pools {
		if lowPool(cp) {
			o.LowPools = append(o.LowPools, cp)
		}
	}
	return o, nil
}

// lowPool reports whether an imported pool is empty or at its low-water
// mark.
func lowPool(p store.CouponPool) bool {
	return p.GenerateLength == 0 && p.Available <= int64(p.LowWater)
}

// KPIReport is a program's KPIs for a period beside the previous period of
// the same length, with the clicks no KPI counts: what the console's
// overview shows and GET /api/v1/programs/{id}/kpis answers.
type KPIReport struct {
	KPIs, Prev           parrain.ProgramKPIs
	Invalid, PrevInvalid store.InvalidClicks
}

// KPIReport computes a program's KPI report for a period.
func (s *Service) KPIReport(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod) (KPIReport, error) {
	var k KPIReport
	var err error
	if k.KPIs, k.Prev, err = s.Compare(ctx, prog, p); err != nil {
		return k, err
	}
	if k.Invalid, err = s.st.InvalidClicks(ctx, prog.ID, p.From, p.To); err != nil {
		return k, err
	}
	prev := p.Previous()
	k.PrevInvalid, err = s.st.InvalidClicks(ctx, prog.ID, prev.From, prev.To)
	return k, err
}

// Rate is an exact rate: Num out of Den, and in tenths of a percent
// rounded half-up (0 when Den is 0: the rate is undefined).
type Rate struct {
	Num      int64 `json:"num"`
	Den      int64 `json:"den"`
	Permille int64 `json:"permille"`
}

func rate(r parrain.Ratio) Rate { return Rate{Num: r.Num, Den: r.Den, Permille: r.Permille()} }

// KPIFigures are one period's KPIs as the API answers them, named like the
// console's KPI export (kpis.csv). Amounts are minor units of the
// program's currency.
type KPIFigures struct {
	From                   time.Time                      `json:"from"`
	To                     time.Time                      `json:"to"`
	Advocates              int64                          `json:"advocates"`
	ParticipatingAdvocates int64                          `json:"participating_advocates"`
	SharingAdvocates       int64                          `json:"sharing_advocates"`
	SharesTracked          bool                           `json:"shares_tracked"`
	Shares                 int64                          `json:"shares"`
	ValidClicks            int64                          `json:"valid_clicks"`
	InvalidClicks          store.InvalidClicks            `json:"invalid_clicks"`
	Signups                int64                          `json:"signups"`
	RejectedReferrals      int64                          `json:"rejected_referrals"`
	Conversions            int64                          `json:"conversions"`
	ReferredPurchases      int64                          `json:"referred_purchases"`
	ReferredRevenue        int64                          `json:"referred_revenue"`
	OtherRevenue           map[string]int64               `json:"other_revenue"`
	RewardsCost            int64                          `json:"rewards_cost"`
	RewardsByStatus        map[parrain.RewardStatus]int64 `json:"rewards_by_status"`
	ParticipationRate      Rate                           `json:"participation_rate"`
	ShareRate              Rate                           `json:"share_rate"`
	ClickThrough           Rate                           `json:"click_through"`
	ConversionRate         Rate                           `json:"conversion_rate"`
	ROI                    Rate                           `json:"roi"`
}

// Figures lays out one period's KPIs and invalid clicks.
func Figures(k parrain.ProgramKPIs, inv store.InvalidClicks) KPIFigures {
	return KPIFigures{From: k.Period.From, To: k.Period.To, Advocates: k.Advocates, ParticipatingAdvocates: k.Participating,
		SharingAdvocates: k.Sharers, SharesTracked: k.SharesTracked, Shares: k.Shares, ValidClicks: k.Clicks, InvalidClicks: inv,
		Signups: k.Signups, RejectedReferrals: k.Rejected, Conversions: k.Conversions, ReferredPurchases: k.Purchases,
		ReferredRevenue: k.Revenue, OtherRevenue: k.OtherRevenue, RewardsCost: k.RewardsCost(), RewardsByStatus: k.Rewards,
		ParticipationRate: rate(k.ParticipationRate()), ShareRate: rate(k.ShareRate()), ClickThrough: rate(k.ClickThrough()),
		ConversionRate: rate(k.ConversionRate()), ROI: rate(k.ROI())}
}
