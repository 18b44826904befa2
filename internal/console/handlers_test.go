package console

import (
	"context"
	"encoding/csv"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

var bg = context.Background()

// route is one console route: its pattern, the least role it admits
// ("" for visitor pages) and its handler.
type route struct {
	pattern string
	min     parrain.UserRole
	h       Handler
	guest   http.HandlerFunc
}

// consoleEnv is the console on a real store (SQLite or PostgreSQL), routed
// as internal/app/routes.go routes it, with one program and an owner, a
// manager and an analyst, each signed in.
type consoleEnv struct {
	*storetest.Env
	c      *Console
	acc    *access.Service
	mux    *http.ServeMux
	routes []route
	prog   parrain.Program
	users  map[parrain.UserRole]store.User
	sess   map[parrain.UserRole]testSession
}

type testSession struct{ token, csrf string }

// newConsoleEnv is the one place that builds the console for these tests.
func newConsoleEnv(t *testing.T, se *storetest.Env) *consoleEnv {
	t.Helper()
	acc := access.New(se.St, slog.New(slog.DiscardHandler), access.Config{})
	c, err := New(se.St, slog.New(slog.DiscardHandler), Options{Referral: se.Ref, BaseURL: "http://parrain.test",
		Partners: partner.New(se.St, se.Clock, se.Ref), LoginRate: 1, LoginBurst: 1000, Access: acc})
	if err != nil {
		t.Fatal(err)
	}
	e := &consoleEnv{Env: se, c: c, acc: acc, mux: http.NewServeMux(), users: map[parrain.UserRole]store.User{}, sess: map[parrain.UserRole]testSession{}}
	analyst, manager, owner := parrain.UserRoleAnalyst, parrain.UserRoleManager, parrain.UserRoleOwner
	e.routes = []route{
		{pattern: "GET /admin/login", guest: c.LoginPage},
		{pattern: "POST /admin/login", guest: c.Login},
		{pattern: "GET /admin/setup", guest: c.SetupPage},
		{pattern: "POST /admin/setup", guest: c.Setup},
		{"POST /admin/logout", analyst, c.Logout, nil},
		{"GET /admin/account", analyst, c.Account, nil},
		{"POST /admin/account/password", analyst, c.ChangePassword, nil},
		{"POST /admin/account/sign-out-everywhere", analyst, c.LogoutEverywhere, nil},
		{"GET /admin/{$}", analyst, c.Overview, nil},
		{"GET /admin/overview.csv", analyst, c.OverviewCSV, nil},
		{"GET /admin/kpis.csv", analyst, c.KPIsCSV, nil},
		{"GET /admin/jobs", analyst, c.Jobs, nil},
		{"GET /admin/programs", analyst, c.Programs, nil},
		{"GET /admin/programs/new", manager, c.NewProgram, nil},
		{"POST /admin/programs", manager, c.CreateProgram, nil},
		{"POST /admin/programs/preview", manager, c.PreviewProgram, nil},
		{"GET /admin/programs/{id}", analyst, c.Program, nil},
		{"GET /admin/programs/{id}/edit", manager, c.EditProgram, nil},
		{"POST /admin/programs/{id}", manager, c.UpdateProgram, nil},
		{"POST /admin/programs/{id}/status", manager, c.SetProgramStatus, nil},
		{"GET /admin/participants", analyst, c.Participants, nil},
		{"GET /admin/participants/{id}", analyst, c.Participant, nil},
		{"GET /admin/referrals", analyst, c.Referrals, nil},
		{"GET /admin/referrals.csv", analyst, c.ReferralsCSV, nil},
		{"POST /admin/referrals/bulk", manager, c.BulkReferrals, nil},
		{"GET /admin/reviews", analyst, c.Reviews, nil},
		{"POST /admin/reviews/{id}/clear", manager, c.ClearReview, nil},
		{"POST /admin/reviews/{id}/reject", manager, c.RejectReview, nil},
		{"GET /admin/rewards", analyst, c.Rewards, nil},
		{"GET /admin/rewards.csv", analyst, c.RewardsCSV, nil},
		{"POST /admin/rewards/bulk", manager, c.BulkRewards, nil},
		{"GET /admin/rewards/{id}", analyst, c.Reward, nil},
		{"POST /admin/rewards/{id}/approve", manager, c.ApproveReward, nil},
		{"POST /admin/rewards/{id}/reject", manager, c.RejectReward, nil},
		{"POST /admin/rewards/{id}/reinstate", manager, c.ReinstateReward, nil},
		{"GET /admin/audit", analyst, c.Audit, nil},
		{"GET /admin/partners", analyst, c.Partners, nil},
		{"GET /admin/partners/kpis.csv", analyst, c.PartnerKPIsCSV, nil},
		{"POST /admin/partners/{id}/approve", manager, c.ApprovePartner, nil},
		{"POST /admin/partners/{id}/reject", manager, c.RejectPartner, nil},
		{"GET /admin/partners/deals", analyst, c.Deals, nil},
		{"POST /admin/partners/deals/{id}/stage", manager, c.MoveDealStage, nil},
		{"GET /admin/payouts", analyst, c.Payouts, nil},
		{"POST /admin/payouts", manager, c.RunPayouts, nil},
		{"POST /admin/payouts/{id}/approve", manager, c.ApprovePayouts, nil},
		{"POST /admin/payouts/{id}/cancel", manager, c.CancelPayouts, nil},
		{"GET /admin/settings", analyst, c.Settings, nil},
		{"GET /admin/settings/users", owner, c.Users, nil},
		{"POST /admin/settings/users", owner, c.CreateUser, nil},
		{"POST /admin/settings/users/{id}/role", owner, c.SetUserRole, nil},
		{"POST /admin/settings/users/{id}/disable", owner, c.DisableUser, nil},
		{"POST /admin/settings/users/{id}/enable", owner, c.EnableUser, nil},
		{"POST /admin/settings/users/{id}/sign-out", owner, c.SignOutUser, nil},
		{"GET /admin/settings/api-keys", owner, c.APIKeys, nil},
		{"POST /admin/settings/api-keys", owner, c.CreateAPIKey, nil},
		{"POST /admin/settings/api-keys/{id}/revoke", owner, c.RevokeAPIKey, nil},
		{"GET /admin/settings/branding", analyst, c.Branding, nil},
		{"POST /admin/settings/branding", manager, c.SetBranding, nil},
		{"GET /admin/settings/email", analyst, c.EmailSender, nil},
		{"POST /admin/settings/email", manager, c.SetEmailSender, nil},
		{"GET /admin/settings/webhooks", analyst, c.Webhooks, nil},
		{"POST /admin/settings/webhooks", manager, c.CreateWebhook, nil},
		{"POST /admin/settings/webhooks/{id}/delete", manager, c.DeleteWebhook, nil},
		{"POST /admin/settings/webhooks/{id}/deliveries/{delivery}/replay", manager, c.ReplayWebhook, nil},
		{"GET /admin/settings/experience", analyst, c.Experience, nil},
		{"POST /admin/settings/experience", manager, c.SetExperience, nil},
		{"GET /admin/settings/fraud", analyst, c.FraudPolicy, nil},
		{"POST /admin/settings/fraud", manager, c.SetFraudPolicy, nil},
		{"GET /admin/settings/payouts", analyst, c.PayoutSettings, nil},
		{"POST /admin/settings/payouts", manager, c.SetPayoutSettings, nil},
		{"GET /admin/settings/email-templates", analyst, c.EmailTemplates, nil},
		{"POST /admin/settings/email-templates", manager, c.SetEmailTemplate, nil},
		{"GET /admin/settings/email-log", analyst, c.EmailLog, nil},
		{"GET /admin/settings/partner-program", analyst, c.PartnerProgramSettings, nil},
		{"POST /admin/settings/partner-program", manager, c.SetPartnerProgram, nil},
		{"GET /admin/settings/coupon-pools", analyst, c.CouponPools, nil},
		{"POST /admin/settings/coupon-pools", manager, c.CreateCouponPool, nil},
		{"POST /admin/settings/coupon-pools/codes", manager, c.ImportCouponCodes, nil},
		{"GET /admin/", analyst, c.NotFound, nil},
	}
	e.mux.Handle("GET /admin/static/{file}", c.Static())
	for _, r := range e.routes {
		if r.guest != nil {
			e.mux.Handle(r.pattern, c.Guest(r.guest))
		} else {
			e.mux.Handle(r.pattern, c.Require(r.min, r.h))
		}
	}
	return e
}

// withUsers adds the program and the three signed-in users.
func (e *consoleEnv) withUsers(t *testing.T) *consoleEnv {
	t.Helper()
	e.prog = e.Program(func(p *parrain.Program) { p.Name = "Acme referrals" })
	for _, role := range parrain.UserRoles {
		e.users[role] = e.user(t, string(role)+"@corp.example", role)
		e.sess[role] = e.session(t, e.users[role])
	}
	return e
}

// user creates a console user whose password is "correct horse battery".
func (e *consoleEnv) user(t *testing.T, email string, role parrain.UserRole) store.User {
	t.Helper()
	u, err := e.acc.CreateUser(parrain.WithActor(bg, parrain.Actor{Kind: parrain.ActorSystem, Label: "test"}),
		access.NewUser{Email: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *consoleEnv) session(t *testing.T, u store.User) testSession {
	t.Helper()
	tok, ss, err := e.acc.StartSession(bg, u, "192.0.2.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return testSession{tok, ss.CSRFToken}
}

// each runs fn on a fresh console per database engine.
func each(t *testing.T, fn func(t *testing.T, e *consoleEnv)) {
	storetest.Each(t, func(t *testing.T, se *storetest.Env) { fn(t, newConsoleEnv(t, se)) })
}

type reply struct {
	status int
	body   string // HTML-unescaped
	loc    string
	w      *httptest.ResponseRecorder
}

// do serves a request in session s (zero: a visitor). A form carries the
// session's CSRF token unless it sets "csrf" itself.
func (e *consoleEnv) do(s testSession, method, path string, form url.Values, hdr map[string]string) reply {
	var body io.Reader
	if form != nil {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if !f.Has("csrf") && s.csrf != "" {
			f.Set("csrf", s.csrf)
		}
		body = strings.NewReader(f.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if s.token != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.token})
	}
	for k, v := range hdr {
		if k == "Cookie" {
			r.Header.Add(k, v)
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return reply{w.Code, html.UnescapeString(w.Body.String()), w.Header().Get("Location"), w}
}

// flashOf follows a redirect's flash cookie to the page it is shown on.
func (e *consoleEnv) flashOf(t *testing.T, s testSession, a reply) string {
	t.Helper()
	for _, c := range a.w.Result().Cookies() {
		if c.Name == flashCookie && c.Value != "" {
			page := e.do(s, "GET", a.loc, nil, map[string]string{"Cookie": c.Name + "=" + c.Value})
			m := regexp.MustCompile(`class="flash flash-\w+" role="\w+">([^<]*)<`).FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("no flash on %s: %s", a.loc, page.body)
			}
			return m[1]
		}
	}
	t.Fatalf("no flash cookie: %d %q", a.status, a.loc)
	return ""
}

// TestPagesForEachRole: every role reads the pages its role admits, each
// rendered in full (the layout's data-page); pages above its role are a 403
// page naming the role needed; buttons of writes show only to roles that may
// use them.
func TestPagesForEachRole(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		adv := e.Advocate(e.prog.ID, "alice", "alice@example.com")
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.org", ReferralCode: adv.Code})
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		rws, _, err := e.St.ParticipantRewards(bg, adv.ID, "", store.Page{Limit: 10})
		if err != nil || len(rws) != 1 {
			t.Fatalf("rewards %+v %v", rws, err)
		}
		pages := []struct {
			path, page string
			min        parrain.UserRole
		}{
			{"/admin/", "overview", parrain.UserRoleAnalyst},
			{"/admin/programs", "programs", parrain.UserRoleAnalyst},
			{"/admin/programs/" + e.prog.ID, "program", parrain.UserRoleAnalyst},
			{"/admin/programs/new", "program_form", parrain.UserRoleManager},
			{"/admin/programs/" + e.prog.ID + "/edit", "program_form", parrain.UserRoleManager},
			{"/admin/participants", "participants", parrain.UserRoleAnalyst},
			{"/admin/participants/" + adv.ID, "participant", parrain.UserRoleAnalyst},
			{"/admin/referrals", "referrals", parrain.UserRoleAnalyst},
			{"/admin/rewards", "rewards", parrain.UserRoleAnalyst},
			{"/admin/rewards/" + rws[0].ID, "reward", parrain.UserRoleAnalyst},
			{"/admin/reviews", "reviews", parrain.UserRoleAnalyst},
			{"/admin/audit", "audit", parrain.UserRoleAnalyst},
			{"/admin/partners", "partners", parrain.UserRoleAnalyst},
			{"/admin/payouts", "payouts", parrain.UserRoleAnalyst},
			{"/admin/jobs", "jobs", parrain.UserRoleAnalyst},
			{"/admin/account", "account", parrain.UserRoleAnalyst},
			{"/admin/settings", "settings", parrain.UserRoleAnalyst},
			{"/admin/settings/branding", "branding", parrain.UserRoleAnalyst},
			{"/admin/settings/email", "email", parrain.UserRoleAnalyst},
			{"/admin/settings/webhooks", "webhooks", parrain.UserRoleAnalyst},
			{"/admin/settings/users", "users", parrain.UserRoleOwner},
			{"/admin/settings/api-keys", "apikeys", parrain.UserRoleOwner},
		}
		for _, role := range parrain.UserRoles {
			for _, p := range pages {
				a := e.do(e.sess[role], "GET", p.path, nil, nil)
				if !role.AtLeast(p.min) {
					if a.status != http.StatusForbidden || !strings.Contains(a.body, "Your role ("+string(role)+") cannot do this: it needs "+string(p.min)) {
						t.Errorf("%s as %s: %d, want 403", p.path, role, a.status)
					}
					continue
				}
				if a.status != http.StatusOK || !strings.Contains(a.body, `data-page="`+p.page+`"`) {
					t.Errorf("%s as %s: %d, want the %s page", p.path, role, a.status, p.page)
				}
				if a.w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(a.w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Errorf("%s as %s: headers %v", p.path, role, a.w.Header())
				}
			}
			// Who sees the buttons of writes.
			programs := e.do(e.sess[role], "GET", "/admin/programs", nil, nil)
			if got := strings.Contains(programs.body, `href="/admin/programs/new"`); got != role.AtLeast(parrain.UserRoleManager) {
				t.Errorf("%s sees the New program button: %v", role, got)
			}
			reward := e.do(e.sess[role], "GET", "/admin/rewards/"+rws[0].ID, nil, nil)
			if got := strings.Contains(reward.body, "/admin/rewards/"+rws[0].ID+"/approve"); got != role.AtLeast(parrain.UserRoleManager) {
				t.Errorf("%s sees the approve form: %v", role, got)
			}
		}
		if a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/nothing-here", nil, nil); a.status != http.StatusNotFound || !strings.Contains(a.body, "There is no console page at /admin/nothing-here") {
			t.Errorf("unknown page: %d", a.status)
		}
		if a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/participants/par_nope", nil, nil); a.status != http.StatusNotFound {
			t.Errorf("unknown participant: %d", a.status)
		}
		if a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/settings?program=prg_nope", nil, nil); a.status != http.StatusNotFound || !strings.Contains(a.body, "program not found") {
			t.Errorf("unknown program in the switcher: %d", a.status)
		}
	})
}

