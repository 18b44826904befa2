package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// The reward engine's API: every endpoint's errors with their code and
// field, scopes and program isolation, and the happy paths.

const b2bProgram = `{"name":"B2B","landing_url":"https://b2b.example/","currency":"USD","hold_days":30,
	"stages":[{"name":"demo_booked"},{"name":"closed_won","label":"Closed won"}],
	"success":{"trigger":"stage","stage":"closed_won"},
	"caps":{"per_referral":500000,"on_cap":"review"},
	"rules":[
		{"id":"demo","trigger":"stage","stage":"demo_booked","advocate":{"kind":"cash","type":"fixed","amount":2500}},
		{"id":"won","trigger":"stage","stage":"closed_won","advocate":{"kind":"cash","type":"percent","percent_bps":1500,"true_up_months":12}}]}`

func TestRewardEngineAPIErrors(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	var p parrain.Program
	if res := h.do("POST", "/api/v1/programs", h.key, "", b2bProgram, &p); res.StatusCode != 201 {
		t.Fatalf("create: %d", res.StatusCode)
	}
	ctx := context.Background()
	readOnly, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "ro", []string{store.ScopeRead}, "")
	other := h.program()
	scoped, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "scoped", nil, other.ID)
	base := "/api/v1/programs/" + p.ID
	cases := []struct {
		name, method, path, key, idem string
		body                          any
		status                        int
		code                          parrain.Code
		field                         string
	}{
		{"put without key", "PUT", base, h.key, "", b2bProgram, 400, parrain.CodeInvalid, "Idempotency-Key"},
		{"put read-only", "PUT", base, readOnly, "p1", b2bProgram, 403, parrain.CodeForbidden, ""},
		{"put other program", "PUT", base, scoped, "p1", b2bProgram, 404, parrain.CodeNotFound, ""},
		{"put unknown field", "PUT", base, h.key, "p2", `{"name":"x","landing_url":"https://x.example","currency":"USD","bonus":1}`, 400, parrain.CodeInvalid, "bonus"},
		{"put bad stage rule", "PUT", base, h.key, "p3", strings.Replace(b2bProgram, `"stage":"demo_booked","advocate"`, `"stage":"demo","advocate"`, 1), 400, parrain.CodeInvalid, "rules[0].stage"},
		{"put bad caps", "PUT", base, h.key, "p4", strings.Replace(b2bProgram, `"on_cap":"review"`, `"on_cap":"ignore"`, 1), 400, parrain.CodeInvalid, "caps.on_cap"},
		{"put other id", "PUT", base, h.key, "p5", `{"id":"prog_x","name":"x","landing_url":"https://x.example","currency":"USD"}`, 400, parrain.CodeInvalid, "id"},
		{"put stale version", "PUT", base, h.key, "p6", strings.Replace(b2bProgram, `"hold_days":30`, `"hold_days":30,"version":7`, 1), 409, parrain.CodeConflict, "version"},
		{"put float rate", "PUT", base, h.key, "p7", strings.Replace(b2bProgram, `"percent_bps":1500`, `"percent_bps":15.5`, 1), 400, parrain.CodeInvalid, "rules.advocate.percent_bps"},
		{"stage unknown", "POST", base + "/events", h.key, "e1", `{"type":"stage","external_id":"l","stage":"lost"}`, 400, parrain.CodeInvalid, "stage"},
		{"stage value without currency", "POST", base + "/events", h.key, "e2", `{"type":"stage","external_id":"l","stage":"closed_won","value":5}`, 400, parrain.CodeInvalid, "currency"},
		{"contract without value", "POST", base + "/events", h.key, "e3", `{"type":"contract","external_id":"l","currency":"USD"}`, 400, parrain.CodeInvalid, "value"},
		{"bad fx rate", "POST", base + "/events", h.key, "e4", `{"type":"purchase","external_id":"l","order_id":"o","amount":5,"currency":"EUR","fx_rate":"1,2"}`, 400, parrain.CodeInvalid, "fx_rate"},
		{"float fx rate", "POST", base + "/events", h.key, "e5", `{"type":"purchase","external_id":"l","order_id":"o","amount":5,"currency":"EUR","fx_rate":1.2}`, 400, parrain.CodeInvalid, "fx_rate"},
		{"bad attributes", "PUT", base + "/participants/u1", h.key, "", `{"attributes":{"Plan":"pro"}}`, 400, parrain.CodeInvalid, "attributes"},
		{"attributes not an object", "PUT", base + "/participants/u1", h.key, "", `{"attributes":"pro"}`, 400, parrain.CodeInvalid, "attributes"},
		{"attribute value object", "PUT", base + "/participants/u1", h.key, "", `{"attributes":{"plan":{"a":1}}}`, 400, parrain.CodeInvalid, "attributes.plan"},
		{"dry run without event", "POST", base + "/dry-run", h.key, "", `{}`, 400, parrain.CodeInvalid, "event"},
		{"dry run bad event", "POST", base + "/dry-run", h.key, "", `{"event":{"type":"purchase","external_id":"x","order_id":"o","amount":-1,"currency":"USD"}}`, 400, parrain.CodeInvalid, "event.amount"},
		{"dry run bad program", "POST", base + "/dry-run", h.key, "", `{"event":{"type":"signup","external_id":"x"},"program":{"name":"x"}}`, 400, parrain.CodeInvalid, "program.landing_url"},
		{"dry run other program", "POST", base + "/dry-run", scoped, "", `{"event":{"type":"signup","external_id":"x"}}`, 404, parrain.CodeNotFound, ""},
		{"replay without program", "POST", base + "/replay", h.key, "", `{"days":7}`, 400, parrain.CodeInvalid, "program"},
		{"replay days", "POST", base + "/replay", h.key, "", `{"program":` + b2bProgram + `,"days":400}`, 400, parrain.CodeInvalid, "days"},
		{"terms version", "GET", base + "/terms?version=x", h.key, "", nil, 400, parrain.CodeInvalid, "version"},
		{"terms missing version", "GET", base + "/terms?version=9", h.key, "", nil, 404, parrain.CodeNotFound, "version"},
		{"accept unknown participant", "POST", base + "/participants/ghost/terms", h.key, "", `{}`, 404, parrain.CodeNotFound, ""},
		{"accept read-only", "POST", base + "/participants/ghost/terms", readOnly, "", `{}`, 403, parrain.CodeForbidden, ""},
		{"contest invalid", "POST", base + "/contests", h.key, "", `{"name":"x","starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-10-01T00:00:00Z","prizes":[{"rank":1,"reward":{"kind":"cash","amount":100}}]}`, 400, parrain.CodeInvalid, "ends_at"},
		{"contest without prizes", "POST", base + "/contests", h.key, "", `{"name":"x","starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-12-01T00:00:00Z"}`, 400, parrain.CodeInvalid, "prizes"},
		{"contest read-only", "POST", base + "/contests", readOnly, "", `{}`, 403, parrain.CodeForbidden, ""},
		{"contest unknown", "GET", base + "/contests/cst_nope", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"leaderboard limit", "GET", base + "/contests/cst_nope/leaderboard?limit=0", h.key, "", nil, 400, parrain.CodeInvalid, "limit"},
		{"public leaderboard unknown", "GET", "/api/v1/public/contests/cst_nope/leaderboard", "", "", nil, 404, parrain.CodeNotFound, ""},
		{"pool bad name", "POST", base + "/coupon-pools", h.key, "", `{"name":"Amazon Cards"}`, 400, parrain.CodeInvalid, "name"},
		{"pool server fields", "POST", base + "/coupon-pools", h.key, "", `{"name":"a","available":5}`, 400, parrain.CodeInvalid, "id"},
		{"import to unknown pool", "POST", base + "/coupon-pools/none/codes", h.key, "", `{"codes":["A"]}`, 404, parrain.CodeNotFound, ""},
		{"import nothing", "POST", base + "/coupon-pools/none/codes", h.key, "", `{"codes":[]}`, 400, parrain.CodeInvalid, "codes"},
		{"alerts filter", "GET", base + "/alerts?open=maybe", h.key, "", nil, 400, parrain.CodeInvalid, "open"},
		{"rewards filter", "GET", base + "/rewards?review=pending", h.key, "", nil, 400, parrain.CodeInvalid, "review"},
		{"review unknown reward", "POST", base + "/rewards/rwd_nope/review", h.key, "", `{"decision":"approve"}`, 404, parrain.CodeNotFound, ""},
		{"review bad decision", "POST", base + "/rewards/rwd_nope/review", h.key, "", `{"decision":"maybe"}`, 400, parrain.CodeInvalid, "decision"},
		{"review read-only", "POST", base + "/rewards/rwd_nope/review", readOnly, "", `{"decision":"approve"}`, 403, parrain.CodeForbidden, ""},
		{"versions other program", "GET", base + "/versions", scoped, "", nil, 404, parrain.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body httpx.ErrorBody
			res := h.do(c.method, c.path, c.key, c.idem, c.body, &body)
			if res.StatusCode != c.status || body.Error.Code != c.code || body.Error.Field != c.field || body.Error.Message == "" {
				t.Errorf("got %d %+v, want %d %s field %q", res.StatusCode, body.Error, c.status, c.code, c.field)
			}
		})
	}
	var after parrain.Program
	h.do("GET", base, h.key, "", nil, &after)
	if after.Version != 1 {
		t.Errorf("failed writes changed the program: version %d", after.Version)
	}
}

