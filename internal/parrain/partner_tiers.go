package parrain

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// TierCriteria are what a partner needs to enter a tier. All set criteria
// must hold; zero values are not required.
type TierCriteria struct {
	// MinWonDeals is the number of deals closed won.
	MinWonDeals int `json:"min_won_deals,omitempty"`
	// MinRevenue is the value of deals closed won, in the program
	// currency's minor unit.
	MinRevenue int64 `json:"min_revenue,omitempty"`
	// TrainingRequired requires the partner's training to be completed.
	TrainingRequired bool `json:"training_required,omitempty"`
	// PeriodMonths counts deals closed in the trailing months only (0 =
	// since the partner joined), so a partner who stops selling is
	// demoted.
	PeriodMonths int `json:"period_months,omitempty"`
}

// Tier is a level of the partner program. Rank orders tiers (0 = entry);
// commission rates are the program's reward rules, whose partner_rates are
// keyed by the tier's Key (and "<key>_influenced" for influenced deals).
type Tier struct {
	Key         string       `json:"key"`
	Name        string       `json:"name"`
	Rank        int          `json:"rank"`
	Description string       `json:"description,omitempty"`
	Criteria    TierCriteria `json:"criteria"`
}

// NormalizeTiers validates a program's tiers and sorts them by rank. The
// entry tier (lowest rank) has no criteria: every approved partner is in
// it.
func NormalizeTiers(ts []Tier) error {
	if len(ts) == 0 {
		return Invalid("tiers", "at least one tier is required (the entry tier)")
	}
	if len(ts) > 10 {
		return Invalid("tiers", "at most 10 tiers")
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Rank < ts[j].Rank })
	keys, ranks := map[string]bool{}, map[int]bool{}
	for i := range ts {
		t := &ts[i]
		f := fmt.Sprintf("tiers[%d]", i)
		t.Key = strings.TrimSpace(t.Key)
		if !engineIdent(t.Key) || strings.HasSuffix(t.Key, "_influenced") {
			return Invalid(f+".key", "must be a lower-case identifier such as solution_advisor (not ending in _influenced)")
		}
		if keys[t.Key] {
			return Invalid(f+".key", "duplicate tier %q", t.Key)
		}
		keys[t.Key] = true
		if ranks[t.Rank] {
			return Invalid(f+".rank", "duplicate rank %d", t.Rank)
		}
		ranks[t.Rank] = true
		if t.Name = strings.TrimSpace(t.Name); t.Name == "" || len(t.Name) > 100 {
			return Invalid(f+".name", "is required (at most 100 characters)")
		}
		if len(t.Description) > 2000 {
			return Invalid(f+".description", "must be at most 2000 characters")
		}
		c := t.Criteria
		if c.MinWonDeals < 0 || c.MinRevenue < 0 || c.MinRevenue > MaxAmount || c.PeriodMonths < 0 || c.PeriodMonths > 60 {
			return Invalid(f+".criteria", "counts and amounts must be non-negative; period_months at most 60")
		}
		if i == 0 && (c.MinWonDeals > 0 || c.MinRevenue > 0 || c.TrainingRequired) {
			return Invalid(f+".criteria", "the entry tier (lowest rank) has no criteria: every approved partner is in it")
		}
	}
	return nil
}

// PartnerRecord is what tier evaluation knows about a partner.
type PartnerRecord struct {
	TrainingDone bool
	// Won lists the partner's deals closed won: when and for how much.
	Won []WonDeal
}

// WonDeal is one deal closed won.
type WonDeal struct {
	ClosedAt time.Time
	Value    int64
}

// tierStats counts won deals and revenue in a tier's period.
func tierStats(now time.Time, c TierCriteria, r PartnerRecord) (int, int64) {
	n, rev := 0, int64(0)
	for _, d := range r.Won {
		if c.PeriodMonths > 0 && d.ClosedAt.Before(now.AddDate(0, -c.PeriodMonths, 0)) {
			continue
		}
		n++
		rev += d.Value
	}
	return n, rev
}

// Missing lists, in words, what the partner lacks to enter tier t
// (nothing when they qualify).
func Missing(now time.Time, t Tier, r PartnerRecord, currency string) []string {
	c := t.Criteria
	n, rev := tierStats(now, c, r)
	in := "in total"
	if c.PeriodMonths > 0 {
		in = fmt.Sprintf("in the last %d months", c.PeriodMonths)
	}
	var out []string
	if n < c.MinWonDeals {
		out = append(out, fmt.Sprintf("%d more won deal(s) (%d of %d %s)", c.MinWonDeals-n, n, c.MinWonDeals, in))
	}
	if rev < c.MinRevenue {
		out = append(out, fmt.Sprintf("%s more won revenue (%s of %s %s)", partnerMoney(c.MinRevenue-rev, currency),
			partnerMoney(rev, currency), partnerMoney(c.MinRevenue, currency), in))
	}
	if c.TrainingRequired && !r.TrainingDone {
		out = append(out, "completing the training")
	}
	return out
}

// TierChange is the outcome of a tier evaluation.
type TierChange struct {
	From, To  string
	Direction string // "promotion", "demotion" or "" (unchanged)
	Reason    string
}

