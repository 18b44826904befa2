package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
)

type reqIDKey struct{}

// logHandler adds the request id found in the context to every log line.
type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(reqIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as)}
}
func (h logHandler) WithGroup(n string) slog.Handler { return logHandler{h.Handler.WithGroup(n)} }

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
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		ctx := context.WithValue(r.Context(), reqIDKey{}, id)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		if https {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p))
				if sw.status == 0 {
					httpx.WriteError(sw, r, log, fmt.Errorf("panic: %v", p))
				}
			}
			log.DebugContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
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
