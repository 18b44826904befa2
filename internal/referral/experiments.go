package referral

import (
	"context"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

// This file holds the use cases of A/B experiments (docs/experiments.md):
// their lifecycle (create, start, stop, promote), the sticky assignment of
// a unit on its first exposure, the arm applied where it matters (reward
// pricing at ingestion, the widget's texts) and the results, computed from
// the raw tables.

// Experiments runs the experiment use cases. It needs the program service
// to save a promoted arm as the program's next version.
type Experiments struct {
	st   *store.Store
	prog *program.Service
}

// NewExperiments returns the experiment use cases over st.
func NewExperiments(st *store.Store, prog *program.Service) *Experiments {
	return &Experiments{st: st, prog: prog}
}

// ExperimentWebhook is the payload of experiment.started, .stopped and
// .promoted.
type ExperimentWebhook struct {
	ExperimentID string                   `json:"experiment_id"`
	ProgramID    string                   `json:"program_id"`
	Name         string                   `json:"name"`
	Status       parrain.ExperimentStatus `json:"status"`
	Arm          string                   `json:"arm,omitempty"`
	Version      int                      `json:"program_version,omitempty"`
}

// Create validates and stores a new experiment of a program, in draft.
func (s *Experiments) Create(ctx context.Context, programID string, e parrain.Experiment, idem store.Idem) (parrain.Experiment, bool, error) {
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Experiment, error) {
		prog, err := tx.Program(ctx, programID)
		if err != nil {
			return e, err
		}
		e.Status, e.StartedAt, e.StoppedAt, e.PromotedArm = "", nil, nil, ""
		if err := e.Normalize(&prog); err != nil {
			return e, err
		}
		now := tx.Now()
		e.ID, e.ProgramID, e.CreatedAt, e.UpdatedAt = store.NewID("exp"), programID, now, now
		if err := tx.SaveExperiment(ctx, e); err != nil {
			return e, err
		}
		return e, tx.Audit(ctx, store.ContextActor(ctx), store.AuditExperimentCreated, "experiment", e.ID, programID,
			map[string]any{"name": e.Name, "arms": len(e.Arms), "primary_metric": e.PrimaryMetric})
	})
}

// Get returns an experiment of a program.
func (s *Experiments) Get(ctx context.Context, programID, id string) (parrain.Experiment, error) {
	e, err := s.st.Experiment(ctx, id)
	if err == nil && e.ProgramID != programID {
		return parrain.Experiment{}, store.NotFound("experiment")
	}
	return e, err
}

// List returns a program's experiments, newest first.
func (s *Experiments) List(ctx context.Context, programID string) ([]parrain.Experiment, error) {
	if _, err := s.st.Program(ctx, programID); err != nil {
		return nil, err
	}
	return s.st.Experiments(ctx, programID, "")
}

// Start starts a draft experiment: from now on, units first exposed are
// assigned by the hash. A program runs one experiment per unit at a time
// (two would both claim the same advocates' rules).
func (s *Experiments) Start(ctx context.Context, programID, id string, idem store.Idem) (parrain.Experiment, bool, error) {
	return s.transition(ctx, programID, id, parrain.ExperimentRunning, "", idem)
}

// Stop stops an experiment: assignments are frozen (assigned units keep
// their arm, new units get the control).
func (s *Experiments) Stop(ctx context.Context, programID, id string, idem store.Idem) (parrain.Experiment, bool, error) {
	return s.transition(ctx, programID, id, parrain.ExperimentStopped, "", idem)
}

// Promote makes an arm's overrides the program's next version (its rules)
// and the experience's texts, and ends the experiment.
func (s *Experiments) Promote(ctx context.Context, programID, id, arm string, idem store.Idem) (parrain.Experiment, bool, error) {
	return s.transition(ctx, programID, id, parrain.ExperimentPromoted, arm, idem)
}

