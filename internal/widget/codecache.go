package widget

import (
	"context"
	"errors"
	"hash/maphash"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Cache sizes and timings of the redirect's code cache.
const (
	// DefaultCodeCacheSize bounds the codes the redirect remembers (about
	// 300 bytes each).
	DefaultCodeCacheSize = 100_000
	// DefaultUnknownCacheSize bounds the unknown codes it remembers, so
	// that a flood of made-up codes costs at most this much memory.
	DefaultUnknownCacheSize = 10_000
	// unknownTTL is how long an unknown code is remembered: a participant
	// created by another server process is found within it (this process's
	// own inserts are seen at once).
	unknownTTL = time.Second
	// DefaultVersionPoll is how often the shared change version is read
	// (store.CodeCacheVersion): changes made by other processes are seen
	// within this time.
	DefaultVersionPoll = 500 * time.Millisecond
)

const cacheShards = 64 // a power of two

// resolved is what the redirect needs to answer a code, computed once per
// cache fill: the target and its Location header value, the cookie's
// attributes. It is never modified once cached.
type resolved struct {
	code     string
	found    bool // the code exists (it may still be inactive)
	t        store.CodeTarget
	location []string // the Location header value; nil: use http.Redirect
	target   string
	// cookieTail is the Set-Cookie attributes after the value, exactly as
	// http.SetCookie writes them ("; Path=/; Max-Age=…; SameSite=Lax").
	cookieTail string

	expires time.Time // unknown codes only
	gen     uint64
	// LRU links, guarded by the shard's lock.
	prev, next *resolved
}

// lru is one bounded least-recently-used list.
type lru struct {
	m          map[string]*resolved
	head, tail *resolved // head: most recently used
	max        int
}

func (l *lru) get(code string) *resolved {
	e := l.m[code]
	if e != nil && e != l.head {
		l.unlink(e)
		l.push(e)
	}
	return e
}

func (l *lru) put(e *resolved) {
	if old := l.m[e.code]; old != nil {
		l.unlink(old)
	}
	l.m[e.code] = e
	l.push(e)
	for len(l.m) > l.max && l.tail != nil {
		t := l.tail
		l.unlink(t)
		delete(l.m, t.code)
	}
}

func (l *lru) remove(code string) {
	if e := l.m[code]; e != nil {
		l.unlink(e)
		delete(l.m, code)
	}
}

func (l *lru) push(e *resolved) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

func (l *lru) unlink(e *resolved) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

type cacheShard struct {
	mu    sync.Mutex
	known lru
	// unknown holds codes that resolve to nothing, apart from known so that
	// a flood of made-up codes never evicts real ones.
	unknown lru
	// seq changes whenever a code of this shard is invalidated: a lookup
	// that started before keeps its answer out of the cache.
	seq uint64
	_   [40]byte // keep shards on separate cache lines
}

// CodeCache remembers what referral codes resolve to, so that a redirect
// costs no database query. It is bounded (an LRU of known codes and a
// smaller one of unknown codes) and stays correct:
//
//   - a change made through this process's store (a program, its
//     experience settings, a participant's code or status, a new
//     participant) is seen by the next redirect: the store tells the cache
//     once the transaction commits (store.OnCodeChange);
//   - a change made by another process (a replica) is seen within
//     DefaultVersionPoll: the cache reads the shared change version
//     (store.CodeCacheVersion) at most that often, on the request path of
//     one redirect, and drops everything when it moved; unknown codes are
//     forgotten after a second, because new participants do not move it.
type CodeCache struct {
	st     *store.Store
	seed   maphash.Seed
	shards [cacheShards]cacheShard
	gen    atomic.Uint64 // bumped to drop every entry at once

	cookieDomain string
	secure       bool
	fallbackURL  string // where unknown codes land when no program is active

	poll      time.Duration
	lastPoll  atomic.Int64 // unix nanoseconds of the last version read
	polling   atomic.Bool
	dbVersion atomic.Int64 // the shared version last read; 0: not yet
	fallback  atomic.Pointer[fallbackLanding]
}

type fallbackLanding struct {
	url string
	gen uint64
}

// NewCodeCache returns a cache of at most size known and unknown unknown
// codes, registered with st for its change notices. Redirects made with
// the same cookie settings share it.
func NewCodeCache(st *store.Store, size, unknown int, poll time.Duration, fallbackURL, cookieDomain string, secure bool) *CodeCache {
	c := &CodeCache{st: st, seed: maphash.MakeSeed(), poll: poll, fallbackURL: fallbackURL, cookieDomain: cookieDomain, secure: secure}
	per := max(1, size/cacheShards)
	perUnknown := max(1, unknown/cacheShards)
	for i := range c.shards {
		c.shards[i].known = lru{m: map[string]*resolved{}, max: per}
		c.shards[i].unknown = lru{m: map[string]*resolved{}, max: perUnknown}
	}
	c.gen.Store(1)
	st.OnCodeChange(c.invalidate)
	return c
}

func (c *CodeCache) shard(code string) *cacheShard {
	return &c.shards[maphash.String(c.seed, code)&(cacheShards-1)]
}

// invalidate forgets code, or everything for store.AllCodes.
func (c *CodeCache) invalidate(code string) {
	if code == store.AllCodes {
		c.gen.Add(1)
		return
	}
	s := c.shard(code)
	s.mu.Lock()
	s.known.remove(code)
	s.unknown.remove(code)
	s.seq++
	s.mu.Unlock()
}

// Len returns how many known and unknown codes are cached (entries of a
// generation already dropped included, until they are evicted).
func (c *CodeCache) Len() (known, unknown int) {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		known += len(s.known.m)
		unknown += len(s.unknown.m)
		s.mu.Unlock()
	}
	return known, unknown
}

