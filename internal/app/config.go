package app

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config holds boot settings, parsed once from flags and PARRAIN_*
// environment variables (flags win). Business settings live in the
// database.
type Config struct {
	Addr          string        // listen address
	DatabaseURL   string        // "" = ./parrain.db; postgres://… for PostgreSQL
	BaseURL       string        // public URL for referral links
	CookieDomain  string        // attribution cookie domain ("" = host only)
	FallbackURL   string        // landing for unknown codes when no program exists
	Demo          bool          // seed the demo program when the database is empty
	JobInterval   time.Duration // job poll interval
	PublicRate    float64       // requests per second per IP on public endpoints
	PublicBurst   int           // burst per IP on public endpoints
	LogFormat     string        // "text" or "json"
	TrustProxy    bool          // take the client IP from X-Forwarded-For
	ShutdownGrace time.Duration
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// ParseServe parses the serve command's flags.
func ParseServe(args []string) (Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := Config{}
	fs.StringVar(&c.Addr, "addr", env("PARRAIN_ADDR", "localhost:8080"), "listen address (PARRAIN_ADDR)")
	fs.StringVar(&c.DatabaseURL, "db", env("PARRAIN_DATABASE_URL", ""), "database: a SQLite file path (default ./parrain.db) or a postgres:// URL (PARRAIN_DATABASE_URL)")
	fs.StringVar(&c.BaseURL, "base-url", env("PARRAIN_BASE_URL", ""), "public URL of this server, used in referral links (PARRAIN_BASE_URL; default http://<addr>)")
	fs.StringVar(&c.CookieDomain, "cookie-domain", env("PARRAIN_COOKIE_DOMAIN", ""), "domain of the attribution cookie, e.g. .example.com (PARRAIN_COOKIE_DOMAIN)")
	fs.StringVar(&c.FallbackURL, "fallback-url", env("PARRAIN_FALLBACK_URL", "https://example.com/"), "where unknown referral codes land when no program is active (PARRAIN_FALLBACK_URL)")
	demo, _ := strconv.ParseBool(env("PARRAIN_DEMO", "false"))
	fs.BoolVar(&c.Demo, "demo", demo, "fill an empty database with a demo program (PARRAIN_DEMO)")
	fs.DurationVar(&c.JobInterval, "job-interval", time.Second, "how often background jobs are polled")
	rate, _ := strconv.ParseFloat(env("PARRAIN_PUBLIC_RATE", "20"), 64)
	fs.Float64Var(&c.PublicRate, "public-rate", rate, "requests per second per IP on public endpoints (PARRAIN_PUBLIC_RATE)")
	burst, _ := strconv.Atoi(env("PARRAIN_PUBLIC_BURST", "60"))
	fs.IntVar(&c.PublicBurst, "public-burst", burst, "request burst per IP on public endpoints (PARRAIN_PUBLIC_BURST)")
	fs.StringVar(&c.LogFormat, "log", env("PARRAIN_LOG", "text"), "log format: text or json (PARRAIN_LOG)")
	trust, _ := strconv.ParseBool(env("PARRAIN_TRUST_PROXY", "false"))
	fs.BoolVar(&c.TrustProxy, "trust-proxy", trust, "trust X-Forwarded-For for client IPs, behind a reverse proxy (PARRAIN_TRUST_PROXY)")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 10*time.Second, "time to finish requests on shutdown")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
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
	return c, nil
}
