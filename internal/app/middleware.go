package app

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
)

type reqIDKey struct{}

// logHandler adds the request id found in the context to every log line
// and, when the lines are buffered (logBatcher), writes a warning or an
// error out at once.
type logHandler struct {
	slog.Handler
	flush func() // nil: the writer is not buffered
}

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(reqIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	err := h.Handler.Handle(ctx, r)
	if h.flush != nil && r.Level >= slog.LevelWarn {
		h.flush()
	}
	return err
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as), h.flush}
}
func (h logHandler) WithGroup(n string) slog.Handler {
	return logHandler{h.Handler.WithGroup(n), h.flush}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// hsts is the Strict-Transport-Security of an installation served over
// HTTPS: browsers use HTTPS only for two years, so that a network attacker
// cannot downgrade a later visit (the console's session, the portal's
// sign-in) to plain HTTP.
const hsts = "max-age=63072000; includeSubDomains"

// Security header values shared by every answer (net/http only reads them).
var (
	nosniffValue  = []string{"nosniff"}
	denyValue     = []string{"DENY"}
	hstsValue     = []string{hsts}
	reqIDSeed     = newReqIDSeed()
	reqIDSequence atomic.Uint64
)

func newReqIDSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// newRequestID returns 16 hex digits unique in this process (a counter
// scrambled by an odd multiplier, a bijection of 64-bit integers, from a
// random start): ids correlate log lines, they are no secret, so reading
// the system's random source on every request is not needed.
func newRequestID() string {
	n := (reqIDSeed + reqIDSequence.Add(1)) * 0x9E3779B97F4A7C15
	var b [16]byte
	hex.Encode(b[:], binary.BigEndian.AppendUint64(make([]byte, 0, 8), n))
	return string(b[:])
}

// wellFormedRequestID reports whether a client's X-Request-Id can be kept
// as the request's id (echoed and logged): 1 to 128 letters, digits and
// "-_.:" — nothing a log line or a header could be forged with.
func wellFormedRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

// withBasics gives each request an id (the client's X-Request-Id when well
// formed), logs it, sets security headers
// (Strict-Transport-Security when the base URL is https) and turns panics
// into logged 500s.
func withBasics(log *slog.Logger, https bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !wellFormedRequestID(id) {
			id = newRequestID()
		}
		ctx := context.WithValue(r.Context(), reqIDKey{}, id)
		r = r.WithContext(ctx)
		hdr := w.Header()
		hdr["X-Request-Id"] = []string{id}
		hdr["X-Content-Type-Options"] = nosniffValue
		hdr["X-Frame-Options"] = denyValue
		if https {
			hdr["Strict-Transport-Security"] = hstsValue
		}
		sw := &statusWriter{ResponseWriter: w}
		defer recoverRequest(log, sw, r)
		next.ServeHTTP(sw, r)
	})
}

// recoverRequest turns a panic of the request's handler into a logged 500.
func recoverRequest(log *slog.Logger, sw *statusWriter, r *http.Request) {
	if p := recover(); p != nil {
		log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(p))
		if sw.status == 0 {
			httpx.WriteError(sw, r, log, fmt.Errorf("panic: %v", p))
		}
	}
}

// limiter rate-limits public routes per client IP.
type limiter struct {
	l   *httpx.Limiter
	ips httpx.IPResolver
	log *slog.Logger
}

func newLimiter(rps float64, burst int, ips httpx.IPResolver, log *slog.Logger) *limiter {
	return &limiter{l: httpx.NewLimiter(rate.Limit(rps), burst), ips: ips, log: log}
}

// wrap rate-limits h per client IP: every answer carries the IETF
// RateLimit headers, a request over the limit answers 429 with
// Retry-After.
func (l *limiter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := l.l.Take(l.ips.ClientIP(r), time.Now())
		d.SetHeaders(w.Header())
		if !d.Allowed {
			httpx.WriteError(w, r, l.log, parrain.Errorf(parrain.CodeRateLimited, "too many requests; slow down"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
