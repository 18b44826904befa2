package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// This file holds the partner portal's sign-in: one-time magic links and
// sessions, stored under the hashes of their tokens (internal/access makes
// the tokens and their hashes, and decides their lifetimes).

// InsertPartnerMagicLink stores a one-time sign-in link.
func (s *Store) InsertPartnerMagicLink(ctx context.Context, tokenHash, partnerID string, expires, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_magic_links (token_hash, partner_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
		tokenHash, partnerID, ms(expires), ms(now))
	if err != nil {
		return fmt.Errorf("creating magic link: %w", err)
	}
	return nil
}

// PartnerMagicLinksSince counts the magic links made for a partner since.
func (s *Store) PartnerMagicLinksSince(ctx context.Context, partnerID string, since time.Time) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_magic_links WHERE partner_id = $1 AND created_at >= $2`,
		partnerID, ms(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting magic links: %w", err)
	}
	return n, nil
}

// ConsumePartnerMagicLink marks an unused, unexpired link used at now and
// returns its partner's id.
func (s *Store) ConsumePartnerMagicLink(ctx context.Context, tokenHash string, now time.Time) (string, error) {
	var id string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE partner_magic_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING partner_id`,
			ms(now), tokenHash).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return parrain.Errorf(parrain.CodeUnauthenticated, "this sign-in link is invalid, used or expired")
		}
		return err
	})
	return id, err
}

// InsertPartnerSession stores a portal session.
func (s *Store) InsertPartnerSession(ctx context.Context, tokenHash, partnerID, csrf string, expires, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO partner_sessions (token_hash, partner_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash, partnerID, csrf, ms(expires), ms(now))
	if err != nil {
		return fmt.Errorf("creating partner session: %w", err)
	}
	return nil
}

// PartnerSession resolves a session's token hash to its partner id and
// CSRF token, for a session that has not ended at now.
func (s *Store) PartnerSession(ctx context.Context, tokenHash string, now time.Time) (string, string, error) {
	var id, csrf string
	err := s.r.QueryRowContext(ctx, `SELECT partner_id, csrf FROM partner_sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, ms(now)).Scan(&id, &csrf)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", parrain.Errorf(parrain.CodeUnauthenticated, "not signed in")
	}
	if err != nil {
		return "", "", fmt.Errorf("loading partner session: %w", err)
	}
	return id, csrf, nil
}

// DeletePartnerSession ends one session.
func (s *Store) DeletePartnerSession(ctx context.Context, tokenHash string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM partner_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("ending partner session: %w", err)
	}
	return nil
}

// DeletePartnerSessions ends every session of a partner but the one under
// keepHash and returns how many ended.
func (t *Tx) DeletePartnerSessions(ctx context.Context, partnerID, keepHash string) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM partner_sessions WHERE partner_id = $1 AND token_hash <> $2`, partnerID, keepHash)
	if err != nil {
		return 0, fmt.Errorf("ending partner sessions: %w", err)
	}
	return res.RowsAffected()
}

// PartnerPasswordHash returns a partner's password hash ("" when none is
// set), locked until the transaction ends.
func (t *Tx) PartnerPasswordHash(ctx context.Context, partnerID string) (programID, hash string, err error) {
	return partnerPasswordHash(ctx, t.tx, partnerID, t.s.d.forUpdate)
}

// PartnerPasswordHash is Tx.PartnerPasswordHash on the read pool, unlocked.
func (s *Store) PartnerPasswordHash(ctx context.Context, partnerID string) (programID, hash string, err error) {
	return partnerPasswordHash(ctx, s.r, partnerID, "")
}

func partnerPasswordHash(ctx context.Context, q querier, partnerID, lock string) (programID, hash string, err error) {
	var h sql.NullString
	err = q.QueryRowContext(ctx, `SELECT program_id, password_hash FROM partners WHERE id = $1`+lock, partnerID).Scan(&programID, &h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", notFound("partner")
	}
	if err != nil {
		return "", "", fmt.Errorf("loading partner: %w", err)
	}
	return programID, h.String, nil
}

// SetPartnerPasswordHash stores a partner's password hash.
func (t *Tx) SetPartnerPasswordHash(ctx context.Context, partnerID, hash string, now time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE partners SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ms(now), partnerID)
	if err != nil {
		return fmt.Errorf("setting partner password: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("setting partner password: %w", err)
	} else if n == 0 {
		return notFound("partner")
	}
	return nil
}
