package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// API key scopes. A key holds one or more.
const (
	ScopeRead   = "read"   // GET endpoints
	ScopeEvents = "events" // report events, upsert participants
	ScopeAdmin  = "admin"  // create and change programs
)

// AllScopes lists every scope, the default for a new key.
var AllScopes = []string{ScopeRead, ScopeEvents, ScopeAdmin}

// APIKey is a stored API key. Only the SHA-256 of the secret is kept: keys
// are 160 random bits, so a fast hash is as safe as a slow one and keeps
// authentication cheap.
type APIKey struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Prefix    string   `json:"prefix"`
	Scopes    []string `json:"scopes"`
	ProgramID string   `json:"program_id,omitempty"` // restricts the key to one program
	// RateLimit is the key's own limit in requests a minute; 0 means the
	// installation's default (--api-rate-limit).
	RateLimit  int        `json:"rate_limit,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Has reports whether the key holds scope.
func (k APIKey) Has(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// CanAccessProgram reports whether the key may touch programID.
func (k APIKey) CanAccessProgram(programID string) bool {
	return k.ProgramID == "" || k.ProgramID == programID
}

func hashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// MaxAPIKeyRateLimit bounds a key's own rate limit (requests a minute).
const MaxAPIKeyRateLimit = 1_000_000

// NewAPIKey is what creating an API key takes.
type NewAPIKey struct {
	Name      string
	Scopes    []string // AllScopes when empty
	ProgramID string   // "" = every program
	RateLimit int      // requests a minute; 0 = the installation's default
}

// CreateAPIKey creates a key and returns its secret, shown once.
func (s *Store) CreateAPIKey(ctx context.Context, name string, scopes []string, programID string) (string, APIKey, error) {
	return s.CreateAPIKeyWith(ctx, NewAPIKey{Name: name, Scopes: scopes, ProgramID: programID})
}

func checkRateLimit(n int) error {
	if n < 0 || n > MaxAPIKeyRateLimit {
		return parrain.Invalid("rate_limit", "must be between 1 and %d requests a minute, or 0 for the installation's default", MaxAPIKeyRateLimit)
	}
	return nil
}

// CreateAPIKeyWith creates a key described by in and returns its secret,
// shown once.
func (s *Store) CreateAPIKeyWith(ctx context.Context, in NewAPIKey) (string, APIKey, error) {
	name, scopes, programID := strings.TrimSpace(in.Name), in.Scopes, in.ProgramID
	if name == "" || len(name) > 100 {
		return "", APIKey{}, parrain.Invalid("name", "is required (at most 100 characters)")
	}
	if len(scopes) == 0 {
		scopes = AllScopes
	}
	for _, sc := range scopes {
		if sc != ScopeRead && sc != ScopeEvents && sc != ScopeAdmin {
			return "", APIKey{}, parrain.Invalid("scopes", "unknown scope %q (read, events, admin)", sc)
		}
	}
	if err := checkRateLimit(in.RateLimit); err != nil {
		return "", APIKey{}, err
	}
	if programID != "" {
		if _, err := s.Program(ctx, programID); err != nil {
			return "", APIKey{}, err
		}
	}
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", APIKey{}, fmt.Errorf("generating key: %w", err)
	}
	secret := "prn_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	k := APIKey{ID: newID("key"), Name: name, Prefix: secret[:10], Scopes: scopes, ProgramID: programID, RateLimit: in.RateLimit, CreatedAt: s.clock.Now()}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, prefix, hash, scopes, program_id, rate_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			k.ID, k.Name, k.Prefix, hashKey(secret), strings.Join(scopes, " "), sql.NullString{String: programID, Valid: programID != ""},
			sql.NullInt64{Int64: int64(k.RateLimit), Valid: k.RateLimit > 0}, ms(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("storing API key: %w", err)
		}
		return s.audit(ctx, tx, AuditAPIKeyCreated, "api_key", k.ID, k.ProgramID,
			map[string]any{"name": k.Name, "scopes": k.Scopes, "prefix": k.Prefix, "rate_limit": k.RateLimit})
	})
	if err != nil {
		return "", APIKey{}, err
	}
	return secret, k, nil
}

// Authenticate returns the live key whose secret is given.
func (s *Store) Authenticate(ctx context.Context, secret string) (APIKey, error) {
	var k APIKey
	var scopes string
	var prog sql.NullString
	var created int64
	var used, revoked, limit sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, prefix, scopes, program_id, rate_limit, created_at, last_used_at, revoked_at FROM api_keys WHERE hash = $1`,
		hashKey(secret)).Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &prog, &limit, &created, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) || revoked.Valid {
		return APIKey{}, parrain.Errorf(parrain.CodeUnauthenticated, "invalid or revoked API key")
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("looking up API key: %w", err)
	}
	k.Scopes = strings.Fields(scopes)
	k.ProgramID = prog.String
	k.RateLimit = int(limit.Int64)
	k.CreatedAt = fromMS(created)
	k.LastUsedAt = fromNullMS(used)
	now := s.clock.Now()
	// Record use at most once a minute, so reads do not turn into writes.
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ms(now), k.ID); err != nil {
			return APIKey{}, fmt.Errorf("recording API key use: %w", err)
		}
	}
	return k, nil
}

// RevokeAPIKey revokes a key by id.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ms(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("revoking API key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("API key")
		}
		var name string
		var prog sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT name, program_id FROM api_keys WHERE id = $1`, id).Scan(&name, &prog); err != nil {
			return fmt.Errorf("loading API key: %w", err)
		}
		return s.audit(ctx, tx, AuditAPIKeyRevoked, "api_key", id, prog.String, map[string]any{"name": name})
	})
}

// SetAPIKeyRateLimit sets a key's own rate limit in requests a minute (0:
// back to the installation's default). It takes effect on the key's next
// request.
func (s *Store) SetAPIKeyRateLimit(ctx context.Context, id string, perMinute int) error {
	if err := checkRateLimit(perMinute); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET rate_limit = $1 WHERE id = $2`,
			sql.NullInt64{Int64: int64(perMinute), Valid: perMinute > 0}, id)
		if err != nil {
			return fmt.Errorf("setting API key rate limit: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("API key")
		}
		var name string
		var prog sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT name, program_id FROM api_keys WHERE id = $1`, id).Scan(&name, &prog); err != nil {
			return fmt.Errorf("loading API key: %w", err)
		}
		return s.audit(ctx, tx, AuditAPIKeyRateLimit, "api_key", id, prog.String, map[string]any{"name": name, "rate_limit": perMinute})
	})
}

// APIKeys lists all keys, newest first.
func (s *Store) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, prefix, scopes, program_id, rate_limit, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var scopes string
		var prog sql.NullString
		var created int64
		var used, revoked, limit sql.NullInt64
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &prog, &limit, &created, &used, &revoked); err != nil {
			return nil, err
		}
		k.Scopes, k.ProgramID, k.CreatedAt, k.RateLimit = strings.Fields(scopes), prog.String, fromMS(created), int(limit.Int64)
		k.LastUsedAt, k.RevokedAt = fromNullMS(used), fromNullMS(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}
