package app

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/privacy"
)

// Config holds boot settings, parsed once from flags and PARRAIN_*
// environment variables (flags win). Business settings live in the
// database.
type Config struct {
	Addr         string        // listen address
	DatabaseURL  string        // "" = ./parrain.db; postgres://… for PostgreSQL
	BaseURL      string        // public URL for referral links
	CookieDomain string        // attribution cookie domain ("" = host only)
	FallbackURL  string        // landing for unknown codes when no program exists
	Demo         bool          // seed the demo program when the database is empty
	JobInterval  time.Duration // job poll interval
	PublicRate   float64       // requests per second per IP on public endpoints
	PublicBurst  int           // burst per IP on public endpoints
	LogFormat    string        // "text" or "json"
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (--trusted-proxies); TrustProxy is
	// the --trust-proxy alias for loopback and private networks.
	TrustedProxies []netip.Prefix
	TrustProxy     bool
	// APIRateLimit is each API key's default limit, in requests a minute
	// (a key's own rate_limit replaces it); 0: no limit.
	APIRateLimit int
	// IdempotencyTTL is how long an Idempotency-Key is remembered.
	IdempotencyTTL time.Duration
	ShutdownGrace  time.Duration
	// SMTP sends emails to advocates and friends (SMTP.Host empty: no
	// emails are sent; they are recorded as skipped).
	SMTP smtp.Config
	// JobLease is how long a claimed job is reserved before another worker
	// may take it over (0: the runner's default).
	JobLease time.Duration
	// PayoutCoolingOff is how long payouts to a changed payout destination
	// wait (docs/payouts.md); 0 turns the cooling-off off. Unset in a
	// Config built by hand (tests), the default of 72 h applies.
	PayoutCoolingOff *time.Duration
	// Integrations: payout providers, inbound provider webhooks, outgoing
	// webhooks, CRM (integrations.go).
	Integrations IntegrationsConfig
	// Observe: metrics and the access log (observe.go).
	Observe ObserveConfig
	// SecretKeys: the key sealing the secrets at rest (secrets.go).
	SecretKeys SecretKeyConfig
	// Privacy: retention periods and the evidence period (privacy.go).
	Privacy privacy.Config
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envParser reads typed PARRAIN_* variables. A value that does not parse is
// an error reported by err, never a silent fallback to the default.
type envParser struct{ errs []error }

func (e *envParser) fail(name, v string, err error) {
	e.errs = append(e.errs, fmt.Errorf("environment variable %s=%q: %w", name, v, err))
}

func (e *envParser) Bool(name string, def bool) bool {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return b
}

func (e *envParser) Int(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return n
}

func (e *envParser) Float(name string, def float64) float64 {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return f
}

func (e *envParser) Duration(name string, def time.Duration) time.Duration {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.fail(name, v, err)
		return def
	}
	return d
}

func (e *envParser) err() error { return errors.Join(e.errs...) }

