package parrain

import (
	"maps"
	"testing"
	"time"
)

func TestKPIPeriod(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		p        KPIPeriod
		prevFrom time.Time
		days     int
	}{
		{"a week", KPIPeriod{t0, t0.Add(7 * day)}, t0.Add(-7 * day), 7},
		{"a week and an hour", KPIPeriod{t0, t0.Add(7*day + time.Hour)}, t0.Add(-7*day - time.Hour), 7},
		{"half a day", KPIPeriod{t0, t0.Add(12 * time.Hour)}, t0.Add(-12 * time.Hour), 0},
		{"empty", KPIPeriod{t0, t0}, t0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := tc.p.Previous()
			if !prev.To.Equal(tc.p.From) || !prev.From.Equal(tc.prevFrom) || tc.p.Days() != tc.days {
				t.Errorf("previous %+v, days %d", prev, tc.p.Days())
			}
		})
	}
}

func TestComputeProgramKPIs(t *testing.T) {
	p := KPIPeriod{From: time.Unix(0, 0), To: time.Unix(86400, 0)}
	for _, tc := range []struct {
		name string
		a    KPIActivity
		want ProgramKPIs
	}{
		{"no share tracking: clickers stand in for sharers and participants",
			KPIActivity{Advocates: 10, LateAdvocates: 2, Clicks: 7, Clickers: 3, Shares: 99, Sharers: 99, Active: 99},
			ProgramKPIs{Advocates: 12, Clicks: 7, Participating: 3, Sharers: 3}},
		{"share tracking: shares and the union of sharers and clickers",
			KPIActivity{Advocates: 10, Clicks: 7, Clickers: 3, SharesTracked: true, Shares: 5, Sharers: 4, Active: 6},
			ProgramKPIs{Advocates: 10, Clicks: 7, Participating: 6, Sharers: 4, Shares: 5, SharesTracked: true}},
		{"revenue in the program currency only, purchases of every currency counted",
			KPIActivity{Signups: 3, Rejected: 1, Conversions: 2,
				Purchases: map[string]PurchaseTally{"EUR": {Count: 2, Net: 14000}, "USD": {Count: 1, Net: 3000}}},
			ProgramKPIs{Signups: 3, Rejected: 1, Conversions: 2, Purchases: 3, Revenue: 14000, OtherRevenue: map[string]int64{"USD": 3000}}},
		{"rewards by status",
			KPIActivity{Rewards: map[RewardStatus]int64{RewardPending: 4000, RewardApproved: 2000}},
			ProgramKPIs{Rewards: map[RewardStatus]int64{RewardPending: 4000, RewardApproved: 2000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := ComputeProgramKPIs(p, "EUR", tc.a)
			w := tc.want
			if k.Period != p || k.Currency != "EUR" || k.Advocates != w.Advocates || k.Clicks != w.Clicks || k.Participating != w.Participating ||
				k.Sharers != w.Sharers || k.Shares != w.Shares || k.SharesTracked != w.SharesTracked || k.Signups != w.Signups ||
				k.Rejected != w.Rejected || k.Conversions != w.Conversions || k.Purchases != w.Purchases || k.Revenue != w.Revenue {
				t.Errorf("got %+v, want %+v", k, w)
			}
			if len(k.OtherRevenue) != len(w.OtherRevenue) || !maps.Equal(k.OtherRevenue, w.OtherRevenue) {
				t.Errorf("other revenue %v, want %v", k.OtherRevenue, w.OtherRevenue)
			}
			if !maps.Equal(k.Rewards, w.Rewards) {
				t.Errorf("rewards %v, want %v", k.Rewards, w.Rewards)
			}
		})
	}
}

func TestKPIRates(t *testing.T) {
	k := ProgramKPIs{Advocates: 8, Participating: 2, Sharers: 2, Shares: 5, Clicks: 4, Conversions: 2, Revenue: 14000,
		Rewards: map[RewardStatus]int64{RewardPending: 4000, RewardApproved: 2000}}
	tracked := k
	tracked.SharesTracked = true
	for _, tc := range []struct {
		name string
		got  Ratio
		want Ratio
		pm   int64
	}{
		{"participation", k.ParticipationRate(), Ratio{2, 8}, 250},
		{"share", k.ShareRate(), Ratio{2, 8}, 250},
		{"click-through without shares: clicks per clicked advocate", k.ClickThrough(), Ratio{4, 2}, 2000},
		{"click-through with shares: clicks per share", tracked.ClickThrough(), Ratio{4, 5}, 800},
		{"conversion", k.ConversionRate(), Ratio{2, 4}, 500},
		{"ROI", k.ROI(), Ratio{8000, 6000}, 1333},
		{"ROI without cost", ProgramKPIs{Revenue: 10}.ROI(), Ratio{10, 0}, 0},
		{"two thirds rounds half up", Ratio{2, 3}, Ratio{2, 3}, 667},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want || tc.got.Permille() != tc.pm || tc.got.Defined() != (tc.want.Den != 0) {
				t.Errorf("got %+v (%d‰), want %+v (%d‰)", tc.got, tc.got.Permille(), tc.want, tc.pm)
			}
		})
	}
	if c := k.RewardsCost(); c != 6000 {
		t.Errorf("rewards cost %d", c)
	}
}