// get fetches a path's raw body.
func (h *harness) get(path, key string) (*http.Response, string) {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestRewardEngineAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		h := newHarness(t, testConfig(url))
		var p parrain.Program
		h.do("POST", "/api/v1/programs", h.key, "", b2bProgram, &p)
		base := "/api/v1/programs/" + p.ID
		var adv api.ParticipantView
		if res := h.do("PUT", base+"/participants/partner", h.key, "", `{"name":"Pat Ner","attributes":{"partner_tier":"active","paying":true}}`, &adv); res.StatusCode != 201 ||
			adv.Attributes["partner_tier"] != "active" {
			t.Fatalf("participant: %d %+v", res.StatusCode, adv)
		}
		// A lead through its stages.
		var r store.EventResult
		h.do("POST", base+"/events", h.key, "s1", map[string]any{"type": "stage", "external_id": "acme", "stage": "demo_booked", "referral_code": adv.Code}, &r)
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 2500 {
			t.Fatalf("demo booked: %+v", r)
		}
		h.do("POST", base+"/events", h.key, "s2", map[string]any{"type": "stage", "external_id": "acme", "stage": "closed_won", "value": 2000000,
			"currency": "EUR", "fx_rate": "1.1"}, &r)
		won := r.Rewards[0]
		if won.Amount != 330000 || won.FXRate != "1.1" || won.BaseCurrency != "EUR" || won.Review != "" { // 15% of 20000 EUR × 1.1
			t.Fatalf("closed won: %+v", won)
		}
		// The explained reward.
		var ex store.RewardExplained
		h.do("GET", base+"/rewards/"+won.ID, h.key, "", nil, &ex)
		if ex.Explain.Rule == nil || ex.Explain.Rule.ID != "won" || ex.Explain.RuleVersion != 1 || len(ex.Explain.Steps) != 2 || len(ex.Explain.Inputs.Caps) != 1 ||
			ex.Explain.Inputs.FX == nil || ex.Explain.Inputs.FX.Rate != "1.1" || len(ex.Ledger) != 1 || ex.Explain.Event == nil {
			t.Fatalf("explained: %+v", ex.Explain)
		}
		// Over the cap under review: queued.
		h.do("POST", base+"/events", h.key, "c1", map[string]any{"type": "contract", "external_id": "acme", "value": 4000000, "currency": "USD"}, &r)
		if len(r.Rewards) != 1 || r.Rewards[0].Review != store.ReviewWaiting {
			t.Fatalf("true-up over the cap: %+v", r)
		}
		var queue api.List[parrain.Reward]
		h.do("GET", base+"/rewards?review=waiting", h.key, "", nil, &queue)
		if len(queue.Data) != 1 || queue.Data[0].ID != r.Rewards[0].ID {
			t.Fatalf("queue %+v", queue)
		}
		var decided parrain.Reward
		if res := h.do("POST", base+"/rewards/"+queue.Data[0].ID+"/review", h.key, "rv1", `{"decision":"approve"}`, &decided); res.StatusCode != 200 ||
			decided.Review != store.ReviewApproved {
			t.Fatalf("review: %d %+v", res.StatusCode, decided)
		}
		var conflict httpx.ErrorBody
		if res := h.do("POST", base+"/rewards/"+queue.Data[0].ID+"/review", h.key, "rv2", `{"decision":"reject","reason":"no"}`, &conflict); res.StatusCode != 409 {
			t.Fatalf("second review: %d", res.StatusCode)
		}
		// A new version by PUT, listed in the versions.
		var v2 parrain.Program
		put := strings.Replace(b2bProgram, `"amount":2500`, `"amount":3000`, 1)
		if res := h.do("PUT", base, h.key, "put-1", put, &v2); res.StatusCode != 200 || v2.Version != 2 {
			t.Fatalf("put: %d %+v", res.StatusCode, v2)
		}
		if res := h.do("PUT", base, h.key, "put-1", put, &v2); res.Header.Get("Idempotent-Replayed") != "true" || v2.Version != 2 {
			t.Fatalf("put replay: %v", res.Header)
		}
		var vs api.List[store.ProgramVersion]
		h.do("GET", base+"/versions", h.key, "", nil, &vs)
		if len(vs.Data) != 2 || vs.Data[1].Program.Rules[0].Advocate.Amount != 2500 {
			t.Fatalf("versions %+v", vs)
		}
		// Dry run and replay.
		var dry referral.DryRunResult
		if res := h.do("POST", base+"/dry-run", h.key, "", map[string]any{"event": map[string]any{"type": "stage", "external_id": "beta",
			"stage": "demo_booked", "referral_code": adv.Code}}, &dry); res.StatusCode != 200 || !dry.DryRun || len(dry.Rewards) != 1 || dry.Rewards[0].Amount != 3000 {
			t.Fatalf("dry run: %d %+v", res.StatusCode, dry)
		}
		if _, err := h.m.Store().Participant(context.Background(), p.ID, "beta"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("dry run wrote a participant: %v", err)
		}
		var rep referral.ReplayReport
		if res := h.do("POST", base+"/replay", h.key, "", `{"program":`+put+`,"days":30}`, &rep); res.StatusCode != 200 || rep.Total.Delta != 500 {
			t.Fatalf("replay: %d %+v", res.StatusCode, rep.Total)
		}
		// Terms: API, public page, acceptance.
		var terms store.Terms
		h.do("GET", base+"/terms", h.key, "", nil, &terms)
		if terms.Version != 2 || terms.ProgramVersion != 2 || !strings.Contains(terms.Markdown, "Closed won") { // the PUT changed an amount
			t.Fatalf("terms %+v", terms)
		}
		res, page := h.get("/terms/"+p.ID, "")
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "<h2>Rewards</h2>") ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(page, "Terms version 2") {
			t.Fatalf("terms page %d %s", res.StatusCode, page)
		}
		if res, _ := h.get("/terms/prog_nope", ""); res.StatusCode != 404 {
			t.Errorf("unknown terms page: %d", res.StatusCode)
		}
		var acc store.TermsAcceptance
		if res := h.do("POST", base+"/participants/partner/terms", h.key, "", `{"version":2}`, &acc); res.StatusCode != 201 || acc.TermsVersion != 2 {
			t.Fatalf("accept: %d %+v", res.StatusCode, acc)
		}
		var accs api.TermsAcceptancesView
		h.do("GET", base+"/participants/partner/terms", h.key, "", nil, &accs)
		if !accs.AcceptedCurrent || accs.CurrentVersion != 2 || len(accs.Data) != 1 {
			t.Fatalf("acceptances %+v", accs)
		}
		// Contests and leaderboards.
		now := h.clock.Now()
		var c parrain.Contest
		body := fmt.Sprintf(`{"name":"Q4","public":true,"starts_at":%q,"ends_at":%q,"prizes":[{"rank":1,"reward":{"kind":"cash","amount":100000}}]}`,
			now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339))
		if res := h.do("POST", base+"/contests", h.key, "", body, &c); res.StatusCode != 201 || c.Status != parrain.ContestRunning {
			t.Fatalf("contest: %d %+v", res.StatusCode, c)
		}
		var lb parrain.Leaderboard
		h.do("GET", base+"/contests/"+c.ID+"/leaderboard", h.key, "", nil, &lb)
		if len(lb.Entries) != 1 || lb.Entries[0].ExternalID != "partner" || lb.Entries[0].Score != 1 {
			t.Fatalf("leaderboard %+v", lb)
		}
		res, raw := h.get("/api/v1/public/contests/"+c.ID+"/leaderboard", "")
		if res.StatusCode != 200 || strings.Contains(raw, "partner") || !strings.Contains(raw, `"display_name": "Pat N."`) {
			t.Fatalf("public leaderboard %d %s", res.StatusCode, raw)
		}
		var cs api.List[parrain.Contest]
		h.do("GET", base+"/contests", h.key, "", nil, &cs)
		if len(cs.Data) != 1 {
			t.Fatalf("contests %+v", cs)
		}
		// Code pools and alerts.
		var pool store.CouponPool
		if res := h.do("POST", base+"/coupon-pools", h.key, "", `{"name":"amazon","low_water":1}`, &pool); res.StatusCode != 201 || pool.ID == "" {
			t.Fatalf("pool: %d", res.StatusCode)
		}
		var imp store.ImportResult
		if res := h.do("POST", base+"/coupon-pools/amazon/codes", h.key, "", `{"codes":["A1","A2","A1"]}`, &imp); res.StatusCode != 201 ||
			imp.Imported != 2 || len(imp.Duplicates) != 1 || imp.Pool.Available != 2 {
			t.Fatalf("import: %d %+v", res.StatusCode, imp)
		}
		var pools api.List[store.CouponPool]
		h.do("GET", base+"/coupon-pools", h.key, "", nil, &pools)
		if len(pools.Data) != 1 || pools.Data[0].Available != 2 {
			t.Fatalf("pools %+v", pools)
		}
		var alerts api.List[store.Alert]
		if res := h.do("GET", base+"/alerts?open=true", h.key, "", nil, &alerts); res.StatusCode != 200 {
			t.Fatalf("alerts %d", res.StatusCode)
		}
		// Program-as-code through the CLI: export, then apply unchanged.
		var out, errOut strings.Builder
		dbArg := "--db=" + url
		if code := CLI([]string{"program", "export", "--program", p.ID, dbArg}, &out, &errOut); code != 0 {
			t.Fatalf("export: %d %s", code, errOut.String())
		}
		var doc parrain.ProgramDocument
		if err := json.Unmarshal([]byte(out.String()), &doc); err != nil || doc.Program.Name != "B2B" || doc.Version != 2 {
			t.Fatalf("exported %v: %s", err, out.String())
		}
		file := t.TempDir() + "/b2b.json"
		doc.Program.Key = "b2b"
		b, _ := json.Marshal(doc)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if code := CLI([]string{"program", "apply", "--program", p.ID, dbArg, file}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "updated") {
			t.Fatalf("apply: %d %q %s", code, out.String(), errOut.String())
		}
		out.Reset()
		if code := CLI([]string{"program", "apply", dbArg, file}, &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "unchanged") {
			t.Fatalf("apply by key: %d %q %s", code, out.String(), errOut.String())
		}
	})
}

