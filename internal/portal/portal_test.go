package portal

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

var bg = context.Background()

// env is the portal on a real store (SQLite or PostgreSQL), routed as
// internal/app/routes.go routes it, with a partner program "acme" (two
// tiers), its active partners Alice and Bob, and a second program "globex"
// with its partner Gina. Magic links go to the server log (no mailer), which
// the env keeps.
type env struct {
	*storetest.Env
	ps          *partner.Service
	acc         *access.Service
	mux         *http.ServeMux
	logs        *syncBuf
	prog        parrain.Program
	alice, bob  parrain.Partner
	globex      parrain.Program
	gina        parrain.Partner
	secretLead  string // Alice's lead
	resellerDoc string // an asset of the upper tier
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newEnv is the one place that builds the portal for these tests.
func newEnv(t *testing.T, se *storetest.Env) *env {
	t.Helper()
	e := &env{Env: se, ps: partner.New(se.St, se.Clock, se.Ref), mux: http.NewServeMux(), logs: &syncBuf{}}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	e.acc = access.New(se.St, log, access.Config{})
	p, err := New(se.St, log, Options{BaseURL: "http://parrain.test", Partners: e.ps, Access: e.acc, SignInBurst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	handle := func(pattern string, h http.Handler) { e.mux.Handle(pattern, h) }
	handle("GET /partner-static/{file}", p.Static())
	handle("GET /partners/{slug}/apply", p.Public(p.ApplyPage))
	handle("POST /partners/{slug}/apply", p.Public(p.Apply))
	handle("GET /partners/{slug}/login", p.Public(p.LoginPage))
	handle("POST /partners/{slug}/login", p.Public(p.Login))
	handle("POST /partners/{slug}/magic", p.Public(p.SendMagicLink))
	handle("GET /partners/{slug}/magic/{token}", p.Public(p.MagicLink))
	handle("POST /partners/{slug}/logout", p.Private(p.Logout))
	handle("GET /partners/{slug}/{$}", p.Private(p.Dashboard))
	handle("GET /partners/{slug}/leads/new", p.Private(p.NewLeadPage))
	handle("GET /partners/{slug}/leads/check", p.Private(p.CheckLead))
	handle("POST /partners/{slug}/leads", p.Private(p.RegisterLead))
	handle("POST /partners/{slug}/leads/{lead_id}/extension", p.Private(p.RequestExtension))
	handle("GET /partners/{slug}/assets", p.Private(p.Assets))
	handle("GET /partners/{slug}/assets/{asset_id}", p.Private(p.DownloadAsset))
	handle("POST /partners/{slug}/agreement", p.Private(p.AcceptAgreement))
	handle("POST /partners/{slug}/onboarding", p.Private(p.Onboarding))
	handle("POST /partners/{slug}/password", p.Private(p.SetPassword))
	handle("GET /partners/{slug}/payout", p.Private(p.PayoutPage))
	handle("POST /partners/{slug}/payout", p.Private(p.SetPayout))
	handle("POST /partners/{slug}/survey", p.Private(p.AnswerSurvey))

	e.prog = se.Program(func(p *parrain.Program) { p.Name = "Acme partners" })
	if _, err := e.ps.PutProgram(bg, e.prog.ID, parrain.PartnerSettings{Slug: "acme", ApplicationsOpen: true},
		[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}, {Key: "reseller", Name: "Certified Reseller", Rank: 1}}); err != nil {
		t.Fatal(err)
	}
	e.globex = se.Program(func(p *parrain.Program) { p.Name = "Globex partners" })
	if _, err := e.ps.PutProgram(bg, e.globex.ID, parrain.PartnerSettings{Slug: "globex"}, []parrain.Tier{{Key: "basic", Name: "Basic"}}); err != nil {
		t.Fatal(err)
	}
	e.alice = e.partner(t, e.prog.ID, "alice@advisors.example", "Alice Advisors")
	e.bob = e.partner(t, e.prog.ID, "bob@rival.example", "Bob Rival")
	e.gina = e.partner(t, e.globex.ID, "gina@globex.example", "Gina Globex")
	lead, _, err := e.ps.RegisterLead(bg, e.prog.ID, e.alice.ID, parrain.LeadInput{CompanyName: "Initech Secret Deal", CompanyDomain: "initech-secret.example",
		ContactEmail: "ceo@initech-secret.example", CompanySize: 50, Consent: true}, partner.RegisterOptions{Actor: "partner:" + e.alice.ID}, store.Idem{})
	if err != nil || lead.Lead == nil {
		t.Fatalf("alice's lead: %+v %v", lead, err)
	}
	e.secretLead = lead.Lead.ID
	doc, _, err := e.ps.CreateAsset(bg, e.prog.ID, store.Asset{Title: "Reseller price list", Kind: "other", Filename: "prices.txt", ContentType: "text/plain",
		Content: []byte("confidential prices"), MinTier: "reseller"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	e.resellerDoc = doc.ID
	return e
}

// partner invites an active partner.
func (e *env) partner(t *testing.T, programID, email, name string) parrain.Partner {
	t.Helper()
	p, _, err := e.ps.Apply(bg, programID, parrain.PartnerApplication{Email: email, Name: name}, partner.SourceInvite, store.Idem{})
	if err != nil || p.Status != parrain.PartnerActive {
		t.Fatalf("invite %s: %+v %v", email, p, err)
	}
	return p
}

// each runs fn on a fresh env per database engine.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, se *storetest.Env) { fn(t, newEnv(t, se)) })
}

// sess is a partner's signed-in session.
type sess struct{ token, csrf string }

func (e *env) session(t *testing.T, p parrain.Partner) sess {
	t.Helper()
	ps, err := e.acc.StartPartnerSession(bg, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sess{ps.Token, ps.CSRF}
}

type answer struct {
	status int
	body   string
	loc    string
	w      *httptest.ResponseRecorder
}

// do serves a request in session s (zero: none). A form request carries
// the session's CSRF token unless form sets "csrf".
func (e *env) do(s sess, method, path string, form url.Values, hdr map[string]string) answer {
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
		r.AddCookie(&http.Cookie{Name: cookieName, Value: s.token})
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.mux.ServeHTTP(w, r)
	return answer{w.Code, html.UnescapeString(w.Body.String()), w.Header().Get("Location"), w}
}

// sessionCookie returns the session an answer started, or fails.
func sessionCookie(t *testing.T, a answer) sess {
	t.Helper()
	for _, c := range a.w.Result().Cookies() {
		if c.Name == cookieName && c.Value != "" {
			if !c.HttpOnly || c.Path != "/partners/" || c.SameSite != http.SameSiteLaxMode || c.MaxAge <= 0 {
				t.Errorf("session cookie %+v", c)
			}
			return sess{token: c.Value}
		}
	}
	t.Fatalf("no session cookie: %d %s", a.status, a.body)
	return sess{}
}

// signedInAs checks a session opens the dashboard as p.
func (e *env) signedInAs(t *testing.T, s sess, slug string, p parrain.Partner) {
	t.Helper()
	a := e.do(s, "GET", "/partners/"+slug+"/", nil, nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, "Dashboard") {
		t.Fatalf("dashboard as %s: %d %s %s", p.Email, a.status, a.loc, a.body)
	}
}

func TestPasswordSignIn(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Alice sets her password in the portal; a short one is refused.
		as := e.session(t, e.alice)
		if a := e.do(as, "POST", "/partners/acme/password", url.Values{"password": {"short"}}, nil); a.status != http.StatusSeeOther || !strings.Contains(a.loc, "flash=The+password+must+have+10+to+256") {
			t.Fatalf("short password: %d %q", a.status, a.loc)
		}
		if _, hash, err := e.St.PartnerByEmail(bg, e.prog.ID, e.alice.Email); err != nil || hash != "" {
			t.Fatalf("a refused password was stored: %q %v", hash, err)
		}
		if a := e.do(as, "POST", "/partners/acme/password", url.Values{"password": {"a long enough secret"}}, nil); a.status != http.StatusSeeOther || !strings.Contains(a.loc, "Password+saved") {
			t.Fatalf("set password: %d %q", a.status, a.loc)
		}
		// Gina of the other program has the same password.
		if err := e.acc.SetPartnerPassword(bg, e.gina.ID, "", "", "a long enough secret"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, slug, email, password string
			ok                          bool
		}{
			{"right password", "acme", "alice@advisors.example", "a long enough secret", true},
			{"email in capitals", "acme", "ALICE@Advisors.example", "a long enough secret", true},
			{"wrong password", "acme", "alice@advisors.example", "a long enough secreT", false},
			{"no password set", "acme", "bob@rival.example", "", false},
			{"unknown email", "acme", "mallory@evil.example", "a long enough secret", false},
			{"another program's partner", "acme", "gina@globex.example", "a long enough secret", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.do(sess{}, "POST", "/partners/"+c.slug+"/login", url.Values{"email": {c.email}, "password": {c.password}}, nil)
				if !c.ok {
					if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "Wrong email or password") || len(a.w.Result().Cookies()) != 0 {
						t.Errorf("%d %v %s", a.status, a.w.Result().Cookies(), a.body)
					}
					return
				}
				if a.status != http.StatusSeeOther || a.loc != "/partners/acme/" {
					t.Fatalf("%d %q", a.status, a.loc)
				}
				e.signedInAs(t, sessionCookie(t, a), "acme", e.alice)
			})
		}
		// Gina's password works on her own program's portal only.
		a := e.do(sess{}, "POST", "/partners/globex/login", url.Values{"email": {"gina@globex.example"}, "password": {"a long enough secret"}}, nil)
		e.signedInAs(t, sessionCookie(t, a), "globex", e.gina)
	})
}

