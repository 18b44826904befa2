package parrain

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Contests are time-limited competitions between a program's advocates:
// the advocates with the most successful referrals between StartsAt and
// EndsAt win the prizes, which are recorded in the ledger like any other
// reward when the contest ends.

// TieRule decides between advocates with the same score.
type TieRule string

// Tie rules.
const (
	// TieFirstToReach ranks the advocate who reached the score first
	// higher (their last counted success is earlier).
	TieFirstToReach TieRule = "first_to_reach"
	// TieShared gives every tied advocate the prize of their rank in full.
	TieShared TieRule = "shared"
	// TieSplit pools the prizes of the positions the tied advocates occupy
	// and splits the pool equally (the remainder, in minor units, goes to
	// the earliest to reach the score).
	TieSplit TieRule = "split"
)

// ContestStatus is where a contest stands.
type ContestStatus string

// Contest states.
const (
	ContestScheduled ContestStatus = "scheduled" // not started yet
	ContestRunning   ContestStatus = "running"   // between its start and end
	ContestEnded     ContestStatus = "ended"     // ended, winners being recorded
	ContestFinished  ContestStatus = "finished"  // winners recorded
)

// MetricSuccessfulReferrals counts each advocate's successful referrals.
const MetricSuccessfulReferrals = "successful_referrals"

// Prize is the reward of a rank (1 = the winner).
type Prize struct {
	Rank   int        `json:"rank"`
	Reward RewardSpec `json:"reward"`
}

// Contest is a time-limited competition.
type Contest struct {
	ID           string    `json:"id"`
	ProgramID    string    `json:"program_id"`
	Name         string    `json:"name"`
	Description  string    `json:"description,omitempty"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	Metric       string    `json:"metric"`
	TieRule      TieRule   `json:"tie_rule"`
	MinReferrals int       `json:"min_referrals"`
	// Public lets the leaderboard be read without an API key, with display
	// names only.
	Public     bool            `json:"public"`
	Prizes     []Prize         `json:"prizes"`
	Status     ContestStatus   `json:"status"`
	Winners    []ContestWinner `json:"winners,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
}

