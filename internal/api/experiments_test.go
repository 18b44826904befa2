package api

import (
	"net/http"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
)

func TestExperimentsAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL)
		p := e.program("P")
		base := "/api/v1/programs/" + p.ID + "/experiments"
		body := `{"name":"Cash vs credit","primary_metric":"conversions_per_advocate","arms":[{"key":"control","weight":1},
			{"key":"credit","weight":1,"overrides":{"rules":[{"trigger":"first_purchase","advocate":{"kind":"credit","type":"fixed","amount":3000}}]}}]}`
		var x parrain.Experiment
		w := e.ok(http.StatusCreated, "POST", base, "x-1", body, &x)
		if x.ID == "" || x.Status != parrain.ExperimentDraft || x.MDEBps != parrain.DefaultMDEBps || w.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("created %+v", x)
		}
		var again parrain.Experiment
		if w := e.ok(http.StatusCreated, "POST", base, "x-1", body, &again); again.ID != x.ID || w.Header().Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay %+v", again)
		}
		var list List[parrain.Experiment]
		if e.ok(http.StatusOK, "GET", base, "", "", &list); len(list.Data) != 1 {
			t.Fatalf("list %+v", list)
		}
		e.checkErrors(t, []errCase{
			{name: "no metric", method: "POST", path: base, body: `{"name":"x","arms":[]}`, status: 400, code: parrain.CodeInvalid, field: "primary_metric"},
			{name: "bad arm amount", method: "POST", path: base, body: `{"name":"x","primary_metric":"share_rate","arms":[{"key":"control","weight":1},
				{"key":"b","weight":1,"overrides":{"rules":[{"trigger":"first_purchase","advocate":{"kind":"cash","type":"fixed","amount":-1}}]}}]}`,
				status: 400, code: parrain.CodeInvalid, field: "arms[1].overrides.rules[0].advocate.amount"},
			{name: "unknown experiment", method: "POST", path: base + "/exp_nope/start", status: 404, code: parrain.CodeNotFound},
			{name: "promote a draft", method: "POST", path: base + "/" + x.ID + "/promote", body: `{"arm":"credit"}`, status: 409, code: parrain.CodeConflict, field: "status"},
			{name: "promote without arm", method: "POST", path: base + "/" + x.ID + "/promote", body: `{}`, status: 400, code: parrain.CodeInvalid, field: "arm"},
		})
		e.ok(http.StatusOK, "POST", base+"/"+x.ID+"/start", "x-start", "", &x)
		if x.Status != parrain.ExperimentRunning || x.StartedAt == nil {
			t.Fatalf("started %+v", x)
		}
		var res referral.ExperimentResults
		e.ok(http.StatusOK, "GET", base+"/"+x.ID+"/results", "", "", &res)
		if res.Analysis.Verdict != parrain.VerdictNotEnoughData || len(res.Analysis.Arms) != 2 || len(res.Series) != 1 {
			t.Fatalf("results %+v", res)
		}
		e.ok(http.StatusOK, "POST", base+"/"+x.ID+"/stop", "x-stop", "", &x)
		e.ok(http.StatusOK, "POST", base+"/"+x.ID+"/promote", "x-promote", `{"arm":"credit"}`, &x)
		if x.Status != parrain.ExperimentPromoted || x.PromotedArm != "credit" {
			t.Fatalf("promoted %+v", x)
		}
		var got parrain.Experiment
		if e.ok(http.StatusOK, "GET", base+"/"+x.ID, "", "", &got); got.Status != parrain.ExperimentPromoted {
			t.Fatalf("read %+v", got)
		}
	})
}