// TestWritesByRole: an analyst (and, for owner pages, a manager) is refused
// every write with a 403 that changes nothing; the role that may do it
// succeeds.
func TestWritesByRole(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		type state struct {
			color, sender string
			hooks, users  int
			status        parrain.ProgramStatus
		}
		read := func() state {
			t.Helper()
			b, err := e.St.ProgramBranding(bg, e.prog.ID)
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := e.St.GetEmailSender(bg)
			if err != nil {
				t.Fatal(err)
			}
			hooks, _, err := e.St.WebhookEndpoints(bg, e.prog.ID, store.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			us, err := e.St.Users(bg)
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.St.Program(bg, e.prog.ID)
			if err != nil {
				t.Fatal(err)
			}
			return state{b.PrimaryColor, s.Address, len(hooks), len(us), p.Status}
		}
		writes := []struct {
			name, path string
			form       url.Values
			min        parrain.UserRole
			changed    func(before, after state) bool
		}{
			{"branding", "/admin/settings/branding", url.Values{"program": {e.prog.ID}, "primary_color": {"#112233"}, "accent_color": {"#445566"}}, parrain.UserRoleManager,
				func(b, a state) bool { return a.color == "#112233" && b.color != a.color }},
			{"email sender", "/admin/settings/email", url.Values{"name": {"Acme"}, "address": {"hello@acme.example"}}, parrain.UserRoleManager,
				func(b, a state) bool { return a.sender == "hello@acme.example" && b.sender == "" }},
			{"webhook", "/admin/settings/webhooks", url.Values{"program": {e.prog.ID}, "url": {"https://hooks.acme.example/parrain"}, "event": {parrain.WebhookAllEvents}}, parrain.UserRoleManager,
				func(b, a state) bool { return a.hooks == b.hooks+1 }},
			{"pause", "/admin/programs/" + e.prog.ID + "/status", url.Values{"status": {"paused"}}, parrain.UserRoleManager,
				func(b, a state) bool { return a.status == parrain.ProgramPaused && b.status == parrain.ProgramActive }},
			{"user", "/admin/settings/users", url.Values{"email": {"new@corp.example"}, "role": {"analyst"}, "password": {"a fine long password"}}, parrain.UserRoleOwner,
				func(b, a state) bool { return a.users == b.users+1 }},
		}
		for _, w := range writes {
			t.Run(w.name, func(t *testing.T) {
				for _, role := range parrain.UserRoles {
					if role.AtLeast(w.min) {
						continue
					}
					before := read()
					a := e.do(e.sess[role], "POST", w.path, w.form, nil)
					if a.status != http.StatusForbidden || !strings.Contains(a.body, "needs "+string(w.min)) {
						t.Errorf("as %s: %d, want 403", role, a.status)
					}
					if after := read(); after != before {
						t.Errorf("as %s the refused write changed %+v into %+v", role, before, after)
					}
				}
				before := read()
				a := e.do(e.sess[w.min], "POST", w.path, w.form, nil)
				if a.status >= 400 {
					t.Fatalf("as %s: %d %s", w.min, a.status, a.body)
				}
				if after := read(); !w.changed(before, after) {
					t.Errorf("as %s nothing changed: %+v → %+v", w.min, before, after)
				}
			})
		}
	})
}

