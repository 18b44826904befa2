package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// The hardening of issue 13 (docs/security.md), each defence through the
// real handler.

// syncBuffer collects the server's log lines across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLoggedHarness is newHarness with the server's log kept, so that a
// test can check that nothing was logged as an internal error.
func newLoggedHarness(t *testing.T, cfg Config) (*harness, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	m, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	key, _, err := access.New(m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "test", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, m: m, srv: srv, key: key, clock: clock}, logs
}

// send sends a request with the given headers; a nil body with a length
// of -1 would be chunked, so bodies are readers.
func (h *harness) send(method, path string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

// chunked hides a body's length, so that only reading it finds its size.
type chunked struct{ io.Reader }

func TestBodiesAreCapped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		h, logs := newLoggedHarness(t, testConfig(url))
		big := func(n int) string { return "email=" + strings.Repeat("x", n) + "&password=x" }
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		cases := []struct {
			name, method, path string
			body               io.Reader
			hdr                map[string]string
			status             int
			json               bool
		}{
			{"portal sign-in, 10 MiB", "POST", "/partners/acme/login", strings.NewReader(big(10 << 20)), form, 413, false},
			{"portal sign-in, over 64 KiB, streamed", "POST", "/partners/acme/login", chunked{strings.NewReader(big(70 << 10))}, form, 413, false},
			{"console sign-in, over 64 KiB", "POST", "/admin/login", strings.NewReader(big(70 << 10)), form, 413, false},
			{"landing consent form, over 64 KiB", "POST", "/r/ABC", strings.NewReader(big(70 << 10)), form, 413, false},
			{"API, over 1 MiB", "POST", "/api/v1/programs", strings.NewReader(`{"name":"` + strings.Repeat("x", 1<<20) + `"}`), map[string]string{"Authorization": "Bearer " + h.key}, 413, true},
			{"API, over 1 MiB, streamed", "POST", "/api/v1/programs", chunked{strings.NewReader(`{"name":"` + strings.Repeat("x", 1<<20) + `"}`)}, map[string]string{"Authorization": "Bearer " + h.key}, 413, true},
			{"widget API, over 1 MiB, unauthenticated", "POST", "/api/v1/widget/lookup", strings.NewReader(strings.Repeat("x", 2<<20)), nil, 413, true},
			// Webhooks have a larger cap (4 MiB): 2 MiB passes the edge and
			// reaches the handler (which says Stripe is not configured).
			{"stripe webhook, 2 MiB", "POST", "/webhooks/stripe", strings.NewReader(strings.Repeat("x", 2<<20)), nil, 404, true},
			{"stripe webhook, over 4 MiB", "POST", "/webhooks/stripe", strings.NewReader(strings.Repeat("x", 5<<20)), nil, 413, true},
		}
		for _, c := range cases {
			res, data := h.send(c.method, c.path, c.body, c.hdr)
			if res.StatusCode != c.status {
				t.Errorf("%s: %d, want %d: %.200s", c.name, res.StatusCode, c.status, data)
				continue
			}
			if c.json {
				var eb httpx.ErrorBody
				if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Message == "" ||
					(c.status == 413 && eb.Error.Code != parrain.CodeTooLarge) {
					t.Errorf("%s: body %.200s (%v)", c.name, data, err)
				}
			} else if !strings.Contains(string(data), "exceeds") {
				t.Errorf("%s: body %.200s", c.name, data)
			}
		}
		if strings.Contains(logs.String(), "internal error") {
			t.Errorf("internal errors logged:\n%s", logs)
		}
	})
}

// Every route listed with a larger body cap is a registered route (a
// renamed route would silently fall back to 1 MiB).
func TestBodyCapsNameRoutes(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	registered := map[string]bool{}
	for _, r := range append(append(append([]Route{}, h.m.Routes...), h.m.AdminRoutes...), h.m.PortalRoutes...) {
		registered[r.Pattern] = true
	}
	for p := range bodyCaps {
		if !registered[p] {
			t.Errorf("bodyCaps names %q, which is not a route", p)
		}
	}
}

