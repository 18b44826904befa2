// Package widget serves what advocates' friends touch without credentials:
// the referral link redirect /r/{code} that sets the attribution cookie and
// records the click.
//
// It imports the domain, the store, the metrics, httpx (errors, JSON, client
// IPs, rate limits) and the fraud package's User-Agent classifier; never
// another HTTP package (api, console, portal) or the job runner.
package widget

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/metrics"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CookieName is the first-party attribution cookie set by the redirect.
const CookieName = "parrain_ref"

// Redirect handles GET /r/{code}.
type Redirect struct {
	st     *store.Store
	log    *slog.Logger
	clicks *ClickRecorder
	ips    httpx.IPResolver
	codes  *CodeCache
	uas    uaCache
	// Landing, when set, may answer a valid code with the program's
	// personalised landing page instead of the redirect (landing.go).
	Landing LandingPage
}

// NewRedirect returns the redirect handler. fallback is where unknown codes
// land when no active program exists; cookieDomain may be empty (host-only
// cookie); secure sets the cookie's Secure attribute; ips finds the
// clicking client's address (the --trust-proxy setting), which the fraud
// signals read. What codes resolve to is cached (codecache.go).
func NewRedirect(st *store.Store, log *slog.Logger, clicks *ClickRecorder, fallback, cookieDomain string, secure bool, ips httpx.IPResolver) *Redirect {
	return &Redirect{st: st, log: log, clicks: clicks, ips: ips,
		codes: NewCodeCache(st, DefaultCodeCacheSize, DefaultUnknownCacheSize, DefaultVersionPoll, fallback, cookieDomain, secure)}
}

// Codes returns the redirect's code cache.
func (h *Redirect) Codes() *CodeCache { return h.codes }

// Header values shared by every answer (net/http only reads them).
var (
	noStore        = []string{"no-store"}
	referrerPolicy = []string{"strict-origin-when-cross-origin"}
)

// The redirect counters, looked up once.
var (
	redirectsUncounted = metrics.Redirects.WithLabelValues("uncounted")
	redirectsAutomated = metrics.Redirects.WithLabelValues("automated")
	redirectsValid     = metrics.Redirects.WithLabelValues("valid")
	redirectsInvalid   = metrics.Redirects.WithLabelValues("invalid")
)

// ServeHTTP answers 302 to the program's landing page with ref={code},
// updates the attribution cookie and records the click in the background.
// An unknown or disabled code still lands on a landing page, without
// credit, and counts as an invalid click. HEAD requests, link previews,
// crawlers and prefetches are redirected but not recorded; scripts and
// headless browsers are recorded as automated clicks, which are never
// counted but feed the fraud checks.
func (h *Redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	code := parrain.NormalizeCode(r.PathValue("code"))
	now := h.st.Clock().Now()
	var e *resolved
	var err error
	if parrain.ValidCodeSyntax(code) {
		e, err = h.codes.resolve(r.Context(), code)
	} else {
		e, err = h.codes.resolve(r.Context(), "") // never a code: the fallback landing
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "resolving referral code", "err", err)
		e = &resolved{target: h.codes.fallbackURL}
	}
	valid := e.found && e.t.Active
	if valid {
		h.setCookie(w, r, e, now)
	}
	hdr := w.Header()
	hdr["Cache-Control"] = noStore
	hdr["Referrer-Policy"] = referrerPolicy
	if !valid || h.Landing == nil || !e.t.LandingPage || !h.Landing.Serve(w, r, e.t, e.target) {
		if e.location != nil {
			hdr["Location"] = e.location
			w.WriteHeader(http.StatusFound)
		} else {
			http.Redirect(w, r, e.target, http.StatusFound)
		}
	}

	if r.Method == http.MethodHead || IsPrefetch(r) {
		redirectsUncounted.Inc()
		return
	}
	// Scripts, headless browsers and clients with no User-Agent are
	// recorded, not counted: they are the fraud checks' evidence of click
	// flooding (net.automated_clicks, the automated click flood alert).
	// Link previews and crawlers are neither clicks nor evidence.
	ua := r.UserAgent()
	automated := false
	switch h.uas.classify(ua) {
	case uaAutomated:
		automated = true
	case uaBot:
		redirectsUncounted.Inc()
		return
	}
	switch {
	case automated:
		redirectsAutomated.Inc()
	case valid:
		redirectsValid.Inc()
	default:
		redirectsInvalid.Inc()
	}
	c := store.Click{Code: truncate(code, 32), Valid: valid && !automated, Automated: automated, IP: h.ips.ClientIP(r),
		Params: truncate(r.URL.RawQuery, 1000), UserAgent: truncate(ua, 500), Referer: truncate(r.Referer(), 500), At: now}
	if e.found {
		c.ProgramID, c.ParticipantID = e.t.ProgramID, e.t.ParticipantID
	}
	h.clicks.Record(c) // the writer hashes the IP (hashIP), off the request path
}