// TestCSRF: a console write needs this session's CSRF token (form field or
// X-CSRF-Token header) and the console's own origin.
func TestCSRF(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		m := e.sess[parrain.UserRoleManager]
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "name": {"Acme"}, "address": {"hello@acme.example"}}
		}
		cases := []struct {
			name string
			form url.Values
			hdr  map[string]string
			ok   bool
			text string
		}{
			{"no token", form(""), nil, false, "CSRF check failed"},
			{"a wrong token", form("forged"), nil, false, "CSRF check failed"},
			{"another user's token", form(e.sess[parrain.UserRoleOwner].csrf), nil, false, "CSRF check failed"},
			{"the right token from another site", form(m.csrf), map[string]string{"Sec-Fetch-Site": "cross-site"}, false, "another site"},
			{"the right token from another origin", form(m.csrf), map[string]string{"Origin": "https://evil.example"}, false, "another site"},
			{"the token in the header", url.Values{"csrf": {""}, "name": {"Acme"}, "address": {"hello@acme.example"}}, map[string]string{"X-CSRF-Token": m.csrf}, true, ""},
		}
		for _, c := range cases {
			a := e.do(m, "POST", "/admin/settings/email", c.form, c.hdr)
			s, set, err := e.St.GetEmailSender(bg)
			if err != nil {
				t.Fatal(err)
			}
			if c.ok {
				if a.status != http.StatusSeeOther || !set || s.Address != "hello@acme.example" {
					t.Errorf("%s: %d, sender %+v", c.name, a.status, s)
				}
				continue
			}
			if a.status != http.StatusForbidden || !strings.Contains(a.body, c.text) || set {
				t.Errorf("%s: %d (sender set %v): %s", c.name, a.status, set, a.body)
			}
		}
		// A visitor's form (sign-in) is refused from another site too.
		if a := e.do(testSession{}, "POST", "/admin/login", url.Values{"email": {"x@y.example"}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
			t.Errorf("cross-site sign-in: %d", a.status)
		}
	})
}

