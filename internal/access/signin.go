package access

import (
	"context"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// SignIn is a console sign-in: it returns the cookie token (shown once)
// and the new session. A wrong password, an unknown email and a disabled
// user answer the same unauthenticated error after the same work (one
// password hash). While the attempt's throttle waits (docs/security.md)
// it answers a *ThrottledError (rate_limited) without checking anything.
func (s *Service) SignIn(ctx context.Context, email, password, ip, userAgent string) (string, store.Session, store.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || password == "" || len(password) > MaxPasswordLen {
		return "", store.Session{}, store.User{}, parrain.Invalid("email", "enter your email and password")
	}
	cs := s.counters("console", s.cfg.Console, email, ip)
	if err := s.admit(ctx, cs); err != nil {
		return "", store.Session{}, store.User{}, err
	}
	u, err := s.st.UserByEmail(ctx, email)
	if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
		return "", store.Session{}, store.User{}, err
	}
	ok, verr := s.verify(ctx, u.PasswordHash, password) // "" for an unknown email: the dummy hash
	if verr != nil {
		return "", store.Session{}, store.User{}, verr
	}
	if err != nil || !ok || !u.Active() {
		if err := s.failed(ctx, cs); err != nil {
			return "", store.Session{}, store.User{}, err
		}
		return "", store.Session{}, store.User{}, parrain.Errorf(parrain.CodeUnauthenticated, "wrong email or password")
	}
	if err := s.succeeded(ctx, cs); err != nil {
		return "", store.Session{}, store.User{}, err
	}
	tok, ss, err := s.StartSession(ctx, u, ip, userAgent)
	return tok, ss, u, err
}

// StartSession signs a user in without a password (right after the
// one-time setup, or after SignIn checked it): it returns the cookie token
// and the session, and records and audits the sign-in. Expired sessions
// of every user are swept on the way.
func (s *Service) StartSession(ctx context.Context, u store.User, ip, userAgent string) (string, store.Session, error) {
	tok, err := randomToken(32)
	if err != nil {
		return "", store.Session{}, err
	}
	csrf, err := randomToken(32)
	if err != nil {
		return "", store.Session{}, err
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	var ss store.Session
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		now := tx.Now()
		ss = store.Session{ID: store.NewID("ses"), UserID: u.ID, CSRFToken: csrf, IP: ip, UserAgent: userAgent,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge)}
		if err := tx.DeleteStaleSessions(ctx, now, now.Add(-SessionIdle)); err != nil {
			return err
		}
		if err := tx.InsertSession(ctx, ss, tokenHash(tok)); err != nil {
			return err
		}
		if err := tx.SetUserLastLogin(ctx, u.ID, now); err != nil {
			return err
		}
		return tx.Audit(ctx, userActor(u, ip), store.AuditSignIn, "user", u.ID, "", nil)
	})
	return tok, ss, err
}

// Session returns the live session holding the cookie token and its user.
// Unknown, expired and idle sessions, and sessions of disabled users,
// answer unauthenticated (and the dead session is deleted). The idle
// clock is refreshed at most once a minute, so reads do not all turn into
// writes.
func (s *Service) Session(ctx context.Context, tok string) (store.Session, store.User, error) {
	unauth := parrain.Errorf(parrain.CodeUnauthenticated, "not signed in, or the session has ended")
	if tok == "" {
		return store.Session{}, store.User{}, unauth
	}
	ss, u, found, err := s.st.SessionByTokenHash(ctx, tokenHash(tok))
	if err != nil {
		return store.Session{}, store.User{}, err
	}
	if !found {
		return store.Session{}, store.User{}, unauth
	}
	now := s.now()
	if !now.Before(ss.ExpiresAt) || now.Sub(ss.LastSeenAt) >= SessionIdle || !u.Active() {
		if err := s.st.DeleteSession(ctx, ss.ID); err != nil {
			return store.Session{}, store.User{}, err
		}
		return store.Session{}, store.User{}, unauth
	}
	if now.Sub(ss.LastSeenAt) > time.Minute {
		if err := s.st.TouchSession(ctx, ss.ID, now); err != nil {
			return store.Session{}, store.User{}, err
		}
		ss.LastSeenAt = now
	}
	return ss, u, nil
}

// SignOut ends one session.
func (s *Service) SignOut(ctx context.Context, sessionID string) error {
	return s.st.DeleteSession(ctx, sessionID)
}

// Sessions lists a user's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context, userID string) ([]store.Session, error) {
	now := s.now()
	return s.st.UserSessions(ctx, userID, now, now.Add(-SessionIdle))
}