func (s *Experiments) transition(ctx context.Context, programID, id string, to parrain.ExperimentStatus, arm string, idem store.Idem) (parrain.Experiment, bool, error) {
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Experiment, error) {
		prog, err := tx.ProgramForUpdate(ctx, programID) // serialises the program's experiment changes
		if err != nil {
			return parrain.Experiment{}, err
		}
		e, err := tx.Experiment(ctx, id)
		if err != nil {
			return e, err
		}
		if e.ProgramID != programID {
			return parrain.Experiment{}, store.NotFound("experiment")
		}
		if to == parrain.ExperimentRunning {
			running, err := tx.Experiments(ctx, programID, parrain.ExperimentRunning)
			if err != nil {
				return e, err
			}
			for _, r := range running {
				if r.Unit == e.Unit {
					return e, parrain.Errorf(parrain.CodeConflict, "experiment %s (%s) is already running on this program's %ss: stop it first", r.ID, r.Name, r.Unit)
				}
			}
			// The program may have changed since the draft: its arms must
			// still make sense.
			if err := e.Normalize(&prog); err != nil {
				return e, err
			}
		}
		if err := e.Transition(to, arm, tx.Now()); err != nil {
			return e, err
		}
		if err := tx.SaveExperiment(ctx, e); err != nil {
			return e, err
		}
		hook := ExperimentWebhook{ExperimentID: e.ID, ProgramID: programID, Name: e.Name, Status: e.Status}
		action := map[parrain.ExperimentStatus]string{parrain.ExperimentRunning: store.AuditExperimentStarted,
			parrain.ExperimentStopped: store.AuditExperimentStopped, parrain.ExperimentPromoted: store.AuditExperimentPromoted}[to]
		details := map[string]any{"name": e.Name}
		if to == parrain.ExperimentPromoted {
			a, _ := e.Arm(arm)
			x, err := tx.Experience(ctx, programID)
			if err != nil {
				return e, err
			}
			next, nx := parrain.PromoteArm(prog, x, a)
			if a.Overrides.Rules != nil {
				saved, err := s.prog.ReviseTx(ctx, tx, programID, next)
				if err != nil {
					return e, err
				}
				hook.Version = saved.Version
				if err := tx.SetExperimentPromotedVersion(ctx, e.ID, saved.Version); err != nil {
					return e, err
				}
			}
			if len(a.Overrides.ShareMessage) > 0 || len(a.Overrides.OfferText) > 0 {
				if err := nx.Normalize(); err != nil {
					return e, err
				}
				if err := tx.SetExperience(ctx, programID, nx); err != nil {
					return e, err
				}
			}
			hook.Arm, details["arm"], details["program_version"] = arm, arm, hook.Version
		}
		if err := tx.Emit(ctx, programID, map[parrain.ExperimentStatus]string{parrain.ExperimentRunning: parrain.WebhookExperimentStarted,
			parrain.ExperimentStopped: parrain.WebhookExperimentStopped, parrain.ExperimentPromoted: parrain.WebhookExperimentPromoted}[to], hook); err != nil {
			return e, err
		}
		return e, tx.Audit(ctx, store.ContextActor(ctx), action, "experiment", e.ID, programID, details)
	})
}

// ArmView is the arm a unit sees: the experiment and arm ("" when none
// applies) and its overrides.
type ArmView struct {
	ExperimentID string               `json:"experiment_id,omitempty"`
	Arm          string               `json:"arm,omitempty"`
	Overrides    parrain.ArmOverrides `json:"-"`
}

// ExposeAdvocate records that advocate p sees the program now (the widget
// was opened) in the program's running or stopped advocate experiment and
// returns the program and experience as their arm shows them. The
// assignment is recorded on the first exposure only: an advocate who
// joined before the experiment started, or arrives after it stopped, sees
// the control and is not recorded.
func (s *Service) ExposeAdvocate(ctx context.Context, prog parrain.Program, x parrain.Experience, p parrain.Participant) (parrain.Program, parrain.Experience, ArmView, error) {
	return s.expose(ctx, prog, x, parrain.UnitAdvocate, p.ID, p.CreatedAt)
}

// ExposeVisitor is ExposeAdvocate for a landing-page visitor (unit
// visitor), identified by the visitor id of their click; firstSeen is
// their first click (zero when unknown).
func (s *Service) ExposeVisitor(ctx context.Context, prog parrain.Program, x parrain.Experience, visitorID string, firstSeen time.Time) (parrain.Program, parrain.Experience, ArmView, error) {
	return s.expose(ctx, prog, x, parrain.UnitVisitor, visitorID, firstSeen)
}