// TestVisitors: a visitor is sent to sign in (back to the page asked for
// afterwards), or to the one-time setup while no user exists; script
// requests get a JSON 401; a forged session cookie is a visitor.
func TestVisitors(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		if a := e.do(testSession{}, "GET", "/admin/rewards", nil, nil); a.status != http.StatusSeeOther || a.loc != "/admin/setup" {
			t.Errorf("no user yet: %d %q", a.status, a.loc)
		}
		e.withUsers(t)
		cases := []struct {
			name, method, path string
			s                  testSession
			hdr                map[string]string
			status             int
			loc, body          string
		}{
			{"a page", "GET", "/admin/rewards?status=pending", testSession{}, nil, 303, "/admin/login?next=%2Fadmin%2Frewards%3Fstatus%3Dpending", ""},
			{"the overview", "GET", "/admin/", testSession{}, nil, 303, "/admin/login", ""},
			{"a forged session", "GET", "/admin/audit", testSession{token: "forged"}, nil, 303, "/admin/login?next=%2Fadmin%2Faudit", ""},
			{"a write", "POST", "/admin/settings/email", testSession{}, nil, 303, "/admin/login", ""},
			{"a script", "GET", "/admin/rewards", testSession{}, map[string]string{"Accept": "application/json"}, 401, "", `"code":"unauthenticated"`},
			{"the setup page once users exist", "GET", "/admin/setup", testSession{}, nil, 303, "/admin/login", ""},
		}
		for _, c := range cases {
			a := e.do(c.s, c.method, c.path, nil, c.hdr)
			if a.status != c.status || a.loc != c.loc || !strings.Contains(a.body, c.body) {
				t.Errorf("%s: %d %q %s", c.name, a.status, a.loc, a.body)
			}
		}
	})
}

