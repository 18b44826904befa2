package widget

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/i18n"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// Service serves what advocates and friends see besides the redirect: the
// snippet, the widget page and its token-authenticated API, the landing
// page with its consent form, the refer-by-name lookup and the unsubscribe
// page.
type Service struct {
	st      *store.Store
	ref     *referral.Service
	payouts *payout.Service
	log     *slog.Logger
	cat     *i18n.Catalog
	baseURL string
	ips     httpx.IPResolver // client IPs: lookup rate limits, consent records
	lookups *httpx.Limiter   // refer-by-name lookups per client IP
}

// NewService returns the service. ref records what advocates and friends
// do (participants, consents, shares, invitations, notification reads,
// unsubscribes); payouts sets advocates' payout accounts; baseURL is
// Parrain's public URL; ips finds client addresses (the --trust-proxy
// setting).
func NewService(st *store.Store, ref *referral.Service, payouts *payout.Service, log *slog.Logger, baseURL string, ips httpx.IPResolver) *Service {
	return &Service{st: st, ref: ref, payouts: payouts, log: log, cat: i18n.Default(), baseURL: strings.TrimRight(baseURL, "/"), ips: ips,
		lookups: httpx.NewLimiter(rate.Every(3*time.Minute), 5)}
}

// Catalog returns the language files.
func (s *Service) Catalog() *i18n.Catalog { return s.cat }

// SetLookupLimit changes the refer-by-name rate limit per client IP.
func (s *Service) SetLookupLimit(every time.Duration, burst int) {
	s.lookups = httpx.NewLimiter(rate.Every(every), burst)
}

// maxBody bounds widget request bodies.
const maxBody = 64 << 10

// decode reads a JSON object (at most maxBody bytes) strictly into v,
// naming the offending field.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	_, err := httpx.ReadJSON(w, r, maxBody, v)
	return err
}

// cors lets any origin call the widget API: it is authenticated by the
// token in the Authorization header (or, for the lookup, not at all), never
// by cookies, so cross-origin reads expose nothing. Its answers are
// personal: never cached.
func cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", "*")
		hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
		hd.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
		hd.Set("Access-Control-Max-Age", "600")
		hd.Set("Vary", "Origin")
		hd.Set("Cache-Control", "no-store")
		h(w, r)
	}
}

// Preflight answers CORS preflight requests for the widget API.
func (s *Service) Preflight(w http.ResponseWriter, r *http.Request) {
	cors(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })(w, r)
}

// lang picks the language for a visitor: an explicit choice, then the
// participant's locale, then the browser's Accept-Language, then the
// program's default.
func (s *Service) lang(r *http.Request, explicit, participant, programDefault string) string {
	return s.cat.Match(explicit, participant, r.Header.Get("Accept-Language"), programDefault)
}
