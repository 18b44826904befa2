package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

const programDoc = `{"name":"Shop","landing_url":"https://shop.example/","currency":"EUR",
	"rules":[{"trigger":"first_purchase","advocate":{"kind":"cash","type":"fixed","amount":1500}}]}`

func TestProgramsCreate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		var p parrain.Program
		w := e.ok(http.StatusCreated, "POST", "/api/v1/programs", "create-1", programDoc, &p)
		if p.ID == "" || p.Name != "Shop" || p.Currency != "EUR" || p.Version != 1 || p.Status != parrain.ProgramActive || p.CreatedAt.IsZero() {
			t.Fatalf("created %+v", p)
		}
		if w.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("first create flagged as a replay")
		}
		// The same key and body: the same program, flagged as a replay.
		var again parrain.Program
		w = e.ok(http.StatusCreated, "POST", "/api/v1/programs", "create-1", programDoc, &again)
		if again.ID != p.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %s %q", again.ID, w.Header().Get("Idempotent-Replayed"))
		}
		var list List[parrain.Program]
		e.ok(http.StatusOK, "GET", "/api/v1/programs", "", "", &list)
		if len(list.Data) != 1 || list.Data[0].ID != p.ID {
			t.Errorf("replay created another program: %+v", list.Data)
		}
		// Without a key, each request creates.
		var other parrain.Program
		e.ok(http.StatusCreated, "POST", "/api/v1/programs", "", programDoc, &other)
		if other.ID == p.ID {
			t.Error("a create without Idempotency-Key replayed")
		}
		readOnly := e.keyFor([]string{store.ScopeRead}, "")
		restricted := e.keyFor(nil, p.ID)
		e.checkErrors(t, []errCase{
			{name: "same key other body", method: "POST", path: "/api/v1/programs", idem: "create-1", body: strings.Replace(programDoc, "Shop", "Shop 2", 1),
				status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "no name", method: "POST", path: "/api/v1/programs", body: `{"landing_url":"https://x.example/","currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "bad currency", method: "POST", path: "/api/v1/programs", body: `{"name":"x","landing_url":"https://x.example/","currency":"euros"}`, status: 400, code: parrain.CodeInvalid, field: "currency"},
			{name: "bad landing url", method: "POST", path: "/api/v1/programs", body: `{"name":"x","landing_url":"not a url","currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "landing_url"},
			{name: "server version", method: "POST", path: "/api/v1/programs", body: `{"name":"x","landing_url":"https://x.example/","currency":"EUR","version":3}`, status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "bad idempotency key", method: "POST", path: "/api/v1/programs", idem: strings.Repeat("k", 256), body: programDoc, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "read-only key", key: readOnly, method: "POST", path: "/api/v1/programs", body: programDoc, status: 403, code: parrain.CodeForbidden},
			{name: "restricted key", key: restricted, method: "POST", path: "/api/v1/programs", body: programDoc, status: 403, code: parrain.CodeForbidden},
		})
	})
}

