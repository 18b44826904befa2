package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
)

// reportFixture builds a program with two advocates, clicks (valid, on a
// disabled link, automated, on an unknown code), shares, signups and
// purchases, a refund, today (2026-11-01) by the env's clock.
func (e *env) reportFixture() (parrain.Program, ParticipantView, ParticipantView) {
	e.t.Helper()
	ctx := context.Background()
	p := e.purchaseProgram("R")
	anna, bob := e.participant(p.ID, "anna"), e.participant(p.ID, "bob")
	now := e.clock.Now()
	clicks := []store.Click{
		{ProgramID: p.ID, ParticipantID: anna.ID, Code: anna.Code, Valid: true, At: now.Add(-time.Hour)},
		{ProgramID: p.ID, ParticipantID: anna.ID, Code: anna.Code, Valid: true, At: now.Add(-2 * time.Hour)},
		{ProgramID: p.ID, ParticipantID: bob.ID, Code: bob.Code, Valid: true, At: now.Add(-40 * 24 * time.Hour)}, // previous period
		{ProgramID: p.ID, ParticipantID: anna.ID, Code: anna.Code, Valid: false, Automated: true, At: now.Add(-time.Hour)},
		{ProgramID: p.ID, ParticipantID: bob.ID, Code: bob.Code, Valid: false, At: now.Add(-time.Hour)},
		{Code: "NOSUCHCODE", Valid: false, At: now.Add(-time.Hour)},
	}
	if err := e.st.InsertClicks(ctx, clicks); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.InTx(ctx, func(tx *store.Tx) error {
		for _, ch := range []string{"email", "x", "email"} {
			if _, err := tx.RecordShare(ctx, p.ID, anna.ID, ch); err != nil {
				return err
			}
			e.clock.Advance(2 * time.Minute) // past the share debounce
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	e.event(p.ID, "s1", `{"type":"signup","external_id":"fred","referral_code":"`+anna.Code+`"}`)
	e.event(p.ID, "s2", `{"type":"signup","external_id":"gina","referral_code":"`+anna.Code+`"}`)
	e.event(p.ID, "p1", purchase("fred", "o1", 10000))
	e.event(p.ID, "p2", purchase("gina", "o2", 5000))
	e.event(p.ID, "r1", `{"type":"refund","external_id":"gina","order_id":"o2","amount":5000,"currency":"EUR"}`)
	return p, anna, bob
}

func TestKPIsAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, _, _ := e.reportFixture()
		var v KPIsView
		e.ok(http.StatusOK, "GET", "/api/v1/programs/"+p.ID+"/kpis", "", "", &v)
		from := time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC) // the last 30 days, today included
		to := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		if !v.Period.From.Equal(from) || !v.Period.To.Equal(to) || !v.PreviousPeriod.To.Equal(from) || v.Currency != "EUR" {
			t.Fatalf("periods %+v %+v", v.Period, v.PreviousPeriod)
		}
		// Recompute from the raw rows.
		db := e.st.DB()
		count := func(q string, args ...any) int64 {
			t.Helper()
			var n int64
			if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		f, tt := from.UnixMilli(), to.UnixMilli()
		want := map[string][2]int64{
			"valid_clicks":          {v.Period.ValidClicks, count(`SELECT COUNT(*) FROM clicks WHERE program_id = $1 AND valid AND created_at >= $2 AND created_at < $3`, p.ID, f, tt)},
			"previous valid_clicks": {v.PreviousPeriod.ValidClicks, count(`SELECT COUNT(*) FROM clicks WHERE program_id = $1 AND valid AND created_at < $2`, p.ID, f)},
			"disabled":              {v.Period.InvalidClicks.DisabledCode, count(`SELECT COUNT(*) FROM clicks WHERE program_id = $1 AND NOT valid AND NOT automated`, p.ID)},
			"automated":             {v.Period.InvalidClicks.Automated, count(`SELECT COUNT(*) FROM clicks WHERE program_id = $1 AND automated`, p.ID)},
			"unknown":               {v.Period.InvalidClicks.UnknownCode, count(`SELECT COUNT(*) FROM clicks WHERE program_id IS NULL`)},
			"signups":               {v.Period.Signups, count(`SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND status <> 'rejected'`, p.ID)},
			"conversions":           {v.Period.Conversions, count(`SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND converted_at IS NOT NULL`, p.ID)},
			"revenue":               {v.Period.ReferredRevenue, count(`SELECT SUM(amount - refunded) FROM purchases WHERE program_id = $1`, p.ID)},
			"cost":                  {v.Period.RewardsCost, count(`SELECT SUM(amount - reversed) FROM rewards WHERE program_id = $1`, p.ID)},
			"shares":                {v.Period.Shares, count(`SELECT COUNT(*) FROM shares WHERE program_id = $1`, p.ID)},
			"advocates":             {v.Period.Advocates, count(`SELECT COUNT(*) FROM participants WHERE program_id = $1`, p.ID)},
		}
		for name, g := range want {
			if g[0] != g[1] {
				t.Errorf("%s: API %d, raw rows %d", name, g[0], g[1])
			}
		}
		if v.Period.ValidClicks != 2 || v.Period.InvalidClicks != (store.InvalidClicks{DisabledCode: 1, Automated: 1, UnknownCode: 1}) ||
			v.Period.ReferredRevenue != 10000 || v.Period.ConversionRate.Num != 2 || v.Period.ConversionRate.Den != 2 || v.Period.ConversionRate.Permille != 1000 {
			t.Errorf("figures %+v", v.Period)
		}
		// An explicit period: only the previous month's click.
		e.ok(http.StatusOK, "GET", "/api/v1/programs/"+p.ID+"/kpis?from=2026-09-01&to=2026-09-30", "", "", &v)
		if v.Period.ValidClicks != 1 || v.Period.Signups != 0 || !v.PreviousPeriod.To.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("september: %+v", v.Period)
		}
		e.checkErrors(t, []errCase{
			{name: "from alone", method: "GET", path: "/api/v1/programs/" + p.ID + "/kpis?from=2026-01-01", status: 400, code: parrain.CodeInvalid, field: "to"},
			{name: "bad date", method: "GET", path: "/api/v1/programs/" + p.ID + "/kpis?from=yesterday&to=2026-01-01", status: 400, code: parrain.CodeInvalid, field: "from"},
			{name: "reversed", method: "GET", path: "/api/v1/programs/" + p.ID + "/kpis?from=2026-02-01&to=2026-01-01", status: 400, code: parrain.CodeInvalid, field: "to"},
			{name: "too long", method: "GET", path: "/api/v1/programs/" + p.ID + "/kpis?from=2020-01-01&to=2026-01-01", status: 400, code: parrain.CodeInvalid, field: "from"},
			{name: "unknown program", method: "GET", path: "/api/v1/programs/prg_nope/kpis", status: 404, code: parrain.CodeNotFound},
		})
	})
}

func TestListParticipantsAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, _, _ := e.reportFixture()
		base := "/api/v1/programs/" + p.ID + "/participants"
		e.ok(http.StatusCreated, "PUT", base+"/carl", "", `{"email":"Carl@Example.com","name":"Carl Zed","attributes":{"plan":"pro","seats":3}}`, nil)
		ids := func(q string) []string {
			t.Helper()
			var l List[store.ParticipantRow]
			e.ok(http.StatusOK, "GET", base+q, "", "", &l)
			var out []string
			for _, r := range l.Data {
				out = append(out, r.ExternalID)
			}
			return out
		}
		// anna, bob, fred, gina, carl in creation order (the fake clock
		// moved between some).
		cases := []struct{ q, want string }{
			{"?sort=-referrals&limit=2", "anna,carl"},
			{"?role=advocate", "anna"},
			{"?role=friend&sort=created", "fred,gina"},
			{"?q=carl", "carl"},
			{"?q=CARL@EXA", "carl"},
			{"?q=gina", "gina"},
			{"?attribute=plan:pro", "carl"},
			{"?attribute=seats:3", "carl"},
			{"?attribute=plan:free", ""},
			{"?status=disabled", ""},
		}
		for _, c := range cases {
			if got := strings.Join(ids(c.q), ","); got != c.want {
				t.Errorf("%s: %s, want %s", c.q, got, c.want)
			}
		}
		// Pages of one, newest first, walk everyone once.
		var seen []string
		cursor := ""
		for i := 0; i < 10; i++ {
			var l List[store.ParticipantRow]
			e.ok(http.StatusOK, "GET", base+"?limit=1&cursor="+cursor, "", "", &l)
			for _, r := range l.Data {
				seen = append(seen, r.ExternalID)
			}
			if cursor = string(l.NextCursor); cursor == "" {
				break
			}
		}
		if len(seen) != 5 || seen[len(seen)-1] != "anna" {
			t.Errorf("pages: %v", seen)
		}
		// Earned: approve anna's reward and she leads.
		if _, err := e.st.DB().Exec(`UPDATE rewards SET status = 'approved'`); err != nil {
			t.Fatal(err)
		}
		var l List[store.ParticipantRow]
		e.ok(http.StatusOK, "GET", base+"?sort=-earned&limit=1", "", "", &l)
		if len(l.Data) != 1 || l.Data[0].ExternalID != "anna" || l.Data[0].Earned != 1000 || l.Data[0].Referrals != 2 {
			t.Errorf("earned: %+v", l.Data)
		}
		e.checkErrors(t, []errCase{
			{name: "bad sort", method: "GET", path: base + "?sort=name", status: 400, code: parrain.CodeInvalid, field: "sort"},
			{name: "bad role", method: "GET", path: base + "?role=boss", status: 400, code: parrain.CodeInvalid, field: "role"},
			{name: "bad status", method: "GET", path: base + "?status=gone", status: 400, code: parrain.CodeInvalid, field: "status"},
			{name: "bad attribute", method: "GET", path: base + "?attribute=plan", status: 400, code: parrain.CodeInvalid, field: "attribute"},
			{name: "bad cursor", method: "GET", path: base + "?cursor=garbage", status: 400, code: parrain.CodeInvalid, field: "cursor"},
		})
	})
}

func TestAdvocateReportAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p, _, _ := e.reportFixture()
		base := "/api/v1/programs/" + p.ID + "/participants/anna/report"
		var r report.AdvocateReport
		e.ok(http.StatusOK, "GET", base, "", "", &r)
		if r.Clicks != 2 || r.InvalidClicks != 1 || r.Shares != 3 || r.SharesByChannel["email"] != 2 || r.SharesByChannel["x"] != 1 ||
			r.SharesByChannel["sms"] != 0 || r.Signups != 2 || r.Conversions != 2 || r.Revenue["EUR"] != 10000 ||
			r.Pending["EUR"] != 1000 || r.Reversed["EUR"] != 500 || r.Earned["EUR"] != 0 {
			t.Errorf("report %+v", r)
		}
		// Raw rows: anna's outstanding pending rewards and reversals.
		var pending, reversed int64
		if err := e.st.DB().QueryRow(`SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN amount - reversed END), 0), COALESCE(SUM(reversed), 0)
			FROM rewards WHERE participant_id = $1`, r.Participant.ID).Scan(&pending, &reversed); err != nil {
			t.Fatal(err)
		}
		if pending != r.Pending["EUR"] || reversed != r.Reversed["EUR"] {
			t.Errorf("raw pending %d reversed %d, report %+v", pending, reversed, r)
		}
		w := e.ok(http.StatusOK, "GET", base+"?format=csv&from=2026-10-01&to=2026-11-01", "", "", nil)
		recs, err := csv.NewReader(w.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, rec := range recs {
			got[rec[0]+"/"+rec[1]] = rec[2]
		}
		if got["clicks/"] != "2" || got["shares_email/"] != "2" || got["pending/EUR"] != "1000" || got["revenue/EUR"] != "10000" ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Errorf("csv %v", got)
		}
		e.checkErrors(t, []errCase{
			{name: "unknown advocate", method: "GET", path: "/api/v1/programs/" + p.ID + "/participants/nobody/report", status: 404, code: parrain.CodeNotFound},
			{name: "bad format", method: "GET", path: base + "?format=xml", status: 400, code: parrain.CodeInvalid, field: "format"},
		})
	})
}

func TestImportAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		ctx := context.Background()
		p := e.purchaseProgram("I")
		base := "/api/v1/programs/" + p.ID
		e.participant(p.ID, "anna") // exists: updated by the import
		file := "external_id,email,name,attributes.plan\n" +
			"anna,anna@example.com,Anna Updated,pro\n" + // line 2: updated
			"zoe,zoe@example.com,Zoé,free\n" + // line 3: created
			",nobody@example.com,No Id,\n" + // line 4: rejected, no id
			"yan,not-an-email,Yan,\n" + // line 5: rejected, email
			"zoe,zoe2@example.com,Zoe Again,\n" // line 6: rejected, repeated
		post := func(q, idemKey, body string) ImportView {
			t.Helper()
			w := e.do("POST", base+"/imports"+q, map[string]string{"Idempotency-Key": idemKey, "Content-Type": "text/csv"}, body)
			if w.Code != http.StatusAccepted {
				t.Fatalf("import: %d %s", w.Code, w.Body)
			}
			var v ImportView
			if err := decodeBody(w, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		run := func(id string) ImportView {
			t.Helper()
			if _, err := e.a.ref.RunImport(ctx, id); err != nil {
				t.Fatal(err)
			}
			var v ImportView
			e.ok(http.StatusOK, "GET", base+"/imports/"+id, "", "", &v)
			return v
		}
		participants := func() int64 {
			var n int64
			if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM participants WHERE program_id = $1`, p.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		dry := post("?dry_run=true", "imp-dry", file)
		if dry.Status != store.ImportQueued || !dry.DryRun || dry.TotalRows != 5 || dry.Rejected != 3 || len(dry.RejectedRows) != 3 {
			t.Fatalf("dry run queued: %+v", dry)
		}
		dry = run(dry.ID)
		if dry.Status != store.ImportDone || dry.Created != 1 || dry.Updated != 1 || dry.Rejected != 3 || dry.Processed != 5 || participants() != 1 {
			t.Fatalf("dry run: %+v, %d participants", dry, participants())
		}
		wantRej := []store.ImportRow{{Row: 4, Field: "external_id"}, {Row: 5, Field: "email"}, {Row: 6, Field: "external_id"}}
		for i, r := range dry.RejectedRows {
			if r.Row != wantRej[i].Row || r.Field != wantRej[i].Field || r.Message == "" {
				t.Errorf("rejected row %d: %+v, want %+v", i, r, wantRej[i])
			}
		}

		real := post("", "imp-1", file)
		again := post("", "imp-1", file) // a retry: the same import
		if again.ID != real.ID {
			t.Errorf("replay made another import: %s %s", again.ID, real.ID)
		}
		real = run(real.ID)
		if real.Status != store.ImportDone || real.Created != 1 || real.Updated != 1 || real.Rejected != 3 || participants() != 2 {
			t.Fatalf("import: %+v, %d participants", real, participants())
		}
		anna, err := e.st.Participant(ctx, p.ID, "anna")
		if err != nil {
			t.Fatal(err)
		}
		if anna.Name != "Anna Updated" || anna.Attributes["plan"] != "pro" {
			t.Errorf("anna: %+v", anna)
		}
		// The same file again: nothing changes.
		same := run(post("", "imp-2", file).ID)
		if same.Unchanged != 2 || same.Created != 0 || same.Updated != 0 {
			t.Errorf("second import: %+v", same)
		}
		// JSON lines.
		jl := `{"external_id":"walt","name":"Walt","attributes":{"seats":4}}` + "\n" + `{"external_id":"x","colour":"red"}` + "\n"
		w := e.do("POST", base+"/imports?format=jsonl", map[string]string{"Idempotency-Key": "imp-3", "Content-Type": "application/x-ndjson"}, jl)
		var v ImportView
		if err := decodeBody(w, &v); err != nil || w.Code != http.StatusAccepted {
			t.Fatalf("jsonl: %d %s", w.Code, w.Body)
		}
		v = run(v.ID)
		if v.Created != 1 || v.Rejected != 1 || len(v.RejectedRows) != 1 || v.RejectedRows[0].Row != 2 {
			t.Errorf("jsonl: %+v", v)
		}
		// The audit trail.
		var n int64
		if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action IN ('import.started', 'import.finished')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 8 {
			t.Errorf("%d audit entries, want 8", n)
		}
		e.checkErrors(t, []errCase{
			{name: "no key", method: "POST", path: base + "/imports?format=csv", body: file, status: 400, code: parrain.CodeInvalid, field: "Idempotency-Key"},
			{name: "no format", method: "POST", path: base + "/imports", idem: "k1", body: file, status: 400, code: parrain.CodeInvalid, field: "format"},
			{name: "bad dry run", method: "POST", path: base + "/imports?format=csv&dry_run=maybe", idem: "k2", body: file, status: 400, code: parrain.CodeInvalid, field: "dry_run"},
			{name: "no id column", method: "POST", path: base + "/imports?format=csv", idem: "k3", body: "email\na@b.example\n", status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "unknown column", method: "POST", path: base + "/imports?format=csv", idem: "k4", body: "external_id,colour\na,red\n", status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "empty", method: "POST", path: base + "/imports?format=jsonl", idem: "k5", body: "", status: 400, code: parrain.CodeInvalid, field: "body"},
			{name: "unknown import", method: "GET", path: base + "/imports/imp_nope", status: 404, code: parrain.CodeNotFound},
			{name: "replay with another file", method: "POST", path: base + "/imports?format=csv", idem: "imp-1", body: "external_id\nq\n", status: 422, code: parrain.CodeIdempotencyReuse, field: "Idempotency-Key"},
		})
	})
}
