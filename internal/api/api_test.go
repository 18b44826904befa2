package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/api/apitest"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// env is the API's handlers on a real store, routed as the app routes
// them, with an all-scopes key.
type env struct {
	t     *testing.T
	st    *store.Store
	a     *API
	mux   *http.ServeMux
	key   string
	clock *parrain.FakeClock
	// contract checks every exchange against the OpenAPI document.
	contract *apitest.Contract
}

func newEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	ctx := context.Background()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, dbURL, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	acc := access.New(st, nil, access.Config{})
	key, _, err := acc.CreateAPIKey(ctx, "test", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	ref := referral.New(st)
	e := &env{t: t, st: st, a: New(st, ref, partner.New(st, clock, ref), program.New(st), payout.New(st, slog.New(slog.DiscardHandler), payout.Config{}), acc, slog.New(slog.DiscardHandler), "http://parrain.test/"), mux: http.NewServeMux(), key: key, clock: clock}
	if e.contract, err = apitest.For(OpenAPIDoc); err != nil {
		t.Fatal(err)
	}
	e.routes()
	return e
}

// do serves a request with the env's key (unless hdr sets Authorization)
// and returns the answer.
func (e *env) do(method, path string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", "Bearer "+e.key)
	if body != "" {
		// What a client sends; the contract check needs it to pick the schema.
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.contract.Handler(e.t, e.mux).ServeHTTP(w, r)
	return w
}

func (e *env) program(name string) parrain.Program {
	e.t.Helper()
	w := e.do("POST", "/api/v1/programs", nil, `{"name":"`+name+`","landing_url":"https://shop.example/","currency":"EUR",
		"rules":[{"trigger":"first_purchase","advocate":{"kind":"cash","type":"fixed","amount":1500}}]}`)
	var p parrain.Program
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusCreated {
		e.t.Fatalf("create program: %d %s %v", w.Code, w.Body, err)
	}
	return p
}

func TestErrorAnswers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		prog := "/api/v1/programs/" + p.ID
		cases := []struct {
			name, method, path string
			hdr                map[string]string
			body               string
			status             int
			code               parrain.Code
			field              string
		}{
			{"no key", "GET", "/api/v1/programs", map[string]string{"Authorization": ""}, "", 401, parrain.CodeUnauthenticated, ""},
			{"unknown key", "GET", "/api/v1/programs", map[string]string{"Authorization": "Bearer pk_nope"}, "", 401, parrain.CodeUnauthenticated, ""},
			{"unknown program", "GET", "/api/v1/programs/prg_nope", nil, "", 404, parrain.CodeNotFound, ""},
			{"empty body", "POST", "/api/v1/programs", nil, "", 400, parrain.CodeInvalid, "body"},
			{"malformed JSON", "POST", "/api/v1/programs", nil, `{"name":`, 400, parrain.CodeInvalid, "body"},
			{"unknown field", "POST", "/api/v1/programs", nil, `{"name":"x","colour":"red"}`, 400, parrain.CodeInvalid, "colour"},
			{"wrong type", "POST", "/api/v1/programs", nil, `{"name":"x","hold_days":"ten"}`, 400, parrain.CodeInvalid, "hold_days"},
			{"server-set field", "POST", "/api/v1/programs", nil, `{"id":"prg_mine","name":"x","landing_url":"https://x.example","currency":"EUR"}`, 400, parrain.CodeInvalid, "id"},
			{"too large", "POST", "/api/v1/programs", nil, `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, 413, parrain.CodeTooLarge, ""},
			{"domain validation", "PUT", prog + "/participants/alice", nil, `{"email":"not an address"}`, 400, parrain.CodeInvalid, "email"},
			{"event without idempotency key", "POST", prog + "/events", nil, `{"type":"signup","external_id":"bob"}`, 400, parrain.CodeInvalid, "Idempotency-Key"},
			{"bad idempotency key", "POST", prog + "/events", map[string]string{"Idempotency-Key": "has space"}, `{"type":"signup","external_id":"bob"}`, 400, parrain.CodeInvalid, "Idempotency-Key"},
			{"bad limit", "GET", "/api/v1/programs?limit=500", nil, "", 400, parrain.CodeInvalid, "limit"},
			{"bad cursor", "GET", "/api/v1/programs?cursor=" + strings.Repeat("c", 101), nil, "", 400, parrain.CodeInvalid, "cursor"},
			{"garbage cursor", "GET", "/api/v1/programs?cursor=garbage", nil, "", 400, parrain.CodeInvalid, "cursor"},
			{"garbage cursor on referrals", "GET", prog + "/referrals?cursor=zzz", nil, "", 400, parrain.CodeInvalid, "cursor"},
			{"undecodable cursor", "GET", prog + "/rewards?cursor=c1.%21%21", nil, "", 400, parrain.CodeInvalid, "cursor"},
			{"bad status filter", "GET", prog + "/referrals?status=maybe", nil, "", 400, parrain.CodeInvalid, "status"},
			{"bad leaderboard limit", "GET", prog + "/contests/ctt_x/leaderboard?limit=501", nil, "", 400, parrain.CodeInvalid, "limit"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := e.do(c.method, c.path, c.hdr, c.body)
				var body httpx.ErrorBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatalf("%d: not a JSON error: %v: %s", w.Code, err, w.Body)
				}
				if w.Code != c.status || body.Error.Code != c.code || body.Error.Field != c.field || body.Error.Message == "" {
					t.Errorf("got %d %+v, want %d %s on %q", w.Code, body.Error, c.status, c.code, c.field)
				}
				if ct := w.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	})
}

// The authentication scheme is case-insensitive (RFC 7235 §2.1): any
// spelling of "Bearer" carries the key; another scheme or none answers
// 401 with the challenge.
func TestBearerScheme(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		for _, c := range []struct {
			header string
			status int
		}{
			{"Bearer " + e.key, 200},
			{"bearer " + e.key, 200},
			{"BEARER " + e.key, 200},
			{"bEaReR   " + e.key + " ", 200},
			{"Basic " + e.key, 401},
			{"Bearer", 401},
			{"Bearer" + e.key, 401},
			{"Bearer " + strings.ToUpper(e.key), 401}, // the key itself is case-sensitive
		} {
			w := e.do("GET", "/api/v1/programs", map[string]string{"Authorization": c.header}, "")
			if w.Code != c.status {
				t.Errorf("%q: %d, want %d: %s", c.header, w.Code, c.status, w.Body)
			}
			if ch := w.Header().Get("WWW-Authenticate"); (c.status == 401) != (ch != "") {
				t.Errorf("%q: WWW-Authenticate %q on %d", c.header, ch, w.Code)
			}
		}
	})
}

// The error body's exact shape is part of the API: clients switch on it.
func TestErrorBodyShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.URL(t, "sqlite"))
	w := e.do("POST", "/api/v1/programs", nil, `{"name":"x","colour":"red"}`)
	var raw map[string]map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"code": "invalid_argument", "message": "is not a known field", "field": "colour"}
	if len(raw) != 1 || len(raw["error"]) != len(want) {
		t.Fatalf("body %s", w.Body)
	}
	for k, v := range want {
		if raw["error"][k] != v {
			t.Errorf("error.%s = %v, want %v", k, raw["error"][k], v)
		}
	}
	// 405 answers name the method as the offending field.
	w = httptest.NewRecorder()
	e.a.Miss(w, httptest.NewRequest("DELETE", "/api/v1/programs", nil), http.StatusMethodNotAllowed)
	var body httpx.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 405 || body.Error.Code != parrain.CodeInvalid || body.Error.Field != "method" {
		t.Errorf("405: %d %s %v", w.Code, w.Body, err)
	}
	w = httptest.NewRecorder()
	e.a.Miss(w, httptest.NewRequest("GET", "/api/v1/nothing", nil), http.StatusNotFound)
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 404 || body.Error.Code != parrain.CodeNotFound {
		t.Errorf("404: %d %s %v", w.Code, w.Body, err)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		want := map[string]bool{}
		for _, n := range []string{"A", "B", "C", "D", "E"} {
			want[e.program(n).ID] = true
		}
		seen := map[string]bool{}
		path, pages := "/api/v1/programs?limit=2", 0
		for {
			w := e.do("GET", path, nil, "")
			var list List[parrain.Program]
			if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
				t.Fatalf("%s: %d %s %v", path, w.Code, w.Body, err)
			}
			pages++
			if len(list.Data) > 2 {
				t.Fatalf("page of %d programs with limit=2", len(list.Data))
			}
			for _, p := range list.Data {
				if seen[p.ID] {
					t.Fatalf("program %s on two pages", p.ID)
				}
				seen[p.ID] = true
			}
			if list.NextCursor == "" {
				break
			}
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			path = "/api/v1/programs?limit=2&cursor=" + string(list.NextCursor)
		}
		if pages != 3 || len(seen) != len(want) {
			t.Errorf("%d pages, %d programs; want 3 pages, %d programs", pages, len(seen), len(want))
		}
		for id := range want {
			if !seen[id] {
				t.Errorf("program %s never listed", id)
			}
		}
	})
}

// Participants: created (201), then updated (200), with their link on the
// configured base URL.
func TestUpsertParticipant(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		path := "/api/v1/programs/" + p.ID + "/participants/alice"
		for i, want := range []int{http.StatusCreated, http.StatusOK} {
			w := e.do("PUT", path, nil, `{"email":" Alice@Example.com ","name":" Alice Martin "}`)
			var v ParticipantView
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != want {
				t.Fatalf("upsert %d: %d %s %v", i, w.Code, w.Body, err)
			}
			if v.Email != "Alice@example.com" || v.Name != "Alice Martin" || v.Link != "http://parrain.test/r/"+v.Code {
				t.Errorf("upsert %d: %+v", i, v)
			}
		}
		// An empty body is allowed: the participant is only named by the path.
		if w := e.do("PUT", "/api/v1/programs/"+p.ID+"/participants/bob", nil, ""); w.Code != http.StatusCreated {
			t.Errorf("empty body: %d %s", w.Code, w.Body)
		}
	})
}
