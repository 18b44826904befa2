package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/store"
)

// Partner surveys: stored with their questions, listed newest first per
// program; answers are kept once per partner and period, listed per survey
// with the partner's name.
func TestSurveyRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann, bob := e.partner(prog.ID, "ann@example.com", "Ann"), e.partner(prog.ID, "bob@example.com", "Bob")
		svs := []store.Survey{
			{ProgramID: prog.ID, Title: "Quarterly", Questions: []string{"What works?", "What does not?"}, PeriodDays: 90, Active: true, CreatedAt: t0},
			{ProgramID: prog.ID, Title: "Yearly", Questions: []string{"Stay with us?"}, PeriodDays: 365, Active: false, CreatedAt: t0.Add(time.Hour)},
			{ProgramID: other.ID, Title: "Elsewhere", Questions: []string{}, PeriodDays: 30, Active: true, CreatedAt: t0},
		}
		e.inTx(func(tx *store.Tx) error {
			for i := range svs {
				if err := tx.InsertSurvey(ctx, &svs[i]); err != nil {
					return err
				}
			}
			return nil
		})
		list, err := e.St.Surveys(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != svs[1].ID || list[1].ID != svs[0].ID {
			t.Fatalf("surveys %+v", list)
		}
		q := list[1]
		if q.ProgramID != prog.ID || q.Title != "Quarterly" || !slices.Equal(q.Questions, []string{"What works?", "What does not?"}) ||
			q.PeriodDays != 90 || !q.Active || !q.CreatedAt.Equal(t0) {
			t.Errorf("quarterly read back as %+v", q)
		}
		if y := list[0]; y.Active || y.PeriodDays != 365 || !slices.Equal(y.Questions, []string{"Stay with us?"}) {
			t.Errorf("yearly read back as %+v", y)
		}
		if l, err := e.St.Surveys(ctx, other.ID); err != nil || len(l) != 1 || l[0].Questions == nil || len(l[0].Questions) != 0 {
			t.Fatalf("other program's: %#v %v", l, err)
		}
		if l, err := e.St.Surveys(ctx, "prg_none"); err != nil || l == nil || len(l) != 0 {
			t.Fatalf("none: %#v %v", l, err)
		}

		sid := svs[0].ID
		for _, c := range []struct {
			name    string
			partner string
			period  int64
			answers []string
			stored  bool
		}{
			{"first answer", ann, 1, []string{"the portal", "payouts"}, true},
			{"again in the same period", ann, 1, []string{"changed my mind", ""}, false},
			{"next period", ann, 2, []string{"still the portal", "nothing"}, true},
			{"another partner", bob, 1, []string{"leads", "slow"}, true},
		} {
			e.Clock.Advance(time.Minute)
			e.inTx(func(tx *store.Tx) error {
				ok, err := tx.InsertSurveyAnswer(ctx, sid, c.partner, c.period, c.answers, e.Clock.Now())
				if ok != c.stored {
					t.Errorf("%s: stored %v", c.name, ok)
				}
				return err
			})
		}
		for _, c := range []struct {
			partner string
			period  int64
			want    bool
		}{{ann, 1, true}, {ann, 2, true}, {ann, 3, false}, {bob, 1, true}, {bob, 2, false}} {
			got, err := e.St.SurveyAnswered(ctx, sid, c.partner, c.period)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("answered(%s, %d) = %v", c.partner, c.period, got)
			}
		}
		as, err := e.St.SurveyAnswers(ctx, prog.ID, sid)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for _, a := range as {
			got = append(got, append([]string{a.PartnerName}, a.Answers...))
			if a.SurveyID != sid {
				t.Errorf("answer of survey %s", a.SurveyID)
			}
		}
		want := [][]string{{"Bob", "leads", "slow"}, {"Ann", "still the portal", "nothing"}, {"Ann", "the portal", "payouts"}}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("answers %q, want %q", got, want)
		}
		if len(as) == 3 && (as[0].PartnerID != bob || !as[2].CreatedAt.Equal(t0.Add(time.Minute))) {
			t.Errorf("oldest answer %+v", as[2])
		}
		// A survey is only read through its own program.
		if l, err := e.St.SurveyAnswers(ctx, other.ID, sid); err != nil || len(l) != 0 {
			t.Fatalf("through another program: %+v %v", l, err)
		}
	})
}
