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