var linkRE = regexp.MustCompile(`link=http://parrain\.test(/partners/[a-z]+/magic/[0-9a-f]+)`)

// links returns the magic links logged so far.
func (e *env) links() []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(e.logs.String(), -1) {
		out = append(out, m[1])
	}
	return out
}

func TestMagicLink(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		send := func(slug, email string) answer {
			t.Helper()
			a := e.do(sess{}, "POST", "/partners/"+slug+"/magic", url.Values{"email": {email}}, nil)
			if a.status != http.StatusOK || !strings.Contains(a.body, "If "+email+" belongs to an active partner") {
				t.Fatalf("send to %s: %d %s", email, a.status, a.body)
			}
			return a
		}
		// Unknown addresses, another program's partner and a pending
		// applicant get the same answer, and no link.
		if _, _, err := e.ps.Apply(bg, e.prog.ID, parrain.PartnerApplication{Email: "pending@applicant.example", Name: "Pending"}, partner.SourceApplication, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"nobody@nowhere.example", "gina@globex.example", "pending@applicant.example"} {
			send("acme", email)
		}
		if got := e.links(); len(got) != 0 {
			t.Fatalf("links sent: %v", got)
		}
		send("acme", e.alice.Email)
		send("acme", e.bob.Email)
		send("globex", e.gina.Email)
		links := e.links()
		if len(links) != 3 || !strings.HasPrefix(links[0], "/partners/acme/magic/") || !strings.HasPrefix(links[2], "/partners/globex/magic/") {
			t.Fatalf("links %v", links)
		}
		aliceLink, bobLink, ginaLink := links[0], links[1], links[2]

		refused := func(name, path string) {
			t.Helper()
			a := e.do(sess{}, "GET", path, nil, nil)
			if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "invalid, used or expired") || len(a.w.Result().Cookies()) != 0 {
				t.Errorf("%s: %d %s", name, a.status, a.body)
			}
		}
		// Gina's link on Acme's portal does not sign anyone in.
		refused("another program's link", "/partners/acme/magic/"+strings.TrimPrefix(ginaLink, "/partners/globex/magic/"))
		refused("a made-up token", "/partners/acme/magic/00112233445566778899aabbccddeeff")

		a := e.do(sess{}, "GET", aliceLink, nil, nil)
		if a.status != http.StatusSeeOther || a.loc != "/partners/acme/" {
			t.Fatalf("alice's link: %d %q %s", a.status, a.loc, a.body)
		}
		e.signedInAs(t, sessionCookie(t, a), "acme", e.alice)
		refused("a used link", aliceLink)

		e.Clock.Advance(access.MagicLinkTTL + time.Second)
		refused("an expired link", bobLink)
	})
}