// TestSignInAndSessions signs in through the form on both databases: a
// disabled user, a wrong password and a bad next are refused or neutralised;
// signing out everywhere ends every session of the user.
func TestSignInAndSessions(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		login := func(email, password, next string) reply {
			t.Helper()
			page := e.do(testSession{}, "GET", "/admin/login", nil, nil)
			var csrf string
			for _, c := range page.w.Result().Cookies() {
				if c.Name == loginCSRFCookie {
					csrf = c.Value
				}
			}
			if page.status != http.StatusOK || csrf == "" || !strings.Contains(page.body, csrf) {
				t.Fatalf("sign-in page: %d", page.status)
			}
			return e.do(testSession{}, "POST", "/admin/login", url.Values{"email": {email}, "password": {password}, "next": {next}, "csrf": {csrf}},
				map[string]string{"Cookie": loginCSRFCookie + "=" + csrf})
		}
		if _, err := e.acc.SetDisabled(bg, e.users[parrain.UserRoleAnalyst].ID, true); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, email, password, next string
			status                      int
			loc                         string
		}{
			{"right password, back to the page", "manager@corp.example", "correct horse battery", "/admin/rewards?status=pending", 303, "/admin/rewards?status=pending"},
			{"an off-site next goes home", "Manager@Corp.example", "correct horse battery", "//evil.example/admin/", 303, "/admin/"},
			{"wrong password", "manager@corp.example", "correct horse batterY", "", 401, ""},
			{"unknown email", "nobody@corp.example", "correct horse battery", "", 401, ""},
			{"disabled user", "analyst@corp.example", "correct horse battery", "", 401, ""},
		}
		var manager testSession
		for _, c := range cases {
			a := login(c.email, c.password, c.next)
			if a.status != c.status || a.loc != c.loc {
				t.Errorf("%s: %d %q", c.name, a.status, a.loc)
				continue
			}
			if c.status == 401 {
				if !strings.Contains(a.body, "Wrong email or password.") {
					t.Errorf("%s: %s", c.name, a.body)
				}
				continue
			}
			for _, ck := range a.w.Result().Cookies() {
				if ck.Name == sessionCookie {
					manager.token = ck.Value
				}
			}
		}
		if a := e.do(manager, "GET", "/admin/account", nil, nil); a.status != http.StatusOK || !strings.Contains(a.body, "manager@corp.example") {
			t.Fatalf("signed-in session: %d", a.status)
		}
		ss, err := e.acc.Sessions(bg, e.users[parrain.UserRoleManager].ID)
		if err != nil || len(ss) != 3 { // the env's and two sign-ins
			t.Fatalf("sessions %d %v", len(ss), err)
		}
		old := e.sess[parrain.UserRoleManager]
		a := e.do(old, "POST", "/admin/account/sign-out-everywhere", url.Values{}, nil)
		if a.status != http.StatusSeeOther || a.loc != "/admin/login" || !strings.Contains(e.flashOf(t, testSession{}, a), "3 sessions ended") {
			t.Fatalf("sign out everywhere: %d %q", a.status, a.loc)
		}
		for _, s := range []testSession{old, manager} {
			if a := e.do(s, "GET", "/admin/account", nil, nil); a.status != http.StatusSeeOther {
				t.Errorf("a session survived: %d", a.status)
			}
		}
	})
}

