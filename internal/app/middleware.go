package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/api"
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
					api.WriteError(sw, r, log, fmt.Errorf("panic: %v", p))
				}
			}
			log.DebugContext(ctx, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

// limiter is a per-client-IP token bucket with idle eviction.
type limiter struct {
	mu      sync.Mutex
	r       rate.Limit
	burst   int
	clients map[string]*client
	trust   bool
	log     *slog.Logger
}

type client struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(rps float64, burst int, trustProxy bool, log *slog.Logger) *limiter {
	return &limiter{r: rate.Limit(rps), burst: burst, clients: map[string]*client{}, trust: trustProxy, log: log}
}

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	c, ok := l.clients[ip]
	if !ok {
		if len(l.clients) > 100000 {
			for k, v := range l.clients {
				if now.Sub(v.seen) > time.Minute {
					delete(l.clients, k)
				}
			}
		}
		c = &client{l: rate.NewLimiter(l.r, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.l.Allow()
}

func (l *limiter) ip(r *http.Request) string {
	if l.trust {
		if f := r.Header.Get("X-Forwarded-For"); f != "" {
			return strings.TrimSpace(strings.Split(f, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wrap rate-limits h per client IP, answering 429 with Retry-After.
func (l *limiter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(l.ip(r)) {
			w.Header().Set("Retry-After", "1")
			api.WriteError(w, r, l.log, parrain.Errorf(parrain.CodeRateLimited, "too many requests; slow down"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