func TestDemoRewardEngine(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Demo = true
	h := newHarness(t, cfg)
	st := h.m.Store()
	ctx := context.Background()
	ps, _, err := st.Programs(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]parrain.Program{}
	for _, p := range ps {
		byKey[p.Key] = p
	}
	tiered, b2b := byKey["demo-tiered"], byKey["demo-b2b"]
	if tiered.ID == "" || b2b.ID == "" {
		t.Fatalf("demo programs missing: %d programs", len(ps))
	}
	count := func(q string, args ...any) int {
		var n int
		if err := st.DB().QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The main demo program: personalised rewards and activity-based
	// success; its matured rewards are mostly approved, a few voided as
	// inactive.
	var main parrain.Program
	for _, p := range ps {
		if p.Name == "Acme friends & family" {
			main = p
		}
	}
	if a, on := main.ActivityRule(); !on || a.EventType != parrain.EventActivity {
		t.Fatalf("demo program without the activity requirement: %+v", main.Activity)
	}
	if n := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND rule_id = 'welcome' AND amount IN (3000, 1500)`, main.ID); n == 0 {
		t.Error("no personalised reward (VIP advocate or German-speaking friend)")
	}
	rows, err := st.DB().Query(`SELECT id FROM rewards WHERE program_id = $1 AND status = 'pending' AND hold_until <= $2`, main.ID, st.Clock().Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	var due []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		due = append(due, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range due {
		if _, _, err := st.ApproveReward(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	approved := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND status = 'approved'`, main.ID)
	inactive := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND void_reason = 'inactive'`, main.ID)
	if approved == 0 || inactive == 0 || inactive >= approved {
		t.Errorf("demo maturation: %d approved, %d voided as inactive", approved, inactive)
	}
	// Tiered: some rewards at the higher tier and milestone bonuses.
	if n := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND rule_id = 'referral' AND amount = 2000`, tiered.ID); n == 0 {
		t.Error("no reward at the second tier")
	}
	if n := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND rule_id = 'fifth'`, tiered.ID); n == 0 {
		t.Error("no milestone bonus")
	}
	// B2B: every stage rewarded, true-ups both ways, gift cards.
	for _, rule := range []string{"demo_booked", "demo_completed", "closed_won", "first_deal"} {
		if n := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND rule_id = $2`, b2b.ID, rule); n == 0 {
			t.Errorf("no %s reward", rule)
		}
	}
	if n := count(`SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND trigger_type = 'contract'`, b2b.ID); n != 1 {
		t.Errorf("%d positive true-ups, want 1 (Northwind)", n)
	}
	if n := count(`SELECT COUNT(*) FROM ledger_entries l JOIN rewards r ON r.id = l.reward_id WHERE r.program_id = $1 AND l.type = 'reversal'`, b2b.ID); n == 0 {
		t.Error("no true-down (Umbrella)")
	}
	// A running public contest with a leaderboard.
	cs, err := h.m.ref.Contests(ctx, tiered.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Status != parrain.ContestRunning || !cs[0].Public {
		t.Fatalf("contest %+v", cs)
	}
	res, raw := h.get("/api/v1/public/contests/"+cs[0].ID+"/leaderboard", "")
	if res.StatusCode != 200 || !strings.Contains(raw, "Maya D.") {
		t.Errorf("public leaderboard %d %s", res.StatusCode, raw)
	}
	// Jobs deliver what is due: gift cards get codes.
	for range 20 {
		if n, err := h.m.runner.RunOnce(ctx); err != nil || n == 0 {
			break
		}
	}
	if n := count(`SELECT COUNT(*) FROM reward_fulfilments WHERE program_id = $1 AND code LIKE 'GIFT25-DEMO-%'`, b2b.ID); n == 0 {
		t.Error("no gift card code delivered")
	}
}
