package console

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// periodChoice is the period picker's state.
type periodChoice struct {
	Key      string // 7d, 30d, 90d, 365d or custom
	From, To string // inclusive dates for the custom form
	Period   parrain.KPIPeriod
	Previous parrain.KPIPeriod
}

var presetDays = map[string]int{"7d": 7, "30d": 30, "90d": 90, "365d": 365}

// parsePeriod reads ?period= (7d, 30d, 90d, 365d; default 30d) or ?from=
// and ?to= (inclusive dates, UTC). Presets end with today, by the store's
// clock, so tests with a fake clock see fixed periods.
func parsePeriod(r *http.Request, now time.Time) (periodChoice, error) {
	q := r.URL.Query()
	tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	pc := periodChoice{Key: q.Get("period")}
	if q.Get("from") != "" || q.Get("to") != "" {
		from, err := time.Parse("2006-01-02", q.Get("from"))
		if err != nil {
			return pc, parrain.Invalid("from", "must be a date like 2026-01-31")
		}
		to, err := time.Parse("2006-01-02", q.Get("to"))
		if err != nil {
			return pc, parrain.Invalid("to", "must be a date like 2026-01-31")
		}
		to = to.Add(24 * time.Hour)
		if !to.After(from) {
			return pc, parrain.Invalid("to", "must not be before from")
		}
		if to.Sub(from) > 3*366*24*time.Hour {
			return pc, parrain.Invalid("from", "the period may span at most three years")
		}
		pc.Key, pc.Period = "custom", parrain.KPIPeriod{From: from, To: to}
	} else {
		if pc.Key == "" {
			pc.Key = "30d"
		}
		days, ok := presetDays[pc.Key]
		if !ok {
			return pc, parrain.Invalid("period", "must be 7d, 30d, 90d or 365d")
		}
		pc.Period = parrain.KPIPeriod{From: tomorrow.Add(-time.Duration(days) * 24 * time.Hour), To: tomorrow}
	}
	pc.Previous = pc.Period.Previous()
	pc.From = pc.Period.From.Format("2006-01-02")
	pc.To = pc.Period.To.Add(-24 * time.Hour).Format("2006-01-02")
	return pc, nil
}

// kpiCard is one KPI with its previous-period value.
type kpiCard struct {
	ID, Name, Help string
	Value, Prev    string
	Change, Trend  string
	// Good says whether up is good (cost going up is not).
	Good bool
}

func rateCard(id, name, help string, cur, prev Ratio) kpiCard {
	c := kpiCard{ID: id, Name: name, Help: help, Value: cur.Percent(), Prev: prev.Percent(), Good: true}
	if cur.Defined() && prev.Defined() {
		c.Change = changePoints(cur.Permille(), prev.Permille())
		c.Trend = trend(cur.Permille(), prev.Permille())
	} else {
		c.Change, c.Trend = "—", "flat"
	}
	return c
}

// changePoints renders a difference of two rates in percentage points.
func changePoints(cur, prev int64) string {
	d := cur - prev
	s := tenths(d) + " pts"
	if d > 0 {
		s = "+" + s
	}
	return s
}

func moneyCard(id, name, help string, cur, prev int64, currency string, good bool) kpiCard {
	return kpiCard{ID: id, Name: name, Help: help, Value: money(cur, currency), Prev: money(prev, currency),
		Change: change(cur, prev), Trend: trend(cur, prev), Good: good}
}

func kpiCards(k, p parrain.ProgramKPIs) []kpiCard {
	ctrHelp := "Clicks per share."
	ctr, pctr := Ratio(k.ClickThrough()), Ratio(p.ClickThrough())
	shareHelp := "Advocates who shared their link at least once in the period, out of all advocates."
	if !k.SharesTracked {
		ctrHelp = "Share tracking is off: clicks per advocate whose link was clicked."
		shareHelp = "Share tracking is off: advocates whose link was clicked, out of all advocates (a proxy)."
	}
	ctrCard := kpiCard{ID: "ctr", Name: "Click-through", Help: ctrHelp, Value: ctr.Times(), Prev: pctr.Times(), Good: true,
		Change: change(ctr.Permille(), pctr.Permille()), Trend: trend(ctr.Permille(), pctr.Permille())}
	return []kpiCard{
		rateCard("participation", "Participation rate", "Advocates who shared or got a click in the period, out of all advocates.",
			Ratio(k.ParticipationRate()), Ratio(p.ParticipationRate())),
		rateCard("share", "Share rate", shareHelp, Ratio(k.ShareRate()), Ratio(p.ShareRate())),
		ctrCard,
		rateCard("conversion", "Conversion rate", "Referred friends whose first purchase happened in the period, per valid click.",
			Ratio(k.ConversionRate()), Ratio(p.ConversionRate())),
		moneyCard("revenue", "Referred revenue", "Purchases of referred friends in the period, net of refunds, in the program currency.",
			k.Revenue, p.Revenue, k.Currency, true),
		moneyCard("cost", "Rewards cost", "Outstanding value of the rewards caused by the period's events (pending, approved and paid).",
			k.RewardsCost(), p.RewardsCost(), k.Currency, false),
		rateCard("roi", "ROI", "(Referred revenue − rewards cost) ÷ rewards cost.", Ratio(k.ROI()), Ratio(p.ROI())),
	}
}

