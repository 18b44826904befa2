package widget

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// browser is a user agent the redirect counts (bots are not counted).
const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"

// env is the widget's handlers on a real store, routed as the app routes
// them, with a double-sided program, its widget secret and an advocate.
type env struct {
	t      *testing.T
	st     *store.Store
	clock  *parrain.FakeClock
	clicks *ClickRecorder
	closed bool // clicks flushed: no more requests to the redirect
	mux    *http.ServeMux
	svc    *Service
	prog   parrain.Program
	secret string
	alice  parrain.Participant
	ref    *referral.Service
}

func newEnv(t *testing.T, dbURL string, ips httpx.IPResolver) *env {
	t.Helper()
	ctx := context.Background()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, dbURL, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	e := &env{t: t, st: st, clock: clock, mux: http.NewServeMux()}
	var p parrain.Program
	if err := json.Unmarshal([]byte(`{"name": "Acme", "landing_url": "https://shop.example/join?utm=mail", "currency": "EUR",
		"rules": [{"trigger": "first_purchase", "advocate": {"kind": "cash", "type": "fixed", "amount": 2000},
		"friend": {"kind": "coupon", "type": "percent", "percent_bps": 1000}}]}`), &p); err != nil {
		t.Fatal(err)
	}
	if e.prog, _, err = program.New(st).Create(ctx, p, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	e.ref = referral.New(st)
	sec, _, err := e.ref.RotateWidgetSecret(ctx, e.prog.ID, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	e.secret = sec.Secret
	if e.alice, _, err = referral.New(st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "alice", Email: "alice@example.com",
		Name: "Alice Martin", Locale: "en"}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	// A long interval and batch: clicks are written when the test closes
	// the recorder, never on a timer.
	e.clicks = NewClickRecorder(st, log, 100, time.Hour, 1000)
	t.Cleanup(func() {
		if !e.closed {
			e.clicks.Close()
		}
	})
	e.svc = NewService(st, e.ref, payout.New(st, log, payout.Config{}), log, "http://parrain.test", ips)
	red := NewRedirect(st, log, e.clicks, "https://fallback.example/", "", false, ips)
	red.Landing = e.svc.Landing()
	// Every widget route, as internal/app/routes.go registers it.
	wg := e.svc
	e.mux.Handle("GET /r/{code}", red)
	e.mux.HandleFunc("GET /js/parrain.js", wg.Snippet)
	e.mux.HandleFunc("GET /widget", wg.WidgetPage)
	e.mux.HandleFunc("GET /widget/assets/{file}", wg.Asset)
	e.mux.Handle("POST /r/{code}", http.NewCrossOriginProtection().Handler(http.HandlerFunc(wg.Landing().Submit)))
	e.mux.HandleFunc("GET /u/{token}", wg.Unsubscribe)
	e.mux.HandleFunc("POST /u/{token}", wg.UnsubscribePost)
	e.mux.HandleFunc("GET /api/v1/widget/me", wg.MeHandler)
	e.mux.HandleFunc("POST /api/v1/widget/shares", wg.ShareHandler)
	e.mux.HandleFunc("POST /api/v1/widget/invites", wg.InviteHandler)
	e.mux.HandleFunc("GET /api/v1/widget/notifications", wg.NotificationsHandler)
	e.mux.HandleFunc("POST /api/v1/widget/notifications/read", wg.MarkReadHandler)
	e.mux.HandleFunc("POST /api/v1/widget/lookup", wg.LookupHandler)
	e.mux.HandleFunc("GET /api/v1/widget/payout-account", wg.PayoutAccountHandler)
	e.mux.HandleFunc("PUT /api/v1/widget/payout-account", wg.SetPayoutAccountHandler)
	e.mux.HandleFunc("OPTIONS /api/v1/widget/{path...}", wg.Preflight)
	return e
}

// request builds a request from remote (the connection's peer) with the
// given headers.
func request(method, target, remote string, hdr map[string]string, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = remote
	r.Header.Set("User-Agent", browser)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	return r
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return w
}

type click struct{ code, ip, ipHash string }

// recordedClicks writes the buffered clicks and reads them back; the
// redirect must not be called afterwards.
func (e *env) recordedClicks() []click {
	e.t.Helper()
	e.clicks.Close()
	e.closed = true
	rows, err := e.st.DB().QueryContext(context.Background(), `SELECT code, ip, ip_hash FROM clicks ORDER BY created_at, id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []click
	for rows.Next() {
		var c click
		if err := rows.Scan(&c.code, &c.ip, &c.ipHash); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestRedirectClickIPHonoursTrustProxy is the regression test of the
// redirect ignoring --trust-proxy: behind a proxy every click recorded the
// proxy's address, so the fraud signals that compare click IPs saw one
// visitor. With the proxy trusted, the click's IP is the client named by
// X-Forwarded-For; without, the header is anybody's and is ignored.
func TestRedirectClickIPHonoursTrustProxy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		trust bool
		xff   string
		want  string
	}{
		{"trusted proxy: the forwarded client", true, "198.51.100.7", "198.51.100.7"},
		{"trusted proxy: a spoofed hop is not believed", true, "6.6.6.6, 198.51.100.7", "198.51.100.7"},
		{"untrusted: the header is ignored", false, "198.51.100.7", "127.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, dbURL string) {
				e := newEnv(t, dbURL, httpx.IPResolver{TrustProxy: c.trust})
				w := e.serve(request("GET", "/r/"+e.alice.Code, "127.0.0.1:41000", map[string]string{"X-Forwarded-For": c.xff}, ""))
				if w.Code != http.StatusFound {
					t.Fatalf("redirect: %d", w.Code)
				}
				got := e.recordedClicks()
				if len(got) != 1 {
					t.Fatalf("clicks: %+v", got)
				}
				if got[0].ip != c.want || got[0].ipHash != hashIP(e.st.Secret(), c.want) {
					t.Errorf("click recorded ip %q (hash %q), want %q", got[0].ip, got[0].ipHash, c.want)
				}
			})
		})
	}
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		// Alice's code, lower case: the landing URL with ref, the cookie.
		w := e.serve(request("GET", "/r/"+strings.ToLower(e.alice.Code)+"?utm_source=x", "203.0.113.5:1", nil, ""))
		loc, err := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusFound || err != nil || loc.Host != "shop.example" || loc.Query().Get("ref") != e.alice.Code || loc.Query().Get("utm") != "mail" {
			t.Fatalf("valid code: %d %q %v", w.Code, w.Header().Get("Location"), err)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var ck *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == CookieName {
				ck = c
			}
		}
		if ck == nil || ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge <= 0 {
			t.Fatalf("attribution cookie %+v", ck)
		}
		touches, err := parrain.ParseTouchCookie(ck.Value)
		if err != nil || len(touches) != 1 || touches[0].Code != e.alice.Code {
			t.Errorf("cookie touches %+v, %v", touches, err)
		}
		// An unknown code lands on the active program's landing page, no
		// ref, no cookie, counted as invalid.
		w = e.serve(request("GET", "/r/NOSUCHCODE", "203.0.113.5:1", nil, ""))
		if w.Code != http.StatusFound || strings.Contains(w.Header().Get("Location"), "ref=") || len(w.Result().Cookies()) != 0 {
			t.Errorf("unknown code: %d %q %v", w.Code, w.Header().Get("Location"), w.Result().Cookies())
		}
		// Link previews, prefetches and HEAD are redirected but not
		// recorded.
		bot := request("GET", "/r/"+e.alice.Code, "203.0.113.5:1", map[string]string{"User-Agent": "Slackbot-LinkExpanding 1.0"}, "")
		pre := request("GET", "/r/"+e.alice.Code, "203.0.113.5:1", map[string]string{"Sec-Purpose": "prefetch"}, "")
		head := request("HEAD", "/r/"+e.alice.Code, "203.0.113.5:1", nil, "")
		// Scripts, headless browsers and clients with no User-Agent are
		// redirected and recorded as automated clicks, not counted.
		script := request("GET", "/r/"+e.alice.Code, "203.0.113.6:1", map[string]string{"User-Agent": "python-requests/2.31"}, "")
		headless := request("GET", "/r/"+e.alice.Code, "203.0.113.6:1", map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0 Safari/537.36"}, "")
		noUA := request("GET", "/r/"+e.alice.Code, "203.0.113.6:1", map[string]string{"User-Agent": ""}, "")
		for _, r := range []*http.Request{bot, pre, head, script, headless, noUA} {
			if w := e.serve(r); w.Code != http.StatusFound {
				t.Errorf("%s %s: %d", r.Method, r.Header, w.Code)
			}
		}
		got := e.recordedClicks()
		if len(got) != 5 || got[0].code != e.alice.Code || got[1].code != "NOSUCHCODE" || got[2].ip != "203.0.113.6" {
			t.Fatalf("clicks %+v", got)
		}
		valid, invalid, err := e.st.ClickCounts(ctx)
		if err != nil || valid != 1 || invalid != 1 {
			t.Errorf("click counts: %d valid, %d invalid, %v", valid, invalid, err)
		}
		if n, err := e.st.AutomatedClickCount(ctx); err != nil || n != 3 {
			t.Errorf("automated clicks: %d, %v", n, err)
		}
		// Three automated clicks are under the flood threshold: no alert.
		if as, err := e.st.Alerts(ctx, e.prog.ID, true); err != nil || len(as) != 0 {
			t.Errorf("alerts after three automated clicks: %+v, %v", as, err)
		}
	})
}

// TestAutomatedClickFloodAlert is the regression test of automated clicks
// being dropped before they were recorded: a flood of scripted clicks on a
// code, with nobody signing up, left no trace and raised no alert.
func TestAutomatedClickFloodAlert(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		for i := range store.AutomatedClickAlertAt {
			r := request("GET", "/r/"+e.alice.Code, fmt.Sprintf("198.51.100.%d:1", i+1), map[string]string{"User-Agent": "curl/8.5.0"}, "")
			if w := e.serve(r); w.Code != http.StatusFound {
				t.Fatalf("scripted click: %d", w.Code)
			}
			e.clock.Advance(time.Minute)
		}
		if got := e.recordedClicks(); len(got) != store.AutomatedClickAlertAt {
			t.Fatalf("recorded %d clicks, want %d", len(got), store.AutomatedClickAlertAt)
		}
		as, err := e.st.Alerts(ctx, e.prog.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].Kind != store.AlertAutomatedClickFlood || as[0].Subject != e.alice.Code ||
			!strings.Contains(as[0].Message, "no signup") {
			t.Fatalf("alerts %+v", as)
		}
		if valid, _, err := e.st.ClickCounts(ctx); err != nil || valid != 0 {
			t.Errorf("automated clicks counted: %d valid, %v", valid, err)
		}
	})
}

func TestLandingPage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{TrustProxy: true})
		ctx := context.Background()
		if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{LandingPage: true, SenderName: "Acme Shop"}); err != nil {
			t.Fatal(err)
		}
		w := e.serve(request("GET", "/r/"+e.alice.Code, "127.0.0.1:1", map[string]string{"Accept-Language": "en", "X-Forwarded-For": "198.51.100.9"}, ""))
		body := w.Body.String()
		if w.Code != http.StatusOK || !strings.Contains(body, "Alice") || !strings.Contains(body, "Continue to Acme Shop") ||
			!strings.Contains(body, `action="/r/`+e.alice.Code+`"`) {
			t.Fatalf("landing page: %d\n%s", w.Code, body)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self' https://shop.example") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("CSP %q", csp)
		}
		// The page shows the cookie was set and the click counted, as the
		// plain redirect does.
		if len(w.Result().Cookies()) != 1 {
			t.Errorf("cookies %v", w.Result().Cookies())
		}
		form := url.Values{}
		for _, name := range []string{"lang", "wording", "wording_version", "sig"} {
			m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no %s in the form", name)
			}
			form.Set(name, htmlUnescape(m[1]))
		}
		form.Set("consent", "yes")
		post := func(f url.Values) *httptest.ResponseRecorder {
			return e.serve(request("POST", "/r/"+e.alice.Code, "127.0.0.1:1", map[string]string{"Content-Type": "application/x-www-form-urlencoded",
				"X-Forwarded-For": "198.51.100.9"}, f.Encode()))
		}
		// A tampered wording is not recorded: the page is shown again.
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("wording", "I agree to anything")
		if w := post(bad); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/r/"+e.alice.Code {
			t.Errorf("tampered wording: %d %q", w.Code, w.Header().Get("Location"))
		}
		w = post(form)
		loc, err := url.Parse(w.Header().Get("Location"))
		if w.Code != http.StatusSeeOther || err != nil || loc.Host != "shop.example" || loc.Query().Get("ref") != e.alice.Code {
			t.Fatalf("consent: %d %q", w.Code, w.Header().Get("Location"))
		}
		c, err := e.st.ConsentByID(ctx, loc.Query().Get(ConsentParam))
		if err != nil || !c.Granted || c.Code != e.alice.Code || !strings.Contains(c.Wording, "Acme Shop") {
			t.Fatalf("consent %+v, %v", c, err)
		}
		// The consent keeps the hash of the forwarded client, like clicks.
		var ipHash string
		if err := e.st.DB().QueryRowContext(ctx, `SELECT ip_hash FROM consents WHERE id = $1`, c.ID).Scan(&ipHash); err != nil {
			t.Fatal(err)
		}
		if ipHash != hashIP(e.st.Secret(), "198.51.100.9") {
			t.Errorf("consent ip hash %q", ipHash)
		}
		// A malformed form is a JSON validation error.
		r := request("POST", "/r/"+e.alice.Code, "127.0.0.1:1", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "%zz")
		w = e.serve(r)
		wantError(t, w, http.StatusBadRequest, parrain.CodeInvalid, "body")
	})
}

var htmlEntities = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&quot;", `"`)

func htmlUnescape(s string) string { return htmlEntities.Replace(s) }

// wantError checks a JSON error answer.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, code parrain.Code, field string) {
	t.Helper()
	var body httpx.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%d: not a JSON error: %v: %s", w.Code, err, w.Body)
	}
	if w.Code != status || body.Error.Code != code || body.Error.Field != field || body.Error.Message == "" {
		t.Errorf("got %d %+v, want %d %s on %q", w.Code, body.Error, status, code, field)
	}
}

func TestWidgetAPIErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		tok := parrain.MintWidgetToken(e.secret, e.prog.ID, "alice", e.clock.Now().Add(time.Hour))
		auth := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
		expired := parrain.MintWidgetToken(e.secret, e.prog.ID, "alice", e.clock.Now().Add(-time.Minute))
		cases := []struct {
			name, method, path string
			hdr                map[string]string
			body               string
			status             int
			code               parrain.Code
			field              string
		}{
			{"no token", "GET", "/api/v1/widget/me", nil, "", 401, parrain.CodeUnauthenticated, "token"},
			{"forged token", "GET", "/api/v1/widget/me", map[string]string{"Authorization": "Bearer " + parrain.MintWidgetToken("pws_guess", e.prog.ID, "alice", e.clock.Now().Add(time.Hour))}, "", 401, parrain.CodeUnauthenticated, "token"},
			{"expired token", "GET", "/api/v1/widget/me", map[string]string{"Authorization": "Bearer " + expired}, "", 401, parrain.CodeUnauthenticated, "token"},
			{"empty body", "POST", "/api/v1/widget/shares", auth, "", 400, parrain.CodeInvalid, "body"},
			{"malformed JSON", "POST", "/api/v1/widget/shares", auth, `{"channel":`, 400, parrain.CodeInvalid, "body"},
			{"unknown field", "POST", "/api/v1/widget/shares", auth, `{"chanel":"x"}`, 400, parrain.CodeInvalid, "chanel"},
			{"wrong type", "POST", "/api/v1/widget/invites", auth, `{"emails":"bob@example.org"}`, 400, parrain.CodeInvalid, "emails"},
			{"trailing data", "POST", "/api/v1/widget/shares", auth, `{"channel":"x"} {}`, 400, parrain.CodeInvalid, "body"},
			{"too large", "POST", "/api/v1/widget/shares", auth, `{"channel":"` + strings.Repeat("x", maxBody) + `"}`, 413, parrain.CodeTooLarge, ""},
			{"bad limit", "GET", "/api/v1/widget/notifications?limit=0", auth, "", 400, parrain.CodeInvalid, "limit"},
			{"bad cursor", "GET", "/api/v1/widget/notifications?cursor=" + strings.Repeat("c", 101), auth, "", 400, parrain.CodeInvalid, "cursor"},
			{"lookup of an unknown program", "POST", "/api/v1/widget/lookup", nil, `{"program_id":"prg_nope","query":"Alice Martin"}`, 404, parrain.CodeNotFound, "program_id"},
			{"lookup with a bad body", "POST", "/api/v1/widget/lookup", nil, `{"program":"x"}`, 400, parrain.CodeInvalid, "program"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := e.serve(request(c.method, c.path, "203.0.113.5:1", c.hdr, c.body))
				wantError(t, w, c.status, c.code, c.field)
				if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
					t.Errorf("CORS header %q", got)
				}
				if got := w.Header().Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control %q", got)
				}
			})
		}
		// A valid call answers, for the record.
		w := e.serve(request("GET", "/api/v1/widget/me", "203.0.113.5:1", auth, ""))
		var me Me
		if err := json.Unmarshal(w.Body.Bytes(), &me); err != nil || w.Code != 200 || me.Participant.Code != e.alice.Code || me.Program.Sender != "Acme" {
			t.Fatalf("me: %d %+v %v", w.Code, me, err)
		}
	})
}

// The refer-by-name lookup is limited per client IP, the client being the
// forwarded one behind a trusted proxy.
func TestLookupRateLimitPerClient(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{TrustProxy: true})
		e.svc.SetLookupLimit(time.Hour, 2)
		body := `{"program_id":"` + e.prog.ID + `","query":"Alice Martin"}`
		lookup := func(client string) *httptest.ResponseRecorder {
			return e.serve(request("POST", "/api/v1/widget/lookup", "127.0.0.1:1", map[string]string{"X-Forwarded-For": client}, body))
		}
		for i := range 2 {
			w := lookup("198.51.100.1")
			var res LookupResult
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != 200 || !res.Matched || res.Code != e.alice.Code || res.Name != "Alice M." {
				t.Fatalf("lookup %d: %d %s %v", i, w.Code, w.Body, err)
			}
		}
		w := lookup("198.51.100.1")
		wantError(t, w, http.StatusTooManyRequests, parrain.CodeRateLimited, "")
		if w.Header().Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		// Another client behind the same proxy is not limited.
		if w := lookup("198.51.100.2"); w.Code != 200 {
			t.Errorf("other client: %d %s", w.Code, w.Body)
		}
	})
}
