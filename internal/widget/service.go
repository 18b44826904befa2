package widget

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/widget/i18n"
)

// Service serves what advocates and friends see besides the redirect: the
// snippet, the widget page and its token-authenticated API, the landing
// page with its consent form, the refer-by-name lookup and the unsubscribe
// page.
type Service struct {
	st      *store.Store
	log     *slog.Logger
	cat     *i18n.Catalog
	baseURL string
	// WriteError answers with a JSON error (the API's single mapping of
	// error codes to statuses, injected by the app).
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// TrustProxy takes client IPs from X-Forwarded-For (rate limits).
	TrustProxy bool
	lookups    *ipLimiter
}

// NewService returns the service. baseURL is Parrain's public URL.
func NewService(st *store.Store, log *slog.Logger, baseURL string) *Service {
	s := &Service{st: st, log: log, cat: i18n.Default(), baseURL: strings.TrimRight(baseURL, "/"),
		lookups: newIPLimiter(rate.Every(3*time.Minute), 5)}
	s.WriteError = func(w http.ResponseWriter, r *http.Request, err error) {
		e := parrain.AsError(err)
		if e == nil {
			log.ErrorContext(r.Context(), "internal error", "path", r.URL.Path, "err", err)
			e = &parrain.Error{Code: parrain.CodeInternal, Message: "internal error; it has been logged"}
		}
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": e})
	}
	return s
}

// Catalog returns the language files.
func (s *Service) Catalog() *i18n.Catalog { return s.cat }

// SetLookupLimit changes the refer-by-name rate limit per client IP.
func (s *Service) SetLookupLimit(every time.Duration, burst int) {
	s.lookups = newIPLimiter(rate.Every(every), burst)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// maxBody bounds widget request bodies.
const maxBody = 64 << 10

// decode reads a JSON object strictly into v, naming the offending field.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return parrain.Errorf(parrain.CodeTooLarge, "the request body exceeds %d bytes", maxBody)
	}
	if err != nil {
		return parrain.Invalid("body", "reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return parrain.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return parrain.Invalid(te.Field, "has the wrong type")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return parrain.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a known field")
		}
		return parrain.Invalid("body", "malformed JSON")
	}
	if dec.More() {
		return parrain.Invalid("body", "unexpected data after the JSON object")
	}
	return nil
}

// cors lets any origin call the widget API: it is authenticated by the
// token in the Authorization header (or, for the lookup, not at all), never
// by cookies, so cross-origin reads expose nothing.
func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
		hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
		hd.Set("Access-Control-Max-Age", "600")
		hd.Set("Vary", "Origin")
		h(w, r)
	}
}

// Preflight answers CORS preflight requests for the widget API.
func (s *Service) Preflight(w http.ResponseWriter, r *http.Request) {
	cors(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })(w, r)
}

// ipLimiter is a per-client-IP token bucket with idle eviction.
type ipLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients map[string]*ipClient
}

type ipClient struct {
	l    *rate.Limiter
	seen time.Time
}

func newIPLimiter(every rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, clients: map[string]*ipClient{}}
}

func (l *ipLimiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	c, ok := l.clients[ip]
	if !ok {
		if len(l.clients) > 50000 {
			for k, v := range l.clients {
				if now.Sub(v.seen) > time.Hour {
					delete(l.clients, k)
				}
			}
		}
		c = &ipClient{l: rate.NewLimiter(l.every, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.l.Allow()
}

func (s *Service) clientIP(r *http.Request) string {
	if s.TrustProxy {
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

// lang picks the language for a visitor: an explicit choice, then the
// participant's locale, then the browser's Accept-Language, then the
// program's default.
func (s *Service) lang(r *http.Request, explicit, participant, programDefault string) string {
	return s.cat.Match(explicit, participant, r.Header.Get("Accept-Language"), programDefault)
}
