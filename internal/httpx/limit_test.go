package httpx

import (
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	type step struct {
		key  string
		at   time.Duration // after t0
		want bool
	}
	cases := []struct {
		name  string
		limit rate.Limit
		burst int
		steps []step
	}{
		{"burst then refused", rate.Every(time.Minute), 2, []step{
			{"a", 0, true}, {"a", 0, true}, {"a", 0, false}, {"a", time.Second, false},
		}},
		{"keys are independent", rate.Every(time.Minute), 1, []step{
			{"a", 0, true}, {"b", 0, true}, {"a", 0, false}, {"b", 0, false}, {"c", 0, true},
		}},
		{"refills with time", rate.Every(time.Minute), 1, []step{
			{"a", 0, true}, {"a", 30 * time.Second, false}, {"a", time.Minute, true}, {"a", time.Minute, false},
		}},
		{"per second", 10, 1, []step{
			{"a", 0, true}, {"a", 50 * time.Millisecond, false}, {"a", 100 * time.Millisecond, true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLimiter(c.limit, c.burst)
			for i, s := range c.steps {
				if got := l.Allow(s.key, t0.Add(s.at)); got != s.want {
					t.Fatalf("step %d (%s at +%s): Allow = %v, want %v", i, s.key, s.at, got, s.want)
				}
			}
		})
	}
}

func TestLimiterEvictsIdleKeys(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Minute), 3) // an empty bucket is full after 3 minutes
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k, t0)
	}
	l.Allow("a", t0.Add(2*time.Minute))
	if n := l.Len(); n != 3 {
		t.Fatalf("keys before the refill period: %d", n)
	}
	// b and c have been idle a full refill period: forgotten; a has not.
	l.Allow("d", t0.Add(3*time.Minute))
	if n := l.Len(); n != 2 {
		t.Fatalf("keys after eviction: %d, want 2 (a and d)", n)
	}
	// A forgotten key starts again with a full bucket, as it would have.
	for i := range 3 {
		if !l.Allow("b", t0.Add(3*time.Minute)) {
			t.Fatalf("evicted key refused at %d", i)
		}
	}
	if l.Allow("b", t0.Add(3*time.Minute)) {
		t.Fatal("evicted key got more than its burst")
	}
}
