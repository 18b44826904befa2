package store_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// count returns SELECT COUNT(*) of a table, failing the test on an error.
func (e *env) count(table string) int {
	e.T.Helper()
	var n int
	if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		e.T.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// A use case's writes across aggregates commit together or not at all.
func TestInTxRollbackLeavesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		tables := []string{"participants", "referrals", "audit_log", "jobs", "referral_stages"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = e.count(tb)
		}
		cases := []struct {
			name string
			fail error
		}{
			{"plain error", errors.New("boom")},
			{"domain error", parrain.Errorf(parrain.CodeConflict, "taken")},
			{"wrapped not found", fmt.Errorf("loading: %w", store.NotFound("thing"))},
		}
		for _, c := range cases {
			var runs int
			err := e.St.InTx(ctx, func(tx *store.Tx) error {
				runs++
				f, created, err := tx.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "ghost"})
				if err != nil || !created {
					return fmt.Errorf("upsert: %v %v", created, err)
				}
				r := parrain.Referral{ID: store.NewID("ref"), ProgramID: prog.ID, AdvocateID: adv.ID, FriendID: f.ID, Code: adv.Code,
					Status: parrain.ReferralSignedUp, SignedUpAt: t0, CreatedAt: t0}
				if ok, err := tx.InsertReferral(ctx, &r, "code", "{}"); err != nil || !ok {
					return fmt.Errorf("referral: %v %v", ok, err)
				}
				if _, err := tx.ReachStage(ctx, prog.ID, r.ID, "demo", "", nil, "", t0); err != nil {
					return err
				}
				if err := tx.Audit(ctx, alice, "ghost.created", "participant", f.ID, prog.ID, nil); err != nil {
					return err
				}
				if err := tx.Enqueue(ctx, "ghost", "ghost", []byte(`{}`), t0); err != nil {
					return err
				}
				// Inside the transaction, its writes are visible.
				if got, err := tx.ReferralByID(ctx, r.ID); err != nil || got.FriendExternalID != "ghost" {
					return fmt.Errorf("read own write: %+v %v", got, err)
				}
				return c.fail
			})
			if !errors.Is(err, c.fail) || parrain.ErrorCode(err) != parrain.ErrorCode(c.fail) {
				t.Errorf("%s: InTx returned %v", c.name, err)
			}
			if runs != 1 {
				t.Errorf("%s: ran %d times; only conflicts are retried", c.name, runs)
			}
			for _, tb := range tables {
				if n := e.count(tb); n != before[tb] {
					t.Errorf("%s: %s has %d rows, had %d", c.name, tb, n, before[tb])
				}
			}
		}
		if _, err := e.St.Participant(ctx, prog.ID, "ghost"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("ghost participant: %v", err)
		}
	})
}

// A dry run sees its own writes and leaves nothing behind, even when it
// succeeds.
func TestRolledBackWritesNothing(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		n0 := e.count("participants")
		var seen string
		err := e.St.RolledBack(ctx, func(tx *store.Tx) error {
			p, _, err := tx.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "dry", Name: "Dry"})
			if err != nil {
				return err
			}
			got, err := tx.ParticipantByID(ctx, p.ID)
			seen = got.Name
			if err != nil {
				return err
			}
			return tx.Audit(ctx, alice, "dry.run", "", "", prog.ID, nil)
		})
		if err != nil || seen != "Dry" {
			t.Fatalf("dry run: %q %v", seen, err)
		}
		if n := e.count("participants"); n != n0 {
			t.Errorf("participants %d, was %d", n, n0)
		}
		if log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "dry.run"}, store.Page{}); err != nil || len(log) != 0 {
			t.Errorf("audit of a dry run: %v %v", log, err)
		}
		boom := errors.New("boom")
		if err := e.St.RolledBack(ctx, func(*store.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("dry run error: %v", err)
		}
	})
}

