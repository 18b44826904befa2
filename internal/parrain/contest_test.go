package parrain

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func validContest() Contest {
	return Contest{Name: "November sprint", StartsAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Prizes: []Prize{{Rank: 1, Reward: RewardSpec{Kind: KindCash, Amount: 50000}}, {Rank: 2, Reward: RewardSpec{Kind: KindCash, Amount: 20000}},
			{Rank: 3, Reward: RewardSpec{Kind: KindCash, Amount: 10000}}}}
}

func TestContestNormalize(t *testing.T) {
	c := validContest()
	if err := c.Normalize(); err != nil {
		t.Fatal(err)
	}
	if c.TieRule != TieFirstToReach || c.Metric != MetricSuccessfulReferrals || c.MinReferrals != 1 || c.Prizes[0].Reward.Type != AmountFixed {
		t.Errorf("defaults %+v", c)
	}
	tests := []struct {
		name  string
		mod   func(*Contest)
		field string
	}{
		{"name", func(c *Contest) { c.Name = " " }, "name"},
		{"starts", func(c *Contest) { c.StartsAt = time.Time{} }, "starts_at"},
		{"ends before", func(c *Contest) { c.EndsAt = c.StartsAt }, "ends_at"},
		{"too long", func(c *Contest) { c.EndsAt = c.StartsAt.AddDate(1, 1, 0) }, "ends_at"},
		{"metric", func(c *Contest) { c.Metric = "revenue" }, "metric"},
		{"tie", func(c *Contest) { c.TieRule = "coin" }, "tie_rule"},
		{"min", func(c *Contest) { c.MinReferrals = -1 }, "min_referrals"},
		{"no prizes", func(c *Contest) { c.Prizes = nil }, "prizes"},
		{"rank gap", func(c *Contest) { c.Prizes[2].Rank = 4 }, "prizes[2].rank"},
		{"rank twice", func(c *Contest) { c.Prizes[1].Rank = 1 }, "prizes[1].rank"},
		{"percent prize", func(c *Contest) { c.Prizes[0].Reward = RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 10} }, "prizes[0].reward.type"},
		{"zero prize", func(c *Contest) { c.Prizes[0].Reward.Amount = 0 }, "prizes[0].reward.amount"},
		{"split of mixed kinds", func(c *Contest) {
			c.TieRule = TieSplit
			c.Prizes[1].Reward = RewardSpec{Kind: KindGiftCard, Amount: 100, Pool: "amazon"}
		}, "prizes[1].reward.kind"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validContest()
			tc.mod(&c)
			wantInvalid(t, c.Normalize(), tc.field)
		})
	}
}

func TestRankAndPrizes(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 10, h, 0, 0, 0, time.UTC) }
	scores := []Score{
		{"carol", 5, at(3)}, {"alice", 7, at(9)}, {"bob", 7, at(5)}, {"dave", 5, at(1)}, {"erin", 1, at(2)}, {"fred", 5, at(1)},
	}
	tests := []struct {
		tie   TieRule
		ranks string
		wins  string
	}{
		{TieFirstToReach, "bob:1 alice:2 dave:3 fred:4 carol:5 erin:6", "bob:1=50000 alice:2=20000 dave:3=10000"},
		{TieShared, "bob:1 alice:1 dave:3 fred:3 carol:3 erin:6", "bob:1=50000 alice:1=50000 dave:3=10000 fred:3=10000 carol:3=10000"},
		// Places 1–2 (70000) split by bob and alice; place 3 (10000) split
		// three ways, the remainder cent to the earliest (dave).
		{TieSplit, "bob:1 alice:1 dave:3 fred:3 carol:3 erin:6", "bob:1=35000 alice:1=35000 dave:3=3334 fred:3=3333 carol:3=3333"},
	}
	for _, tc := range tests {
		t.Run(string(tc.tie), func(t *testing.T) {
			st := Rank(scores, tc.tie)
			var ranks []string
			for _, s := range st {
				ranks = append(ranks, fmt.Sprintf("%s:%d", s.ParticipantID, s.Rank))
			}
			if got := strings.Join(ranks, " "); got != tc.ranks {
				t.Fatalf("ranks %s, want %s", got, tc.ranks)
			}
			c := validContest()
			c.TieRule = tc.tie
			if err := c.Normalize(); err != nil {
				t.Fatal(err)
			}
			var wins []string
			var total int64
			for _, pa := range c.AllocatePrizes(st, "EUR") {
				wins = append(wins, fmt.Sprintf("%s:%d=%d", pa.ParticipantID, pa.Rank, pa.Amount))
				total += pa.Amount
				if !strings.Contains(pa.Explanation, "November sprint") {
					t.Errorf("explanation %q", pa.Explanation)
				}
			}
			if got := strings.Join(wins, " "); got != tc.wins {
				t.Fatalf("wins %s, want %s", got, tc.wins)
			}
			if tc.tie == TieSplit && total != 80000 {
				t.Errorf("split total %d, want all prizes 80000", total)
			}
		})
	}
	// Nobody below min_referrals wins, even with prizes left.
	c := validContest()
	c.MinReferrals = 6
	_ = c.Normalize()
	if got := c.AllocatePrizes(Rank(scores, TieFirstToReach), "EUR"); len(got) != 2 {
		t.Errorf("min referrals: %+v", got)
	}
	if got := c.AllocatePrizes(nil, "EUR"); len(got) != 0 {
		t.Errorf("empty contest: %+v", got)
	}
}

