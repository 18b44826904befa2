package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// partnerEnv is the console on the demo data with the demo's partner
// program, an analyst and a manager.
type partnerEnv struct {
	*env
	prog        string
	an, manager session
}

func newPartnerEnv(t *testing.T) partnerEnv {
	t.Helper()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	pp, err := e.st.PartnerProgramBySlug(ctx, "acme-partners")
	if err != nil {
		t.Fatal(err)
	}
	return partnerEnv{env: e, prog: pp.ProgramID,
		an:      e.session(e.user("analyst@corp.example", parrain.UserRoleAnalyst)),
		manager: e.session(e.user("manager@corp.example", parrain.UserRoleManager))}
}

func (p partnerEnv) applicant() parrain.Partner {
	p.t.Helper()
	apps, _, err := p.st.Partners(ctx, p.prog, parrain.PartnerApplied, store.Page{Limit: 10})
	if err != nil || len(apps) != 1 || apps[0].Name != "Newcomer Labs" {
		p.t.Fatalf("demo applicants: %+v %v", apps, err)
	}
	return apps[0]
}

func (p partnerEnv) partnerAudit() []store.AuditEntry {
	p.t.Helper()
	all, _, err := p.st.AuditLog(ctx, store.AuditFilter{Action: "partner."}, store.Page{})
	if err != nil {
		p.t.Fatal(err)
	}
	// Only console users' entries: the demo seeding's deal moves are
	// audited too, under the system actor.
	var log []store.AuditEntry
	for _, e := range all {
		if e.UserID != "" {
			log = append(log, e)
		}
	}
	return log
}

// TestPartnerAccountCheck: an analyst checks a demo account registered by
// a partner (the partner, since and until are shown with the store's
// explanation), an excluded one, and an unknown one (free).
func TestPartnerAccountCheck(t *testing.T) {
	t.Parallel()
	p := newPartnerEnv(t)
	lead := func(company string) parrain.Lead {
		t.Helper()
		ls, _, err := p.st.Leads(ctx, p.prog, store.LeadFilter{}, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			if l.CompanyName == company {
				return l
			}
		}
		t.Fatalf("no demo lead %s", company)
		return parrain.Lead{}
	}
	stark := lead("Stark Logistics")
	dec, err := partner.New(p.st, p.st.Clock(), referral.New(p.st)).CheckAccount(ctx, p.prog, "stark-logistics.example", "", "test")
	if err != nil || dec.Holder == nil {
		t.Fatalf("store check: %+v %v", dec, err)
	}
	for _, q := range []string{"stark-logistics.example", "https://www.Stark-Logistics.example/about", "Stark Logistics"} {
		a := p.do(p.an, "GET", "/admin/partners?"+url.Values{"program": {p.prog}, "q": {q}}.Encode(), nil, nil)
		want := []string{`data-outcome="registered"`, `<span data-holder>Nora Consulting</span>`,
			"<strong>Since</strong> " + stark.RegisteredAt.UTC().Format("2006-01-02"),
			"<strong>Until</strong> " + stark.ExpiresAt.UTC().Format("2006-01-02")}
		if q == "stark-logistics.example" {
			want = append(want, strings.ReplaceAll(dec.Explanation, `"`, "&#34;"))
		}
		for _, w := range want {
			if a.status != 200 || !strings.Contains(a.body, w) {
				t.Errorf("check %q: %d, missing %q: %s", q, a.status, w, snippet(a.body))
			}
		}
	}
	if !strings.Contains(dec.Explanation, "registered by Nora Consulting until "+stark.ExpiresAt.UTC().Format("2006-01-02")) {
		t.Errorf("store explanation: %s", dec.Explanation)
	}

	free := p.do(p.an, "GET", "/admin/partners?"+url.Values{"program": {p.prog}, "q": {"unknown-account.example"}}.Encode(), nil, nil)
	for _, w := range []string{`data-outcome="free"`, "<strong>Free</strong>", "unknown-account.example is not registered by any partner and not excluded."} {
		if free.status != 200 || !strings.Contains(free.body, w) {
			t.Errorf("unknown account: %d, missing %q: %s", free.status, w, snippet(free.body))
		}
	}
	if strings.Contains(free.body, "data-holder") {
		t.Error("a free account shows a partner")
	}

	excl := p.do(p.an, "GET", "/admin/partners?"+url.Values{"program": {p.prog}, "q": {"globex.example"}}.Encode(), nil, nil)
	for _, w := range []string{`data-outcome="excluded"`, "direct team demo in progress"} {
		if excl.status != 200 || !strings.Contains(excl.body, w) {
			t.Errorf("excluded account: %d, missing %q: %s", excl.status, w, snippet(excl.body))
		}
	}

	// The checks are in the decisions log, by the console user.
	ds, _, err := p.st.PartnerDecisions(ctx, p.prog, "", "unknown-account.example", store.Page{Limit: 10})
	if err != nil || len(ds) != 1 || ds[0].Actor != "console:analyst@corp.example" || ds[0].Outcome != parrain.OutcomeClear {
		t.Errorf("decisions log: %+v %v", ds, err)
	}

	// The same page shows the KPIs and the applications, without
	// decision controls for the analyst; the CSV has a line per partner.
	page := p.do(p.an, "GET", "/admin/partners?program="+p.prog, nil, nil)
	for _, w := range []string{`id="partner-kpis"`, `data-kpi-scope="overall"`, `data-tier="reseller"`, "Vertex Resellers", `data-application="`} {
		if !strings.Contains(page.body, w) {
			t.Errorf("partners page lacks %q", w)
		}
	}
	if strings.Contains(page.body, "data-approve-partner") {
		t.Error("the analyst sees the approve button")
	}
	csv := p.do(p.an, "GET", "/admin/partners/kpis.csv?program="+p.prog+"&period=90d", nil, nil)
	lines := strings.Split(strings.TrimSpace(csv.body), "\n")
	if csv.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(lines[0], "scope,key,name,tier,") ||
		!strings.HasPrefix(lines[1], "overall,") || len(lines) != 1+1+3+3 {
		t.Errorf("partner KPIs csv: %q", csv.body)
	}
	if a := p.do(p.an, "GET", "/admin/partners?program="+p.prog+"&q=bad%20domain..example&period=2y", nil, nil); a.status != 400 {
		t.Errorf("bad period: %d", a.status)
	}
}

