package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

func TestParsePage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("c", 101)
	cases := []struct {
		query     string
		want      Page
		wantField string
	}{
		{"", Page{}, ""},
		{"limit=1", Page{Limit: 1}, ""},
		{"limit=200&cursor=" + EncodeCursor("abc"), Page{Limit: 200, Cursor: "abc"}, ""},
		{"cursor=" + EncodeCursor(strings.Repeat("c", 100)), Page{Cursor: strings.Repeat("c", 100)}, ""},
		{"cursor=" + EncodeCursor(long), Page{}, "cursor"},
		{"cursor=abc", Page{}, "cursor"},
		{"cursor=c1.%21%21", Page{}, "cursor"},
		{"cursor=c1.", Page{}, "cursor"},
		{"limit=0", Page{}, "limit"},
		{"limit=201", Page{}, "limit"},
		{"limit=-3", Page{}, "limit"},
		{"limit=ten", Page{}, "limit"},
		{"limit=1.5", Page{}, "limit"},
		{"cursor=" + long, Page{}, "cursor"},
	}
	for _, c := range cases {
		got, err := ParsePage(httptest.NewRequest("GET", "/x?"+c.query, nil))
		if c.wantField != "" {
			e := parrain.AsError(err)
			if e == nil || e.Code != parrain.CodeInvalid || e.Field != c.wantField || Status(e.Code) != 400 {
				t.Errorf("%q: got %v, want invalid_argument on %s", c.query, err, c.wantField)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.query, got, err, c.want)
		}
	}
}

func TestParseLimit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		query   string
		want    int
		wantErr string
	}{
		{"", 50, ""},
		{"limit=500", 500, ""},
		{"limit=501", 0, "must be an integer between 1 and 500"},
		{"limit=x", 0, "must be an integer between 1 and 500"},
	}
	for _, c := range cases {
		got, err := ParseLimit(httptest.NewRequest("GET", "/x?"+c.query, nil), 50, 500)
		if c.wantErr != "" {
			if e := parrain.AsError(err); e == nil || e.Field != "limit" || e.Message != c.wantErr {
				t.Errorf("%q: got %v", c.query, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %d, %v; want %d", c.query, got, err, c.want)
		}
	}
}
