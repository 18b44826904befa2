package console_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/dbtest"
)

// The experiment pages in a real browser, at desktop and phone widths:
// set up an experiment with the prefilled form, start it, read the
// results with their chart; nothing overflows the page and the
// accessibility checks pass.
func TestExperimentsInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	base, demo := e.srv.URL, e.prog.ID
	const password = "correct horse battery"
	step(t, ctx, 200, "open the console", chromedp.Navigate(base+"/admin/"))
	step(t, ctx, 200, "set up the owner",
		chromedp.SendKeys(chromedp.ID("name"), "Olga Owner"),
		chromedp.SendKeys(chromedp.ID("email"), "owner@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("confirm"), password),
		chromedp.Submit(chromedp.ID("confirm")))
	step(t, ctx, 200, "experiments", chromedp.Navigate(base+"/admin/experiments?program="+demo))
	if page := attr(t, ctx, "body", "data-page"); page != "experiments" {
		t.Fatalf("page %q", page)
	}
	checkAccessible(t, ctx, "experiments setup")
	step(t, ctx, 200, "create from the prefilled form", chromedp.Click(chromedp.CSS(`form[action="/admin/experiments"] button[type=submit]`)))
	if got := text(t, ctx, "#exp-verdict"); got == "" {
		t.Fatal("no verdict on the results page")
	}
	step(t, ctx, 200, "start", chromedp.Click(chromedp.CSS(`form[action$="/start"] button`)))
	for _, width := range []int64{1280, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 844)); err != nil {
			t.Fatal(err)
		}
		step(t, ctx, 200, "reload", chromedp.Reload())
		charts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg.chart-experiment').length`))
		if err != nil || charts != 1 {
			t.Fatalf("%d px: %d charts (%v)", width, charts, err)
		}
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || overflow {
			t.Fatalf("%d px: the page overflows horizontally (%v)", width, err)
		}
		if got := text(t, ctx, "h2#exp-h"); got == "" {
			t.Fatalf("%d px: no experiment heading", width)
		}
		checkAccessible(t, ctx, "experiment results")
	}
}
