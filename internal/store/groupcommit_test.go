package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

// Concurrent grouped writes share transactions, and each is isolated by its
// savepoint: a failing request leaves no trace and does not affect the
// others; a request aborted for a conflict is run again (alone) and then
// committed; every request is answered after its commit.
func TestGroupedIsolatesEachRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openGrouped(t, url)
		const n = 60
		boom := errors.New("boom")
		var conflicted atomic.Int32
		runs := make([]atomic.Int32, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = s.grouped(ctx, func(tx *sql.Tx) error {
					runs[i].Add(1)
					if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'v')`, fmt.Sprint("gc-", i)); err != nil {
						return err
					}
					switch {
					case i%10 == 3: // fails after writing: its row must not stay
						return boom
					case i%10 == 7 && runs[i].Load() == 1: // a conflict the first time
						conflicted.Add(1)
						return fmt.Errorf("locking: %w", &pgconn.PgError{Code: "40001"})
					case i%10 == 9: // a statement error inside the savepoint
						_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'dup')`, fmt.Sprint("gc-", i))
						return err
					}
					return nil
				})
			})
		}
		wg.Wait()
		for i := range n {
			var v string
			err := s.DB().QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, fmt.Sprint("gc-", i)).Scan(&v)
			switch i % 10 {
			case 3:
				if !errors.Is(errs[i], boom) {
					t.Errorf("request %d: answered %v, want boom", i, errs[i])
				}
				if !errors.Is(err, sql.ErrNoRows) {
					t.Errorf("request %d failed but its row is there (%v)", i, err)
				}
			case 9:
				if errs[i] == nil {
					t.Errorf("request %d: a duplicate key was answered nil", i)
				}
				if !errors.Is(err, sql.ErrNoRows) {
					t.Errorf("request %d failed but its row is there (%v)", i, err)
				}
			default:
				if errs[i] != nil || err != nil {
					t.Errorf("request %d: answered %v, row read %v", i, errs[i], err)
				}
			}
			want := int32(1)
			if i%10 == 7 {
				want = 2
			}
			if got := runs[i].Load(); got != want {
				t.Errorf("request %d ran %d times, want %d", i, got, want)
			}
		}
		if conflicted.Load() != n/10 {
			t.Errorf("%d conflicts, want %d", conflicted.Load(), n/10)
		}
	})
}

// openGrouped opens a store whose grouped writes go through batch writers
// on both databases (PostgreSQL runs a transaction per request by default).
func openGrouped(t *testing.T, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if s.gc.writers == 0 {
		s.gc.writers = 4
	}
	return s
}

// A request that conflicts on every attempt is answered with the conflict
// after TxAttempts runs, as a transaction of its own would be.
func TestGroupedEndlessConflict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openGrouped(t, url)
		runs := 0
		err := s.grouped(ctx, func(*sql.Tx) error { runs++; return &pgconn.PgError{Code: "40P01"} })
		if !retryable(err) || runs != TxAttempts {
			t.Fatalf("endless conflict: %v after %d runs", err, runs)
		}
	})
}

// The same Idempotency-Key sent concurrently through grouped writes takes
// effect once; every other request is a replay of its answer.
func TestIdempotentGroupedConcurrentDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := context.Background()
		s := openGrouped(t, url)
		const n = 20
		var effects atomic.Int32
		outs := make([]string, n)
		replays := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				outs[i], replays[i], errs[i] = IdempotentGrouped(ctx, s, Idem{Scope: "k", Key: "same", Hash: "h"}, func(tx *Tx) (string, error) {
					if _, err := tx.tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('gc-idem', $1)`, fmt.Sprint(i)); err != nil {
						return "", err
					}
					effects.Add(1)
					return fmt.Sprint("answer-", i), nil
				})
			})
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("request %d: %v", i, errs[i])
			}
			if !replays[i] {
				fresh++
			}
			if outs[i] != outs[0] {
				t.Errorf("request %d answered %q, request 0 %q", i, outs[i], outs[0])
			}
		}
		var count int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = 'gc-idem'`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if fresh != 1 || count != 1 || effects.Load() != 1 {
			t.Errorf("%d fresh answers, %d rows, %d effects: want one of each", fresh, count, effects.Load())
		}
		// A reuse with another request is refused, as with Idempotent.
		_, _, err := IdempotentGrouped(ctx, s, Idem{Scope: "k", Key: "same", Hash: "other"}, func(*Tx) (string, error) { return "", nil })
		if parrain.ErrorCode(err) != parrain.CodeIdempotencyReuse {
			t.Errorf("reuse with another request: %v", err)
		}
	})
}

// After Close, a grouped write is refused, not left waiting.
func TestGroupedAfterClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir()+"/p.db", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.grouped(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.grouped(ctx, func(*sql.Tx) error { return nil }); !errors.Is(err, errStoreClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