// resolve returns what code (normalised) resolves to: found is false for
// an unknown code (its target is the fallback landing then).
func (c *CodeCache) resolve(ctx context.Context, code string) (*resolved, error) {
	c.checkVersion(ctx)
	gen := c.gen.Load()
	s := c.shard(code)
	s.mu.Lock()
	if e := s.known.get(code); e != nil {
		if e.gen == gen {
			s.mu.Unlock()
			return e, nil
		}
		s.known.remove(code)
	} else if e := s.unknown.get(code); e != nil {
		if e.gen == gen && time.Now().Before(e.expires) {
			s.mu.Unlock()
			return e, nil
		}
		s.unknown.remove(code)
	}
	seq := s.seq
	s.mu.Unlock()

	e, err := c.load(ctx, code, gen)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.seq == seq && c.gen.Load() == gen {
		if e.found {
			s.known.put(e)
		} else {
			s.unknown.put(e)
		}
	}
	s.mu.Unlock()
	return e, nil
}

// load reads code from the database and prepares its answer.
func (c *CodeCache) load(ctx context.Context, code string, gen uint64) (*resolved, error) {
	t, err := c.st.ResolveCode(ctx, code)
	if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
		return nil, err
	}
	e := &resolved{code: code, found: err == nil, t: t, gen: gen}
	if !e.found {
		landing, err := c.fallbackLanding(ctx, gen)
		if err != nil {
			return nil, err
		}
		e.t = store.CodeTarget{}
		e.target = landing
		e.expires = time.Now().Add(unknownTTL)
	} else if t.Active {
		e.target = withRef(t.LandingURL, t.Code)
		ck := (&http.Cookie{Name: CookieName, Value: "x", Path: "/", Domain: c.cookieDomain, MaxAge: t.WindowDays * 24 * 3600,
			Secure: c.secure, SameSite: http.SameSiteLaxMode}).String()
		e.cookieTail = strings.TrimPrefix(ck, CookieName+"=x")
	} else {
		e.target = t.LandingURL
	}
	if u, err := url.Parse(e.target); err == nil && u.IsAbs() && (u.Scheme == "http" || u.Scheme == "https") {
		e.location = []string{e.target} // absolute: written as is, as http.Redirect would
	}
	return e, nil
}

// fallbackLanding is where unknown codes land: the oldest active program's
// landing page, or the configured fallback URL.
func (c *CodeCache) fallbackLanding(ctx context.Context, gen uint64) (string, error) {
	if f := c.fallback.Load(); f != nil && f.gen == gen {
		return f.url, nil
	}
	u, err := c.st.FallbackLanding(ctx)
	if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
		return "", err
	}
	if u == "" {
		u = c.fallbackURL
	}
	if c.gen.Load() == gen {
		c.fallback.Store(&fallbackLanding{url: u, gen: gen})
	}
	return u, nil
}

// checkVersion reads the shared change version when the last read is older
// than the poll interval, and drops the cache when it moved. One request
// at a time does it; the others go on with the cache meanwhile.
func (c *CodeCache) checkVersion(ctx context.Context) {
	now := time.Now().UnixNano()
	if now-c.lastPoll.Load() < int64(c.poll) || !c.polling.CompareAndSwap(false, true) {
		return
	}
	defer c.polling.Store(false)
	if now-c.lastPoll.Load() < int64(c.poll) {
		return // another request just did it
	}
	v, err := c.st.CodeCacheVersion(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			c.gen.Add(1) // cannot tell: trust nothing cached
		}
		return
	}
	c.lastPoll.Store(now)
	if old := c.dbVersion.Swap(v); old != v && old != 0 {
		c.gen.Add(1)
	}
}