// setCookie adds this touch to the attribution cookie. The cookie's
// attributes were written once per code (resolved.cookieTail); its value
// is the touches, which the domain encodes.
func (h *Redirect) setCookie(w http.ResponseWriter, r *http.Request, e *resolved, now time.Time) {
	var b strings.Builder
	b.Grow(len(CookieName) + 1 + len(e.t.Code) + 12 + len(e.cookieTail))
	b.WriteString(CookieName)
	b.WriteByte('=')
	var touches []parrain.Touch
	if c, err := r.Cookie(CookieName); err == nil {
		touches, _ = parrain.ParseTouchCookie(c.Value) // a garbled cookie is replaced
	}
	if len(touches) == 0 {
		b.WriteString(e.t.Code) // parrain.TouchCookie of this one touch, without its slices
		b.WriteByte('.')
		var num [20]byte
		b.Write(strconv.AppendInt(num[:0], now.Unix(), 10))
	} else {
		b.WriteString(parrain.TouchCookie(parrain.AddTouch(touches, parrain.Touch{Code: e.t.Code, At: now})))
	}
	b.WriteString(e.cookieTail)
	w.Header()["Set-Cookie"] = append(w.Header()["Set-Cookie"], b.String())
}

// withRef adds ref=code to a landing URL's query, keeping its other
// parameters and fragment.
func withRef(landing, code string) string {
	u, err := url.Parse(landing)
	if err != nil {
		return landing
	}
	q := u.Query()
	q.Set("ref", code)
	u.RawQuery = q.Encode()
	return u.String()
}

// hashIP is the keyed hash of a client address that clicks and consents
// keep, so that visits can be told apart without keeping the address.
func hashIP(secret []byte, ip string) string {
	if ip == "" {
		return ""
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ip))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// IsPrefetch reports whether the request is a browser prefetch or
// prerender, which must not count as a click.
func IsPrefetch(r *http.Request) bool {
	for _, h := range []string{"Purpose", "Sec-Purpose", "X-Purpose", "X-Moz"} {
		v := strings.ToLower(r.Header.Get(h))
		if strings.Contains(v, "prefetch") || strings.Contains(v, "preview") || strings.Contains(v, "prerender") {
			return true
		}
	}
	return false
}

// botMarkers are user agent fragments of crawlers, link unfurlers and
// scripted clients.
var botMarkers = []string{"bot", "crawl", "spider", "slurp", "facebookexternalhit", "whatsapp", "preview", "headlesschrome",
	"curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "okhttp", "java/", "httpclient", "scrapy",
	"phantomjs", "lighthouse", "pingdom", "uptime", "monitor", "embedly", "quora link", "outbrain", "vkshare", "skypeuripreview"}

// IsBot reports whether a user agent is a bot, link previewer or script.
func IsBot(ua string) bool {
	if strings.TrimSpace(ua) == "" {
		return true
	}
	l := strings.ToLower(ua)
	for _, m := range botMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}

