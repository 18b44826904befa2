// Package widget serves what advocates' friends touch without credentials:
// the referral link redirect /r/{code} that sets the attribution cookie and
// records the click.
//
// It imports the domain, the store, httpx (errors, JSON, client IPs, rate
// limits) and the fraud package's User-Agent classifier; never another HTTP package (api, console, portal) or the
// job runner.
package widget

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CookieName is the first-party attribution cookie set by the redirect.
const CookieName = "parrain_ref"

// Redirect handles GET /r/{code}.
type Redirect struct {
	st       *store.Store
	log      *slog.Logger
	clicks   *ClickRecorder
	fallback string // landing for unknown codes when no program exists
	secure   bool   // set the Secure cookie attribute
	domain   string // cookie Domain attribute, e.g. ".example.com"
	ips      httpx.IPResolver
	// Landing, when set, may answer a valid code with the program's
	// personalised landing page instead of the redirect (landing.go).
	Landing LandingPage
}

// NewRedirect returns the redirect handler. fallback is where unknown codes
// land when no active program exists; cookieDomain may be empty (host-only
// cookie); secure sets the cookie's Secure attribute; ips finds the
// clicking client's address (the --trust-proxy setting), which the fraud
// signals read.
func NewRedirect(st *store.Store, log *slog.Logger, clicks *ClickRecorder, fallback, cookieDomain string, secure bool, ips httpx.IPResolver) *Redirect {
	return &Redirect{st: st, log: log, clicks: clicks, fallback: fallback, domain: cookieDomain, secure: secure, ips: ips}
}

// ServeHTTP answers 302 to the program's landing page with ref={code},
// updates the attribution cookie and records the click in the background.
// An unknown or disabled code still lands on a landing page, without
// credit, and counts as an invalid click. HEAD requests, link previews,
// crawlers and prefetches are redirected but not recorded; scripts and
// headless browsers are recorded as automated clicks, which are never
// counted but feed the fraud checks.
func (h *Redirect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	code := parrain.NormalizeCode(raw)
	now := h.st.Clock().Now()
	var t store.CodeTarget
	var err error
	if parrain.ValidCodeSyntax(code) {
		t, err = h.st.ResolveCode(r.Context(), code)
	} else {
		err = parrain.Errorf(parrain.CodeNotFound, "bad code")
	}
	landing := t.LandingURL
	valid := err == nil && t.Active
	if err != nil {
		if parrain.ErrorCode(err) != parrain.CodeNotFound {
			h.log.ErrorContext(r.Context(), "resolving referral code", "err", err)
		}
		landing, _ = h.st.FallbackLanding(r.Context())
		if landing == "" {
			landing = h.fallback
		}
	}
	target := landing
	if valid {
		target = withRef(landing, t.Code)
		h.setCookie(w, r, t, now)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "strict-origin-when-cross-origin")
	if !valid || h.Landing == nil || !h.Landing.Serve(w, r, t, target) {
		http.Redirect(w, r, target, http.StatusFound)
	}

	if r.Method == http.MethodHead || IsPrefetch(r) {
		return
	}
	// Scripts, headless browsers and clients with no User-Agent are
	// recorded, not counted: they are the fraud checks' evidence of click
	// flooding (net.automated_clicks, the automated click flood alert).
	// Link previews and crawlers are neither clicks nor evidence.
	automated := false
	switch fraud.ClassifyUserAgent(r.UserAgent()) {
	case fraud.UAAutomation, fraud.UAEmpty:
		automated = true
	default:
		if IsBot(r.UserAgent()) {
			return
		}
	}
	ip := h.ips.ClientIP(r)
	c := store.Click{Code: truncate(code, 32), Valid: valid && !automated, Automated: automated, IPHash: hashIP(h.st.Secret(), ip), IP: ip,
		Params: truncate(r.URL.RawQuery, 1000), UserAgent: truncate(r.UserAgent(), 500), Referer: truncate(r.Referer(), 500), At: now}
	if err == nil {
		c.ProgramID, c.ParticipantID = t.ProgramID, t.ParticipantID
	}
	h.clicks.Record(c)
}

func (h *Redirect) setCookie(w http.ResponseWriter, r *http.Request, t store.CodeTarget, now time.Time) {
	var touches []parrain.Touch
	if c, err := r.Cookie(CookieName); err == nil {
		touches, _ = parrain.ParseTouchCookie(c.Value) // a garbled cookie is replaced
	}
	touches = parrain.AddTouch(touches, parrain.Touch{Code: t.Code, At: now})
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: parrain.TouchCookie(touches), Path: "/", Domain: h.domain,
		MaxAge: t.WindowDays * 24 * 3600, HttpOnly: false, Secure: h.secure, SameSite: http.SameSiteLaxMode,
	})
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
// analytics: if the buffer is full (the database is down), new clicks are
// dropped and counted rather than slowing redirects — attribution does not
// depend on them, the cookie carries it.
type ClickRecorder struct {
	st   *store.Store
	log  *slog.Logger
	ch   chan store.Click
	done chan struct{}
	// Dropped counts clicks lost to a full buffer.
	Dropped atomic.Uint64
}

// NewClickRecorder starts the background writer.
func NewClickRecorder(st *store.Store, log *slog.Logger, buffer int, interval time.Duration, batch int) *ClickRecorder {
	c := &ClickRecorder{st: st, log: log, ch: make(chan store.Click, buffer), done: make(chan struct{})}
	go c.loop(interval, batch)
	return c
}

// Record queues a click without blocking.
func (c *ClickRecorder) Record(k store.Click) {
	select {
	case c.ch <- k:
	default:
		c.Dropped.Add(1)
		c.log.Warn("click buffer full: click dropped", "code", k.Code)
	}
}

func (c *ClickRecorder) loop(interval time.Duration, batch int) {
	defer close(c.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	var buf []store.Click
	flush := func() {
		if len(buf) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for attempt := 0; attempt < 3; attempt++ {
			err := c.st.InsertClicks(ctx, buf)
			if err == nil {
				break
			}
			c.log.Error("writing clicks", "n", len(buf), "attempt", attempt+1, "err", err)
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
		buf = buf[:0]
	}
	for {
		select {
		case k, ok := <-c.ch:
			if !ok {
				flush()
				return
			}
			buf = append(buf, k)
			if len(buf) >= batch {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// Close flushes buffered clicks and stops the writer. Record must not be
// called after Close.
func (c *ClickRecorder) Close() {
	close(c.ch)
	<-c.done
}
