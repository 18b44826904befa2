package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

const experimentDoc = `{"name": "Cash vs credit", "primary_metric": "conversions_per_advocate",
  "arms": [{"key": "control", "weight": 1}, {"key": "credit", "weight": 1, "overrides": {
    "rules": [{"trigger": "first_purchase", "advocate": {"kind": "credit", "type": "fixed", "amount": 3000}}]}}]}`

// The experiment pages: setup with a precise error, creation, start, the
// results with their chart, promotion.
func TestExperimentPages(t *testing.T) {
	t.Parallel()
	{ // SQLite, like the other console pages: the store and use-case tests cover PostgreSQL
		e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
		m := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
		prog := e.prog.ID
		a := e.do(m, "GET", "/admin/experiments?program="+prog, nil, nil)
		if a.status != 200 || !strings.Contains(a.body, "Set up an experiment") || !strings.Contains(a.body, "No experiment yet") {
			t.Fatalf("setup page %d: %s", a.status, snippet(a.body))
		}
		bad := strings.Replace(experimentDoc, `"amount": 3000`, `"amount": -3`, 1)
		a = e.do(m, "POST", "/admin/experiments", url.Values{"program": {prog}, "document": {bad}}, nil)
		if a.status != 400 || !strings.Contains(a.body, "arms[1].overrides.rules[0].advocate.amount") {
			t.Fatalf("invalid document %d: %s", a.status, snippet(a.body))
		}
		a = e.do(m, "POST", "/admin/experiments", url.Values{"program": {prog}, "document": {experimentDoc}}, nil)
		if a.status != 303 {
			t.Fatalf("create %d: %s", a.status, snippet(a.body))
		}
		list, err := e.st.Experiments(ctx, prog, "")
		if err != nil || len(list) != 1 {
			t.Fatalf("experiments %+v %v", list, err)
		}
		x := list[0]
		if a = e.do(m, "POST", "/admin/experiments/"+x.ID+"/start", url.Values{"program": {prog}}, nil); a.status != 303 {
			t.Fatalf("start %d: %s", a.status, snippet(a.body))
		}
		e.clock.Advance(2 * time.Hour)
		a = e.do(m, "GET", "/admin/experiments?program="+prog+"&experiment="+x.ID, nil, nil)
		for _, want := range []string{`class="chart chart-experiment"`, `id="exp-results"`, "Verdict: not_enough_data", "Promote"} {
			if a.status != 200 || !strings.Contains(a.body, want) {
				t.Fatalf("results page %d: missing %q: %s", a.status, want, snippet(a.body))
			}
		}
		if a = e.do(m, "POST", "/admin/experiments/"+x.ID+"/promote", url.Values{"program": {prog}, "arm": {"credit"}}, nil); a.status != 303 {
			t.Fatalf("promote %d: %s", a.status, snippet(a.body))
		}
		got, err := e.st.Experiment(ctx, x.ID)
		if err != nil || got.Status != parrain.ExperimentPromoted {
			t.Fatalf("after promotion %+v %v", got.Status, err)
		}
	}
}