// ClickRecorder buffers clicks in memory and writes them in batches, so the
// redirect never waits on a disk sync. A batch is written every Interval or
// when it reaches BatchSize; Close flushes what is left. Clicks are
// analytics: while the database cannot take them, the writer keeps its
// batch and retries with exponential backoff (one log line when writes
// start failing, one when they succeed again); once the buffer is full,
// new clicks are dropped and counted rather than slowing redirects —
// attribution does not depend on them, the cookie carries it.
type ClickRecorder struct {
	st   *store.Store
	log  *slog.Logger
	ch   chan store.Click
	stop chan struct{} // closed by Close: flush once more and return
	done chan struct{}
	sync chan chan error // Sync: write what is queued now, then answer
	// Dropped counts clicks lost to a full buffer or to a database still
	// failing at shutdown.
	Dropped atomic.Uint64
	// MaxBackoff caps the wait between write attempts while the database
	// fails (default 30s).
	MaxBackoff time.Duration
	full       atomic.Bool // the buffer is full: log once per episode
	closeOnce  sync.Once
}

// catchUpBatches is how many batches one click transaction may take when
// clicks arrive faster than batches commit.
const catchUpBatches = 16

// The click counters, looked up once.
var (
	clicksRecordedValid   = metrics.ClicksRecorded.WithLabelValues("valid")
	clicksRecordedInvalid = metrics.ClicksRecorded.WithLabelValues("invalid")
	clicksDroppedFull     = metrics.ClicksDropped.WithLabelValues("buffer_full")
)

// NewClickRecorder starts the background writer.
func NewClickRecorder(st *store.Store, log *slog.Logger, buffer int, interval time.Duration, batch int) *ClickRecorder {
	c := &ClickRecorder{st: st, log: log, ch: make(chan store.Click, buffer), stop: make(chan struct{}), done: make(chan struct{}), sync: make(chan chan error), MaxBackoff: 30 * time.Second}
	go c.loop(interval, batch)
	return c
}

// Queued returns how many clicks wait in the buffer.
func (c *ClickRecorder) Queued() int { return len(c.ch) }

// Record queues a click without blocking.
func (c *ClickRecorder) Record(k store.Click) {
	select {
	case c.ch <- k:
		if c.full.Load() {
			c.full.Store(false)
		}
	default:
		c.Dropped.Add(1)
		clicksDroppedFull.Inc()
		if !c.full.Swap(true) {
			c.log.Warn("click buffer full: clicks are dropped until the database catches up", "buffer", cap(c.ch))
		}
	}
}

