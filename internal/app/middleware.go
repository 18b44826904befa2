package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
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

// withBasics gives each request an id, logs it, sets security headers and
// turns panics into logged 500s.
func withBasics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		ctx := context.WithValue(r.Context(), reqIDKey{}, id)
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
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

// wrap rate-limits h per client IP, answering 429 with Retry-After.
func (l *limiter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.l.Allow(l.ips.ClientIP(r), time.Now()) {
			w.Header().Set("Retry-After", "1")
			httpx.WriteError(w, r, l.log, parrain.Errorf(parrain.CodeRateLimited, "too many requests; slow down"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