// fieldError returns the message shown under a form field, or "".
func fieldError(body, id string) string {
	m := regexp.MustCompile(`id="` + id + `"><p class="field-error" role="alert">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestFormErrors: invalid settings come back on their form, the message
// under the field, what was typed kept, nothing saved.
func TestFormErrors(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		owner, manager := e.sess[parrain.UserRoleOwner], e.sess[parrain.UserRoleManager]
		cases := []struct {
			name   string
			s      testSession
			path   string
			form   url.Values
			status int
			errID  string // the field's error element ("" when the message is elsewhere)
			msg    string
			kept   string
		}{
			{"user: bad email", owner, "/admin/settings/users", url.Values{"email": {"not-an-email"}, "name": {"Nina Kept"}, "role": {"analyst"}, "password": {"a fine long password"}}, 400, "new-email-err", "", "Nina Kept"},
			{"user: weak password", owner, "/admin/settings/users", url.Values{"email": {"nina@corp.example"}, "role": {"analyst"}, "password": {"short"}}, 400, "new-password-err", "", "nina@corp.example"},
			{"user: bad role", owner, "/admin/settings/users", url.Values{"email": {"nina@corp.example"}, "role": {"admin"}, "password": {"a fine long password"}}, 400, "", "must be owner, manager or analyst", "nina@corp.example"},
			{"user: taken email", owner, "/admin/settings/users", url.Values{"email": {"Manager@corp.example"}, "role": {"analyst"}, "password": {"a fine long password"}}, 409, "new-email-err", "", ""},
			{"API key: no scope", owner, "/admin/settings/api-keys", url.Values{"name": {"CI key"}}, 400, "", "choose at least one scope", "CI key"},
			{"API key: unknown program", owner, "/admin/settings/api-keys", url.Values{"name": {"CI key"}, "scope": {store.ScopeRead}, "program_id": {"prg_nope"}}, 404, "", "not found", "CI key"},
			{"branding: bad colour", manager, "/admin/settings/branding", url.Values{"program": {e.prog.ID}, "primary_color": {"blue"}, "accent_color": {"#445566"}}, 400, "primary-err", "must be a colour like #1d4ed8", "#445566"},
			{"branding: http logo", manager, "/admin/settings/branding", url.Values{"program": {e.prog.ID}, "logo_url": {"http://acme.example/logo.png"}, "primary_color": {"#112233"}, "accent_color": {"#445566"}}, 400, "logo-err", "must be an https URL", "#112233"},
			{"email: no name", manager, "/admin/settings/email", url.Values{"address": {"hello@acme.example"}}, 400, "s-name-err", "is required", "hello@acme.example"},
			{"webhook: not a URL", manager, "/admin/settings/webhooks", url.Values{"program": {e.prog.ID}, "url": {"ftp://x"}, "description": {"Kept description"}}, 400, "wh-url-err", "", "Kept description"},
			{"password: wrong current", manager, "/admin/account/password", url.Values{"current": {"nope"}, "password": {"another long password"}, "confirm": {"another long password"}}, 400, "current-err", "is not your current password", ""},
			{"password: confirmation differs", manager, "/admin/account/password", url.Values{"current": {"correct horse battery"}, "password": {"another long password"}, "confirm": {"another long passwore"}}, 400, "confirm-err", "the two passwords differ", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.do(c.s, "POST", c.path, c.form, nil)
				if a.status != c.status {
					t.Fatalf("%d, want %d: %s", a.status, c.status, a.body)
				}
				if c.errID != "" {
					if got := fieldError(a.body, c.errID); got == "" || !strings.Contains(got, c.msg) {
						t.Errorf("error under #%s: %q, want %q", c.errID, got, c.msg)
					}
				} else if !strings.Contains(a.body, c.msg) {
					t.Errorf("no %q in the page", c.msg)
				}
				if !strings.Contains(a.body, c.kept) {
					t.Errorf("the form lost %q", c.kept)
				}
			})
		}
		// Nothing was saved.
		us, err := e.St.Users(bg)
		if err != nil || len(us) != 3 {
			t.Errorf("users %d %v", len(us), err)
		}
		keys, err := e.St.APIKeys(bg)
		if err != nil || len(keys) != 0 {
			t.Errorf("keys %+v %v", keys, err)
		}
		if _, set, err := e.St.GetEmailSender(bg); err != nil || set {
			t.Errorf("sender set %v %v", set, err)
		}
		if b, err := e.St.ProgramBranding(bg, e.prog.ID); err != nil || b.PrimaryColor != store.DefaultPrimaryColor {
			t.Errorf("branding %+v %v", b, err)
		}
		if a := e.do(manager, "GET", "/admin/account", nil, nil); a.status != http.StatusOK {
			t.Errorf("the manager's session ended: %d", a.status)
		}
	})
}

// TestUsersAndKeys: an owner manages users (roles, disabling signs out, the
// last owner is kept) and API keys (the secret shown once, revocation).
func TestUsersAndKeys(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		owner := e.sess[parrain.UserRoleOwner]
		a := e.do(owner, "POST", "/admin/settings/users", url.Values{"email": {"Nina@Corp.example"}, "name": {"Nina"}, "role": {"manager"}, "password": {"a fine long password"}}, nil)
		if a.status != http.StatusSeeOther || !strings.Contains(e.flashOf(t, owner, a), "User nina@corp.example created as manager") {
			t.Fatalf("create user: %d", a.status)
		}
		nina, err := e.St.UserByEmail(bg, "nina@corp.example")
		if err != nil || nina.Role != parrain.UserRoleManager {
			t.Fatalf("nina %+v %v", nina, err)
		}
		ninaSess := e.session(t, nina)
		steps := []struct {
			name, path string
			form       url.Values
			flash      string
		}{
			{"demote", "/admin/settings/users/" + nina.ID + "/role", url.Values{"role": {"analyst"}}, "nina@corp.example is now analyst."},
			{"an unknown role", "/admin/settings/users/" + nina.ID + "/role", url.Values{"role": {"root"}}, "must be owner, manager or analyst"},
			{"the last owner cannot step down", "/admin/settings/users/" + e.users[parrain.UserRoleOwner].ID + "/role", url.Values{"role": {"manager"}}, "this is the last active owner"},
			{"disable", "/admin/settings/users/" + nina.ID + "/disable", url.Values{}, "nina@corp.example is disabled and signed out everywhere."},
		}
		for _, s := range steps {
			a := e.do(owner, "POST", s.path, s.form, nil)
			if a.status != http.StatusSeeOther || a.loc != "/admin/settings/users" {
				t.Fatalf("%s: %d %q", s.name, a.status, a.loc)
			}
			if got := e.flashOf(t, owner, a); !strings.Contains(got, s.flash) {
				t.Errorf("%s: flash %q, want %q", s.name, got, s.flash)
			}
		}
		if a := e.do(ninaSess, "GET", "/admin/", nil, nil); a.status != http.StatusSeeOther {
			t.Errorf("a disabled user's session still works: %d", a.status)
		}
		if u, err := e.St.UserByEmail(bg, "nina@corp.example"); err != nil || u.Role != parrain.UserRoleAnalyst || u.Active() {
			t.Errorf("nina %+v %v", u, err)
		}
		if a := e.do(owner, "POST", "/admin/settings/users/usr_nope/disable", url.Values{}, nil); a.status != http.StatusNotFound {
			t.Errorf("unknown user: %d", a.status)
		}

		a = e.do(owner, "POST", "/admin/settings/api-keys", url.Values{"name": {"CI key"}, "scope": {store.ScopeRead, store.ScopeEvents}, "program_id": {e.prog.ID}}, nil)
		m := regexp.MustCompile(`id="new-key">(prn_[a-z0-9]+)<`).FindStringSubmatch(a.body)
		if a.status != http.StatusCreated || m == nil {
			t.Fatalf("create key: %d %s", a.status, a.body)
		}
		keys, err := e.St.APIKeys(bg)
		if err != nil || len(keys) != 1 || keys[0].Name != "CI key" {
			t.Fatalf("keys %+v %v", keys, err)
		}
		if k, err := access.New(e.St, nil, access.Config{}).AuthenticateAPIKey(bg, m[1]); err != nil || k.ID != keys[0].ID {
			t.Fatalf("the shown secret does not authenticate: %+v %v", k, err)
		}
		if list := e.do(owner, "GET", "/admin/settings/api-keys", nil, nil); strings.Contains(list.body, m[1]) {
			t.Error("the secret is shown again")
		}
		a = e.do(owner, "POST", "/admin/settings/api-keys/"+keys[0].ID+"/revoke", url.Values{}, nil)
		if a.status != http.StatusSeeOther || !strings.Contains(e.flashOf(t, owner, a), "API key revoked") {
			t.Fatalf("revoke: %d", a.status)
		}
		if _, err := access.New(e.St, nil, access.Config{}).AuthenticateAPIKey(bg, m[1]); err == nil {
			t.Error("a revoked key still authenticates")
		}
	})
}

// TestFlashIsSigned: only the console's own flash messages are shown.
func TestFlashIsSigned(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		s := e.sess[parrain.UserRoleAnalyst]
		rec := httptest.NewRecorder()
		e.c.setFlash(rec, httptest.NewRequest("GET", "/admin/", nil), "ok", "Genuine message")
		genuine := rec.Result().Cookies()[0].Value
		forged := strings.SplitN(genuine, ".", 2)[0] + ".AAAA"
		for _, c := range []struct {
			cookie string
			shown  bool
		}{{genuine, true}, {forged, false}, {"garbage", false}} {
			a := e.do(s, "GET", "/admin/settings", nil, map[string]string{"Cookie": flashCookie + "=" + c.cookie})
			if got := strings.Contains(a.body, "Genuine message"); a.status != http.StatusOK || got != c.shown {
				t.Errorf("cookie %q: %d, shown %v", c.cookie, a.status, got)
			}
		}
	})
}

// TestReferralsCSV exports the program's referrals, one row each under the
// header, with names that a spreadsheet would run as formulas defused; a
// program that does not exist is a 404 page, not an empty file.
func TestReferralsCSV(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		adv := e.Advocate(e.prog.ID, "alice", "alice@example.com")
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Name: `=HYPERLINK("http://evil.example")`, ReferralCode: adv.Code})
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "carl", Name: "Carl Plain", ReferralCode: adv.Code})
		a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/referrals.csv?program="+e.prog.ID, nil, nil)
		if a.status != http.StatusOK || !strings.HasPrefix(a.w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("%d %v", a.status, a.w.Header())
		}
		rows, err := csv.NewReader(strings.NewReader(a.w.Body.String())).ReadAll()
		if err != nil || len(rows) != 3 || rows[0][7] != "friend_name" {
			t.Fatalf("rows %q %v", rows, err)
		}
		names := map[string]bool{}
		for _, r := range rows[1:] {
			names[r[7]] = true
			if r[4] != "alice" || r[8] != adv.Code {
				t.Errorf("row %q", r)
			}
			if strings.HasPrefix(r[7], "=") {
				t.Errorf("a formula is exported as is: %q", r[7])
			}
		}
		if !names["Carl Plain"] || len(names) != 2 {
			t.Errorf("names %v", names)
		}
		if a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/referrals.csv?program=prg_nope", nil, nil); a.status != http.StatusNotFound {
			t.Errorf("unknown program: %d", a.status)
		}
	})
}

// TestWebhookDeletePerProgram: deleting an endpoint names its program; the
// id of another program's endpoint is a 404 that deletes nothing.
func TestWebhookDeletePerProgram(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		other := e.Program(func(p *parrain.Program) { p.Name = "Other" })
		u := "https://hooks.other.example/in"
		ep, _, err := outbound.NewService(e.St).CreateEndpoint(bg, other.ID, parrain.WebhookEndpointInput{URL: &u, EventTypes: []string{parrain.WebhookAllEvents}}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		count := func(programID string) int {
			t.Helper()
			eps, _, err := e.St.WebhookEndpoints(bg, programID, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return len(eps)
		}
		m := e.sess[parrain.UserRoleManager]
		if a := e.do(m, "POST", "/admin/settings/webhooks/"+ep.ID+"/delete", url.Values{"program": {e.prog.ID}}, nil); a.status != http.StatusNotFound {
			t.Errorf("through another program: %d", a.status)
		}
		if n := count(other.ID); n != 1 {
			t.Fatalf("%d endpoints left, want 1", n)
		}
		page := e.do(m, "GET", "/admin/settings/webhooks?program="+e.prog.ID, nil, nil)
		if page.status != http.StatusOK || strings.Contains(page.body, u) {
			t.Errorf("another program's endpoint listed: %d", page.status)
		}
		a := e.do(m, "POST", "/admin/settings/webhooks/"+ep.ID+"/delete", url.Values{"program": {other.ID}}, nil)
		if a.status != http.StatusSeeOther || a.loc != "/admin/settings/webhooks?program="+other.ID || e.flashOf(t, m, a) != "Webhook endpoint deleted." {
			t.Fatalf("delete: %d %q", a.status, a.loc)
		}
		if n := count(other.ID); n != 0 {
			t.Errorf("%d endpoints left, want 0", n)
		}
	})
}
