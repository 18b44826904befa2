package partner

import (
	"context"

	"github.com/parrainhq/parrain/internal/jobs"
)

// RegisterJobs installs the partner program's job: re-evaluate every
// partner's tier daily (tiers are also evaluated on each won or lost deal
// and completed training).
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(JobEvaluateTiers, func(ctx context.Context, payload []byte) error {
		if err := s.HandleEvaluateTiers(ctx, payload); err != nil {
			return err
		}
		return &jobs.SnoozeError{Until: s.clock.Now().Add(TierInterval)}
	})
}
