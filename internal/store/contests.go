package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Contests: time-limited competitions between a program's advocates, with a
// leaderboard and automatic winner selection when they end (a durable job
// scheduled at creation). Prizes are rewards like any other: pending with
// the program's hold, in the ledger, explained.

// CreateContest validates and stores a contest and schedules its end.
func (s *Store) CreateContest(ctx context.Context, programID string, c parrain.Contest, idem Idem) (parrain.Contest, bool, error) {
	if c.ID != "" || c.Status != "" || len(c.Winners) > 0 || c.FinishedAt != nil {
		return c, false, parrain.Invalid("id", "id, status, winners and finished_at are set by the server")
	}
	if err := c.Normalize(); err != nil {
		return c, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Contest, error) {
		if _, err := s.programQ(ctx, tx, programID, ""); err != nil {
			return c, err
		}
		now := s.clock.Now()
		c.ID, c.ProgramID, c.CreatedAt = newID("cst"), programID, now
		doc, err := json.Marshal(c)
		if err != nil {
			return c, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO contests (id, program_id, document, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.ID, programID, string(doc), ms(c.StartsAt), ms(c.EndsAt), ms(now)); err != nil {
			return c, fmt.Errorf("inserting contest: %w", err)
		}
		payload, _ := json.Marshal(parrain.FinishContestArgs{ContestID: c.ID})
		if err := s.enqueueTx(ctx, tx, parrain.JobFinishContest, parrain.JobFinishContest+":"+c.ID, payload, c.EndsAt); err != nil {
			return c, err
		}
		c.Status = c.StatusAt(now)
		return c, s.audit(ctx, tx, AuditContestCreated, "contest", c.ID, programID,
			map[string]any{"name": c.Name, "starts_at": c.StartsAt, "ends_at": c.EndsAt})
	})
}

const contestCols = `id, program_id, document, finished_at`

func scanContest(sc scanner) (parrain.Contest, error) {
	var c parrain.Contest
	var id, prog, doc string
	var finished sql.NullInt64
	if err := sc.Scan(&id, &prog, &doc, &finished); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return c, fmt.Errorf("decoding contest %s: %w", id, err)
	}
	c.ID, c.ProgramID, c.FinishedAt = id, prog, fromNullMS(finished)
	return c, nil
}

