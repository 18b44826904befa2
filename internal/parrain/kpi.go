package parrain

import (
	"slices"
	"time"
)

// A program's KPIs (docs/console.md defines each one): the store counts
// and sums what happened in a period (KPIActivity), the rules below turn
// those raw figures into the program's KPIs, rates, daily series, advocate
// ranking and alerts.

// KPIPeriod is a half-open time range [From, To) for a program's KPIs.
type KPIPeriod struct {
	From, To time.Time
}

// Previous returns the period of the same length just before p.
func (p KPIPeriod) Previous() KPIPeriod {
	d := p.To.Sub(p.From)
	return KPIPeriod{From: p.From.Add(-d), To: p.From}
}

// Days returns the number of whole days in the period.
func (p KPIPeriod) Days() int { return int(p.To.Sub(p.From) / (24 * time.Hour)) }

// PurchaseTally is the referred purchases of one currency in a period:
// their number and their amount net of refunds.
type PurchaseTally struct {
	Count int64
	Net   int64
}

// KPIActivity is what the store counts and sums for a program's period,
// before any rule is applied.
type KPIActivity struct {
	// Advocates is the number of participants recorded before the end of
	// the period.
	Advocates int64
	// LateAdvocates took part in the period (a valid click, or a share when
	// shares are tracked) but were recorded after it (imported later).
	LateAdvocates int64
	Clicks        int64 // valid clicks
	Clickers      int64 // advocates with a valid click
	// SharesTracked says the program records shares; Shares, Sharers and
	// Active are counted only then.
	SharesTracked bool
	Shares        int64
	Sharers       int64 // advocates who shared
	Active        int64 // advocates who shared or had a valid click
	Signups       int64 // referrals signed up, rejected ones excluded
	Rejected      int64 // referrals signed up and rejected
	Conversions   int64 // referrals whose first purchase happened in the period
	// Purchases are the referred purchases (of referrals not rejected) by
	// currency.
	Purchases map[string]PurchaseTally
	// Rewards is the outstanding value (amount minus reversals), in the
	// program currency, of the rewards caused by events of the period, by
	// status.
	Rewards map[RewardStatus]int64
}

// ProgramKPIs are a program's figures for a period. Rates are derived from
// them (ParticipationRate, ShareRate, …); amounts are in the program
// currency's minor units.
type ProgramKPIs struct {
	Period   KPIPeriod
	Currency string
	// Advocates is the number of participants who existed at the end of the
	// period (every participant has a link and can refer), and those who
	// took part in it though recorded later, so that participation never
	// exceeds everyone.
	Advocates int64
	// Participating advocates shared or had a valid click on their link.
	Participating int64
	// Sharers shared at least once. Without share tracking (SharesTracked
	// false: the program has no recorded share) it is the number of
	// advocates whose link was clicked.
	Sharers       int64
	Shares        int64
	SharesTracked bool
	Clicks        int64 // valid clicks
	Signups       int64 // referrals signed up (rejected ones excluded)
	Rejected      int64 // referrals rejected (self-referrals, fraud)
	Conversions   int64 // referrals whose first purchase happened in the period
	Purchases     int64 // referred purchases
	// Revenue is the referred purchases in the program currency, net of
	// their refunds; purchases in other currencies are in OtherRevenue and
	// never mixed in.
	Revenue      int64
	OtherRevenue map[string]int64
	// Rewards is the outstanding value (amount minus reversals) of the
	// rewards caused by events of the period, by status.
	Rewards map[RewardStatus]int64
}

// ComputeProgramKPIs turns a period's raw activity into the program's KPIs
// in its currency. Without share tracking, advocates whose link was clicked
// stand in for the sharers and the participating advocates.
func ComputeProgramKPIs(p KPIPeriod, currency string, a KPIActivity) ProgramKPIs {
	k := ProgramKPIs{Period: p, Currency: currency, Advocates: a.Advocates + a.LateAdvocates, Clicks: a.Clicks,
		Participating: a.Clickers, Sharers: a.Clickers, SharesTracked: a.SharesTracked,
		Signups: a.Signups, Rejected: a.Rejected, Conversions: a.Conversions,
		OtherRevenue: map[string]int64{}, Rewards: map[RewardStatus]int64{}}
	if a.SharesTracked {
		k.Shares, k.Sharers, k.Participating = a.Shares, a.Sharers, a.Active
	}
	for cur, t := range a.Purchases {
		k.Purchases += t.Count
		if cur == currency {
			k.Revenue = t.Net
		} else {
			k.OtherRevenue[cur] = t.Net
		}
	}
	for st, v := range a.Rewards {
		k.Rewards[st] = v
	}
	return k
}

// RewardsCost is the outstanding value of the period's rewards.
func (k ProgramKPIs) RewardsCost() int64 {
	var n int64
	for _, v := range k.Rewards {
		n += v
	}
	return n
}

