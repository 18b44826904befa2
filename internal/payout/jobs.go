package payout

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/store"
)

// RegisterJobs installs the payout jobs: sending a payout, polling a
// provider for its outcome, and a program's payout schedule. Each answers
// when it wants to run again; the job is snoozed until then.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(store.JobPayoutSend, jobs.WithArgs(store.JobPayoutSend, func(ctx context.Context, a store.PayoutJobArgs) (time.Time, error) {
		return s.Send(ctx, a.PayoutID)
	}))
	r.Handle(store.JobPayoutPoll, jobs.WithArgs(store.JobPayoutPoll, func(ctx context.Context, a store.PayoutJobArgs) (time.Time, error) {
		return s.Poll(ctx, a.PayoutID)
	}))
	r.Handle(store.JobPayoutSchedule, jobs.WithArgs(store.JobPayoutSchedule, func(ctx context.Context, a store.PayoutScheduleArgs) (time.Time, error) {
		return s.Schedule(ctx, a.ProgramID, time.UnixMilli(a.At).UTC())
	}))
}