func TestProgramsGetListPatch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, q := e.program("P"), e.program("Q")
		var got parrain.Program
		e.ok(http.StatusOK, "GET", "/api/v1/programs/"+p.ID, "", "", &got)
		if got.ID != p.ID || got.Name != "P" || got.LandingURL != p.LandingURL {
			t.Errorf("get %+v", got)
		}
		// A key restricted to one program lists only that one.
		restricted := e.keyFor([]string{store.ScopeRead}, q.ID)
		var list List[parrain.Program]
		w := e.call(restricted, "GET", "/api/v1/programs", "", "")
		if err := decodeBody(w, &list); err != nil || w.Code != 200 || len(list.Data) != 1 || list.Data[0].ID != q.ID {
			t.Errorf("restricted list: %d %+v %v", w.Code, list, err)
		}
		// Pause, then resume.
		for _, st := range []parrain.ProgramStatus{parrain.ProgramPaused, parrain.ProgramActive} {
			var out parrain.Program
			e.ok(http.StatusOK, "PATCH", "/api/v1/programs/"+p.ID, "", `{"status":"`+string(st)+`"}`, &out)
			if out.Status != st {
				t.Errorf("patch to %s: %s", st, out.Status)
			}
			e.ok(http.StatusOK, "GET", "/api/v1/programs/"+p.ID, "", "", &got)
			if got.Status != st {
				t.Errorf("after patch to %s: %s", st, got.Status)
			}
		}
		eventsOnly := e.keyFor([]string{store.ScopeEvents}, "")
		e.checkErrors(t, []errCase{
			{name: "get other program", key: restricted, method: "GET", path: "/api/v1/programs/" + p.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get without read", key: eventsOnly, method: "GET", path: "/api/v1/programs/" + p.ID, status: 403, code: parrain.CodeForbidden},
			{name: "list without read", key: eventsOnly, method: "GET", path: "/api/v1/programs", status: 403, code: parrain.CodeForbidden},
			{name: "list limit zero", method: "GET", path: "/api/v1/programs?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "list limit not a number", method: "GET", path: "/api/v1/programs?limit=ten", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "patch bad status", method: "PATCH", path: "/api/v1/programs/" + p.ID, body: `{"status":"archived"}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "patch empty status", method: "PATCH", path: "/api/v1/programs/" + p.ID, body: `{}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "patch other field", method: "PATCH", path: "/api/v1/programs/" + p.ID, body: `{"name":"x"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "patch unknown program", method: "PATCH", path: "/api/v1/programs/prg_nope", body: `{"status":"paused"}`, status: 404, code: parrain.CodeNotFound},
			{name: "patch read-only", key: restricted, method: "PATCH", path: "/api/v1/programs/" + q.ID, body: `{"status":"paused"}`, status: 403, code: parrain.CodeForbidden},
			{name: "patch other program", key: e.keyFor(nil, q.ID), method: "PATCH", path: "/api/v1/programs/" + p.ID, body: `{"status":"paused"}`, status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestProgramsReplaceAndVersions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		path := "/api/v1/programs/" + p.ID
		v2doc := strings.Replace(programDoc, `"amount":1500`, `"amount":2000`, 1)
		var v2 parrain.Program
		w := e.ok(http.StatusOK, "PUT", path, "put-1", v2doc, &v2)
		if v2.ID != p.ID || v2.Version != 2 || len(v2.Rules) != 1 || v2.Rules[0].Advocate.Amount != 2000 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("put: %+v", v2)
		}
		w = e.ok(http.StatusOK, "PUT", path, "put-1", v2doc, &v2)
		if w.Header().Get("Idempotent-Replayed") != "true" || v2.Version != 2 {
			t.Errorf("replay: %q version %d", w.Header().Get("Idempotent-Replayed"), v2.Version)
		}
		// Nothing changed: no new version.
		var same parrain.Program
		e.ok(http.StatusOK, "PUT", path, "put-2", v2doc, &same)
		if same.Version != 2 {
			t.Errorf("unchanged document made version %d", same.Version)
		}
		// The path's id may be repeated in the document.
		withID := strings.Replace(v2doc, `{"name"`, `{"id":"`+p.ID+`","name"`, 1)
		e.ok(http.StatusOK, "PUT", path, "put-3", withID, &same)
		var vs List[store.ProgramVersion]
		e.ok(http.StatusOK, "GET", path+"/versions", "", "", &vs)
		if len(vs.Data) != 2 {
			t.Fatalf("versions: %+v", vs.Data)
		}
		amounts := map[int]int64{}
		for _, v := range vs.Data {
			amounts[v.Version] = v.Program.Rules[0].Advocate.Amount
		}
		if amounts[1] != 1500 || amounts[2] != 2000 {
			t.Errorf("version amounts %v", amounts)
		}
		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "without idempotency key", method: "PUT", path: path, body: v2doc, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "same key other body", method: "PUT", path: path, idem: "put-1", body: programDoc, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "other id", method: "PUT", path: path, idem: "put-4", body: strings.Replace(v2doc, `{"name"`, `{"id":"`+other.ID+`","name"`, 1), status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "invalid document", method: "PUT", path: path, idem: "put-5", body: `{"name":"","landing_url":"https://x.example/","currency":"EUR"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "unknown field", method: "PUT", path: path, idem: "put-6", body: `{"name":"x","bonus":1}`, status: 400, code: parrain.CodeInvalid, field: "bonus"},
			{name: "unknown program", method: "PUT", path: "/api/v1/programs/prg_nope", idem: "put-7", body: v2doc, status: 404, code: parrain.CodeNotFound},
			{name: "other program", key: restricted, method: "PUT", path: path, idem: "put-8", body: v2doc, status: 404, code: parrain.CodeNotFound},
			{name: "read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "PUT", path: path, idem: "put-9", body: v2doc, status: 403, code: parrain.CodeForbidden},
			{name: "versions of unknown program", method: "GET", path: "/api/v1/programs/prg_nope/versions", status: 404, code: parrain.CodeNotFound},
			{name: "versions of other program", key: restricted, method: "GET", path: path + "/versions", status: 404, code: parrain.CodeNotFound},
		})
		// Failed writes made no version.
		e.ok(http.StatusOK, "GET", path+"/versions", "", "", &vs)
		if len(vs.Data) != 2 {
			t.Errorf("%d versions after failed writes", len(vs.Data))
		}
	})
}
