package widget

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// syncBuffer collects log output written from the writer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClickWriterBacksOff takes the clicks table away (as an unreachable
// database would) and checks that the writer logs once when writes start
// failing and once when they work again, keeps the clicks meanwhile, drops
// and counts what overflows its buffer, and writes the rest once the
// database is back.
func TestClickWriterBacksOff(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs syncBuffer
	c := NewClickRecorder(st, slog.New(slog.NewTextHandler(&logs, nil)), 20, 5*time.Millisecond, 5)
	c.MaxBackoff = 80 * time.Millisecond
	if _, err := st.DB().ExecContext(ctx, `ALTER TABLE clicks RENAME TO clicks_away`); err != nil {
		t.Fatal(err)
	}
	click := func() store.Click { return store.Click{Code: "NOPE", At: time.Now().UTC()} }
	for range 5 {
		c.Record(click())
	}
	time.Sleep(400 * time.Millisecond) // at a fixed 5 ms this would be ~80 attempts and lines
	for range 30 {
		c.Record(click()) // 20 fit in the buffer, 10 are dropped
	}
	time.Sleep(100 * time.Millisecond)
	out := logs.String()
	if n := strings.Count(out, "writing clicks failed"); n != 1 {
		t.Fatalf("%d failure lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "click buffer full"); n != 1 {
		t.Errorf("%d buffer-full lines, want 1:\n%s", n, out)
	}
	if got := c.Dropped.Load(); got != 10 {
		t.Errorf("dropped %d clicks, want 10", got)
	}
	if _, err := st.DB().ExecContext(ctx, `ALTER TABLE clicks_away RENAME TO clicks`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "writing clicks again") {
		if time.Now().After(deadline) {
			t.Fatalf("no recovery line within 5s:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Errorf("%d clicks stored, want 25 (5 before the outage, 20 buffered during it)", n)
	}
	if n := strings.Count(logs.String(), "\n"); n != 3 {
		t.Errorf("%d log lines, want 3 (failing, buffer full, writing again):\n%s", n, logs.String())
	}
}
