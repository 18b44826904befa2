// Package access holds the use cases of who may use Parrain's own screens:
// console users (creating them, their roles, disabling them, passwords),
// their sessions and sign-in, API keys, and the partner portal's sign-in
// (password, magic links) and sessions.
//
// It owns the decisions: passwords are hashed and verified with argon2id
// here (the store never sees a password), session and link lifetimes,
// the rules on who may be changed how (there is always an active owner),
// and the sign-in throttles — failures counted per account and source
// address, per account and per address, with an exponential backoff that
// never stops the right password from another address (docs/security.md).
// Each change is audited in its own transaction under the actor the
// context carries; the SQL is the store's.
//
// It imports the domain, the store and the SMTP client's message type;
// never an HTTP package or the wiring.
package access

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Sender sends an email; *smtp.Mailer is the production one.
type Sender interface {
	Send(ctx context.Context, msg smtp.Message) error
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// Console throttles console sign-in; Portal the partner portal's.
	Console, Portal Throttle
	// Mailer sends the portal's magic links; nil writes them to the log
	// (development).
	Mailer Sender
	// MagicLinksPerHour bounds the links sent to one partner in an hour
	// (default 3).
	MagicLinksPerHour int
}

// Service runs the access use cases.
type Service struct {
	st     *store.Store
	log    *slog.Logger
	cfg    Config
	hasher *Hasher
	mails  sync.WaitGroup

	dummyOnce sync.Once
	dummy     string // verified for unknown accounts, so timing does not tell them apart
	dummyErr  error
}

// New returns the access use cases on st (a nil log logs to slog's
// default logger).
func New(st *store.Store, log *slog.Logger, cfg Config) *Service {
	if log == nil {
		log = slog.Default()
	}
	if cfg.Console.IsZero() {
		cfg.Console = DefaultConsoleThrottle
	}
	if cfg.Portal.IsZero() {
		cfg.Portal = DefaultPortalThrottle
	}
	if cfg.MagicLinksPerHour <= 0 {
		cfg.MagicLinksPerHour = 3
	}
	return &Service{st: st, log: log, cfg: cfg, hasher: NewHasher(2)}
}

// Wait waits for the magic-link emails being sent (tests, shutdown).
func (s *Service) Wait() { s.mails.Wait() }

// HashPassword validates a new password for the account with this email
// and returns its hash.
func (s *Service) HashPassword(ctx context.Context, email, password string) (string, error) {
	if err := ValidatePassword("password", email, password); err != nil {
		return "", err
	}
	return s.hasher.Hash(ctx, password)
}

// verify checks password against hash, or against the dummy hash when hash
// is empty (an unknown account, a partner without a password), so that
// every attempt costs one hash.
func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	if hash == "" {
		s.dummyOnce.Do(func() { s.dummy, s.dummyErr = s.hasher.Hash(context.Background(), "parrain-dummy-password") })
		if s.dummyErr != nil {
			return false, s.dummyErr
		}
		if _, err := s.hasher.Verify(ctx, s.dummy, password); err != nil {
			return false, err
		}
		return false, nil
	}
	return s.hasher.Verify(ctx, hash, password)
}

// randomToken is n random bytes, base64url.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenHash is what the store keeps of a cookie or link token.
func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// throttleKey names a throttle counter without storing an email or an
// address: an HMAC under the installation secret.
func (s *Service) throttleKey(parts ...string) string {
	m := hmac.New(sha256.New, s.st.Secret())
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// now is the store clock's time.
func (s *Service) now() time.Time { return s.st.Clock().Now() }

// userActor is a console user acting for themself (sign-in, setup).
func userActor(u store.User, ip string) store.Actor {
	return store.Actor{Kind: parrain.ActorUser, UserID: u.ID, Email: u.Email, IP: ip}
}