// Two use cases that lock two referrals in opposite orders deadlock on
// PostgreSQL; the one aborted runs again from the start, so each commits
// its writes exactly once. (SQLite's single writer cannot deadlock: the
// second waits for the first.)
func TestInTxRetriesDeadlockWithoutDuplicates(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if e.St.Dialect() != "postgres" {
			t.Skip("a deadlock needs two concurrent writers")
		}
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		r1 := e.referral(prog.ID, adv, "f1", t0, nil)
		r2 := e.referral(prog.ID, adv, "f2", t0, nil)
		var runs atomic.Int32
		var step sync.WaitGroup
		step.Add(2)
		var once [2]sync.Once
		lock := func(i int, first, second string) error {
			return e.St.InTx(ctx, func(tx *store.Tx) error {
				runs.Add(1)
				if err := tx.Audit(ctx, alice, "deadlock.try", "referral", first, prog.ID, nil); err != nil {
					return err
				}
				if _, err := tx.ReferralForUpdate(ctx, first); err != nil {
					return err
				}
				once[i].Do(func() { step.Done(); step.Wait() })
				_, err := tx.ReferralForUpdate(ctx, second)
				return err
			})
		}
		errs := make(chan error, 2)
		go func() { errs <- lock(0, r1.ID, r2.ID) }()
		go func() { errs <- lock(1, r2.ID, r1.ID) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("answered with an error: %v", err)
			}
		}
		if runs.Load() < 3 {
			t.Fatalf("no deadlock happened (%d runs)", runs.Load())
		}
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "deadlock.try"}, store.Page{})
		if err != nil || len(log) != 2 || log[0].TargetID == log[1].TargetID {
			t.Errorf("audit entries of the deadlocked pair: %+v %v", log, err)
		}
	})
}

// The lock a use case takes for its counts holds a second process back
// until the first commits, on both databases (a row lock on PostgreSQL,
// the single writer on SQLite).
func TestLockForCountsSerialises(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv, friend := e.Advocate(prog.ID, "adv", ""), e.Advocate(prog.ID, "friend", "")
		other := open(t, e.URL)
		var mu sync.Mutex
		var order []string
		note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
		locked := make(chan struct{})
		done := make(chan error, 2)
		go func() {
			done <- e.St.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockForCounts(ctx, prog.ID, true, adv.ID, friend.ID); err != nil {
					return err
				}
				select {
				case <-locked:
				default:
					close(locked)
				}
				time.Sleep(300 * time.Millisecond)
				note("first commits")
				return nil
			})
		}()
		<-locked
		go func() {
			done <- other.St.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.LockForCounts(ctx, prog.ID, true, friend.ID, adv.ID); err != nil {
					return err
				}
				note("second locked")
				return nil
			})
		}()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(order) != "[first commits second locked]" {
			t.Errorf("order %v", order)
		}
	})
}

// Opening a store migrates; opening it again, or from two processes at
// once, applies nothing twice and keeps the data.
func TestMigrationsIdempotent(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		type applied struct {
			n, max int
			at     int64
		}
		state := func(x *env) applied {
			t.Helper()
			var a applied
			if err := x.St.DB().QueryRow(`SELECT COUNT(*), MAX(version), MAX(applied_at) FROM schema_migrations`).Scan(&a.n, &a.max, &a.at); err != nil {
				t.Fatal(err)
			}
			return a
		}
		first := state(e)
		if first.n < 10 || first.max < first.n {
			t.Fatalf("migrations applied: %+v", first)
		}
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		secret := string(e.St.Secret())
		for i := range 2 {
			again := open(t, e.URL)
			again.Clock.Advance(time.Duration(i+1) * time.Hour)
			if got := state(again); got != first {
				t.Errorf("open %d: migrations %+v, were %+v", i+2, got, first)
			}
			if p, err := again.St.Participant(ctx, prog.ID, "adv"); err != nil || p.Code != adv.Code {
				t.Errorf("open %d: data %+v %v", i+2, p, err)
			}
			if string(again.St.Secret()) != secret {
				t.Errorf("open %d: the installation secret changed", i+2)
			}
		}
	})
}

// Two processes starting together on an empty database both migrate it
// without error and apply each migration once.
func TestConcurrentFirstMigration(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		url := dbURLOfAnotherInstallation(t, e)
		var wg sync.WaitGroup
		stores := make([]*store.Store, 3)
		errs := make([]error, 3)
		for i := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = store.Open(ctx, url, store.Options{})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("store %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		var n, distinct int
		if err := stores[0].DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil {
			t.Fatal(err)
		}
		if n != distinct || n < 10 {
			t.Errorf("%d migration rows, %d versions", n, distinct)
		}
		if string(stores[0].Secret()) != string(stores[1].Secret()) || string(stores[1].Secret()) != string(stores[2].Secret()) || len(stores[0].Secret()) != 32 {
			t.Errorf("the processes disagree on the installation secret")
		}
	})
}