// EvaluateTier returns the highest tier (by rank) whose criteria the
// partner meets, compared with their current tier, with the reason in
// words. Tiers must be normalized (sorted by rank).
func EvaluateTier(now time.Time, tiers []Tier, current string, r PartnerRecord, currency string) TierChange {
	best := tiers[0]
	for _, t := range tiers[1:] {
		if len(Missing(now, t, r, currency)) == 0 {
			best = t
		}
	}
	ch := TierChange{From: current, To: best.Key}
	if current == best.Key {
		return ch
	}
	rank := func(k string) int {
		for _, t := range tiers {
			if t.Key == k {
				return t.Rank
			}
		}
		return -1 << 30
	}
	if current != "" && rank(current) == -1<<30 {
		// The partner's tier was removed from the program: not a promotion,
		// whatever tier they land in.
		ch.Direction = "demotion"
		ch.Reason = fmt.Sprintf("tier %q no longer exists: placed in %s", current, best.Name)
		return ch
	}
	if rank(best.Key) > rank(current) {
		ch.Direction = "promotion"
		n, rev := tierStats(now, best.Criteria, r)
		ch.Reason = fmt.Sprintf("meets the %s criteria: %d won deal(s), %s won revenue", best.Name, n, partnerMoney(rev, currency))
		if best.Criteria.TrainingRequired {
			ch.Reason += ", training completed"
		}
		return ch
	}
	ch.Direction = "demotion"
	for _, t := range tiers {
		if t.Key == current {
			ch.Reason = fmt.Sprintf("no longer meets the %s criteria: needs %s", t.Name, strings.Join(Missing(now, t, r, currency), ", "))
		}
	}
	return ch
}

// partnerMoney writes an amount with its currency ("1234.50 EUR").
func partnerMoney(v int64, currency string) string { return FormatMinor(v, currency) + " " + currency }

// KPIDeal is one partner deal, for KPIs.
type KPIDeal struct {
	PartnerID    string
	Tier         string
	Credit       Credit
	RegisteredAt time.Time
	ClosedAt     *time.Time
	Won          bool
	Value        int64
}

// KPIPartner is one partner, for KPIs.
type KPIPartner struct {
	ID         string
	Tier       string
	ApprovedAt *time.Time
}

// KPIs are the partner program's figures for a period [From, To). The
// formulas are documented in docs/partners.md:
//
//   - activation rate = active partners / signed partners, where signed
//     partners were approved before To and active ones registered at least
//     one lead in the period;
//   - conversion = deals won in the period / leads registered in the period;
//   - sourced revenue = value of sourced deals won in the period;
//   - average deal size = value of deals won in the period / their number;
//   - time to close = mean days from registration to close of deals won
//     in the period.
type KPIs struct {
	From               time.Time `json:"from"`
	To                 time.Time `json:"to"`
	SignedPartners     int       `json:"signed_partners"`
	ActivePartners     int       `json:"active_partners"`
	ActivationRateBps  int64     `json:"activation_rate_bps"`
	Leads              int       `json:"leads"`
	Won                int       `json:"won"`
	Lost               int       `json:"lost"`
	ConversionBps      int64     `json:"conversion_bps"`
	SourcedRevenue     int64     `json:"sourced_revenue"`
	InfluencedRevenue  int64     `json:"influenced_revenue"`
	AverageDealSize    int64     `json:"average_deal_size"`
	AverageDaysToClose float64   `json:"average_days_to_close"`
	Currency           string    `json:"currency"`
	ActivationRate     string    `json:"activation_rate"`
	LeadToCustomerRate string    `json:"lead_to_customer_rate"`
	ActivePartnerIDs   []string  `json:"-"`
}

// ComputeKPIs computes the KPIs of a set of partners and their deals over
// [from, to).
func ComputeKPIs(from, to time.Time, currency string, partners []KPIPartner, deals []KPIDeal) KPIs {
	k := KPIs{From: from, To: to, Currency: currency}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	active := map[string]bool{}
	signed := map[string]bool{}
	for _, p := range partners {
		if p.ApprovedAt != nil && p.ApprovedAt.Before(to) {
			signed[p.ID] = true
		}
	}
	var closeMS, wonValue int64
	for _, d := range deals {
		if in(d.RegisteredAt) {
			k.Leads++
			if signed[d.PartnerID] {
				active[d.PartnerID] = true
			}
		}
		if d.ClosedAt == nil || !in(*d.ClosedAt) {
			continue
		}
		if !d.Won {
			k.Lost++
			continue
		}
		k.Won++
		wonValue += d.Value
		if d.Credit == CreditInfluenced {
			k.InfluencedRevenue += d.Value
		} else {
			k.SourcedRevenue += d.Value
		}
		closeMS += d.ClosedAt.Sub(d.RegisteredAt).Milliseconds()
	}
	k.SignedPartners, k.ActivePartners = len(signed), len(active)
	for id := range active {
		k.ActivePartnerIDs = append(k.ActivePartnerIDs, id)
	}
	sort.Strings(k.ActivePartnerIDs)
	k.ActivationRateBps = ratioBps(int64(k.ActivePartners), int64(k.SignedPartners))
	k.ConversionBps = ratioBps(int64(k.Won), int64(k.Leads))
	if k.Won > 0 {
		k.AverageDealSize = (wonValue + int64(k.Won)/2) / int64(k.Won)
		k.AverageDaysToClose = float64(closeMS/int64(k.Won)) / float64(24*time.Hour/time.Millisecond)
		k.AverageDaysToClose = float64(int64(k.AverageDaysToClose*10+0.5)) / 10
	}
	k.ActivationRate, k.LeadToCustomerRate = FormatBps(k.ActivationRateBps)+"%", FormatBps(k.ConversionBps)+"%"
	return k
}

// ratioBps is num/den in basis points, rounded half up (0 when den is 0).
func ratioBps(num, den int64) int64 {
	if den == 0 {
		return 0
	}
	return (num*10000*2 + den) / (den * 2)
}

// QuarterBounds returns the calendar quarter containing t (UTC).
func QuarterBounds(t time.Time) (time.Time, time.Time) { return PeriodQuarter.Bounds(t) }
