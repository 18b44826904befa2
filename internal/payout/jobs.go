package payout

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
)

// RegisterJobs installs the payout jobs: sending a payout, polling a
// provider for its outcome, and a program's payout schedule. Each answers
// when it wants to run again; the job is snoozed until then.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(parrain.JobPayoutSend, jobs.WithArgs(parrain.JobPayoutSend, func(ctx context.Context, a parrain.PayoutJobArgs) (time.Time, error) {
		return s.Send(ctx, a.PayoutID)
	}))
	r.Handle(parrain.JobPayoutPoll, jobs.WithArgs(parrain.JobPayoutPoll, func(ctx context.Context, a parrain.PayoutJobArgs) (time.Time, error) {
		return s.Poll(ctx, a.PayoutID)
	}))
	r.Handle(parrain.JobPayoutSchedule, jobs.WithArgs(parrain.JobPayoutSchedule, func(ctx context.Context, a parrain.PayoutScheduleArgs) (time.Time, error) {
		return s.Schedule(ctx, a.ProgramID, time.UnixMilli(a.At).UTC())
	}))
}