func (s *Service) expose(ctx context.Context, prog parrain.Program, x parrain.Experience, unit parrain.ExperimentUnit, unitID string, entered time.Time) (parrain.Program, parrain.Experience, ArmView, error) {
	exps, err := s.st.Experiments(ctx, prog.ID, parrain.ExperimentRunning)
	if err != nil {
		return prog, x, ArmView{}, err
	}
	stopped, err := s.st.Experiments(ctx, prog.ID, parrain.ExperimentStopped)
	if err != nil {
		return prog, x, ArmView{}, err
	}
	for _, e := range append(exps, stopped...) {
		if e.Unit != unit {
			continue
		}
		recorded, err := s.st.Assignment(ctx, e.ID, unitID)
		if err != nil {
			return prog, x, ArmView{}, err
		}
		now := s.st.Clock().Now()
		key, why := e.Assign(unitID, recorded, entered, now)
		if why == parrain.AssignHashed || why == parrain.AssignRecorded {
			err := s.st.InTx(ctx, func(tx *store.Tx) error {
				var err error
				key, err = tx.RecordExposure(ctx, e.ID, unitID, key, now)
				return err
			})
			if err != nil {
				return prog, x, ArmView{}, err
			}
		}
		if why == parrain.AssignEarlier || why == parrain.AssignInactive {
			continue
		}
		a, _ := e.Arm(key)
		prog, x = a.Apply(prog, x)
		return prog, x, ArmView{ExperimentID: e.ID, Arm: key, Overrides: a.Overrides}, nil
	}
	return prog, x, ArmView{}, nil
}

// experimentArmTx returns the advocate's recorded arm in the program's
// running or stopped advocate experiment, nil when they have none. Only a
// recorded assignment counts: an advocate never exposed to the experiment
// is priced by the program's own rules.
func experimentArmTx(ctx context.Context, tx *store.Tx, programID, advocateID string) (*parrain.Experiment, *parrain.Arm, error) {
	exps, err := tx.Experiments(ctx, programID, "")
	if err != nil {
		return nil, nil, err
	}
	for i := range exps {
		e := &exps[i]
		if e.Unit != parrain.UnitAdvocate || (e.Status != parrain.ExperimentRunning && e.Status != parrain.ExperimentStopped) {
			continue
		}
		key, err := tx.Assignment(ctx, e.ID, advocateID)
		if err != nil || key == "" {
			return nil, nil, err
		}
		a, ok := e.Arm(key)
		if !ok {
			return nil, nil, nil
		}
		return e, &a, nil
	}
	return nil, nil, nil
}

// armNote is what a reward's explanation says about the arm it was priced under.
func armNote(e *parrain.Experiment, a *parrain.Arm) string {
	if a.Overrides.Rules == nil {
		return fmt.Sprintf(" [experiment %q (%s), arm %s: the program's own rules]", e.Name, e.ID, a.Key)
	}
	return fmt.Sprintf(" [experiment %q (%s), arm %s: priced by the arm's rules]", e.Name, e.ID, a.Key)
}

// ExperimentResults is an experiment's analysis now and its primary
// metric over time.
type ExperimentResults struct {
	Experiment parrain.Experiment `json:"experiment"`
	AsOf       time.Time          `json:"as_of"`
	Analysis   parrain.Analysis   `json:"analysis"`
	// Series is the primary metric per arm at the end of each day since
	// the start (at most MaxSeriesPoints points, evenly spaced), as the
	// analysis read it then.
	Series []SeriesPoint `json:"series"`
}

// SeriesPoint is the primary metric of every arm at one moment.
type SeriesPoint struct {
	At   time.Time   `json:"at"`
	Arms []SeriesArm `json:"arms"`
}

// SeriesArm is one arm's primary metric at a point of the series.
type SeriesArm struct {
	Key   string            `json:"key"`
	Units int64             `json:"units"`
	Value *parrain.Interval `json:"value,omitempty"`
	Lift  *parrain.Interval `json:"lift,omitempty"`
}

