package access

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// MaxAPIKeyRateLimit bounds a key's own rate limit (requests a minute).
const MaxAPIKeyRateLimit = 1_000_000

func checkRateLimit(n int) error {
	if n < 0 || n > MaxAPIKeyRateLimit {
		return parrain.Invalid("rate_limit", "must be between 1 and %d requests a minute, or 0 for the installation's default", MaxAPIKeyRateLimit)
	}
	return nil
}

// CreateAPIKey creates a key with the installation's default rate limit
// (see CreateAPIKeyWith).
func (s *Service) CreateAPIKey(ctx context.Context, name string, scopes []string, programID string) (string, store.APIKey, error) {
	return s.CreateAPIKeyWith(ctx, store.NewAPIKey{Name: name, Scopes: scopes, ProgramID: programID})
}

// CreateAPIKeyWith creates a key and returns its secret, shown once: 160
// random bits, of which the store keeps a hash. No scope means every
// scope; a program id restricts the key to that program; a rate limit
// replaces the installation's default for this key. Audited under the
// context's actor.
func (s *Service) CreateAPIKeyWith(ctx context.Context, in store.NewAPIKey) (string, store.APIKey, error) {
	name, scopes, programID := strings.TrimSpace(in.Name), in.Scopes, in.ProgramID
	if name == "" || len(name) > 100 {
		return "", store.APIKey{}, parrain.Invalid("name", "is required (at most 100 characters)")
	}
	if len(scopes) == 0 {
		scopes = store.AllScopes
	}
	for _, sc := range scopes {
		if sc != store.ScopeRead && sc != store.ScopeEvents && sc != store.ScopeAdmin {
			return "", store.APIKey{}, parrain.Invalid("scopes", "unknown scope %q (read, events, admin)", sc)
		}
	}
	if err := checkRateLimit(in.RateLimit); err != nil {
		return "", store.APIKey{}, err
	}
	if programID != "" {
		if _, err := s.st.Program(ctx, programID); err != nil {
			return "", store.APIKey{}, err
		}
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", store.APIKey{}, fmt.Errorf("generating key: %w", err)
	}
	secret := "prn_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	k := store.APIKey{ID: store.NewID("key"), Name: name, Prefix: secret[:10], Scopes: scopes, ProgramID: programID, RateLimit: in.RateLimit}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		k.CreatedAt = tx.Now()
		if err := tx.InsertAPIKey(ctx, k, tokenHash(secret)); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditAPIKeyCreated, "api_key", k.ID, k.ProgramID,
			map[string]any{"name": k.Name, "scopes": k.Scopes, "prefix": k.Prefix, "rate_limit": k.RateLimit})
	})
	if err != nil {
		return "", store.APIKey{}, err
	}
	return secret, k, nil
}

// SetAPIKeyRateLimit sets a key's own rate limit in requests a minute (0:
// back to the installation's default). It takes effect on the key's next
// request. Audited under the context's actor.
func (s *Service) SetAPIKeyRateLimit(ctx context.Context, id string, perMinute int) error {
	if err := checkRateLimit(perMinute); err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		name, programID, err := tx.SetAPIKeyRateLimit(ctx, id, perMinute)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditAPIKeyRateLimit, "api_key", id, programID, map[string]any{"name": name, "rate_limit": perMinute})
	})
}

// RevokeAPIKey revokes a live key: requests with it answer 401 from now
// on. Audited under the context's actor.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		name, programID, err := tx.RevokeAPIKey(ctx, id, tx.Now())
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditAPIKeyRevoked, "api_key", id, programID, map[string]any{"name": name})
	})
}

// apiKeyTouchEvery is how stale a key's last-used stamp may grow before
// authentication writes it again: at most one write a minute per key, so
// the API's reads do not each turn into a write.
const apiKeyTouchEvery = time.Minute

// AuthenticateAPIKey returns the live key whose secret is given. The
// store keeps only the SHA-256 of the secret (keys are 160 random bits, so
// a fast hash is as safe as a slow one and keeps authentication cheap); an
// unknown or revoked key answers unauthenticated, without saying which.
// The key's last use is stamped when older than a minute. Checking the
// key's scopes and program is the caller's (APIKey.Has,
// APIKey.CanAccessProgram), after its rate limit.
func (s *Service) AuthenticateAPIKey(ctx context.Context, secret string) (store.APIKey, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return store.APIKey{}, parrain.Errorf(parrain.CodeUnauthenticated, "invalid or revoked API key")
	}
	k, err := s.st.APIKeyByHash(ctx, tokenHash(secret))
	if parrain.ErrorCode(err) == parrain.CodeNotFound || (err == nil && k.RevokedAt != nil) {
		return store.APIKey{}, parrain.Errorf(parrain.CodeUnauthenticated, "invalid or revoked API key")
	}
	if err != nil {
		return store.APIKey{}, err
	}
	if now := s.now(); k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > apiKeyTouchEvery {
		if err := s.st.TouchAPIKey(ctx, k.ID, now); err != nil {
			return store.APIKey{}, err
		}
	}
	return k, nil
}

// APIKeys lists every key, newest first.
func (s *Service) APIKeys(ctx context.Context) ([]store.APIKey, error) { return s.st.APIKeys(ctx) }
