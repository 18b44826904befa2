package portal_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

// TestPortalIsolation signs in as one partner and walks every private
// portal route, with the ids of another partner's lead and of an asset above
// the partner's tier: nothing of the other partner ever shows, and the
// foreign ids answer 404. A route added to the portal without a line here
// fails the test.
func TestPortalIsolation(t *testing.T) {
	cfg, err := app.ParseServe([]string{"-db", filepath.Join(t.TempDir(), "p.db"), "-addr", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), parrain.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	st, bg := m.Store(), context.Background()
	ps := m.Partners()
	prog, _, err := program.New(st).Create(bg, parrain.Program{Name: "Acme partners", LandingURL: "https://acme.example/", Currency: "USD"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.PutProgram(bg, prog.ID, parrain.PartnerSettings{Slug: "acme", ApplicationsOpen: true},
		[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}, {Key: "reseller", Name: "Certified Reseller", Rank: 1}}); err != nil {
		t.Fatal(err)
	}
	newPartner := func(email, name string) parrain.Partner {
		p, _, err := ps.Apply(bg, prog.ID, parrain.PartnerApplication{Email: email, Name: name}, "invite", store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status != parrain.PartnerActive { // invited partners start active
			if p, _, err = ps.Decide(bg, prog.ID, p.ID, true, "", store.Idem{}); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	alice, bob := newPartner("alice@advisors.example", "Alice Advisors"), newPartner("bob@rival.example", "Bob Rival")
	lead, _, err := ps.RegisterLead(bg, prog.ID, alice.ID, parrain.LeadInput{CompanyName: "Initech Secret Deal", CompanyDomain: "initech-secret.example",
		ContactEmail: "ceo@initech-secret.example", CompanySize: 50, Consent: true}, partner.RegisterOptions{Credit: parrain.CreditSourced, Actor: "partner:" + alice.ID}, store.Idem{})
	if err != nil || lead.Lead == nil {
		t.Fatalf("alice's lead: %+v %v", lead, err)
	}
	asset, _, err := ps.CreateAsset(bg, prog.ID, store.Asset{Title: "Reseller price list", Kind: "other", Filename: "prices.txt", ContentType: "text/plain",
		Content: []byte("confidential prices"), MinTier: "reseller"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	pss, err := access.New(st, nil, access.Config{}).StartPartnerSession(bg, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok, csrf := pss.Token, pss.CSRF
	// (The domain itself is not a secret: Bob types it when he checks or
	// registers the account; who holds it, and the deal, are.)
	secrets := []string{"Initech Secret Deal", "ceo@initech-secret.example", "alice@advisors.example", "Alice Advisors", "confidential prices"}

	type call struct {
		method, path string
		form         url.Values
		want         int // 0: any non-error status
	}
	base := "/partners/acme"
	calls := map[string]call{
		"POST /partners/{slug}/logout":                    {"POST", base + "/logout", url.Values{}, http.StatusSeeOther},
		"GET /partners/{slug}/{$}":                        {"GET", base + "/", nil, http.StatusOK},
		"GET /partners/{slug}/leads/new":                  {"GET", base + "/leads/new", nil, http.StatusOK},
		"GET /partners/{slug}/leads/check":                {"GET", base + "/leads/check?company_domain=initech-secret.example&company_name=Initech", nil, 0},
		"POST /partners/{slug}/leads":                     {"POST", base + "/leads", url.Values{"company_name": {"Initech"}, "company_domain": {"www.initech-secret.example"}, "company_size": {"50"}, "consent": {"on"}}, 0},
		"POST /partners/{slug}/leads/{lead_id}/extension": {"POST", base + "/leads/" + lead.Lead.ID + "/extension", url.Values{"days": {"30"}, "reason": {"mine now"}}, http.StatusNotFound},
		"GET /partners/{slug}/assets":                     {"GET", base + "/assets", nil, http.StatusOK},
		"GET /partners/{slug}/assets/{asset_id}":          {"GET", base + "/assets/" + asset.ID, nil, http.StatusNotFound},
		"POST /partners/{slug}/agreement":                 {"POST", base + "/agreement", url.Values{}, 0},
		"POST /partners/{slug}/onboarding":                {"POST", base + "/onboarding", url.Values{}, 0},
		"POST /partners/{slug}/password":                  {"POST", base + "/password", url.Values{"password": {"a long enough password"}}, 0},
		"POST /partners/{slug}/survey":                    {"POST", base + "/survey", url.Values{"survey": {"srv_nope"}}, 0},
		"GET /partners/{slug}/payout":                     {"GET", base + "/payout", nil, http.StatusOK},
		"POST /partners/{slug}/payout":                    {"POST", base + "/payout", url.Values{"method": {"paypal"}, "paypal_email": {"bob@rival.example"}}, 0},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(c call, withSession bool) (int, string) {
		var body io.Reader
		if c.form != nil {
			f := url.Values{}
			for k, v := range c.form {
				f[k] = v
			}
			f.Set("csrf", csrf)
			body = strings.NewReader(f.Encode())
		}
		req, _ := http.NewRequest(c.method, srv.URL+c.path, body)
		if c.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if withSession {
			req.AddCookie(&http.Cookie{Name: "parrain_partner", Value: tok})
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b) + " " + res.Header.Get("Location")
	}
	for _, r := range m.PortalRoutes {
		if r.Public {
			continue
		}
		c, ok := calls[r.Pattern]
		if !ok {
			t.Errorf("private portal route %s has no isolation check", r.Pattern)
			continue
		}
		if r.Pattern == "POST /partners/{slug}/logout" {
			continue // checked last: it ends the session
		}
		// Without a session every private route sends to the sign-in page.
		if status, body := do(c, false); status != http.StatusSeeOther || !strings.Contains(body, "/login") {
			t.Errorf("%s without session: %d %s", r.Pattern, status, body)
		}
		status, body := do(c, true)
		if (c.want != 0 && status != c.want) || status >= 500 {
			t.Errorf("%s: status %d, want %d", r.Pattern, status, c.want)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("%s shows another partner's data %q", r.Pattern, s)
			}
		}
	}
	// The refused registration did not hand the account over, and the
	// extension request and the payout change touched only Bob.
	leads, _, _ := st.Leads(bg, prog.ID, store.LeadFilter{PartnerID: bob.ID}, store.Page{})
	for _, l := range leads {
		if strings.Contains(l.Domain, "initech-secret") {
			t.Errorf("bob got alice's account: %+v", l)
		}
	}
	if status, _ := do(calls["POST /partners/{slug}/logout"], true); status != http.StatusSeeOther {
		t.Errorf("logout: %d", status)
	}
}
