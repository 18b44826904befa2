package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestTriggers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.participant(p.ID, "anna")

		var tr parrain.MomentTrigger
		w := e.ok(http.StatusCreated, "POST", base+"/triggers", "tr-1", `{"name":"Promoters","event":"nps","cooldown_days":30,"effects":["notification"]}`, &tr)
		if tr.ID == "" || tr.ProgramID != p.ID || tr.Kind != parrain.MomentNPS || tr.CooldownDays != 30 || tr.Status != parrain.MomentActive ||
			len(tr.Effects) != 1 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("created %+v", tr)
		}
		var again parrain.MomentTrigger
		w = e.ok(http.StatusCreated, "POST", base+"/triggers", "tr-1", `{"name":"Promoters","event":"nps","cooldown_days":30,"effects":["notification"]}`, &again)
		if again.ID != tr.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		// Defaults: cooldown 90 days, email and notification.
		var custom parrain.MomentTrigger
		e.ok(http.StatusCreated, "POST", base+"/triggers", "", `{"event":"custom","event_name":"invoice_paid","min_value":100}`, &custom)
		if custom.Name != "custom" || custom.CooldownDays != 90 || len(custom.Effects) != 2 {
			t.Errorf("defaults %+v", custom)
		}

		// A promoter fires it; within the cooldown it does not fire again;
		// after the cooldown it does.
		fired := func(key string) int {
			t.Helper()
			return len(e.event(p.ID, key, `{"type":"nps","external_id":"anna","score":10}`).TriggersFired)
		}
		if n := fired("nps-1"); n != 1 {
			t.Fatalf("first promoter answer fired %d triggers", n)
		}
		e.clock.Advance(29 * 24 * time.Hour)
		if n := fired("nps-2"); n != 0 {
			t.Errorf("fired within the cooldown: %d", n)
		}
		e.clock.Advance(2 * 24 * time.Hour)
		if n := fired("nps-3"); n != 1 {
			t.Errorf("after the cooldown: %d", n)
		}
		if n := len(e.event(p.ID, "nps-4", `{"type":"nps","external_id":"anna","score":3}`).TriggersFired); n != 0 {
			t.Errorf("a detractor fired %d", n)
		}
		var firings List[store.Firing]
		e.ok(http.StatusOK, "GET", base+"/triggers/"+tr.ID+"/firings", "", "", &firings)
		if len(firings.Data) != 2 || firings.Data[0].ExternalID != "anna" || firings.Data[0].TriggerID != tr.ID {
			t.Fatalf("firings %+v", firings.Data)
		}
		e.ok(http.StatusOK, "GET", base+"/triggers/"+tr.ID+"/firings?limit=1", "", "", &firings)
		if len(firings.Data) != 1 || firings.NextCursor == "" {
			t.Errorf("first page %+v", firings)
		}

		// Replace: a disabled trigger no longer fires.
		var put parrain.MomentTrigger
		e.ok(http.StatusOK, "PUT", base+"/triggers/"+tr.ID, "", `{"id":"`+tr.ID+`","name":"Promoters 9+","event":"nps","min_score":9,"status":"disabled"}`, &put)
		if put.ID != tr.ID || put.Name != "Promoters 9+" || put.Status != parrain.MomentDisabled || !put.CreatedAt.Equal(tr.CreatedAt) {
			t.Errorf("put %+v", put)
		}
		e.clock.Advance(365 * 24 * time.Hour)
		if n := fired("nps-5"); n != 0 {
			t.Errorf("a disabled trigger fired: %d", n)
		}
		var got parrain.MomentTrigger
		e.ok(http.StatusOK, "GET", base+"/triggers/"+tr.ID, "", "", &got)
		if got.Name != "Promoters 9+" || got.MinScore == nil || *got.MinScore != 9 {
			t.Errorf("get %+v", got)
		}
		var list List[parrain.MomentTrigger]
		e.ok(http.StatusOK, "GET", base+"/triggers", "", "", &list)
		if len(list.Data) != 2 {
			t.Errorf("list %+v", list.Data)
		}
		if w := e.call("", "DELETE", base+"/triggers/"+custom.ID, "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		e.ok(http.StatusOK, "GET", base+"/triggers", "", "", &list)
		if len(list.Data) != 1 || list.Data[0].ID != tr.ID {
			t.Errorf("after delete %+v", list.Data)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, "")
		// tr-1 expired with the year that passed (keys live 24 hours): a
		// fresh key for the reuse case below.
		e.ok(http.StatusCreated, "POST", base+"/triggers", "tr-2", `{"event":"nps"}`, nil)
		e.checkErrors(t, []errCase{
			{name: "no event", method: "POST", path: base + "/triggers", body: `{"name":"x"}`, status: 400, code: parrain.CodeInvalid, field: "event"},
			{name: "unknown event", method: "POST", path: base + "/triggers", body: `{"event":"birthday"}`, status: 400, code: parrain.CodeInvalid, field: "event"},
			{name: "nps score out of range", method: "POST", path: base + "/triggers", body: `{"event":"nps","min_score":11}`, status: 400, code: parrain.CodeInvalid, field: "min_score"},
			{name: "rating score out of range", method: "POST", path: base + "/triggers", body: `{"event":"rating","min_score":0}`, status: 400, code: parrain.CodeInvalid, field: "min_score"},
			{name: "field of another kind", method: "POST", path: base + "/triggers", body: `{"event":"nps","plans":["pro"]}`, status: 400, code: parrain.CodeInvalid, field: "plans"},
			{name: "purchase count of one", method: "POST", path: base + "/triggers", body: `{"event":"purchase_count","count":1,"within_days":30}`, status: 400, code: parrain.CodeInvalid, field: "count"},
			{name: "custom without name", method: "POST", path: base + "/triggers", body: `{"event":"custom"}`, status: 400, code: parrain.CodeInvalid, field: "event_name"},
			{name: "cooldown too long", method: "POST", path: base + "/triggers", body: `{"event":"nps","cooldown_days":4000}`, status: 400, code: parrain.CodeInvalid, field: "cooldown_days"},
			{name: "negative cooldown", method: "POST", path: base + "/triggers", body: `{"event":"nps","cooldown_days":-1}`, status: 400, code: parrain.CodeInvalid, field: "cooldown_days"},
			{name: "unknown effect", method: "POST", path: base + "/triggers", body: `{"event":"nps","effects":["sms"]}`, status: 400, code: parrain.CodeInvalid, field: "effects[0]"},
			{name: "duplicate effect", method: "POST", path: base + "/triggers", body: `{"event":"nps","effects":["email","email"]}`, status: 400, code: parrain.CodeInvalid, field: "effects[1]"},
			{name: "bad status", method: "POST", path: base + "/triggers", body: `{"event":"nps","status":"paused"}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "long name", method: "POST", path: base + "/triggers", body: `{"event":"nps","name":"` + strings.Repeat("n", 201) + `"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "server id", method: "POST", path: base + "/triggers", body: `{"id":"trg_mine","event":"nps"}`, status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "same key other body", method: "POST", path: base + "/triggers", idem: "tr-2", body: `{"event":"rating"}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "create read-only", key: readOnly, method: "POST", path: base + "/triggers", body: `{"event":"nps"}`, status: 403, code: parrain.CodeForbidden},
			{name: "create other program", key: restricted, method: "POST", path: base + "/triggers", body: `{"event":"nps"}`, status: 404, code: parrain.CodeNotFound},
			{name: "create unknown program", method: "POST", path: "/api/v1/programs/prg_nope/triggers", body: `{"event":"nps"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put other id", method: "PUT", path: base + "/triggers/" + tr.ID, body: `{"id":"trg_other","event":"nps"}`, status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "put invalid", method: "PUT", path: base + "/triggers/" + tr.ID, body: `{"event":"nps","min_score":-1}`, status: 400, code: parrain.CodeInvalid, field: "min_score"},
			{name: "put unknown", method: "PUT", path: base + "/triggers/trg_nope", body: `{"event":"nps"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put deleted", method: "PUT", path: base + "/triggers/" + custom.ID, body: `{"event":"nps"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put under other program", method: "PUT", path: "/api/v1/programs/" + other.ID + "/triggers/" + tr.ID, body: `{"event":"nps"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: readOnly, method: "PUT", path: base + "/triggers/" + tr.ID, body: `{"event":"nps"}`, status: 403, code: parrain.CodeForbidden},
			{name: "get deleted", method: "GET", path: base + "/triggers/" + custom.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/triggers/" + tr.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: base + "/triggers/" + tr.ID, status: 404, code: parrain.CodeNotFound},
			{name: "delete again", method: "DELETE", path: base + "/triggers/" + custom.ID, status: 404, code: parrain.CodeNotFound},
			{name: "delete under other program", method: "DELETE", path: "/api/v1/programs/" + other.ID + "/triggers/" + tr.ID, status: 404, code: parrain.CodeNotFound},
			{name: "delete read-only", key: readOnly, method: "DELETE", path: base + "/triggers/" + tr.ID, status: 403, code: parrain.CodeForbidden},
			{name: "list unknown program", method: "GET", path: "/api/v1/programs/prg_nope/triggers", status: 404, code: parrain.CodeNotFound},
			{name: "firings of unknown trigger", method: "GET", path: base + "/triggers/trg_nope/firings", status: 404, code: parrain.CodeNotFound},
			{name: "firings bad limit", method: "GET", path: base + "/triggers/" + tr.ID + "/firings?limit=abc", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "nps event without score", method: "POST", path: base + "/events", idem: "nps-x", body: `{"type":"nps","external_id":"anna"}`, status: 400, code: parrain.CodeInvalid, field: "score"},
			{name: "nps event score out of range", method: "POST", path: base + "/events", idem: "nps-y", body: `{"type":"nps","external_id":"anna","score":11}`, status: 400, code: parrain.CodeInvalid, field: "score"},
		})
	})
}
