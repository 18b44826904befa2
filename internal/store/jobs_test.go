package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// jobKinds returns the kinds of jobs, sorted: a claim's order is not
// promised (PostgreSQL's UPDATE … RETURNING has none).
func jobKinds(js []store.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.Kind
	}
	slices.Sort(out)
	return out
}

func TestClaimJobsDueInRunOrder(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Enqueued out of order; run_at decides.
		plan := []struct {
			kind string
			at   time.Duration
		}{{"c", 2 * time.Minute}, {"a", -time.Hour}, {"later", time.Hour}, {"b", time.Minute}, {"now", 0}}
		for _, p := range plan {
			if err := e.St.Enqueue(ctx, p.kind, "", []byte(`{"k":"`+p.kind+`"}`), t0.Add(p.at)); err != nil {
				t.Fatal(err)
			}
		}
		claim := func(n int) []store.Job {
			js, err := e.St.ClaimJobs(ctx, "w", n, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return js
		}
		// Due now: a (an hour late) and now (due at this instant).
		js := claim(10)
		if got := jobKinds(js); !slices.Equal(got, []string{"a", "now"}) {
			t.Fatalf("claimed %v", got)
		}
		slices.SortFunc(js, func(x, y store.Job) int { return strings.Compare(x.Kind, y.Kind) })
		if string(js[0].Payload) != `{"k":"a"}` || js[0].Attempts != 1 || js[0].MaxAttempts != store.DefaultMaxAttempts {
			t.Errorf("job %+v", js[0])
		}
		if n, oldest, err := e.St.DueJobs(ctx); err != nil || n != 0 || !oldest.IsZero() {
			t.Errorf("due after claiming: %d %v %v", n, oldest, err)
		}
		e.Clock.Advance(2 * time.Minute)
		if n, oldest, err := e.St.DueJobs(ctx); err != nil || n != 2 || !oldest.Equal(t0.Add(time.Minute)) {
			t.Errorf("due: %d %v %v", n, oldest, err)
		}
		// n bounds a claim; the earliest goes first.
		if got := jobKinds(claim(1)); !slices.Equal(got, []string{"b"}) {
			t.Errorf("claim 1: %v", got)
		}
		if got := jobKinds(claim(5)); !slices.Equal(got, []string{"c"}) {
			t.Errorf("claim rest: %v", got)
		}
		counts, err := e.St.JobCounts(ctx)
		if err != nil || counts["running"] != 4 || counts["available"] != 1 || len(counts) != 2 {
			t.Errorf("counts %v %v", counts, err)
		}
	})
}

func TestEnqueueUniqueKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		steps := []struct {
			kind, key string
		}{{"k", "same"}, {"k", "same"}, {"other", "same"}, {"k", ""}, {"k", ""}, {"k", "else"}}
		for _, s := range steps {
			if err := e.St.Enqueue(ctx, s.kind, s.key, []byte(`{}`), t0); err != nil {
				t.Fatalf("%+v: %v", s, err)
			}
		}
		// The unique key is global across kinds; empty keys never collide.
		counts, err := e.St.JobCounts(ctx)
		if err != nil || counts["available"] != 4 {
			t.Fatalf("counts %v %v", counts, err)
		}
		// A done job keeps its key: enqueueing it again adds nothing.
		js, err := e.St.ClaimJobs(ctx, "w", 10, time.Minute)
		if err != nil || len(js) != 4 {
			t.Fatal(err)
		}
		for _, j := range js {
			if err := e.St.CompleteJob(ctx, j.ID, "w"); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.St.Enqueue(ctx, "k", "same", []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		counts, err = e.St.JobCounts(ctx)
		if err != nil || counts["done"] != 4 || counts["available"] != 0 {
			t.Errorf("counts after re-enqueue %v %v", counts, err)
		}
	})
}

