package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// harness is a real Main served by httptest, with an all-scopes API key.
type harness struct {
	t     *testing.T
	m     *Main
	srv   *httptest.Server
	key   string
	clock *parrain.FakeClock
}

func testConfig(dbURL string) Config {
	return Config{Addr: "127.0.0.1:0", DatabaseURL: dbURL, BaseURL: "http://parrain.test", FallbackURL: "https://fallback.example/",
		JobInterval: 10 * time.Millisecond, PublicRate: 1000, PublicBurst: 1000, ShutdownGrace: time.Second,
		SecretKeys: SecretKeyConfig{Key: dbtest.TestKey}}
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := New(context.Background(), cfg, log, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	key, _, err := access.New(m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "test", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, m: m, srv: srv, key: key, clock: clock}
}

// do sends a request and decodes a JSON answer into out (if non-nil).
func (h *harness) do(method, path, key, idem string, body any, out any) *http.Response {
	h.t.Helper()
	res, data := h.raw(method, path, key, idem, body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: decoding %q: %v", method, path, data, err)
		}
	}
	return res
}

func (h *harness) program() parrain.Program {
	var p parrain.Program
	res := h.do("POST", "/api/v1/programs", h.key, "", map[string]any{"name": "P", "landing_url": "https://shop.example/join?x=1", "currency": "EUR", "hold_days": 0,
		"rules": []map[string]any{{"trigger": "first_purchase", "advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 1500}}}}, &p)
	if res.StatusCode != 201 {
		h.t.Fatalf("create program: %d", res.StatusCode)
	}
	return p
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	var inDoc, inRoutes []string
	for path, ops := range doc.Paths {
		for method := range ops {
			inDoc = append(inDoc, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range h.m.Routes {
		inRoutes = append(inRoutes, r.Pattern)
	}
	sort.Strings(inDoc)
	sort.Strings(inRoutes)
	if strings.Join(inDoc, "\n") != strings.Join(inRoutes, "\n") {
		t.Errorf("OpenAPI paths and routes differ:\ndoc:\n%s\nroutes:\n%s", strings.Join(inDoc, "\n"), strings.Join(inRoutes, "\n"))
	}
	res := h.do("GET", "/api/v1/openapi.json", "", "", nil, &doc)
	if res.StatusCode != 200 || len(doc.Paths) == 0 {
		t.Errorf("served document: %d", res.StatusCode)
	}
}

func TestAPIErrors(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	p := h.program()
	ctx := context.Background()
	readOnly, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "ro", []string{store.ScopeRead}, "")
	other := h.program()
	scoped, _, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "scoped", nil, other.ID)
	revoked, k, _ := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "revoked", nil, "")
	_ = access.New(h.m.Store(), nil, access.Config{}).RevokeAPIKey(ctx, k.ID)
	ev := "/api/v1/programs/" + p.ID + "/events"
	cases := []struct {
		name, method, path, key, idem string
		body                          any
		status                        int
		code                          parrain.Code
		field                         string
	}{
		{"no key", "GET", "/api/v1/programs", "", "", nil, 401, parrain.CodeUnauthenticated, ""},
		{"bad key", "GET", "/api/v1/programs", "prn_nope", "", nil, 401, parrain.CodeUnauthenticated, ""},
		{"revoked key", "GET", "/api/v1/programs", revoked, "", nil, 401, parrain.CodeUnauthenticated, ""},
		{"missing scope", "POST", ev, readOnly, "k", `{"type":"signup","external_id":"x"}`, 403, parrain.CodeForbidden, ""},
		{"other program", "GET", "/api/v1/programs/" + p.ID, scoped, "", nil, 404, parrain.CodeNotFound, ""},
		{"other program events", "POST", ev, scoped, "k", `{"type":"signup","external_id":"x"}`, 404, parrain.CodeNotFound, ""},
		{"scoped key creates program", "POST", "/api/v1/programs", scoped, "", `{"name":"x","landing_url":"https://x.example","currency":"EUR"}`, 403, parrain.CodeForbidden, ""},
		{"unknown program", "GET", "/api/v1/programs/prog_nope", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"malformed json", "POST", "/api/v1/programs", h.key, "", `{"name":`, 400, parrain.CodeInvalid, "body"},
		{"empty body", "POST", "/api/v1/programs", h.key, "", ``, 400, parrain.CodeInvalid, "body"},
		{"unknown field", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"https://x.example","currency":"EUR","colour":"red"}`, 400, parrain.CodeInvalid, "colour"},
		{"wrong type", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"https://x.example","currency":"EUR","hold_days":"ten"}`, 400, parrain.CodeInvalid, "hold_days"},
		{"float amount", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"https://x.example","currency":"EUR","rules":[{"trigger":"signup","advocate":{"kind":"cash","type":"fixed","amount":9.99}}]}`, 400, parrain.CodeInvalid, "rules.advocate.amount"},
		{"bad currency", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"https://x.example","currency":"EURO"}`, 400, parrain.CodeInvalid, "currency"},
		{"bad landing", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"javascript:alert(1)","currency":"EUR"}`, 400, parrain.CodeInvalid, "landing_url"},
		{"bad rule", "POST", "/api/v1/programs", h.key, "", `{"name":"x","landing_url":"https://x.example","currency":"EUR","rules":[{"trigger":"signup","advocate":{"kind":"cash","type":"percent","percent_bps":100}}]}`, 400, parrain.CodeInvalid, "rules[0].advocate.type"},
		{"client sets id", "POST", "/api/v1/programs", h.key, "", `{"id":"prog_x","name":"x","landing_url":"https://x.example","currency":"EUR"}`, 400, parrain.CodeInvalid, "id"},
		{"no idempotency key", "POST", ev, h.key, "", `{"type":"signup","external_id":"x"}`, 400, parrain.CodeInvalid, "Idempotency-Key"},
		{"bad idempotency key", "POST", ev, h.key, "a b", `{"type":"signup","external_id":"x"}`, 400, parrain.CodeInvalid, "Idempotency-Key"},
		{"event type", "POST", ev, h.key, "k1", `{"type":"visit"}`, 400, parrain.CodeInvalid, "type"},
		{"purchase amount", "POST", ev, h.key, "k2", `{"type":"purchase","external_id":"x","order_id":"o","amount":-5,"currency":"EUR"}`, 400, parrain.CodeInvalid, "amount"},
		{"purchase currency", "POST", ev, h.key, "k3", `{"type":"purchase","external_id":"x","order_id":"o","amount":5,"currency":"XXX"}`, 400, parrain.CodeInvalid, "currency"},
		{"refund unknown order", "POST", ev, h.key, "k4", `{"type":"refund","order_id":"nope","amount":5}`, 404, parrain.CodeNotFound, "order_id"},
		{"bad email", "PUT", "/api/v1/programs/" + p.ID + "/participants/u1", h.key, "", `{"email":"not-an-email"}`, 400, parrain.CodeInvalid, "email"},
		{"bad vanity", "PUT", "/api/v1/programs/" + p.ID + "/participants/u1", h.key, "", `{"code":"a b"}`, 400, parrain.CodeInvalid, "code"},
		{"bad status filter", "GET", "/api/v1/programs/" + p.ID + "/referrals?status=won", h.key, "", nil, 400, parrain.CodeInvalid, "status"},
		{"bad limit", "GET", "/api/v1/programs/" + p.ID + "/referrals?limit=0", h.key, "", nil, 400, parrain.CodeInvalid, "limit"},
		{"unknown participant", "GET", "/api/v1/programs/" + p.ID + "/participants/ghost", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"unknown api route", "GET", "/api/v1/nothing", h.key, "", nil, 404, parrain.CodeNotFound, ""},
		{"too large", "POST", "/api/v1/programs", h.key, "", `{"name":"` + strings.Repeat("x", api.MaxBody) + `"}`, 413, parrain.CodeTooLarge, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body httpx.ErrorBody
			res := h.do(c.method, c.path, c.key, c.idem, c.body, &body)
			if res.StatusCode != c.status || body.Error.Code != c.code || body.Error.Field != c.field || body.Error.Message == "" {
				t.Errorf("got %d %+v, want %d %s field %q", res.StatusCode, body.Error, c.status, c.code, c.field)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
		})
	}
	// A wrong method gets 405 with Allow.
	res := h.do("DELETE", "/api/v1/programs", h.key, "", nil, nil)
	if res.StatusCode != 405 || res.Header.Get("Allow") == "" {
		t.Errorf("DELETE: %d allow=%q", res.StatusCode, res.Header.Get("Allow"))
	}
	// Nothing half-written: the failed writes above created no program,
	// participant or event.
	var n int
	if err := h.m.Store().DB().QueryRow(`SELECT (SELECT COUNT(*) FROM programs) + (SELECT COUNT(*) FROM participants) + (SELECT COUNT(*) FROM events)`).Scan(&n); err != nil {
		t.Fatalf("query: %v", err)
	}
	if n != 2 {
		t.Errorf("rows after failed writes: %d, want 2 programs only", n)
	}
}

func TestRedirectAndClicks(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	p := h.program()
	var adv api.ParticipantView
	h.do("PUT", "/api/v1/programs/"+p.ID+"/participants/alice", h.key, "", `{"email":"alice@example.com"}`, &adv)
	if adv.Link != "http://parrain.test/r/"+adv.Code {
		t.Fatalf("link %q", adv.Link)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path, ua string, hdr map[string]string, cookie *http.Cookie) *http.Response {
		req, _ := http.NewRequest(method, h.srv.URL+path, nil)
		req.Header.Set("User-Agent", ua)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	browser := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130 Safari/537.36"
	res := get("GET", "/r/"+strings.ToLower(adv.Code), browser, nil, nil)
	if res.StatusCode != 302 || res.Header.Get("Location") != "https://shop.example/join?ref="+adv.Code+"&x=1" {
		t.Fatalf("redirect %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "parrain_ref" {
			cookie = c
		}
	}
	if cookie == nil || cookie.MaxAge != 30*24*3600 || !strings.HasPrefix(cookie.Value, adv.Code+".") {
		t.Fatalf("cookie %+v", cookie)
	}
	// A second click keeps both touches in the cookie.
	res = get("GET", "/r/"+adv.Code, browser, nil, cookie)
	for _, c := range res.Cookies() {
		if c.Name == "parrain_ref" && strings.Count(c.Value, "~") != 1 {
			t.Errorf("cookie after second click %q", c.Value)
		}
	}
	// Not counted: HEAD, bots, link previews, prefetch.
	get("HEAD", "/r/"+adv.Code, browser, nil, nil)
	get("GET", "/r/"+adv.Code, "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", nil, nil)
	get("GET", "/r/"+adv.Code, "facebookexternalhit/1.1", nil, nil)
	get("GET", "/r/"+adv.Code, browser, map[string]string{"Sec-Purpose": "prefetch"}, nil)
	// Unknown code: lands on a landing page, no ref, counted invalid.
	res = get("GET", "/r/ZZZZ999", browser, nil, nil)
	if res.StatusCode != 302 || strings.Contains(res.Header.Get("Location"), "ref=") || len(res.Cookies()) != 0 {
		t.Errorf("unknown code: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res = get("GET", "/r/%3Cscript%3E", browser, nil, nil)
	if res.StatusCode != 302 {
		t.Errorf("junk code: %d", res.StatusCode)
	}
	// Disabled advocate: lands without credit.
	h.do("PUT", "/api/v1/programs/"+p.ID+"/participants/bob", h.key, "", `{"status":"disabled","code":"BOBBY"}`, nil)
	res = get("GET", "/r/bobby", browser, nil, nil)
	if res.StatusCode != 302 || res.Header.Get("Location") != "https://shop.example/join?x=1" {
		t.Errorf("disabled code: %q", res.Header.Get("Location"))
	}
	// Clicks are written in the background; wait for the batch.
	deadline := time.Now().Add(5 * time.Second)
	var valid, invalid int64
	for time.Now().Before(deadline) {
		valid, invalid, _ = h.m.Store().ClickCounts(context.Background())
		if valid+invalid >= 5 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if valid != 2 || invalid != 3 {
		t.Errorf("clicks valid=%d invalid=%d, want 2 and 3", valid, invalid)
	}
	var got api.ParticipantView
	h.do("GET", "/api/v1/programs/"+p.ID+"/participants/alice", h.key, "", nil, &got)
	if got.Stats == nil || got.Stats.Clicks != 2 {
		t.Errorf("advocate stats %+v", got.Stats)
	}
}

func TestPublicRateLimit(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.PublicRate, cfg.PublicBurst = 0.001, 3
	h := newHarness(t, cfg)
	codes := []int{}
	for range 5 {
		res := h.do("GET", "/healthz", "", "", nil, nil)
		codes = append(codes, res.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 429 429]" {
		t.Errorf("statuses %v", codes)
	}
}

func TestHoldApprovalByJob(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		h := newHarness(t, testConfig(url))
		var p parrain.Program
		h.do("POST", "/api/v1/programs", h.key, "", `{"name":"Hold","landing_url":"https://x.example","currency":"JPY","hold_days":30,
			"rules":[{"trigger":"first_purchase","advocate":{"kind":"cash","type":"percent","percent_bps":1250}}]}`, &p)
		var adv api.ParticipantView
		h.do("PUT", "/api/v1/programs/"+p.ID+"/participants/a", h.key, "", nil, &adv)
		var r struct {
			Rewards []parrain.Reward `json:"rewards"`
		}
		h.do("POST", "/api/v1/programs/"+p.ID+"/events", h.key, "e1", map[string]any{"type": "purchase", "external_id": "f", "referral_code": adv.Code,
			"order_id": "o1", "amount": 1234, "currency": "JPY"}, &r)
		if len(r.Rewards) != 1 || r.Rewards[0].Amount != 154 { // 12.5% of ¥1234 = 154.25 → 154
			t.Fatalf("rewards %+v", r.Rewards)
		}
		runner := h.m.runner
		drain := func() {
			for range 10 {
				if n, err := runner.RunOnce(context.Background()); err != nil || n == 0 {
					return
				}
			}
		}
		drain() // other jobs (notifications, webhooks) may run; the reward must not mature
		var pending api.List[parrain.Reward]
		h.do("GET", "/api/v1/programs/"+p.ID+"/participants/a/rewards?status=pending", h.key, "", nil, &pending)
		if len(pending.Data) != 1 {
			t.Fatalf("before the hold: %+v", pending.Data)
		}
		h.clock.Advance(30*24*time.Hour + time.Second)
		drain()
		var list api.List[parrain.Reward]
		h.do("GET", "/api/v1/programs/"+p.ID+"/participants/a/rewards?status=approved", h.key, "", nil, &list)
		if len(list.Data) != 1 || list.Data[0].ApprovedAt == nil {
			t.Fatalf("approved rewards %+v", list.Data)
		}
		var view api.RewardView
		h.do("GET", "/api/v1/programs/"+p.ID+"/rewards/"+list.Data[0].ID, h.key, "", nil, &view)
		if len(view.Ledger) != 3 || !strings.Contains(view.Explanation, "12.5% of 1234 JPY") {
			t.Fatalf("reward view %+v", view)
		}
	})
}

func TestFraudReviewAPI(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	p := h.program()
	var adv api.ParticipantView
	h.do("PUT", "/api/v1/programs/"+p.ID+"/participants/anna", h.key, "", `{"email":"anna@company.example","context":{"device_id":"dev-1","ip":"203.0.113.9"}}`, &adv)
	var res struct {
		Referral parrain.Referral `json:"referral"`
	}
	h.do("POST", "/api/v1/programs/"+p.ID+"/events", h.key, "s1", map[string]any{"type": "signup", "external_id": "f1", "email": "f1@mailinator.com",
		"referral_code": adv.Code, "context": map[string]any{"ip": "198.51.100.4"}}, &res)
	if res.Referral.ReviewStatus != "held" || res.Referral.RiskScore != 50 {
		t.Fatalf("held referral: %+v", res.Referral)
	}
	var bad httpx.ErrorBody
	if r := h.do("POST", "/api/v1/programs/"+p.ID+"/events", h.key, "s2", `{"type":"signup","external_id":"f2","context":{"ip":"999.1.1.1"}}`, &bad); r.StatusCode != 400 || bad.Error.Field != "context.ip" {
		t.Errorf("bad context ip: %d %+v", r.StatusCode, bad)
	}
	var queue struct {
		Data []struct {
			Referral parrain.Referral `json:"referral"`
			Signals  []struct {
				Code string `json:"code"`
			} `json:"signals"`
			Advocate struct {
				Traits map[string][]string `json:"traits"`
			} `json:"advocate"`
		} `json:"data"`
	}
	h.do("GET", "/api/v1/programs/"+p.ID+"/reviews", h.key, "", nil, &queue)
	if len(queue.Data) != 1 || queue.Data[0].Signals[0].Code != "id.disposable_email" || queue.Data[0].Advocate.Traits["device"][0] != "dev-1" {
		t.Fatalf("queue %+v", queue)
	}
	var ref parrain.Referral
	if r := h.do("POST", "/api/v1/programs/"+p.ID+"/referrals/"+res.Referral.ID+"/review", h.key, "", `{"decision":"clear"}`, &ref); r.StatusCode != 200 || ref.ReviewStatus != "cleared" {
		t.Fatalf("clear: %d %+v", r.StatusCode, ref)
	}
	if r := h.do("POST", "/api/v1/programs/"+p.ID+"/referrals/"+res.Referral.ID+"/review", h.key, "", `{"decision":"maybe"}`, &bad); r.StatusCode != 400 || bad.Error.Field != "decision" {
		t.Errorf("bad decision: %d %+v", r.StatusCode, bad)
	}
	if r := h.do("PUT", "/api/v1/programs/"+p.ID+"/fraud/policy", h.key, "", `{"flag_at":10,"hold_at":5,"reject_at":80}`, &bad); r.StatusCode != 400 || bad.Error.Field != "flag_at" {
		t.Errorf("bad policy: %d %+v", r.StatusCode, bad)
	}
	var pol map[string]any
	if r := h.do("PUT", "/api/v1/programs/"+p.ID+"/fraud/policy", h.key, "", `{"flag_at":20,"hold_at":40,"reject_at":80,"review_window_hours":24,"lists":{"blocked_domains":["evil.example"]}}`, &pol); r.StatusCode != 200 || pol["hold_at"].(float64) != 40 {
		t.Fatalf("set policy: %d %v", r.StatusCode, pol)
	}
	h.do("POST", "/api/v1/programs/"+p.ID+"/events", h.key, "s3", map[string]any{"type": "signup", "external_id": "f3", "email": "x@evil.example", "referral_code": adv.Code}, &res)
	if res.Referral.Status != "rejected" || res.Referral.Reason != "fraud" {
		t.Errorf("blocked domain: %+v", res.Referral)
	}
	var stats struct {
		Data []struct {
			Code    string `json:"code"`
			Fired   int    `json:"fired"`
			Cleared int    `json:"cleared_by_reviewers"`
		} `json:"data"`
	}
	h.do("GET", "/api/v1/programs/"+p.ID+"/fraud/stats", h.key, "", nil, &stats)
	found := false
	for _, s := range stats.Data {
		if s.Code == "id.disposable_email" && s.Fired == 1 && s.Cleared == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("stats %+v", stats.Data)
	}
	var cat struct {
		Data []map[string]any `json:"data"`
	}
	h.do("GET", "/api/v1/fraud/signals", h.key, "", nil, &cat)
	if len(cat.Data) < 30 {
		t.Errorf("catalogue has %d signals", len(cat.Data))
	}
}

// raw sends a request like do and returns the answer's body.
func (h *harness) raw(method, path, key, idem string, body any) (*http.Response, []byte) {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}
