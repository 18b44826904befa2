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
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "writing clicks failed"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no failure line within 5s")
		}
	}
	// Backing off, the writer reads no more clicks: those it had not taken
	// yet stay in the buffer.
	queued := c.Queued()
	time.Sleep(400 * time.Millisecond) // at a fixed 5 ms this would be ~80 attempts and lines
	if c.Queued() != queued {
		t.Fatalf("the writer took clicks while backing off: %d → %d queued", queued, c.Queued())
	}
	for range 30 {
		c.Record(click()) // 20 - queued fit in the buffer, the rest is dropped
	}
	time.Sleep(100 * time.Millisecond)
	wantDropped := 10 + queued
	out := logs.String()
	if n := strings.Count(out, "writing clicks failed"); n != 1 {
		t.Fatalf("%d failure lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "click buffer full"); n != 1 {
		t.Errorf("%d buffer-full lines, want 1:\n%s", n, out)
	}
	if got := c.Dropped.Load(); got != uint64(wantDropped) {
		t.Errorf("dropped %d clicks, want %d", got, wantDropped)
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
	if n != 35-wantDropped {
		t.Errorf("%d clicks stored, want %d (35 recorded, %d dropped)", n, 35-wantDropped, wantDropped)
	}
	if n := strings.Count(logs.String(), "\n"); n != 3 {
		t.Errorf("%d log lines, want 3 (failing, buffer full, writing again):\n%s", n, logs.String())
	}
}

// TestClickRecorderSync: Sync writes what was recorded before it long
// before the interval, so a signup right after its click is scored with
// it; after Close it returns at once.
func TestClickRecorderSync(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := NewClickRecorder(st, slog.New(slog.DiscardHandler), 100, time.Hour, 1000)
	count := func() int {
		t.Helper()
		var n int
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 3 {
		c.Record(store.Click{Code: "SYNC" + string(rune('A'+i)), IP: "198.51.100.7", UserAgent: "python-requests/2.32", At: time.Now().UTC()})
	}
	if n := count(); n != 0 {
		t.Fatalf("%d clicks written before the hour-long interval", n)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Sync(sctx); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d clicks written by Sync, want 3", n)
	}
	c.Close()
	if err := c.Sync(sctx); err != nil {
		t.Fatalf("Sync after Close: %v", err)
	}
}
