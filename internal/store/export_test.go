package store

import "context"

// FulfilmentTarget exposes fulfilmentTarget to the external tests.
func (s *Store) FulfilmentTarget(ctx context.Context, programID string) (url, secret string, err error) {
	return s.fulfilmentTarget(ctx, s.r, programID)
}
