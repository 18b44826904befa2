package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds the partner portal's sign-in: one-time magic links and
// sessions. Only token hashes are stored.

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// CreatePartnerMagicLink returns a one-time sign-in token valid for ttl.
// Only its hash is stored.
func (s *Store) CreatePartnerMagicLink(ctx context.Context, partnerID string, ttl time.Duration) (string, error) {
	tok := newToken()
	now := s.clock.Now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_magic_links (token_hash, partner_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		tokenHash(tok), partnerID, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return "", fmt.Errorf("creating magic link: %w", err)
	}
	return tok, nil
}

// ConsumePartnerMagicLink uses a magic-link token once and returns its
// partner's id.
func (s *Store) ConsumePartnerMagicLink(ctx context.Context, tok string) (string, error) {
	var id string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := ms(s.clock.Now())
		err := tx.QueryRowContext(ctx, `UPDATE partner_magic_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING partner_id`,
			now, tokenHash(tok)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return parrain.Errorf(parrain.CodeUnauthenticated, "this sign-in link is invalid, used or expired")
		}
		return err
	})
	return id, err
}

// PartnerSessionTTL is how long a portal session lasts.
const PartnerSessionTTL = 14 * 24 * time.Hour

// CreatePartnerSession opens a portal session and returns its token and
// CSRF token. Only the token's hash is stored.
func (s *Store) CreatePartnerSession(ctx context.Context, partnerID string) (string, string, error) {
	tok, csrf := newToken(), newToken()
	now := s.clock.Now()
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_sessions (token_hash, partner_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash(tok), partnerID, csrf, ms(now.Add(PartnerSessionTTL)), ms(now))
	if err != nil {
		return "", "", fmt.Errorf("creating partner session: %w", err)
	}
	return tok, csrf, nil
}

// PartnerSession resolves a session token to its partner id and CSRF
// token.
func (s *Store) PartnerSession(ctx context.Context, tok string) (string, string, error) {
	var id, csrf string
	err := s.r.QueryRowContext(ctx, `SELECT partner_id, csrf FROM partner_sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash(tok), ms(s.clock.Now())).Scan(&id, &csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", parrain.Errorf(parrain.CodeUnauthenticated, "not signed in")
	}
	return id, csrf, err
}

// DeletePartnerSession signs a session out.
func (s *Store) DeletePartnerSession(ctx context.Context, tok string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM partner_sessions WHERE token_hash = $1`, tokenHash(tok))
	return err
}
