// Package api serves Parrain's JSON API v1: programs, participants, events,
// referrals and rewards, authenticated by scoped API keys, with idempotent
// writes. Routes are registered in internal/app/routes.go.
//
// It imports the domain, the store and httpx (errors, JSON, pages); never
// another HTTP package (console, portal, widget) or the job runner.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// API holds the dependencies of the API handlers.
type API struct {
	st       *store.Store
	ref      *referral.Service
	partners *partner.Service
	programs *program.Service
	payouts  *payout.Service
	access   *access.Service
	exps     *referral.Experiments
	log      *slog.Logger
	baseURL  string
	// keys rate-limits requests per API key (nil: no limit); keyQuota is
	// the default of keys without their own limit.
	keys     *httpx.Limiter
	keyQuota int
}

// LimitKeys limits every API key to perMinute requests a minute, all of
// which may come at once (a key's own rate_limit replaces it). Every
// authenticated answer carries the IETF RateLimit headers; a request over
// the limit answers 429 with Retry-After. The count is per process.
func (a *API) LimitKeys(perMinute int) {
	a.keys, a.keyQuota = httpx.NewLimiter(httpx.PerMinute(perMinute).Limit, perMinute), perMinute
}

// New returns the API. baseURL is the public URL referral links are built
// on ("https://refer.example.com").
// The referral loop's writes go through ref, the partner program's through
// partners, programs and their terms through programs, the payouts' through
// payouts, and API keys are authenticated by acc.
func New(st *store.Store, ref *referral.Service, partners *partner.Service, programs *program.Service, payouts *payout.Service, acc *access.Service, log *slog.Logger, baseURL string) *API {
	return &API{st: st, ref: ref, partners: partners, programs: programs, payouts: payouts, access: acc, exps: referral.NewExperiments(st, programs),
		log: log, baseURL: strings.TrimRight(baseURL, "/")}
}

// MaxBody is the largest request body accepted.
const MaxBody = httpx.MaxBody

type ctxKey int

const keyCtx ctxKey = 0

// Auth wraps h so it runs only for a live API key holding scope.
func (a *API) Auth(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := httpx.BearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parrain"`)
			httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeUnauthenticated, "send an API key as: Authorization: Bearer <key>"))
			return
		}
		k, err := a.access.AuthenticateAPIKey(r.Context(), tok)
		if err != nil {
			if parrain.ErrorCode(err) == parrain.CodeUnauthenticated {
				// Every 401 carries its challenge (RFC 7235 §3.1).
				w.Header().Set("WWW-Authenticate", `Bearer realm="parrain", error="invalid_token"`)
			}
			httpx.WriteError(w, r, a.log, err)
			return
		}
		if a.keys != nil {
			n := a.keyQuota
			if k.RateLimit > 0 {
				n = k.RateLimit
			}
			d := a.keys.TakeWith(k.ID, httpx.PerMinute(n), time.Now())
			d.SetHeaders(w.Header())
			if !d.Allowed {
				httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeRateLimited,
					"this API key is over its limit of %d requests a minute; retry after %s seconds", n, w.Header().Get("Retry-After")))
				return
			}
		}
		if !k.Has(scope) {
			httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeForbidden, "this API key lacks the %q scope", scope))
			return
		}
		// A key restricted to one program sees no other: answer as if the
		// program did not exist.
		if pid := r.PathValue("program_id"); pid != "" && !k.CanAccessProgram(pid) {
			httpx.WriteError(w, r, a.log, parrain.Errorf(parrain.CodeNotFound, "program not found"))
			return
		}
		// The use cases audit their writes under the key (the client IP is
		// left to internal/httpx, which knows the trusted proxies).
		ctx := parrain.WithActor(context.WithValue(r.Context(), keyCtx, k), parrain.Actor{Kind: parrain.ActorAPIKey, ID: k.ID, Label: k.Name})
		h(w, r.WithContext(ctx))
	}
}

func apiKey(r *http.Request) store.APIKey {
	k, _ := r.Context().Value(keyCtx).(store.APIKey)
	return k
}

// readBody reads the body, at most the route's cap (MaxBody unless the
// route is listed with a larger one in internal/app/routes.go), for
// decoding and hashing.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return httpx.ReadBody(w, r, 0)
}

// readJSON reads the body (at most the route's cap) and decodes it
// strictly into v; the raw body is returned for idempotency hashing.
func readJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	return httpx.ReadJSON(w, r, 0, v)
}

// idem builds the idempotency identity of a write request. The key is
// required when required is true.
func idem(r *http.Request, body []byte, required bool) (store.Idem, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		if required {
			return store.Idem{}, parrain.Invalid("Idempotency-Key", "header is required on this endpoint (a unique value per logical request, e.g. a UUID)")
		}
		return store.Idem{}, nil
	}
	if len(key) > 255 {
		return store.Idem{}, parrain.Invalid("Idempotency-Key", "must be at most 255 characters")
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return store.Idem{}, parrain.Invalid("Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", r.Method, r.URL.Path)
	h.Write(body)
	// Keys are unique per program (or installation), not per API key: the
	// same request sent through two keys has one effect.
	return store.Idem{Scope: store.IdemScope(r.PathValue("program_id")), Key: key, Hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// page reads the limit and cursor query parameters.
func page(r *http.Request) (store.Page, error) {
	p, err := httpx.ParsePage(r)
	return store.Page(p), err
}

// List is a page of results.
type List[T any] struct {
	Data []T `json:"data"`
	// NextCursor, when set, is passed back as the cursor query parameter
	// for the next page (opaque: httpx.Cursor).
	NextCursor httpx.Cursor `json:"next_cursor,omitempty"`
}

// writeWrite answers a write, flagging replays of an idempotent request.
func writeWrite(w http.ResponseWriter, status int, replayed bool, v any) {
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	httpx.WriteJSON(w, status, v)
}

// knownProgram answers 404 unless the path's program exists, so that a list
// of an unknown program is an error rather than an empty page.
func (a *API) knownProgram(w http.ResponseWriter, r *http.Request) bool {
	if _, err := a.st.Program(r.Context(), r.PathValue("program_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return false
	}
	return true
}
