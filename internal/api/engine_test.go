package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

func TestDryRunAndReplay(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.purchaseProgram("P")
		base := "/api/v1/programs/" + p.ID
		adv := e.participant(p.ID, "anna")
		e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+adv.Code+`"}`)
		e.event(p.ID, "b1", purchase("fred", "o1", 5000))

		// The current rules: 10% of 80.00.
		var dry referral.DryRunResult
		e.ok(http.StatusOK, "POST", base+"/dry-run", "", `{"event":`+purchase("fred", "o2", 8000)+`}`, &dry)
		if !dry.DryRun || dry.RuleVersion != 1 || len(dry.Rewards) != 1 || dry.Rewards[0].Amount != 800 {
			t.Fatalf("dry run: %+v", dry)
		}
		// Proposed rules: 20%.
		proposed := `{"name":"P","landing_url":"https://shop.example/","currency":"EUR","hold_days":14,
			"rules":[{"id":"pct","trigger":"purchase","advocate":{"kind":"cash","type":"percent","percent_bps":2000}}]}`
		e.ok(http.StatusOK, "POST", base+"/dry-run", "", `{"event":`+purchase("fred", "o2", 8000)+`,"program":`+proposed+`}`, &dry)
		if len(dry.Rewards) != 1 || dry.Rewards[0].Amount != 1600 {
			t.Fatalf("dry run of proposed rules: %+v", dry.Rewards)
		}
		// Nothing was written.
		var rws List[parrain.Reward]
		e.ok(http.StatusOK, "GET", base+"/rewards", "", "", &rws)
		if len(rws.Data) != 1 {
			t.Errorf("dry runs wrote rewards: %+v", rws.Data)
		}
		if w := e.call("", "GET", base+"/participants/newbie", "", ""); w.Code != 404 {
			t.Errorf("before: %d", w.Code)
		}
		e.ok(http.StatusOK, "POST", base+"/dry-run", "", `{"event":{"type":"signup","external_id":"newbie"}}`, &dry)
		if w := e.call("", "GET", base+"/participants/newbie", "", ""); w.Code != 404 {
			t.Errorf("a dry-run signup created the participant: %d", w.Code)
		}
		// A read-only key may dry-run.
		readOnly := e.keyFor([]string{store.ScopeRead}, "")
		if w := e.call(readOnly, "POST", base+"/dry-run", "", `{"event":`+purchase("fred", "o2", 8000)+`}`); w.Code != 200 {
			t.Errorf("read-only dry run: %d %s", w.Code, w.Body)
		}

		// Replay of the last 30 days under the proposed rules: the one
		// 5.00 reward becomes 10.00.
		var rep referral.ReplayReport
		e.ok(http.StatusOK, "POST", base+"/replay", "", `{"program":`+proposed+`}`, &rep)
		if rep.ProgramID != p.ID || rep.Days != 30 || rep.Currency != "EUR" || rep.Events == 0 || rep.Total.Delta != 500 {
			t.Fatalf("replay: %+v", rep)
		}
		e.ok(http.StatusOK, "POST", base+"/replay", "", `{"program":`+proposed+`,"days":7}`, &rep)
		if rep.Days != 7 {
			t.Errorf("replay days %d", rep.Days)
		}

		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "dry run without event", method: "POST", path: base + "/dry-run", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "event"},
			{name: "dry run empty body", method: "POST", path: base + "/dry-run", status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "dry run bad amount", method: "POST", path: base + "/dry-run", body: `{"event":` + purchase("fred", "o", -1) + `}`, status: 400, code: parrain.CodeInvalid, field: "event.amount"},
			{name: "dry run unknown event field", method: "POST", path: base + "/dry-run", body: `{"event":{"type":"signup","external_id":"x","colour":1}}`, status: 400, code: parrain.CodeInvalid, field: "event.colour"},
			{name: "dry run bad type", method: "POST", path: base + "/dry-run", body: `{"event":{"type":"visit","external_id":"x"}}`, status: 400, code: parrain.CodeInvalid, field: "event.type"},
			{name: "dry run bad program", method: "POST", path: base + "/dry-run", body: `{"event":{"type":"signup","external_id":"x"},"program":{"name":"x"}}`, status: 400, code: parrain.CodeInvalid, field: "program.landing_url"},
			{name: "dry run unknown program", method: "POST", path: "/api/v1/programs/prg_nope/dry-run", body: `{"event":{"type":"signup","external_id":"x"}}`, status: 404, code: parrain.CodeNotFound},
			{name: "dry run other program", key: e.keyFor(nil, other.ID), method: "POST", path: base + "/dry-run", body: `{"event":{"type":"signup","external_id":"x"}}`, status: 404, code: parrain.CodeNotFound},
			{name: "dry run without read", key: e.keyFor([]string{store.ScopeEvents}, ""), method: "POST", path: base + "/dry-run", body: `{"event":{"type":"signup","external_id":"x"}}`, status: 403, code: parrain.CodeForbidden},
			{name: "replay without program", method: "POST", path: base + "/replay", body: `{"days":7}`, status: 400, code: parrain.CodeInvalid, field: "program"},
			{name: "replay too many days", method: "POST", path: base + "/replay", body: `{"program":` + proposed + `,"days":400}`, status: 400, code: parrain.CodeInvalid, field: "days"},
			{name: "replay negative days", method: "POST", path: base + "/replay", body: `{"program":` + proposed + `,"days":-1}`, status: 400, code: parrain.CodeInvalid, field: "days"},
			{name: "replay invalid program", method: "POST", path: base + "/replay", body: `{"program":{"name":"x"}}`, status: 400, code: parrain.CodeInvalid, field: "program.landing_url"},
			{name: "replay unknown program", method: "POST", path: "/api/v1/programs/prg_nope/replay", body: `{"program":` + proposed + `}`, status: 404, code: parrain.CodeNotFound},
			{name: "replay other program", key: e.keyFor(nil, other.ID), method: "POST", path: base + "/replay", body: `{"program":` + proposed + `}`, status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestTerms(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		e.participant(p.ID, "anna")
		var terms store.Terms
		e.ok(http.StatusOK, "GET", base+"/terms", "", "", &terms)
		if terms.ProgramID != p.ID || terms.Version != 1 || !terms.Current || terms.SHA256 == "" || terms.Markdown == "" || terms.HTML == "" {
			t.Fatalf("terms %+v", terms)
		}
		// A new program version renders new terms; the first stays readable.
		e.ok(http.StatusOK, "PUT", base, "v2", strings.Replace(programDoc, `"amount":1500`, `"amount":2500`, 1), nil)
		e.ok(http.StatusOK, "GET", base+"/terms", "", "", &terms)
		if terms.Version != 2 || !strings.Contains(terms.Markdown, "25") {
			t.Fatalf("terms v2 %+v", terms)
		}
		var v1 store.Terms
		e.ok(http.StatusOK, "GET", base+"/terms?version=1", "", "", &v1)
		if v1.Version != 1 || v1.Current || v1.SHA256 == terms.SHA256 {
			t.Errorf("terms v1 %+v", v1)
		}
		// Acceptances: of the first version, then of the current one (an
		// empty body means the current version).
		var acc store.TermsAcceptance
		e.ok(http.StatusCreated, "POST", base+"/participants/anna/terms", "", `{"version":1}`, &acc)
		if acc.TermsVersion != 1 {
			t.Errorf("accepted %+v", acc)
		}
		var view TermsAcceptancesView
		e.ok(http.StatusOK, "GET", base+"/participants/anna/terms", "", "", &view)
		if view.CurrentVersion != 2 || view.AcceptedCurrent || len(view.Data) != 1 {
			t.Errorf("after v1 %+v", view)
		}
		w := e.ok(http.StatusCreated, "POST", base+"/participants/anna/terms", "acc-2", "", &acc)
		if acc.TermsVersion != 2 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("accepted current %+v", acc)
		}
		w = e.ok(http.StatusCreated, "POST", base+"/participants/anna/terms", "acc-2", "", &acc)
		if w.Header().Get("Idempotent-Replayed") != "true" {
			t.Error("acceptance replay not flagged")
		}
		e.ok(http.StatusOK, "GET", base+"/participants/anna/terms", "", "", &view)
		if !view.AcceptedCurrent || len(view.Data) != 2 {
			t.Errorf("after v2 %+v", view)
		}
		// The public page.
		r := e.call("-", "GET", "/terms/"+p.ID+"?version=1", "", "")
		if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/html") || !strings.Contains(r.Body.String(), "Terms version 1") ||
			!strings.Contains(r.Header().Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("terms page %d %s", r.Code, r.Body)
		}
		for path, want := range map[string]int{"/terms/prg_nope": 404, "/terms/" + p.ID + "?version=zero": 400, "/terms/" + p.ID + "?version=9": 404} {
			if r := e.call("-", "GET", path, "", ""); r.Code != want {
				t.Errorf("%s: %d, want %d", path, r.Code, want)
			}
		}
		other := e.program("Q")
		e.checkErrors(t, []errCase{
			{name: "bad version", method: "GET", path: base + "/terms?version=0", status: 400, code: parrain.CodeInvalid, field: "version"},
			{name: "version not a number", method: "GET", path: base + "/terms?version=v1", status: 400, code: parrain.CodeInvalid, field: "version"},
			{name: "unknown version", method: "GET", path: base + "/terms?version=7", status: 404, code: parrain.CodeNotFound, field: "version"},
			{name: "unknown program", method: "GET", path: "/api/v1/programs/prg_nope/terms", status: 404, code: parrain.CodeNotFound},
			{name: "other program", key: e.keyFor(nil, other.ID), method: "GET", path: base + "/terms", status: 404, code: parrain.CodeNotFound},
			{name: "accept unknown participant", method: "POST", path: base + "/participants/ghost/terms", body: `{}`, status: 404, code: parrain.CodeNotFound},
			{name: "accept unknown version", method: "POST", path: base + "/participants/anna/terms", body: `{"version":9}`, status: 404, code: parrain.CodeNotFound, field: "version"},
			{name: "accept negative version", method: "POST", path: base + "/participants/anna/terms", body: `{"version":-1}`, status: 400, code: parrain.CodeInvalid, field: "version"},
			{name: "accept unknown field", method: "POST", path: base + "/participants/anna/terms", body: `{"v":1}`, status: 400, code: parrain.CodeInvalid, field: "v"},
			{name: "accept same key other body", method: "POST", path: base + "/participants/anna/terms", idem: "acc-2", body: `{"version":1}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "accept read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "POST", path: base + "/participants/anna/terms", body: `{}`, status: 403, code: parrain.CodeForbidden},
			{name: "acceptances unknown participant", method: "GET", path: base + "/participants/ghost/terms", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestContests(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		adv := e.participant(p.ID, "anna")
		now := e.clock.Now()
		contest := func(name string, public bool) string {
			return fmt.Sprintf(`{"name":%q,"public":%t,"starts_at":%q,"ends_at":%q,"prizes":[{"rank":1,"reward":{"kind":"cash","amount":10000}}]}`,
				name, public, now.Add(-time.Hour).Format(time.RFC3339), now.Add(7*24*time.Hour).Format(time.RFC3339))
		}
		var c parrain.Contest
		w := e.ok(http.StatusCreated, "POST", base+"/contests", "ct-1", contest("November", true), &c)
		if c.ID == "" || c.ProgramID != p.ID || c.Name != "November" || c.Status != parrain.ContestRunning || !c.Public || len(c.Prizes) != 1 ||
			w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("contest %+v", c)
		}
		var again parrain.Contest
		w = e.ok(http.StatusCreated, "POST", base+"/contests", "ct-1", contest("November", true), &again)
		if again.ID != c.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay %+v", again)
		}
		var private parrain.Contest
		e.ok(http.StatusCreated, "POST", base+"/contests", "", contest("Private", false), &private)

		// Anna's friend buys: she leads.
		e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+adv.Code+`"}`)
		e.event(p.ID, "b1", purchase("fred", "o1", 5000))
		var lb parrain.Leaderboard
		e.ok(http.StatusOK, "GET", base+"/contests/"+c.ID+"/leaderboard", "", "", &lb)
		if lb.Contest.ID != c.ID || len(lb.Entries) != 1 || lb.Entries[0].ExternalID != "anna" || lb.Entries[0].Score != 1 {
			t.Fatalf("leaderboard %+v", lb)
		}
		e.ok(http.StatusOK, "GET", base+"/contests/"+c.ID+"/leaderboard?limit=1", "", "", &lb)
		if len(lb.Entries) != 1 {
			t.Errorf("limited leaderboard %+v", lb.Entries)
		}
		var got parrain.Contest
		e.ok(http.StatusOK, "GET", base+"/contests/"+c.ID, "", "", &got)
		if got.ID != c.ID || got.Name != "November" {
			t.Errorf("get %+v", got)
		}
		var list List[parrain.Contest]
		e.ok(http.StatusOK, "GET", base+"/contests", "", "", &list)
		if len(list.Data) != 2 {
			t.Errorf("contests %+v", list.Data)
		}
		// The public leaderboard: no key, display names only.
		r := e.call("-", "GET", "/api/v1/public/contests/"+c.ID+"/leaderboard", "", "")
		if r.Code != 200 || strings.Contains(r.Body.String(), `"anna"`) || !strings.Contains(r.Body.String(), "anna M.") ||
			r.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("public leaderboard %d %s", r.Code, r.Body)
		}

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "private contest in public", key: "-", method: "GET", path: "/api/v1/public/contests/" + private.ID + "/leaderboard", status: 404, code: parrain.CodeNotFound},
			{name: "public unknown contest", key: "-", method: "GET", path: "/api/v1/public/contests/ctt_nope/leaderboard", status: 404, code: parrain.CodeNotFound},
			{name: "public bad limit", key: "-", method: "GET", path: "/api/v1/public/contests/" + c.ID + "/leaderboard?limit=0", status: 400, code: parrain.CodeInvalid, field: "limit"},
			{name: "same key other body", method: "POST", path: base + "/contests", idem: "ct-1", body: contest("December", true), status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "ends before it starts", method: "POST", path: base + "/contests", body: `{"name":"x","starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-10-01T00:00:00Z","prizes":[{"rank":1,"reward":{"kind":"cash","amount":100}}]}`, status: 400, code: parrain.CodeInvalid, field: "ends_at"},
			{name: "without prizes", method: "POST", path: base + "/contests", body: `{"name":"x","starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-12-01T00:00:00Z"}`, status: 400, code: parrain.CodeInvalid, field: "prizes"},
			// Times that do not parse are reported on the body (encoding/json does not name the field of an UnmarshalJSON error).
			{name: "bad time", method: "POST", path: base + "/contests", body: `{"name":"x","starts_at":"tomorrow"}`, status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "create read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/contests", body: contest("x", false), status: 403, code: parrain.CodeForbidden},
			{name: "create other program", key: restricted, method: "POST", path: base + "/contests", body: contest("x", false), status: 404, code: parrain.CodeNotFound},
			{name: "create unknown program", method: "POST", path: "/api/v1/programs/prg_nope/contests", body: contest("x", false), status: 404, code: parrain.CodeNotFound},
			{name: "get under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/contests/" + c.ID, status: 404, code: parrain.CodeNotFound},
			{name: "leaderboard under other program", method: "GET", path: "/api/v1/programs/" + other.ID + "/contests/" + c.ID + "/leaderboard", status: 404, code: parrain.CodeNotFound},
			{name: "get unknown", method: "GET", path: base + "/contests/ctt_nope", status: 404, code: parrain.CodeNotFound},
			{name: "list unknown program", method: "GET", path: "/api/v1/programs/prg_nope/contests", status: 404, code: parrain.CodeNotFound},
			{name: "list other program", key: restricted, method: "GET", path: base + "/contests", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestCouponPools(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID
		// low_water: the default, and explicit values at both bounds.
		for _, c := range []struct {
			body string
			want int
		}{
			{`{"name":"amazon"}`, 10},
			{`{"name":"one","low_water":1}`, 1},
			{`{"name":"many","low_water":1000000}`, 1000000},
			{`{"name":"gen","generate_prefix":"GIFT-","generate_length":8,"low_water":5}`, 5},
		} {
			var pool store.CouponPool
			e.ok(http.StatusCreated, "POST", base+"/coupon-pools", "", c.body, &pool)
			if pool.ID == "" || pool.ProgramID != p.ID || pool.LowWater != c.want || pool.Available != 0 {
				t.Errorf("%s: %+v", c.body, pool)
			}
		}
		var imp store.ImportResult
		w := e.ok(http.StatusCreated, "POST", base+"/coupon-pools/amazon/codes", "imp-1", `{"codes":["A1","A2","A1"]}`, &imp)
		if imp.Imported != 2 || len(imp.Duplicates) != 1 || imp.Duplicates[0] != "A1" || imp.Pool.Available != 2 || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("import %+v", imp)
		}
		w = e.ok(http.StatusCreated, "POST", base+"/coupon-pools/amazon/codes", "imp-1", `{"codes":["A1","A2","A1"]}`, &imp)
		if w.Header().Get("Idempotent-Replayed") != "true" || imp.Imported != 2 {
			t.Errorf("replay %+v", imp)
		}
		// Codes already in the pool are duplicates.
		e.ok(http.StatusCreated, "POST", base+"/coupon-pools/amazon/codes", "", `{"codes":["A2","A3"]}`, &imp)
		if imp.Imported != 1 || len(imp.Duplicates) != 1 || imp.Pool.Available != 3 {
			t.Errorf("second import %+v", imp)
		}
		var pools List[store.CouponPool]
		e.ok(http.StatusOK, "GET", base+"/coupon-pools", "", "", &pools)
		avail := map[string]int64{}
		for _, pl := range pools.Data {
			avail[pl.Name] = pl.Available
		}
		if len(pools.Data) != 4 || avail["amazon"] != 3 || avail["one"] != 0 {
			t.Errorf("pools %+v", pools.Data)
		}
		var alerts List[store.Alert]
		e.ok(http.StatusOK, "GET", base+"/alerts?open=true", "", "", &alerts)
		e.ok(http.StatusOK, "GET", base+"/alerts?open=false", "", "", &alerts)
		e.ok(http.StatusOK, "GET", base+"/alerts", "", "", &alerts)

		other := e.program("Q")
		restricted := e.keyFor(nil, other.ID)
		e.checkErrors(t, []errCase{
			{name: "negative low water", method: "POST", path: base + "/coupon-pools", body: `{"name":"neg","low_water":-1}`, status: 400, code: parrain.CodeInvalid, field: "low_water"},
			{name: "huge low water", method: "POST", path: base + "/coupon-pools", body: `{"name":"huge","low_water":1000001}`, status: 400, code: parrain.CodeInvalid, field: "low_water"},
			{name: "low water overflows", method: "POST", path: base + "/coupon-pools", body: `{"name":"huge","low_water":100000000000000000000}`, status: 400, code: parrain.CodeInvalid, field: "low_water"},
			{name: "fractional low water", method: "POST", path: base + "/coupon-pools", body: `{"name":"frac","low_water":1.5}`, status: 400, code: parrain.CodeInvalid, field: "low_water"},
			{name: "low water as string", method: "POST", path: base + "/coupon-pools", body: `{"name":"str","low_water":"5"}`, status: 400, code: parrain.CodeInvalid, field: "low_water"},
			{name: "bad name", method: "POST", path: base + "/coupon-pools", body: `{"name":"Amazon Cards"}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "no name", method: "POST", path: base + "/coupon-pools", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "name"},
			{name: "short generated codes", method: "POST", path: base + "/coupon-pools", body: `{"name":"g2","generate_length":3}`, status: 400, code: parrain.CodeInvalid, field: "generate_length"},
			{name: "prefix without length", method: "POST", path: base + "/coupon-pools", body: `{"name":"g3","generate_prefix":"X"}`, status: 400, code: parrain.CodeInvalid, field: "generate_prefix"},
			{name: "server fields", method: "POST", path: base + "/coupon-pools", body: `{"name":"a","available":5}`, status: 400, code: parrain.CodeInvalid, field: "id"},
			{name: "existing name", method: "POST", path: base + "/coupon-pools", body: `{"name":"amazon"}`, status: 409, code: parrain.CodeConflict, field: "name"},
			{name: "create read-only", key: e.keyFor([]string{store.ScopeRead}, ""), method: "POST", path: base + "/coupon-pools", body: `{"name":"ro"}`, status: 403, code: parrain.CodeForbidden},
			{name: "create other program", key: restricted, method: "POST", path: base + "/coupon-pools", body: `{"name":"x"}`, status: 404, code: parrain.CodeNotFound},
			{name: "create unknown program", method: "POST", path: "/api/v1/programs/prg_nope/coupon-pools", body: `{"name":"x"}`, status: 404, code: parrain.CodeNotFound},
			{name: "import to unknown pool", method: "POST", path: base + "/coupon-pools/none/codes", body: `{"codes":["A"]}`, status: 404, code: parrain.CodeNotFound},
			{name: "import to a pool of another program", method: "POST", path: "/api/v1/programs/" + other.ID + "/coupon-pools/amazon/codes", body: `{"codes":["A"]}`, status: 404, code: parrain.CodeNotFound},
			{name: "import to generated pool", method: "POST", path: base + "/coupon-pools/gen/codes", body: `{"codes":["A"]}`, status: 400, code: parrain.CodeInvalid, field: "pool"},
			{name: "import nothing", method: "POST", path: base + "/coupon-pools/amazon/codes", body: `{"codes":[]}`, status: 400, code: parrain.CodeInvalid, field: "codes"},
			{name: "import blank code", method: "POST", path: base + "/coupon-pools/amazon/codes", body: `{"codes":["A9",""]}`, status: 400, code: parrain.CodeInvalid, field: "codes[1]"},
			{name: "import code with space", method: "POST", path: base + "/coupon-pools/amazon/codes", body: `{"codes":["A B"]}`, status: 400, code: parrain.CodeInvalid, field: "codes[0]"},
			{name: "import same key other body", method: "POST", path: base + "/coupon-pools/amazon/codes", idem: "imp-1", body: `{"codes":["Z"]}`, status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
			{name: "import read-only", key: e.keyFor([]string{store.ScopeRead, store.ScopeEvents}, ""), method: "POST", path: base + "/coupon-pools/amazon/codes", body: `{"codes":["A"]}`, status: 403, code: parrain.CodeForbidden},
			{name: "list unknown program", method: "GET", path: "/api/v1/programs/prg_nope/coupon-pools", status: 404, code: parrain.CodeNotFound},
			{name: "alerts bad open", method: "GET", path: base + "/alerts?open=maybe", status: 400, code: parrain.CodeInvalid, field: "open"},
			{name: "alerts unknown program", method: "GET", path: "/api/v1/programs/prg_nope/alerts", status: 404, code: parrain.CodeNotFound},
			{name: "alerts other program", key: restricted, method: "GET", path: base + "/alerts", status: 404, code: parrain.CodeNotFound},
		})
	})
}
