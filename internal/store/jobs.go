package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Job is a durable unit of background work stored in the database.
type Job struct {
	ID          string
	Kind        string
	Payload     []byte
	Attempts    int
	MaxAttempts int
}

// DefaultMaxAttempts bounds retries of a job before it is marked failed.
const DefaultMaxAttempts = 25

// enqueueTx inserts a job in the caller's transaction, so the job exists if
// and only if the write that causes it commits. A job with the same
// uniqueKey is not inserted twice.
func (s *Store) enqueueTx(ctx context.Context, q querier, kind, uniqueKey string, payload []byte, runAt time.Time) error {
	var uk sql.NullString
	if uniqueKey != "" {
		uk = sql.NullString{String: uniqueKey, Valid: true}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO jobs (id, kind, unique_key, payload, state, max_attempts, run_at, created_at)
		VALUES ($1, $2, $3, $4, 'available', $5, $6, $7) ON CONFLICT DO NOTHING`,
		newID("job"), kind, uk, string(payload), DefaultMaxAttempts, ms(runAt), ms(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("enqueueing %s job: %w", kind, err)
	}
	return nil
}

// Enqueue inserts a job on its own.
func (s *Store) Enqueue(ctx context.Context, kind, uniqueKey string, payload []byte, runAt time.Time) error {
	return s.enqueueTx(ctx, s.w, kind, uniqueKey, payload, runAt)
}

// ClaimJobs leases up to n due jobs to worker for lease. Jobs whose lease
// expired (their worker died) are due again. Concurrent claimers, also in
// other processes, never receive the same job: PostgreSQL skips rows locked
// by another claimer, SQLite has a single writer.
func (s *Store) ClaimJobs(ctx context.Context, worker string, n int, lease time.Duration) ([]Job, error) {
	now := s.clock.Now()
	rows, err := s.w.QueryContext(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2
		WHERE id IN (SELECT id FROM jobs WHERE (state = 'available' AND run_at <= $3) OR (state = 'running' AND locked_until < $3)
			ORDER BY run_at LIMIT $4`+s.d.skipLocked+`)
		RETURNING id, kind, payload, attempts, max_attempts`, worker, ms(now.Add(lease)), ms(now), n)
	if err != nil {
		return nil, fmt.Errorf("claiming jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var payload string
		if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.Attempts, &j.MaxAttempts); err != nil {
			return nil, err
		}
		j.Payload = []byte(payload)
		out = append(out, j)
	}
	return out, rows.Err()
}

// CompleteJob marks a job done, if worker still holds it. A job re-armed
// while it ran (kickJobTx) is put back to run at once instead.
func (s *Store) CompleteJob(ctx context.Context, id, worker string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'available' ELSE 'done' END,
		finished_at = CASE WHEN rerun = 1 THEN NULL ELSE CAST($1 AS BIGINT) END,
		run_at = CASE WHEN rerun = 1 THEN CAST($1 AS BIGINT) ELSE run_at END,
		attempts = CASE WHEN rerun = 1 THEN 0 ELSE attempts END,
		locked_by = CASE WHEN rerun = 1 THEN '' ELSE locked_by END,
		locked_until = CASE WHEN rerun = 1 THEN 0 ELSE locked_until END,
		rerun = 0, last_error = '' WHERE id = $2 AND locked_by = $3 AND state = 'running'`,
		ms(s.clock.Now()), id, worker)
	if err != nil {
		return fmt.Errorf("completing job: %w", err)
	}
	return nil
}

// RetryJob puts a job back to run at runAt, or marks it failed when it has
// used all its attempts. A zero errMsg reschedules without counting an
// attempt as failed (a job that is simply not due yet). A job re-armed while
// it ran (kickJobTx) runs again at once.
func (s *Store) RetryJob(ctx context.Context, j Job, worker string, runAt time.Time, errMsg string) error {
	state := "available"
	if errMsg != "" && j.Attempts >= j.MaxAttempts {
		state = "failed"
	}
	attempts := j.Attempts
	if errMsg == "" {
		attempts-- // snoozing is not an attempt
	}
	_, err := s.w.ExecContext(ctx, `UPDATE jobs SET state = CASE WHEN rerun = 1 THEN 'available' ELSE $1 END,
		run_at = CASE WHEN rerun = 1 THEN CAST($5 AS BIGINT) ELSE CAST($2 AS BIGINT) END, last_error = $3, attempts = $4, locked_by = '', locked_until = 0,
		finished_at = CASE WHEN $1 = 'failed' AND rerun = 0 THEN CAST($5 AS BIGINT) ELSE NULL END, rerun = 0 WHERE id = $6 AND locked_by = $7`,
		state, ms(runAt), errMsg, attempts, ms(s.clock.Now()), j.ID, worker)
	if err != nil {
		return fmt.Errorf("rescheduling job: %w", err)
	}
	return nil
}

// JobCounts returns the number of jobs per state, for monitoring.
func (s *Store) JobCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("counting jobs: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Enqueue inserts a job in the transaction (see enqueueTx).
func (t *Tx) Enqueue(ctx context.Context, kind, uniqueKey string, payload []byte, runAt time.Time) error {
	return t.s.enqueueTx(ctx, t.tx, kind, uniqueKey, payload, runAt)
}

// FailedJob is a background job that used all its attempts.
type FailedJob struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
	FinishedAt time.Time `json:"finished_at"`
}

// FailedJobs lists the most recent failed jobs.
func (s *Store) FailedJobs(ctx context.Context, limit int) ([]FailedJob, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, attempts, last_error, COALESCE(finished_at, 0) FROM jobs WHERE state = 'failed'
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("listing failed jobs: %w", err)
	}
	defer rows.Close()
	out := []FailedJob{}
	for rows.Next() {
		var j FailedJob
		var fin int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.Attempts, &j.LastError, &fin); err != nil {
			return nil, err
		}
		j.FinishedAt = fromMS(fin)
		out = append(out, j)
	}
	return out, rows.Err()
}

// DueJobs returns how many available jobs are due now and when the oldest
// of them became due (zero when none is), for monitoring the backlog.
func (s *Store) DueJobs(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MIN(run_at) FROM jobs WHERE state = 'available' AND run_at <= $1`,
		ms(s.clock.Now())).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("counting due jobs: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMS(oldest.Int64), nil
}