func TestUnstorableTextIsRefusedAtTheEdge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		h, logs := newLoggedHarness(t, testConfig(dbURL))
		p := h.program()
		auth := map[string]string{"Authorization": "Bearer " + h.key}
		jsonAuth := map[string]string{"Authorization": "Bearer " + h.key, "Content-Type": "application/json"}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		base := "/api/v1/programs/" + p.ID
		cases := []struct {
			name, method, path, body string
			hdr                      map[string]string
			field                    string // JSON error field; "" for plain-text answers
			text                     string // plain answers: the text
		}{
			{"NUL in a path value", "GET", base + "/participants/a%00b", "", auth, "external_id", ""},
			{"invalid UTF-8 in a path value", "PUT", base + "/participants/caf%E9", `{"email":"a@example.com"}`, jsonAuth, "external_id", ""},
			{"NUL in the program id", "GET", "/api/v1/programs/prog%00", "", auth, "program_id", ""},
			{"NUL in a query value", "GET", base + "/referrals?cursor=%00", "", auth, "cursor", ""},
			{"invalid UTF-8 in a query value", "GET", "/api/v1/audit-log?action=%FF", "", auth, "action", ""},
			{"NUL in a JSON string", "PUT", base + "/participants/u1", `{"name":"Ann\u0000"}`, jsonAuth, "name", ""},
			{"invalid UTF-8 in a JSON string", "PUT", base + "/participants/u1", "{\"name\":\"Ann\xff\"}", jsonAuth, "name", ""},
			{"NUL in an event", "POST", base + "/events", `{"type":"signup","external_id":"u\u00002"}`, map[string]string{"Authorization": "Bearer " + h.key, "Idempotency-Key": "nul-1"}, "external_id", ""},
			{"unauthenticated: widget lookup", "POST", "/api/v1/widget/lookup", `{"program_id":"` + p.ID + `","query":"A\u0000"}`, nil, "query", ""},
			{"unauthenticated: redirect code", "GET", "/r/AB%00C", "", nil, "", "code: must not contain NUL characters"},
			{"unauthenticated: portal sign-in", "POST", "/partners/acme/login", "email=a%00%40x.example&password=x", form, "", "email: must not contain NUL characters"},
			{"unauthenticated: console sign-in", "POST", "/admin/login", "email=%FF%40x.example&password=x", form, "", "email: must be valid UTF-8 text"},
			{"unauthenticated: unsubscribe token", "GET", "/u/t%00k", "", nil, "", "token: must not contain NUL characters"},
		}
		for _, c := range cases {
			res, data := h.send(c.method, c.path, strings.NewReader(c.body), c.hdr)
			if res.StatusCode != 400 {
				t.Errorf("%s: %d, want 400: %.300s", c.name, res.StatusCode, data)
				continue
			}
			if c.field == "" {
				if !strings.Contains(string(data), c.text) {
					t.Errorf("%s: %q, want %q", c.name, data, c.text)
				}
				continue
			}
			var eb httpx.ErrorBody
			if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Code != parrain.CodeInvalid || eb.Error.Field != c.field {
				t.Errorf("%s: %.300s, want invalid_argument on %q (%v)", c.name, data, c.field, err)
			}
		}
		if strings.Contains(logs.String(), "internal error") || strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", logs)
		}
		var n int
		if err := h.m.Store().DB().QueryRow(`SELECT COUNT(*) FROM participants`).Scan(&n); err != nil || n != 0 {
			t.Errorf("participants written: %d, %v", n, err)
		}
	})
}

// A signed Stripe delivery with invalid UTF-8 is acknowledged (200,
// ignored), not a 500 Stripe would retry for days.
func TestSignedStripeDeliveryWithInvalidUTF8(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		cfg := testConfig(dbURL)
		cfg.Integrations.StripeWebhookSecret = "whsec_test"
		h, logs := newLoggedHarness(t, cfg)
		h.program()
		body := "{\"id\":\"evt_1\",\"object\":\"event\",\"type\":\"invoice.paid\",\"created\":1762000000,\"data\":{\"object\":{\"id\":\"in_1\",\"object\":\"invoice\",\"customer\":\"cus_1\",\"customer_email\":\"caf\xe9@example.com\",\"amount_paid\":5000,\"currency\":\"eur\",\"metadata\":{}}}}"
		for i := range 2 {
			sig := stripehook.Sign([]byte(body), "whsec_test", h.clock.Now())
			res, data := h.send("POST", "/webhooks/stripe", strings.NewReader(body), map[string]string{"Stripe-Signature": sig})
			var out struct{ Status, Detail string }
			if err := json.Unmarshal(data, &out); err != nil || res.StatusCode != 200 {
				t.Fatalf("delivery %d: %d %s", i, res.StatusCode, data)
			}
			want := map[int]string{0: store.InboundIgnored, 1: "duplicate"}[i]
			if out.Status != want {
				t.Errorf("delivery %d: %+v, want %s", i, out, want)
			}
		}
		if strings.Contains(logs.String(), "internal error") {
			t.Errorf("internal errors logged:\n%s", logs)
		}
	})
}