// TestSessions: a private page needs a live session of an active partner
// of this very program; signing out ends the session.
func TestSessions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		alice, gina := e.session(t, e.alice), e.session(t, e.gina)
		toLogin := func(name string, s sess, slug string) {
			t.Helper()
			if a := e.do(s, "GET", "/partners/"+slug+"/assets", nil, nil); a.status != http.StatusSeeOther || a.loc != "/partners/"+slug+"/login" {
				t.Errorf("%s: %d %q", name, a.status, a.loc)
			}
		}
		toLogin("no session", sess{}, "acme")
		toLogin("a made-up session", sess{token: "forged"}, "acme")
		toLogin("another program's partner", gina, "acme")
		toLogin("Alice on Globex", alice, "globex")
		e.signedInAs(t, gina, "globex", e.gina)
		if a := e.do(alice, "GET", "/partners/nope/", nil, nil); a.status != http.StatusNotFound {
			t.Errorf("unknown program: %d", a.status)
		}

		// Signing out clears the cookie and ends the session server-side.
		a := e.do(alice, "POST", "/partners/acme/logout", url.Values{}, nil)
		if a.status != http.StatusSeeOther || a.loc != "/partners/acme/login" {
			t.Fatalf("logout: %d %q", a.status, a.loc)
		}
		if cs := a.w.Result().Cookies(); len(cs) != 1 || cs[0].Name != cookieName || cs[0].MaxAge >= 0 {
			t.Errorf("logout cookie %+v", cs)
		}
		toLogin("after signing out", alice, "acme")

		// Sessions expire.
		bob := e.session(t, e.bob)
		e.signedInAs(t, bob, "acme", e.bob)
		e.Clock.Advance(access.PartnerSessionTTL + time.Minute)
		toLogin("an expired session", bob, "acme")
	})
}

