package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser. The cookie holds a random token of which
// only a hash is stored (internal/access makes both), so a copy of the
// database cannot be used to sign in.
type Session struct {
	ID         string
	UserID     string
	CSRFToken  string // per-session token every console form must echo
	IP         string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
}

// DeleteStaleSessions deletes the sessions of every user that ended before
// now or were last seen before idleSince.
func (t *Tx) DeleteStaleSessions(ctx context.Context, now, idleSince time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`, ms(now), ms(idleSince)); err != nil {
		return fmt.Errorf("sweeping sessions: %w", err)
	}
	return nil
}

// InsertSession stores a session under the hash of its cookie token.
func (t *Tx) InsertSession(ctx context.Context, ss Session, tokenHash string) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, ss.ID, tokenHash, ss.UserID, ss.CSRFToken, ss.IP, ss.UserAgent,
		ms(ss.CreatedAt), ms(ss.LastSeenAt), ms(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("storing session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user but keepID ("" keeps
// none) and returns how many ended.
func (t *Tx) DeleteUserSessions(ctx context.Context, userID, keepID string) (int64, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
	if err != nil {
		return 0, fmt.Errorf("ending sessions: %w", err)
	}
	return res.RowsAffected()
}

// SessionByTokenHash returns the session stored under tokenHash and its
// user; found is false when there is none.
func (s *Store) SessionByTokenHash(ctx context.Context, tokenHash string) (ss Session, u User, found bool, err error) {
	var created, seen, expires int64
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.csrf_token, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.last_login_at, u.disabled_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, tokenHash)
	var ucreated, uupdated int64
	var login, disabled sql.NullInt64
	err = row.Scan(&ss.ID, &ss.UserID, &ss.CSRFToken, &ss.IP, &ss.UserAgent, &created, &seen, &expires,
		&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &ucreated, &uupdated, &login, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, false, nil
	}
	if err != nil {
		return Session{}, User{}, false, fmt.Errorf("loading session: %w", err)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt, u.DisabledAt = fromMS(ucreated), fromMS(uupdated), fromNullMS(login), fromNullMS(disabled)
	return ss, u, true, nil
}

// TouchSession stores when a session was last seen.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ms(at), id); err != nil {
		return fmt.Errorf("refreshing session: %w", err)
	}
	return nil
}

// DeleteSession ends one session (sign out).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	return nil
}

// UserSessions lists a user's sessions that ended neither before now nor
// by being idle since idleSince, newest first.
func (s *Store) UserSessions(ctx context.Context, userID string, now, idleSince time.Time) ([]Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, ip, user_agent, created_at, last_seen_at, expires_at FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY id DESC`, userID, ms(now), ms(idleSince))
	if err != nil {
		return nil, fmt.Errorf("listing sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		var ss Session
		var created, seen, expires int64
		if err := rows.Scan(&ss.ID, &ss.UserID, &ss.IP, &ss.UserAgent, &created, &seen, &expires); err != nil {
			return nil, err
		}
		ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
		out = append(out, ss)
	}
	return out, rows.Err()
}
