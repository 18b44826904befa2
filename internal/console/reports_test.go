package console_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// keyedConfig is testConfig with a secret key (the demo stores secrets;
// SQLite test databases find one beside them, PostgreSQL ones do not).
func keyedConfig(dbURL string) app.Config {
	cfg := testConfig(dbURL)
	cfg.SecretKeys = app.SecretKeyConfig{Key: dbtest.TestKey}
	return cfg
}

// csvRows fetches a console CSV and returns its rows.
func (e *env) csvRows(s session, path string) [][]string {
	e.t.Helper()
	a := e.do(s, "GET", path, nil, nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
		e.t.Fatalf("%s: %d %s", path, a.status, snippet(a.body))
	}
	rows, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// The API's KPIs and the console's show the same numbers: the KPI export
// of the overview, and the reports page's daily revenue and cost add up to
// the API's totals.
func TestKPIsAPIMatchesConsole(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, keyedConfig(dbURL))
		s := e.session(e.user("analyst@corp.example", parrain.UserRoleAnalyst))
		key, _, err := access.New(e.st, nil, access.Config{}).CreateAPIKey(ctx, "reports", []string{store.ScopeRead}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, period := range []struct{ from, to string }{{"2026-10-03", "2026-11-01"}, {"2026-08-01", "2026-11-01"}} {
			a := e.do(session{}, "GET", "/api/v1/programs/"+e.prog.ID+"/kpis?from="+period.from+"&to="+period.to, nil,
				map[string]string{"Authorization": "Bearer " + key})
			if a.status != 200 {
				t.Fatalf("kpis: %d %s", a.status, a.body)
			}
			var api struct {
				Period   map[string]any `json:"period"`
				Previous map[string]any `json:"previous_period"`
			}
			if err := json.Unmarshal([]byte(a.body), &api); err != nil {
				t.Fatal(err)
			}
			num := func(m map[string]any, path ...string) string {
				var v any = m
				for _, p := range path {
					v = v.(map[string]any)[p]
				}
				return strconv.FormatInt(int64(v.(float64)), 10)
			}
			cur := e.prog.Currency
			names := map[string][]string{
				"advocates": {"advocates"}, "participating_advocates": {"participating_advocates"}, "sharing_advocates": {"sharing_advocates"},
				"shares": {"shares"}, "valid_clicks": {"valid_clicks"}, "signups": {"signups"}, "rejected_referrals": {"rejected_referrals"},
				"conversions": {"conversions"}, "referred_purchases": {"referred_purchases"},
				"referred_revenue_minor_" + cur: {"referred_revenue"}, "rewards_cost_minor_" + cur: {"rewards_cost"},
				"invalid_clicks_disabled_code": {"invalid_clicks", "disabled_code"}, "invalid_clicks_automated": {"invalid_clicks", "automated"},
				"invalid_clicks_unknown_code": {"invalid_clicks", "unknown_code"},
			}
			seen := 0
			nonzero := false
			for _, row := range e.csvRows(s, "/admin/kpis.csv?program="+e.prog.ID+"&from="+period.from+"&to="+period.to) {
				path, ok := names[row[0]]
				if !ok {
					continue
				}
				seen++
				if got := num(api.Period, path...); got != row[1] {
					t.Errorf("%s %s: API %s, console %s", period.from, row[0], got, row[1])
				}
				if got := num(api.Previous, path...); got != row[2] {
					t.Errorf("%s previous %s: API %s, console %s", period.from, row[0], got, row[2])
				}
				nonzero = nonzero || row[1] != "0"
			}
			if seen != len(names) || !nonzero {
				t.Errorf("compared %d of %d figures (any non-zero: %v)", seen, len(names), nonzero)
			}
			// The reports page's days add up to the API's totals.
			var rev, cost int64
			for i, row := range e.csvRows(s, "/admin/reports.csv?program="+e.prog.ID+"&from="+period.from+"&to="+period.to) {
				if i == 0 {
					continue
				}
				r, err1 := strconv.ParseInt(row[1], 10, 64)
				c, err2 := strconv.ParseInt(row[2], 10, 64)
				if err1 != nil || err2 != nil {
					t.Fatalf("row %v", row)
				}
				rev, cost = rev+r, cost+c
			}
			if strconv.FormatInt(rev, 10) != num(api.Period, "referred_revenue") || strconv.FormatInt(cost, 10) != num(api.Period, "rewards_cost") {
				t.Errorf("daily revenue %d cost %d, API %s %s", rev, cost, num(api.Period, "referred_revenue"), num(api.Period, "rewards_cost"))
			}
		}
		// The pages render.
		for _, path := range []string{"/admin/reports?program=" + e.prog.ID, "/admin/?program=" + e.prog.ID} {
			if a := e.do(s, "GET", path, nil, nil); a.status != 200 || !strings.Contains(a.body, "Clicks not counted") {
				t.Errorf("%s: %d %s", path, a.status, snippet(a.body))
			}
		}
	})
}

// upload posts a file to the console's import form.
func (e *env) upload(s session, name, content string, dry bool) answer {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("csrf", s.csrf)
	if dry {
		_ = mw.WriteField("dry_run", "1")
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		e.t.Fatal(err)
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/imports?program="+e.prog.ID, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: "parrain_session", Value: s.token})
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(body)}
}

