package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// partnersData is the partner program page: the account check, the KPIs
// and the pending applications.
type partnersData struct {
	Missing    bool // the program has no partner program
	PP         store.PartnerProgram
	Query      string
	CheckError string
	Check      *accountCheck
	Period     periodChoice
	Report     partner.KPIReport
	Tiers      []tierKPIs
	Applicants []parrain.Partner
	MoreApps   string
	Back       string // this page's URL, for the decision forms
}

// accountCheck is the answer of the channel-conflict check, with the
// registering deal's dates when the account is taken.
type accountCheck struct {
	By string // "domain" or "company name": how the query was read
	parrain.Decision
	Since   time.Time     // when the holding lead was registered
	Until   string        // the end of the exclusivity, or "for good"
	Lead    *parrain.Lead // the holding lead, when known
	Free    bool
	Blocked string // "registered" or "excluded"
}

// tierKPIs is one tier's line of the KPI table.
type tierKPIs struct {
	Key, Name string
	KPIs      parrain.KPIs
}

// partnerProgramOf loads the program's partner program; missing reports a
// program without one (not an error for the pages).
func (c *Console) partnerProgramOf(r *http.Request, programID string) (pp store.PartnerProgram, missing bool, err error) {
	pp, err = c.st.PartnerProgram(r.Context(), programID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		return pp, true, nil
	}
	return pp, false, err
}

// accountQuery reads the search box: something that looks like a domain
// (acme.com, www.acme.com/x, jane@acme.com) is checked as a domain,
// anything else as a company name.
func accountQuery(q string) (domain, company string) {
	q = strings.TrimSpace(q)
	if !strings.ContainsAny(q, " \t") && strings.Contains(strings.Trim(q, "."), ".") && parrain.AccountDomain(q) != "" {
		return q, ""
	}
	return "", q
}

// fieldMessage words a refusal for a flash: "Value: is required to …".
func fieldMessage(e *parrain.Error) string {
	if e.Field == "" {
		return e.Message + "."
	}
	return label(e.Field) + ": " + e.Message + "."
}

// consoleActor names a console user in the partner decision log and deal
// histories.
func consoleActor(a *Auth) string { return "console:" + a.User.Email }

