// Package api serves Parrain's JSON API v1: programs, participants, events,
// referrals and rewards, authenticated by scoped API keys, with idempotent
// writes. Routes are registered in internal/app/routes.go.
//
// It imports the domain and the store; it never imports the job runner.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// API holds the dependencies of the API handlers.
type API struct {
	st      *store.Store
	ref     *referral.Service
	log     *slog.Logger
	baseURL string
}

// New returns the API. baseURL is the public URL referral links are built
// on ("https://refer.example.com").
func New(st *store.Store, ref *referral.Service, log *slog.Logger, baseURL string) *API {
	return &API{st: st, ref: ref, log: log, baseURL: strings.TrimRight(baseURL, "/")}
}

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

type ctxKey int

const keyCtx ctxKey = 0

// Auth wraps h so it runs only for a live API key holding scope.
func (a *API) Auth(scope string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parrain"`)
			WriteError(w, r, a.log, parrain.Errorf(parrain.CodeUnauthenticated, "send an API key as: Authorization: Bearer <key>"))
			return
		}
		k, err := a.st.Authenticate(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			WriteError(w, r, a.log, err)
			return
		}
		if !k.Has(scope) {
			WriteError(w, r, a.log, parrain.Errorf(parrain.CodeForbidden, "this API key lacks the %q scope", scope))
			return
		}
		// A key restricted to one program sees no other: answer as if the
		// program did not exist.
		if pid := r.PathValue("program_id"); pid != "" && !k.CanAccessProgram(pid) {
			WriteError(w, r, a.log, parrain.Errorf(parrain.CodeNotFound, "program not found"))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), keyCtx, k)))
	}
}

func apiKey(r *http.Request) store.APIKey {
	k, _ := r.Context().Value(keyCtx).(store.APIKey)
	return k
}

// readBody reads the body (bounded) for decoding and hashing.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, parrain.Errorf(parrain.CodeTooLarge, "the request body exceeds %d bytes", MaxBody)
	}
	if err != nil {
		return nil, parrain.Errorf(parrain.CodeInvalid, "reading the request body: %v", err)
	}
	return b, nil
}

// readJSON reads the body (bounded) and decodes it strictly into v; the
// raw body is returned for idempotency hashing.
func readJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	return body, decode(body, v)
}

// decode parses a JSON object strictly into v, reporting the offending
// field on errors.
func decode(b []byte, v any) error {
	if len(strings.TrimSpace(string(b))) == 0 {
		return parrain.Invalid("body", "a JSON object is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return parrain.Invalid("body", "unexpected data after the JSON object")
	}
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return parrain.Invalid("body", "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		f := te.Field
		if f == "" {
			f = "body"
		}
		return parrain.Invalid(f, "must be %s, not %s", jsonType(te.Type.String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return parrain.Invalid(f, "is not a known field")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return parrain.Invalid("body", "truncated JSON")
	}
	// time.Time and other UnmarshalJSON errors.
	return parrain.Invalid("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case goType == "string" || strings.HasSuffix(goType, "Status") || strings.HasSuffix(goType, "Type") || strings.HasSuffix(goType, "Kind") || strings.HasSuffix(goType, "Model") || strings.HasSuffix(goType, "Trigger"):
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "time.Time":
		return "an RFC 3339 timestamp"
	}
	return "an object"
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
	return store.Idem{Scope: apiKey(r).ID, Key: key, Hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// page reads limit and cursor query parameters.
func page(r *http.Request) (store.Page, error) {
	p := store.Page{Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return p, parrain.Invalid("limit", "must be an integer between 1 and 200")
		}
		p.Limit = n
	}
	if len(p.Cursor) > 100 {
		return p, parrain.Invalid("cursor", "is not a cursor from a previous page")
	}
	return p, nil
}

// List is a page of results.
type List[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeWrite answers a write, flagging replays of an idempotent request.
func writeWrite(w http.ResponseWriter, status int, replayed bool, v any) {
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, status, v)
}