func (s *Store) contestsQ(ctx context.Context, q querier, programID string) ([]parrain.Contest, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+contestCols+` FROM contests WHERE program_id = $1 ORDER BY id DESC LIMIT 200`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing contests: %w", err)
	}
	defer rows.Close()
	now := s.clock.Now()
	out := []parrain.Contest{}
	for rows.Next() {
		c, err := scanContest(rows)
		if err != nil {
			return nil, err
		}
		c.Status = c.StatusAt(now)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contests lists a program's contests, newest first.
func (s *Store) Contests(ctx context.Context, programID string) ([]parrain.Contest, error) {
	if _, err := s.Program(ctx, programID); err != nil {
		return nil, err
	}
	return s.contestsQ(ctx, s.r, programID)
}

// Contest returns a contest of a program, with its winners once finished.
func (s *Store) Contest(ctx context.Context, programID, id string) (parrain.Contest, error) {
	c, err := scanContest(s.r.QueryRowContext(ctx, `SELECT `+contestCols+` FROM contests WHERE id = $1 AND program_id = $2`, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contest")
	}
	if err != nil {
		return c, err
	}
	c.Status = c.StatusAt(s.clock.Now())
	rows, err := s.r.QueryContext(ctx, `SELECT w.rank, p.external_id, w.score, w.reward_id, r.amount, r.currency FROM contest_winners w
		JOIN participants p ON p.id = w.participant_id JOIN rewards r ON r.id = w.reward_id WHERE w.contest_id = $1 ORDER BY w.rank, p.external_id`, id)
	if err != nil {
		return c, fmt.Errorf("loading winners: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w parrain.ContestWinner
		if err := rows.Scan(&w.Rank, &w.ExternalID, &w.Score, &w.RewardID, &w.Amount, &w.Currency); err != nil {
			return c, err
		}
		c.Winners = append(c.Winners, w)
	}
	return c, rows.Err()
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
	Contest parrain.Contest    `json:"contest"`
	Entries []LeaderboardEntry `json:"entries"`
}

// standingsQ computes a contest's standings: each advocate's successful,
// non-voided referrals that succeeded within the contest, ranked with its
// tie rule.
func (s *Store) standingsQ(ctx context.Context, q querier, c parrain.Contest) ([]LeaderboardEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.advocate_id, r.id, r.succeeded_at, p.external_id, p.name FROM referrals r
		JOIN participants p ON p.id = r.advocate_id
		WHERE r.program_id = $1 AND r.succeeded_at >= $2 AND r.succeeded_at < $3 AND r.status <> 'rejected'
		AND (r.voided_at IS NULL OR r.voided_at >= $3) ORDER BY r.succeeded_at, r.id`, c.ProgramID, ms(c.StartsAt), ms(c.EndsAt))
	if err != nil {
		return nil, fmt.Errorf("computing standings: %w", err)
	}
	defer rows.Close()
	by := map[string]*LeaderboardEntry{}
	var order []string
	for rows.Next() {
		var adv, ref, ext, name string
		var at int64
		if err := rows.Scan(&adv, &ref, &at, &ext, &name); err != nil {
			return nil, err
		}
		e := by[adv]
		if e == nil {
			e = &LeaderboardEntry{ParticipantID: adv, ExternalID: ext, Name: name}
			by[adv] = e
			order = append(order, adv)
		}
		e.Score++
		e.ReachedAt, e.LastReferralID = fromMS(at), ref
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	scores := make([]parrain.Score, 0, len(order))
	for _, id := range order {
		scores = append(scores, parrain.Score{ParticipantID: id, Score: by[id].Score, ReachedAt: by[id].ReachedAt})
	}
	out := make([]LeaderboardEntry, 0, len(scores))
	for _, st := range parrain.Rank(scores, c.TieRule) {
		e := *by[st.ParticipantID]
		e.Rank = st.Rank
		e.DisplayName = parrain.DisplayName(e.Name, e.Rank)
		out = append(out, e)
	}
	return out, nil
}

// ContestLeaderboard returns a contest's leaderboard (at most limit
// entries).
func (s *Store) ContestLeaderboard(ctx context.Context, programID, id string, limit int) (Leaderboard, error) {
	c, err := s.Contest(ctx, programID, id)
	if err != nil {
		return Leaderboard{}, err
	}
	es, err := s.standingsQ(ctx, s.r, c)
	if err != nil {
		return Leaderboard{}, err
	}
	if limit > 0 && len(es) > limit {
		es = es[:limit]
	}
	return Leaderboard{Contest: c, Entries: es}, nil
}

// PublicLeaderboard returns the leaderboard of a public contest with
// display names only; a contest that is not public is not found.
func (s *Store) PublicLeaderboard(ctx context.Context, id string, limit int) (Leaderboard, error) {
	var programID string
	err := s.r.QueryRowContext(ctx, `SELECT program_id FROM contests WHERE id = $1`, id).Scan(&programID)
	if errors.Is(err, sql.ErrNoRows) {
		return Leaderboard{}, notFound("contest")
	}
	if err != nil {
		return Leaderboard{}, err
	}
	lb, err := s.ContestLeaderboard(ctx, programID, id, limit)
	if err != nil {
		return lb, err
	}
	if !lb.Contest.Public {
		return Leaderboard{}, notFound("contest")
	}
	for i := range lb.Entries {
		lb.Entries[i].ExternalID, lb.Entries[i].Name = "", ""
	}
	// Winners are shown by rank and display name only.
	c := lb.Contest
	c.Winners = nil
	lb.Contest = c
	return lb, nil
}

// FinishContest picks a contest's winners once it has ended and records
// their prizes as rewards. It is idempotent: a finished contest is left
// alone. Before the end, notBefore says when to try again.
func (s *Store) FinishContest(ctx context.Context, id string) (notBefore time.Time, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		notBefore = time.Time{} // a retried attempt starts afresh
		c, err := scanContest(tx.QueryRowContext(ctx, `SELECT `+contestCols+` FROM contests WHERE id = $1`+s.d.forUpdate, id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if c.FinishedAt != nil {
			return nil
		}
		now := s.clock.Now()
		if now.Before(c.EndsAt) {
			notBefore = c.EndsAt
			return nil
		}
		prog, err := s.programQ(ctx, tx, c.ProgramID, "")
		if err != nil {
			return err
		}
		entries, err := s.standingsQ(ctx, tx, c)
		if err != nil {
			return err
		}
		byID := map[string]LeaderboardEntry{}
		var standings []parrain.Standing
		for _, e := range entries {
			byID[e.ParticipantID] = e
			standings = append(standings, parrain.Standing{Score: parrain.Score{ParticipantID: e.ParticipantID, Score: e.Score, ReachedAt: e.ReachedAt}, Rank: e.Rank})
		}
		for _, pa := range c.AllocatePrizes(standings, prog.Currency) {
			e := byID[pa.ParticipantID]
			ref, err := s.referralByID(ctx, tx, e.LastReferralID)
			if err != nil {
				return err
			}
			rc, err := s.loadRefCtx(ctx, tx, ref)
			if err != nil {
				return err
			}
			spec := pa.Prize.Reward
			a := parrain.Award{
				Draft: parrain.Draft{RuleID: fmt.Sprintf("prize_%d_%s", pa.Rank, pa.ParticipantID), Role: parrain.RoleAdvocate,
					Trigger: parrain.TriggerContest, Kind: spec.Kind, AmountType: parrain.AmountFixed, Amount: pa.Amount,
					Currency: prog.Currency, Description: spec.Description, Explanation: pa.Explanation},
				Owner: pa.ParticipantID, At: c.EndsAt, Spec: spec,
				Inputs: parrain.Inputs{Event: "contest " + c.Name, SuccessfulReferrals: pa.Score.Score,
					Period: fmt.Sprintf("%s to %s", c.StartsAt.Format(time.RFC3339), c.EndsAt.Format(time.RFC3339))},
				Steps: []string{pa.Explanation},
			}
			rw, err := s.grantTx(ctx, tx, &prog, &rc.Referral, a, parrain.GrantSource{EventID: "contest:" + c.ID})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO contest_winners (contest_id, participant_id, rank, score, reward_id) VALUES ($1, $2, $3, $4, $5)`,
				c.ID, pa.ParticipantID, pa.Rank, pa.Score.Score, rw.ID); err != nil {
				return fmt.Errorf("recording winner: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE contests SET finished_at = $1 WHERE id = $2`, ms(now), c.ID); err != nil {
			return fmt.Errorf("finishing contest: %w", err)
		}
		return nil
	})
	return notBefore, err
}
