package portal_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

const chromiumPath = "/usr/bin/chromium"

// logBuf collects the server log, where magic links are written when no
// mailer is configured.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

var linkRE = regexp.MustCompile(`link=\S*(/partners/\S+/magic/[0-9a-f]+)`)

// lastLink returns the path of the last magic link logged.
func (l *logBuf) lastLink(t *testing.T) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	m := linkRE.FindAllStringSubmatch(l.b.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no magic link in the log:\n%s", l.b.String())
	}
	return m[len(m)-1][1]
}

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP browser test: %s not found (apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// A bound for the whole test; every step waits for an event or a DOM
	// condition, never for a fixed time.
	ctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func step(t *testing.T, ctx context.Context, want int64, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	res, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if res.Status != want {
		t.Fatalf("%s: HTTP %d, want %d", what, res.Status, want)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestPortalInBrowser drives the portal in headless Chromium: apply, get
// approved, sign in by magic link, register a lead, see the duplicate
// refused (with instant feedback) for a second partner, download an asset,
// and see the deal closed won with its commission.
func TestPortalInBrowser(t *testing.T) {
	ctx := browser(t)
	logs := &logBuf{}
	cfg, err := app.ParseServe([]string{"-db", filepath.Join(t.TempDir(), "p.db"), "-addr", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)), parrain.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	st, bg := m.Store(), context.Background()
	ps := m.Partners()

	prog, _, err := program.New(st).Create(bg, parrain.Program{Name: "Acme partners", LandingURL: "https://acme.example/", Currency: "USD", HoldDays: 30,
		ProgramSettings: parrain.ProgramSettings{Stages: []parrain.Stage{{Name: "closed_won"}}, Success: &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"}},
		Rules: []parrain.RewardRule{{ID: "close", Trigger: parrain.TriggerStage, Stage: "closed_won",
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000, PartnerRates: map[string]int64{"referral": 1500}}}},
	}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ps.PutProgram(bg, prog.ID, parrain.PartnerSettings{Slug: "acme", ApplicationsOpen: true,
		Branding: parrain.Branding{CompanyName: "Acme", PrimaryColor: "#112233", Welcome: "Grow with Acme."}},
		[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}, {Key: "advisor", Name: "Solution Advisor", Rank: 1, Criteria: parrain.TierCriteria{MinWonDeals: 3}}}); err != nil {
		t.Fatal(err)
	}
	other, _, err := ps.Apply(bg, prog.ID, parrain.PartnerApplication{Email: "bob@rival.example", Name: "Rival Partners"}, "invite", store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	asset, _, err := ps.CreateAsset(bg, prog.ID, store.Asset{Title: "Case study", Kind: "case_study", Filename: "case.txt", ContentType: "text/plain",
		Content: []byte("How Initech grew 3x")}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	base := srv.URL + "/partners/acme"

	// Apply.
	step(t, ctx, 200, "application form", chromedp.Navigate(base+"/apply"))
	if got := text(t, ctx, ".brand"); !strings.Contains(got, "Acme partners") {
		t.Fatalf("brand %q", got)
	}
	step(t, ctx, 200, "apply",
		chromedp.SendKeys(chromedp.ID("name"), "Alice Advisors"),
		chromedp.SendKeys(chromedp.ID("email"), "alice@advisors.example"),
		chromedp.SendKeys(chromedp.ID("company"), "Alice Advisors LLC"),
		chromedp.Click(chromedp.ID("agree")),
		chromedp.Click(chromedp.ID("apply-submit")))
	if got := text(t, ctx, "#message"); !strings.Contains(got, "application was received") {
		t.Fatalf("after applying: %q", got)
	}
	// The manager approves.
	alice, _, err := st.PartnerByEmail(bg, prog.ID, "alice@advisors.example")
	if err != nil || alice.Status != parrain.PartnerApplied {
		t.Fatalf("application %+v %v", alice, err)
	}
	if _, _, err := ps.Decide(bg, prog.ID, alice.ID, true, "", store.Idem{}); err != nil {
		t.Fatal(err)
	}
	signIn := func(email string) {
		t.Helper()
		step(t, ctx, 200, "sign-in page", chromedp.Navigate(base+"/login"))
		step(t, ctx, 200, "ask for a link", chromedp.SendKeys(chromedp.ID("magic-email"), email), chromedp.Click(chromedp.ID("magic-submit")))
		step(t, ctx, 200, "open the link", chromedp.Navigate(srv.URL+logs.lastLink(t)))
		if got := text(t, ctx, "h1"); !strings.Contains(got, "Welcome") {
			t.Fatalf("after sign-in: %q", got)
		}
	}
	signIn("alice@advisors.example")
	if got := text(t, ctx, "#tier"); got != "Referral Partner" {
		t.Fatalf("tier %q", got)
	}
	// She accepts the agreement, which records the program terms she saw.
	step(t, ctx, 200, "accept the agreement", chromedp.Click(chromedp.ID("accept-agreement")))
	pa, err := st.Partner(bg, prog.ID, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	acc, terms, err := program.New(st).TermsAcceptances(bg, prog.ID, pa.ExternalID)
	if err != nil || len(acc) != 1 || acc[0].TermsVersion != terms.Version {
		t.Fatalf("terms acceptance %+v (current v%d) %v", acc, terms.Version, err)
	}
	// Register a lead.
	step(t, ctx, 200, "lead form", chromedp.Navigate(base+"/leads/new"))
	step(t, ctx, 200, "register",
		chromedp.SendKeys(chromedp.ID("company_name"), "Wonka Industries"),
		chromedp.SendKeys(chromedp.ID("company_domain"), "wonka.example"),
		chromedp.SendKeys(chromedp.ID("company_size"), "120"),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("lead-submit")))
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "Accepted: Wonka Industries is reserved to you for 90 days") {
		t.Fatalf("after registering: %q", got)
	}
	if got := text(t, ctx, "#leads tbody"); !strings.Contains(got, "Wonka Industries") || !strings.Contains(got, "Registered") {
		t.Fatalf("leads table %q", got)
	}
	step(t, ctx, 200, "sign out", chromedp.Click(chromedp.CSS("button.link")))

	// The second partner sees the duplicate refused, before and after
	// submitting.
	signIn(other.Email)
	step(t, ctx, 200, "lead form", chromedp.Navigate(base+"/leads/new"))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("company_name"), "WONKA, Inc."),
		chromedp.SendKeys(chromedp.ID("company_domain"), "https://www.wonka.example/"),
		chromedp.WaitVisible(chromedp.CSS("#check.bad"))); err != nil {
		t.Fatalf("instant feedback: %v", err)
	}
	if got := text(t, ctx, "#check"); !strings.Contains(got, "already registered by another partner until") {
		t.Fatalf("instant feedback %q", got)
	}
	step(t, ctx, 409, "register the duplicate",
		chromedp.SendKeys(chromedp.ID("company_size"), "120"),
		chromedp.Click(chromedp.ID("consent")),
		chromedp.Click(chromedp.ID("lead-submit")))
	if got := text(t, ctx, "#error"); !strings.Contains(got, "already registered by another partner until") {
		t.Fatalf("refusal %q", got)
	}
	// Download an asset.
	step(t, ctx, 200, "assets", chromedp.Navigate(base+"/assets"))
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector("a.download").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil || body != "How Initech grew 3x" {
		t.Fatalf("download: %q %v", body, err)
	}
	as, _ := st.Assets(bg, prog.ID)
	if len(as) != 1 || as[0].ID != asset.ID || as[0].Downloads != 1 {
		t.Fatalf("downloads %+v", as)
	}
	step(t, ctx, 200, "sign out", chromedp.Click(chromedp.CSS("button.link")))

	// The manager closes Alice's deal: she sees it won, with its commission.
	leads, _, _ := st.Leads(bg, prog.ID, store.LeadFilter{PartnerID: alice.ID}, store.Page{})
	v := int64(2_000_000)
	if _, _, err := ps.MoveDeal(bg, prog.ID, leads[0].ID, partner.DealMove{Stage: "closed_won", Value: &v, Source: "manager"}, store.Idem{}); err != nil {
		t.Fatal(err)
	}
	signIn("alice@advisors.example")
	if got := text(t, ctx, "#leads tbody"); !strings.Contains(got, "Closed won") || !strings.Contains(got, "$20,000.00") {
		t.Fatalf("closed deal %q", got)
	}
	if got := text(t, ctx, "#commission-pending"); got != "$3,000.00" {
		t.Fatalf("commission %q (15%% of 20000.00)", got)
	}
	if got := text(t, ctx, "#conversion"); got != "100%" {
		t.Fatalf("conversion %q", got)
	}
	// On a phone (390 px) the page does not overflow sideways: the deals
	// table scrolls inside its own box.
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
	if err != nil || wide > 390 {
		t.Fatalf("page %d px wide on a 390 px phone (%v)", wide, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	// She tells where to pay her: a bad IBAN is refused with the reason,
	// a good one is saved and shown masked.
	step(t, ctx, 200, "payout page", chromedp.Navigate(base+"/payout"))
	step(t, ctx, 400, "bad IBAN",
		chromedp.SendKeys(chromedp.CSS(`input[name=holder_name]`), "Alice Advisors"),
		chromedp.SendKeys(chromedp.CSS(`input[name=iban]`), "FR00 1234"),
		chromedp.Click(chromedp.CSS(`form.card button`)))
	if got := text(t, ctx, "#error"); !strings.Contains(strings.ToLower(got), "iban") {
		t.Fatalf("IBAN error %q", got)
	}
	step(t, ctx, 200, "good IBAN",
		chromedp.SendKeys(chromedp.CSS(`input[name=holder_name]`), "Alice Advisors"),
		chromedp.SendKeys(chromedp.CSS(`input[name=iban]`), "FR76 3000 6000 0112 3456 7890 189"),
		chromedp.Click(chromedp.CSS(`form.card button`)))
	if got := text(t, ctx, "p.card"); !strings.Contains(got, "Alice Advisors") || strings.Contains(got, "3000600001123456789") {
		t.Fatalf("saved account %q", got)
	}
	acct, err := st.PayoutAccount(bg, prog.ID, pa.ExternalID)
	if err != nil || acct.Method != parrain.PayoutBank || acct.Bank.IBAN != "FR7630006000011234567890189" {
		t.Fatalf("stored account %+v %v", acct, err)
	}
}
