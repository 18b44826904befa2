package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var ctx = context.Background()

// env is a real Parrain (app.Main) on a fresh database with the demo
// program, served by httptest, with a fake clock.
type env struct {
	t     *testing.T
	m     *app.Main
	st    *store.Store
	srv   *httptest.Server
	clock *parrain.FakeClock
	prog  parrain.Program
}

func testConfig(dbURL string) app.Config {
	return app.Config{Addr: "127.0.0.1:0", DatabaseURL: dbURL, BaseURL: "http://parrain.test", FallbackURL: "https://fallback.example/",
		JobInterval: time.Hour, PublicRate: 1000, PublicBurst: 1000, ShutdownGrace: time.Second, Demo: true}
}

func newEnv(t *testing.T, cfg app.Config) *env {
	t.Helper()
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := app.New(ctx, cfg, log, clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	e := &env{t: t, m: m, st: m.Store(), srv: srv, clock: clock}
	ps, _, err := e.st.Programs(ctx, store.Page{Limit: 200})
	if err != nil || (cfg.Demo && len(ps) == 0) {
		t.Fatalf("demo programs: %d %v", len(ps), err)
	}
	if len(ps) > 0 {
		e.prog = ps[len(ps)-1] // the oldest: the demo's main program
	}
	return e
}

// user creates a console user with a known password hash (no argon2 cost
// per test user) and returns it.
func (e *env) user(email string, role parrain.UserRole) store.User {
	e.t.Helper()
	u, err := access.New(e.st, nil, access.Config{}).CreateUser(parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorSystem, Label: "test"}),
		access.NewUser{Email: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// session signs a user in directly through the store.
type session struct {
	token, csrf string
}

func (e *env) session(u store.User) session {
	e.t.Helper()
	tok, ss, err := access.New(e.st, nil, access.Config{}).StartSession(ctx, u, "192.0.2.1", "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return session{tok, ss.CSRFToken}
}

// client never follows redirects, so tests see them.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type answer struct {
	status int
	header http.Header
	body   string
}

// do sends a request as the session (zero session: anonymous). Form
// requests carry the session's CSRF token unless form has "csrf" already.
func (e *env) do(s session, method, path string, form url.Values, hdr map[string]string) answer {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		if s.csrf != "" && !form.Has("csrf") {
			form.Set("csrf", s.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if s.token != "" {
		req.AddCookie(&http.Cookie{Name: "parrain_session", Value: s.token})
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// drainJobs runs the background jobs that are due (as a running server
// would have: the demo's rewards past their hold get approved), until none
// is left.
func (e *env) drainJobs() {
	e.t.Helper()
	r := jobs.NewRunner(e.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	referral.New(e.st).RegisterJobs(r, webhook.NewClient(false))
	for range 100 {
		n, err := r.RunOnce(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("jobs keep coming")
}

func (e *env) pendingReward() parrain.Reward {
	e.t.Helper()
	rws, _, err := e.st.RewardsPage(ctx, store.RewardQuery{ProgramID: e.prog.ID, Status: "pending"}, store.Page{Limit: 1})
	if err != nil || len(rws) == 0 {
		e.t.Fatalf("no pending reward in the demo: %v", err)
	}
	return rws[0]
}

// TestAuthorizationMatrix sends every console route as a visitor and as
// each role, and checks the answer against the route's minimum role: below
// it 403 (visitors are sent to sign in), at or above it never 401/403. The
// table must list exactly the registered routes, so a new route cannot
// ship without its authorization being tested.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	owner := e.user("owner@corp.example", parrain.UserRoleOwner)
	roles := map[string]store.User{
		"analyst": e.user("analyst@corp.example", parrain.UserRoleAnalyst),
		"manager": e.user("manager@corp.example", parrain.UserRoleManager),
		"owner":   owner,
	}
	victim := e.user("victim@corp.example", parrain.UserRoleAnalyst)
	_, key, _ := access.New(e.st, nil, access.Config{}).CreateAPIKey(ctx, "matrix", nil, "")
	part, err := e.st.Participant(ctx, e.prog.ID, "cust_001")
	if err != nil {
		t.Fatal(err)
	}
	rw := e.pendingReward()
	ep, _, err := outbound.NewService(e.st).CreateEndpoint(ctx, e.prog.ID, parrain.WebhookEndpointInput{URL: ptr("https://hooks.example/p"), EventTypes: []string{"*"}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	const public = "public"
	prog := e.prog.ID
	pp, err := e.st.PartnerProgramBySlug(ctx, "acme-partners")
	if err != nil {
		t.Fatal(err)
	}
	pprog := pp.ProgramID
	// Route pattern → the minimum role, a concrete path and a form for
	// writes (nil for reads). Writes use harmless or invalid payloads: the
	// point is who gets past the door.
	type row struct {
		min  string
		path string
		form url.Values
	}
	f := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	table := map[string]row{
		"GET /admin/static/{file}":                                        {public, "/admin/static/console.css", nil},
		"GET /admin/login":                                                {public, "/admin/login", nil},
		"POST /admin/login":                                               {public, "/admin/login", f("email", "x@corp.example")},
		"GET /admin/setup":                                                {public, "/admin/setup", nil},
		"POST /admin/setup":                                               {public, "/admin/setup", f()},
		"POST /admin/logout":                                              {"analyst", "/admin/logout", f()},
		"GET /admin/account":                                              {"analyst", "/admin/account", nil},
		"POST /admin/account/password":                                    {"analyst", "/admin/account/password", f("current", "wrong")},
		"POST /admin/account/sign-out-everywhere":                         {"analyst", "/admin/account/sign-out-everywhere", f()},
		"GET /admin/{$}":                                                  {"analyst", "/admin/", nil},
		"GET /admin/overview.csv":                                         {"analyst", "/admin/overview.csv?program=" + prog, nil},
		"GET /admin/kpis.csv":                                             {"analyst", "/admin/kpis.csv?program=" + prog, nil},
		"GET /admin/jobs":                                                 {"analyst", "/admin/jobs", nil},
		"GET /admin/programs":                                             {"analyst", "/admin/programs", nil},
		"GET /admin/programs/new":                                         {"manager", "/admin/programs/new", nil},
		"POST /admin/programs":                                            {"manager", "/admin/programs", f("name", "")},
		"POST /admin/programs/preview":                                    {"manager", "/admin/programs/preview", f("name", "x")},
		"GET /admin/programs/{id}":                                        {"analyst", "/admin/programs/" + prog, nil},
		"GET /admin/programs/{id}/edit":                                   {"manager", "/admin/programs/" + prog + "/edit", nil},
		"POST /admin/programs/{id}":                                       {"manager", "/admin/programs/" + prog, f("name", "")},
		"POST /admin/programs/{id}/status":                                {"manager", "/admin/programs/" + prog + "/status", f("status", "active")},
		"GET /admin/participants":                                         {"analyst", "/admin/participants?q=ali", nil},
		"GET /admin/participants/{id}":                                    {"analyst", "/admin/participants/" + part.ID, nil},
		"GET /admin/participants/{id}/export":                             {"manager", "/admin/participants/" + part.ID + "/export", nil},
		"POST /admin/participants/{id}/do-not-sell":                       {"manager", "/admin/participants/" + part.ID + "/do-not-sell", f("do_not_sell", "false")},
		"POST /admin/participants/{id}/erase":                             {"owner", "/admin/participants/" + part.ID + "/erase", f("confirm", "not-the-id")},
		"GET /admin/participants.csv":                                     {"analyst", "/admin/participants.csv?program=" + prog, nil},
		"GET /admin/participants/{id}/report":                             {"analyst", "/admin/participants/" + part.ID + "/report", nil},
		"GET /admin/participants/{id}/report.csv":                         {"analyst", "/admin/participants/" + part.ID + "/report.csv", nil},
		"GET /admin/reports":                                              {"analyst", "/admin/reports?program=" + prog, nil},
		"GET /admin/reports.csv":                                          {"analyst", "/admin/reports.csv?program=" + prog, nil},
		"GET /admin/imports":                                              {"analyst", "/admin/imports?program=" + prog, nil},
		"POST /admin/imports":                                             {"manager", "/admin/imports?program=" + prog, f()},
		"GET /admin/imports/{id}":                                         {"analyst", "/admin/imports/imp_nope?program=" + prog, nil},
		"GET /admin/imports/{id}/rejected.csv":                            {"analyst", "/admin/imports/imp_nope/rejected.csv?program=" + prog, nil},
		"GET /admin/referrals":                                            {"analyst", "/admin/referrals", nil},
		"GET /admin/referrals.csv":                                        {"analyst", "/admin/referrals.csv", nil},
		"POST /admin/referrals/bulk":                                      {"manager", "/admin/referrals/bulk", f("program", prog, "action", "approve")},
		"GET /admin/reviews":                                              {"analyst", "/admin/reviews", nil},
		"POST /admin/reviews/{id}/clear":                                  {"manager", "/admin/reviews/ref_nope/clear", f("program", prog)},
		"POST /admin/reviews/{id}/reject":                                 {"manager", "/admin/reviews/ref_nope/reject", f("program", prog, "reason", "")},
		"GET /admin/rewards":                                              {"analyst", "/admin/rewards", nil},
		"GET /admin/rewards.csv":                                          {"analyst", "/admin/rewards.csv", nil},
		"POST /admin/rewards/bulk":                                        {"manager", "/admin/rewards/bulk", f("program", prog, "action", "approve")},
		"GET /admin/rewards/{id}":                                         {"analyst", "/admin/rewards/" + rw.ID, nil},
		"POST /admin/rewards/{id}/approve":                                {"manager", "/admin/rewards/rwd_nope/approve", f()},
		"POST /admin/rewards/{id}/reject":                                 {"manager", "/admin/rewards/" + rw.ID + "/reject", f("reason", "")},
		"POST /admin/rewards/{id}/reinstate":                              {"manager", "/admin/rewards/" + rw.ID + "/reinstate", f()},
		"GET /admin/audit":                                                {"analyst", "/admin/audit", nil},
		"GET /admin/partners":                                             {"analyst", "/admin/partners?program=" + pprog + "&q=initrode.example", nil},
		"GET /admin/partners/kpis.csv":                                    {"analyst", "/admin/partners/kpis.csv?program=" + pprog, nil},
		"POST /admin/partners/{id}/approve":                               {"manager", "/admin/partners/ptn_nope/approve", f("program", pprog)},
		"POST /admin/partners/{id}/reject":                                {"manager", "/admin/partners/ptn_nope/reject", f("program", pprog)},
		"GET /admin/partners/deals":                                       {"analyst", "/admin/partners/deals?program=" + pprog, nil},
		"POST /admin/partners/deals/{id}/stage":                           {"manager", "/admin/partners/deals/lead_nope/stage", f("program", pprog, "stage", "accepted")},
		"GET /admin/payouts":                                              {"analyst", "/admin/payouts", nil},
		"POST /admin/payouts":                                             {"manager", "/admin/payouts", f("program", prog)},
		"POST /admin/payouts/{id}/approve":                                {"manager", "/admin/payouts/pob_nope/approve", f("program", prog)},
		"POST /admin/payouts/{id}/cancel":                                 {"manager", "/admin/payouts/pob_nope/cancel", f("program", prog)},
		"GET /admin/settings":                                             {"analyst", "/admin/settings", nil},
		"GET /admin/settings/users":                                       {"owner", "/admin/settings/users", nil},
		"POST /admin/settings/users":                                      {"owner", "/admin/settings/users", f("email", "bad")},
		"POST /admin/settings/users/{id}/role":                            {"owner", "/admin/settings/users/" + victim.ID + "/role", f("role", "analyst")},
		"POST /admin/settings/users/{id}/disable":                         {"owner", "/admin/settings/users/usr_nope/disable", f()},
		"POST /admin/settings/users/{id}/enable":                          {"owner", "/admin/settings/users/" + victim.ID + "/enable", f()},
		"POST /admin/settings/users/{id}/sign-out":                        {"owner", "/admin/settings/users/" + victim.ID + "/sign-out", f()},
		"GET /admin/settings/api-keys":                                    {"owner", "/admin/settings/api-keys", nil},
		"POST /admin/settings/api-keys":                                   {"owner", "/admin/settings/api-keys", f("name", "")},
		"POST /admin/settings/api-keys/{id}/revoke":                       {"owner", "/admin/settings/api-keys/" + key.ID + "/revoke", f()},
		"POST /admin/settings/api-keys/{id}/rate-limit":                   {"owner", "/admin/settings/api-keys/" + key.ID + "/rate-limit", f("rate_limit", "120")},
		"GET /admin/settings/branding":                                    {"analyst", "/admin/settings/branding", nil},
		"POST /admin/settings/branding":                                   {"manager", "/admin/settings/branding", f("program", prog, "primary_color", "red")},
		"GET /admin/settings/email":                                       {"analyst", "/admin/settings/email", nil},
		"POST /admin/settings/email":                                      {"manager", "/admin/settings/email", f("name", "")},
		"GET /admin/settings/webhooks":                                    {"analyst", "/admin/settings/webhooks", nil},
		"POST /admin/settings/webhooks":                                   {"manager", "/admin/settings/webhooks", f("program", prog, "url", "")},
		"GET /admin/experiments":                                          {"analyst", "/admin/experiments?program=" + prog, nil},
		"POST /admin/experiments":                                         {"manager", "/admin/experiments", f("program", prog, "document", "{}")},
		"POST /admin/experiments/{id}/{action}":                           {"manager", "/admin/experiments/exp_nope/stop", f("program", prog)},
		"POST /admin/settings/webhooks/{id}/delete":                       {"manager", "/admin/settings/webhooks/whe_nope/delete", f("program", prog)},
		"POST /admin/settings/webhooks/{id}/deliveries/{delivery}/replay": {"manager", "/admin/settings/webhooks/" + ep.ID + "/deliveries/del_nope/replay", f("program", prog)},
		"GET /admin/settings/experience":                                  {"analyst", "/admin/settings/experience", nil},
		"POST /admin/settings/experience":                                 {"manager", "/admin/settings/experience", f("program", prog, "terms_url", "nope")},
		"GET /admin/settings/fraud":                                       {"analyst", "/admin/settings/fraud", nil},
		"POST /admin/settings/fraud":                                      {"manager", "/admin/settings/fraud", f("program", prog, "hold_at", "0")},
		"GET /admin/settings/payouts":                                     {"analyst", "/admin/settings/payouts", nil},
		"POST /admin/settings/payouts":                                    {"manager", "/admin/settings/payouts", f("program", prog, "hour", "99")},
		"GET /admin/settings/email-templates":                             {"analyst", "/admin/settings/email-templates", nil},
		"POST /admin/settings/email-templates":                            {"manager", "/admin/settings/email-templates", f("program", prog, "kind", "welcome", "locale", "en")},
		"GET /admin/settings/email-log":                                   {"analyst", "/admin/settings/email-log", nil},
		"GET /admin/settings/partner-program":                             {"analyst", "/admin/settings/partner-program", nil},
		"POST /admin/settings/partner-program":                            {"manager", "/admin/settings/partner-program", f("program", prog, "slug", "")},
		"GET /admin/settings/coupon-pools":                                {"analyst", "/admin/settings/coupon-pools", nil},
		"POST /admin/settings/coupon-pools":                               {"manager", "/admin/settings/coupon-pools", f("program", prog, "name", "")},
		"POST /admin/settings/coupon-pools/codes":                         {"manager", "/admin/settings/coupon-pools/codes", f("program", prog, "pool", "nope")},
		"GET /admin/":                                                     {"analyst", "/admin/no-such-page", nil},
	}
	registered := map[string]bool{}
	for _, r := range e.m.AdminRoutes {
		registered[r.Pattern] = true
		if _, ok := table[r.Pattern]; !ok {
			t.Errorf("route %s has no authorization test", r.Pattern)
		}
	}
	for p := range table {
		if !registered[p] {
			t.Errorf("tested route %s is not registered", p)
		}
	}
	rank := map[string]int{"analyst": 1, "manager": 2, "owner": 3}
	for pattern, r := range table {
		method := strings.Fields(pattern)[0]
		for _, who := range []string{"visitor", "analyst", "manager", "owner"} {
			t.Run(pattern+" as "+who, func(t *testing.T) {
				s := session{}
				if who != "visitor" {
					s = e.session(roles[who]) // a fresh session each time: some routes end it
				}
				var form url.Values
				if r.form != nil {
					form = url.Values{}
					for k, v := range r.form {
						form[k] = append([]string(nil), v...)
					}
				}
				a := e.do(s, method, r.path, form, nil)
				switch {
				case r.min == public:
					if a.status >= 500 {
						t.Errorf("public route answered %d", a.status)
					}
				case who == "visitor":
					if a.status != 303 || !strings.HasPrefix(a.header.Get("Location"), "/admin/login") {
						t.Errorf("visitor got %d %q, want 303 to the sign-in page", a.status, a.header.Get("Location"))
					}
				case rank[who] < rank[r.min]:
					if a.status != 403 || !strings.Contains(a.body, "needs "+r.min) {
						t.Errorf("%s got %d, want 403", who, a.status)
					}
				default:
					if a.status == 401 || a.status == 403 || a.status >= 500 {
						t.Errorf("%s got %d: %s", who, a.status, snippet(a.body))
					}
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }

func snippet(s string) string {
	re := regexp.MustCompile(`(?s)<p class="error-message">(.*?)</p>`)
	if m := re.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

// TestDeniedWritesChangeNothing checks that refused requests (wrong role,
// missing or wrong CSRF token, another origin) have no effect.
func TestDeniedWritesChangeNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	analyst := e.session(e.user("analyst@corp.example", parrain.UserRoleAnalyst))
	manager := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	rw := e.pendingReward()
	approve := "/admin/rewards/" + rw.ID + "/approve"
	cases := []struct {
		name string
		s    session
		form url.Values
		hdr  map[string]string
	}{
		{"analyst", analyst, url.Values{}, nil},
		{"no csrf token", manager, url.Values{"csrf": {""}}, nil},
		{"wrong csrf token", manager, url.Values{"csrf": {analyst.csrf}}, nil},
		{"other origin", manager, url.Values{}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if a := e.do(c.s, "POST", approve, c.form, c.hdr); a.status != 403 {
				t.Errorf("status %d, want 403", a.status)
			}
			got, _ := e.st.RewardByID(ctx, rw.ID)
			if got.Status != parrain.RewardPending {
				t.Fatalf("reward became %s", got.Status)
			}
		})
	}
	// An analyst cannot create users or keys either.
	e.do(analyst, "POST", "/admin/settings/users", url.Values{"email": {"x@corp.example"}, "role": {"owner"}, "password": {"correct horse battery"}}, nil)
	if _, err := e.st.UserByEmail(ctx, "x@corp.example"); parrain.ErrorCode(err) != parrain.CodeNotFound {
		t.Errorf("analyst created a user: %v", err)
	}
	// The manager's own request goes through, and is audited.
	if a := e.do(manager, "POST", approve, url.Values{}, nil); a.status != 303 {
		t.Fatalf("manager approve: %d", a.status)
	}
	got, _ := e.st.RewardByID(ctx, rw.ID)
	log, _, _ := e.st.AuditLog(ctx, store.AuditFilter{TargetType: "reward", TargetID: rw.ID}, store.Page{})
	if got.Status != parrain.RewardApproved || len(log) != 1 || log[0].UserEmail != "manager@corp.example" || log[0].IP == "" {
		t.Errorf("after approval: %s, audit %+v", got.Status, log)
	}
}

// signIn posts the sign-in form like a browser: it loads the form for its
// CSRF cookie and token first.
func (e *env) signIn(jar http.CookieJar, email, password, remoteIP string) answer {
	e.t.Helper()
	c := &http.Client{Jar: jar, CheckRedirect: client.CheckRedirect}
	res, err := c.Get(e.srv.URL + "/admin/login")
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		e.t.Fatalf("no csrf in the sign-in form (%d)", res.StatusCode)
	}
	form := url.Values{"csrf": {string(m[1])}, "email": {email}, "password": {password}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if remoteIP != "" {
		req.Header.Set("X-Forwarded-For", remoteIP)
	}
	res, err = c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(body)}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.BaseURL = "https://refer.example.com" // served over TLS by a proxy: Secure cookies
	cfg.TrustProxy = true
	e := newEnv(t, cfg)
	e.user("sam@corp.example", parrain.UserRoleManager)
	jar, _ := cookiejar.New(nil)
	a := e.signIn(jar, "sam@corp.example", "wrong password!", "198.51.100.1")
	if a.status != 401 || !strings.Contains(a.body, "Wrong email or password") {
		t.Fatalf("wrong password: %d", a.status)
	}
	// An unknown email gets the very same answer.
	b := e.signIn(jar, "nobody@corp.example", "wrong password!", "198.51.100.1")
	if b.status != 401 || !strings.Contains(b.body, "Wrong email or password") {
		t.Fatalf("unknown email: %d", b.status)
	}
	a = e.signIn(jar, "SAM@corp.example", "correct horse battery", "198.51.100.1")
	if a.status != 303 || a.header.Get("Location") != "/admin/" {
		t.Fatalf("sign-in: %d %q %s", a.status, a.header.Get("Location"), snippet(a.body))
	}
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "parrain_session" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/admin" {
		t.Fatalf("session cookie %+v", ck)
	}
	// The cookie opens the console.
	if a := e.do(session{token: ck.Value}, "GET", "/admin/", nil, nil); a.status != 200 || !strings.Contains(a.body, "sam@corp.example") {
		t.Fatalf("overview with the cookie: %d", a.status)
	}
	// The sign-in form refuses a post without its CSRF token.
	form := url.Values{"email": {"sam@corp.example"}, "password": {"correct horse battery"}}
	if a := e.do(session{}, "POST", "/admin/login", form, nil); a.status != 403 {
		t.Errorf("sign-in without csrf: %d", a.status)
	}
	// A disabled user cannot sign in.
	u, _ := e.st.UserByEmail(ctx, "sam@corp.example")
	e.user("olga@corp.example", parrain.UserRoleOwner)
	if _, err := access.New(e.st, nil, access.Config{}).SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if a := e.signIn(jar, "sam@corp.example", "correct horse battery", "198.51.100.2"); a.status != 401 {
		t.Errorf("disabled user signed in: %d", a.status)
	}
	if a := e.do(session{token: ck.Value}, "GET", "/admin/", nil, nil); a.status != 303 {
		t.Errorf("disabled user's session still works: %d", a.status)
	}
}

func TestSignInRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	e.user("sam@corp.example", parrain.UserRoleManager)
	jar, _ := cookiejar.New(nil)
	// Per email: five attempts, then 429, even with the right password.
	var statuses []int
	for range 6 {
		statuses = append(statuses, e.signIn(jar, "sam@corp.example", "wrong password!", "").status)
	}
	if want := []int{401, 401, 401, 401, 401, 429}; !equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if a := e.signIn(jar, "sam@corp.example", "correct horse battery", ""); a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("right password while limited: %d", a.status)
	}
	// Per IP: ten attempts across emails.
	statuses = nil
	for i := range 6 {
		statuses = append(statuses, e.signIn(jar, "other"+string(rune('a'+i))+"@corp.example", "wrong password!", "").status)
	}
	if statuses[2] != 401 || statuses[3] != 429 || statuses[5] != 429 { // 7 used above + 3 = 10
		t.Errorf("per-IP statuses %v", statuses)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSetupOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	// No user: every page leads to the setup page.
	if a := e.do(session{}, "GET", "/admin/rewards", nil, nil); a.status != 303 || a.header.Get("Location") != "/admin/setup" {
		t.Fatalf("first visit: %d %q", a.status, a.header.Get("Location"))
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: client.CheckRedirect}
	setup := func(email string) *http.Response {
		res, err := c.Get(e.srv.URL + "/admin/setup")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		tok := ""
		if m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b); m != nil {
			tok = string(m[1])
		}
		form := url.Values{"csrf": {tok}, "email": {email}, "password": {"correct horse battery"}, "confirm": {"correct horse battery"}}
		res, err = c.PostForm(e.srv.URL+"/admin/setup", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	// Validation errors come back on the form.
	res, _ := c.PostForm(e.srv.URL+"/admin/setup", url.Values{})
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("setup without csrf: %d", res.StatusCode)
	}
	if res := setup("first@corp.example"); res.StatusCode != 303 || res.Header.Get("Location") != "/admin/" {
		t.Fatalf("setup: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	u, err := e.st.UserByEmail(ctx, "first@corp.example")
	if err != nil || u.Role != parrain.UserRoleOwner || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("first user %+v %v", u, err)
	}
	// Signed in by the setup.
	res, _ = c.Get(e.srv.URL + "/admin/")
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("overview after setup: %d", res.StatusCode)
	}
	// Once a user exists the page is gone and a second owner cannot be made.
	if res := setup("second@corp.example"); res.StatusCode != 303 || res.Header.Get("Location") != "/admin/login" {
		t.Errorf("second setup: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if users, _ := e.st.Users(ctx); len(users) != 1 {
		t.Errorf("users after a second setup: %d", len(users))
	}
}

func TestProgramForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	m := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	form := func(kv map[string]string) url.Values {
		v := url.Values{"activity_required": {"1"}, "name": {"Spring"}, "landing_url": {"https://shop.example/join"}, "currency": {"EUR"}, "cookie_window_days": {"30"},
			"hold_days": {"14"}, "attribution_model": {"last_click"}, "idem": {"form-1"}, "example": {"49.99"},
			"rule.0.trigger": {"first_purchase"}, "rule.0.advocate.kind": {"cash"}, "rule.0.advocate.type": {"percent"},
			"rule.0.advocate.percent": {"12.5"}, "rule.0.advocate.max": {"30"},
			"rule.0.friend.kind": {"coupon"}, "rule.0.friend.type": {"fixed"}, "rule.0.friend.amount": {"10"},
			// The blank row left empty is ignored.
			"rule.1.trigger": {""}, "rule.1.advocate.kind": {"none"}, "rule.1.friend.kind": {"none"}}
		for k, x := range kv {
			v.Set(k, x)
		}
		return v
	}
	// Invalid input comes back as 400 with the field's message, and nothing
	// is created.
	bad := []struct{ field, value, want string }{
		{"rule.0.friend.amount", "10.005", "at most 2 decimals"},
		{"rule.0.advocate.percent", "abc", "positive number"},
		{"rule.0.advocate.percent", "120", "between 1 and 10000"},
		{"landing_url", "ftp://x", "http or https"},
		{"rule.0.trigger", "", "required"},
		{"currency", "EURO", "ISO 4217"},
		{"rule.0.advocate.variants", "[{", "JSON list of variants"},
		{"rule.0.advocate.variants", `[{"when": {}, "percent_bps": 2000}]`, "needs at least one condition"},
		{"activity_min_days", "30", "cannot contain 30 distinct days"},
	}
	before, _, _ := e.st.Programs(ctx, store.Page{Limit: 200})
	for _, b := range bad {
		a := e.do(m, "POST", "/admin/programs", form(map[string]string{b.field: b.value}), nil)
		if a.status != 400 || !strings.Contains(a.body, b.want) {
			t.Errorf("%s=%q: %d, want 400 with %q", b.field, b.value, a.status, b.want)
		}
	}
	// The live check answers JSON keyed by input name, with a preview.
	a := e.do(m, "POST", "/admin/programs/preview", form(map[string]string{"rule.0.friend.amount": "x"}), map[string]string{"Accept": "application/json"})
	var pv struct {
		Errors  map[string]string `json:"errors"`
		Preview *struct {
			Rows []struct{ Role, Amount, Explanation string } `json:"rows"`
		} `json:"preview"`
	}
	if err := json.Unmarshal([]byte(a.body), &pv); err != nil || pv.Errors["rule.0.friend.amount"] == "" || pv.Preview != nil {
		t.Errorf("preview with an error: %s", a.body)
	}
	a = e.do(m, "POST", "/admin/programs/preview", form(nil), nil)
	pv.Errors, pv.Preview = nil, nil
	if err := json.Unmarshal([]byte(a.body), &pv); err != nil || len(pv.Errors) != 0 || pv.Preview == nil || len(pv.Preview.Rows) != 2 {
		t.Fatalf("preview: %s", a.body)
	}
	// 12.5 % of 49.99 = 6.24875 → 6.25 (half-up); the friend's fixed 10.00.
	if pv.Preview.Rows[0].Amount != "6.25 EUR" || pv.Preview.Rows[1].Amount != "10.00 EUR" {
		t.Errorf("preview rows %+v", pv.Preview.Rows)
	}
	// "Check and preview" without JavaScript creates nothing.
	if a := e.do(m, "POST", "/admin/programs", form(map[string]string{"action": "preview"}), nil); a.status != 200 || !strings.Contains(a.body, "6.25 EUR") {
		t.Errorf("server-side preview: %d", a.status)
	}
	after, _, _ := e.st.Programs(ctx, store.Page{Limit: 200})
	if len(after) != len(before) {
		t.Fatalf("invalid or previewed forms created programs")
	}
	// Saving creates the program; the same form posted twice creates one.
	a = e.do(m, "POST", "/admin/programs", form(nil), nil)
	if a.status != 303 {
		t.Fatalf("create: %d %s", a.status, snippet(a.body))
	}
	e.do(m, "POST", "/admin/programs", form(nil), nil)
	after, _, _ = e.st.Programs(ctx, store.Page{Limit: 200})
	if len(after) != len(before)+1 {
		t.Fatalf("programs %d → %d", len(before), len(after))
	}
	p := after[0]
	r := p.Rules[0]
	if p.Name != "Spring" || p.HoldDays != 14 || r.Advocate.PercentBps != 1250 || r.Advocate.MaxAmount != 3000 || r.Friend.Amount != 1000 ||
		r.Friend.Kind != parrain.KindCoupon || len(p.Rules) != 1 {
		t.Errorf("created program %+v %+v %+v", p, r.Advocate, r.Friend)
	}
	if a, on := p.ActivityRule(); !on || a.MinDays != 1 || a.EventType != parrain.EventActivity {
		t.Errorf("activity requirement %+v", p.Activity)
	}
	// Audited once, in the creation's transaction, under the console user.
	log, _, _ := e.st.AuditLog(ctx, store.AuditFilter{TargetType: "program", TargetID: p.ID}, store.Page{})
	if len(log) != 1 || log[0].Action != store.AuditProgramCreated || log[0].ActorType != "user" || log[0].UserEmail == "" || log[0].IP == "" {
		t.Errorf("audit %+v", log)
	}
	// Editing saves a new version; a stale version is refused.
	edit := form(map[string]string{"name": "Spring 2", "version": "1", "idem": "form-2", "rule.0.id": r.ID})
	if a := e.do(m, "POST", "/admin/programs/"+p.ID, edit, nil); a.status != 303 {
		t.Fatalf("update: %d %s", a.status, snippet(a.body))
	}
	got, _ := e.st.Program(ctx, p.ID)
	if got.Name != "Spring 2" || got.Version != 2 || got.Rules[0].ID != r.ID {
		t.Errorf("updated %+v", got)
	}
	stale := form(map[string]string{"name": "Spring 3", "version": "1", "idem": "form-3", "rule.0.id": r.ID})
	if a := e.do(m, "POST", "/admin/programs/"+p.ID, stale, nil); a.status != 409 || !strings.Contains(a.body, "version 2") {
		t.Errorf("stale update: %d", a.status)
	}
	// Pause and resume.
	if a := e.do(m, "POST", "/admin/programs/"+p.ID+"/status", url.Values{"status": {"paused"}}, nil); a.status != 303 {
		t.Fatalf("pause: %d", a.status)
	}
	if got, _ := e.st.Program(ctx, p.ID); got.Status != parrain.ProgramPaused {
		t.Errorf("status %s", got.Status)
	}
}

func TestRewardReviewOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	m := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	rws, _, _ := e.st.RewardsPage(ctx, store.RewardQuery{ProgramID: e.prog.ID, Status: "pending"}, store.Page{Limit: 3})
	if len(rws) < 3 {
		t.Fatalf("demo pending rewards: %d", len(rws))
	}
	// Reject needs a reason.
	a := e.do(m, "POST", "/admin/rewards/"+rws[0].ID+"/reject", url.Values{"reason": {" "}}, nil)
	if a.status != 303 {
		t.Fatalf("reject without reason: %d", a.status)
	}
	if got, _ := e.st.RewardByID(ctx, rws[0].ID); got.Status != parrain.RewardPending {
		t.Fatalf("rejected without reason")
	}
	e.do(m, "POST", "/admin/rewards/"+rws[0].ID+"/reject", url.Values{"reason": {"test order"}}, nil)
	res := e.do(m, "POST", "/admin/rewards/bulk", url.Values{"program": {e.prog.ID}, "action": {"approve"}, "id": {rws[0].ID, rws[1].ID, rws[2].ID}}, nil)
	if res.status != 303 {
		t.Fatalf("bulk: %d", res.status)
	}
	want := []parrain.RewardStatus{parrain.RewardReversed, parrain.RewardApproved, parrain.RewardApproved}
	for i, rw := range rws {
		if got, _ := e.st.RewardByID(ctx, rw.ID); got.Status != want[i] {
			t.Errorf("reward %d: %s, want %s", i, got.Status, want[i])
		}
	}
	// The flash message says what happened (one skipped: already reversed).
	jar := session{token: m.token}
	page := e.do(jar, "GET", "/admin/rewards?program="+e.prog.ID, nil, nil)
	if page.status != 200 {
		t.Fatalf("rewards page: %d", page.status)
	}
	log, _, _ := e.st.AuditLog(ctx, store.AuditFilter{Action: "reward."}, store.Page{})
	if len(log) != 3 {
		t.Errorf("audit entries %d", len(log))
	}
	// The reward page shows the decision with who made it.
	p := e.do(m, "GET", "/admin/rewards/"+rws[0].ID, nil, nil)
	if !strings.Contains(p.body, "manager@corp.example") || !strings.Contains(p.body, "test order") {
		t.Errorf("reward page lacks the decision")
	}
}

func TestPagesRenderDemoData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	o := e.session(e.user("owner@corp.example", parrain.UserRoleOwner))
	part, _ := e.st.Participant(ctx, e.prog.ID, "cust_001")
	// An imported coupon pool without codes is an alert on the overview.
	if _, _, err := referral.New(e.st).CreateCouponPool(ctx, e.prog.ID, store.CouponPool{Name: "spring-codes"}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ path, want string }{
		{"/admin/", `data-kpi="conversion"`},
		{"/admin/?program=" + e.prog.ID, "Coupon pool <strong>spring-codes</strong> is empty"},
		{"/admin/?period=7d", "Last 7 days"},
		{"/admin/?from=2026-10-01&to=2026-10-31", "2026-10-01 to 2026-10-31"},
		{"/admin/participants?q=alice", "Alice Martin"},
		{"/admin/participants/" + part.ID, "/r/" + part.Code},
		{"/admin/referrals?status=converted", "Converted"},
		{"/admin/rewards?status=approved", "Approved"},
		{"/admin/reviews", "promo.hunter@mailinator.com"},
		{"/admin/reviews?status=held", "Review by"},
		{"/admin/?program=" + e.prog.ID, `href="/admin/reviews?program=` + e.prog.ID + `" id="alert-review"`},
		{"/admin/programs/" + e.prog.ID, "Terms preview"},
		{"/admin/programs/" + e.prog.ID + "/edit", "Save a new version"},
	}
	for _, c := range checks {
		a := e.do(o, "GET", c.path, nil, nil)
		if a.status != 200 || !strings.Contains(a.body, c.want) {
			t.Errorf("%s: %d, missing %q: %s", c.path, a.status, c.want, snippet(a.body))
		}
		if !strings.Contains(a.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("%s: no CSP", c.path)
		}
	}
	// Bad input is a precise 400, never a 500.
	for _, path := range []string{"/admin/?period=2y", "/admin/?from=yesterday&to=2026-01-01", "/admin/referrals?status=won",
		"/admin/referrals?cursor=junk", "/admin/rewards?status=lost", "/admin/reviews?status=won", "/admin/reviews?cursor=junk", "/admin/?program=prog_nope"} {
		a := e.do(o, "GET", path, nil, nil)
		if a.status != 400 && a.status != 404 {
			t.Errorf("%s: %d", path, a.status)
		}
	}
	// CSV exports: the chart's numbers, one row per day.
	a := e.do(o, "GET", "/admin/overview.csv?program="+e.prog.ID+"&period=7d", nil, nil)
	lines := strings.Split(strings.TrimSpace(a.body), "\n")
	if a.header.Get("Content-Type") != "text/csv; charset=utf-8" || lines[0] != "date,clicks,signups,conversions" || len(lines) != 8 {
		t.Errorf("daily csv: %q", a.body)
	}
}

// TestUserCommand creates the first owner from the command line (password
// from stdin, as a script would), lists users and resets a password.
func TestUserCommand(t *testing.T) {
	db := dbtest.URL(t, "sqlite")
	// Commands other than serve and migrate use an existing database only.
	var mout, merr strings.Builder
	if code := app.CLI([]string{"migrate", "--db", db}, &mout, &merr); code != 0 {
		t.Fatalf("migrate: %d %q", code, merr.String())
	}
	run := func(stdin string, args ...string) (string, string, int) {
		t.Helper()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		old := os.Stdin
		os.Stdin = r
		defer func() { os.Stdin = old; r.Close() }()
		_, _ = w.WriteString(stdin)
		w.Close()
		var out, errb strings.Builder
		code := app.CLI(append(args, "--db", db), &out, &errb)
		return out.String(), errb.String(), code
	}
	out, errs, code := run("correct horse battery\n", "user", "create", "--email", "Olga@Corp.Example", "--role", "owner", "--name", "Olga", "--password-stdin")
	if code != 0 || !strings.Contains(out, "created olga@corp.example (owner") {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	if _, errs, code := run("short\n", "user", "create", "--email", "x@corp.example", "--role", "analyst"); code != 1 || !strings.Contains(errs, "at least 10 characters") {
		t.Errorf("short password: %d %q", code, errs)
	}
	if _, errs, code := run("correct horse battery\n", "user", "create", "--email", "y@corp.example", "--role", "admin"); code != 1 || !strings.Contains(errs, "owner, manager or analyst") {
		t.Errorf("bad role: %d %q", code, errs)
	}
	if _, errs, code := run("correct horse battery\n", "user", "create", "--email", "olga@corp.example", "--role", "owner"); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("duplicate: %d %q", code, errs)
	}
	out, _, code = run("", "user", "list")
	if code != 0 || !strings.Contains(out, "olga@corp.example") || !strings.Contains(out, "owner") {
		t.Errorf("list: %d %q", code, out)
	}
	out, errs, code = run("another long password\n", "user", "password", "--email", "olga@corp.example")
	if code != 0 || !strings.Contains(out, "password of olga@corp.example changed") {
		t.Fatalf("password: %d %q %q", code, out, errs)
	}
	// The new password works in the console; the old one does not.
	e := newEnv(t, func() app.Config { c := testConfig(db); c.Demo = false; return c }())
	jar, _ := cookiejar.New(nil)
	if a := e.signIn(jar, "olga@corp.example", "correct horse battery", ""); a.status != 401 {
		t.Errorf("old password: %d", a.status)
	}
	if a := e.signIn(jar, "olga@corp.example", "another long password", ""); a.status != 303 {
		t.Errorf("new password: %d", a.status)
	}
}
