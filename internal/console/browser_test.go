package console_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts headless Chromium (Debian's package) with a fresh
// profile, or skips the test when it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("SKIP browser test: %s not found (apt-get install chromium; .ci/run installs it)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("force-color-profile", "srgb"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	// A generous bound for the whole test on a busy machine; every step
	// waits for an event or a DOM condition, never for a fixed time.
	ctx, cancel := context.WithTimeout(bctx, 3*time.Minute)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// shots writes screenshots to docs/screenshots when
// PARRAIN_UPDATE_SCREENSHOTS=1; otherwise it only checks they are valid
// PNG images, so CI never dirties the tree.
type shots struct {
	t     *testing.T
	write bool
	dir   string
}

func (s shots) take(ctx context.Context, name string) {
	s.shoot(ctx, name, chromedp.FullScreenshot(100))
}

// top captures the visible part only (for long lists).
func (s shots) top(ctx context.Context, name string) {
	s.shoot(ctx, name, chromedp.CaptureScreenshot())
}

func (s shots) shoot(ctx context.Context, name string, action chromedp.Action[[]byte]) {
	s.t.Helper()
	buf, err := chromedp.Run(ctx, action)
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if _, err := png.Decode(bytes.NewReader(buf)); err != nil {
		s.t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if s.write {
		if err := os.WriteFile(filepath.Join(s.dir, name+".png"), buf, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
}

// step runs actions that navigate (a click on a link or a submit button)
// and waits for the new page, checking its HTTP status.
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
	return strings.TrimSpace(s)
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil || !v.Exists {
		t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return v.Value
}

// TestConsoleInBrowser drives the console in headless Chromium through the
// manager's day: first-run setup, inviting an analyst, creating a program
// with a double-sided rule (checked and previewed as it is typed), finding
// a demo participant, approving a pending reward and seeing the KPI move
// on the overview; then signs in as the analyst and proves the server
// refuses the approval even when the browser sends it.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	sh := shots{t: t, write: os.Getenv("PARRAIN_UPDATE_SCREENSHOTS") == "1", dir: filepath.Join("..", "..", "docs", "screenshots")}
	if sh.write {
		if err := os.MkdirAll(sh.dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base := e.srv.URL
	demo := e.prog.ID
	e.drainJobs() // as a running server would have done
	const password = "correct horse battery"

	// First run: no user yet, the console asks for the owner.
	step(t, ctx, 200, "open the console", chromedp.Navigate(base+"/admin/"))
	if page := attr(t, ctx, "body", "data-page"); page != "setup" {
		t.Fatalf("first visit shows %q, want the setup page", page)
	}
	step(t, ctx, 200, "set up the owner",
		chromedp.SendKeys(chromedp.ID("name"), "Olga Owner"),
		chromedp.SendKeys(chromedp.ID("email"), "owner@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Submit(chromedp.ID("confirm")))
	if page := attr(t, ctx, "body", "data-page"); page != "overview" {
		t.Fatalf("after setup: %q", page)
	}

	// The overview of the demo program, and its KPI before the approval.
	overview := base + "/admin/?program=" + demo + "&period=90d"
	step(t, ctx, 200, "overview", chromedp.Navigate(overview))
	approvedBefore, _ := strconv.ParseInt(attr(t, ctx, `[data-rewards="approved"]`, "data-minor"), 10, 64)
	pendingAlert := text(t, ctx, "#alert-pending")
	sh.take(ctx, "overview")
	checkAccessible(t, ctx, "overview")

	// Invite an analyst.
	step(t, ctx, 200, "users page", chromedp.Navigate(base+"/admin/settings/users"))
	step(t, ctx, 200, "add an analyst",
		chromedp.SendKeys(chromedp.ID("new-email"), "ann@acme.example"),
		choose("new-role", "analyst"),
		chromedp.SendKeys(chromedp.ID("new-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/admin/settings/users"] button[type=submit]`)))
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "ann@acme.example created as analyst") {
		t.Fatalf("flash after adding a user: %q", got)
	}
	sh.take(ctx, "users")
	checkAccessible(t, ctx, "users")

	// A new program with a double-sided rule: the form checks and previews
	// as you type.
	step(t, ctx, 200, "new program form", chromedp.Navigate(base+"/admin/programs/new"))
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("name"), "Spring referrals"),
		chromedp.SendKeys(chromedp.ID("landing_url"), "https://shop.example/signup"),
		fill("currency", "EUR"),
		choose("rule-0-trigger", "first_purchase"),
		choose("rule-0-advocate-kind", "cash"),
		choose("rule-0-advocate-type", "fixed"),
		chromedp.SendKeys(chromedp.ID("rule-0-advocate-amount"), "20.005"),
	); err != nil {
		t.Fatal(err)
	}
	// Too many decimals: the field error appears without a submit.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('[data-error-for="rule.0.advocate.amount"] .field-error')`)); err != nil {
		t.Fatalf("no live error on the amount: %v", err)
	}
	if got := text(t, ctx, `[data-error-for="rule.0.advocate.amount"]`); !strings.Contains(got, "at most 2 decimals") {
		t.Fatalf("live error %q", got)
	}
	if err := chromedp.Do(ctx,
		fill("rule-0-advocate-amount", "20"),
		choose("rule-0-friend-kind", "coupon"),
		choose("rule-0-friend-type", "fixed"),
		chromedp.SendKeys(chromedp.ID("rule-0-friend-amount"), "10"),
		fill("example", "59.90"),
	); err != nil {
		t.Fatal(err)
	}
	// The preview shows both sides' rewards for the example purchase.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(function () {
			var p = document.getElementById('preview');
			return !document.querySelector('.program-form .field-error') && p.textContent.indexOf('20.00 EUR') >= 0 &&
				p.textContent.indexOf('10.00 EUR') >= 0 && p.textContent.indexOf('59.90 EUR') >= 0;
		})()`)); err != nil {
		errs, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.prototype.map.call(document.querySelectorAll('.program-form .field-error'),
			function (e) { return e.parentNode.getAttribute('data-error-for') + ': ' + e.textContent; }).join('; ')`))
		t.Fatalf("live preview: %v (%q; errors: %s)", err, text(t, ctx, "#preview"), errs)
	}
	sh.take(ctx, "program-form")
	checkAccessible(t, ctx, "program-form")
	step(t, ctx, 200, "create the program", chromedp.Click(chromedp.CSS(`button[name=action][value=save]`)))
	if got := text(t, ctx, "#rules-h + ol"); !strings.Contains(got, "the advocate earns 20.00 EUR in cash and the friend gets a coupon worth 10.00 EUR") {
		t.Fatalf("program rules: %q", got)
	}
	ps, _, _ := e.st.Programs(ctx, store.Page{Limit: 1})
	if ps[0].Name != "Spring referrals" || ps[0].Rules[0].Advocate.Amount != 2000 || ps[0].Rules[0].Friend.Amount != 1000 {
		t.Fatalf("stored program %+v", ps[0])
	}
	sh.take(ctx, "program")
	checkAccessible(t, ctx, "program")

	// Every demo program (simple and reward-engine ones) goes through the
	// edit form unchanged: saving it as displayed changes nothing.
	all, _, _ := e.st.Programs(ctx, store.Page{Limit: 100})
	for _, p := range all {
		step(t, ctx, 200, "edit "+p.Name, chromedp.Navigate(base+"/admin/programs/"+p.ID+"/edit"))
		step(t, ctx, 200, "save "+p.Name, chromedp.Click(chromedp.CSS(`button[name=action][value=save]`)))
		if got := text(t, ctx, ".flash"); !strings.Contains(got, "No change") {
			t.Errorf("saving %s unchanged: %q", p.Name, got)
		}
	}

	// Find a demo participant by name.
	step(t, ctx, 200, "participants", chromedp.Navigate(base+"/admin/participants?program="+demo))
	step(t, ctx, 200, "search", chromedp.SendKeys(chromedp.ID("q"), "alice"), chromedp.Submit(chromedp.ID("q")))
	step(t, ctx, 200, "open Alice", chromedp.Click(chromedp.CSS(`#participants tbody a`)))
	alice, _ := e.st.Participant(ctx, demo, "cust_001")
	if got := text(t, ctx, "#ref-link"); got != "http://parrain.test/r/"+alice.Code {
		t.Fatalf("referral link %q", got)
	}
	sh.top(ctx, "participant")
	checkAccessible(t, ctx, "participant")

	// Approve the newest pending reward from the review queue.
	step(t, ctx, 200, "rewards", chromedp.Navigate(base+"/admin/rewards?program="+demo+"&status=pending"))
	sh.top(ctx, "rewards")
	checkAccessible(t, ctx, "rewards")
	rewardID := attr(t, ctx, "button[data-approve]", "data-approve")
	rw, err := e.st.RewardByID(ctx, rewardID)
	if err != nil || rw.Status != parrain.RewardPending {
		t.Fatalf("reward %s: %+v %v", rewardID, rw, err)
	}
	step(t, ctx, 200, "approve", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-approve=%q]`, rewardID))))
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "Approved "+money(rw.Amount)) {
		t.Fatalf("flash after approval: %q", got)
	}
	if got, _ := e.st.RewardByID(ctx, rewardID); got.Status != parrain.RewardApproved {
		t.Fatalf("reward is %s after approval", got.Status)
	}

	// The overview moved: more approved, one fewer pending review.
	step(t, ctx, 200, "overview again", chromedp.Navigate(overview))
	approvedAfter, _ := strconv.ParseInt(attr(t, ctx, `[data-rewards="approved"]`, "data-minor"), 10, 64)
	if approvedAfter != approvedBefore+rw.Amount {
		t.Fatalf("approved KPI %d → %d, want +%d", approvedBefore, approvedAfter, rw.Amount)
	}
	if after := text(t, ctx, "#alert-pending"); after == pendingAlert {
		t.Fatalf("pending alert did not change: %q", after)
	}

	// The other main pages, for the documentation.
	for _, p := range []struct{ name, path string }{
		{"referrals", "/admin/referrals?program=" + demo},
		{"audit", "/admin/audit?program=" + demo},
		{"settings", "/admin/settings?program=" + demo},
	} {
		step(t, ctx, 200, p.name, chromedp.Navigate(base+p.path))
		sh.top(ctx, p.name)
		checkAccessible(t, ctx, p.name)
	}
	// On a phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, 200, "overview on a phone", chromedp.Navigate(overview))
	sh.take(ctx, "overview-phone")
	checkAccessible(t, ctx, "overview-phone")
	if err := chromedp.Do(ctx, chromedp.ResetViewport()); err != nil {
		t.Fatal(err)
	}

	// Sign out, sign in as the analyst: the queue is read-only, and the
	// server refuses an approval even when the browser sends one.
	step(t, ctx, 200, "sign out", chromedp.Click(chromedp.CSS(`form[action="/admin/logout"] button`)))
	step(t, ctx, 200, "sign in as analyst",
		chromedp.SendKeys(chromedp.ID("email"), "ann@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")))
	if got := text(t, ctx, ".who .role"); !strings.EqualFold(got, "analyst") {
		t.Fatalf("signed in as %q", got)
	}
	step(t, ctx, 200, "rewards as analyst", chromedp.Navigate(base+"/admin/rewards?program="+demo+"&status=pending"))
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('button[data-approve], form[action$="/approve"]').length`))
	if err != nil || buttons != 0 {
		t.Fatalf("the analyst sees %d approve controls (%v)", buttons, err)
	}
	pending := e.pendingReward()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch('/admin/rewards/%s/approve', {method: 'POST',
		headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: 'csrf=' + encodeURIComponent(document.querySelector('meta[name=csrf-token]').content)}).then(function (r) { return r.status; })`, pending.ID),
		chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("analyst approval answered %d (%v), want 403", status, err)
	}
	if got, _ := e.st.RewardByID(ctx, pending.ID); got.Status != parrain.RewardPending {
		t.Fatalf("the analyst's request approved the reward")
	}
	// And the page they would reach by typing the URL says why.
	step(t, ctx, 403, "users page as analyst", chromedp.Navigate(base+"/admin/settings/users"))
	if got := text(t, ctx, ".error-message"); !strings.Contains(got, "needs owner") {
		t.Fatalf("403 page: %q", got)
	}
}

// checkAccessible checks the page's basics: a language, one h1, a label
// for every form control, text for every button, alt text for images, and
// every link and control reachable by keyboard (no negative tabindex).
func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () {
		var out = [];
		if (!document.documentElement.lang) out.push('no lang on <html>');
		var h1 = document.querySelectorAll('h1').length;
		if (h1 !== 1) out.push(h1 + ' h1 elements');
		document.querySelectorAll('input, select, textarea').forEach(function (el) {
			if (el.type === 'hidden' || el.hidden) return;
			if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
				out.push('unlabelled ' + el.tagName.toLowerCase() + ' ' + (el.name || el.id));
		});
		document.querySelectorAll('button').forEach(function (b) {
			if (!b.textContent.trim() && !b.getAttribute('aria-label')) out.push('button without text');
		});
		document.querySelectorAll('img').forEach(function (i) { if (!i.hasAttribute('alt')) out.push('img without alt ' + i.src); });
		document.querySelectorAll('[tabindex]').forEach(function (e) {
			if (e.tabIndex < 0 && e.id !== 'main') out.push('not keyboard-reachable: ' + e.tagName);
		});
		document.querySelectorAll('svg[role=img]').forEach(function (s) {
			if (!s.getAttribute('aria-labelledby') && !s.getAttribute('aria-label')) out.push('unlabelled chart');
		});
		return out;
	})()`))
	if err != nil {
		t.Fatalf("accessibility check of %s: %v", page, err)
	}
	if len(problems) > 0 {
		t.Errorf("%s: %s", page, strings.Join(problems, "; "))
	}
}

// choose selects an option like a user does: the value changes and the
// page hears the change event.
func choose(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function () {
		var el = document.getElementById(%q);
		el.value = %q;
		el.dispatchEvent(new Event('change', {bubbles: true}));
	})()`, id, value))
}

// fill replaces an input's text like a user does (select all, type), with
// the input event the page listens to.
func fill(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function () {
		var el = document.getElementById(%q);
		el.focus();
		el.value = %q;
		el.dispatchEvent(new Event('input', {bubbles: true}));
	})()`, id, value))
}

// money formats EUR minor units as the console does for these tests.
func money(v int64) string { return parrain.FormatMinor(v, "EUR") + " EUR" }
