package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file stores A/B experiments: the experiment and its arms, the
// sticky assignments of units with their first exposure, which arm a
// reward was priced under, and the raw per-unit outcomes results are
// computed from.

// Audit actions of experiments.
const (
	AuditExperimentCreated  = "experiment.created"
	AuditExperimentUpdated  = "experiment.updated"
	AuditExperimentStarted  = "experiment.started"
	AuditExperimentStopped  = "experiment.stopped"
	AuditExperimentPromoted = "experiment.promoted"
)

const experimentSelect = `SELECT id, program_id, name, hypothesis, unit, primary_metric, guardrails, mde_bps, status,
	started_at, stopped_at, promoted_arm, created_at, updated_at FROM experiments`

func scanExperiment(sc scanner) (parrain.Experiment, error) {
	var e parrain.Experiment
	var guardrails string
	var started, stopped sql.NullInt64
	var created, updated int64
	if err := sc.Scan(&e.ID, &e.ProgramID, &e.Name, &e.Hypothesis, &e.Unit, &e.PrimaryMetric, &guardrails, &e.MDEBps,
		&e.Status, &started, &stopped, &e.PromotedArm, &created, &updated); err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(guardrails), &e.Guardrails); err != nil {
		return e, fmt.Errorf("decoding experiment guardrails: %w", err)
	}
	e.StartedAt, e.StoppedAt, e.CreatedAt, e.UpdatedAt = fromNullMS(started), fromNullMS(stopped), fromMS(created), fromMS(updated)
	return e, nil
}

// Experiment returns an experiment with its arms.
func (s *Store) Experiment(ctx context.Context, id string) (parrain.Experiment, error) {
	return s.experiment(ctx, s.r, id)
}

// Experiment returns an experiment with its arms, read in the transaction.
func (t *Tx) Experiment(ctx context.Context, id string) (parrain.Experiment, error) {
	return t.s.experiment(ctx, t.tx, id)
}