// TestCSRF: a write needs the session's CSRF token and must come from the
// portal's own origin; refused writes change nothing.
func TestCSRF(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		bob := e.session(t, e.bob)
		writes := []struct {
			path string
			form url.Values
		}{
			{"/partners/acme/password", url.Values{"password": {"a long enough secret"}}},
			{"/partners/acme/payout", url.Values{"method": {"paypal"}, "paypal_email": {"bob@rival.example"}}},
			{"/partners/acme/leads", url.Values{"company_name": {"Hooli"}, "company_domain": {"hooli.example"}, "company_size": {"10"}, "consent": {"on"}}},
			{"/partners/acme/agreement", url.Values{"version": {"1"}}},
			{"/partners/acme/logout", url.Values{}},
		}
		attacks := []struct {
			name string
			csrf string
			hdr  map[string]string
		}{
			{"no token", "", nil},
			{"another session's token", e.session(t, e.alice).csrf, nil},
			{"the right token from another site", bob.csrf, map[string]string{"Sec-Fetch-Site": "cross-site"}},
			{"the right token from another origin", bob.csrf, map[string]string{"Origin": "https://evil.example"}},
		}
		for _, w := range writes {
			for _, at := range attacks {
				f := url.Values{"csrf": {at.csrf}}
				for k, v := range w.form {
					f[k] = v
				}
				if a := e.do(bob, "POST", w.path, f, at.hdr); a.status != http.StatusForbidden {
					t.Errorf("%s with %s: %d %q", w.path, at.name, a.status, a.loc)
				}
			}
		}
		// Visitor forms pass the cross-origin check too.
		if a := e.do(sess{}, "POST", "/partners/acme/magic", url.Values{"email": {e.bob.Email}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); a.status != http.StatusForbidden {
			t.Errorf("cross-site magic link request: %d", a.status)
		}
		if len(e.links()) != 0 {
			t.Errorf("a link was sent: %v", e.links())
		}
		// Nothing changed: no password, no payout account, no lead, the
		// session alive.
		if _, hash, err := e.St.PartnerByEmail(bg, e.prog.ID, e.bob.Email); err != nil || hash != "" {
			t.Errorf("password %q %v", hash, err)
		}
		if _, err := e.St.PayoutAccount(bg, e.prog.ID, e.bob.ExternalID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("payout account: %v", err)
		}
		leads, _, err := e.St.Leads(bg, e.prog.ID, store.LeadFilter{PartnerID: e.bob.ID}, store.Page{})
		if err != nil || len(leads) != 0 {
			t.Errorf("leads %+v %v", leads, err)
		}
		e.signedInAs(t, bob, "acme", e.bob)
		// The same write with its token goes through.
		if a := e.do(bob, "POST", "/partners/acme/payout", url.Values{"method": {"paypal"}, "paypal_email": {"bob@rival.example"}}, nil); a.status != http.StatusSeeOther {
			t.Errorf("legitimate write: %d %s", a.status, a.body)
		}
	})
}

