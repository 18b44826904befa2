package console

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
)

// channelCount is one share channel's count.
type channelCount struct {
	Channel string
	Count   int64
}

func channels(m map[string]int64) []channelCount {
	out := make([]channelCount, 0, len(store.ShareChannels))
	for _, c := range store.ShareChannels {
		out = append(out, channelCount{c, m[c]})
	}
	return out
}

// reportsData is the reports page.
type reportsData struct {
	Period   periodChoice
	Currency string
	Charts   []chartView
	Money    []store.DayMoney
	Revenue  int64
	Cost     int64
	Shares   []channelCount
	Invalid  store.InvalidClicks
}

// Reports serves GET /admin/reports: the program's revenue and rewards cost
// per day, shares by channel and the clicks no KPI counts, for a period.
func (c *Console) Reports(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Reports", Nav: "reports", Auth: a, Programs: all, Program: prog}
	if prog == nil {
		c.render(w, r, http.StatusOK, "reports", v)
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	ctx := r.Context()
	d := reportsData{Period: pc, Currency: prog.Currency}
	if d.Money, err = c.reports.Money(ctx, *prog, pc.Period); err != nil {
		c.fail(w, r, a, err)
		return
	}
	shares, err := c.reports.Shares(ctx, prog.ID, pc.Period)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d.Shares = channels(shares)
	if d.Invalid, err = c.st.InvalidClicks(ctx, prog.ID, pc.Period.From, pc.Period.To); err != nil {
		c.fail(w, r, a, err)
		return
	}
	days := make([]time.Time, len(d.Money))
	rev, cost := make([]int64, len(d.Money)), make([]int64, len(d.Money))
	for i, x := range d.Money {
		days[i], rev[i], cost[i] = x.Day, x.Revenue, x.Cost
		d.Revenue += x.Revenue
		d.Cost += x.Cost
	}
	label := func(v int64) string { return money(v, prog.Currency) }
	for _, sr := range []series{
		{ID: "chart-revenue", Title: "Referred revenue", Color: "revenue", Days: days, Values: rev, Label: label},
		{ID: "chart-cost", Title: "Rewards cost", Color: "cost", Days: days, Values: cost, Label: label},
	} {
		var total int64
		for _, x := range sr.Values {
			total += x
		}
		d.Charts = append(d.Charts, chartView{Title: sr.Title, Color: sr.Color, Total: total, SVG: barChart(sr)})
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "reports", v)
}

// ReportsCSV serves GET /admin/reports.csv: revenue and rewards cost per
// day, in minor units.
func (c *Console) ReportsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	days, err := c.reports.Money(r.Context(), *prog, pc.Period)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, fmt.Sprintf("parrain-%s-money-%s-%s.csv", prog.ID, pc.From, pc.To))
	_ = cw.Write([]string{"date", "referred_revenue_minor_" + prog.Currency, "rewards_cost_minor_" + prog.Currency})
	for _, d := range days {
		_ = cw.Write([]string{d.Day.Format("2006-01-02"), strconv.FormatInt(d.Revenue, 10), strconv.FormatInt(d.Cost, 10)})
	}
	cw.Flush()
}

// ParticipantsCSV serves GET /admin/participants.csv: every participant of
// the program with their referrals and earnings, newest first.
func (c *Console) ParticipantsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	q := store.ParticipantQuery{ProgramID: prog.ID, Sort: store.SortCreated, Desc: true}
	// The first page is read before answering, so an error is still a page.
	rows, next, err := c.reports.Participants(r.Context(), q, store.Page{Limit: 200})
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, fmt.Sprintf("parrain-%s-participants.csv", prog.ID))
	_ = cw.Write([]string{"external_id", "name", "email", "code", "status", "referrals", "earned_minor_" + prog.Currency, "created_at"})
	for {
		for _, p := range rows {
			_ = cw.Write([]string{csvSafe(p.ExternalID), csvSafe(p.Name), csvSafe(p.Email), p.Code, string(p.Status),
				strconv.FormatInt(p.Referrals, 10), strconv.FormatInt(p.Earned, 10), p.CreatedAt.Format(time.RFC3339)})
		}
		if next == "" {
			break
		}
		if rows, next, err = c.reports.Participants(r.Context(), q, store.Page{Limit: 200, Cursor: next}); err != nil {
			c.log.ErrorContext(r.Context(), "participants CSV", "err", err)
			break // the answer has started: it ends short
		}
	}
	cw.Flush()
}

// advocateData is the per-advocate report page.
type advocateData struct {
	Period periodChoice
	R      report.AdvocateReport
	Shares []channelCount
}