func (s *Store) experiment(ctx context.Context, q querier, id string) (parrain.Experiment, error) {
	e, err := scanExperiment(q.QueryRowContext(ctx, experimentSelect+` WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, notFound("experiment")
	}
	if err != nil {
		return e, fmt.Errorf("loading experiment: %w", err)
	}
	if e.Arms, err = s.experimentArms(ctx, q, id); err != nil {
		return e, err
	}
	return e, nil
}

func (s *Store) experimentArms(ctx context.Context, q querier, id string) ([]parrain.Arm, error) {
	rows, err := q.QueryContext(ctx, `SELECT arm, name, weight, overrides FROM experiment_arms WHERE experiment_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("loading experiment arms: %w", err)
	}
	defer rows.Close()
	var out []parrain.Arm
	for rows.Next() {
		var a parrain.Arm
		var ov string
		if err := rows.Scan(&a.Key, &a.Name, &a.Weight, &ov); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(ov), &a.Overrides); err != nil {
			return nil, fmt.Errorf("decoding arm %s: %w", a.Key, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Experiments lists a program's experiments, newest first, with their arms.
// status filters when not empty.
func (s *Store) Experiments(ctx context.Context, programID string, status parrain.ExperimentStatus) ([]parrain.Experiment, error) {
	return s.experiments(ctx, s.r, programID, status)
}

// Experiments lists a program's experiments in the transaction (see Store.Experiments).
func (t *Tx) Experiments(ctx context.Context, programID string, status parrain.ExperimentStatus) ([]parrain.Experiment, error) {
	return t.s.experiments(ctx, t.tx, programID, status)
}

func (s *Store) experiments(ctx context.Context, q querier, programID string, status parrain.ExperimentStatus) ([]parrain.Experiment, error) {
	rows, err := q.QueryContext(ctx, experimentSelect+` WHERE program_id = $1 AND (status = $2 OR $2 = '') ORDER BY id DESC`, programID, string(status))
	if err != nil {
		return nil, fmt.Errorf("listing experiments: %w", err)
	}
	var out []parrain.Experiment
	for rows.Next() {
		e, err := scanExperiment(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Arms, err = s.experimentArms(ctx, q, out[i].ID); err != nil {
			return nil, err
		}
	}
	if out == nil {
		out = []parrain.Experiment{}
	}
	return out, nil
}

// SaveExperiment inserts or replaces an experiment and its arms.
func (t *Tx) SaveExperiment(ctx context.Context, e parrain.Experiment) error {
	guardrails, err := json.Marshal(e.Guardrails)
	if err != nil {
		return err
	}
	if e.Guardrails == nil {
		guardrails = []byte("[]")
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO experiments (id, program_id, name, hypothesis, unit, primary_metric, guardrails,
		mde_bps, status, started_at, stopped_at, promoted_arm, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO UPDATE SET name = $3, hypothesis = $4, unit = $5, primary_metric = $6, guardrails = $7,
		mde_bps = $8, status = $9, started_at = $10, stopped_at = $11, promoted_arm = $12, updated_at = $14`,
		e.ID, e.ProgramID, e.Name, e.Hypothesis, string(e.Unit), string(e.PrimaryMetric), string(guardrails), e.MDEBps,
		string(e.Status), nullMS(e.StartedAt), nullMS(e.StoppedAt), e.PromotedArm, ms(e.CreatedAt), ms(e.UpdatedAt)); err != nil {
		return fmt.Errorf("saving experiment: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM experiment_arms WHERE experiment_id = $1`, e.ID); err != nil {
		return fmt.Errorf("replacing experiment arms: %w", err)
	}
	for i, a := range e.Arms {
		ov, err := json.Marshal(a.Overrides)
		if err != nil {
			return err
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO experiment_arms (experiment_id, arm, position, name, weight, overrides)
			VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, a.Key, i, a.Name, a.Weight, string(ov)); err != nil {
			return fmt.Errorf("saving experiment arm %s: %w", a.Key, err)
		}
	}
	return nil
}

// SetExperimentPromotedVersion records the program version an arm's
// promotion made.
func (t *Tx) SetExperimentPromotedVersion(ctx context.Context, id string, version int) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE experiments SET promoted_version = $2 WHERE id = $1`, id, version); err != nil {
		return fmt.Errorf("recording promoted version: %w", err)
	}
	return nil
}

// Assignment is a unit's recorded arm in an experiment.
type Assignment struct {
	ExperimentID   string    `json:"experiment_id"`
	UnitID         string    `json:"unit_id"`
	Arm            string    `json:"arm"`
	FirstExposedAt time.Time `json:"first_exposed_at"`
	LastExposedAt  time.Time `json:"last_exposed_at"`
	Exposures      int64     `json:"exposures"`
}

// Assignment returns a unit's recorded arm ("" when the unit was never
// assigned).
func (t *Tx) Assignment(ctx context.Context, experimentID, unitID string) (string, error) {
	return t.s.assignment(ctx, t.tx, experimentID, unitID)
}

// Assignment returns a unit's recorded arm ("" when never assigned).
func (s *Store) Assignment(ctx context.Context, experimentID, unitID string) (string, error) {
	return s.assignment(ctx, s.r, experimentID, unitID)
}

func (s *Store) assignment(ctx context.Context, q querier, experimentID, unitID string) (string, error) {
	var arm string
	err := q.QueryRowContext(ctx, `SELECT arm FROM experiment_assignments WHERE experiment_id = $1 AND unit_id = $2`, experimentID, unitID).Scan(&arm)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("loading assignment: %w", err)
	}
	return arm, nil
}

// RecordExposure records that a unit saw arm at at. The first exposure
// records the assignment; later ones only count (the recorded arm never
// changes). It returns the recorded arm.
func (t *Tx) RecordExposure(ctx context.Context, experimentID, unitID, arm string, at time.Time) (string, error) {
	var got string
	err := t.tx.QueryRowContext(ctx, `INSERT INTO experiment_assignments (experiment_id, unit_id, arm, first_exposed_at, last_exposed_at, exposures)
		VALUES ($1, $2, $3, $4, $4, 1)
		ON CONFLICT (experiment_id, unit_id) DO UPDATE SET exposures = experiment_assignments.exposures + 1,
		last_exposed_at = $4
		RETURNING arm`, experimentID, unitID, arm, ms(at)).Scan(&got)
	if err != nil {
		return "", fmt.Errorf("recording exposure: %w", err)
	}
	return got, nil
}

// RecordRewardArm records the experiment arm a reward was priced under
// and, when note is not empty, appends it to the reward's explanation.
func (t *Tx) RecordRewardArm(ctx context.Context, rewardID, experimentID, arm, note string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO experiment_rewards (reward_id, experiment_id, arm, created_at) VALUES ($1, $2, $3, $4)`,
		rewardID, experimentID, arm, ms(at)); err != nil {
		return fmt.Errorf("recording reward arm: %w", err)
	}
	if note != "" {
		if _, err := t.tx.ExecContext(ctx, `UPDATE rewards SET explanation = explanation || $2 WHERE id = $1`, rewardID, note); err != nil {
			return fmt.Errorf("explaining reward arm: %w", err)
		}
	}
	return nil
}

// RewardArm returns the experiment and arm a reward was priced under
// ("" when none).
func (s *Store) RewardArm(ctx context.Context, rewardID string) (experimentID, arm string, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT experiment_id, arm FROM experiment_rewards WHERE reward_id = $1`, rewardID).Scan(&experimentID, &arm)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("loading reward arm: %w", err)
	}
	return experimentID, arm, nil
}

// UnitOutcome is one assigned unit with what happened after its first
// exposure, in raw counts: the rows results are computed from.
type UnitOutcome struct {
	Assignment
	// Shared: the advocate shared at least once since the first exposure.
	Shared bool
	// Referrals: friends referred since; Conversions: of them, converted;
	// Flagged: of them, flagged or rejected by the fraud checks.
	Referrals, Conversions, Flagged int64
	// Revenue: the referred friends' purchases since, net of refunds, in
	// the program currency's minor units; RewardCost: rewards earned
	// (net of reversals) for those referrals, by the advocate and friends.
	Revenue, RewardCost int64
}

// ExperimentOutcomes returns every unit of an experiment first exposed
// before asOf, with what happened from its first exposure until asOf, in
// assignment order. For a visitor unit, outcomes are not linked yet: they
// read as zero.
func (s *Store) ExperimentOutcomes(ctx context.Context, experimentID string, asOf time.Time) ([]UnitOutcome, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.experiment_id, a.unit_id, a.arm, a.first_exposed_at, a.last_exposed_at, a.exposures,
		EXISTS (SELECT 1 FROM shares sh WHERE sh.participant_id = a.unit_id AND sh.created_at >= a.first_exposed_at AND sh.created_at < $2),
		(SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = a.unit_id AND r.program_id = e.program_id
			AND r.created_at >= a.first_exposed_at AND r.created_at < $2),
		(SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = a.unit_id AND r.program_id = e.program_id
			AND r.created_at >= a.first_exposed_at AND r.created_at < $2 AND r.converted_at < $2 AND r.status = 'converted'),
		(SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = a.unit_id AND r.program_id = e.program_id
			AND r.created_at >= a.first_exposed_at AND r.created_at < $2
			AND (r.review_status <> 'none' OR r.reason IN ('fraud', 'fraud_review'))),
		COALESCE((SELECT SUM(pu.amount - pu.refunded) FROM purchases pu JOIN referrals r ON r.id = pu.referral_id
			WHERE r.advocate_id = a.unit_id AND r.program_id = e.program_id AND r.created_at >= a.first_exposed_at
			AND pu.created_at < $2), 0),
		COALESCE((SELECT SUM(rw.amount - rw.reversed) FROM rewards rw JOIN referrals r ON r.id = rw.referral_id
			WHERE r.advocate_id = a.unit_id AND r.program_id = e.program_id AND r.created_at >= a.first_exposed_at
			AND rw.created_at < $2), 0)
		FROM experiment_assignments a JOIN experiments e ON e.id = a.experiment_id
		WHERE a.experiment_id = $1 AND a.first_exposed_at < $2 ORDER BY a.first_exposed_at, a.unit_id`, experimentID, ms(asOf))
	if err != nil {
		return nil, fmt.Errorf("loading experiment outcomes: %w", err)
	}
	defer rows.Close()
	out := []UnitOutcome{}
	for rows.Next() {
		var u UnitOutcome
		var first, last int64
		if err := rows.Scan(&u.ExperimentID, &u.UnitID, &u.Arm, &first, &last, &u.Exposures, &u.Shared, &u.Referrals,
			&u.Conversions, &u.Flagged, &u.Revenue, &u.RewardCost); err != nil {
			return nil, fmt.Errorf("reading experiment outcome: %w", err)
		}
		u.FirstExposedAt, u.LastExposedAt = fromMS(first), fromMS(last)
		out = append(out, u)
	}
	return out, rows.Err()
}
