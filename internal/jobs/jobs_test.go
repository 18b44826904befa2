package jobs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestBackoff(t *testing.T) {
	cases := []struct {
		attempt int
		want    time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {12, 20480 * time.Second}, {13, 6 * time.Hour}, {40, 6 * time.Hour}}
	for _, c := range cases {
		if got := Backoff(c.attempt); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.attempt, got, c.want)
		}
	}
}

func TestRunnerOutcomes(t *testing.T) {
	ctx := context.Background()
	clock := parrain.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "j.db"), store.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := NewRunner(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Jobs of one batch run concurrently: the handlers count under a lock.
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(kind string) int {
		mu.Lock()
		defer mu.Unlock()
		calls[kind]++
		return calls[kind]
	}
	r.Handle("ok", func(context.Context, []byte) error { count("ok"); return nil })
	r.Handle("flaky", func(context.Context, []byte) error {
		if count("flaky") < 3 {
			return errors.New("temporary")
		}
		return nil
	})
	r.Handle("snooze", func(context.Context, []byte) error {
		if count("snooze") == 1 {
			return &SnoozeError{Until: clock.Now().Add(time.Hour)}
		}
		return nil
	})
	r.Handle("panic", func(context.Context, []byte) error { count("panic"); panic("boom") })
	for _, k := range []string{"ok", "flaky", "snooze", "panic", "unknown"} {
		if err := st.Enqueue(ctx, k, k, []byte(`{}`), clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	run := func(want int) {
		t.Helper()
		n, err := r.RunOnce(ctx)
		if err != nil || n != want {
			t.Fatalf("RunOnce = %d, %v; want %d", n, err, want)
		}
	}
	run(5)
	run(0) // failures wait for their backoff, the snoozed job for its time
	clock.Advance(10 * time.Second)
	run(3) // flaky, panic, unknown retry after 10s
	clock.Advance(20 * time.Second)
	run(3)
	clock.Advance(time.Hour)
	run(3) // the snoozed job, plus panic and unknown again
	counts, _ := st.JobCounts(ctx)
	if counts["done"] != 3 || counts["available"] != 2 {
		t.Fatalf("job states %v", counts)
	}
	if calls["ok"] != 1 || calls["flaky"] != 3 || calls["snooze"] != 2 || calls["panic"] != 4 {
		t.Fatalf("calls %v", calls)
	}
	var attempts int
	var lastErr string
	if err := st.DB().QueryRow(`SELECT attempts, last_error FROM jobs WHERE kind = 'snooze'`).Scan(&attempts, &lastErr); err != nil {
		t.Fatalf("query: %v", err)
	}
	if attempts != 1 || lastErr != "" {
		t.Errorf("snoozing counted as a failed attempt: attempts=%d err=%q", attempts, lastErr)
	}
	if err := st.DB().QueryRow(`SELECT last_error FROM jobs WHERE kind = 'panic'`).Scan(&lastErr); err != nil {
		t.Fatalf("query: %v", err)
	}
	if lastErr != "panic: boom" {
		t.Errorf("panic recorded as %q", lastErr)
	}
}

func TestJobsFailAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	clock := parrain.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "j.db"), store.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := NewRunner(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.Handle("bad", func(context.Context, []byte) error { return errors.New("permanent") })
	if err := st.Enqueue(ctx, "bad", "", nil, clock.Now()); err != nil {
		t.Fatal(err)
	}
	for range store.DefaultMaxAttempts + 2 {
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(7 * time.Hour)
	}
	counts, _ := st.JobCounts(ctx)
	if counts["failed"] != 1 {
		t.Fatalf("states %v", counts)
	}
}

// A kind registered twice is a wiring mistake: the second registration
// would silently replace the first.
func TestHandleTwicePanics(t *testing.T) {
	r := NewRunner(nil, slog.New(slog.DiscardHandler))
	r.Handle("kind", func(context.Context, []byte) error { return nil })
	defer func() {
		if p := recover(); p == nil {
			t.Fatal("registering a kind twice did not panic")
		}
	}()
	r.Handle("kind", func(context.Context, []byte) error { return nil })
}

func TestPollBackoff(t *testing.T) {
	cases := []struct {
		failures int
		want     time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {4, 16 * time.Second}, {5, MaxPollBackoff}, {60, MaxPollBackoff}}
	for _, c := range cases {
		if got := PollBackoff(time.Second, c.failures); got != c.want {
			t.Errorf("PollBackoff(1s, %d) = %v, want %v", c.failures, got, c.want)
		}
	}
}

// lockedBuffer collects log output written from the runner's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// TestRunnerBacksOffWhileQueueUnreachable takes the jobs table away (as an
// unreachable database would) and checks that the runner logs one line when
// polls start failing and one when they succeed again, and polls less and
// less often in between instead of every interval.
func TestRunnerBacksOffWhileQueueUnreachable(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "j.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs lockedBuffer
	r := NewRunner(st, slog.New(slog.NewTextHandler(&logs, nil)))
	r.Interval = 5 * time.Millisecond
	if _, err := st.DB().ExecContext(ctx, `ALTER TABLE jobs RENAME TO jobs_away`); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx) }()
	defer func() { stop(); <-done }()

	time.Sleep(500 * time.Millisecond)
	// At a fixed 5 ms interval that would be ~100 polls and as many lines;
	// backing off (10, 20, 40, … ms) it is about 6 polls and one line.
	if n := strings.Count(logs.String(), "job queue unreachable"); n != 1 {
		t.Fatalf("%d 'unreachable' lines while the queue was away, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "\n"); n != 1 {
		t.Errorf("%d log lines while the queue was away, want 1:\n%s", n, logs.String())
	}
	if _, err := st.DB().ExecContext(ctx, `ALTER TABLE jobs_away RENAME TO jobs`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "job queue reachable again") {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery line within 5s:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("%d log lines in all, want 2 (down, up):\n%s", n, logs.String())
	}
}
