package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/referral"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/widget"
)

const chromiumPath = "/usr/bin/chromium"

// shop is the customer's site and app on another origin than Parrain: it
// embeds the snippet on its signup page, reports signups from its backend,
// and embeds the widget in its logged-in app with a token it signs.
type shop struct {
	t       *testing.T
	srv     *httptest.Server
	parrain string // Parrain's base URL
	key     string // API key
	prog    parrain.Program
	secret  string
	mu      sync.Mutex
	signups map[string]store.EventResult // by user id
	n       int
}

func (s *shop) handler() http.Handler {
	mux := http.NewServeMux()
	snippet := fmt.Sprintf(`<script async src="%s/js/parrain.js" data-program="%s"></script>`, s.parrain, s.prog.ID)
	mux.HandleFunc("GET /blog", func(w http.ResponseWriter, r *http.Request) {
		code := r.URL.Query().Get("code")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><body><p>Alice recommends <a id="ref-link" href="%s/r/%s">Acme</a>.</p></body></html>`, s.parrain, html.EscapeString(code))
	})
	mux.HandleFunc("GET /signup", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html lang="en"><body><h1>Join Acme</h1>
<form id="signup" method="post" action="/signup">
<input id="name" name="name"> <input id="email" name="email">
<input id="lookup" data-parrain-lookup placeholder="Who recommended us?"> <span id="lookup-result" data-parrain-lookup-result></span>
<input type="hidden" id="parrain_ref" name="parrain_ref">
<input type="hidden" id="parrain_cookie" name="parrain_cookie">
<input type="hidden" id="parrain_consent" name="parrain_consent">
<button id="submit" type="submit">Sign up</button>
</form>%s</body></html>`, snippet)
	})
	// The shop's backend reports the signup with what the snippet filled in.
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.n++
		user := fmt.Sprintf("user_%d", s.n)
		s.mu.Unlock()
		ev := map[string]any{"type": "signup", "external_id": user, "name": r.PostForm.Get("name"), "email": r.PostForm.Get("email"), "locale": "fr",
			"referral_code": r.PostForm.Get("parrain_ref"), "referral_cookie": r.PostForm.Get("parrain_cookie"), "consent_id": r.PostForm.Get("parrain_consent")}
		for k, v := range ev {
			if v == "" {
				delete(ev, k)
			}
		}
		var res store.EventResult
		if code := s.api("POST", "/api/v1/programs/"+s.prog.ID+"/events", "signup-"+user, ev, &res); code != 201 {
			http.Error(w, "reporting the signup failed", 500)
			return
		}
		s.mu.Lock()
		s.signups[user] = res
		s.mu.Unlock()
		http.Redirect(w, r, "/app?user="+user, http.StatusSeeOther)
	})
	// The logged-in app: the widget with a token signed for this user.
	mux.HandleFunc("GET /app", func(w http.ResponseWriter, r *http.Request) {
		tok := parrain.MintWidgetToken(s.secret, s.prog.ID, r.URL.Query().Get("user"), time.Now().Add(time.Hour))
		opts, _ := json.Marshal(map[string]string{"token": tok, "locale": r.URL.Query().Get("locale")})
		fmt.Fprintf(w, `<!doctype html><html lang="en"><body><h1>Your account</h1><div id="widget"></div>
<script>window.parrainq = window.parrainq || []; parrainq.push(function (P) { P.widget("#widget", %s); });</script>%s</body></html>`, opts, snippet)
	})
	return mux
}

func (s *shop) api(method, path, idem string, body, out any) int {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.parrain+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("Idempotency-Key", idem)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		_ = json.Unmarshal(data, out)
	}
	return res.StatusCode
}