// overviewData is the overview page.
type overviewData struct {
	Period   periodChoice
	Cards    []kpiCard
	KPIs     parrain.ProgramKPIs
	Prev     parrain.ProgramKPIs
	Charts   []chartView
	Days     []parrain.DayCount
	Top      []parrain.AdvocateRank
	Alerts   parrain.ProgramAlerts
	Open     []store.Alert      // the reward engine's open alerts (pool ran dry, fulfilment failing, …)
	LowPools []store.CouponPool // imported coupon pools empty or under their low-water mark
	Rewards  []rewardSplit
	Currency string
	// InvalidTotal counts the period's clicks on disabled links, from
	// automated clients and on unknown codes (report.KPIReport).
	InvalidTotal int64
}

// chartView is one chart with its caption.
type chartView struct {
	Title, Color string
	Total        int64
	SVG          template.HTML
}

type rewardSplit struct {
	Status        parrain.RewardStatus
	Amount, Prev  string
	AmountMinor   int64
	Change, Trend string
}

// Overview serves GET /admin/: the program's KPIs for a period beside the
// previous period, the daily activity chart, top advocates and alerts.
func (c *Console) Overview(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Overview", Nav: "overview", Auth: a, Programs: all, Program: prog}
	if prog == nil {
		c.render(w, r, http.StatusOK, "overview", v)
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	ctx := r.Context()
	o, err := c.reports.Overview(ctx, *prog, pc.Period)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d := overviewData{Period: pc, Currency: prog.Currency, KPIs: o.KPIs, Prev: o.Prev, Days: o.Days, Top: o.Top, Alerts: o.Alerts,
		Open: o.Open, LowPools: o.LowPools, InvalidTotal: o.Invalid.DisabledCode + o.Invalid.Automated + o.Invalid.UnknownCode}
	d.Cards = kpiCards(d.KPIs, d.Prev)
	for _, st := range []parrain.RewardStatus{parrain.RewardPending, parrain.RewardApproved, parrain.RewardPaid} {
		cur, prev := d.KPIs.Rewards[st], d.Prev.Rewards[st]
		d.Rewards = append(d.Rewards, rewardSplit{Status: st, Amount: money(cur, prog.Currency), Prev: money(prev, prog.Currency),
			AmountMinor: cur, Change: change(cur, prev), Trend: trend(cur, prev)})
	}
	days := make([]time.Time, len(d.Days))
	var clicks, signups, convs []int64
	for i, x := range d.Days {
		days[i] = x.Day
		clicks, signups, convs = append(clicks, x.Clicks), append(signups, x.Signups), append(convs, x.Conversions)
	}
	for _, sr := range []series{
		{ID: "chart-clicks", Title: "Clicks", Color: "clicks", Days: days, Values: clicks},
		{ID: "chart-signups", Title: "Signups", Color: "signups", Days: days, Values: signups},
		{ID: "chart-conversions", Title: "Conversions", Color: "conversions", Days: days, Values: convs},
	} {
		var total int64
		for _, v := range sr.Values {
			total += v
		}
		d.Charts = append(d.Charts, chartView{Title: sr.Title, Color: sr.Color, Total: total, SVG: barChart(sr)})
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "overview", v)
}

// csvAnswer starts a CSV download.
func csvAnswer(w http.ResponseWriter, name string) *csv.Writer {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return csv.NewWriter(w)
}

// csvSafe neutralises spreadsheet formulas in user-supplied text (CSV
// injection): a leading =, +, - or @ is prefixed with a quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// OverviewCSV serves GET /admin/overview.csv: the chart's numbers per day
// and the KPIs of the period and the previous one.
func (c *Console) OverviewCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	days, err := c.reports.DailySeries(r.Context(), prog.ID, pc.Period)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	name := fmt.Sprintf("parrain-%s-daily-%s-%s.csv", prog.ID, pc.From, pc.To)
	cw := csvAnswer(w, name)
	_ = cw.Write([]string{"date", "clicks", "signups", "conversions"})
	for _, d := range days {
		_ = cw.Write([]string{d.Day.Format("2006-01-02"), strconv.FormatInt(d.Clicks, 10), strconv.FormatInt(d.Signups, 10),
			strconv.FormatInt(d.Conversions, 10)})
	}
	cw.Flush()
}