func TestContestStatusAndDisplayName(t *testing.T) {
	c := validContest()
	for _, tc := range []struct {
		now  time.Time
		want ContestStatus
	}{{c.StartsAt.Add(-time.Second), ContestScheduled}, {c.StartsAt, ContestRunning}, {c.EndsAt, ContestEnded}} {
		if got := c.StatusAt(tc.now); got != tc.want {
			t.Errorf("StatusAt(%v) = %s", tc.now, got)
		}
	}
	now := c.EndsAt
	c.FinishedAt = &now
	if c.StatusAt(now) != ContestFinished {
		t.Error("finished")
	}
	if DisplayName("Alice Martin", 1) != "Alice M." || DisplayName("", 3) != "Advocate #3" || DisplayName("  ", 2) != "Advocate #2" {
		t.Error("display names")
	}
}

func TestContestFinishStep(t *testing.T) {
	end := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	done := end.Add(time.Minute)
	for _, tc := range []struct {
		name      string
		finished  *time.Time
		now       time.Time
		finish    bool
		notBefore time.Time
	}{
		{"before the end: wait for it", nil, end.Add(-time.Hour), false, end},
		{"at the end", nil, end, true, time.Time{}},
		{"after the end", nil, end.Add(time.Hour), true, time.Time{}},
		{"already finished", &done, end.Add(time.Hour), false, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Contest{EndsAt: end, FinishedAt: tc.finished}
			finish, nb := c.FinishStep(tc.now)
			if finish != tc.finish || !nb.Equal(tc.notBefore) {
				t.Errorf("got %v %v", finish, nb)
			}
		})
	}
	for _, c := range []Contest{{ID: "cst_1"}, {Status: ContestRunning}, {Winners: []ContestWinner{{}}}, {FinishedAt: &done}} {
		if err := c.NormalizeNew(); ErrorCode(err) != CodeInvalid || AsError(err).Field != "id" {
			t.Errorf("server fields %+v: %v", c, err)
		}
	}
}