// Partners serves GET /admin/partners: the channel-conflict account check
// (?q=), the partner KPIs of a period (the overview's period picker) overall,
// per tier and per partner, and the pending applications.
func (c *Console) Partners(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Partners", Nav: "partners", Auth: a, Programs: all, Program: prog}
	if prog == nil {
		c.render(w, r, http.StatusOK, "partners", v)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := partnersData{Query: strings.TrimSpace(q.Get("q"))}
	if d.PP, d.Missing, err = c.partnerProgramOf(r, prog.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Missing {
		v.Data = d
		c.render(w, r, http.StatusOK, "partners", v)
		return
	}
	if d.Period, err = parsePeriod(r, c.st.Clock().Now()); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if len(d.Query) > 300 {
		c.fail(w, r, a, parrain.Invalid("q", "must be at most 300 characters"))
		return
	}
	if d.Query != "" {
		domain, company := accountQuery(d.Query)
		dec, err := c.partners.CheckAccount(ctx, prog.ID, domain, company, consoleActor(a))
		if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
			d.CheckError = e.Message
		} else if err != nil {
			c.fail(w, r, a, err)
			return
		} else {
			ch := &accountCheck{By: "company name", Decision: dec, Free: dec.Outcome == parrain.OutcomeClear}
			if domain != "" {
				ch.By = "domain"
			}
			switch {
			case dec.Holder != nil:
				ch.Blocked = "registered"
				ch.Until = parrain.Day(dec.Holder.ExpiresAt)
				if dec.Holder.ExpiresAt.Year() >= 9999 {
					ch.Until = "for good (the deal was closed won)"
				}
				if l, err := c.st.Lead(ctx, prog.ID, dec.Holder.LeadID); err == nil {
					ch.Lead, ch.Since = &l, l.RegisteredAt
				} else if parrain.ErrorCode(err) != parrain.CodeNotFound {
					c.fail(w, r, a, err)
					return
				}
			case dec.Exclusion != nil:
				ch.Blocked = "excluded"
			}
			d.Check = ch
		}
	}
	if d.Report, err = c.partners.KPIReportFor(ctx, prog.ID, d.Period.Period.From, d.Period.Period.To); err != nil {
		c.fail(w, r, a, err)
		return
	}
	for _, t := range d.PP.Tiers {
		d.Tiers = append(d.Tiers, tierKPIs{Key: t.Key, Name: t.Name, KPIs: d.Report.ByTier[t.Key]})
	}
	appPage := store.Page{Limit: 50, Cursor: q.Get("app_cursor")}
	if appPage.Cursor != "" && (!strings.HasPrefix(appPage.Cursor, "ptn_") || len(appPage.Cursor) > 120) {
		c.fail(w, r, a, parrain.Invalid("app_cursor", "is not a cursor from a previous page"))
		return
	}
	if d.Applicants, d.MoreApps, err = c.st.Partners(ctx, prog.ID, parrain.PartnerApplied, appPage); err != nil {
		c.fail(w, r, a, err)
		return
	}
	d.Back = "/admin/partners?" + string(partnersQuery(prog.ID, d.Period, "q", d.Query, "app_cursor", appPage.Cursor))
	v.Data = d
	c.render(w, r, http.StatusOK, "partners", v)
}

// partnersQuery is the query string of a partners page: the program, the
// period and extra key, value pairs.
func partnersQuery(programID string, pc periodChoice, kv ...any) string {
	args := []any{"program", programID}
	if pc.Key == "custom" {
		args = append(args, "from", pc.From, "to", pc.To)
	} else {
		args = append(args, "period", pc.Key)
	}
	return string(qs(append(args, kv...)...))
}

// PartnerKPIsCSV serves GET /admin/partners/kpis.csv: the partner KPIs of
// the period, overall, per tier and per partner, raw counts and minor
// units included.
func (c *Console) PartnerKPIsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	pp, err := c.st.PartnerProgram(r.Context(), prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	rep, err := c.partners.KPIReportFor(r.Context(), prog.ID, pc.Period.From, pc.Period.To)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, fmt.Sprintf("parrain-%s-partner-kpis-%s-%s.csv", prog.ID, pc.From, pc.To))
	cur := pp.Currency
	_ = cw.Write([]string{"scope", "key", "name", "tier", "period_start", "period_end_exclusive", "signed_partners", "active_partners",
		"activation_rate", "leads", "won", "lost", "lead_to_customer_rate", "sourced_revenue_minor_" + cur, "influenced_revenue_minor_" + cur,
		"average_deal_size_minor_" + cur, "average_days_to_close"})
	row := func(scope, key, name, tier string, k parrain.KPIs) {
		days := ""
		if k.Won > 0 {
			days = strconv.FormatFloat(k.AverageDaysToClose, 'f', 1, 64)
		}
		_ = cw.Write([]string{scope, csvSafe(key), csvSafe(name), csvSafe(tier), pc.Period.From.Format("2006-01-02"), pc.Period.To.Format("2006-01-02"),
			strconv.Itoa(k.SignedPartners), strconv.Itoa(k.ActivePartners), k.ActivationRate, strconv.Itoa(k.Leads), strconv.Itoa(k.Won),
			strconv.Itoa(k.Lost), k.LeadToCustomerRate, itoa(k.SourcedRevenue), itoa(k.InfluencedRevenue), itoa(k.AverageDealSize), days})
	}
	row("overall", "", "", "", rep.Overall)
	for _, t := range pp.Tiers {
		row("tier", t.Key, t.Name, t.Key, rep.ByTier[t.Key])
	}
	for _, p := range rep.ByPartner {
		row("partner", p.PartnerID, p.Name, p.Tier, p.KPIs)
	}
	cw.Flush()
}

// ApprovePartner handles POST /admin/partners/{id}/approve: the applicant
// becomes a partner (a participant in the entry tier).
func (c *Console) ApprovePartner(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decidePartner(w, r, a, true)
}

// RejectPartner handles POST /admin/partners/{id}/reject.
func (c *Console) RejectPartner(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decidePartner(w, r, a, false)
}

