package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// API key scopes. A key holds one or more (internal/access validates
// them).
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

// NewAPIKey is what creating an API key takes.
type NewAPIKey struct {
	Name      string
	Scopes    []string // AllScopes when empty
	ProgramID string   // "" = every program
	RateLimit int      // requests a minute; 0 = the installation's default
}

// InsertAPIKey stores a key; only the hash of its secret is kept.
func (t *Tx) InsertAPIKey(ctx context.Context, k APIKey, secret string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, prefix, hash, scopes, program_id, rate_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Name, k.Prefix, hashKey(secret), strings.Join(k.Scopes, " "), sql.NullString{String: k.ProgramID, Valid: k.ProgramID != ""},
		sql.NullInt64{Int64: int64(k.RateLimit), Valid: k.RateLimit > 0}, ms(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("storing API key: %w", err)
	}
	return nil
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

// RevokeAPIKey marks a live key revoked at now and returns its name and
// program; a key unknown or already revoked answers not found.
func (t *Tx) RevokeAPIKey(ctx context.Context, id string, now time.Time) (name, programID string, err error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, ms(now), id)
	if err != nil {
		return "", "", fmt.Errorf("revoking API key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", "", notFound("API key")
	}
	var prog sql.NullString
	if err := t.tx.QueryRowContext(ctx, `SELECT name, program_id FROM api_keys WHERE id = $1`, id).Scan(&name, &prog); err != nil {
		return "", "", fmt.Errorf("loading API key: %w", err)
	}
	return name, prog.String, nil
}

// SetAPIKeyRateLimit sets a key's own rate limit in requests a minute (0:
// back to the installation's default) and returns its name and program; an
// unknown key answers not found.
func (t *Tx) SetAPIKeyRateLimit(ctx context.Context, id string, perMinute int) (name, programID string, err error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE api_keys SET rate_limit = $1 WHERE id = $2`,
		sql.NullInt64{Int64: int64(perMinute), Valid: perMinute > 0}, id)
	if err != nil {
		return "", "", fmt.Errorf("setting API key rate limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", "", notFound("API key")
	}
	var prog sql.NullString
	if err := t.tx.QueryRowContext(ctx, `SELECT name, program_id FROM api_keys WHERE id = $1`, id).Scan(&name, &prog); err != nil {
		return "", "", fmt.Errorf("loading API key: %w", err)
	}
	return name, prog.String, nil
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
