package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		body := `{"url":"https://hooks.example.com/parrain","description":"CRM","event_types":["referral.created","reward.created"]}`
		var ep parrain.WebhookEndpoint
		w := e.ok(http.StatusCreated, "POST", base+"/webhook-endpoints", "whe-1", body, &ep)
		if ep.ID == "" || ep.ProgramID != p.ID || ep.URL != "https://hooks.example.com/parrain" || ep.Description != "CRM" || len(ep.EventTypes) != 2 ||
			ep.Status != parrain.EndpointActive || !strings.HasPrefix(ep.Secret, "whsec_") || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("created %+v", ep)
		}
		var again parrain.WebhookEndpoint
		w = e.ok(http.StatusCreated, "POST", base+"/webhook-endpoints", "whe-1", body, &again)
		// A replay never shows the secret again, and says so.
		if again.ID != ep.ID || again.Secret != "" || again.SecretNotice != parrain.SecretWithheld || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		// The secret is shown once.
		var got parrain.WebhookEndpoint
		e.ok(http.StatusOK, "GET", base+"/webhook-endpoints/"+ep.ID, "", "", &got)
		if got.ID != ep.ID || got.Secret != "" || got.URL != ep.URL {
			t.Errorf("get %+v", got)
		}
		var rotated parrain.WebhookEndpoint
		e.ok(http.StatusOK, "POST", base+"/webhook-endpoints/"+ep.ID+"/rotate-secret", "", "", &rotated)
		if rotated.ID != ep.ID || !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == ep.Secret {
			t.Errorf("rotated %+v", rotated)
		}
		// Patch: only what is sent changes.
		var patched parrain.WebhookEndpoint
		e.ok(http.StatusOK, "PATCH", base+"/webhook-endpoints/"+ep.ID, "", `{"status":"disabled","event_types":["*"]}`, &patched)
		if patched.Status != parrain.EndpointDisabled || patched.Description != "CRM" || patched.URL != ep.URL || len(patched.EventTypes) != 1 {
			t.Errorf("patched %+v", patched)
		}
		var second parrain.WebhookEndpoint
		e.ok(http.StatusCreated, "POST", base+"/webhook-endpoints", "", `{"url":"https://other.example.com/h","event_types":["*"]}`, &second)
		var list List[parrain.WebhookEndpoint]
		e.ok(http.StatusOK, "GET", base+"/webhook-endpoints", "", "", &list)
		if len(list.Data) != 2 {
			t.Fatalf("list %+v", list.Data)
		}
		for _, x := range list.Data {
			if x.Secret != "" {
				t.Errorf("listed with its secret: %+v", x)
			}
		}
		e.ok(http.StatusOK, "GET", base+"/webhook-endpoints?limit=1", "", "", &list)
		if len(list.Data) != 1 || list.NextCursor == "" {
			t.Errorf("first page %+v", list)
		}
		var deliveries List[parrain.WebhookDelivery]
		e.ok(http.StatusOK, "GET", base+"/webhook-endpoints/"+ep.ID+"/deliveries", "", "", &deliveries)
		if len(deliveries.Data) != 0 {
			t.Errorf("deliveries before any event %+v", deliveries.Data)
		}
		var inbound List[store.InboundEvent]
		e.ok(http.StatusOK, "GET", base+"/inbound-events", "", "", &inbound)
		if w := e.call("", "DELETE", base+"/webhook-endpoints/"+second.ID, "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		readOnly := e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, "")
		hooks := base + "/webhook-endpoints"
		e.checkErrors(t, []errCase{
			{name: "no url", method: "POST", path: hooks, body: `{"event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "http url", method: "POST", path: hooks, body: `{"url":"http://hooks.example.com/","event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "loopback url", method: "POST", path: hooks, body: `{"url":"https://127.0.0.1/hook","event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "private url", method: "POST", path: hooks, body: `{"url":"https://10.1.2.3/hook","event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "localhost url", method: "POST", path: hooks, body: `{"url":"https://localhost/hook","event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "url with credentials", method: "POST", path: hooks, body: `{"url":"https://u:p@hooks.example.com/","event_types":["*"]}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "no event types", method: "POST", path: hooks, body: `{"url":"https://hooks.example.com/"}`, status: 400, code: parrain.CodeInvalid, field: "event_types"},
			{name: "unknown event type", method: "POST", path: hooks, body: `{"url":"https://hooks.example.com/","event_types":["order.shipped"]}`, status: 400, code: parrain.CodeInvalid, field: "event_types"},
			{name: "bad status", method: "POST", path: hooks, body: `{"url":"https://hooks.example.com/","event_types":["*"],"status":"paused"}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "unknown field", method: "POST", path: hooks, body: `{"endpoint":"https://hooks.example.com/"}`, status: 400, code: parrain.CodeInvalid, field: "endpoint"},
			{name: "empty body", method: "POST", path: hooks, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "same key other body", method: "POST", path: hooks, idem: "whe-1", body: `{"url":"https://x.example.com/","event_types":["*"]}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "create unknown program", method: "POST", path: "/api/v1/programs/prg_nope/webhook-endpoints", body: body, status: 404, code: parrain.CodeNotFound},
			{name: "create other program", key: restricted, method: "POST", path: hooks, body: body, status: 404, code: parrain.CodeNotFound},
			{name: "create read-only", key: readOnly, method: "POST", path: hooks, body: body, status: 403, code: parrain.CodeForbidden},
			{name: "patch private url", method: "PATCH", path: hooks + "/" + ep.ID, body: `{"url":"https://192.168.1.1/"}`, status: 400, code: parrain.CodeInvalid, field: "url"},
			{name: "patch bad status", method: "PATCH", path: hooks + "/" + ep.ID, body: `{"status":"broken"}`, status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "patch no event types", method: "PATCH", path: hooks + "/" + ep.ID, body: `{"event_types":[]}`, status: 400, code: parrain.CodeInvalid, field: "event_types"},
			{name: "patch unknown", method: "PATCH", path: hooks + "/whe_nope", body: `{"status":"active"}`, status: 404, code: parrain.CodeNotFound},
			{name: "patch under other program", method: "PATCH", path: "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID, body: `{"status":"active"}`, status: 404, code: parrain.CodeNotFound},
			{name: "patch read-only", key: readOnly, method: "PATCH", path: hooks + "/" + ep.ID, body: `{"status":"active"}`, status: 403, code: parrain.CodeForbidden},
			{name: "get deleted", method: "GET", path: hooks + "/" + second.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID, status: 404, code: parrain.CodeNotFound},
			{name: "get other program", key: restricted, method: "GET", path: hooks + "/" + ep.ID, status: 404, code: parrain.CodeNotFound},
			{name: "delete again", method: "DELETE", path: hooks + "/" + second.ID, status: 404, code: parrain.CodeNotFound},
			{name: "delete read-only", key: readOnly, method: "DELETE", path: hooks + "/" + ep.ID, status: 403, code: parrain.CodeForbidden},
			{name: "rotate unknown", method: "POST", path: hooks + "/whe_nope/rotate-secret", status: 404, code: parrain.CodeNotFound},
			{name: "rotate under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID + "/rotate-secret", status: 404, code: parrain.CodeNotFound},
			{name: "rotate read-only", key: readOnly, method: "POST", path: hooks + "/" + ep.ID + "/rotate-secret", status: 403, code: parrain.CodeForbidden},
			{name: "list bad limit", method: "GET", path: hooks + "?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "list other program", key: restricted, method: "GET", path: hooks, status: 404, code: parrain.CodeNotFound},
			{name: "deliveries of unknown endpoint", method: "GET", path: hooks + "/whe_nope/deliveries", status: 404, code: parrain.CodeNotFound},
			{name: "deliveries bad limit", method: "GET", path: hooks + "/" + ep.ID + "/deliveries?limit=x", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "delivery unknown", method: "GET", path: hooks + "/" + ep.ID + "/deliveries/whd_nope", status: 404, code: parrain.CodeNotFound},
			{name: "replay on a disabled endpoint", method: "POST", path: hooks + "/" + ep.ID + "/deliveries/whd_nope/replay", status: 409, code: parrain.CodeConflict, field: "status"},
			{name: "replay read-only", key: readOnly, method: "POST", path: hooks + "/" + ep.ID + "/deliveries/whd_nope/replay", status: 403, code: parrain.CodeForbidden},
			{name: "inbound bad limit", method: "GET", path: base + "/inbound-events?limit=201", status: 400, code: parrain.CodeInvalid, field: "limit"},
		})
	})
}

func TestWebhookDeliveries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		var ep parrain.WebhookEndpoint
		e.ok(http.StatusCreated, "POST", base+"/webhook-endpoints", "", `{"url":"https://hooks.example.com/p","event_types":["referral.created"]}`, &ep)
		adv := e.participant(p.ID, "anna")
		e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+adv.Code+`"}`)
		hooks := base + "/webhook-endpoints/" + ep.ID
		var ds List[parrain.WebhookDelivery]
		e.ok(http.StatusOK, "GET", hooks+"/deliveries", "", "", &ds)
		if len(ds.Data) != 1 || ds.Data[0].EventType != "referral.created" {
			t.Fatalf("deliveries %+v", ds.Data)
		}
		var d parrain.WebhookDelivery
		e.ok(http.StatusOK, "GET", hooks+"/deliveries/"+ds.Data[0].ID, "", "", &d)
		if d.ID != ds.Data[0].ID {
			t.Errorf("delivery %+v", d)
		}
		var replayed parrain.WebhookDelivery
		e.ok(http.StatusAccepted, "POST", hooks+"/deliveries/"+d.ID+"/replay", "", "", &replayed)
		if replayed.ID == "" {
			t.Errorf("replayed %+v", replayed)
		}
		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "delivery under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID + "/deliveries/" + d.ID, status: 404, code: parrain.CodeNotFound},
			{name: "replay under other program", method: "POST", path: "/api/v1/programs/" + other.ID + "/webhook-endpoints/" + ep.ID + "/deliveries/" + d.ID + "/replay", status: 404, code: parrain.CodeNotFound},
			{name: "replay unknown delivery", method: "POST", path: hooks + "/deliveries/whd_nope/replay", status: 404, code: parrain.CodeNotFound},
			{name: "deliveries bad status", method: "GET", path: hooks + "/deliveries?status=lost", status: 400, code: parrain.CodeInvalid, field: "status"},
		})
	})
}

