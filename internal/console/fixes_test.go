package console

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// TestOverdueLeavesOutHeldRewards: a pending reward past its hold is
// reported as the approval job being late, unless its referral is held for
// fraud review (the approval job rightly waits for the reviewer).
func TestOverdueLeavesOutHeldRewards(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		adv := e.Advocate(e.prog.ID, "alice", "alice@example.com")
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob@example.org", ReferralCode: adv.Code})
		e.Event(e.prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o1", Amount: 5000, Currency: "EUR"})
		e.Clock.Advance(31 * 24 * time.Hour)
		e.sess[parrain.UserRoleAnalyst] = e.session(t, e.users[parrain.UserRoleAnalyst]) // the first one expired
		const late = "past their hold: the approval job is late"
		if a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/?program="+e.prog.ID, nil, nil); a.status != 200 || !strings.Contains(a.body, "2 pending reward(s) are "+late) {
			t.Fatalf("the overdue rewards (advocate and friend) are not reported: %d", a.status)
		}
		if _, err := e.St.DB().Exec(`UPDATE referrals SET review_status = 'held' WHERE program_id = $1`, e.prog.ID); err != nil {
			t.Fatal(err)
		}
		a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/?program="+e.prog.ID, nil, nil)
		if a.status != 200 || strings.Contains(a.body, late) {
			t.Errorf("a reward held for fraud review is reported as the approval job being late: %d", a.status)
		}
	})
}

// TestClosedDealDays: a closed deal shows how many days it took
// ("30.0 days"), not a Go formatting error of the pointer.
func TestClosedDealDays(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		ps := partner.New(e.St, e.Clock, e.Ref)
		if _, err := ps.PutProgram(bg, e.prog.ID, parrain.PartnerSettings{Slug: "acme", ApplicationsOpen: true},
			[]parrain.Tier{{Key: "referral", Name: "Referral", Rank: 0}}); err != nil {
			t.Fatal(err)
		}
		p, _, err := ps.Apply(bg, e.prog.ID, parrain.PartnerApplication{Email: "pat@partner.example", Name: "Pat"}, "invite", store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := ps.RegisterLead(bg, e.prog.ID, p.ID, parrain.LeadInput{CompanyName: "Initech", CompanyDomain: "initech.example",
			ContactEmail: "buyer@initech.example", CompanySize: 200, Consent: true}, partner.RegisterOptions{Actor: "test"}, store.Idem{})
		if err != nil || r.Lead.ID == "" {
			t.Fatalf("register: %+v %v", r, err)
		}
		e.Clock.Advance(30*24*time.Hour + 2*time.Hour)
		e.sess[parrain.UserRoleAnalyst] = e.session(t, e.users[parrain.UserRoleAnalyst]) // the first one expired
		v := int64(1_234_500)
		if _, _, err := ps.MoveDeal(bg, e.prog.ID, r.Lead.ID, partner.DealMove{Stage: "closed_won", Value: &v, Source: "manager"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/partners/deals?program="+e.prog.ID, nil, nil)
		if a.status != 200 || !strings.Contains(a.body, `<span class="muted">30.1 days</span>`) || strings.Contains(a.body, "%!") {
			t.Errorf("closed deal: %d %s", a.status, a.body)
		}
		if !strings.Contains(a.body, "12,345.00") {
			t.Error("the deal value has no thousands separator")
		}
	})
}

// TestProgramFormShowsWhatApplies: editing a program keeps it in the
// picker; each side shows only the inputs of its reward kind and amount
// type, without script (they once all showed, whatever the type).
func TestProgramFormShowsWhatApplies(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		other := e.Program(func(p *parrain.Program) {
			p.Name = "Zeta referrals"
			p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCustom, Type: parrain.AmountFixed, Amount: 500, Description: "a mug"}}}
		})
		s := e.sess[parrain.UserRoleManager]
		// Pick Acme, then edit Zeta: the picker shows Zeta.
		if a := e.do(s, "GET", "/admin/?program="+e.prog.ID, nil, nil); a.status != 200 {
			t.Fatalf("overview: %d", a.status)
		}
		a := e.do(s, "GET", "/admin/programs/"+other.ID+"/edit", nil, map[string]string{"Cookie": "parrain_program=" + e.prog.ID})
		selected := regexp.MustCompile(`<option value="([^"]+)" selected>`).FindStringSubmatch(a.body[strings.Index(a.body, `id="program-switch"`):])
		if a.status != 200 || selected == nil || selected[1] != other.ID {
			t.Errorf("editing %s, the picker selects %v", other.ID, selected)
		}
		hidden := func(body, id string) bool {
			t.Helper()
			m := regexp.MustCompile(`<div class="field"[^>]*?( hidden)?>\s*<label for="` + regexp.QuoteMeta(id) + `">`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no input %s", id)
			}
			return m[1] != ""
		}
		for _, c := range []struct {
			prog, id string
			hidden   bool
		}{
			// Acme: the advocate gets fixed cash, the friend a fixed coupon.
			{e.prog.ID, "rule-0-advocate-type", false},
			{e.prog.ID, "rule-0-advocate-amount", false},
			{e.prog.ID, "rule-0-advocate-percent", true},
			{e.prog.ID, "rule-0-advocate-max", true},
			{e.prog.ID, "rule-0-advocate-description", true},
			{e.prog.ID, "rule-0-friend-description", true},
			// Zeta: a custom reward to the advocate, nothing to the friend.
			{other.ID, "rule-0-advocate-amount", false},
			{other.ID, "rule-0-advocate-description", false},
			{other.ID, "rule-0-advocate-percent", true},
			{other.ID, "rule-0-friend-type", true},
			{other.ID, "rule-0-friend-amount", true},
		} {
			body := e.do(s, "GET", "/admin/programs/"+c.prog+"/edit", nil, nil).body
			if got := hidden(body, c.id); got != c.hidden {
				t.Errorf("%s of %s: hidden %v, want %v", c.id, c.prog, got, c.hidden)
			}
		}
		css := e.do(s, "GET", "/admin/static/console.css", nil, nil).body
		if !strings.Contains(css, "[hidden] { display: none !important; }") {
			t.Error("console.css lets .field's display override the hidden attribute")
		}
	})
}

// TestJobsPageNav: the jobs page (linked from Settings) highlights
// Settings, not Overview.
func TestJobsPageNav(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		a := e.do(e.sess[parrain.UserRoleAnalyst], "GET", "/admin/jobs", nil, nil)
		cur := regexp.MustCompile(`aria-current="page">([^<]+)<`).FindAllStringSubmatch(a.body, -1)
		if a.status != 200 || len(cur) != 1 || cur[0][1] != "Settings" {
			t.Errorf("jobs page: %d, current %v", a.status, cur)
		}
	})
}

// TestChartNumbersGrouped: chart labels group thousands.
func TestChartNumbersGrouped(t *testing.T) {
	d := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	h := string(barChart(series{ID: "c", Title: "Clicks", Color: "clicks", Days: []time.Time{d, d.AddDate(0, 0, 1)}, Values: []int64{1234, 56789}}))
	for _, want := range []string{"58,023 in total", "at most 56,789 in a day", ">56,789</text>", "<title>Sun 1 Nov: 1,234</title>"} {
		if !strings.Contains(h, want) {
			t.Errorf("chart lacks %q: %s", want, h)
		}
	}
}