func TestStrictJSONThroughTheAPI(t *testing.T) {
	h := newHarness(t, testConfig(dbtest.URL(t, "sqlite")))
	cases := []struct{ name, body, field, msg string }{
		{"duplicate key", `{"name":"A","landing_url":"https://a.example","currency":"EUR","name":"B"}`, "name", "is given more than once"},
		{"duplicate nested key", `{"name":"A","landing_url":"https://a.example","currency":"EUR","rules":[{"trigger":"signup","trigger":"first_purchase"}]}`, "rules[0].trigger", "is given more than once"},
		{"trailing data", `{"name":"A","landing_url":"https://a.example","currency":"EUR"} {"name":"B"}`, "body", "unexpected data"},
		{"trailing bracket", `{"name":"A","landing_url":"https://a.example","currency":"EUR"}]`, "body", "unexpected data"},
		{"null body", `null`, "body", "not null"},
	}
	for _, c := range cases {
		var eb httpx.ErrorBody
		res := h.do("POST", "/api/v1/programs", h.key, "", c.body, &eb)
		if res.StatusCode != 400 || eb.Error.Field != c.field || !strings.Contains(eb.Error.Message, c.msg) {
			t.Errorf("%s: %d %+v", c.name, res.StatusCode, eb.Error)
		}
	}
	var n int
	if err := h.m.Store().DB().QueryRow(`SELECT COUNT(*) FROM programs`).Scan(&n); err != nil || n != 0 {
		t.Errorf("programs created: %d, %v", n, err)
	}
}

func TestTrustedProxiesThroughTheLimiter(t *testing.T) {
	cases := []struct {
		name    string
		trusted string
		alias   bool
		xffs    []string // one request each
		want429 int      // the request (index) first refused, -1 none
	}{
		// The test server's peer is 127.0.0.1.
		{"trusted: spoofed left entries do not make new clients", "127.0.0.1/32", false,
			[]string{"1.1.1.1, 198.51.100.7", "2.2.2.2, 198.51.100.7", "3.3.3.3, 198.51.100.7"}, 2},
		{"trusted: two real clients have two buckets", "127.0.0.0/8", false,
			[]string{"198.51.100.7", "198.51.100.8", "198.51.100.9"}, -1},
		{"alias trusts loopback", "", true,
			[]string{"198.51.100.7", "198.51.100.8", "198.51.100.9"}, -1},
		{"untrusted: the header changes nothing", "10.0.0.0/8", false,
			[]string{"198.51.100.7", "198.51.100.8", "198.51.100.9"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(dbtest.URL(t, "sqlite"))
			cfg.PublicRate, cfg.PublicBurst = 0.001, 2
			var err error
			if cfg.TrustedProxies, err = httpx.ParseProxies(c.trusted); err != nil {
				t.Fatal(err)
			}
			cfg.TrustProxy = c.alias
			h := newHarness(t, cfg)
			first := -1
			for i, xff := range c.xffs {
				res, _ := h.send("GET", "/healthz", nil, map[string]string{"X-Forwarded-For": xff})
				if res.StatusCode == 429 && first < 0 {
					first = i
				}
			}
			if first != c.want429 {
				t.Errorf("first refused request %d, want %d", first, c.want429)
			}
		})
	}
}

func TestHSTSWhenTheBaseURLIsHTTPS(t *testing.T) {
	for _, base := range []string{"https://refer.example.com", "http://parrain.test"} {
		cfg := testConfig(dbtest.URL(t, "sqlite"))
		cfg.BaseURL = base
		h := newHarness(t, cfg)
		for _, path := range []string{"/healthz", "/admin/login", "/api/v1/programs"} {
			res, _ := h.send("GET", path, nil, nil)
			got := res.Header.Get("Strict-Transport-Security")
			want := ""
			if strings.HasPrefix(base, "https://") {
				want = "max-age=63072000; includeSubDomains"
			}
			if got != want {
				t.Errorf("%s %s: Strict-Transport-Security %q, want %q", base, path, got, want)
			}
		}
	}
}

func TestAPIRateLimitPerKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		cfg := testConfig(dbURL)
		cfg.APIRateLimit = 3
		h := newHarness(t, cfg)
		ctx := context.Background()
		other, _, err := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(ctx, "other", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		own, ownKey, err := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKeyWith(ctx, store.NewAPIKey{Name: "bulk", RateLimit: 5})
		if err != nil {
			t.Fatal(err)
		}
		get := func(key string) *http.Response {
			res, _ := h.send("GET", "/api/v1/programs", nil, map[string]string{"Authorization": "Bearer " + key})
			return res
		}
		for i := range 3 {
			res := get(h.key)
			if res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "3" || res.Header.Get("RateLimit-Remaining") != fmt.Sprint(2-i) ||
				res.Header.Get("RateLimit-Reset") == "" || res.Header.Get("Retry-After") != "" {
				t.Fatalf("request %d: %d %v", i, res.StatusCode, res.Header)
			}
		}
		var eb httpx.ErrorBody
		res, data := h.send("GET", "/api/v1/programs", nil, map[string]string{"Authorization": "Bearer " + h.key})
		if err := json.Unmarshal(data, &eb); err != nil || res.StatusCode != 429 || eb.Error.Code != parrain.CodeRateLimited ||
			res.Header.Get("Retry-After") != "20" || res.Header.Get("RateLimit-Remaining") != "0" || res.Header.Get("RateLimit-Reset") != "60" {
			t.Fatalf("over the limit: %d %v %s", res.StatusCode, res.Header, data)
		}
		// Writes count too, and the refusal comes before anything is done.
		res, _ = h.send("POST", "/api/v1/programs", strings.NewReader(`{"name":"x","landing_url":"https://x.example","currency":"EUR"}`),
			map[string]string{"Authorization": "Bearer " + h.key})
		if res.StatusCode != 429 {
			t.Errorf("write over the limit: %d", res.StatusCode)
		}
		// Another key has its own bucket.
		if res := get(other); res.StatusCode != 200 || res.Header.Get("RateLimit-Remaining") != "2" {
			t.Errorf("other key: %d %v", res.StatusCode, res.Header)
		}
		// A key's own limit replaces the default, and a change applies on
		// its next request.
		for i := range 5 {
			if res := get(own); res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "5" {
				t.Fatalf("own limit, request %d: %d %v", i, res.StatusCode, res.Header)
			}
		}
		if res := get(own); res.StatusCode != 429 {
			t.Errorf("own limit exceeded: %d", res.StatusCode)
		}
		if err := access.New(h.m.Store(), nil, access.Config{}).SetAPIKeyRateLimit(ctx, ownKey.ID, 100); err != nil {
			t.Fatal(err)
		}
		if res := get(own); res.StatusCode != 200 || res.Header.Get("RateLimit-Limit") != "100" {
			t.Errorf("raised limit: %d %v", res.StatusCode, res.Header)
		}
		var n int
		if err := h.m.Store().DB().QueryRow(`SELECT COUNT(*) FROM programs`).Scan(&n); err != nil || n != 0 {
			t.Errorf("programs: %d %v", n, err)
		}
	})
}

// The public endpoints send the same headers from their per-IP limiter.
func TestPublicRateLimitHeaders(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.PublicRate, cfg.PublicBurst = 1, 3
	h := newHarness(t, cfg)
	p := h.program()
	var adv struct{ Code string }
	h.do("PUT", "/api/v1/programs/"+p.ID+"/participants/alice", h.key, "", `{"email":"alice@example.com"}`, &adv)
	paths := []string{"/r/" + adv.Code, "/js/parrain.js", "/api/v1/widget/me", "/r/NOPE"}
	for i, path := range paths {
		res, _ := h.send("GET", path, nil, nil)
		wantRemaining := fmt.Sprint(2 - i)
		if i == 3 {
			wantRemaining = "0"
		}
		if res.Header.Get("RateLimit-Limit") != "3" || res.Header.Get("RateLimit-Remaining") != wantRemaining || res.Header.Get("RateLimit-Reset") == "" {
			t.Errorf("%s: %d %v", path, res.StatusCode, res.Header)
		}
		if i == 3 && (res.StatusCode != 429 || res.Header.Get("Retry-After") != "1") {
			t.Errorf("%s over the limit: %d %v", path, res.StatusCode, res.Header)
		}
	}
}

