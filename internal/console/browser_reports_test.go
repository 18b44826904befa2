package console_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
)

// TestReportsInBrowser walks the reporting pages in headless Chromium at
// desktop (1280 px) and phone (390 px) widths: the reports page with its
// charts and shares by channel, the participants list with its CSV link,
// an advocate's report, and an import from upload (dry run) through its
// progress to the rejected lines. Each page passes the accessibility
// basics and, on the phone, does not scroll sideways.
func TestReportsInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	sh := shots{t: t, write: os.Getenv("PARRAIN_UPDATE_SCREENSHOTS") == "1", dir: filepath.Join("..", "..", "docs", "screenshots")}
	base, demo := e.srv.URL, e.prog.ID
	e.drainJobs()
	e.user("manager@acme.example", parrain.UserRoleManager)
	step(t, ctx, 200, "sign-in page", chromedp.Navigate(base+"/admin/login"))
	step(t, ctx, 200, "sign in",
		chromedp.SendKeys(chromedp.ID("email"), "manager@acme.example"),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery"),
		chromedp.Submit(chromedp.ID("password")))

	// An advocate with referrals, for the report page.
	rows, _, err := report.New(e.st).Participants(ctx, store.ParticipantQuery{ProgramID: demo, Sort: store.SortReferrals, Desc: true}, store.Page{Limit: 1})
	if err != nil || len(rows) == 0 {
		t.Fatalf("top advocate: %v", err)
	}
	file := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(file, []byte("external_id,email,name\nb-1,b1@example.com,Bea\nb-2,not-an-email,Bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pages := []struct{ name, path, want string }{
		{"reports", "/admin/reports?program=" + demo + "&from=2026-08-01&to=2026-11-01", "svg.chart-revenue"},
		{"participants", "/admin/participants?program=" + demo, `a[href^="/admin/participants.csv"]`},
		{"advocate-report", "/admin/participants/" + rows[0].ID + "/report?from=2026-08-01&to=2026-11-01", "#advocate-shares"},
		{"imports", "/admin/imports?program=" + demo, "#import-form"},
	}
	for _, width := range []int64{1280, 390} {
		if width == 390 {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range pages {
			step(t, ctx, 200, p.name, chromedp.Navigate(base+p.path))
			n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('"+p.want+"').length"))
			if err != nil || n == 0 {
				t.Errorf("%s at %d px: no %s (%v)", p.name, width, p.want, err)
			}
			checkAccessible(t, ctx, p.name)
			if width == 390 {
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth + 1"))
				if err != nil || wide {
					t.Errorf("%s scrolls sideways on a phone (%v)", p.name, err)
				}
				sh.top(ctx, p.name+"-phone")
			} else {
				sh.top(ctx, p.name)
			}
		}
		// Upload a dry run; the import page shows it queued, then done
		// once the job ran.
		step(t, ctx, 200, "imports page", chromedp.Navigate(base+"/admin/imports?program="+demo))
		step(t, ctx, 200, "upload",
			chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}),
			chromedp.Submit(chromedp.ID("file")))
		if got := attr(t, ctx, "#import-status", "data-status"); got != "queued" {
			t.Fatalf("after the upload: %q", got)
		}
		e.drainJobs()
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		step(t, ctx, 200, "import page", chromedp.Navigate(url))
		if got := attr(t, ctx, "#import-status", "data-status"); got != "done" {
			t.Fatalf("after the job: %q", got)
		}
		if got := text(t, ctx, `#rejected-rows tbody th`); got != "3" {
			t.Errorf("rejected line %q, want 3", got)
		}
		checkAccessible(t, ctx, "import")
		sh.top(ctx, "import-"+map[int64]string{1280: "desktop", 390: "phone"}[width])
	}
}