// ContestWinner is a prize awarded at the end of a contest.
type ContestWinner struct {
	Rank       int    `json:"rank"`
	ExternalID string `json:"external_id"`
	Score      int    `json:"score"`
	RewardID   string `json:"reward_id"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
}

// StatusAt returns the contest's status at now (finished once its winners
// are recorded).
func (c *Contest) StatusAt(now time.Time) ContestStatus {
	switch {
	case c.FinishedAt != nil:
		return ContestFinished
	case now.Before(c.StartsAt):
		return ContestScheduled
	case now.Before(c.EndsAt):
		return ContestRunning
	}
	return ContestEnded
}

// Normalize validates a contest and applies defaults. Prizes are in the
// program currency.
func (c *Contest) Normalize() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Invalid("name", "is required")
	}
	if len(c.Name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	c.Description = strings.TrimSpace(c.Description)
	if len(c.Description) > 2000 {
		return Invalid("description", "must be at most 2000 characters")
	}
	if c.StartsAt.IsZero() {
		return Invalid("starts_at", "is required")
	}
	if c.EndsAt.IsZero() {
		return Invalid("ends_at", "is required")
	}
	c.StartsAt, c.EndsAt = c.StartsAt.UTC().Truncate(time.Millisecond), c.EndsAt.UTC().Truncate(time.Millisecond)
	if !c.EndsAt.After(c.StartsAt) {
		return Invalid("ends_at", "must be after starts_at")
	}
	if c.EndsAt.Sub(c.StartsAt) > 366*24*time.Hour {
		return Invalid("ends_at", "a contest lasts at most 366 days")
	}
	switch c.Metric {
	case "":
		c.Metric = MetricSuccessfulReferrals
	case MetricSuccessfulReferrals:
	default:
		return Invalid("metric", "must be successful_referrals")
	}
	switch c.TieRule {
	case "":
		c.TieRule = TieFirstToReach
	case TieFirstToReach, TieShared, TieSplit:
	default:
		return Invalid("tie_rule", "must be first_to_reach, shared or split")
	}
	if c.MinReferrals == 0 {
		c.MinReferrals = 1
	}
	if c.MinReferrals < 1 || c.MinReferrals > 100000 {
		return Invalid("min_referrals", "must be between 1 and 100000")
	}
	if len(c.Prizes) == 0 {
		return Invalid("prizes", "at least one prize is required")
	}
	if len(c.Prizes) > 100 {
		return Invalid("prizes", "at most 100 prizes")
	}
	sort.SliceStable(c.Prizes, func(i, j int) bool { return c.Prizes[i].Rank < c.Prizes[j].Rank })
	for i := range c.Prizes {
		pz := &c.Prizes[i]
		f := fmt.Sprintf("prizes[%d]", i)
		if pz.Rank != i+1 {
			return Invalid(f+".rank", "ranks must be 1, 2, 3, … each once")
		}
		s := &pz.Reward
		if s.Type == "" {
			s.Type = AmountFixed
		}
		if s.Type != AmountFixed {
			return Invalid(f+".reward.type", "a prize is a fixed amount")
		}
		if err := s.validate(f+".reward", TriggerContest); err != nil {
			return err
		}
		if len(s.Tiers) > 0 || len(s.PartnerRates) > 0 || s.TrueUpMonths != 0 {
			return Invalid(f+".reward", "a prize has no tiers, partner rates or true-ups")
		}
		if c.TieRule == TieSplit && (s.Kind != c.Prizes[0].Reward.Kind || (s.Kind != KindCash && s.Kind != KindCredit)) {
			return Invalid(f+".reward.kind", "split ties divide amounts: all prizes must be cash, or all credit")
		}
	}
	return nil
}

// Score is an advocate's result in a contest.
type Score struct {
	ParticipantID string
	Score         int
	// ReachedAt is when the advocate reached their score (their last
	// counted success).
	ReachedAt time.Time
}

// Standing is an advocate's place on a leaderboard.
type Standing struct {
	Score
	Rank int
}

// Rank orders scores best first and ranks them under the tie rule:
// first_to_reach ranks every advocate differently (earlier ReachedAt
// first); shared and split give tied advocates the same rank (1, 1, 3).
// Order among exact ties is by ReachedAt then participant id, so the result
// is deterministic.
func Rank(scores []Score, tie TieRule) []Standing {
	s := append([]Score(nil), scores...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].Score != s[j].Score {
			return s[i].Score > s[j].Score
		}
		if !s[i].ReachedAt.Equal(s[j].ReachedAt) {
			return s[i].ReachedAt.Before(s[j].ReachedAt)
		}
		return s[i].ParticipantID < s[j].ParticipantID
	})
	out := make([]Standing, len(s))
	for i, sc := range s {
		rank := i + 1
		if tie != TieFirstToReach && i > 0 && sc.Score == s[i-1].Score {
			rank = out[i-1].Rank
		}
		out[i] = Standing{Score: sc, Rank: rank}
	}
	return out
}

// PrizeAward is a prize to grant to one advocate.
type PrizeAward struct {
	Standing
	Prize       Prize // the prize of the rank (for split ties, its kind; Amount below is the share)
	Amount      int64
	Explanation string
}

// AllocatePrizes decides who wins what: advocates ranked within the
// prizes and with at least MinReferrals. Under split, tied advocates pool
// the prizes of the positions they occupy and share the pool equally.
func (c *Contest) AllocatePrizes(standings []Standing, currency string) []PrizeAward {
	var out []PrizeAward
	eligible := standings[:0:0]
	for _, st := range standings {
		if st.Score.Score >= c.MinReferrals {
			eligible = append(eligible, st)
		}
	}
	period := fmt.Sprintf("%s to %s", c.StartsAt.Format("2006-01-02 15:04"), c.EndsAt.Format("2006-01-02 15:04 UTC"))
	for i := 0; i < len(eligible); {
		st := eligible[i]
		if st.Rank > len(c.Prizes) {
			break
		}
		// The group tied with st (only shared and split have ties).
		j := i + 1
		for j < len(eligible) && eligible[j].Rank == st.Rank {
			j++
		}
		group := eligible[i:j]
		switch c.TieRule {
		case TieSplit:
			var pool int64
			var ranks []string
			for pos := i; pos < j && pos < len(c.Prizes); pos++ {
				pool += c.Prizes[pos].Reward.Amount
				ranks = append(ranks, fmt.Sprint(pos+1))
			}
			share, rem := pool/int64(len(group)), pool%int64(len(group))
			for k, g := range group {
				amt := share
				if int64(k) < rem {
					amt++
				}
				expl := fmt.Sprintf("contest %q (%s): rank %d with %d successful referrals", c.Name, period, g.Rank, g.Score.Score)
				if len(group) > 1 {
					expl += fmt.Sprintf(", tied with %d others: prizes of places %s (%s %s) split equally = %s %s",
						len(group)-1, strings.Join(ranks, ", "), FormatMinor(pool, currency), currency, FormatMinor(amt, currency), currency)
				}
				if amt > 0 {
					out = append(out, PrizeAward{Standing: g, Prize: c.Prizes[st.Rank-1], Amount: amt, Explanation: expl})
				}
			}
		default:
			for _, g := range group {
				pz := c.Prizes[g.Rank-1]
				expl := fmt.Sprintf("contest %q (%s): rank %d with %d successful referrals", c.Name, period, g.Rank, g.Score.Score)
				if len(group) > 1 {
					expl += fmt.Sprintf(", tied with %d others: each gets the prize in full (shared ties)", len(group)-1)
				} else if c.TieRule == TieFirstToReach && ((i > 0 && eligible[i-1].Score.Score == g.Score.Score) ||
					(i+1 < len(eligible) && eligible[i+1].Score.Score == g.Score.Score)) {
					expl += fmt.Sprintf(" (tie broken by who reached it first: %s)", g.ReachedAt.Format(time.RFC3339))
				}
				out = append(out, PrizeAward{Standing: g, Prize: pz, Amount: pz.Reward.Amount, Explanation: expl})
			}
		}
		i = j
	}
	return out
}

// DisplayName is how a public leaderboard shows an advocate: first name and
// last initial ("Alice M."), or "Advocate #rank" without a name.
func DisplayName(name string, rank int) string {
	if n := ShortName(name); n != "" {
		return n
	}
	return fmt.Sprintf("Advocate #%d", rank)
}

// NormalizeNew validates a contest to create: the server sets its id,
// status, winners and finish time.
func (c *Contest) NormalizeNew() error {
	if c.ID != "" || c.Status != "" || len(c.Winners) > 0 || c.FinishedAt != nil {
		return Invalid("id", "id, status, winners and finished_at are set by the server")
	}
	return c.Normalize()
}

// FinishStep decides what the contest.finish job does at now: finish is
// true once the contest has ended and its winners are not recorded yet;
// before the end, notBefore says when to try again. A finished contest is
// left alone (the job is idempotent).
func (c *Contest) FinishStep(now time.Time) (finish bool, notBefore time.Time) {
	switch {
	case c.FinishedAt != nil:
		return false, time.Time{}
	case now.Before(c.EndsAt):
		return false, c.EndsAt
	}
	return true, time.Time{}
}

// ContestSuccess is one successful referral counted by a contest: its
// advocate (with their external id and name) and when it succeeded.
type ContestSuccess struct {
	AdvocateID  string
	ExternalID  string
	Name        string
	ReferralID  string
	SucceededAt time.Time
}

// LeaderboardEntry is an advocate's line on a contest leaderboard.
type LeaderboardEntry struct {
	Rank        int       `json:"rank"`
	ExternalID  string    `json:"external_id,omitempty"`
	Name        string    `json:"name,omitempty"`
	DisplayName string    `json:"display_name"`
	Score       int       `json:"score"`
	ReachedAt   time.Time `json:"reached_at"`
	// ParticipantID is internal (the prize owner).
	ParticipantID string `json:"-"`
	// LastReferralID is the referral that brought the score (the prize is
	// attached to it).
	LastReferralID string `json:"-"`
}

// Leaderboard is a contest's standings.
type Leaderboard struct {
	Contest Contest            `json:"contest"`
	Entries []LeaderboardEntry `json:"entries"`
}

// Standings scores each advocate by their successes (given in the order
// they happened: the last one is when the score was reached and carries
// the prize) and ranks them under the contest's tie rule.
func (c *Contest) Standings(successes []ContestSuccess) []LeaderboardEntry {
	by := map[string]*LeaderboardEntry{}
	var order []string
	for _, s := range successes {
		e := by[s.AdvocateID]
		if e == nil {
			e = &LeaderboardEntry{ParticipantID: s.AdvocateID, ExternalID: s.ExternalID, Name: s.Name}
			by[s.AdvocateID] = e
			order = append(order, s.AdvocateID)
		}
		e.Score++
		e.ReachedAt, e.LastReferralID = s.SucceededAt, s.ReferralID
	}
	scores := make([]Score, 0, len(order))
	for _, id := range order {
		scores = append(scores, Score{ParticipantID: id, Score: by[id].Score, ReachedAt: by[id].ReachedAt})
	}
	out := make([]LeaderboardEntry, 0, len(scores))
	for _, st := range Rank(scores, c.TieRule) {
		e := *by[st.ParticipantID]
		e.Rank = st.Rank
		e.DisplayName = DisplayName(e.Name, e.Rank)
		out = append(out, e)
	}
	return out
}

// Ranked returns the standings of leaderboard entries, for AllocatePrizes.
func Ranked(entries []LeaderboardEntry) []Standing {
	out := make([]Standing, 0, len(entries))
	for _, e := range entries {
		out = append(out, Standing{Score: Score{ParticipantID: e.ParticipantID, Score: e.Score, ReachedAt: e.ReachedAt}, Rank: e.Rank})
	}
	return out
}

// Top returns the leaderboard with at most limit entries (all when limit
// is 0 or less).
func (lb Leaderboard) Top(limit int) Leaderboard {
	if limit > 0 && len(lb.Entries) > limit {
		lb.Entries = lb.Entries[:limit]
	}
	return lb
}

// Public returns what anyone may read of the leaderboard: display names
// and ranks only, without the winners' details; ok is false when the
// contest is not public (it is then not found).
func (lb Leaderboard) Public() (out Leaderboard, ok bool) {
	if !lb.Contest.Public {
		return Leaderboard{}, false
	}
	out = Leaderboard{Contest: lb.Contest, Entries: make([]LeaderboardEntry, len(lb.Entries))}
	copy(out.Entries, lb.Entries)
	for i := range out.Entries {
		out.Entries[i].ExternalID, out.Entries[i].Name = "", ""
	}
	out.Contest.Winners = nil
	return out, true
}

// PrizeRuleID is the rule id of a prize reward: one per rank and winner.
func PrizeRuleID(rank int, participantID string) string {
	return fmt.Sprintf("prize_%d_%s", rank, participantID)
}

// Award is the reward a prize award grants: a fixed amount of the prize's
// kind in the program currency to the advocate, earned when the contest
// ended, explained.
func (pa PrizeAward) Award(c *Contest, currency string) Award {
	spec := pa.Prize.Reward
	return Award{
		Draft: Draft{RuleID: PrizeRuleID(pa.Rank, pa.ParticipantID), Role: RoleAdvocate,
			Trigger: TriggerContest, Kind: spec.Kind, AmountType: AmountFixed, Amount: pa.Amount,
			Currency: currency, Description: spec.Description, Explanation: pa.Explanation},
		Owner: pa.ParticipantID, At: c.EndsAt, Spec: spec,
		Inputs: Inputs{Event: "contest " + c.Name, SuccessfulReferrals: pa.Score.Score,
			Period: fmt.Sprintf("%s to %s", c.StartsAt.Format(time.RFC3339), c.EndsAt.Format(time.RFC3339))},
		Steps: []string{pa.Explanation},
	}
}

// PrizeSource is the grant source of a contest's prizes.
func PrizeSource(contestID string) GrantSource { return GrantSource{EventID: "contest:" + contestID} }
