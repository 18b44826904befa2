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

// Contests: time-limited competitions between a program's advocates. The
// store keeps their documents, the successes they count and their winners;
// internal/referral runs them (creation, leaderboards, the contest.finish
// job) with the domain's rules (parrain/contest.go).

// NewContestID returns a fresh contest id.
func (t *Tx) NewContestID() string { return newID("cst") }

// InsertContest stores a new contest.
func (t *Tx) InsertContest(ctx context.Context, c parrain.Contest) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encoding contest: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO contests (id, program_id, document, starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.ProgramID, string(doc), ms(c.StartsAt), ms(c.EndsAt), ms(c.CreatedAt)); err != nil {
		return fmt.Errorf("inserting contest: %w", err)
	}
	return nil
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

// Contests lists a program's contests (at most 200), newest first, as
// stored (their status is not set).
func (s *Store) Contests(ctx context.Context, programID string) ([]parrain.Contest, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+contestCols+` FROM contests WHERE program_id = $1 ORDER BY id DESC LIMIT 200`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing contests: %w", err)
	}
	defer rows.Close()
	out := []parrain.Contest{}
	for rows.Next() {
		c, err := scanContest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contest returns a contest of a program with its winners once finished,
// as stored (its status is not set).
func (s *Store) Contest(ctx context.Context, programID, id string) (parrain.Contest, error) {
	c, err := scanContest(s.r.QueryRowContext(ctx, `SELECT `+contestCols+` FROM contests WHERE id = $1 AND program_id = $2`, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contest")
	}
	if err != nil {
		return c, err
	}
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

// ContestProgram returns the program of a contest.
func (s *Store) ContestProgram(ctx context.Context, id string) (string, error) {
	var programID string
	err := s.r.QueryRowContext(ctx, `SELECT program_id FROM contests WHERE id = $1`, id).Scan(&programID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("contest")
	}
	if err != nil {
		return "", fmt.Errorf("loading contest: %w", err)
	}
	return programID, nil
}

// contestSuccessesQ returns the successes a contest counts: its program's
// referrals that succeeded within it, not rejected, and not voided before
// it ended, in the order they succeeded.
func contestSuccessesQ(ctx context.Context, q querier, c parrain.Contest) ([]parrain.ContestSuccess, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.advocate_id, r.id, r.succeeded_at, p.external_id, p.name FROM referrals r
		JOIN participants p ON p.id = r.advocate_id
		WHERE r.program_id = $1 AND r.succeeded_at >= $2 AND r.succeeded_at < $3 AND r.status <> 'rejected'
		AND (r.voided_at IS NULL OR r.voided_at >= $3) ORDER BY r.succeeded_at, r.id`, c.ProgramID, ms(c.StartsAt), ms(c.EndsAt))
	if err != nil {
		return nil, fmt.Errorf("computing standings: %w", err)
	}
	defer rows.Close()
	var out []parrain.ContestSuccess
	for rows.Next() {
		var s parrain.ContestSuccess
		var at int64
		if err := rows.Scan(&s.AdvocateID, &s.ReferralID, &at, &s.ExternalID, &s.Name); err != nil {
			return nil, err
		}
		s.SucceededAt = fromMS(at)
		out = append(out, s)
	}
	return out, rows.Err()
}

// ContestSuccesses returns the successes a contest counts, in the order
// they succeeded.
func (s *Store) ContestSuccesses(ctx context.Context, c parrain.Contest) ([]parrain.ContestSuccess, error) {
	return contestSuccessesQ(ctx, s.r, c)
}

// ContestSuccesses is Store.ContestSuccesses in the transaction.
func (t *Tx) ContestSuccesses(ctx context.Context, c parrain.Contest) ([]parrain.ContestSuccess, error) {
	return contestSuccessesQ(ctx, t.tx, c)
}

// ContestForUpdate returns a contest, locked until the transaction ends.
func (t *Tx) ContestForUpdate(ctx context.Context, id string) (parrain.Contest, error) {
	c, err := scanContest(t.tx.QueryRowContext(ctx, `SELECT `+contestCols+` FROM contests WHERE id = $1`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("contest")
	}
	if err != nil {
		return c, fmt.Errorf("loading contest: %w", err)
	}
	return c, nil
}

// RecordContestWinner records a prize awarded at the end of a contest.
func (t *Tx) RecordContestWinner(ctx context.Context, contestID, participantID string, rank, score int, rewardID string) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO contest_winners (contest_id, participant_id, rank, score, reward_id) VALUES ($1, $2, $3, $4, $5)`,
		contestID, participantID, rank, score, rewardID); err != nil {
		return fmt.Errorf("recording winner: %w", err)
	}
	return nil
}

// MarkContestFinished records that a contest's winners are recorded.
func (t *Tx) MarkContestFinished(ctx context.Context, id string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE contests SET finished_at = $1 WHERE id = $2`, ms(at), id); err != nil {
		return fmt.Errorf("finishing contest: %w", err)
	}
	return nil
}
