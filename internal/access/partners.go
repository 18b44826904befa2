package access

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Partner portal lifetimes.
const (
	// MagicLinkTTL is how long a sign-in link works (once).
	MagicLinkTTL = 20 * time.Minute
	// PartnerSessionTTL is how long a portal session lasts.
	PartnerSessionTTL = 14 * 24 * time.Hour
)

// PartnerSession is a signed-in partner: the cookie token (shown once)
// and the CSRF token their forms echo.
type PartnerSession struct {
	Token string
	CSRF  string
}

// PartnerSignIn signs a partner of a program in with email and password,
// from ip. Unknown emails, partners without a password, inactive partners
// and wrong passwords answer the same unauthenticated error after the
// same work (one password hash); while the attempt's throttle waits it
// answers a *ThrottledError.
func (s *Service) PartnerSignIn(ctx context.Context, programID, email, password, ip string) (PartnerSession, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	wrong := parrain.Errorf(parrain.CodeUnauthenticated, "wrong email or password (or the partner account is not active)")
	if email == "" || password == "" || len(password) > MaxPasswordLen {
		return PartnerSession{}, wrong
	}
	cs := s.counters("portal:"+programID, s.cfg.Portal, email, ip)
	if err := s.admit(ctx, cs); err != nil {
		return PartnerSession{}, err
	}
	p, hash, err := s.st.PartnerByEmail(ctx, programID, email)
	if err != nil && parrain.ErrorCode(err) != parrain.CodeNotFound {
		return PartnerSession{}, err
	}
	ok, verr := s.verify(ctx, hash, password) // "" (unknown, no password): the dummy hash
	if verr != nil {
		return PartnerSession{}, verr
	}
	if err != nil || !ok || p.Status != parrain.PartnerActive {
		if err := s.failed(ctx, cs); err != nil {
			return PartnerSession{}, err
		}
		return PartnerSession{}, wrong
	}
	if err := s.succeeded(ctx, cs); err != nil {
		return PartnerSession{}, err
	}
	return s.StartPartnerSession(ctx, p.ID)
}

// StartPartnerSession opens a portal session for a partner already
// authenticated (by password or magic link).
func (s *Service) StartPartnerSession(ctx context.Context, partnerID string) (PartnerSession, error) {
	tok, err := hexToken()
	if err != nil {
		return PartnerSession{}, err
	}
	csrf, err := hexToken()
	if err != nil {
		return PartnerSession{}, err
	}
	now := s.now()
	if err := s.st.InsertPartnerSession(ctx, tokenHash(tok), partnerID, csrf, now.Add(PartnerSessionTTL), now); err != nil {
		return PartnerSession{}, err
	}
	return PartnerSession{Token: tok, CSRF: csrf}, nil
}

// MagicLinkMail makes the link's URL from its token, and the email
// carrying it: the portal names the program and builds the URL.
type MagicLinkMail func(token string) (link string, msg smtp.Message)

