package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Idem identifies a write request for idempotency: Scope is the caller (API
// key id), Key the client's Idempotency-Key, Hash a digest of the request
// (method, path and body). An empty Key disables the check.
type Idem struct {
	Scope string
	Key   string
	Hash  string
}

// idempotent runs fn in one write transaction together with the
// idempotency record, so that the record commits if and only if the write
// does. A replay (same scope and key) returns the stored result and true
// without running fn; a replay with another request hash is refused. A
// concurrent duplicate waits on the key's unique index (PostgreSQL) or the
// single writer (SQLite) and then sees the first request's record: exactly
// one effect, also across processes.
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

// idempotentTx is one attempt of idempotent in the transaction tx (its
// own, or its savepoint in a group commit).
func idempotentTx[T any](ctx context.Context, s *Store, tx *sql.Tx, idem Idem, fn func(*sql.Tx) (T, error)) (out T, replayed bool, err error) {
	if idem.Key != "" {
		res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, response, created_at)
			VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING`, idem.Scope, idem.Key, idem.Hash, ms(s.clock.Now()))
		if err != nil {
			return out, false, fmt.Errorf("recording idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var hash, resp string
			if err := tx.QueryRowContext(ctx, `SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2`,
				idem.Scope, idem.Key).Scan(&hash, &resp); err != nil {
				return out, false, fmt.Errorf("reading idempotency key: %w", err)
			}
			if hash != idem.Hash {
				return out, false, &parrain.Error{Code: parrain.CodeIdempotencyReuse, Field: "Idempotency-Key",
					Message: "this Idempotency-Key was already used with a different request"}
			}
			return out, true, json.Unmarshal([]byte(resp), &out)
		}
	}
	v, err := fn(tx)
	if err != nil {
		return out, false, err
	}
	out = v
	if idem.Key != "" {
		b, err := json.Marshal(v)
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