func (c *ClickRecorder) loop(interval time.Duration, batch int) {
	defer close(c.done)
	var buf []store.Click
	failures := 0
	var downSince time.Time
	// The clicks' IP hashes are made here, with one keyed hash reused,
	// rather than on the redirect's request path.
	mac := hmac.New(sha256.New, c.st.Secret())
	var sum [sha256.Size]byte
	// write tries to store buf once; it reports whether buf is empty now.
	write := func() bool {
		if len(buf) == 0 {
			return true
		}
		for i := range buf {
			if k := &buf[i]; k.IPHash == "" && k.IP != "" {
				mac.Reset()
				mac.Write([]byte(k.IP))
				k.IPHash = hex.EncodeToString(mac.Sum(sum[:0])[:16]) // = hashIP
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.st.InsertClicks(ctx, buf); err != nil {
			if failures == 0 {
				downSince = time.Now()
				c.log.Error("writing clicks failed: keeping them and retrying with backoff", "n", len(buf), "err", err)
			}
			failures++
			return false
		}
		valid := 0
		for _, k := range buf {
			if k.Valid {
				valid++
			}
		}
		clicksRecordedValid.Add(float64(valid))
		clicksRecordedInvalid.Add(float64(len(buf) - valid))
		if failures > 0 {
			c.log.Info("writing clicks again", "n", len(buf), "down_for", time.Since(downSince).Round(time.Millisecond), "failed_attempts", failures)
			failures = 0
		}
		buf = buf[:0]
		return true
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if failures > 0 {
			// Back off without reading new clicks: the channel buffers
			// them, and Record drops (and counts) once it is full.
			wait := interval
			for i := 0; i < failures && wait < c.MaxBackoff; i++ {
				wait *= 2
			}
			timer := time.NewTimer(min(wait, c.MaxBackoff))
			select {
			case <-c.stop:
				timer.Stop()
				c.drain(&buf, write)
				return
			case <-timer.C:
			}
			write()
			continue
		}
		select {
		case <-c.stop:
			c.drain(&buf, write)
			return
		case k := <-c.ch:
			buf = append(buf, k)
			if len(buf) >= batch {
				// Take what else waits, up to catchUpBatches batches: when
				// commits are slow (a busy disk), transactions grow instead
				// of the backlog.
			more:
				for len(buf) < batch*catchUpBatches {
					select {
					case k := <-c.ch:
						buf = append(buf, k)
					default:
						break more
					}
				}
				write()
			}
		case <-t.C:
			write()
		case reply := <-c.sync:
			// Every click recorded before Sync was called is in the
			// channel or in buf: take them all and write.
		queued:
			for {
				select {
				case k := <-c.ch:
					buf = append(buf, k)
				default:
					break queued
				}
			}
			if write() {
				reply <- nil
			} else {
				reply <- errors.New("writing clicks failed")
			}
		}
	}
}

// Sync returns once every click recorded before the call is written (or
// the write failed, or ctx ended, or the recorder is closed). The event
// ingestion calls it before scoring a signup that follows its click within
// seconds, so the click's evidence is in the database.
func (c *ClickRecorder) Sync(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case c.sync <- reply:
	case <-c.done:
		return nil // closed: drained already
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain writes what is buffered at shutdown, once; clicks the database
// still refuses are dropped and counted.
func (c *ClickRecorder) drain(buf *[]store.Click, write func() bool) {
	for {
		select {
		case k := <-c.ch:
			*buf = append(*buf, k)
			continue
		default:
		}
		break
	}
	if n := len(*buf); n > 0 && !write() {
		c.Dropped.Add(uint64(n))
		metrics.ClicksDropped.WithLabelValues("write_failed").Add(float64(n))
		c.log.Error("clicks lost at shutdown: the database refused them", "n", n)
	}
}

// Close flushes buffered clicks and stops the writer. Record must not be
// called after Close.
func (c *ClickRecorder) Close() {
	c.closeOnce.Do(func() { close(c.stop) })
	<-c.done
}

// uaClass is what the redirect does with a click of a user agent.
type uaClass uint8

const (
	uaCounted   uaClass = iota // a browser: a click
	uaAutomated                // a script, a headless browser, no User-Agent: recorded, not counted
	uaBot                      // a crawler or link preview: not recorded
)

// classifyUA sorts a user agent for the redirect.
func classifyUA(ua string) uaClass {
	switch fraud.ClassifyUserAgent(ua) {
	case fraud.UAAutomation, fraud.UAEmpty:
		return uaAutomated
	}
	if IsBot(ua) {
		return uaBot
	}
	return uaCounted
}

// uaCacheSize bounds the user agents whose class is remembered; past it
// the cache starts again empty.
const uaCacheSize = 4096

// uaCache remembers the class of the user agents seen (a few hundred
// strings make most traffic), sparing the lower-casing and the scans.
type uaCache struct {
	m sync.Map // string → uaClass
	n atomic.Int64
}

func (c *uaCache) classify(ua string) uaClass {
	if v, ok := c.m.Load(ua); ok {
		return v.(uaClass)
	}
	k := classifyUA(ua)
	if len(ua) <= 512 {
		if c.n.Add(1) > uaCacheSize {
			c.m.Clear()
			c.n.Store(1)
		}
		c.m.Store(strings.Clone(ua), k)
	}
	return k
}
