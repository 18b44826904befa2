package httpx

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

func TestGuard(t *testing.T) {
	t.Parallel()
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name      string
		json      bool
		method    string
		target    string
		ctype     string
		body      string
		chunked   bool // no Content-Length: the cap bites while reading
		status    int
		wantField string // JSON answers: the field named
		wantText  string // plain answers: part of the text
		wantRead  string // what the handler read, when it runs
	}{
		{"ok", true, "POST", "/things/t1?q=x", "application/json", `{"a":1}`, false, 200, "", "", `{"a":1}`},
		{"declared length over the cap", true, "POST", "/things/t1", "application/json", strings.Repeat("x", 65), false, 413, "", "", ""},
		{"streamed body over the cap", true, "POST", "/things/t1", "application/json", strings.Repeat("x", 65), true, 413, "", "", ""},
		{"exactly the cap", true, "POST", "/things/t1", "application/json", strings.Repeat("x", 64), true, 200, "", "", strings.Repeat("x", 64)},
		{"NUL in a path value", true, "GET", "/things/a%00b", "", "", false, 400, "id", "", ""},
		{"invalid UTF-8 in a path value", true, "GET", "/things/caf%E9", "", "", false, 400, "id", "", ""},
		{"NUL in a query value", true, "GET", "/things/t1?status=a%00", "", "", false, 400, "status", "", ""},
		{"invalid UTF-8 in a query value", true, "GET", "/things/t1?cursor=%FF", "", "", false, 400, "cursor", "", ""},
		{"invalid UTF-8 in a query name", true, "GET", "/things/t1?%FF=1", "", "", false, 400, "query", "", ""},
		{"NUL in a form field, plain answer", false, "POST", "/things/t1", form, "email=a%00b&password=x", false, 400, "", "email: must not contain NUL characters", ""},
		{"invalid UTF-8 in a form field", false, "POST", "/things/t1", form + "; charset=utf-8", "name=%C3%28", false, 400, "", "name: must be valid UTF-8 text", ""},
		{"form over the cap, plain answer", false, "POST", "/things/t1", form, "email=" + strings.Repeat("x", 80), true, 413, "", "exceeds 64 bytes", ""},
		{"a good form reaches the handler intact", false, "POST", "/things/t1", form, "email=z%C3%B6e%40x.example&n=1", false, 200, "", "", "email=z%C3%B6e%40x.example&n=1"},
		{"JSON bodies are DecodeJSON's to check", true, "POST", "/things/t1", "application/json", "{\"a\":\"\xff\"}", false, 200, "", "", "{\"a\":\"\xff\"}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var read string
			var ran bool
			h := func(w http.ResponseWriter, r *http.Request) {
				ran = true
				b, err := ReadBody(w, r, 0) // the route's cap
				if err != nil {
					WriteError(w, r, slog.New(slog.DiscardHandler), err)
					return
				}
				read = string(b)
			}
			mux := http.NewServeMux()
			g := Guard{Pattern: "/things/{id}", MaxBody: 64, JSON: c.json, Log: slog.New(slog.DiscardHandler)}
			mux.Handle(g.Pattern, g.Wrap(http.HandlerFunc(h)))
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = io.MultiReader(strings.NewReader(c.body)) // hides the length
			}
			r := httptest.NewRequest(c.method, c.target, body)
			if c.chunked {
				r.ContentLength = -1
			}
			if c.ctype != "" {
				r.Header.Set("Content-Type", c.ctype)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d: %s", w.Code, c.status, w.Body)
			}
			if c.status == 200 {
				if read != c.wantRead {
					t.Errorf("handler read %q, want %q", read, c.wantRead)
				}
				return
			}
			if c.json {
				var eb ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
					t.Fatalf("not a JSON error: %v: %s", err, w.Body)
				}
				want := parrain.CodeInvalid
				if c.status == 413 {
					want = parrain.CodeTooLarge
				}
				if eb.Error.Code != want || eb.Error.Field != c.wantField || eb.Error.Message == "" {
					t.Errorf("error %+v, want %s on %q", eb.Error, want, c.wantField)
				}
				return
			}
			if !strings.Contains(w.Body.String(), c.wantText) {
				t.Errorf("body %q, want it to contain %q", w.Body, c.wantText)
			}
			if c.status == 400 && ran {
				t.Error("the handler ran on a refused request")
			}
		})
	}
}

func TestWildcards(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"GET /healthz":                     nil,
		"GET /r/{code}":                    {"code"},
		"GET /admin/{$}":                   nil,
		"OPTIONS /api/v1/widget/{path...}": {"path"},
		"POST /api/v1/programs/{program_id}/rewards/{reward_id}/review": {"program_id", "reward_id"},
	}
	for p, want := range cases {
		if got := wildcards(p); !reflect.DeepEqual(got, want) {
			t.Errorf("wildcards(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]string{"": "", "Zoë": "", "a\x00": "must not contain NUL characters", "\xc3\x28": "must be valid UTF-8 text"} {
		err := CheckText("f", s)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", s, err)
			}
			continue
		}
		if e := parrain.AsError(err); e == nil || e.Field != "f" || e.Message != want {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
		if ValidText(s) {
			t.Errorf("ValidText(%q) = true", s)
		}
	}
}