// TestBrowserReferralJourney drives headless Chromium through the whole
// experience: a link on the shop's blog, Parrain's landing page with the
// consent checkbox, the shop's signup page where the snippet keeps the
// referral, the shop's backend reporting the signup, the widget in the
// shop's app showing the new referral, copying the link, building the share
// URLs and speaking French, and refer-by-name. PARRAIN_SCREENSHOTS=dir
// saves the landing page and the widget as PNG files, to look at them.
func TestBrowserReferralJourney(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP browser test: %s not found (apt-get install chromium)", chromiumPath)
	}
	// Parrain on 127.0.0.1, with the real clock (the browser's).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.BaseURL = base
	m, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), parrain.SystemClock{})
	if err != nil {
		t.Fatal(err)
	}
	psrv := httptest.NewUnstartedServer(m.Handler())
	psrv.Listener.Close()
	psrv.Listener = ln
	psrv.Start()
	t.Cleanup(func() { psrv.Close(); m.Close() })

	ctx := context.Background()
	st := m.Store()
	key, _, _ := access.New(st, nil, access.Config{}).CreateAPIKey(ctx, "shop", nil, "")
	s := &shop{t: t, parrain: base, key: key, signups: map[string]store.EventResult{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handler().ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	s.prog, _, err = program.New(st).Create(ctx, parrain.Program{Name: "Acme", LandingURL: s.srv.URL + "/signup", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountPercent, PercentBps: 1000}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ref.SetExperience(ctx, s.prog.ID, parrain.Experience{LandingPage: true, TermsURL: s.srv.URL + "/terms"}); err != nil {
		t.Fatal(err)
	}
	sec, _, err := m.ref.RotateWidgetSecret(ctx, s.prog.ID, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	s.secret = sec.Secret
	alice, _, err := referral.New(st).UpsertParticipant(ctx, s.prog.ID, parrain.ParticipantInput{ExternalID: "alice", Email: "alice@example.com", Name: "Alice Martin", Locale: "en"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	link := base + "/r/" + alice.Code

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.Headless,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.UserAgent("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36"),
		chromedp.Flag("lang", "en-US"))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	// One deadline for the whole journey; each wait below waits for a
	// condition, never for a duration.
	bctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	poll := func(ctx context.Context, expr string, opts ...chromedp.PollOption) string {
		t.Helper()
		v, err := pollString(ctx, expr, opts...)
		if err != nil {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		return v
	}

	// 1. The friend clicks Alice's link on the shop's blog and lands on
	// Parrain's landing page, personalised, with the consent checkbox.
	must(chromedp.Do(bctx, chromedp.Navigate(s.srv.URL+"/blog?code="+alice.Code)))
	must(chromedp.Do(bctx, chromedp.Click(chromedp.ID("ref-link")), chromedp.WaitVisible(chromedp.ID("landing"))))
	title, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID("title")))
	must(err)
	if title != "Alice gave you 10% off" {
		t.Errorf("landing title %q", title)
	}
	if dir := os.Getenv("PARRAIN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.WriteFile(dir+"/landing.png", png, 0o644))
	}
	// 2. The friend agrees to be contacted and continues to the shop.
	must(chromedp.Do(bctx, chromedp.Click(chromedp.ID("consent")), chromedp.Click(chromedp.ID("continue")), chromedp.WaitVisible(chromedp.ID("signup"))))
	if got := poll(bctx, `document.getElementById("parrain_ref").value`); got != alice.Code {
		t.Errorf("hidden referral field = %q", got)
	}
	// 3. Later, without the ref parameter, the first-party cookie on the
	// shop's domain still carries the referral and the consent.
	must(chromedp.Do(bctx, chromedp.Navigate(s.srv.URL+"/signup")))
	if got := poll(bctx, `window.Parrain && Parrain.referralCode()`); got != alice.Code {
		t.Errorf("Parrain.referralCode() = %q", got)
	}
	consentID := poll(bctx, `document.getElementById("parrain_consent").value`)
	if !strings.HasPrefix(consentID, "cns_") || poll(bctx, `document.getElementById("parrain_cookie").value`) == "" {
		t.Errorf("consent field %q", consentID)
	}
	// 4. The friend signs up; the shop's backend reports it with the code,
	// the cookie and the consent id: Alice is credited.
	must(chromedp.Do(bctx, chromedp.SendKeys(chromedp.ID("name"), "Bob Dupont"), chromedp.SendKeys(chromedp.ID("email"), "bob@example.org"),
		chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("widget"))))
	s.mu.Lock()
	bobRes := s.signups["user_1"]
	s.mu.Unlock()
	if bobRes.Credited == nil || bobRes.Credited.ExternalID != "alice" || bobRes.Referral == nil || bobRes.Referral.Status != parrain.ReferralSignedUp {
		t.Fatalf("signup not credited to alice: %+v", bobRes)
	}
	bob, err := st.Participant(ctx, s.prog.ID, "user_1")
	must(err)
	cs, _ := st.Consents(ctx, bob.ID)
	if len(cs) != 1 || !cs[0].Granted || cs[0].ID != consentID {
		t.Errorf("consent: %+v", cs)
	}

	// 5. Alice's widget in the shop's app shows the new referral.
	must(chromedp.Do(bctx, chromedp.Navigate(s.srv.URL+"/app?user=alice")))
	frame := iframe(t, bctx)
	in := chromedp.WithPollingInFrame(frame)
	ref := poll(bctx, `(() => { const r = document.querySelector("#referrals .referral"); return r && r.textContent; })()`, in)
	if ref != "Bob D.signed up" {
		t.Errorf("referral row %q", ref)
	}
	if got := poll(bctx, `document.getElementById("link").value`, in); got != link {
		t.Errorf("link %q", got)
	}
	// 6. Copy puts the link on the clipboard.
	_, err = chromedp.CallBrowser(bctx, browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-write"}, Setting: browser.PermissionSettingGranted})
	must(err)
	must(chromedp.Do(bctx, chromedp.Click(chromedp.ID("copy"), chromedp.FromNode(frame))))
	if got := poll(bctx, `document.getElementById("copy").getAttribute("data-copied")`, in); got != link {
		t.Errorf("copied %q", got)
	}
	if got := poll(bctx, `document.getElementById("copy-status").textContent`, in); got != "Copied!" {
		t.Errorf("copy status %q", got)
	}
	// 7. The share buttons carry the pre-written message with the
	// disclosure; an edited message keeps the link and the disclosure.
	var me widget.Me
	req, _ := http.NewRequest("GET", base+"/api/v1/widget/me", nil)
	req.Header.Set("Authorization", "Bearer "+parrain.MintWidgetToken(s.secret, s.prog.ID, "alice", time.Now().Add(time.Minute)))
	res, err := http.DefaultClient.Do(req)
	must(err)
	must(json.NewDecoder(res.Body).Decode(&me))
	res.Body.Close()
	hrefs := func() map[string]string {
		raw := poll(bctx, `JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll("#share a")).map(a => [a.dataset.channel, a.getAttribute("href")])))`, in)
		out := map[string]string{}
		must(json.Unmarshal([]byte(raw), &out))
		return out
	}
	got := hrefs()
	if len(got) != 6 {
		t.Fatalf("share buttons: %v", got)
	}
	for c, h := range got {
		if want := widget.ShareURL(c, link, me.Share.Subject, me.Share.Message); h != want {
			t.Errorf("%s share URL:\n got %s\nwant %s", c, h, want)
		}
	}
	if !strings.HasPrefix(got["x"], "https://x.com/intent/tweet?text=") || !strings.Contains(got["whatsapp"], widget.EncodeURIComponent("(I may get a reward if you join.)")) ||
		got["linkedin"] != "https://www.linkedin.com/sharing/share-offsite/?url="+widget.EncodeURIComponent(link) {
		t.Errorf("share URLs: %v", got)
	}
	poll(bctx, `(() => { const m = document.getElementById("message"); m.value = "Acme is great, try it!"; m.dispatchEvent(new Event("input")); return "ok"; })()`, in)
	edited := "Acme is great, try it! " + link + " (I may get a reward if you join.)"
	if h := hrefs()["x"]; h != widget.ShareURL("x", link, me.Share.Subject, edited) {
		t.Errorf("edited x URL %s", h)
	}
	// A share is counted per channel (the click is kept from leaving the
	// page: mailto: has no handler in a headless browser).
	poll(bctx, `(() => { document.querySelector("#share a[data-channel=email]").addEventListener("click", e => e.preventDefault()); return "ok"; })()`, in)
	must(chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`#share a[data-channel="email"]`), chromedp.FromNode(frame))))
	waitFor(t, bctx, "shares recorded", func() bool {
		ss, err := st.SharesOf(ctx, alice.ID)
		return err == nil && ss["email"] == 1 && ss["copy"] == 1
	})

	if dir := os.Getenv("PARRAIN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		must(err)
		must(os.WriteFile(dir+"/widget.png", png, 0o644))
	}
	// 8. Bob signed up in French: his widget speaks French; so does
	// Alice's when the app asks for French.
	must(chromedp.Do(bctx, chromedp.Navigate(s.srv.URL+"/app?user=user_1")))
	frame = iframe(t, bctx)
	in = chromedp.WithPollingInFrame(frame)
	if h := poll(bctx, `(() => { const a = document.getElementById("app"); return !a.hidden && document.getElementById("headline").textContent; })()`, in); h != "Offrez 10 % de réduction, recevez 20,00 €" {
		t.Errorf("French headline %q", h)
	}
	for id, want := range map[string]string{"copy": "Copier", "invite-title": "Inviter des amis par e-mail", "referrals-title": "Vos filleuls"} {
		if got := poll(bctx, `document.getElementById("`+id+`").textContent`, in); got != want {
			t.Errorf("French %s = %q, want %q", id, got, want)
		}
	}
	if lang := poll(bctx, `document.documentElement.lang`, in); lang != "fr" {
		t.Errorf("lang %q", lang)
	}
	must(chromedp.Do(bctx, chromedp.Navigate(s.srv.URL+"/app?user=alice&locale=fr")))
	frame = iframe(t, bctx)
	in = chromedp.WithPollingInFrame(frame)
	if got := poll(bctx, `(() => { const r = document.querySelector("#referrals .referral .badge"); return r && r.textContent; })()`, in); got != "inscrit" {
		t.Errorf("French status %q", got)
	}

	// 9. Refer by name: a friend who arrives without a link names Alice.
	cctx, cancelCarol := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	defer cancelCarol()
	must(chromedp.Do(cctx, chromedp.Navigate(s.srv.URL+"/signup")))
	poll(cctx, `window.Parrain ? "ready" : ""`)
	if got := poll(cctx, `"[" + Parrain.referralCode() + "]"`); got != "[]" {
		t.Fatalf("a fresh visitor has no referral: %s", got)
	}
	must(chromedp.Do(cctx, chromedp.SendKeys(chromedp.ID("lookup"), "alice martin"), chromedp.Click(chromedp.ID("name"))))
	if got := poll(cctx, `document.getElementById("lookup-result").textContent`); got != "Thanks! We'll credit Alice M. for recommending us." {
		t.Errorf("lookup message %q", got)
	}
	if got := poll(cctx, `document.getElementById("parrain_ref").value`); got != alice.Code {
		t.Errorf("lookup code %q", got)
	}
	must(chromedp.Do(cctx, chromedp.SendKeys(chromedp.ID("name"), "Carol Smith"), chromedp.Click(chromedp.ID("submit")), chromedp.WaitVisible(chromedp.ID("widget"))))
	s.mu.Lock()
	carol := s.signups["user_2"]
	s.mu.Unlock()
	if carol.Credited == nil || carol.Credited.ExternalID != "alice" {
		t.Errorf("refer by name not credited: %+v", carol)
	}
}

// iframe waits for the widget's iframe and returns its node.
func iframe(t *testing.T, ctx context.Context) *chromedp.Node {
	t.Helper()
	// The widget page reports its height once rendered; by then its frame
	// and its JavaScript context exist.
	if _, err := pollString(ctx, `document.querySelector("#widget iframe[data-parrain-ready]") ? "ready" : ""`); err != nil {
		t.Fatalf("widget not rendered: %v", err)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("#widget iframe")))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("widget iframe: %v", err)
	}
	return nodes[0]
}

// pollString waits for a JavaScript expression to be truthy and returns it.
// While a page or frame navigates, the browser may briefly report its old
// JavaScript context as gone: the poll is then simply asked again.
func pollString(ctx context.Context, expr string, opts ...chromedp.PollOption) (string, error) {
	for attempt := 0; ; attempt++ {
		v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, opts...))
		if err == nil || attempt >= 20 || ctx.Err() != nil ||
			!(strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "executionContextId")) {
			return v, err
		}
	}
}

// waitFor checks cond until it holds or ctx ends (conditions written by
// requests the page sends on its own).
func waitFor(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