// The same refund sent with the same Idempotency-Key through two API keys
// refunds once; after the key's 24 hours it may be used again.
func TestIdempotencyAcrossKeysAndExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, testConfig(dbURL))
		p := h.program()
		second, _, err := access.New(h.m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "second", []string{store.ScopeEvents}, "")
		if err != nil {
			t.Fatal(err)
		}
		ev := "/api/v1/programs/" + p.ID + "/events"
		if res := h.do("POST", ev, h.key, "buy-1", `{"type":"purchase","external_id":"carl","order_id":"o1","amount":5000,"currency":"EUR"}`, nil); res.StatusCode != 201 {
			t.Fatalf("purchase: %d", res.StatusCode)
		}
		refund := `{"type":"refund","order_id":"o1","amount":1000}`
		first := h.do("POST", ev, h.key, "refund-1", refund, nil)
		again := h.do("POST", ev, second, "refund-1", refund, nil)
		if first.StatusCode != 201 || again.StatusCode != 201 || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("refund through two keys: %d, %d replayed=%q", first.StatusCode, again.StatusCode, again.Header.Get("Idempotent-Replayed"))
		}
		refunds := func() int {
			t.Helper()
			var n int
			if err := h.m.Store().DB().QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'refund'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := refunds(); n != 1 {
			t.Fatalf("refunds: %d, want 1", n)
		}
		// Another body under the same key, by the other key: refused.
		var eb httpx.ErrorBody
		if res := h.do("POST", ev, second, "refund-1", `{"type":"refund","order_id":"o1","amount":500}`, &eb); res.StatusCode != 422 || eb.Error.Field != "Idempotency-Key" {
			t.Errorf("reuse with another body: %d %+v", res.StatusCode, eb.Error)
		}
		// The same key in another program is another request.
		q := h.program()
		if res := h.do("POST", "/api/v1/programs/"+q.ID+"/events", h.key, "refund-1", `{"type":"signup","external_id":"dora"}`, nil); res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("other program: %d %v", res.StatusCode, res.Header)
		}
		// After 24 hours the key is free again.
		h.clock.Advance(24*time.Hour + time.Second)
		if res := h.do("POST", ev, second, "refund-1", `{"type":"refund","order_id":"o1","amount":500}`, nil); res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("after expiry: %d %v", res.StatusCode, res.Header)
		}
		if n := refunds(); n != 2 {
			t.Errorf("refunds after the reuse: %d, want 2", n)
		}
	})
}

func TestConfigTrustedProxiesAndLimits(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return len(c.TrustedProxies) == 0 && !c.TrustProxy && c.APIRateLimit == 6000 && c.IdempotencyTTL == 24*time.Hour
		}, ""},
		{"flags", []string{"--trusted-proxies", "10.0.0.0/8, 2001:db8::1", "--api-rate-limit", "60", "--idempotency-ttl", "48h"}, nil, func(c Config) bool {
			return len(c.TrustedProxies) == 2 && c.TrustedProxies[0] == netip.MustParsePrefix("10.0.0.0/8") &&
				c.TrustedProxies[1] == netip.MustParsePrefix("2001:db8::1/128") && c.APIRateLimit == 60 && c.IdempotencyTTL == 48*time.Hour
		}, ""},
		{"environment", nil, map[string]string{"PARRAIN_TRUSTED_PROXIES": "192.168.0.0/16", "PARRAIN_API_RATE_LIMIT": "0", "PARRAIN_IDEMPOTENCY_TTL": "1h"}, func(c Config) bool {
			return len(c.TrustedProxies) == 1 && c.APIRateLimit == 0 && c.IdempotencyTTL == time.Hour
		}, ""},
		{"alias", []string{"--trust-proxy"}, nil, func(c Config) bool { return c.TrustProxy }, ""},
		{"bad proxy", []string{"--trusted-proxies", "lb.internal"}, nil, nil, "--trusted-proxies"},
		{"bad proxy from the environment", nil, map[string]string{"PARRAIN_TRUSTED_PROXIES": "10.0.0.0/40"}, nil, "PARRAIN_TRUSTED_PROXIES"},
		{"negative rate", []string{"--api-rate-limit", "-1"}, nil, nil, "--api-rate-limit"},
		{"short ttl", []string{"--idempotency-ttl", "1s"}, nil, nil, "--idempotency-ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			cfg, err := ParseServe(c.args)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || !c.check(cfg) {
				t.Fatalf("config %+v, %v", cfg, err)
			}
		})
	}
}

// The OpenAPI document announces the rate limit on every operation and
// the body cap on every operation with a body.
func TestOpenAPIDocumentsLimits(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Headers   map[string]any `json:"headers"`
			Responses map[string]struct {
				Headers map[string]any `json:"headers"`
			} `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} {
		if doc.Components.Headers[h] == nil || doc.Components.Responses["TooManyRequests"].Headers[h] == nil {
			t.Errorf("header %s is not documented on 429", h)
		}
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			rs, _ := op["responses"].(map[string]any)
			if rs["429"] == nil {
				t.Errorf("%s %s: no 429", method, path)
			}
			if op["requestBody"] != nil && rs["413"] == nil {
				t.Errorf("%s %s: a body but no 413", method, path)
			}
			for code, r := range rs {
				if m, ok := r.(map[string]any); ok && (code[0] == '2' || code[0] == '3') && m["$ref"] == nil {
					if hs, _ := m["headers"].(map[string]any); hs["RateLimit-Remaining"] == nil {
						t.Errorf("%s %s %s: no RateLimit headers", method, path, code)
					}
				}
			}
		}
	}
}
