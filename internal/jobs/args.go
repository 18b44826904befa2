package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// WithArgs decodes a job's JSON payload into T and turns the time f
// returns into a snooze (f answers when it wants to run again: a schedule,
// a poll, a retry; the zero time means done). Use-case packages build their
// handlers with it when they register their kinds.
func WithArgs[T any](kind string, f func(context.Context, T) (time.Time, error)) Handler {
	return func(ctx context.Context, payload []byte) error {
		var a T
		if err := json.Unmarshal(payload, &a); err != nil {
			return fmt.Errorf("decoding %s payload: %w", kind, err)
		}
		at, err := f(ctx, a)
		if err != nil {
			return err
		}
		if !at.IsZero() {
			return &SnoozeError{Until: at}
		}
		return nil
	}
}