func (c *Console) decidePartner(w http.ResponseWriter, r *http.Request, a *Auth, approve bool) {
	programID := r.PostForm.Get("program")
	if _, err := c.st.Program(r.Context(), programID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/partners?program="+url.QueryEscape(programID))
	note := r.PostForm.Get("note")
	p, _, err := c.partners.Decide(r.Context(), programID, r.PathValue("id"), approve, note, store.Idem{})
	if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeInvalid) {
		c.setFlash(w, r, "error", fieldMessage(e))
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	verb := "Approved" // the decision is audited by the use case
	if !approve {
		verb = "Rejected"
	}
	msg := fmt.Sprintf("%s the application of %s.", verb, p.Name)
	if approve {
		msg += " They are a partner in the " + p.Tier + " tier."
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, back)
}

// dealsData is the leads and deals page.
type dealsData struct {
	Missing  bool
	PP       store.PartnerProgram
	Stage    string
	Partner  string
	Partners []parrain.Partner
	Deals    []dealRow
	Next     string
	Back     string
}

// dealRow is one lead or deal with its stage's label.
type dealRow struct {
	parrain.Lead
	StageLabel string
	Open       bool
}

// Days is how long a closed deal took from registration, in days with one
// decimal ("" while open).
func (d dealRow) Days() string {
	if d.DaysToClose == nil {
		return ""
	}
	return strconv.FormatFloat(*d.DaysToClose, 'f', 1, 64)
}

// stageLabel names a deal stage by its label, else its name in words.
func stageLabel(pp store.PartnerProgram, name string) string {
	if st, ok := pp.Stage(name); ok && st.Label != "" {
		return st.Label
	}
	return label(name)
}

// Deals serves GET /admin/partners/deals: the program's leads and deals,
// newest first, by keyset pages, filtered by stage and partner, with a
// form to move each open deal (managers).
func (c *Console) Deals(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Leads and deals", Nav: "partners", Auth: a, Programs: all, Program: prog}
	if prog == nil {
		c.render(w, r, http.StatusOK, "deals", v)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := dealsData{Stage: q.Get("stage"), Partner: q.Get("partner")}
	if d.PP, d.Missing, err = c.partnerProgramOf(r, prog.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Missing {
		v.Data = d
		c.render(w, r, http.StatusOK, "deals", v)
		return
	}
	if _, ok := d.PP.Stage(d.Stage); d.Stage != "" && !ok {
		c.fail(w, r, a, parrain.Invalid("stage", "must be one of %s", d.PP.StageNames()))
		return
	}
	pg, err := listPage(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if pg.Cursor != "" && !strings.HasPrefix(pg.Cursor, "lead_") {
		c.fail(w, r, a, parrain.Invalid("cursor", "is not a cursor from a previous page"))
		return
	}
	if d.Partners, _, err = c.st.Partners(ctx, prog.ID, "", store.Page{Limit: 200}); err != nil {
		c.fail(w, r, a, err)
		return
	}
	leads, next, err := c.st.Leads(ctx, prog.ID, store.LeadFilter{PartnerID: d.Partner, Stage: d.Stage}, pg)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	for _, l := range leads {
		d.Deals = append(d.Deals, dealRow{Lead: l, StageLabel: stageLabel(d.PP, l.Stage), Open: l.StageKind == parrain.StageOpen})
	}
	d.Next = next
	d.Back = "/admin/partners/deals?" + string(qs("program", prog.ID, "stage", d.Stage, "partner", d.Partner, "cursor", pg.Cursor))
	v.Data = d
	c.render(w, r, http.StatusOK, "deals", v)
}

// MoveDealStage handles POST /admin/partners/deals/{id}/stage: a manager
// moves a deal (source "manager") through partner.MoveDeal, which records
// the stage history, pays the stage's rewards, sends the webhook and
// audits the move.
func (c *Console) MoveDealStage(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID := r.PostForm.Get("program")
	prog, err := c.st.Program(r.Context(), programID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/partners/deals?program="+url.QueryEscape(programID))
	before, err := c.st.Lead(r.Context(), programID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	mv := partner.DealMove{Stage: r.PostForm.Get("stage"), Source: "manager", Actor: consoleActor(a)}
	refuse := func(msg string) {
		c.setFlash(w, r, "error", before.CompanyName+": "+msg)
		redirect(w, r, back)
	}
	if s := strings.TrimSpace(r.PostForm.Get("value")); s != "" {
		digits, ok := parrain.CurrencyDigits(prog.Currency)
		if !ok {
			digits = 2
		}
		val, err := parseDecimal("value", s, digits)
		if err != nil {
			refuse(fieldMessage(parrain.AsError(err)))
			return
		}
		mv.Value = &val
	}
	res, _, err := c.partners.MoveDeal(r.Context(), programID, before.ID, mv, store.Idem{})
	if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeInvalid) {
		refuse(fieldMessage(e))
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if res.Message != "" {
		c.setFlash(w, r, "ok", before.CompanyName+": "+res.Message+".")
		redirect(w, r, back)
		return
	}
	pp, err := c.st.PartnerProgram(r.Context(), programID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	msg := fmt.Sprintf("Moved %s (%s) to %s.", before.CompanyName, before.PartnerName, stageLabel(pp, res.Lead.Stage))
	if n := len(res.Rewards); n > 0 {
		msg += fmt.Sprintf(" %d reward(s) made for the partner.", n)
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, back)
}