// Ratio is an exact fraction: a rate is never computed in floating point.
type Ratio struct{ Num, Den int64 }

// Defined reports whether the ratio has a denominator.
func (r Ratio) Defined() bool { return r.Den != 0 }

// Permille returns the ratio in tenths of a percent, rounded half-up (0
// without a denominator or on overflow).
func (r Ratio) Permille() int64 {
	if r.Den == 0 {
		return 0
	}
	v, err := MulDiv(r.Num, 1000, r.Den, RoundHalfUp)
	if err != nil {
		return 0
	}
	return v
}

// ParticipationRate is the advocates who shared or got a click, out of all
// advocates.
func (k ProgramKPIs) ParticipationRate() Ratio { return Ratio{k.Participating, k.Advocates} }

// ShareRate is the advocates who shared, out of all advocates (with the
// click proxy when shares are not tracked).
func (k ProgramKPIs) ShareRate() Ratio { return Ratio{k.Sharers, k.Advocates} }

// ClickThrough is the clicks per share, or, without share tracking, the
// clicks per advocate whose link was clicked.
func (k ProgramKPIs) ClickThrough() Ratio {
	if !k.SharesTracked {
		return Ratio{k.Clicks, k.Participating}
	}
	return Ratio{k.Clicks, k.Shares}
}

// ConversionRate is the conversions per valid click.
func (k ProgramKPIs) ConversionRate() Ratio { return Ratio{k.Conversions, k.Clicks} }

// ROI is (referred revenue − rewards cost) ÷ rewards cost.
func (k ProgramKPIs) ROI() Ratio {
	c := k.RewardsCost()
	return Ratio{k.Revenue - c, c}
}

// DayCount is one UTC day of the activity chart.
type DayCount struct {
	Day         time.Time // midnight UTC
	Clicks      int64
	Signups     int64
	Conversions int64
}

// DayNumber is the number of whole UTC days since the Unix epoch of t, the
// key the store groups daily counts by.
func DayNumber(t time.Time) int64 { return t.UnixMilli() / (24 * 60 * 60 * 1000) }

// DailySeries lays the counts of each day (keyed by DayNumber) over the
// period: one entry per UTC day the period touches, empty days included,
// counts of days outside it ignored.
func DailySeries(p KPIPeriod, counts map[int64]DayCount) []DayCount {
	out := []DayCount{}
	for d := p.From.UTC().Truncate(24 * time.Hour); d.Before(p.To); d = d.Add(24 * time.Hour) {
		c := counts[DayNumber(d)]
		c.Day = d
		out = append(out, c)
	}
	return out
}

// AdvocateRank is one line of the top-advocates table.
type AdvocateRank struct {
	Participant Participant
	Clicks      int64
	Signups     int64
	Conversions int64
	Revenue     int64 // referred revenue in the program currency, net of refunds
}

// TopAdvocatesLimit is the size of a top-advocates table asked for n: 10
// unless n is between 1 and 100.
func TopAdvocatesLimit(n int) int {
	if n <= 0 || n > 100 {
		return 10
	}
	return n
}

// RankAdvocates orders advocates by conversions, then signups, then clicks
// (participant id last, so the order is stable) and keeps the first n.
func RankAdvocates(rs []AdvocateRank, n int) []AdvocateRank {
	out := slices.Clone(rs)
	if out == nil {
		out = []AdvocateRank{}
	}
	slices.SortStableFunc(out, func(a, b AdvocateRank) int {
		switch {
		case a.Conversions != b.Conversions:
			return cmpDesc(a.Conversions, b.Conversions)
		case a.Signups != b.Signups:
			return cmpDesc(a.Signups, b.Signups)
		case a.Clicks != b.Clicks:
			return cmpDesc(a.Clicks, b.Clicks)
		case a.Participant.ID < b.Participant.ID:
			return -1
		case a.Participant.ID > b.Participant.ID:
			return 1
		}
		return 0
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func cmpDesc(a, b int64) int {
	if a > b {
		return -1
	}
	return 1
}

// FlaggedWindow is how far back the "flagged" alert counts referrals
// rejected or waiting for review.
const FlaggedWindow = 30 * 24 * time.Hour

// ProgramAlerts are the things needing a human in a program. A pending
// reward is overdue once its hold has ended (the approval job is late or
// failing).
type ProgramAlerts struct {
	PendingRewards int64 // rewards awaiting approval (hold running)
	OverdueRewards int64 // pending rewards whose hold ended (the approval job is late or failing)
	UnderReview    int64 // referrals waiting for a fraud reviewer (flagged or held)
	ManualRewards  int64 // rewards queued for manual approval (over a cap)
	FlaggedLast30  int64 // referrals rejected or waiting for review, signed up in the last 30 days
	FailedJobs     int64 // background jobs that used all their attempts (installation-wide)
}
