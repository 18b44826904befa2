package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Contests: time-limited competitions between a program's advocates, with
// a leaderboard and automatic winner selection when they end (the
// contest.finish job, scheduled at creation). Prizes are rewards like any
// other: pending with the program's hold, in the ledger, explained. The
// domain decides the standings and who wins what (parrain/contest.go).

// CreateContest validates and stores a contest and schedules its end, in
// one transaction with its audit entry. The bool is true when the answer
// is a replay of idem.
func (s *Service) CreateContest(ctx context.Context, programID string, c parrain.Contest, idem store.Idem) (parrain.Contest, bool, error) {
	if err := c.NormalizeNew(); err != nil {
		return c, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Contest, error) {
		c := c // a fresh copy per attempt: the transaction may be retried
		if _, err := tx.Program(ctx, programID); err != nil {
			return c, err
		}
		now := tx.Now()
		c.ID, c.ProgramID, c.CreatedAt = tx.NewContestID(), programID, now
		if err := tx.InsertContest(ctx, c); err != nil {
			return c, err
		}
		payload, err := json.Marshal(parrain.FinishContestArgs{ContestID: c.ID})
		if err != nil {
			return c, err
		}
		if err := tx.Enqueue(ctx, parrain.JobFinishContest, parrain.JobFinishContest+":"+c.ID, payload, c.EndsAt); err != nil {
			return c, err
		}
		c.Status = c.StatusAt(now)
		return c, tx.Audit(ctx, store.ContextActor(ctx), store.AuditContestCreated, "contest", c.ID, programID,
			map[string]any{"name": c.Name, "starts_at": c.StartsAt, "ends_at": c.EndsAt})
	})
}

// Contests lists a program's contests, newest first, with their status now.
func (s *Service) Contests(ctx context.Context, programID string) ([]parrain.Contest, error) {
	if _, err := s.st.Program(ctx, programID); err != nil {
		return nil, err
	}
	cs, err := s.st.Contests(ctx, programID)
	if err != nil {
		return nil, err
	}
	now := s.st.Clock().Now()
	for i := range cs {
		cs[i].Status = cs[i].StatusAt(now)
	}
	return cs, nil
}

// Contest returns a contest of a program with its status now and its
// winners once finished.
func (s *Service) Contest(ctx context.Context, programID, id string) (parrain.Contest, error) {
	c, err := s.st.Contest(ctx, programID, id)
	if err != nil {
		return c, err
	}
	c.Status = c.StatusAt(s.st.Clock().Now())
	return c, nil
}

// ContestLeaderboard returns a contest's leaderboard (at most limit
// entries; all when limit is 0).
func (s *Service) ContestLeaderboard(ctx context.Context, programID, id string, limit int) (parrain.Leaderboard, error) {
	c, err := s.Contest(ctx, programID, id)
	if err != nil {
		return parrain.Leaderboard{}, err
	}
	succ, err := s.st.ContestSuccesses(ctx, c)
	if err != nil {
		return parrain.Leaderboard{}, err
	}
	return parrain.Leaderboard{Contest: c, Entries: c.Standings(succ)}.Top(limit), nil
}

// PublicLeaderboard returns the leaderboard of a public contest with
// display names only; a contest that is not public is not found.
func (s *Service) PublicLeaderboard(ctx context.Context, id string, limit int) (parrain.Leaderboard, error) {
	programID, err := s.st.ContestProgram(ctx, id)
	if err != nil {
		return parrain.Leaderboard{}, err
	}
	lb, err := s.ContestLeaderboard(ctx, programID, id, limit)
	if err != nil {
		return lb, err
	}
	pub, ok := lb.Public()
	if !ok {
		return parrain.Leaderboard{}, parrain.Errorf(parrain.CodeNotFound, "contest not found")
	}
	return pub, nil
}

// FinishContest is the contest.finish job: once the contest has ended it
// ranks the advocates, decides the prizes and records them as rewards with
// the winners, in one transaction. It is idempotent: a finished contest is
// left alone. Before the end, notBefore says when to try again.
func (s *Service) FinishContest(ctx context.Context, id string) (notBefore time.Time, err error) {
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		notBefore = time.Time{} // a retried attempt starts afresh
		c, err := tx.ContestForUpdate(ctx, id)
		if parrain.ErrorCode(err) == parrain.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		now := tx.Now()
		finish, wait := c.FinishStep(now)
		if !finish {
			notBefore = wait
			return nil
		}
		prog, err := tx.Program(ctx, c.ProgramID)
		if err != nil {
			return err
		}
		succ, err := tx.ContestSuccesses(ctx, c)
		if err != nil {
			return err
		}
		entries := c.Standings(succ)
		last := map[string]string{} // advocate → the referral that brought the score
		for _, e := range entries {
			last[e.ParticipantID] = e.LastReferralID
		}
		for _, pa := range c.AllocatePrizes(parrain.Ranked(entries), prog.Currency) {
			ref, err := tx.ReferralByID(ctx, last[pa.ParticipantID])
			if err != nil {
				return err
			}
			rw, err := tx.GrantReward(ctx, &prog, &ref, pa.Award(&c, prog.Currency), parrain.PrizeSource(c.ID))
			if err != nil {
				return fmt.Errorf("granting the prize of rank %d: %w", pa.Rank, err)
			}
			if err := tx.RecordContestWinner(ctx, c.ID, pa.ParticipantID, pa.Rank, pa.Score.Score, rw.ID); err != nil {
				return err
			}
		}
		return tx.MarkContestFinished(ctx, c.ID, now)
	})
	return notBefore, err
}