func TestCRM(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		path := "/api/v1/programs/" + p.ID + "/crm"
		var c parrain.CRMConnection
		e.ok(http.StatusOK, "PUT", path, "", `{"provider":"hubspot","stage_map":{"contractsent":"proposal"}}`, &c)
		if c.ProgramID != p.ID || c.Provider != parrain.CRMHubSpot || c.Pipeline != "default" || c.DealStage != "closedwon" || c.StageMap["contractsent"] != "proposal" {
			t.Fatalf("set %+v", c)
		}
		var sf parrain.CRMConnection
		e.ok(http.StatusOK, "PUT", path, "", `{"provider":"salesforce"}`, &sf)
		if sf.Provider != parrain.CRMSalesforce || sf.DealStage != "Closed Won" {
			t.Errorf("replaced %+v", sf)
		}
		var got parrain.CRMConnection
		e.ok(http.StatusOK, "GET", path, "", "", &got)
		if got.Provider != parrain.CRMSalesforce {
			t.Errorf("get %+v", got)
		}
		if w := e.call("", "DELETE", path, "", ""); w.Code != http.StatusNoContent {
			t.Fatalf("delete: %d %s", w.Code, w.Body)
		}
		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "get after delete", method: "GET", path: path, status: 404, code: parrain.CodeNotFound},
			{name: "delete again", method: "DELETE", path: path, status: 404, code: parrain.CodeNotFound},
			{name: "no provider", method: "PUT", path: path, body: `{}`, status: 400, code: parrain.CodeInvalid, field: "provider"},
			{name: "unknown provider", method: "PUT", path: path, body: `{"provider":"pipedrive"}`, status: 400, code: parrain.CodeInvalid, field: "provider"},
			{name: "long stage", method: "PUT", path: path, body: `{"provider":"hubspot","deal_stage":"` + strings.Repeat("s", 101) + `"}`, status: 400, code: parrain.CodeInvalid, field: "deal_stage"},
			{name: "empty stage map entry", method: "PUT", path: path, body: `{"provider":"hubspot","stage_map":{"x":" "}}`, status: 400, code: parrain.CodeInvalid, field: "stage_map"},
			{name: "stage map not an object", method: "PUT", path: path, body: `{"provider":"hubspot","stage_map":["x"]}`, status: 400, code: parrain.CodeInvalid, field: "stage_map"},
			{name: "unknown field", method: "PUT", path: path, body: `{"provider":"hubspot","token":"secret"}`, status: 400, code: parrain.CodeInvalid, field: "token"},
			{name: "empty body", method: "PUT", path: path, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "put unknown program", method: "PUT", path: "/api/v1/programs/prg_nope/crm", body: `{"provider":"hubspot"}`, status: 404, code: parrain.CodeNotFound},
			{name: "get unknown program", method: "GET", path: "/api/v1/programs/prg_nope/crm", status: 404, code: parrain.CodeNotFound},
			{name: "put other program", key: restricted, method: "PUT", path: path, body: `{"provider":"hubspot"}`, status: 404, code: parrain.CodeNotFound},
			{name: "put read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "PUT", path: path, body: `{"provider":"hubspot"}`, status: 403, code: parrain.CodeForbidden},
			{name: "delete read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "DELETE", path: path, status: 403, code: parrain.CodeForbidden},
		})
	})
}