func TestDailySeries(t *testing.T) {
	day := 24 * time.Hour
	mid := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	counts := map[int64]DayCount{
		DayNumber(mid):           {Clicks: 3},
		DayNumber(mid.Add(day)):  {Signups: 2, Conversions: 1},
		DayNumber(mid.Add(-day)): {Clicks: 99}, // before the period
	}
	for _, tc := range []struct {
		name   string
		p      KPIPeriod
		days   int
		clicks int64
	}{
		{"aligned to midnight", KPIPeriod{mid, mid.Add(7 * day)}, 7, 3},
		{"not aligned spans one more day", KPIPeriod{mid.Add(time.Hour), mid.Add(7*day + time.Hour)}, 8, 3},
		{"one hour", KPIPeriod{mid.Add(time.Hour), mid.Add(2 * time.Hour)}, 1, 3},
		{"empty", KPIPeriod{mid, mid}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DailySeries(tc.p, counts)
			var clicks int64
			for i, d := range s {
				clicks += d.Clicks
				if !d.Day.Equal(mid.Add(time.Duration(i) * day)) {
					t.Errorf("day %d is %v", i, d.Day)
				}
			}
			if len(s) != tc.days || clicks != tc.clicks {
				t.Errorf("%d days, %d clicks: %+v", len(s), clicks, s)
			}
		})
	}
	if s := DailySeries(KPIPeriod{mid, mid.Add(2 * day)}, counts); s[1].Signups != 2 || s[1].Conversions != 1 {
		t.Errorf("second day %+v", s[1])
	}
}

func TestRankAdvocates(t *testing.T) {
	r := func(id string, conv, su, cl int64) AdvocateRank {
		return AdvocateRank{Participant: Participant{ID: id}, Conversions: conv, Signups: su, Clicks: cl}
	}
	ids := func(rs []AdvocateRank) (s string) {
		for _, x := range rs {
			s += x.Participant.ID
		}
		return s
	}
	for _, tc := range []struct {
		name string
		in   []AdvocateRank
		n    int
		want string
	}{
		{"conversions first", []AdvocateRank{r("a", 0, 9, 9), r("b", 1, 0, 0)}, 10, "ba"},
		{"then signups", []AdvocateRank{r("a", 1, 1, 9), r("b", 1, 2, 0)}, 10, "ba"},
		{"then clicks", []AdvocateRank{r("a", 1, 1, 1), r("b", 1, 1, 2)}, 10, "ba"},
		{"then id", []AdvocateRank{r("b", 1, 1, 1), r("a", 1, 1, 1)}, 10, "ab"},
		{"cut to n", []AdvocateRank{r("c", 0, 0, 1), r("a", 0, 0, 3), r("b", 0, 0, 2)}, 2, "ab"},
		{"none", nil, 10, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RankAdvocates(tc.in, tc.n)
			if ids(got) != tc.want || got == nil {
				t.Errorf("got %q, want %q", ids(got), tc.want)
			}
		})
	}
	for n, want := range map[int]int{-1: 10, 0: 10, 1: 1, 5: 5, 100: 100, 101: 10} {
		if got := TopAdvocatesLimit(n); got != want {
			t.Errorf("limit %d: %d, want %d", n, got, want)
		}
	}
}
