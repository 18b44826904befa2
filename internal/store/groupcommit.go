package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Group commit: a durable commit costs a disk sync (SQLite) or a WAL flush
// (PostgreSQL) plus the round trips of BEGIN and COMMIT, whatever it holds.
// Concurrent requests that go through grouped are queued; a writer takes
// every request waiting (up to groupMax) and runs them one after the other
// in one transaction, each in its own savepoint, then commits once and
// answers each of them. Isolation between the requests of a batch is the
// savepoint's:
//
//   - a request whose fn fails is rolled back to its savepoint and answered
//     with its error; the others of the batch commit;
//   - a request aborted for a conflict with another transaction (PostgreSQL
//     40001/40P01, SQLite busy) is rolled back to its savepoint and run
//     again in a later batch, up to TxAttempts times — never answered 500
//     for it, and without re-running the others;
//   - if the commit itself fails for a conflict, the whole batch is run
//     again; if it fails otherwise, every request of it is answered with the
//     error, and none of them took effect.
//
// A request is answered only after the transaction that holds its writes
// has committed, so a 2xx survives a crash exactly as with one transaction
// per request. fn may run more than once and must, as with tx, have no
// effect outside the transaction except setting its results.

// groupMax bounds the requests of one transaction, and so the wait of the
// first of them.
const groupMax = 64

// On PostgreSQL grouped runs each request in a transaction of its own
// (writers 0): measured with cmd/parrain-ingestbench, batches held their row
// locks (an advocate's referrals re-scored in a burst, the rows a cap
// locks) for the whole batch, so concurrent batches waited on each other;
// 64 clients got half the throughput of one transaction per event, whose
// concurrent commits the server already flushes together, and a p99 of 3 s
// (consistent with waits ended by deadlock detection, deadlock_timeout 1 s). The savepoint
// path works there too (its tests run it on both databases with writers
// set), for when events are cheap enough that it pays.

type groupReq struct {
	ctx      context.Context
	fn       func(*sql.Tx) error
	done     chan error
	attempts int
}

type groupCommitter struct {
	once  sync.Once
	queue chan *groupReq
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.RWMutex // held for reading while enqueueing, for writing by close
	shut  bool
	// writers is the number of batch writers: 1 on SQLite (its one writer
	// connection), 0 on PostgreSQL (a transaction per request, see above).
	writers int
}

var errStoreClosed = errors.New("the store is closed")

// grouped runs fn in a savepoint of a shared write transaction and returns
// once that transaction has committed (nil) or fn's error.
func (s *Store) grouped(ctx context.Context, fn func(*sql.Tx) error) error {
	g := &s.gc
	if g.writers == 0 {
		return s.tx(ctx, fn)
	}
	g.mu.RLock()
	shut := g.shut
	g.mu.RUnlock()
	if shut {
		return errStoreClosed
	}
	g.once.Do(func() {
		g.queue = make(chan *groupReq, 4*groupMax)
		g.stop = make(chan struct{})
		for range g.writers {
			g.wg.Go(func() { s.groupWriter(g) })
		}
	})
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.RLock()
	if g.shut {
		g.mu.RUnlock()
		return errStoreClosed
	}
	select {
	case g.queue <- r:
	case <-ctx.Done():
		g.mu.RUnlock()
		return ctx.Err()
	}
	g.mu.RUnlock()
	// Once queued, the request is answered: a writer skips it if ctx ends
	// before it runs, and otherwise its answer says whether it committed.
	return <-r.done
}

// close stops the writers after they have answered every queued request.
func (g *groupCommitter) close() {
	g.mu.Lock()
	g.shut = true
	g.mu.Unlock()
	if g.stop != nil {
		close(g.stop)
		g.wg.Wait()
	}
}

func (s *Store) groupWriter(g *groupCommitter) {
	batch := make([]*groupReq, 0, groupMax)
	for {
		batch = batch[:0]
		select {
		case r := <-g.queue:
			batch = append(batch, r)
		case <-g.stop:
			// Answer what is still queued, then stop.
			for {
				select {
				case r := <-g.queue:
					s.runGroup([]*groupReq{r})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < groupMax {
			select {
			case r := <-g.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.runGroup(batch)
	}
}

// runGroup commits batch, answering each request; requests aborted for a
// conflict are run again, alone or with the rest, until each is answered.
func (s *Store) runGroup(batch []*groupReq) {
	pending := append([]*groupReq(nil), batch...)
	for round := 1; len(pending) > 0; round++ {
		if round > 1 {
			time.Sleep(txBackoff(min(round-1, TxAttempts)))
		}
		pending = s.groupOnce(pending)
	}
}

// groupOnce runs the requests in one transaction, answers those it can and
// returns those to run again.
func (s *Store) groupOnce(reqs []*groupReq) (again []*groupReq) {
	// A conflict costs the request an attempt; past TxAttempts it is answered
	// with the conflict, as tx does.
	retry := func(r *groupReq, err error) {
		r.attempts++
		if r.attempts >= TxAttempts {
			r.done <- err
			return
		}
		again = append(again, r)
	}
	answer := func(r *groupReq, err error) {
		if retryable(err) {
			retry(r, err)
		} else {
			r.done <- err
		}
	}
	// broken handles a transaction the database no longer accepts (a
	// savepoint statement failed): it is rolled back (deferred below), and
	// the requests that had run in it (ok) and those not yet run (rest) are
	// answered with the error, or run again when it is a conflict.
	broken := func(rest, ok []*groupReq, err error) []*groupReq {
		err = fmt.Errorf("group commit savepoint: %w", err)
		for _, r := range append(ok, rest...) {
			answer(r, err)
		}
		return again
	}
	ctx := context.Background() // the transaction is no single request's
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		err = fmt.Errorf("beginning transaction: %w", err)
		for _, r := range reqs {
			answer(r, err)
		}
		return again
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var ok []*groupReq
	for i, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // gone before it ran: nothing of it is written
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT grouped`); err != nil {
			return broken(reqs[i:], ok, err)
		}
		ferr := r.fn(tx)
		if ferr == nil {
			if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT grouped`); err != nil {
				return broken(reqs[i+1:], append(ok, r), err)
			}
			ok = append(ok, r)
			continue
		}
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT grouped`); err != nil {
			// The database ended the transaction itself (SQLite does on
			// some errors): this request is answered as its error says,
			// the others as broken does.
			answer(r, ferr)
			return broken(reqs[i+1:], ok, err)
		}
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT grouped`); err != nil {
			answer(r, ferr)
			return broken(reqs[i+1:], ok, err)
		}
		answer(r, ferr)
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("committing: %w", err)
		for _, r := range ok {
			answer(r, err)
		}
		return again
	}
	for _, r := range ok {
		r.done <- nil
	}
	return again
}
