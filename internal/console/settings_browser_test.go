package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

// TestSettingsPagesInBrowser walks every program settings page in headless
// Chromium at desktop (1280 px) and phone (390 px) widths as a manager:
// each renders with the settings sub-navigation, passes the accessibility
// basics and does not scroll sideways; then it saves the advocate
// experience with the landing page on and previews a share message.
func TestSettingsPagesInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	sh := shots{t: t, write: os.Getenv("PARRAIN_UPDATE_SCREENSHOTS") == "1", dir: filepath.Join("..", "..", "docs", "screenshots")}
	base, demo := e.srv.URL, e.prog.ID
	e.user("manager@acme.example", parrain.UserRoleManager)
	step(t, ctx, 200, "sign-in page", chromedp.Navigate(base+"/admin/login"))
	step(t, ctx, 200, "sign in",
		chromedp.SendKeys(chromedp.ID("email"), "manager@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")))

	pages := []struct{ page, path string }{
		{"experience", "/admin/settings/experience"},
		{"email_templates", "/admin/settings/email-templates"},
		{"email_log", "/admin/settings/email-log"},
		{"fraud", "/admin/settings/fraud"},
		{"payout_settings", "/admin/settings/payouts"},
		{"partner_program", "/admin/settings/partner-program"},
		{"coupon_pools", "/admin/settings/coupon-pools"},
	}
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			name := p.page + "-" + map[int64]string{1280: "desktop", 390: "phone"}[width]
			step(t, ctx, 200, name, chromedp.Navigate(base+p.path+"?program="+demo))
			if got := attr(t, ctx, "body", "data-page"); got != p.page {
				t.Fatalf("%s: data-page %q", name, got)
			}
			if got := text(t, ctx, `nav[aria-label="Settings"] [aria-current="page"]`); got == "" {
				t.Errorf("%s: no current entry in the settings navigation", name)
			}
			checkAccessible(t, ctx, name)
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
			if err != nil || wide {
				t.Errorf("%s: the page scrolls sideways (%v)", name, err)
			}
			if width == 1280 && (p.page == "experience" || p.page == "email_templates") {
				sh.top(ctx, "settings-"+strings.ReplaceAll(p.page, "_", "-"))
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.ResetViewport()); err != nil {
		t.Fatal(err)
	}

	// Preview a share message, then save the landing page on.
	step(t, ctx, 200, "experience", chromedp.Navigate(base+"/admin/settings/experience?program="+demo))
	step(t, ctx, 200, "preview",
		fill("share_message.en", "Hey, {name} here: {offer} at {sender} {link}"),
		chromedp.Click(chromedp.CSS(`button[name=action][value=preview]`)))
	if got := text(t, ctx, `.landing-preview[lang=en] blockquote`); !strings.HasPrefix(got, "Hey, Alice here:") || !strings.Contains(got, "(I may get a reward if you join.)") {
		t.Fatalf("share preview: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name=landing_page]').checked = true`)); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, 200, "save", chromedp.Click(chromedp.CSS(`form[action="/admin/settings/experience"] button[type=submit]:not([name])`)))
	if got := text(t, ctx, ".flash"); !strings.Contains(got, "Advocate experience saved") {
		t.Fatalf("flash after saving: %q", got)
	}
	x, err := e.st.Experience(t.Context(), demo)
	if err != nil {
		t.Fatal(err)
	}
	if !x.LandingPage || !strings.HasPrefix(x.ShareMessage["en"], "Hey, {name} here") {
		t.Fatalf("saved experience: %+v", x)
	}
}
