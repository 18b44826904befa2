package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Rewards as the reward engine shows them: with their details, their
// fulfilment, their explanation, and the manual review of rewards over a
// cap.

// decorate fills the engine details and fulfilment of loaded rewards.
func (s *Store) decorate(ctx context.Context, q querier, rws []parrain.Reward) error {
	for start := 0; start < len(rws); start += 200 {
		chunk := rws[start:min(start+200, len(rws))]
		idx := map[string]int{}
		args := make([]any, 0, len(chunk))
		ph := make([]string, 0, len(chunk))
		for i := range chunk {
			idx[chunk[i].ID] = start + i
			args = append(args, chunk[i].ID)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		in := strings.Join(ph, ", ")
		rows, err := q.QueryContext(ctx, `SELECT id, occurred_at, stage, rate_bps, base_amount, base_currency, fx_rate, review, review_reason
			FROM rewards WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("loading reward details: %w", err)
		}
		for rows.Next() {
			var id string
			var d parrain.RewardDetails
			var occurred sql.NullInt64
			if err := rows.Scan(&id, &occurred, &d.Stage, &d.RateBps, &d.BaseAmount, &d.BaseCurrency, &d.FXRate, &d.Review, &d.ReviewReason); err != nil {
				rows.Close()
				return err
			}
			d.OccurredAt = fromNullMS(occurred)
			rw := &rws[idx[id]]
			if d.Review == ReviewWaiting && rw.Status != parrain.RewardPending {
				// Decided elsewhere (the console approves or rejects pending rewards).
				d.Review = ReviewApproved
				if rw.Status == parrain.RewardReversed {
					d.Review = ReviewRejected
				}
			}
			d.Fulfilment = rw.Fulfilment
			rw.RewardDetails = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = q.QueryContext(ctx, `SELECT reward_id, status, code, pool, feature, days, attempts, last_error, fulfilled_at
			FROM reward_fulfilments WHERE reward_id IN (`+in+`)`, args...)
		if err != nil {
			return fmt.Errorf("loading fulfilments: %w", err)
		}
		for rows.Next() {
			var id string
			var f parrain.FulfilmentState
			var done sql.NullInt64
			if err := rows.Scan(&id, &f.Status, &f.Code, &f.Pool, &f.Feature, &f.Days, &f.Attempts, &f.LastError, &done); err != nil {
				rows.Close()
				return err
			}
			f.FulfilledAt = fromNullMS(done)
			rws[idx[id]].Fulfilment = &f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Explanation is how a reward came to be: the rule of the program version
// that produced it, the event, the inputs and the arithmetic.
type Explanation struct {
	RuleVersion int                 `json:"rule_version"`
	Rule        *parrain.RewardRule `json:"rule,omitempty"`
	Inputs      *parrain.Inputs     `json:"inputs,omitempty"`
	Steps       []string            `json:"steps"`
	// Event is the event as reported (absent for contest prizes).
	Event *json.RawMessage `json:"event,omitempty"`
	// Contest names the contest of a prize.
	Contest string `json:"contest,omitempty"`
	// Text is the one-line explanation.
	Text string `json:"text"`
}

// RewardExplained is a reward with its ledger entries and its explanation.
type RewardExplained struct {
	parrain.Reward
	Ledger  []parrain.Entry `json:"ledger"`
	Explain Explanation     `json:"explain"`
}

// ExplainReward returns a program's reward with its details, ledger and
// explanation.
func (s *Store) ExplainReward(ctx context.Context, programID, id string) (RewardExplained, error) {
	rw, err := s.Reward(ctx, programID, id)
	if err != nil {
		return RewardExplained{}, err
	}
	one := []parrain.Reward{rw}
	if err := s.decorate(ctx, s.r, one); err != nil {
		return RewardExplained{}, err
	}
	out := RewardExplained{Reward: one[0]}
	if out.Ledger, err = s.LedgerEntries(ctx, id); err != nil {
		return out, err
	}
	ex := Explanation{RuleVersion: rw.RuleVersion, Steps: []string{}, Text: rw.Explanation}
	var det string
	if err := s.r.QueryRowContext(ctx, `SELECT details FROM rewards WHERE id = $1`, id).Scan(&det); err != nil {
		return out, err
	}
	if det != "" {
		var d rewardDetails
		if err := json.Unmarshal([]byte(det), &d); err != nil {
			return out, fmt.Errorf("decoding reward details: %w", err)
		}
		ex.Inputs, ex.Steps = &d.Inputs, d.Steps
	}
	if rw.Trigger == parrain.TriggerContest {
		ex.Contest = strings.TrimPrefix(rw.EventID, "contest:")
	} else {
		prog, err := s.programAtVersion(ctx, s.r, programID, rw.RuleVersion)
		if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
			return out, err
		}
		if r, ok := prog.Rule(rw.RuleID); ok {
			ex.Rule = &r
		}
		var payload string
		err = s.r.QueryRowContext(ctx, `SELECT payload FROM events WHERE id = $1`, rw.EventID).Scan(&payload)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, err
		}
		if payload != "" {
			raw := json.RawMessage(payload)
			ex.Event = &raw
		}
	}
	if len(ex.Steps) == 0 {
		ex.Steps = []string{rw.Explanation}
	}
	out.Explain = ex
	return out, nil
}

// RewardFilter narrows a program's reward listing.
type RewardFilter struct {
	Status string
	Review string // waiting: queued for manual approval
}

// ProgramRewards lists a program's rewards, newest first, with their
// details.
func (s *Store) ProgramRewards(ctx context.Context, programID string, f RewardFilter, pg Page) ([]parrain.Reward, string, error) {
	if f.Status != "" && !parrain.ValidRewardStatus(f.Status) {
		return nil, "", parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back")
	}
	switch f.Review {
	case "", ReviewWaiting, ReviewApproved, ReviewRejected:
	default:
		return nil, "", parrain.Invalid("review", "must be waiting, approved or rejected")
	}
	where := `r.program_id = $1 AND ($2 = '' OR r.status = $2) AND ($3 = '' OR r.id < $3)`
	switch f.Review {
	case ReviewWaiting:
		where += ` AND r.review = 'waiting' AND r.status = 'pending'`
	case ReviewApproved, ReviewRejected:
		// Decided here, or decided in the console (then still 'waiting').
		where += ` AND (r.review = '` + f.Review + `' OR (r.review = 'waiting' AND r.status <> 'pending'))`
	}
	rws, err := s.rewardsWhere(ctx, s.r, where+` ORDER BY r.id DESC LIMIT $4`, programID, f.Status, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", err
	}
	rws, next, err := pageOf(rws, pg.limit(), func(r parrain.Reward) string { return r.ID })
	if err != nil {
		return nil, "", err
	}
	if err := s.decorate(ctx, s.r, rws); err != nil {
		return nil, "", err
	}
	if f.Review == ReviewApproved || f.Review == ReviewRejected {
		kept := rws[:0]
		for _, r := range rws {
			if r.Review == f.Review {
				kept = append(kept, r)
			}
		}
		rws = kept
	}
	return rws, next, nil
}
