package api

import (
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
)

// A/B experiments (docs/experiments.md): create, list, read, start, stop,
// promote an arm, read the results.

// CreateExperiment handles POST /api/v1/programs/{program_id}/experiments.
func (a *API) CreateExperiment(w http.ResponseWriter, r *http.Request) {
	var e parrain.Experiment
	body, err := readJSON(w, r, &e)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	e, replayed, err := a.exps.Create(r.Context(), r.PathValue("program_id"), e, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, e)
}

// ListExperiments handles GET /api/v1/programs/{program_id}/experiments.
func (a *API) ListExperiments(w http.ResponseWriter, r *http.Request) {
	es, err := a.exps.List(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Experiment]{Data: es})
}

// GetExperiment handles GET /api/v1/programs/{program_id}/experiments/{experiment_id}.
func (a *API) GetExperiment(w http.ResponseWriter, r *http.Request) {
	e, err := a.exps.Get(r.Context(), r.PathValue("program_id"), r.PathValue("experiment_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

// StartExperiment handles POST …/experiments/{experiment_id}/start.
func (a *API) StartExperiment(w http.ResponseWriter, r *http.Request) {
	a.experimentTransition(w, r, parrain.ExperimentRunning)
}

// StopExperiment handles POST …/experiments/{experiment_id}/stop.
func (a *API) StopExperiment(w http.ResponseWriter, r *http.Request) {
	a.experimentTransition(w, r, parrain.ExperimentStopped)
}

// PromoteExperiment handles POST …/experiments/{experiment_id}/promote
// with {"arm": "b"}.
func (a *API) PromoteExperiment(w http.ResponseWriter, r *http.Request) {
	a.experimentTransition(w, r, parrain.ExperimentPromoted)
}

// promoteInput is the body of a promotion.
type promoteInput struct {
	Arm string `json:"arm"`
}

func (a *API) experimentTransition(w http.ResponseWriter, r *http.Request, to parrain.ExperimentStatus) {
	var in promoteInput
	var body []byte
	var err error
	if to == parrain.ExperimentPromoted {
		if body, err = readJSON(w, r, &in); err == nil && in.Arm == "" {
			err = parrain.Invalid("arm", "is required: the key of the arm to promote")
		}
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ctx, prog, exp := r.Context(), r.PathValue("program_id"), r.PathValue("experiment_id")
	var e parrain.Experiment
	var replayed bool
	switch to {
	case parrain.ExperimentRunning:
		e, replayed, err = a.exps.Start(ctx, prog, exp, id)
	case parrain.ExperimentStopped:
		e, replayed, err = a.exps.Stop(ctx, prog, exp, id)
	default:
		e, replayed, err = a.exps.Promote(ctx, prog, exp, in.Arm, id)
	}
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, e)
}

// ExperimentResults handles GET …/experiments/{experiment_id}/results.
func (a *API) ExperimentResults(w http.ResponseWriter, r *http.Request) {
	res, err := a.exps.Results(r.Context(), r.PathValue("program_id"), r.PathValue("experiment_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}