// AdvocateReport serves GET /admin/participants/{id}/report: what one
// advocate did over a period.
func (c *Console) AdvocateReport(w http.ResponseWriter, r *http.Request, a *Auth) {
	rep, pc, prog, all, err := c.advocateReport(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	title := rep.Participant.Name
	if title == "" {
		title = rep.Participant.ExternalID
	}
	c.render(w, r, http.StatusOK, "advocate_report", view{Title: "Report: " + title, Nav: "participants", Auth: a, Programs: all, Program: prog,
		Data: advocateData{Period: pc, R: rep, Shares: channels(rep.SharesByChannel)}})
}

// AdvocateReportCSV serves GET /admin/participants/{id}/report.csv.
func (c *Console) AdvocateReportCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	rep, pc, _, _, err := c.advocateReport(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, fmt.Sprintf("parrain-advocate-%s-%s-%s.csv", rep.Participant.ID, pc.From, pc.To))
	for _, rec := range rep.Rows() {
		_ = cw.Write(rec)
	}
	cw.Flush()
}

func (c *Console) advocateReport(w http.ResponseWriter, r *http.Request) (report.AdvocateReport, periodChoice, *parrain.Program, []parrain.Program, error) {
	p, err := c.st.ParticipantByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return report.AdvocateReport{}, periodChoice{}, nil, nil, err
	}
	all, _, err := c.programs(w, r)
	if err != nil {
		return report.AdvocateReport{}, periodChoice{}, nil, nil, err
	}
	var prog *parrain.Program
	for i := range all {
		if all[i].ID == p.ProgramID {
			prog = &all[i]
		}
	}
	pc, err := parsePeriod(r, c.st.Clock().Now())
	if err != nil {
		return report.AdvocateReport{}, pc, prog, all, err
	}
	rep, err := c.reports.AdvocateReportOf(r.Context(), p, pc.Period)
	return rep, pc, prog, all, err
}

// importsData is the import page.
type importsData struct {
	Imports []store.ParticipantImport
	MaxMiB  int
}

// Imports serves GET /admin/imports: the upload form and the program's
// recent imports.
func (c *Console) Imports(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Import participants", Nav: "participants", Auth: a, Programs: all, Program: prog}
	d := importsData{MaxMiB: referral.MaxImportBytes >> 20}
	if prog != nil {
		if d.Imports, err = c.st.Imports(r.Context(), prog.ID, 20); err != nil {
			c.fail(w, r, a, err)
			return
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "imports", v)
}

// CreateImport serves POST /admin/imports: a multipart upload of a CSV or
// JSON-lines file (field "file"), a dry run when "dry_run" is on.
func (c *Console) CreateImport(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	if r.MultipartForm == nil {
		c.fail(w, r, a, parrain.Invalid("file", "choose a file to upload"))
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		c.fail(w, r, a, parrain.Invalid("file", "choose a file to upload"))
		return
	}
	defer f.Close()
	format := r.PostForm.Get("format")
	if format == "" || format == "auto" {
		format = referral.FormatCSV
		if ext := strings.ToLower(path.Ext(hdr.Filename)); ext == ".jsonl" || ext == ".ndjson" || ext == ".json" {
			format = referral.FormatJSONL
		}
	}
	im, _, err := c.opt.Referral.StartImport(r.Context(), referral.ImportRequest{ProgramID: prog.ID, Format: format,
		DryRun: r.PostForm.Get("dry_run") != "", Body: f})
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/admin/imports/"+im.ID+"?"+string(qs("program", prog.ID)))
}

// importData is an import's page.
type importData struct {
	I        store.ParticipantImport
	Rejected []store.ImportRow
	Percent  int64
}

// Import serves GET /admin/imports/{id}: an import's progress, counts and
// rejected lines; the page reloads itself while the job runs.
func (c *Console) Import(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "import not found"))
		return
	}
	im, rej, err := c.opt.Referral.Import(r.Context(), prog.ID, r.PathValue("id"), 500)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d := importData{I: im, Rejected: rej, Percent: 100}
	if im.TotalRows > 0 {
		d.Percent = im.Processed * 100 / im.TotalRows
	}
	c.render(w, r, http.StatusOK, "import", view{Title: "Import " + im.ID, Nav: "participants", Auth: a, Programs: all, Program: prog, Data: d})
}

// ImportRejectedCSV serves GET /admin/imports/{id}/rejected.csv: every
// rejected line with its field and reason.
func (c *Console) ImportRejectedCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "import not found"))
		return
	}
	im, _, err := c.opt.Referral.Import(r.Context(), prog.ID, r.PathValue("id"), 0)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, "parrain-"+im.ID+"-rejected.csv")
	_ = cw.Write([]string{"row", "field", "message"})
	var after int64
	for {
		rows, err := c.opt.Referral.ImportRejections(r.Context(), im.ID, after, 1000)
		if err != nil {
			c.log.ErrorContext(r.Context(), "rejected rows CSV", "err", err)
			break
		}
		for _, x := range rows {
			_ = cw.Write([]string{strconv.FormatInt(x.Row, 10), x.Field, csvSafe(x.Message)})
			after = x.Row
		}
		if len(rows) < 1000 {
			break
		}
	}
	cw.Flush()
}
