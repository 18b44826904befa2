package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SignInFailures returns how many failed sign-ins are counted under key and
// when the last one happened (0 and the zero time when none is).
func (s *Store) SignInFailures(ctx context.Context, key string) (int, time.Time, error) {
	var n int
	var last int64
	err := s.r.QueryRowContext(ctx, `SELECT failures, last_failure_at FROM sign_in_failures WHERE key = $1`, key).Scan(&n, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("reading sign-in failures: %w", err)
	}
	return n, fromMS(last), nil
}

// AddSignInFailure counts one more failure under key at now and returns the
// count. A count whose last failure is older than forgetBefore starts again
// at one; rows that old are deleted on the way.
func (s *Store) AddSignInFailure(ctx context.Context, key string, now, forgetBefore time.Time) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE last_failure_at < $1`, ms(forgetBefore)); err != nil {
			return fmt.Errorf("forgetting old sign-in failures: %w", err)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES ($1, 1, $2)
			ON CONFLICT (key) DO UPDATE SET failures = sign_in_failures.failures + 1, last_failure_at = $2
			RETURNING failures`, key, ms(now)).Scan(&n)
		if err != nil {
			return fmt.Errorf("counting a sign-in failure: %w", err)
		}
		return nil
	})
	return n, err
}

// ClearSignInFailures forgets the failures counted under key.
func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clearing sign-in failures: %w", err)
	}
	return nil
}
