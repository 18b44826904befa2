package httpx

import (
	"net/http"
	"strconv"
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

func TestLimiterDecision(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Second), 3) // 3 at once, one back a second
	type want struct {
		allowed             bool
		remaining           int
		limit, reset, retry string
	}
	steps := []struct {
		at   time.Duration
		q    *Quota // nil: the limiter's own
		want want
	}{
		{0, nil, want{true, 2, "3", "1", ""}},
		{0, nil, want{true, 1, "3", "2", ""}},
		{0, nil, want{true, 0, "3", "3", ""}},
		{0, nil, want{false, 0, "3", "3", "1"}},
		{500 * time.Millisecond, nil, want{false, 0, "3", "3", "1"}}, // 2.5 s to full, rounded up; 0.5 s to a token: at least 1
		{time.Second, nil, want{true, 0, "3", "3", ""}},
		// The key's own quota, as an API key's of 10 a minute: the 3
		// used stay used, 7 are left.
		{time.Second, &Quota{Limit: rate.Limit(10.0 / 60), Burst: 10}, want{true, 6, "10", "24", ""}},
		{7 * time.Second, &Quota{Limit: rate.Limit(10.0 / 60), Burst: 10}, want{true, 6, "10", "24", ""}},
		// Lowered to 5 a minute: 4 used, 1 left, taken now.
		{7 * time.Second, &Quota{Limit: rate.Limit(5.0 / 60), Burst: 5}, want{true, 0, "5", "60", ""}},
		{7 * time.Second, &Quota{Limit: rate.Limit(5.0 / 60), Burst: 5}, want{false, 0, "5", "60", "12"}},
	}
	for i, s := range steps {
		var d Decision
		if s.q == nil {
			d = l.Take("k", t0.Add(s.at))
		} else {
			d = l.TakeWith("k", *s.q, t0.Add(s.at))
		}
		h := http.Header{}
		d.SetHeaders(h)
		got := want{d.Allowed, d.Remaining, h.Get("RateLimit-Limit"), h.Get("RateLimit-Reset"), h.Get("Retry-After")}
		if got != s.want || h.Get("RateLimit-Remaining") != strconv.Itoa(s.want.remaining) {
			t.Errorf("step %d: %+v (headers %v), want %+v", i, got, h, s.want)
		}
	}
	if q := PerMinute(120); q.Burst != 120 || q.Limit != 2 {
		t.Errorf("PerMinute(120) = %+v", q)
	}
}
