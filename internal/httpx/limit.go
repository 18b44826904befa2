package httpx

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a client IP, an email address). Keys
// idle long enough for their bucket to be full again are evicted: a full
// bucket is what a new key gets, so eviction forgets nothing, and memory
// stays bounded by the keys active within one refill period.
type Limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	idle    time.Duration // how long until an empty bucket is full again
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiter returns a limiter granting each key limit events per second
// with bursts of burst (use rate.Every for "one per duration").
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	idle := time.Hour
	if limit > 0 && limit != rate.Inf {
		idle = time.Duration(float64(max(burst, 1)) / float64(limit) * float64(time.Second))
	}
	return &Limiter{limit: limit, burst: burst, idle: max(idle, time.Second), buckets: map[string]*bucket{}}
}

// Allow takes a token from key's bucket at now, reporting false when the
// key is over its limit. now is passed in so that a fake clock controls
// refills in tests.
func (l *Limiter) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.idle {
		l.evict(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

// evict forgets the keys whose bucket has refilled.
func (l *Limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= l.idle {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
