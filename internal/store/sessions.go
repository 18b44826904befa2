package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Session lifetimes. A session ends after SessionIdle without a request or
// SessionMaxAge after sign-in, whichever comes first.
const (
	SessionIdle   = 12 * time.Hour
	SessionMaxAge = 7 * 24 * time.Hour
)

// Session is a signed-in browser. The cookie holds a random token of which
// only the SHA-256 is stored, so a copy of the database cannot be used to
// sign in.
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

func sessionRandomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionTokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// CreateSession signs a user in: it returns the cookie token (shown once)
// and the session. Expired sessions of every user are swept on the way.
func (s *Store) CreateSession(ctx context.Context, userID, ip, userAgent string) (string, Session, error) {
	tok, err := sessionRandomToken(32)
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := sessionRandomToken(32)
	if err != nil {
		return "", Session{}, err
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	now := s.clock.Now()
	ss := Session{ID: newID("ses"), UserID: userID, CSRFToken: csrf, IP: ip, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge)}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			ms(now), ms(now.Add(-SessionIdle))); err != nil {
			return fmt.Errorf("sweeping sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, token_hash, user_id, csrf_token, ip, user_agent, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`, ss.ID, sessionTokenHash(tok), userID, csrf, ip, userAgent, ms(now), ms(ss.ExpiresAt))
		if err != nil {
			return fmt.Errorf("storing session: %w", err)
		}
		return nil
	})
	return tok, ss, err
}

// SessionByToken returns the live session holding the cookie token and its
// user. Unknown, expired and idle sessions, and sessions of disabled users,
// answer unauthenticated. The idle clock is refreshed at most once a minute,
// so reads do not all turn into writes.
func (s *Store) SessionByToken(ctx context.Context, tok string) (Session, User, error) {
	var ss Session
	var created, seen, expires int64
	row := s.r.QueryRowContext(ctx, `SELECT s.id, s.user_id, s.csrf_token, s.ip, s.user_agent, s.created_at, s.last_seen_at, s.expires_at,
		u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at, u.last_login_at, u.disabled_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1`, sessionTokenHash(tok))
	var u User
	var ucreated, uupdated int64
	var login, disabled sql.NullInt64
	err := row.Scan(&ss.ID, &ss.UserID, &ss.CSRFToken, &ss.IP, &ss.UserAgent, &created, &seen, &expires,
		&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &ucreated, &uupdated, &login, &disabled)
	unauth := parrain.Errorf(parrain.CodeUnauthenticated, "not signed in, or the session has ended")
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, User{}, unauth
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("loading session: %w", err)
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt, u.DisabledAt = fromMS(ucreated), fromMS(uupdated), fromNullMS(login), fromNullMS(disabled)
	now := s.clock.Now()
	if !now.Before(ss.ExpiresAt) || now.Sub(ss.LastSeenAt) >= SessionIdle || !u.Active() {
		if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, ss.ID); err != nil {
			return Session{}, User{}, fmt.Errorf("ending session: %w", err)
		}
		return Session{}, User{}, unauth
	}
	if now.Sub(ss.LastSeenAt) > time.Minute {
		if _, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2`, ms(now), ss.ID); err != nil {
			return Session{}, User{}, fmt.Errorf("refreshing session: %w", err)
		}
		ss.LastSeenAt = now
	}
	return ss, u, nil
}

// DeleteSession ends one session (sign out).
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("ending session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user ("sign out everywhere")
// and returns how many ended. The change is audited.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string, a Actor) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		n, _ = res.RowsAffected()
		return s.auditTx(ctx, tx, a, AuditUserSignedOutAll, "user", userID, "", map[string]any{"sessions_ended": n})
	})
	return n, err
}

// UserSessions lists a user's live sessions, newest first.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]Session, error) {
	now := s.clock.Now()
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, ip, user_agent, created_at, last_seen_at, expires_at FROM sessions
		WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3 ORDER BY id DESC`, userID, ms(now), ms(now.Add(-SessionIdle)))
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
