package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/parrainhq/parrain/internal/dbtest"
)

// A transaction aborted for a conflict is run again from the start, and
// what the caller sees is the last attempt's result.
func TestTxRetriesConflicts(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var runs int
	var got []int
	err = s.tx(context.Background(), func(tx *sql.Tx) error {
		runs++
		got = []int{runs} // set, not accumulated
		if runs < 3 {
			return fmt.Errorf("locking: %w", &pgconn.PgError{Code: "40001"})
		}
		return nil
	})
	if err != nil || runs != 3 || len(got) != 1 || got[0] != 3 {
		t.Fatalf("runs %d, got %v, err %v", runs, got, err)
	}
	// A domain or other error is not retried; neither is a conflict past
	// TxAttempts.
	runs = 0
	boom := errors.New("boom")
	if err := s.tx(context.Background(), func(*sql.Tx) error { runs++; return boom }); !errors.Is(err, boom) || runs != 1 {
		t.Fatalf("plain error: %v after %d runs", err, runs)
	}
	runs = 0
	err = s.tx(context.Background(), func(*sql.Tx) error { runs++; return &pgconn.PgError{Code: "40P01"} })
	if !retryable(err) || runs != TxAttempts {
		t.Fatalf("endless conflict: %v after %d runs", err, runs)
	}
	if retryable(&pgconn.PgError{Code: "23505"}) {
		t.Error("a unique violation is not a conflict")
	}
}

// A real SQLite busy error (another connection holds the write lock and
// this one does not wait) is recognised as a conflict.
func TestSQLiteBusyIsRetryable(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	impatient, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.tx(context.Background(), func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('busy-test', 'x')`); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	_, err = impatient.Begin()
	close(release)
	if err == nil || !retryable(err) {
		t.Errorf("busy error %v (retryable %v)", err, retryable(err))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Two transactions that lock two rows in opposite orders deadlock on
// PostgreSQL; the one the server aborts is run again and both succeed.
func TestTxRetriesRealDeadlock(t *testing.T) {
	t.Parallel()
	url := dbtest.URL(t, "postgres")
	ctx := context.Background()
	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"dl-a", "dl-b"} {
		if _, err := s.w.Exec(`INSERT INTO settings (key, value) VALUES ($1, '0')`, k); err != nil {
			t.Fatal(err)
		}
	}
	var step sync.WaitGroup
	step.Add(2)
	var mu sync.Mutex
	runs := map[string]int{}
	lockBoth := func(first, second string) error {
		return s.tx(ctx, func(tx *sql.Tx) error {
			mu.Lock()
			runs[first]++
			n := runs[first]
			mu.Unlock()
			if _, err := tx.Exec(`UPDATE settings SET value = value || '1' WHERE key = $1`, first); err != nil {
				return err
			}
			if n == 1 {
				step.Done() // both hold their first row…
				step.Wait() // …before either asks for its second
			}
			_, err := tx.Exec(`UPDATE settings SET value = value || '1' WHERE key = $1`, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lockBoth("dl-a", "dl-b") }()
	go func() { errs <- lockBoth("dl-b", "dl-a") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("answered with an error: %v", err)
		}
	}
	if runs["dl-a"]+runs["dl-b"] < 3 {
		t.Fatalf("no deadlock happened (runs %v)", runs)
	}
	for _, k := range []string{"dl-a", "dl-b"} {
		var v string
		if err := s.w.QueryRow(`SELECT value FROM settings WHERE key = $1`, k).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "011" {
			t.Errorf("%s = %q: each transaction wrote once", k, v)
		}
	}
}
