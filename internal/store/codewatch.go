package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// What a referral code resolves to (CodeTarget) is cached by the redirect,
// so the store says when it changes:
//
//   - in this process, at once: the write methods that change a
//     participant's code or status, or a program or its experience
//     settings, note it on their transaction, and the subscribers
//     (OnCodeChange) hear of it right after the transaction commits;
//   - in every process (other replicas), within their poll interval:
//     database triggers (migration 0050) bump the code_cache_version row in
//     the same transaction as any such change, whoever wrote it, and
//     CodeCacheVersion reads it.
//
// A new participant's code only matters to caches that remembered it as
// unknown: its insert is announced by code, and bumps no shared row (a
// signup must not serialise on one row); other processes forget unknown
// codes after a short time instead.

// AllCodes is the code passed to OnCodeChange subscribers when any code
// may resolve differently (a program or a participant's status changed).
const AllCodes = ""

type codeWatch struct {
	open    atomic.Int64 // transactions with pending changes: the commit path skips the lock when 0
	mu      sync.Mutex
	pending map[*sql.Tx][]string
	subs    []func(code string)
}

// OnCodeChange registers f to be called, after the commit of a write
// transaction of this store, with each referral code whose resolution it
// changed, or with AllCodes. f must be quick and must not call the store.
func (s *Store) OnCodeChange(f func(code string)) {
	s.codes.mu.Lock()
	s.codes.subs = append(s.codes.subs, f)
	s.codes.mu.Unlock()
}

// codeChangedTx notes that tx changes what code resolves to (AllCodes: any
// code may); subscribers hear of it once tx commits.
func (s *Store) codeChangedTx(tx *sql.Tx, code string) {
	w := &s.codes
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending == nil {
		w.pending = map[*sql.Tx][]string{}
	}
	cs, ok := w.pending[tx]
	if !ok {
		w.open.Add(1)
	}
	w.pending[tx] = append(cs, code)
}

// endTx tells the subscribers what tx changed if it committed, and forgets
// it either way.
func (s *Store) endTx(tx *sql.Tx, committed bool) {
	w := &s.codes
	if w.open.Load() == 0 {
		return
	}
	w.mu.Lock()
	cs, ok := w.pending[tx]
	if ok {
		delete(w.pending, tx)
		w.open.Add(-1)
	}
	subs := w.subs
	w.mu.Unlock()
	if !ok || !committed {
		return
	}
	for _, f := range subs {
		for _, c := range cs {
			f(c)
		}
	}
}

// CodeCacheVersion returns the version of what referral codes resolve to,
// shared by every process on the database: it changes in the transaction
// that changes a program, its experience settings, or a participant's code
// or status (not when a participant is added).
func (s *Store) CodeCacheVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT version FROM code_cache_version WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading the code cache version: %w", err)
	}
	return v, nil
}