// TestPartnerApplicationsOverHTTP: an analyst cannot approve (403, nothing
// changed); a manager approves the demo applicant (audited).
func TestPartnerApplicationsOverHTTP(t *testing.T) {
	t.Parallel()
	p := newPartnerEnv(t)
	app := p.applicant()

	for _, path := range []string{"/admin/partners/" + app.ID + "/approve", "/admin/partners/" + app.ID + "/reject"} {
		if a := p.do(p.an, "POST", path, url.Values{"program": {p.prog}}, nil); a.status != 403 {
			t.Errorf("analyst POST %s: %d, want 403", path, a.status)
		}
	}
	if got, _ := p.st.Partner(ctx, p.prog, app.ID); got.Status != parrain.PartnerApplied || len(p.partnerAudit()) != 0 {
		t.Fatalf("the analyst changed the application: %s", got.Status)
	}

	page := p.do(p.manager, "GET", "/admin/partners?program="+p.prog, nil, nil)
	if !strings.Contains(page.body, `data-approve-partner="`+app.ID+`"`) {
		t.Fatalf("manager lacks the approve button: %s", snippet(page.body))
	}
	a := p.do(p.manager, "POST", "/admin/partners/"+app.ID+"/approve", url.Values{"program": {p.prog}, "note": {"good fit"},
		"back": {"/admin/partners?program=" + p.prog}}, nil)
	if a.status != 303 || a.header.Get("Location") != "/admin/partners?program="+p.prog {
		t.Fatalf("approve: %d %s", a.status, a.header.Get("Location"))
	}
	got, _ := p.st.Partner(ctx, p.prog, app.ID)
	if got.Status != parrain.PartnerActive || got.Tier != "referral" || got.Code == "" || got.DecisionNote != "good fit" {
		t.Errorf("approved partner: %+v", got)
	}
	log := p.partnerAudit()
	if len(log) != 1 || log[0].Action != "partner.approved" || log[0].TargetID != app.ID || log[0].UserEmail != "manager@corp.example" ||
		log[0].ProgramID != p.prog || log[0].Details["note"] != "good fit" {
		t.Errorf("audit: %+v", log)
	}
	// Deciding again is a message, not a change.
	if a := p.do(p.manager, "POST", "/admin/partners/"+app.ID+"/reject", url.Values{"program": {p.prog}}, nil); a.status != 303 || len(p.partnerAudit()) != 1 {
		t.Errorf("rejecting a decided application: %d", a.status)
	}
	if got, _ := p.st.Partner(ctx, p.prog, app.ID); got.Status != parrain.PartnerActive {
		t.Errorf("status after a second decision: %s", got.Status)
	}
	// Another program's id does not reach this program's applicant.
	if a := p.do(p.manager, "POST", "/admin/partners/"+app.ID+"/approve", url.Values{"program": {p.env.prog.ID}}, nil); a.status != 404 {
		t.Errorf("approve in another program: %d", a.status)
	}
}

