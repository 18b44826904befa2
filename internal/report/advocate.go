package report

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// MaxPeriod is the longest period a report covers.
const MaxPeriod = 3 * 366 * 24 * time.Hour

// DefaultDays is the length of a report's period when none is asked for:
// the last 30 days, today included (the console overview's default).
const DefaultDays = 30

// Period reads a report's period from inclusive UTC dates ("2026-01-31"):
// [from, to + 1 day). Both empty is the last DefaultDays days ending today
// by now; one alone is invalid.
func Period(from, to string, now time.Time) (parrain.KPIPeriod, error) {
	tomorrow := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if from == "" && to == "" {
		return parrain.KPIPeriod{From: tomorrow.Add(-DefaultDays * 24 * time.Hour), To: tomorrow}, nil
	}
	f, err := time.Parse("2006-01-02", from)
	if err != nil {
		return parrain.KPIPeriod{}, parrain.Invalid("from", "must be a date like 2026-01-31 (with to)")
	}
	t, err := time.Parse("2006-01-02", to)
	if err != nil {
		return parrain.KPIPeriod{}, parrain.Invalid("to", "must be a date like 2026-01-31 (with from)")
	}
	t = t.Add(24 * time.Hour)
	if !t.After(f) {
		return parrain.KPIPeriod{}, parrain.Invalid("to", "must not be before from")
	}
	if t.Sub(f) > MaxPeriod {
		return parrain.KPIPeriod{}, parrain.Invalid("from", "the period may span at most three years")
	}
	return parrain.KPIPeriod{From: f, To: t}, nil
}

// AdvocateReport is what one advocate did over a period. Amounts are in
// minor units by currency; rewards count those caused by the period's
// events, as the program's KPIs do.
type AdvocateReport struct {
	Participant parrain.Participant `json:"participant"`
	From        time.Time           `json:"from"`
	To          time.Time           `json:"to"`
	// Clicks are valid clicks on their link; InvalidClicks those not
	// counted (disabled link, automated clients).
	Clicks        int64 `json:"clicks"`
	InvalidClicks int64 `json:"invalid_clicks"`
	// Shares are the widget's share buttons used, in total and by channel
	// (every channel listed); Invites the email invitations they typed.
	Shares          int64            `json:"shares"`
	SharesByChannel map[string]int64 `json:"shares_by_channel"`
	Invites         int64            `json:"invites"`
	Signups         int64            `json:"signups"`
	Rejected        int64            `json:"rejected"`
	Conversions     int64            `json:"conversions"`
	// Revenue is their friends' purchases net of refunds.
	Revenue map[string]int64 `json:"revenue"`
	// Earned is the outstanding value of their approved and paid rewards,
	// Pending of those waiting, Reversed what was taken back (refunds,
	// cancellations, fraud).
	Earned   map[string]int64 `json:"earned"`
	Pending  map[string]int64 `json:"pending"`
	Reversed map[string]int64 `json:"reversed"`
}

// AdvocateReport computes one advocate's report over a period.
func (s *Service) AdvocateReport(ctx context.Context, programID, externalID string, p parrain.KPIPeriod) (AdvocateReport, error) {
	part, err := s.st.Participant(ctx, programID, externalID)
	if err != nil {
		return AdvocateReport{}, err
	}
	return s.AdvocateReportOf(ctx, part, p)
}

// AdvocateReportOf computes the report of a participant already loaded.
func (s *Service) AdvocateReportOf(ctx context.Context, part parrain.Participant, p parrain.KPIPeriod) (AdvocateReport, error) {
	a, err := s.st.AdvocateActivity(ctx, part.ID, p.From, p.To)
	if err != nil {
		return AdvocateReport{}, err
	}
	r := AdvocateReport{Participant: part, From: p.From, To: p.To, Clicks: a.Clicks, InvalidClicks: a.InvalidClicks,
		SharesByChannel: a.Shares, Invites: a.Invites, Signups: a.Signups, Rejected: a.Rejected, Conversions: a.Conversions,
		Revenue: a.Revenue, Earned: map[string]int64{}, Pending: map[string]int64{}, Reversed: a.Reversed}
	for _, n := range a.Shares {
		r.Shares += n
	}
	for st, byCur := range a.Rewards {
		for cur, v := range byCur {
			switch parrain.RewardStatus(st) {
			case parrain.RewardPending:
				r.Pending[cur] += v
			case parrain.RewardApproved, parrain.RewardPaid:
				r.Earned[cur] += v
			}
		}
	}
	return r, nil
}

// Participants lists a program's participants, filtered, searched and
// ordered (store.ParticipantQuery), a page at a time; "earned" is summed in
// the program's currency.
func (s *Service) Participants(ctx context.Context, q store.ParticipantQuery, pg store.Page) ([]store.ParticipantRow, string, error) {
	prog, err := s.st.Program(ctx, q.ProgramID)
	if err != nil {
		return nil, "", err
	}
	q.Currency = prog.Currency
	return s.st.ParticipantList(ctx, q, pg)
}

// Money is a program's revenue and rewards cost per UTC day of a period,
// one entry per day including empty days, in the program's currency.
func (s *Service) Money(ctx context.Context, prog parrain.Program, p parrain.KPIPeriod) ([]store.DayMoney, error) {
	m, err := s.st.DailyMoney(ctx, prog.ID, prog.Currency, p.From, p.To)
	if err != nil {
		return nil, err
	}
	out := []store.DayMoney{}
	for d := p.From.UTC().Truncate(24 * time.Hour); d.Before(p.To); d = d.Add(24 * time.Hour) {
		v := m[parrain.DayNumber(d)]
		v.Day = d
		out = append(out, v)
	}
	return out, nil
}

// Shares counts a program's shares of a period by channel.
func (s *Service) Shares(ctx context.Context, programID string, p parrain.KPIPeriod) (map[string]int64, error) {
	return s.st.SharesByChannel(ctx, programID, p.From, p.To)
}

// Rows lays the report out as metric,currency,value rows: the API's and
// the console's CSV.
func (rep AdvocateReport) Rows() [][]string {
	out := [][]string{{"metric", "currency", "value"},
		{"from", "", rep.From.Format(time.RFC3339)}, {"to", "", rep.To.Format(time.RFC3339)}}
	n := func(name string, v int64) { out = append(out, []string{name, "", strconv.FormatInt(v, 10)}) }
	n("clicks", rep.Clicks)
	n("invalid_clicks", rep.InvalidClicks)
	n("shares", rep.Shares)
	for _, ch := range store.ShareChannels {
		n("shares_"+ch, rep.SharesByChannel[ch])
	}
	n("invites", rep.Invites)
	n("signups", rep.Signups)
	n("rejected", rep.Rejected)
	n("conversions", rep.Conversions)
	money := func(name string, m map[string]int64) {
		curs := make([]string, 0, len(m))
		for c := range m {
			curs = append(curs, c)
		}
		sort.Strings(curs)
		for _, c := range curs {
			out = append(out, []string{name, c, strconv.FormatInt(m[c], 10)})
		}
	}
	money("revenue", rep.Revenue)
	money("earned", rep.Earned)
	money("pending", rep.Pending)
	money("reversed", rep.Reversed)
	return out
}
