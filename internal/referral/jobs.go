package referral

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// RegisterJobs installs the referral loop's jobs: maturing held rewards
// (reward.mature), delivering approved non-cash rewards (reward.fulfil) and
// picking contest winners (contest.finish). client delivers fulfilment
// webhooks; production uses webhook.NewClient(false), which refuses private
// network addresses.
func (s *Service) RegisterJobs(r *jobs.Runner, client *http.Client) {
	st := s.st
	s.registerImportJobs(r)
	r.Handle(parrain.JobMatureReward, func(ctx context.Context, payload []byte) error {
		var a parrain.MatureRewardArgs
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", parrain.JobMatureReward, err)
		}
		_, notBefore, err := st.ApproveReward(ctx, a.RewardID)
		if err != nil {
			return err
		}
		if !notBefore.IsZero() {
			return &jobs.SnoozeError{Until: notBefore}
		}
		// An approved non-cash reward is delivered now.
		return st.KickFulfilment(ctx, a.RewardID)
	})
	r.Handle(parrain.JobFulfilReward, func(ctx context.Context, payload []byte) error {
		var a parrain.FulfilRewardArgs
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", parrain.JobFulfilReward, err)
		}
		return fulfil(ctx, st, client, a.RewardID)
	})
	r.Handle(parrain.JobFinishContest, func(ctx context.Context, payload []byte) error {
		var a parrain.FinishContestArgs
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", parrain.JobFinishContest, err)
		}
		notBefore, err := s.FinishContest(ctx, a.ContestID)
		if err != nil {
			return err
		}
		if !notBefore.IsZero() {
			return &jobs.SnoozeError{Until: notBefore}
		}
		return nil
	})
}

// fulfil moves one reward's delivery forward: the store prepares it (code,
// settlement, or the webhook to send); the webhook is sent here, outside
// any transaction; its outcome is recorded. A failed delivery is retried on
// the Standard Webhooks schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)
// and then every 10 hours until acknowledged; the store raises an alert
// after repeated failures. Each retry carries the same webhook-id, so the
// receiver can drop duplicates.
func fulfil(ctx context.Context, st *store.Store, client *http.Client, rewardID string) error {
	d, err := st.PrepareFulfilment(ctx, rewardID)
	if err != nil {
		return err
	}
	if !d.Snooze.IsZero() {
		return &jobs.SnoozeError{Until: d.Snooze}
	}
	if d.URL == "" {
		return nil
	}
	status, body, derr := webhook.Deliver(ctx, client, d.URL, d.Secret, d.MsgID, store.WebhookFulfilment, d.Payload)
	msg := ""
	if derr != nil {
		msg = derr.Error()
		if status != 0 {
			msg = fmt.Sprintf("%s: %.200s", msg, body)
		}
	}
	attempts, err := st.RecordFulfilment(ctx, rewardID, derr == nil, msg)
	if err != nil {
		return err
	}
	if derr == nil {
		return nil
	}
	return &jobs.SnoozeError{Until: st.Clock().Now().Add(webhook.Backoff(attempts))}
}
