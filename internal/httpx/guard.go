package httpx

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// MaxForm is the body cap of the pages strangers post forms to (sign-in,
// apply, the landing page's consent form): a form of a few fields.
const MaxForm = 64 << 10

type bodyCapKey struct{}

// BodyCap returns the body cap Guard set for the request's route, or
// MaxBody.
func BodyCap(r *http.Request) int64 {
	if n, ok := r.Context().Value(bodyCapKey{}).(int64); ok && n > 0 {
		return n
	}
	return MaxBody
}

// Guard holds the checks every request passes at the edge, before its
// handler runs, so that no handler has to remember them:
//
//   - the body is capped at MaxBody bytes (a larger declared length is
//     refused at once, a longer stream fails when read): 413;
//   - path values, query parameters and url-encoded form fields must be
//     valid UTF-8 without NUL characters: 400 naming the field. (JSON
//     bodies are checked by DecodeJSON, with the same rule.)
//
// Form bodies are read here (at most MaxBody bytes) and put back, so that
// handlers parse them as usual.
type Guard struct {
	// Pattern is the route's ServeMux pattern; its wildcards name the
	// path values checked.
	Pattern string
	// MaxBody caps the request body (httpx.MaxBody when 0).
	MaxBody int64
	// JSON answers errors as the JSON ErrorBody (API routes); otherwise
	// as plain text (pages and forms).
	JSON bool
	Log  *slog.Logger
}

// Wrap returns h behind the guard.
func (g Guard) Wrap(h http.Handler) http.Handler {
	limit := g.MaxBody
	if limit <= 0 {
		limit = MaxBody
	}
	names := wildcards(g.Pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			g.fail(w, r, parrain.Errorf(parrain.CodeTooLarge, "the request body exceeds %d bytes", limit))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			// Only a body is read with the cap (ReadBody): a request
			// without one (a redirect, a page) is not copied for it.
			r = r.WithContext(context.WithValue(r.Context(), bodyCapKey{}, limit))
		}
		for _, n := range names {
			if err := CheckText(n, r.PathValue(n)); err != nil {
				g.fail(w, r, err)
				return
			}
		}
		if r.URL.RawQuery != "" {
			if err := checkValues(r.URL.Query(), "query"); err != nil {
				g.fail(w, r, err)
				return
			}
		}
		if err := checkForm(w, r); err != nil {
			g.fail(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (g Guard) fail(w http.ResponseWriter, r *http.Request, err error) {
	if g.JSON {
		WriteError(w, r, g.Log, err)
		return
	}
	e := Public(g.Log, r, err)
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	http.Error(w, msg, Status(e.Code))
}

// checkForm checks an url-encoded form body and puts it back for the
// handler.
func checkForm(w http.ResponseWriter, r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return parrain.Errorf(parrain.CodeTooLarge, "the request body exceeds %d bytes", mbe.Limit)
	}
	if err != nil {
		return parrain.Invalid("body", "reading the request body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	vs, err := url.ParseQuery(string(b))
	if err != nil {
		return parrain.Invalid("body", "is not a valid form: %v", err)
	}
	return checkValues(vs, "body")
}

// checkValues checks the names and values of a query or form (where names
// which), in name order so that the error is the same on every run.
func checkValues(vs url.Values, where string) error {
	keys := make([]string, 0, len(vs))
	for k := range vs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !ValidText(k) {
			return parrain.Invalid(where, "holds a parameter name that is not valid UTF-8 text without NUL characters")
		}
		for _, v := range vs[k] {
			if err := CheckText(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// wildcards lists the wildcard names of a ServeMux pattern
// ("GET /r/{code}" → code; "{path...}" → path; "{$}" is none).
func wildcards(pattern string) []string {
	var out []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return out
		}
		n := strings.TrimSuffix(pattern[i+1:i+j], "...")
		if n != "$" && n != "" {
			out = append(out, n)
		}
		pattern = pattern[i+j+1:]
	}
}
