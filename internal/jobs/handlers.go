package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parrainhq/parrain/internal/store"
)

// Register installs Parrain's standard job handlers.
func Register(r *Runner, st *store.Store) {
	r.Handle(store.JobMatureReward, func(ctx context.Context, payload []byte) error {
		var a store.MatureRewardArgs
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", store.JobMatureReward, err)
		}
		_, notBefore, err := st.ApproveReward(ctx, a.RewardID)
		if err != nil {
			return err
		}
		if !notBefore.IsZero() {
			return &SnoozeError{Until: notBefore}
		}
		return nil
	})
}