// TestIsolation: Bob, signed in, names Alice's lead and an asset above his
// tier: 404, nothing of Alice's shows, and his attempt to take her account
// is refused without naming her.
func TestIsolation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		bob := e.session(t, e.bob)
		secrets := []string{"Initech Secret Deal", "ceo@initech-secret.example", "alice@advisors.example", "Alice Advisors", "confidential prices"}
		cases := []struct {
			name, method, path string
			form               url.Values
			status             int
		}{
			{"dashboard", "GET", "/partners/acme/", nil, http.StatusOK},
			{"assets", "GET", "/partners/acme/assets", nil, http.StatusOK},
			{"an asset above his tier", "GET", "/partners/acme/assets/" + e.resellerDoc, nil, http.StatusNotFound},
			{"an unknown asset", "GET", "/partners/acme/assets/ast_nope", nil, http.StatusNotFound},
			{"an extension of Alice's lead", "POST", "/partners/acme/leads/" + e.secretLead + "/extension", url.Values{"days": {"30"}, "reason": {"mine"}}, http.StatusNotFound},
			{"checking Alice's account", "GET", "/partners/acme/leads/check?company_domain=initech-secret.example", nil, http.StatusOK},
			{"registering Alice's account", "POST", "/partners/acme/leads", url.Values{"company_name": {"Initech"}, "company_domain": {"www.initech-secret.example"},
				"company_size": {"50"}, "consent": {"on"}}, http.StatusConflict},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := e.do(bob, c.method, c.path, c.form, nil)
				if a.status != c.status {
					t.Errorf("%d, want %d: %s", a.status, c.status, a.body)
				}
				for _, s := range secrets {
					if strings.Contains(a.body, s) {
						t.Errorf("shows %q", s)
					}
				}
			})
		}
		check := e.do(bob, "GET", "/partners/acme/leads/check?company_domain=initech-secret.example", nil, nil)
		if !strings.Contains(check.body, `"ok":false`) {
			t.Errorf("check of a claimed account: %s", check.body)
		}
		exts, err := e.St.Extensions(bg, e.prog.ID, "", "")
		if err != nil || len(exts) != 0 {
			t.Errorf("extensions %+v %v", exts, err)
		}
		// Alice may download nothing above her tier either, and asks for her
		// own extension.
		alice := e.session(t, e.alice)
		if a := e.do(alice, "GET", "/partners/acme/assets/"+e.resellerDoc, nil, nil); a.status != http.StatusNotFound {
			t.Errorf("alice's download above tier: %d", a.status)
		}
		if a := e.do(alice, "POST", "/partners/acme/leads/"+e.secretLead+"/extension", url.Values{"days": {"30"}, "reason": {"long cycle"}}, nil); a.status != http.StatusSeeOther || !strings.Contains(a.loc, "Extension+requested") {
			t.Errorf("alice's extension: %d %q %s", a.status, a.loc, a.body)
		}
		if a := e.do(alice, "GET", "/partners/acme/", nil, nil); !strings.Contains(a.body, "Initech Secret Deal") {
			t.Errorf("alice's dashboard lacks her lead")
		}
	})
}