func TestRetryJob(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if err := e.St.Enqueue(ctx, "flaky", "f", []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		claimOne := func() store.Job {
			t.Helper()
			js, err := e.St.ClaimJobs(ctx, "w", 1, time.Minute)
			if err != nil || len(js) != 1 {
				t.Fatalf("claim: %v %v", js, err)
			}
			return js[0]
		}
		j := claimOne()
		// Snoozing (no error) does not count an attempt.
		if err := e.St.RetryJob(ctx, j, "w", t0.Add(time.Minute), ""); err != nil {
			t.Fatal(err)
		}
		if js, err := e.St.ClaimJobs(ctx, "w", 1, time.Minute); err != nil || len(js) != 0 {
			t.Fatalf("snoozed job claimed early: %v %v", js, err)
		}
		e.Clock.Advance(time.Minute)
		j = claimOne()
		if j.Attempts != 1 {
			t.Errorf("attempts after a snooze: %d", j.Attempts)
		}
		// A retry by another worker than the holder changes nothing.
		if err := e.St.RetryJob(ctx, j, "intruder", t0, "nope"); err != nil {
			t.Fatal(err)
		}
		if counts, err := e.St.JobCounts(ctx); err != nil || counts["running"] != 1 {
			t.Errorf("intruder's retry: %v %v", counts, err)
		}
		// Failures count, until the last attempt marks the job failed.
		j.MaxAttempts = 3
		for attempt := 1; ; attempt++ {
			if j.Attempts != attempt {
				t.Fatalf("attempt %d claimed as %d", attempt, j.Attempts)
			}
			if err := e.St.RetryJob(ctx, j, "w", e.Clock.Now(), fmt.Sprintf("error %d", attempt)); err != nil {
				t.Fatal(err)
			}
			if attempt == 3 {
				break
			}
			j = claimOne()
			j.MaxAttempts = 3
		}
		if js, err := e.St.ClaimJobs(ctx, "w", 1, time.Minute); err != nil || len(js) != 0 {
			t.Errorf("failed job claimed: %v %v", js, err)
		}
		failed, err := e.St.FailedJobs(ctx, 0)
		if err != nil || len(failed) != 1 {
			t.Fatalf("failed jobs %v %v", failed, err)
		}
		if f := failed[0]; f.Kind != "flaky" || f.Attempts != 3 || f.LastError != "error 3" || !f.FinishedAt.Equal(e.Clock.Now()) {
			t.Errorf("failed job %+v", f)
		}
	})
}

func TestJobLeaseExpiry(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if err := e.St.Enqueue(ctx, "slow", "", []byte(`{}`), t0); err != nil {
			t.Fatal(err)
		}
		js, err := e.St.ClaimJobs(ctx, "w1", 1, time.Minute)
		if err != nil || len(js) != 1 {
			t.Fatal(err)
		}
		cases := []struct {
			after time.Duration
			taken bool
		}{{59 * time.Second, false}, {time.Minute, false}, {time.Minute + time.Millisecond, true}}
		for _, c := range cases {
			e.Clock.Set(t0.Add(c.after))
			js2, err := e.St.ClaimJobs(ctx, "w2", 1, time.Minute)
			if err != nil || (len(js2) == 1) != c.taken {
				t.Fatalf("after %v: %v %v", c.after, js2, err)
			}
		}
		// The first worker's completion comes too late and is ignored.
		if err := e.St.CompleteJob(ctx, js[0].ID, "w1"); err != nil {
			t.Fatal(err)
		}
		if counts, err := e.St.JobCounts(ctx); err != nil || counts["running"] != 1 || counts["done"] != 0 {
			t.Errorf("late completion: %v %v", counts, err)
		}
		if err := e.St.CompleteJob(ctx, js[0].ID, "w2"); err != nil {
			t.Fatal(err)
		}
		if counts, err := e.St.JobCounts(ctx); err != nil || counts["done"] != 1 {
			t.Errorf("completion: %v %v", counts, err)
		}
	})
}

func TestFailedJobsNewestFirstAndLimit(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for i := range 4 {
			if err := e.St.Enqueue(ctx, fmt.Sprintf("k%d", i), "", []byte(`{}`), t0); err != nil {
				t.Fatal(err)
			}
		}
		js, err := e.St.ClaimJobs(ctx, "w", 10, time.Minute)
		if err != nil || len(js) != 4 {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.Kind == "k3" {
				continue
			}
			j.MaxAttempts = 1
			if err := e.St.RetryJob(ctx, j, "w", t0, "gave up"); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			limit int
			want  []string
		}{{0, []string{"k2", "k1", "k0"}}, {2, []string{"k2", "k1"}}, {500, []string{"k2", "k1", "k0"}}}
		for _, c := range cases {
			got, err := e.St.FailedJobs(ctx, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, f := range got {
				kinds = append(kinds, f.Kind)
			}
			if !slices.Equal(kinds, c.want) {
				t.Errorf("limit %d: %v", c.limit, kinds)
			}
		}
	})
}

// A job enqueued in a transaction exists only if the transaction commits.
func TestEnqueueInTxRollsBack(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		boom := errors.New("boom")
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Enqueue(ctx, "ghost", "g", []byte(`{}`), t0); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		if counts, err := e.St.JobCounts(ctx); err != nil || len(counts) != 0 {
			t.Fatalf("jobs after rollback: %v %v", counts, err)
		}
		// Its unique key is free again.
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.Enqueue(ctx, "ghost", "g", []byte(`{}`), t0) }); err != nil {
			t.Fatal(err)
		}
		if js, err := e.St.ClaimJobs(ctx, "w", 5, time.Minute); err != nil || len(js) != 1 || js[0].Kind != "ghost" {
			t.Errorf("committed job: %v %v", js, err)
		}
	})
}