// TestMoveDealOverHTTP: the deals list shows stages and partners with
// keyset pages; an analyst cannot move a deal; a manager moves an open
// deal to closed_won (value required), through partner.MoveDeal with source
// "manager": the history, the reward and the audit log say so.
func TestMoveDealOverHTTP(t *testing.T) {
	t.Parallel()
	p := newPartnerEnv(t)
	ls, _, err := p.st.Leads(ctx, p.prog, store.LeadFilter{Stage: "poc"}, store.Page{Limit: 10})
	if err != nil || len(ls) != 1 || ls[0].CompanyName != "Tyrell Systems" {
		t.Fatalf("demo poc deals: %+v %v", ls, err)
	}
	deal := ls[0]

	list := p.do(p.an, "GET", "/admin/partners/deals?program="+p.prog, nil, nil)
	for _, w := range []string{`data-deal="` + deal.ID + `"`, "Proof of concept", "Brightpath Advisors", "Closed won", "Hooli"} {
		if list.status != 200 || !strings.Contains(list.body, w) {
			t.Errorf("deals page: %d, missing %q: %s", list.status, w, snippet(list.body))
		}
	}
	if strings.Contains(list.body, "data-move=") {
		t.Error("the analyst sees the move form")
	}
	filtered := p.do(p.an, "GET", "/admin/partners/deals?program="+p.prog+"&stage=closed_won", nil, nil)
	if strings.Count(filtered.body, `data-deal="`) != 3 || strings.Contains(filtered.body, `data-deal="`+deal.ID+`"`) {
		t.Errorf("closed won filter: %d deals", strings.Count(filtered.body, `data-deal="`))
	}
	// Keyset pages: the page after a cursor starts after it.
	first, _, err := p.st.Leads(ctx, p.prog, store.LeadFilter{}, store.Page{Limit: 3})
	if err != nil || len(first) != 3 {
		t.Fatalf("first leads: %d %v", len(first), err)
	}
	older := p.do(p.an, "GET", "/admin/partners/deals?program="+p.prog+"&cursor="+first[2].ID, nil, nil)
	if older.status != 200 || strings.Contains(older.body, `data-deal="`+first[0].ID+`"`) || !strings.Contains(older.body, `data-deal="`) {
		t.Errorf("older page: %d", older.status)
	}
	for _, bad := range []string{"&stage=won", "&cursor=junk"} {
		if a := p.do(p.an, "GET", "/admin/partners/deals?program="+p.prog+bad, nil, nil); a.status != 400 {
			t.Errorf("%s: %d", bad, a.status)
		}
	}

	move := func(s session, form url.Values) answer {
		t.Helper()
		form.Set("program", p.prog)
		return p.do(s, "POST", "/admin/partners/deals/"+deal.ID+"/stage", form, nil)
	}
	if a := move(p.an, url.Values{"stage": {"closed_won"}, "value": {"12000"}}); a.status != 403 {
		t.Errorf("analyst move: %d", a.status)
	}
	stage := func() parrain.Lead {
		t.Helper()
		l, err := p.st.Lead(ctx, p.prog, deal.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := stage(); l.Stage != "poc" {
		t.Fatalf("the analyst moved the deal: %s", l.Stage)
	}
	// Closing won without a value is refused with a message.
	if a := move(p.manager, url.Values{"stage": {"closed_won"}}); a.status != 303 || stage().Stage != "poc" || len(p.partnerAudit()) != 0 {
		t.Fatalf("close won without value: %d %s", a.status, stage().Stage)
	}
	a := move(p.manager, url.Values{"stage": {"closed_won"}, "value": {"12000.50"}, "back": {"/admin/partners/deals?program=" + p.prog}})
	if a.status != 303 || a.header.Get("Location") != "/admin/partners/deals?program="+p.prog {
		t.Fatalf("close won: %d %s", a.status, a.header.Get("Location"))
	}
	l := stage()
	if l.Stage != "closed_won" || l.StageKind != parrain.StageWon || l.Value != 1_200_050 || l.ClosedAt == nil {
		t.Errorf("closed deal: %+v", l)
	}
	hist, err := p.st.LeadStages(ctx, p.prog, deal.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.From != "poc" || last.To != "closed_won" || last.Source != "manager" || last.Actor != "console:manager@corp.example" || last.EventID == "" {
		t.Errorf("stage history: %+v", last)
	}
	log := p.partnerAudit()
	if len(log) != 1 || log[0].Action != "partner.deal_moved" || log[0].TargetID != deal.ID || log[0].Details["to"] != "closed_won" {
		t.Errorf("audit: %+v", log)
	}
	// The closed deal has no move form any more; moving it again is refused.
	page := p.do(p.manager, "GET", "/admin/partners/deals?program="+p.prog, nil, nil)
	if strings.Contains(page.body, `data-move="`+deal.ID+`"`) || !strings.Contains(page.body, `data-move="`) {
		t.Error("move forms: a closed deal has one, or open deals have none")
	}
	if a := move(p.manager, url.Values{"stage": {"poc"}}); a.status != 303 || stage().Stage != "closed_won" {
		t.Errorf("moving a closed deal: %d %s", a.status, stage().Stage)
	}
}