func TestApply(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		form := func(mod func(url.Values)) url.Values {
			f := url.Values{"email": {"new@partner.example"}, "name": {"New Partner"}, "company": {"NP Ltd"}, "agree": {"on"}}
			if mod != nil {
				mod(f)
			}
			return f
		}
		cases := []struct {
			name   string
			slug   string
			form   url.Values
			status int
			text   string
		}{
			{"agreement not accepted", "acme", form(func(f url.Values) { f.Del("agree") }), 400, "Please accept the partner agreement."},
			{"no name", "acme", form(func(f url.Values) { f.Set("name", "") }), 400, "(name)"},
			{"bad email", "acme", form(func(f url.Values) { f.Set("email", "not-an-email") }), 400, "(email)"},
			{"an email already a partner", "acme", form(func(f url.Values) { f.Set("email", e.bob.Email) }), 400, "already applied"},
			// (no empty "()" after a message that names no field)
			{"closed to applications", "globex", form(nil), 400, "does not take applications; ask for an invitation</p>"},
			{"unknown program", "nope", form(nil), 404, ""},
			{"accepted", "acme", form(nil), 200, "Your application was received"},
			{"twice", "acme", form(nil), 400, "already applied"},
		}
		for _, c := range cases {
			a := e.do(sess{}, "POST", "/partners/"+c.slug+"/apply", c.form, nil)
			if a.status != c.status || !strings.Contains(a.body, c.text) {
				t.Errorf("%s: %d, want %d with %q: %s", c.name, a.status, c.status, c.text, a.body)
			}
			// A refused form keeps what was typed.
			if c.status == 400 && !strings.Contains(a.body, c.form.Get("company")) {
				t.Errorf("%s: the form lost its values", c.name)
			}
		}
		p, _, err := e.St.PartnerByEmail(bg, e.prog.ID, "new@partner.example")
		if err != nil || p.Status != parrain.PartnerApplied || p.Name != "New Partner" {
			t.Errorf("applicant %+v %v", p, err)
		}
		if a := e.do(sess{}, "GET", "/partners/globex/apply", nil, nil); a.status != http.StatusOK || !strings.Contains(a.body, "by invitation only") {
			t.Errorf("closed apply page: %d", a.status)
		}
	})
}

