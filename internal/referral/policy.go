package referral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// FraudPolicy returns a program's fraud policy (the default one until the
// operator sets their own).
func (s *Service) FraudPolicy(ctx context.Context, programID string) (fraud.Policy, error) {
	doc, err := s.st.FraudPolicyDoc(ctx, programID)
	if err != nil {
		return fraud.Policy{}, err
	}
	e, err := fraud.Compiled(doc)
	if err != nil {
		return fraud.Policy{}, err
	}
	return e.Policy(), nil
}

// SetFraudPolicy validates and stores a program's fraud policy; empty
// tuning means the default tuning.
func (s *Service) SetFraudPolicy(ctx context.Context, programID string, p fraud.Policy) (fraud.Policy, error) {
	if p.Tuning == (fraud.Tuning{}) {
		p.Tuning = fraud.DefaultTuning()
	}
	if _, err := fraud.NewEngine(p); err != nil {
		field := "policy"
		if fe := (*fraud.FieldError)(nil); errors.As(err, &fe) && fe.Field != "" {
			field = fe.Field
		}
		return p, parrain.Invalid(field, "%s", strings.TrimPrefix(err.Error(), "fraud: "))
	}
	b, err := json.Marshal(p)
	if err != nil {
		return p, fmt.Errorf("encoding fraud policy: %w", err)
	}
	if err := s.st.SetFraudPolicyDoc(ctx, programID, string(b)); err != nil {
		return p, err
	}
	return s.FraudPolicy(ctx, programID)
}

// ReviewItem is a referral waiting for review with the signals that fired
// and the evidence of both sides.
type ReviewItem struct {
	Referral parrain.Referral `json:"referral"`
	Signals  []fraud.Outcome  `json:"signals"`
	Advocate store.Evidence   `json:"advocate"`
	Friend   store.Evidence   `json:"friend"`
	Overdue  bool             `json:"overdue"`
}

// ReviewQueue lists a program's referrals waiting for review (flagged and
// held; or one status) with their evidence.
func (s *Service) ReviewQueue(ctx context.Context, programID, status string, pg store.Page) ([]ReviewItem, string, error) {
	rows, next, err := s.st.ReviewQueue(ctx, programID, status, pg)
	if err != nil {
		return nil, "", err
	}
	out := make([]ReviewItem, 0, len(rows))
	for _, r := range rows {
		it := ReviewItem{Referral: r.Referral, Signals: decodeOutcomes(r.SignalsDoc), Advocate: r.Advocate, Friend: r.Friend, Overdue: r.Overdue}
		out = append(out, it)
	}
	return out, next, nil
}

// decodeOutcomes reads stored signals; a document that does not decode
// (none was ever written by this code) reads as no signal.
func decodeOutcomes(doc string) []fraud.Outcome {
	os := []fraud.Outcome{}
	if doc != "" {
		_ = json.Unmarshal([]byte(doc), &os)
	}
	return os
}

// SignalStat says how often a signal fired and how reviewers judged the
// referrals it fired on — which rules are noisy.
type SignalStat struct {
	Code     fraud.Code `json:"code"`
	Fired    int        `json:"fired"`
	Cleared  int        `json:"cleared_by_reviewers"`
	Rejected int        `json:"rejected_by_reviewers"`
}

// FraudSignalStats counts, per signal, the program's referrals it fired on
// and the reviewers' decisions on them, most frequent first.
func (s *Service) FraudSignalStats(ctx context.Context, programID string) ([]SignalStat, error) {
	fired, reviewed, err := s.st.SignalDocs(ctx, programID)
	if err != nil {
		return nil, err
	}
	stats := map[fraud.Code]*SignalStat{}
	get := func(c fraud.Code) *SignalStat {
		if stats[c] == nil {
			stats[c] = &SignalStat{Code: c}
		}
		return stats[c]
	}
	for _, doc := range fired {
		for _, o := range decodeOutcomes(doc) {
			get(o.Code).Fired++
		}
	}
	for _, r := range reviewed {
		for _, o := range decodeOutcomes(r.Doc) {
			if r.Decision == store.ReviewDecisionClear {
				get(o.Code).Cleared++
			} else {
				get(o.Code).Rejected++
			}
		}
	}
	out := make([]SignalStat, 0, len(stats))
	for _, st := range stats {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Fired > out[j].Fired || (out[i].Fired == out[j].Fired && out[i].Code < out[j].Code)
	})
	return out, nil
}