func TestContestStandings(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	succ := func(adv, name string, h int) ContestSuccess {
		return ContestSuccess{AdvocateID: adv, ExternalID: "x-" + adv, Name: name, ReferralID: fmt.Sprintf("ref_%s_%d", adv, h), SucceededAt: t0.Add(time.Duration(h) * time.Hour)}
	}
	rows := []ContestSuccess{succ("a", "Ann Lee", 1), succ("b", "Bob Stone", 2), succ("a", "Ann Lee", 3), succ("c", "", 4), succ("b", "Bob Stone", 5)}
	for _, tc := range []struct {
		tie   TieRule
		order string
		ranks []int
	}{
		{TieShared, "abc", []int{1, 1, 3}},
		{TieSplit, "abc", []int{1, 1, 3}},
		{TieFirstToReach, "abc", []int{1, 2, 3}}, // a reached 2 at 3h, b at 5h
	} {
		t.Run(string(tc.tie), func(t *testing.T) {
			c := Contest{TieRule: tc.tie}
			es := c.Standings(rows)
			var order string
			for i, e := range es {
				order += e.ParticipantID
				if e.Rank != tc.ranks[i] {
					t.Errorf("%s ranked %d, want %d", e.ParticipantID, e.Rank, tc.ranks[i])
				}
			}
			if order != tc.order {
				t.Fatalf("order %q", order)
			}
			if es[0].Score != 2 || es[0].LastReferralID != "ref_a_3" || !es[0].ReachedAt.Equal(t0.Add(3*time.Hour)) || es[0].DisplayName != "Ann L." ||
				es[2].DisplayName != "Advocate #3" || es[2].Score != 1 {
				t.Errorf("entries %+v", es)
			}
			st := Ranked(es)
			if len(st) != 3 || st[1].ParticipantID != "b" || st[1].Rank != tc.ranks[1] || st[1].Score.Score != 2 {
				t.Errorf("ranked %+v", st)
			}
		})
	}
	if es := (&Contest{}).Standings(nil); es == nil || len(es) != 0 {
		t.Errorf("no success: %+v", es)
	}
}

func TestLeaderboardPublicAndTop(t *testing.T) {
	lb := Leaderboard{Contest: Contest{Public: true, Winners: []ContestWinner{{ExternalID: "a"}}},
		Entries: []LeaderboardEntry{{Rank: 1, ExternalID: "a", Name: "Ann Lee", DisplayName: "Ann L."}, {Rank: 2, ExternalID: "b", Name: "Bob", DisplayName: "Bob"}}}
	for _, tc := range []struct {
		limit, want int
	}{{0, 2}, {-1, 2}, {1, 1}, {5, 2}} {
		if n := len(lb.Top(tc.limit).Entries); n != tc.want {
			t.Errorf("top %d: %d entries", tc.limit, n)
		}
	}
	pub, ok := lb.Public()
	if !ok || pub.Entries[0].ExternalID != "" || pub.Entries[0].Name != "" || pub.Entries[0].DisplayName != "Ann L." || pub.Contest.Winners != nil {
		t.Errorf("public %+v", pub)
	}
	if lb.Entries[0].ExternalID != "a" || len(lb.Contest.Winners) != 1 {
		t.Error("Public changed the leaderboard it was called on")
	}
	lb.Contest.Public = false
	if _, ok := lb.Public(); ok {
		t.Error("a private contest has a public leaderboard")
	}
}

func TestPrizeAward(t *testing.T) {
	c := Contest{ID: "cst_1", Name: "Sprint", StartsAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}
	pa := PrizeAward{Standing: Standing{Score: Score{ParticipantID: "par_1", Score: 4}, Rank: 2},
		Prize: Prize{Rank: 2, Reward: RewardSpec{Kind: KindCredit, Amount: 900, Description: "store credit"}}, Amount: 450, Explanation: "rank 2"}
	a := pa.Award(&c, "EUR")
	if a.RuleID != "prize_2_par_1" || a.Owner != "par_1" || a.Role != RoleAdvocate || a.Trigger != TriggerContest || a.Kind != KindCredit ||
		a.AmountType != AmountFixed || a.Amount != 450 || a.Currency != "EUR" || a.Description != "store credit" || !a.At.Equal(c.EndsAt) ||
		a.Inputs.SuccessfulReferrals != 4 || a.Inputs.Event != "contest Sprint" || a.Inputs.Period != "2026-05-01T00:00:00Z to 2026-06-01T00:00:00Z" ||
		len(a.Steps) != 1 || a.Explanation != "rank 2" {
		t.Errorf("award %+v", a)
	}
	if s := PrizeSource(c.ID); s.EventID != "contest:cst_1" {
		t.Errorf("source %+v", s)
	}
}
