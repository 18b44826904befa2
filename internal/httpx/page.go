package httpx

import (
	"net/http"
	"strconv"

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
	p := Page{Cursor: r.URL.Query().Get("cursor")}
	n, err := ParseLimit(r, 0, MaxPageLimit)
	if err != nil {
		return p, err
	}
	p.Limit = n
	if len(p.Cursor) > maxCursor {
		return p, parrain.Invalid("cursor", "is not a cursor from a previous page")
	}
	return p, nil
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
