package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// DefaultIdempotencyTTL is how long an idempotency key is remembered unless
// configured otherwise (--idempotency-ttl): 24 hours, like Stripe's.
const DefaultIdempotencyTTL = 24 * time.Hour

// Idem identifies a write request for idempotency: Scope is the space keys
// are unique in (for the API, the program of the request, or the
// installation for requests outside any program: never the API key, so
// that one logical request sent through two keys has one effect), Key the
// client's Idempotency-Key, Hash a digest of the request (method, path and
// body). An empty Key disables the check.
type Idem struct {
	Scope string
	Key   string
	Hash  string
}

// IdemScope returns the scope of the API's idempotency keys for a request
// about programID ("" for requests outside any program).
func IdemScope(programID string) string {
	if programID == "" {
		return "installation"
	}
	return "program:" + programID
}

// idempotent runs fn in one write transaction together with the
// idempotency record, so that the record commits if and only if the write
// does. A replay (same scope and key, within the store's idempotency TTL)
// returns the stored result and true without running fn; a replay with
// another request hash is refused. A key older than the TTL has expired:
// it is taken over by the new request, which runs. A concurrent duplicate
// waits on the key's unique index (PostgreSQL) or the single writer
// (SQLite) and then sees the first request's record: exactly one effect,
// also across processes. Two concurrent reuses of one expired key are
// told apart by the conditional take-over (only one moves created_at).
func idempotent[T any](ctx context.Context, s *Store, idem Idem, fn func(*sql.Tx) (T, error)) (T, bool, error) {
	var out T
	replayed := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, replayed, err = idempotentTx(ctx, s, tx, idem, fn)
		return err
	})
	return out, replayed, err
}

// takeExpiredKey gives an expired key's record to a new request, reporting
// whether it did. The update names the created_at it read, so that of two
// requests taking over one expired key only the first does; the second
// then reads the first's record like any replay.
func (s *Store) takeExpiredKey(ctx context.Context, tx *sql.Tx, idem Idem, now time.Time) (bool, error) {
	var created int64
	if err := tx.QueryRowContext(ctx, `SELECT created_at FROM idempotency_keys WHERE scope = $1 AND key = $2`,
		idem.Scope, idem.Key).Scan(&created); err != nil {
		return false, fmt.Errorf("reading idempotency key: %w", err)
	}
	if now.Sub(fromMS(created)) < s.idemTTL {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET request_hash = $1, response = '', created_at = $2
		WHERE scope = $3 AND key = $4 AND created_at = $5`, idem.Hash, ms(now), idem.Scope, idem.Key, created)
	if err != nil {
		return false, fmt.Errorf("renewing an expired idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renewing an expired idempotency key: %w", err)
	}
	return n == 1, nil
}

// forRecord returns what the idempotency record keeps of an answer: an
// answer holding a secret shown once (a webhook endpoint's signing secret,
// bank details) has a ForRecord method returning it without the secret, so
// that a replay never shows the secret again and the stored answers hold
// none.
func forRecord[T any](v T) T {
	if r, ok := any(v).(interface{ ForRecord() T }); ok {
		return r.ForRecord()
	}
	return v
}

// idempotentTx is one attempt of idempotent in the transaction tx (its
// own, or its savepoint in a group commit).
func idempotentTx[T any](ctx context.Context, s *Store, tx *sql.Tx, idem Idem, fn func(*sql.Tx) (T, error)) (out T, replayed bool, err error) {
	if idem.Key != "" {
		now := s.clock.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
			VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING`, idem.Scope, idem.Key, idem.Hash, ms(now))
		if err != nil {
			return out, false, fmt.Errorf("recording idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			taken, err := s.takeExpiredKey(ctx, tx, idem, now)
			if err != nil {
				return out, false, err
			}
			if !taken {
				var hash, resp string
				if err := tx.QueryRowContext(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
					idem.Scope, idem.Key).Scan(&hash, &resp); err != nil {
					return out, false, fmt.Errorf("reading idempotency key: %w", err)
				}
				if hash != idem.Hash {
					return out, false, &parrain.Error{Code: parrain.CodeIdempotencyReuse, Field: "Idempotency-Key",
						Message: fmt.Sprintf("this Idempotency-Key was already used with a different request (keys are remembered for %s)", s.idemTTL)}
				}
				return out, true, json.Unmarshal([]byte(resp), &out)
			}
		}
	}
	v, err := fn(tx)
	if err != nil {
		return out, false, err
	}
	out = v
	if idem.Key != "" {
		b, err := json.Marshal(forRecord(v))
		if err != nil {
			return out, false, fmt.Errorf("encoding idempotent response: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET response = $1 WHERE scope = $2 AND key = $3`,
			string(b), idem.Scope, idem.Key); err != nil {
			return out, false, fmt.Errorf("storing idempotent response: %w", err)
		}
	}
	return out, false, nil
}

// Idempotent runs fn in one write transaction with the idempotency record
// of idem, exactly as the store's own idempotent writes do: a replay
// returns the stored result and true without running fn. The use-case
// packages wrap their writes in it.
func Idempotent[T any](ctx context.Context, s *Store, idem Idem, fn func(*Tx) (T, error)) (T, bool, error) {
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (T, error) { return fn(&Tx{tx: tx, s: s}) })
}

// IdempotencyTTL is how long this store remembers idempotency keys.
func (s *Store) IdempotencyTTL() time.Duration { return s.idemTTL }

// PurgeIdempotencyKeys deletes the keys that expired before now, with
// their stored answers, and reports how many. Expired keys are harmless
// (a reuse takes them over) but hold copies of past answers.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`, ms(s.clock.Now().Add(-s.idemTTL)))
		if err != nil {
			return fmt.Errorf("purging expired idempotency keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// IdempotentGrouped is Idempotent committed, on SQLite, together with other
// concurrent requests (groupcommit.go): fn and the idempotency record run in
// their own savepoint of a shared transaction, and the answer comes once
// that transaction has committed. On PostgreSQL it is Idempotent. A replay, a refused reuse, a domain error and
// a conflict retried behave exactly as with Idempotent.
func IdempotentGrouped[T any](ctx context.Context, s *Store, idem Idem, fn func(*Tx) (T, error)) (T, bool, error) {
	var out T
	replayed := false
	err := s.grouped(ctx, func(tx *sql.Tx) error {
		var err error
		out, replayed, err = idempotentTx(ctx, s, tx, idem, func(tx *sql.Tx) (T, error) { return fn(&Tx{tx: tx, s: s}) })
		return err
	})
	return out, replayed, err
}
