package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
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

// NewAPIKey is what creating an API key takes.
type NewAPIKey struct {
	Name      string
	Scopes    []string // AllScopes when empty
	ProgramID string   // "" = every program
	RateLimit int      // requests a minute; 0 = the installation's default
}

// InsertAPIKey stores a key under the hash of its secret (internal/access
// computes it; the store never sees a secret).
func (t *Tx) InsertAPIKey(ctx context.Context, k APIKey, hash string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO api_keys (id, name, prefix, hash, scopes, program_id, rate_limit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Name, k.Prefix, hash, strings.Join(k.Scopes, " "), sql.NullString{String: k.ProgramID, Valid: k.ProgramID != ""},
		sql.NullInt64{Int64: int64(k.RateLimit), Valid: k.RateLimit > 0}, ms(k.CreatedAt))
	if err != nil {
		return fmt.Errorf("storing API key: %w", err)
	}
	return nil
}

// APIKeyByHash returns the key, live or revoked, stored under the hash of
// its secret; none answers not found.
func (s *Store) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, notFound("API key")
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("looking up API key: %w", err)
	}
	return k, nil
}

// TouchAPIKey records that a key was used at at. It is a single statement
// outside any transaction: authentication stamps it on the request path.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, ms(at), id); err != nil {
		return fmt.Errorf("recording API key use: %w", err)
	}
	return nil
}

const apiKeyCols = `id, name, prefix, scopes, program_id, rate_limit, created_at, last_used_at, revoked_at`

func scanAPIKey(sc scanner) (APIKey, error) {
	var k APIKey
	var scopes string
	var prog sql.NullString
	var created int64
	var used, revoked, limit sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &scopes, &prog, &limit, &created, &used, &revoked); err != nil {
		return APIKey{}, err
	}
	k.Scopes, k.ProgramID, k.CreatedAt, k.RateLimit = strings.Fields(scopes), prog.String, fromMS(created), int(limit.Int64)
	k.LastUsedAt, k.RevokedAt = fromNullMS(used), fromNullMS(revoked)
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("listing API keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("reading API key: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