// KPIsCSV serves GET /admin/kpis.csv: the KPI figures of the period and
// the previous period, raw counts and minor units included.
func (c *Console) KPIsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	k, err := c.reports.KPIReport(r.Context(), *prog, pc.Period)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cur, prev := k.KPIs, k.Prev
	cw := csvAnswer(w, fmt.Sprintf("parrain-%s-kpis-%s-%s.csv", prog.ID, pc.From, pc.To))
	_ = cw.Write([]string{"metric", "period", "previous_period"})
	row := func(name string, f func(parrain.ProgramKPIs) string) { _ = cw.Write([]string{name, f(cur), f(prev)}) }
	n := func(f func(parrain.ProgramKPIs) int64) func(parrain.ProgramKPIs) string {
		return func(k parrain.ProgramKPIs) string { return strconv.FormatInt(f(k), 10) }
	}
	row("period_start", func(k parrain.ProgramKPIs) string { return k.Period.From.Format("2006-01-02") })
	row("period_end_exclusive", func(k parrain.ProgramKPIs) string { return k.Period.To.Format("2006-01-02") })
	row("advocates", n(func(k parrain.ProgramKPIs) int64 { return k.Advocates }))
	row("participating_advocates", n(func(k parrain.ProgramKPIs) int64 { return k.Participating }))
	row("sharing_advocates", n(func(k parrain.ProgramKPIs) int64 { return k.Sharers }))
	row("shares", n(func(k parrain.ProgramKPIs) int64 { return k.Shares }))
	row("valid_clicks", n(func(k parrain.ProgramKPIs) int64 { return k.Clicks }))
	inv := func(name string, f func(store.InvalidClicks) int64) {
		_ = cw.Write([]string{name, strconv.FormatInt(f(k.Invalid), 10), strconv.FormatInt(f(k.PrevInvalid), 10)})
	}
	inv("invalid_clicks_disabled_code", func(c store.InvalidClicks) int64 { return c.DisabledCode })
	inv("invalid_clicks_automated", func(c store.InvalidClicks) int64 { return c.Automated })
	inv("invalid_clicks_unknown_code", func(c store.InvalidClicks) int64 { return c.UnknownCode })
	row("signups", n(func(k parrain.ProgramKPIs) int64 { return k.Signups }))
	row("rejected_referrals", n(func(k parrain.ProgramKPIs) int64 { return k.Rejected }))
	row("conversions", n(func(k parrain.ProgramKPIs) int64 { return k.Conversions }))
	row("referred_purchases", n(func(k parrain.ProgramKPIs) int64 { return k.Purchases }))
	row("referred_revenue_minor_"+prog.Currency, n(func(k parrain.ProgramKPIs) int64 { return k.Revenue }))
	row("rewards_cost_minor_"+prog.Currency, n(func(k parrain.ProgramKPIs) int64 { return k.RewardsCost() }))
	for _, card := range kpiCards(cur, prev) {
		_ = cw.Write([]string{card.ID, card.Value, card.Prev})
	}
	cw.Flush()
}

// Jobs serves GET /admin/jobs: the background jobs that failed for good.
func (c *Console) Jobs(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	jobs, err := c.st.FailedJobs(r.Context(), 100)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	counts, err := c.st.JobCounts(r.Context())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, http.StatusOK, "jobs", view{Title: "Background jobs", Nav: "settings", Auth: a, Programs: all, Program: prog,
		Data: struct {
			Failed []store.FailedJob
			Counts map[string]int64
		}{jobs, counts}})
}
