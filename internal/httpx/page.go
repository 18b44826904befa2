package httpx

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// MaxPageLimit is the largest page a list answers.
const MaxPageLimit = 200

// maxCursor bounds a cursor: the store's cursors are far shorter.
const maxCursor = 100

// Page is a request for one page of a list: Limit 0 lets the store choose.
// Its fields are the store's Page's, so store.Page(p) converts it.
type Page struct {
	Limit  int
	Cursor string
}

// ParsePage reads the limit (1 to MaxPageLimit) and cursor query
// parameters.
func ParsePage(r *http.Request) (Page, error) {
	var p Page
	n, err := ParseLimit(r, 0, MaxPageLimit)
	if err != nil {
		return p, err
	}
	p.Limit = n
	if c := r.URL.Query().Get("cursor"); c != "" {
		if p.Cursor, err = DecodeCursor(c); err != nil {
			return p, err
		}
	}
	return p, nil
}

// cursorPrefix versions the cursors handed to clients.
const cursorPrefix = "c1."

// Cursor is the store's position after a page, handed to clients opaque
// (encoded) so that a cursor that did not come from a previous page is told
// apart and refused with a 400 instead of answering an empty page.
type Cursor string

// MarshalText encodes the cursor; the empty cursor stays empty (omitempty
// leaves it out on the last page).
func (c Cursor) MarshalText() ([]byte, error) {
	return []byte(EncodeCursor(string(c))), nil
}

// EncodeCursor returns the opaque form of the store's cursor raw.
func EncodeCursor(raw string) string {
	if raw == "" {
		return ""
	}
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// DecodeCursor returns the store's cursor from its opaque form, or a 400
// naming the cursor field when c is not one this server handed out.
func DecodeCursor(c string) (string, error) {
	bad := parrain.Invalid("cursor", "is not a cursor from a previous page")
	rest, ok := strings.CutPrefix(c, cursorPrefix)
	if !ok || len(c) > maxCursor*2 {
		return "", bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(raw) == 0 || len(raw) > maxCursor {
		return "", bad
	}
	return string(raw), nil
}

// ParseLimit reads the limit query parameter: def when absent, else an
// integer from 1 to max.
func ParseLimit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return def, parrain.Invalid("limit", "must be an integer between 1 and %d", max)
	}
	return n, nil
}