// TestLeadForm: validation errors come back on the form with what was
// typed; an accepted lead redirects with the decision; a double submit of
// one form registers once.
func TestLeadForm(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		bob := e.session(t, e.bob)
		page := e.do(bob, "GET", "/partners/acme/leads/new", nil, nil)
		m := regexp.MustCompile(`name="idem" value="([^"]+)"`).FindStringSubmatch(page.body)
		if page.status != http.StatusOK || m == nil {
			t.Fatalf("new lead page: %d", page.status)
		}
		cases := []struct {
			name string
			form url.Values
			text string
		}{
			{"no company", url.Values{"company_domain": {"hooli.example"}, "notes": {"met at the fair"}}, "company_name: is required"},
			{"not a domain", url.Values{"company_name": {"Hooli"}, "company_domain": {"not a domain"}, "notes": {"met at the fair"}}, "company_domain: is not a domain"},
			{"bad contact email", url.Values{"company_name": {"Hooli"}, "company_domain": {"hooli.example"}, "contact_email": {"gavin@"}, "notes": {"met at the fair"}}, "contact_email"},
		}
		for _, c := range cases {
			a := e.do(bob, "POST", "/partners/acme/leads", c.form, nil)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, c.text) || !strings.Contains(a.body, "met at the fair") {
				t.Errorf("%s: %d, want 400 with %q: %s", c.name, a.status, c.text, a.body)
			}
		}
		ok := url.Values{"company_name": {"Hooli"}, "company_domain": {"hooli.example"}, "company_size": {"20"}, "consent": {"on"}, "idem": {m[1]}}
		for i := range 2 {
			a := e.do(bob, "POST", "/partners/acme/leads", ok, nil)
			if a.status != http.StatusSeeOther || !strings.HasPrefix(a.loc, "/partners/acme/?flash=") {
				t.Fatalf("submit %d: %d %q %s", i, a.status, a.loc, a.body)
			}
		}
		leads, _, err := e.St.Leads(bg, e.prog.ID, store.LeadFilter{PartnerID: e.bob.ID}, store.Page{})
		if err != nil || len(leads) != 1 || leads[0].Domain != "hooli.example" {
			t.Fatalf("bob's leads %+v %v", leads, err)
		}
		check := e.do(bob, "GET", "/partners/acme/leads/check?company_domain=www.hooli.example", nil, nil)
		if !strings.Contains(check.body, `"ok":false`) {
			t.Errorf("check of his own claimed account: %s", check.body)
		}
		free := e.do(bob, "GET", "/partners/acme/leads/check?company_domain=free.example", nil, nil)
		if !strings.Contains(free.body, `"ok":true`) || !strings.Contains(free.body, "This account is free") {
			t.Errorf("check of a free account: %s", free.body)
		}
	})
}

// TestPayoutForm: invalid details are shown on the form; a valid account
// is saved and shown masked.
func TestPayoutForm(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		bob := e.session(t, e.bob)
		cases := []struct {
			name string
			form url.Values
			text string
		}{
			{"bad IBAN", url.Values{"method": {"bank"}, "holder_name": {"Bob Rival"}, "iban": {"DE89370400440532013001"}}, "bank.iban"},
			{"no holder", url.Values{"method": {"bank"}, "iban": {"DE89370400440532013000"}}, "bank.holder_name"},
			{"no method", url.Values{}, "method"},
		}
		for _, c := range cases {
			a := e.do(bob, "POST", "/partners/acme/payout", c.form, nil)
			if a.status != http.StatusBadRequest || !strings.Contains(a.body, c.text) {
				t.Errorf("%s: %d, want 400 with %q: %s", c.name, a.status, c.text, a.body)
			}
		}
		a := e.do(bob, "POST", "/partners/acme/payout", url.Values{"method": {"bank"}, "holder_name": {"Bob Rival"}, "iban": {"DE89 3704 0044 0532 0130 00"}}, nil)
		if a.status != http.StatusSeeOther || a.loc != "/partners/acme/payout?flash=Payout+account+saved." {
			t.Fatalf("save: %d %q %s", a.status, a.loc, a.body)
		}
		page := e.do(bob, "GET", "/partners/acme/payout", nil, nil)
		if page.status != http.StatusOK || !strings.Contains(page.body, "DE••••••••••••••••3000") || strings.Contains(page.body, "DE89370400440532013000") {
			t.Errorf("payout page: %d %s", page.status, page.body)
		}
		stored, err := e.St.PayoutAccount(bg, e.prog.ID, e.bob.ExternalID)
		if err != nil || stored.Bank == nil || stored.Bank.IBAN != "DE89370400440532013000" {
			t.Errorf("stored %+v %v", stored, err)
		}
		// Alice's payout page shows nothing of Bob's (not "3000" alone: a
		// random CSRF token may contain it).
		if a := e.do(e.session(t, e.alice), "GET", "/partners/acme/payout", nil, nil); strings.Contains(a.body, "•3000") || strings.Contains(a.body, "DE89") || strings.Contains(a.body, "Bob Rival") {
			t.Errorf("alice sees bob's account: %s", a.body)
		}
	})
}
