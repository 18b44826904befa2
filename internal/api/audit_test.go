package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// audit appends an entry at the fake clock's time.
func (e *env) audit(a store.Actor, action, targetType, targetID, programID string) {
	e.t.Helper()
	if err := e.st.Audit(context.Background(), a, action, targetType, targetID, programID, nil); err != nil {
		e.t.Fatalf("audit: %v", err)
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, q := e.program("P"), e.program("Q")
		start := e.clock.Now()
		owner := store.Actor{Kind: parrain.ActorUser, UserID: "usr_1", Email: "owner@shop.example"}
		e.audit(owner, "program.paused", "program", p.ID, p.ID) // at start
		e.clock.Advance(time.Hour)
		e.audit(owner, "program.resumed", "program", p.ID, p.ID) // start+1h
		e.clock.Advance(time.Hour)
		e.audit(store.SystemActor("cli"), "program.updated", "program", q.ID, q.ID) // start+2h
		e.clock.Advance(time.Hour)
		e.audit(store.SystemActor("jobs"), "webhook_endpoint.disabled", "webhook_endpoint", "whe_1", q.ID) // start+3h

		// A write through the API is audited under the key: a partner
		// application decided.
		e.partnerProgram(p.ID)
		applied := e.application(p.ID, "pat@partner.example")
		e.ok(http.StatusOK, "POST", "/api/v1/programs/"+p.ID+"/partners/"+applied.ID+"/decision", "dec-1", `{"approve":true}`, nil)

		// The test's own setup (programs, the partner program, keys) is
		// audited too; the cases below are about the entries made above.
		setup := map[string]bool{"program.created": true, "partner_program.updated": true, "api_key.created": true}
		ids := func(query string) []string {
			t.Helper()
			var list List[store.AuditEntry]
			e.ok(http.StatusOK, "GET", "/api/v1/audit-log"+query, "", "", &list)
			var out []string
			for _, en := range list.Data {
				if !setup[en.Action] {
					out = append(out, en.Action)
				}
			}
			return out
		}
		since := func(d time.Duration) string { return start.Add(d).Format(time.RFC3339) }
		cases := []struct {
			query string
			want  []string // newest first
		}{
			{"", []string{"partner.approved", "webhook_endpoint.disabled", "program.updated", "program.resumed", "program.paused"}},
			{"?actor_type=user", []string{"program.resumed", "program.paused"}},
			{"?actor_type=cli", []string{"program.updated"}},
			{"?actor_type=system", []string{"webhook_endpoint.disabled"}},
			{"?actor_type=api_key", []string{"partner.approved"}},
			{"?actor_type=partner", nil},
			{"?actor=owner@shop.example", []string{"program.resumed", "program.paused"}},
			{"?actor=usr_1", []string{"program.resumed", "program.paused"}},
			{"?actor=nobody@example.com", nil},
			{"?action=program.paused", []string{"program.paused"}},
			{"?action=program.", []string{"program.updated", "program.resumed", "program.paused"}},
			{"?action=program", nil},
			{"?target_type=webhook_endpoint", []string{"webhook_endpoint.disabled"}},
			{"?target_type=program&target_id=" + q.ID, []string{"program.updated"}},
			{"?target_type=partner&target_id=" + applied.ID, []string{"partner.approved"}},
			{"?program_id=" + q.ID, []string{"webhook_endpoint.disabled", "program.updated"}},
			{"?since=" + since(time.Hour), []string{"partner.approved", "webhook_endpoint.disabled", "program.updated", "program.resumed"}},
			{"?until=" + since(time.Hour), []string{"program.paused"}},
			{"?since=" + since(time.Hour) + "&until=" + since(3*time.Hour), []string{"program.updated", "program.resumed"}},
			{"?actor_type=user&since=" + since(30*time.Minute), []string{"program.resumed"}},
			{"?since=" + escapePlus(start.Add(time.Hour).In(time.FixedZone("CET", 3600)).Format(time.RFC3339)), []string{"partner.approved", "webhook_endpoint.disabled", "program.updated", "program.resumed"}},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				if got := ids(c.query); strings.Join(got, " ") != strings.Join(c.want, " ") {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}
		// The approval names the key that made it.
		var list List[store.AuditEntry]
		e.ok(http.StatusOK, "GET", "/api/v1/audit-log?action=partner.approved", "", "", &list)
		if len(list.Data) != 1 || list.Data[0].ProgramID != p.ID || list.Data[0].UserEmail != "test" || list.Data[0].UserID == "" {
			t.Errorf("API actor %+v", list.Data)
		}
		// Pages.
		seen := map[string]bool{}
		path := "/api/v1/audit-log?limit=2"
		for range 10 {
			var page List[store.AuditEntry]
			e.ok(http.StatusOK, "GET", path, "", "", &page)
			if len(page.Data) > 2 {
				t.Fatalf("%d entries with limit=2", len(page.Data))
			}
			for _, en := range page.Data {
				if seen[en.ID] {
					t.Fatalf("entry %s on two pages", en.ID)
				}
				if !setup[en.Action] {
					seen[en.ID] = true
				}
			}
			if page.NextCursor == "" {
				break
			}
			path = "/api/v1/audit-log?limit=2&cursor=" + string(page.NextCursor)
		}
		if len(seen) != 5 {
			t.Errorf("paged through %d entries, want 5", len(seen))
		}

		// A key restricted to a program sees that program's entries only.
		restricted := e.keyFor([]string{store.ScopeAdmin}, q.ID)
		w := e.call(restricted, "GET", "/api/v1/audit-log", "", "")
		var mine List[store.AuditEntry]
		if err := decodeBody(w, &mine); err != nil || w.Code != 200 {
			t.Fatalf("restricted: %d %s %v", w.Code, w.Body, err)
		}
		made := 0
		for _, en := range mine.Data {
			if en.ProgramID != q.ID {
				t.Errorf("restricted key sees %+v", en)
			}
			if !setup[en.Action] {
				made++
			}
		}
		if made != 2 {
			t.Errorf("restricted key sees %d of the entries made on its program, want 2: %+v", made, mine.Data)
		}
		w = e.call(restricted, "GET", "/api/v1/audit-log?program_id="+q.ID+"&action=program.updated", "", "")
		if err := decodeBody(w, &mine); err != nil || w.Code != 200 || len(mine.Data) != 1 {
			t.Errorf("restricted, own program: %d %s %v", w.Code, w.Body, err)
		}

		e.checkErrors(t, []errCase{
			{name: "bad actor type", method: "GET", path: "/api/v1/audit-log?actor_type=robot", status: 400, code: parrain.CodeInvalid, field: "actor_type"},
			{name: "bad since", method: "GET", path: "/api/v1/audit-log?since=yesterday", status: 400, code: parrain.CodeInvalid, field: "since"},
			{name: "date without time", method: "GET", path: "/api/v1/audit-log?since=2026-11-01", status: 400, code: parrain.CodeInvalid, field: "since"},
			{name: "bad until", method: "GET", path: "/api/v1/audit-log?until=2026-13-01T00:00:00Z", status: 400, code: parrain.CodeInvalid, field: "until"},
			{name: "until before since", method: "GET", path: "/api/v1/audit-log?since=" + since(2*time.Hour) + "&until=" + since(time.Hour), status: 400, code: parrain.CodeInvalid, field: "until"},
			{name: "until equals since", method: "GET", path: "/api/v1/audit-log?since=" + since(time.Hour) + "&until=" + since(time.Hour), status: 400, code: parrain.CodeInvalid, field: "until"},
			{name: "long actor", method: "GET", path: "/api/v1/audit-log?actor=" + strings.Repeat("a", 201), status: 400, code: parrain.CodeInvalid, field: "actor"},
			{name: "long action", method: "GET", path: "/api/v1/audit-log?action=" + strings.Repeat("a", 201), status: 400, code: parrain.CodeInvalid, field: "action"},
			{name: "long target id", method: "GET", path: "/api/v1/audit-log?target_id=" + strings.Repeat("a", 201), status: 400, code: parrain.CodeInvalid, field: "target_id"},
			{name: "bad limit", method: "GET", path: "/api/v1/audit-log?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "bad cursor", method: "GET", path: "/api/v1/audit-log?cursor=" + strings.Repeat("c", 101), status: 400, code: parrain.CodeInvalid, field: "cursor"},
			{name: "restricted key, other program", key: restricted, method: "GET", path: "/api/v1/audit-log?program_id=" + p.ID, status: 404, code: parrain.CodeNotFound},
			{name: "without admin", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "GET", path: "/api/v1/audit-log", status: 403, code: parrain.CodeForbidden},
			{name: "without key", key: "-", method: "GET", path: "/api/v1/audit-log", status: 401, code: parrain.CodeUnauthenticated},
		})
	})
}

// escapePlus escapes the few characters of an RFC 3339 time a query needs escaped.
func escapePlus(s string) string { return strings.ReplaceAll(s, "+", "%2B") }
