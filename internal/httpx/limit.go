package httpx

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a client IP, an email address, an API
// key). Keys idle long enough for their bucket to be full again are
// evicted: a full bucket is what a new key gets, so eviction forgets
// nothing, and memory stays bounded by the keys active within one refill
// period.
type Limiter struct {
	mu      sync.Mutex
	def     Quota
	buckets map[string]*bucket
	swept   time.Time
	sweep   time.Duration // how often idle keys are looked for
}

// Quota is the size of a bucket (Burst) and how fast it refills (Limit
// tokens per second).
type Quota struct {
	Limit rate.Limit
	Burst int
}

// PerMinute is a quota of n requests a minute, all of which may come at
// once: a bucket of n refilled over a minute.
func PerMinute(n int) Quota {
	return Quota{Limit: rate.Limit(float64(n) / 60), Burst: n}
}

// refill is how long an empty bucket takes to be full again.
func (q Quota) refill() time.Duration {
	if q.Limit <= 0 || q.Limit == rate.Inf {
		return time.Hour
	}
	return max(time.Duration(float64(max(q.Burst, 1))/float64(q.Limit)*float64(time.Second)), time.Second)
}

type bucket struct {
	l    *rate.Limiter
	q    Quota
	seen time.Time
}

// NewLimiter returns a limiter granting each key limit events per second
// with bursts of burst (use rate.Every for "one per duration").
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	q := Quota{Limit: limit, Burst: burst}
	return &Limiter{def: q, buckets: map[string]*bucket{}, sweep: q.refill()}
}

// Decision is the outcome of taking a token: whether the request may go
// on, and what the IETF RateLimit headers tell the client.
type Decision struct {
	Allowed bool
	// Limit is the bucket's size; Remaining the tokens left after this
	// request.
	Limit, Remaining int
	// Reset is how long until the bucket is full again; RetryAfter, for
	// a refused request, how long until one token is back.
	Reset, RetryAfter time.Duration
}

// Allow takes a token from key's bucket at now, reporting false when the
// key is over its limit. now is passed in so that a fake clock controls
// refills in tests.
func (l *Limiter) Allow(key string, now time.Time) bool {
	return l.Take(key, now).Allowed
}

// Take takes a token from key's bucket at now under the limiter's quota.
func (l *Limiter) Take(key string, now time.Time) Decision {
	return l.TakeWith(key, l.def, now)
}

// TakeWith takes a token from key's bucket at now under quota q (a key
// with its own limit, such as an API key's). A key whose quota changed
// keeps what it used of the old one.
func (l *Limiter) TakeWith(key string, q Quota, now time.Time) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= l.sweep {
		l.evict(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(q.Limit, q.Burst), q: q}
		l.buckets[key] = b
	} else if b.q != q {
		// The key keeps what it has used: a raised limit gives room at
		// once, a lowered one takes it away.
		left := b.l.TokensAt(now) + float64(q.Burst-b.q.Burst)
		b.l, b.q = rate.NewLimiter(q.Limit, q.Burst), q
		if used := q.Burst - int(math.Floor(max(left, 0))); used > 0 {
			b.l.ReserveN(now, min(used, q.Burst))
		}
	}
	b.seen = now
	d := Decision{Allowed: b.l.AllowN(now, 1), Limit: q.Burst}
	tokens := b.l.TokensAt(now)
	d.Remaining = max(int(math.Floor(tokens)), 0)
	if q.Limit > 0 && q.Limit != rate.Inf {
		perToken := float64(time.Second) / float64(q.Limit)
		d.Reset = time.Duration((float64(q.Burst) - tokens) * perToken)
		if !d.Allowed {
			d.RetryAfter = time.Duration((1 - tokens) * perToken)
		}
	}
	return d
}

// evict forgets the keys whose bucket has refilled.
func (l *Limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) >= b.q.refill() {
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

// seconds rounds d up to whole seconds, as the headers count.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

// SetHeaders writes the IETF RateLimit headers of d (RateLimit-Limit,
// RateLimit-Remaining, RateLimit-Reset in seconds) and, on a refused
// request, Retry-After (at least one second). Every public answer carries
// them, so the keys are written in their canonical form and small numbers
// come from a table: no allocation for the usual answer.
func (d Decision) SetHeaders(h http.Header) {
	h["Ratelimit-Limit"] = headerInt(int64(d.Limit))
	h["Ratelimit-Remaining"] = headerInt(int64(d.Remaining))
	h["Ratelimit-Reset"] = headerInt(int64(math.Ceil(d.Reset.Seconds())))
	if !d.Allowed {
		h.Set("Retry-After", seconds(max(d.RetryAfter, time.Second)))
	}
}

// headerInts holds the header values of 0…1023, shared (net/http only
// reads them).
var headerInts = func() (t [1024][]string) {
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

func headerInt(n int64) []string {
	if n >= 0 && n < int64(len(headerInts)) {
		return headerInts[n]
	}
	return []string{strconv.FormatInt(n, 10)}
}
