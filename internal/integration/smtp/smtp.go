// Package smtp sends Parrain's emails through an SMTP server (host, port,
// TLS mode and credentials from the boot configuration) with
// github.com/wneessen/go-mail: multipart/alternative plain text + HTML,
// a stable Message-ID, and the List-Unsubscribe and List-Unsubscribe-Post
// headers of RFC 2369 and RFC 8058 (one-click unsubscribe).
//
// It imports no other Parrain package: callers hand it a rendered Message.
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode is how the connection to the SMTP server is secured.
type TLSMode string

// TLS modes.
const (
	// TLSStartTLS upgrades a plain connection with STARTTLS and refuses
	// servers that cannot (port 587). The default.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit connects with TLS from the first byte (port 465).
	TLSImplicit TLSMode = "tls"
	// TLSNone sends in clear text: only for a relay on localhost or a
	// trusted private network.
	TLSNone TLSMode = "none"
)

// Config is the SMTP boot configuration.
type Config struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	TLS      TLSMode
	Username string // empty: no authentication
	Password string
	// From is the default sender, "Name <address>" or an address.
	From string
	// InsecureSkipVerify accepts any server certificate (tests, or a relay
	// with a self-signed certificate on a private network).
	InsecureSkipVerify bool
	Timeout            time.Duration // per connection; default 15s
	// HeloName is the name announced with EHLO (default: the host name).
	HeloName string
}

// Message is one rendered email.
type Message struct {
	From    string // "Name <address>"; empty: Config.From
	ReplyTo string
	To      string
	Subject string
	Text    string
	HTML    string
	// MessageID is the stable id of the message (without angle brackets),
	// the same on every retry so receivers can drop duplicates.
	MessageID string
	// UnsubscribeURL, when set, is announced in List-Unsubscribe together
	// with List-Unsubscribe-Post: List-Unsubscribe=One-Click; the URL must
	// accept a POST of that body.
	UnsubscribeURL string
	// Headers are extra headers (e.g. X-Parrain-Kind).
	Headers map[string]string
}

// Mailer sends messages. It is safe for concurrent use; each Send opens its
// own connection (emails are sent by background jobs, a few at a time).
type Mailer struct {
	cfg  Config
	from *mail.Address
}

// New validates the configuration.
func New(cfg Config) (*Mailer, error) {
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("smtp: host is required")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("smtp: TLS mode %q: must be starttls, tls or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[TLSMode]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d out of range", cfg.Port)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", cfg.From, err)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("smtp: a password needs a username")
	}
	return &Mailer{cfg: cfg, from: from}, nil
}

// From returns the default sender.
func (m *Mailer) From() *mail.Address { return m.from }

// Build turns a Message into a go-mail message (exported for tests that
// inspect the headers without a server).
func (m *Mailer) Build(msg Message) (*gomail.Msg, error) {
	g := gomail.NewMsg()
	from := m.from
	if msg.From != "" {
		a, err := mail.ParseAddress(msg.From)
		if err != nil {
			return nil, fmt.Errorf("smtp: from %q: %w", msg.From, err)
		}
		from = a
	}
	g.FromMailAddress(from)
	if err := g.To(msg.To); err != nil {
		return nil, fmt.Errorf("smtp: to %q: %w", msg.To, err)
	}
	if msg.ReplyTo != "" {
		if err := g.ReplyTo(msg.ReplyTo); err != nil {
			return nil, fmt.Errorf("smtp: reply-to %q: %w", msg.ReplyTo, err)
		}
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return nil, errors.New("smtp: the subject must be one line")
	}
	g.Subject(msg.Subject)
	g.SetDate()
	if msg.MessageID != "" {
		g.SetMessageIDWithValue(msg.MessageID)
	} else {
		g.SetMessageID()
	}
	if msg.UnsubscribeURL != "" {
		g.SetGenHeader("List-Unsubscribe", "<"+msg.UnsubscribeURL+">")
		g.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	for k, v := range msg.Headers {
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, fmt.Errorf("smtp: header %q must be one line", k)
		}
		g.SetGenHeader(gomail.Header(k), v)
	}
	g.SetBodyString(gomail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		g.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	}
	return g, nil
}

// Send delivers one message. Errors wrap the server's answer; Permanent
// tells a refusal that retrying cannot fix.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	g, err := m.Build(msg)
	if err != nil {
		return &permanentError{err}
	}
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: m.cfg.InsecureSkipVerify}), //nolint:gosec // opt-in, documented
	}
	switch m.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if m.cfg.HeloName != "" {
		opts = append(opts, gomail.WithHELO(m.cfg.HeloName))
	}
	if m.cfg.Username != "" {
		// Over TLS the strongest mechanism the server offers is chosen; in
		// clear text only PLAIN, which go-mail allows to localhost only.
		auth := gomail.SMTPAuthAutoDiscover
		if m.cfg.TLS == TLSNone {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return &permanentError{fmt.Errorf("smtp: configuring client: %w", err)}
	}
	if err := c.DialAndSendWithContext(ctx, g); err != nil {
		return fmt.Errorf("smtp: sending to %s via %s:%d: %w", msg.To, m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

type permanentError struct{ error }

func (e *permanentError) Unwrap() error { return e.error }

// Permanent reports whether err is a refusal that retrying cannot fix: a
// malformed message, or a 5xx answer of the server to the recipient or the
// content. Connection failures and 4xx answers are temporary.
func Permanent(err error) bool {
	var pe *permanentError
	if errors.As(err, &pe) {
		return true
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp() && se.ErrorCode() >= 500
	}
	return false
}
