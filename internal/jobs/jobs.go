// Package jobs runs Parrain's durable background jobs: it claims due jobs
// from the store, runs the handler registered for their kind, and retries
// failures with exponential backoff. Jobs are enqueued by the store in the
// same transaction as the write that causes them.
//
// It imports the store, the domain and the metrics; never the HTTP packages.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parrainhq/parrain/internal/metrics"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Handler runs one job. Handlers must be idempotent: a job whose worker
// died after the work but before recording completion runs again.
type Handler func(ctx context.Context, payload []byte) error

// SnoozeError asks the runner to run the job again at Until without
// counting a failed attempt.
type SnoozeError struct{ Until time.Time }

func (e *SnoozeError) Error() string { return "snoozed until " + e.Until.Format(time.RFC3339) }

// Runner polls the store for due jobs and runs them.
type Runner struct {
	st       *store.Store
	log      *slog.Logger
	handlers map[string]Handler
	worker   string
	// Interval between polls when idle.
	Interval time.Duration
	// Lease is how long a claimed job is reserved before another worker may
	// take it over.
	Lease time.Duration
	// Batch is how many jobs are claimed at once.
	Batch int
}

// NewRunner returns a runner with a unique worker name.
func NewRunner(st *store.Store, log *slog.Logger) *Runner {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &Runner{st: st, log: log, handlers: map[string]Handler{}, worker: "w_" + hex.EncodeToString(b),
		Interval: time.Second, Lease: 5 * time.Minute, Batch: 20}
}

// Handle registers the handler for a job kind. A kind has exactly one
// handler: registering a second is a wiring mistake (one registration
// silently replacing another), so it panics.
func (r *Runner) Handle(kind string, h Handler) {
	if _, dup := r.handlers[kind]; dup {
		panic("jobs: a handler for " + kind + " is already registered")
	}
	r.handlers[kind] = h
}

// Backoff is the delay before retry number attempt (1-based): 10s, 20s,
// 40s, … capped at 6 hours.
func Backoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// MaxPollBackoff caps the wait between polls while the queue cannot be
// read (the database is down).
const MaxPollBackoff = 30 * time.Second

// PollBackoff is the wait before the next poll after failures consecutive
// failed polls: the interval doubled per failure, capped at MaxPollBackoff.
func PollBackoff(interval time.Duration, failures int) time.Duration {
	d := interval
	for i := 0; i < failures && d < MaxPollBackoff; i++ {
		d *= 2
	}
	return min(d, MaxPollBackoff)
}

// Run polls until ctx is done. While the queue cannot be read it backs off
// exponentially and logs once when the failure starts and once when it
// ends, not on every poll.
func (r *Runner) Run(ctx context.Context) {
	failures := 0
	var since time.Time
	for {
		n, err := r.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := r.Interval
		switch {
		case err != nil:
			metrics.JobClaimErrors.Inc()
			if failures == 0 {
				since = time.Now()
				metrics.DBUp.Set(0)
				r.log.Error("job queue unreachable: backing off until it answers", "err", err, "max_backoff", MaxPollBackoff)
			}
			failures++
			wait = PollBackoff(r.Interval, failures)
		case failures > 0:
			metrics.DBUp.Set(1)
			r.log.Info("job queue reachable again: jobs resume", "down_for", time.Since(since).Round(time.Millisecond), "failed_polls", failures)
			failures = 0
		}
		if n > 0 && err == nil {
			continue // more may be due
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due jobs and runs them concurrently; it
// returns how many ran.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	js, err := r.st.ClaimJobs(ctx, r.worker, r.Batch, r.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.run(ctx, j)
		}()
	}
	wg.Wait()
	return len(js), nil
}

func (r *Runner) run(ctx context.Context, j store.Job) {
	h, ok := r.handlers[j.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("no handler for job kind %q", j.Kind)
	} else {
		// What a job changes on its own (a scheduled payout run) is
		// audited under the system, named by the job's kind.
		jctx := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorSystem, ID: j.Kind, Label: "system"})
		start := time.Now()
		err = safely(jctx, h, j.Payload)
		metrics.JobDuration.WithLabelValues(j.Kind).Observe(time.Since(start).Seconds())
	}
	now := r.st.Clock().Now()
	var sn *SnoozeError
	switch {
	case err == nil:
		metrics.JobRuns.WithLabelValues(j.Kind, "ok").Inc()
		err = r.st.CompleteJob(ctx, j.ID, r.worker)
	case errors.As(err, &sn):
		metrics.JobRuns.WithLabelValues(j.Kind, "snoozed").Inc()
		err = r.st.RetryJob(ctx, j, r.worker, sn.Until, "")
	default:
		metrics.JobRuns.WithLabelValues(j.Kind, "failed").Inc()
		r.log.Warn("job failed", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
		err = r.st.RetryJob(ctx, j, r.worker, now.Add(Backoff(j.Attempts)), err.Error())
	}
	if err != nil && ctx.Err() == nil {
		r.log.Error("recording job outcome", "job", j.ID, "err", err)
	}
}

// safely runs h, turning a panic into an error so one bad job cannot stop
// the runner.
func safely(ctx context.Context, h Handler, payload []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return h(ctx, payload)
}