// MaxSeriesPoints bounds the series of a result.
const MaxSeriesPoints = 60

// Results computes an experiment's results from the raw tables: the units
// assigned and what they did after their first exposure.
func (s *Experiments) Results(ctx context.Context, programID, id string) (ExperimentResults, error) {
	e, err := s.Get(ctx, programID, id)
	if err != nil {
		return ExperimentResults{}, err
	}
	now := s.st.Clock().Now()
	res := ExperimentResults{Experiment: e, AsOf: now, Series: []SeriesPoint{}}
	outs, err := s.st.ExperimentOutcomes(ctx, e.ID, now.Add(time.Millisecond))
	if err != nil {
		return res, err
	}
	res.Analysis = AnalyzeOutcomes(e, outs)
	if e.StartedAt == nil {
		return res, nil
	}
	end := now
	if e.StoppedAt != nil && e.StoppedAt.Before(end) {
		end = *e.StoppedAt
	}
	days := int(end.Sub(*e.StartedAt)/(24*time.Hour)) + 1
	step := max(1, (days+MaxSeriesPoints-1)/MaxSeriesPoints)
	for d := step; d < days+step; d += step {
		at := e.StartedAt.Add(time.Duration(d) * 24 * time.Hour)
		if at.After(end) {
			at = end
		}
		o, err := s.st.ExperimentOutcomes(ctx, e.ID, at.Add(time.Millisecond))
		if err != nil {
			return res, err
		}
		a := AnalyzeOutcomes(e, o)
		p := SeriesPoint{At: at}
		for _, ar := range a.Arms {
			sa := SeriesArm{Key: ar.Key, Units: ar.Units}
			if m := ar.Metrics[0]; m.OK {
				v := m.Value
				sa.Value, sa.Lift = &v, m.Lift
			}
			p.Arms = append(p.Arms, sa)
		}
		res.Series = append(res.Series, p)
	}
	return res, nil
}

// AnalyzeOutcomes turns per-unit outcomes into the per-arm sums of every
// metric and analyses them (parrain.Analyze).
func AnalyzeOutcomes(e parrain.Experiment, outs []store.UnitOutcome) parrain.Analysis {
	metrics := append([]parrain.Metric{e.PrimaryMetric}, e.Guardrails...)
	byArm := map[string]*parrain.ArmInput{}
	inputs := make([]parrain.ArmInput, len(e.Arms))
	for i, a := range e.Arms {
		inputs[i] = parrain.ArmInput{Key: a.Key, Weight: a.Weight, Metrics: map[parrain.Metric]parrain.Sums{}}
		byArm[a.Key] = &inputs[i]
	}
	for _, u := range outs {
		in, ok := byArm[u.Arm]
		if !ok {
			continue // an arm removed from a draft: not analysed
		}
		in.Units++
		in.Exposures += u.Exposures
		for _, m := range metrics {
			s := in.Metrics[m]
			x, y := unitMetric(m, u)
			s.Add(x, y)
			in.Metrics[m] = s
		}
	}
	return parrain.Analyze(inputs, e.PrimaryMetric, e.Guardrails, e.MDEBps, parrain.StatsOptions{})
}

// unitMetric is a unit's numerator and denominator of metric m
// (docs/experiments.md lists the definitions).
func unitMetric(m parrain.Metric, u store.UnitOutcome) (x, y float64) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	switch m {
	case parrain.MetricConversionsPerAdvocate:
		return float64(u.Conversions), 1
	case parrain.MetricShareRate:
		return b(u.Shared), 1
	case parrain.MetricFriendConversionRate:
		return float64(u.Conversions), float64(u.Referrals)
	case parrain.MetricRevenuePerAdvocate:
		return float64(u.Revenue), 1
	case parrain.MetricROI:
		return float64(u.Revenue), float64(u.RewardCost)
	case parrain.MetricVisitorConversionRate:
		return b(u.Conversions > 0), 1
	case parrain.MetricRewardCostPerConversion:
		return float64(u.RewardCost), float64(u.Conversions)
	case parrain.MetricFraudFlagRate:
		return float64(u.Flagged), float64(u.Referrals)
	}
	return 0, 1
}