// ParseServe parses the serve command's flags.
func ParseServe(args []string) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := Config{}
	ev := &envParser{}
	fs.StringVar(&c.Addr, "addr", env("PARRAIN_ADDR", "localhost:8080"), "listen address (PARRAIN_ADDR)")
	fs.StringVar(&c.DatabaseURL, "db", env("PARRAIN_DATABASE_URL", ""), "database: a SQLite file path (default ./parrain.db) or a postgres:// URL (PARRAIN_DATABASE_URL)")
	fs.StringVar(&c.BaseURL, "base-url", env("PARRAIN_BASE_URL", ""), "public URL of this server, used in referral links (PARRAIN_BASE_URL; default http://<addr>)")
	fs.StringVar(&c.CookieDomain, "cookie-domain", env("PARRAIN_COOKIE_DOMAIN", ""), "domain of the attribution cookie, e.g. .example.com (PARRAIN_COOKIE_DOMAIN)")
	fs.StringVar(&c.FallbackURL, "fallback-url", env("PARRAIN_FALLBACK_URL", "https://example.com/"), "where unknown referral codes land when no program is active (PARRAIN_FALLBACK_URL)")
	demo := ev.Bool("PARRAIN_DEMO", false)
	fs.BoolVar(&c.Demo, "demo", demo, "fill an empty database with a demo program (PARRAIN_DEMO)")
	fs.DurationVar(&c.JobInterval, "job-interval", time.Second, "how often background jobs are polled")
	rate := ev.Float("PARRAIN_PUBLIC_RATE", 20)
	fs.Float64Var(&c.PublicRate, "public-rate", rate, "requests per second per IP on public endpoints (PARRAIN_PUBLIC_RATE)")
	burst := ev.Int("PARRAIN_PUBLIC_BURST", 60)
	fs.IntVar(&c.PublicBurst, "public-burst", burst, "request burst per IP on public endpoints (PARRAIN_PUBLIC_BURST)")
	fs.StringVar(&c.LogFormat, "log", env("PARRAIN_LOG", "text"), "log format: text or json (PARRAIN_LOG)")
	trust := ev.Bool("PARRAIN_TRUST_PROXY", false)
	fs.BoolVar(&c.TrustProxy, "trust-proxy", trust, "alias for --trusted-proxies with the loopback and private networks (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, ::1, fc00::/7) (PARRAIN_TRUST_PROXY)")
	proxies := env("PARRAIN_TRUSTED_PROXIES", "")
	fs.StringVar(&proxies, "trusted-proxies", proxies, "comma-separated addresses or CIDR ranges of the reverse proxies in front of Parrain: their X-Forwarded-For and X-Forwarded-Proto are believed, the client being the right-most address that is not one of them (PARRAIN_TRUSTED_PROXIES)")
	apiRate := ev.Int("PARRAIN_API_RATE_LIMIT", 6000)
	fs.IntVar(&c.APIRateLimit, "api-rate-limit", apiRate, "requests a minute per API key, all of which may come at once; a key's own limit replaces it; 0 disables (PARRAIN_API_RATE_LIMIT)")
	idemTTL := ev.Duration("PARRAIN_IDEMPOTENCY_TTL", 24*time.Hour)
	fs.DurationVar(&c.IdempotencyTTL, "idempotency-ttl", idemTTL, "how long an Idempotency-Key is remembered; after it the key may be reused (PARRAIN_IDEMPOTENCY_TTL)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "time to finish requests on shutdown")
	fs.StringVar(&c.SMTP.Host, "smtp-host", env("PARRAIN_SMTP_HOST", ""), "SMTP server for emails to advocates and friends; empty: no emails (PARRAIN_SMTP_HOST)")
	smtpPort := ev.Int("PARRAIN_SMTP_PORT", 0)
	fs.IntVar(&c.SMTP.Port, "smtp-port", smtpPort, "SMTP port (PARRAIN_SMTP_PORT; default 587 for starttls, 465 for tls, 25 for none)")
	smtpTLS := env("PARRAIN_SMTP_TLS", "starttls")
	fs.StringVar(&smtpTLS, "smtp-tls", smtpTLS, "SMTP security: starttls, tls (implicit) or none (PARRAIN_SMTP_TLS)")
	fs.StringVar(&c.SMTP.Username, "smtp-user", env("PARRAIN_SMTP_USER", ""), "SMTP username (PARRAIN_SMTP_USER)")
	fs.StringVar(&c.SMTP.Password, "smtp-password", env("PARRAIN_SMTP_PASSWORD", ""), "SMTP password; prefer the PARRAIN_SMTP_PASSWORD variable")
	fs.StringVar(&c.SMTP.From, "smtp-from", env("PARRAIN_SMTP_FROM", ""), `default sender, "Name <address>" (PARRAIN_SMTP_FROM; the console's sender setting wins)`)
	smtpInsecure := ev.Bool("PARRAIN_SMTP_INSECURE_SKIP_VERIFY", false)
	fs.BoolVar(&c.SMTP.InsecureSkipVerify, "smtp-insecure-skip-verify", smtpInsecure, "accept any SMTP server certificate (PARRAIN_SMTP_INSECURE_SKIP_VERIFY)")
	cooling := ev.Duration("PARRAIN_PAYOUT_COOLING_OFF", parrain.DefaultPayoutCoolingOff)
	c.PayoutCoolingOff = new(time.Duration)
	fs.DurationVar(c.PayoutCoolingOff, "payout-cooling-off", cooling, "how long payouts to a changed payout account wait; 0: no wait (PARRAIN_PAYOUT_COOLING_OFF)")
	fs.DurationVar(&c.JobLease, "job-lease", 0, "how long a claimed job is reserved before another worker takes it over (default 5m)")
	integrationFlags(fs, ev, &c.Integrations)
	observeFlags(fs, ev, &c.Observe)
	secretKeyFlags(fs, &c.SecretKeys)
	privacyFlags(fs, ev, &c.Privacy)
	if err := ev.err(); err != nil {
		return c, err
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.Integrations.validate(); err != nil {
		return c, err
	}
	var err error
	if c.TrustedProxies, err = httpx.ParseProxies(proxies); err != nil {
		return c, fmt.Errorf("--trusted-proxies (PARRAIN_TRUSTED_PROXIES): %w", err)
	}
	if c.APIRateLimit < 0 {
		return c, fmt.Errorf("--api-rate-limit must be 0 (no limit) or positive")
	}
	if c.IdempotencyTTL < time.Minute {
		return c, fmt.Errorf("--idempotency-ttl must be at least a minute")
	}
	c.SMTP.TLS = smtp.TLSMode(smtpTLS)
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.PublicRate <= 0 || c.PublicBurst <= 0 {
		return c, fmt.Errorf("public-rate and public-burst must be positive")
	}
	if *c.PayoutCoolingOff < 0 {
		return c, fmt.Errorf("payout-cooling-off must not be negative")
	}
	if c.SMTP.Host != "" {
		if c.SMTP.From == "" {
			return c, fmt.Errorf("--smtp-from (PARRAIN_SMTP_FROM) is required with --smtp-host")
		}
		if _, err := smtp.New(c.SMTP); err != nil {
			return c, err
		}
	}
	return c, nil
}