func TestConsoleImport(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, keyedConfig(dbURL))
		mgr := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
		file := "external_id,email,name\nimp-1,imp1@example.com,Ina Port\nimp-2,broken,Bad Mail\n"
		cases := []struct {
			name                       string
			dry                        bool
			created, rejected, members int64
		}{
			{"dry run", true, 1, 1, 0},
			{"import", false, 1, 1, 1},
		}
		for _, c := range cases {
			a := e.upload(mgr, "customers.csv", file, c.dry)
			if a.status != 303 || !strings.HasPrefix(a.header.Get("Location"), "/admin/imports/imp_") {
				t.Fatalf("%s: %d %s", c.name, a.status, snippet(a.body))
			}
			loc := a.header.Get("Location")
			page := e.do(mgr, "GET", loc, nil, nil)
			if page.status != 200 || !strings.Contains(page.body, `data-status="queued"`) || !strings.Contains(page.body, "data-autorefresh") {
				t.Errorf("%s before the job: %d %s", c.name, page.status, snippet(page.body))
			}
			e.drainJobs()
			page = e.do(mgr, "GET", loc, nil, nil)
			if !strings.Contains(page.body, `data-status="done"`) || !strings.Contains(page.body, `data-count="created">`+strconv.FormatInt(c.created, 10)+`<`) ||
				!strings.Contains(page.body, `data-count="rejected">`+strconv.FormatInt(c.rejected, 10)+`<`) || strings.Contains(page.body, "data-autorefresh") {
				t.Errorf("%s after the job: %s", c.name, snippet(page.body))
			}
			id := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/admin/imports/")
			rows := e.csvRows(mgr, "/admin/imports/"+id+"/rejected.csv?program="+e.prog.ID)
			if len(rows) != 2 || rows[1][0] != "3" || rows[1][1] != "email" {
				t.Errorf("%s rejected rows %v", c.name, rows)
			}
			var n int64
			if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM participants WHERE program_id = $1 AND external_id = 'imp-1'`, e.prog.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != c.members {
				t.Errorf("%s: %d participants imp-1, want %d", c.name, n, c.members)
			}
		}
		// Audited under the manager.
		var n int64
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'import.started' AND user_email = 'manager@corp.example'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d audit entries", n)
		}
		// The list, and a request without a file.
		if a := e.do(mgr, "GET", "/admin/imports?program="+e.prog.ID, nil, nil); a.status != 200 || strings.Count(a.body, "/admin/imports/imp_") != 2 {
			t.Errorf("list: %d", a.status)
		}
		if a := e.upload(mgr, "empty.csv", "", false); a.status != 400 {
			t.Errorf("empty file: %d %s", a.status, snippet(a.body))
		}
	})
}

// The participants CSV lists everyone with their referrals; the
// per-advocate report page and CSV show the advocate's figures.
func TestParticipantsCSVAndAdvocateReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	s := e.session(e.user("analyst@corp.example", parrain.UserRoleAnalyst))
	rows := e.csvRows(s, "/admin/participants.csv?program="+e.prog.ID)
	var total int64
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM participants WHERE program_id = $1`, e.prog.ID).Scan(&total); err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)-1) != total || rows[0][0] != "external_id" {
		t.Fatalf("%d rows for %d participants", len(rows)-1, total)
	}
	// The advocate with the most referrals.
	var best []string
	most := int64(-1)
	for _, r := range rows[1:] {
		n, err := strconv.ParseInt(r[5], 10, 64)
		if err != nil {
			t.Fatalf("row %v", r)
		}
		if n > most {
			best, most = r, n
		}
	}
	p, err := e.st.Participant(ctx, e.prog.ID, best[0])
	if err != nil {
		t.Fatal(err)
	}
	var signups int64
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND status <> 'rejected'`, p.ID).Scan(&signups); err != nil {
		t.Fatal(err)
	}
	if best[5] != strconv.FormatInt(signups, 10) {
		t.Errorf("csv referrals %s, raw %d", best[5], signups)
	}
	page := e.do(s, "GET", "/admin/participants/"+p.ID+"/report?from=2024-01-01&to=2026-11-01", nil, nil)
	if page.status != 200 || !strings.Contains(page.body, "Shares by channel") {
		t.Fatalf("report page: %d %s", page.status, snippet(page.body))
	}
	rep := e.csvRows(s, "/admin/participants/"+p.ID+"/report.csv?from=2024-01-01&to=2026-11-01")
	got := map[string]string{}
	for _, r := range rep {
		got[r[0]] = r[2]
	}
	var inPeriod int64
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND status <> 'rejected' AND signed_up_at < $2`,
		p.ID, int64(1793577600000)).Scan(&inPeriod); err != nil { // 2026-11-02
		t.Fatal(err)
	}
	if got["signups"] != strconv.FormatInt(inPeriod, 10) || !strings.Contains(page.body, `data-figure="signups">`+got["signups"]+`<`) {
		t.Errorf("report signups %s page, raw %d", got["signups"], inPeriod)
	}
}
