package console

import (
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// A/B experiments (docs/experiments.md): the program's experiments with a
// setup form, and each experiment's live results with a chart of the
// primary metric and its always-valid interval over time.

// experimentsData is the experiments page.
type experimentsData struct {
	Experiments []parrain.Experiment
	Document    string // the setup form's JSON
	Error       string
	Selected    *referral.ExperimentResults
	Chart       template.HTML
}

// exampleExperiment prefills the setup form.
const exampleExperiment = `{
  "name": "Cash vs credit",
  "hypothesis": "A credit converts more advocates than cash",
  "primary_metric": "conversions_per_advocate",
  "mde_bps": 1000,
  "arms": [
    {"key": "control", "weight": 1},
    {"key": "credit", "weight": 1, "overrides": {
      "rules": [{"trigger": "first_purchase", "advocate": {"kind": "credit", "type": "fixed", "amount": 3000}}]}}
  ]
}`

// Experiments serves GET /admin/experiments (analysts): the current
// program's experiments and, for managers, the setup form; with
// ?experiment=<id>, that experiment's results.
func (c *Console) Experiments(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.renderExperiments(w, r, a, http.StatusOK, experimentsData{Document: exampleExperiment}, r.URL.Query().Get("experiment"))
}

func (c *Console) renderExperiments(w http.ResponseWriter, r *http.Request, a *Auth, status int, d experimentsData, selected string) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Experiments", Nav: "experiments", Auth: a, Programs: all, Program: prog}
	if prog != nil {
		if d.Experiments, err = c.exps.List(r.Context(), prog.ID); err != nil {
			c.fail(w, r, a, err)
			return
		}
		if selected != "" {
			res, err := c.exps.Results(r.Context(), prog.ID, selected)
			if err != nil {
				c.fail(w, r, a, err)
				return
			}
			d.Selected = &res
			d.Chart = intervalChart(res)
			v.Title = res.Experiment.Name
		}
	}
	v.Data = d
	c.render(w, r, status, "experiments", v)
}

// CreateExperiment handles POST /admin/experiments: the setup form's
// document becomes a draft experiment.
func (c *Console) CreateExperiment(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID, doc := r.PostForm.Get("program"), r.PostForm.Get("document")
	var e parrain.Experiment
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	err := dec.Decode(&e)
	if err != nil {
		err = parrain.Invalid("document", "is not a valid experiment document: %v", err)
	} else {
		e, _, err = c.exps.Create(r.Context(), programID, e, store.Idem{})
	}
	if pe := parrain.AsError(err); pe != nil && pe.Code == parrain.CodeInvalid {
		msg := pe.Message
		if pe.Field != "" {
			msg = pe.Field + ": " + msg
		}
		c.renderExperiments(w, r, a, http.StatusBadRequest, experimentsData{Document: doc, Error: msg}, "")
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Experiment "+e.Name+" created as a draft.")
	redirect(w, r, "/admin/experiments?program="+url.QueryEscape(programID)+"&experiment="+url.QueryEscape(e.ID))
}

// ExperimentAction handles POST /admin/experiments/{id}/{action}: start,
// stop or promote (with the form's arm).
func (c *Console) ExperimentAction(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID, id := r.PostForm.Get("program"), r.PathValue("id")
	var e parrain.Experiment
	var err error
	var msg string
	switch r.PathValue("action") {
	case "start":
		e, _, err = c.exps.Start(r.Context(), programID, id, store.Idem{})
		msg = "started: advocates are assigned as they open the widget"
	case "stop":
		e, _, err = c.exps.Stop(r.Context(), programID, id, store.Idem{})
		msg = "stopped: assignments are frozen"
	case "promote":
		arm := r.PostForm.Get("arm")
		e, _, err = c.exps.Promote(r.Context(), programID, id, arm, store.Idem{})
		msg = "promoted: arm " + arm + " is now the program's configuration"
	default:
		c.errorPage(w, r, a, http.StatusNotFound, "no such action")
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Experiment "+e.Name+" "+msg+".")
	redirect(w, r, "/admin/experiments?program="+url.QueryEscape(programID)+"&experiment="+url.QueryEscape(id))
}

// intervalChart draws the primary metric of every arm over time, each as a
// line with its always-valid interval as a band. Each point has a <title>
// with its numbers; the page shows the same numbers in a table.
func intervalChart(res referral.ExperimentResults) template.HTML {
	const w, h, left, bottom, top = 720, 200, 56, 22, 12
	plotW, plotH := float64(w-left-8), float64(h-bottom-top)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range res.Series {
		for _, a := range p.Arms {
			if a.Value != nil {
				lo, hi = math.Min(lo, a.Value.Low), math.Max(hi, a.Value.High)
			}
		}
	}
	var b strings.Builder
	metric := string(res.Experiment.PrimaryMetric)
	fmt.Fprintf(&b, `<svg class="chart chart-experiment" viewBox="0 0 %d %d" role="img" aria-labelledby="exp-chart-title exp-chart-desc">`, w, h)
	fmt.Fprintf(&b, `<title id="exp-chart-title">%s per arm over time</title>`, template.HTMLEscapeString(metric))
	if math.IsInf(lo, 1) {
		fmt.Fprintf(&b, `<desc id="exp-chart-desc">No data yet.</desc><text class="tick" x="%d" y="%d">No data yet</text></svg>`, left, h/2)
		return template.HTML(b.String())
	}
	lo = math.Max(lo, 0) // every metric is non-negative
	if hi <= lo {
		hi = lo + 1
	}
	n := len(res.Series)
	fmt.Fprintf(&b, `<desc id="exp-chart-desc">%d points from %s to %s; the band is the always-valid 95 %% interval.</desc>`, n,
		res.Series[0].At.Format("2006-01-02"), res.Series[n-1].At.Format("2006-01-02"))
	x := func(i int) float64 {
		if n == 1 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return float64(top) + plotH*(1-(v-lo)/(hi-lo))
	}
	fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"/>`, left, top, w-8, top)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, left, float64(top)+plotH, w-8, float64(top)+plotH)
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, left-4, top+4, fmtMetric(hi))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, left-4, float64(top)+plotH+4, fmtMetric(lo))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, left, h-4, res.Series[0].At.Format("2006-01-02"))
	fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, w-8, h-4, res.Series[n-1].At.Format("2006-01-02"))
	for ai, arm := range res.Experiment.Arms {
		var band, upper, lower, line []string
		for i, p := range res.Series {
			if ai >= len(p.Arms) || p.Arms[ai].Value == nil {
				continue
			}
			v := p.Arms[ai].Value
			upper = append(upper, fmt.Sprintf("%.1f,%.1f", x(i), y(v.High)))
			lower = append([]string{fmt.Sprintf("%.1f,%.1f", x(i), y(v.Low))}, lower...)
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(i), y(v.Value)))
		}
		if len(line) == 0 {
			continue
		}
		band = append(upper, lower...)
		fmt.Fprintf(&b, `<g class="arm arm-%d"><title>arm %s</title>`, ai%6, template.HTMLEscapeString(arm.Key))
		fmt.Fprintf(&b, `<polygon class="band" points="%s"/>`, strings.Join(band, " "))
		fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, strings.Join(line, " "))
		fmt.Fprintf(&b, `</g>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// fmtMetric shows a metric value with three significant digits.
func fmtMetric(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}