// SendMagicLink emails a one-time sign-in link to an active partner of the
// program with this email, at most MagicLinksPerHour an hour. It answers
// the same (nil) whether the email is known, unknown, inactive or over
// its limit, and it sends in the background, so neither the answer nor
// its time tells them apart.
func (s *Service) SendMagicLink(ctx context.Context, programID, email string, mail MagicLinkMail) error {
	p, _, err := s.st.PartnerByEmail(ctx, programID, strings.ToLower(strings.TrimSpace(email)))
	if parrain.ErrorCode(err) == parrain.CodeNotFound || (err == nil && p.Status != parrain.PartnerActive) {
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	sent, err := s.st.PartnerMagicLinksSince(ctx, p.ID, now.Add(-time.Hour))
	if err != nil {
		return err
	}
	if sent >= s.cfg.MagicLinksPerHour {
		s.log.InfoContext(ctx, "partner sign-in link not sent: the hourly limit is reached", "partner", p.ID, "limit", s.cfg.MagicLinksPerHour)
		return nil
	}
	tok, err := hexToken()
	if err != nil {
		return err
	}
	if err := s.st.InsertPartnerMagicLink(ctx, tokenHash(tok), p.ID, now.Add(MagicLinkTTL), now); err != nil {
		return err
	}
	link, msg := mail(tok)
	msg.To = p.Email
	if s.cfg.Mailer == nil {
		s.log.InfoContext(ctx, "partner sign-in link (no mailer configured)", "partner", p.ID, "link", link)
		return nil
	}
	s.mails.Add(1)
	go func() {
		defer s.mails.Done()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := s.cfg.Mailer.Send(bg, msg); err != nil {
			s.log.WarnContext(bg, "sending partner sign-in link", "partner", p.ID, "err", err)
		}
	}()
	return nil
}

// ConsumeMagicLink uses a sign-in link once and opens a session for its
// partner, who must be an active partner of programID.
func (s *Service) ConsumeMagicLink(ctx context.Context, programID, tok string) (PartnerSession, error) {
	bad := parrain.Errorf(parrain.CodeUnauthenticated, "this sign-in link is invalid, used or expired: ask for a new one")
	if tok == "" || len(tok) > 200 {
		return PartnerSession{}, bad
	}
	id, err := s.st.ConsumePartnerMagicLink(ctx, tokenHash(tok), s.now())
	if parrain.ErrorCode(err) == parrain.CodeUnauthenticated {
		return PartnerSession{}, bad
	}
	if err != nil {
		return PartnerSession{}, err
	}
	if p, err := s.st.Partner(ctx, programID, id); err != nil || p.Status != parrain.PartnerActive {
		return PartnerSession{}, bad
	}
	return s.StartPartnerSession(ctx, id)
}

// PartnerSessionOf resolves a session token to its partner id and CSRF
// token (unauthenticated when unknown or ended).
func (s *Service) PartnerSessionOf(ctx context.Context, tok string) (partnerID, csrf string, err error) {
	if tok == "" || len(tok) > 200 {
		return "", "", parrain.Errorf(parrain.CodeUnauthenticated, "not signed in")
	}
	return s.st.PartnerSession(ctx, tokenHash(tok), s.now())
}

// PartnerSignOut ends one portal session.
func (s *Service) PartnerSignOut(ctx context.Context, tok string) error {
	return s.st.DeletePartnerSession(ctx, tokenHash(tok))
}

// SetPartnerPassword sets or changes a signed-in partner's password.
// Changing one needs the current password (field current); setting the
// first one (a partner who signed in by magic link) does not. Every other
// session of the partner ends; sessionToken, the one making the change,
// stays. Audited under the context's actor.
func (s *Service) SetPartnerPassword(ctx context.Context, partnerID, sessionToken, current, password string) error {
	_, hash, err := s.st.PartnerPasswordHash(ctx, partnerID)
	if err != nil {
		return err
	}
	if hash != "" {
		ok, err := s.hasher.Verify(ctx, hash, current)
		if err != nil {
			return err
		}
		if !ok {
			return parrain.Invalid("current", "is not your current password")
		}
	}
	if err := ValidatePassword("password", "", password); err != nil {
		return err
	}
	newHash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		programID, stored, err := tx.PartnerPasswordHash(ctx, partnerID)
		if err != nil {
			return err
		}
		if stored != hash {
			return parrain.Errorf(parrain.CodeConflict, "the password changed meanwhile: try again")
		}
		if err := tx.SetPartnerPasswordHash(ctx, partnerID, newHash, tx.Now()); err != nil {
			return err
		}
		ended, err := tx.DeletePartnerSessions(ctx, partnerID, tokenHash(sessionToken))
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditPartnerPassword, "partner", partnerID, programID,
			map[string]any{"sessions_ended": ended, "changed": hash != ""})
	})
}

// hexToken is 256 random bits in hex: the portal's link and session
// tokens.
func hexToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
