// Package app wires Parrain together: configuration, the store, the job
// runner, the HTTP routes and the command-line interface. It is the only
// package that knows every other one.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/api"
	"github.com/parrainhq/parrain/internal/console"
	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/portal"
	"github.com/parrainhq/parrain/internal/privacy"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/widget"
)

// Main is a running Parrain server. Tests build one with New and call Run,
// exactly as the binary does.
type Main struct {
	cfg      Config
	ips      httpx.IPResolver // client addresses, --trusted-proxies honoured once for every package
	log      *slog.Logger
	st       *store.Store
	api      *api.API
	clicks   *widget.ClickRecorder
	redirect *widget.Redirect
	runner   *jobs.Runner
	limiter  *limiter
	srv      *http.Server
	ln       net.Listener
	Routes   []Route
	// portal is the partner portal under /partners (issue 6).
	portal *portal.Portal
	// PortalRoutes lists the partner portal's routes (not in the OpenAPI
	// document).
	PortalRoutes []Route

	// console is the admin console under /admin; AdminRoutes lists its
	// routes (they are not part of the API's OpenAPI document).
	console     *console.Console
	access      *access.Service
	AdminRoutes []Route
	// notify composes and sends notices; widgets serves the snippet, the
	// widget, the landing page and the unsubscribe page.
	notify  *notify.Service
	mailer  *smtp.Mailer // nil without SMTP
	widgets *widget.Service
	// payouts, crm and hooks: payouts, CRM sync, provider webhooks and
	// webhook endpoints (integrations.go).
	payouts *payout.Service
	// partners runs the partner program's use cases (internal/partner).
	partners *partner.Service
	// programs runs the use cases of programs and their terms
	// (internal/program).
	programs *program.Service
	// ref runs the referral loop's use cases (internal/referral).
	ref   *referral.Service
	crm   *crm.Syncer
	hooks *api.Integrations
	// webhooks runs the outgoing webhook endpoints' use cases
	// (internal/outbound).
	webhooks *outbound.Service
	// privacy runs the personal-data use cases (internal/privacy).
	privacy *privacy.Service
	// obs holds the metrics registry, readiness and the metrics listener
	// (observe.go).
	obs observer
}

// New opens the database, runs migrations, seeds the demo if asked, and
// prepares the server without starting it.
func New(ctx context.Context, cfg Config, log *slog.Logger, clock parrain.Clock) (*Main, error) {
	st, err := openStore(ctx, cfg.DatabaseURL, cfg.SecretKeys, store.Options{Clock: clock, IdempotencyTTL: cfg.IdempotencyTTL}, log)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: log, st: st, ips: httpx.IPResolver{Trusted: cfg.TrustedProxies, TrustProxy: cfg.TrustProxy}, ref: referral.New(st)}
	m.partners = partner.New(st, st.Clock(), m.ref)
	m.programs = program.New(st)
	pcfg := payoutConfig(cfg.Integrations)
	if cfg.PayoutCoolingOff != nil {
		pcfg.CoolingOff = *cfg.PayoutCoolingOff
		if pcfg.CoolingOff == 0 {
			pcfg.CoolingOff = -1 // payout.Config: negative is none
		}
	}
	m.payouts = payout.New(st, log, pcfg)
	m.webhooks = outbound.NewService(st)
	if cfg.Demo {
		if err := SeedDemo(ctx, st, m.ref, log); err != nil {
			st.Close()
			return nil, fmt.Errorf("seeding demo: %w", err)
		}
	}
	m.clicks = widget.NewClickRecorder(st, log, 65536, 200*time.Millisecond, 500)
	m.ref.SetClickSync(m.clicks.Sync) // a signup right after its click is scored with it
	m.redirect = widget.NewRedirect(st, log, m.clicks, cfg.FallbackURL, cfg.CookieDomain, strings.HasPrefix(cfg.BaseURL, "https://"), m.ips)
	m.runner = jobs.NewRunner(st, log)
	m.runner.Interval = cfg.JobInterval
	if cfg.JobLease > 0 {
		m.runner.Lease = cfg.JobLease
	}
	// Each service registers its own job kinds: the runner knows no feature.
	m.partners.RegisterJobs(m.runner)
	m.wirePrivacy()
	if err := m.wireExperience(); err != nil {
		st.Close()
		return nil, err
	}
	// Access comes after the experience (its magic links need the mailer),
	// the API after access (it authenticates the keys) and before the
	// integrations (their inbound webhooks are served by the API).
	acfg := access.Config{}
	if m.mailer != nil {
		acfg.Mailer = m.mailer // the portal's magic links by email
	}
	m.access = access.New(st, log, acfg)
	m.api = api.New(st, m.ref, m.partners, m.programs, m.payouts, m.access, log, cfg.BaseURL)
	if cfg.APIRateLimit > 0 {
		m.api.LimitKeys(cfg.APIRateLimit)
	}
	if err := m.wireIntegrations(); err != nil {
		st.Close()
		return nil, err
	}
	m.limiter = newLimiter(cfg.PublicRate, cfg.PublicBurst, m.ips, log)
	if m.console, err = console.New(st, log, console.Options{Referral: m.ref, BaseURL: cfg.BaseURL, IPs: m.ips, Partners: m.partners,
		Programs: m.programs, Payouts: m.payouts, Reports: report.New(st), Webhooks: m.webhooks, Access: m.access, Privacy: m.privacy}); err != nil {
		st.Close()
		return nil, fmt.Errorf("preparing the console: %w", err)
	}
	popt := portal.Options{BaseURL: cfg.BaseURL, Partners: m.partners, Programs: m.programs, Payouts: m.payouts, Access: m.access, IPs: m.ips}
	if m.portal, err = portal.New(st, log, popt); err != nil {
		st.Close()
		return nil, fmt.Errorf("preparing the partner portal: %w", err)
	}
	m.initObserver()
	mux, routes := m.routes()
	m.Routes = routes
	m.srv = &http.Server{
		Handler:           withBasics(log, strings.HasPrefix(cfg.BaseURL, "https://"), m.observe(mux, m.jsonMisses(mux))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return m, nil
}

// Store returns the store, for tests and CLI commands.
func (m *Main) Store() *store.Store { return m.st }

// Partners returns the partner program's use cases, for tests.
func (m *Main) Partners() *partner.Service { return m.partners }

// Handler returns the HTTP handler, for in-process tests and benchmarks.
func (m *Main) Handler() http.Handler { return m.srv.Handler }

// Addr returns the listening address once Run has started listening.
func (m *Main) Addr() string {
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Listen opens the listening socket (so tests can learn the port before
// serving).
func (m *Main) Listen() error {
	ln, err := net.Listen("tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", m.cfg.Addr, err)
	}
	if err := m.listenMetrics(); err != nil {
		ln.Close()
		return err
	}
	m.ln = ln
	return nil
}

// Run serves HTTP and runs background jobs until ctx is cancelled, then
// shuts down gracefully: in-flight requests finish, buffered clicks are
// written.
func (m *Main) Run(ctx context.Context) error {
	if m.ln == nil {
		if err := m.Listen(); err != nil {
			return err
		}
	}
	if err := m.notify.EnsureSchedules(ctx); err != nil {
		m.log.Error("scheduling notification sweeps", "err", err)
	}
	if err := m.privacy.EnsureSchedules(ctx); err != nil {
		m.log.Error("scheduling the retention job", "err", err)
	}
	jctx, stopJobs := context.WithCancel(context.Background())
	jdone := make(chan struct{})
	go func() {
		defer close(jdone)
		m.runner.Run(jctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- m.srv.Serve(m.ln) }()
	go m.serveMetrics()
	b := Build()
	m.log.Info("parrain listening", "addr", m.ln.Addr().String(), "base_url", m.cfg.BaseURL, "database", m.st.Dialect(),
		"version", b.Version, "commit", b.Commit, "metrics", m.metricsWhere(), "access_log", m.cfg.Observe.AccessLog)
	if m.cfg.Demo {
		m.logDemoAccess(ctx)
	}
	var err error
	select {
	case <-ctx.Done():
		m.log.Info("shutting down: finishing requests in flight, then stopping jobs", "grace", m.cfg.ShutdownGrace)
	case err = <-errc:
		m.log.Error("HTTP server stopped; shutting down", "err", err)
	}
	m.obs.draining.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), m.cfg.ShutdownGrace)
	defer cancel()
	if serr := m.srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		m.log.Warn("requests still running after the shutdown grace were cut", "err", serr)
		err = errors.Join(err, serr)
	}
	if m.obs.msrv != nil {
		_ = m.obs.msrv.Shutdown(sctx)
	}
	stopJobs()
	<-jdone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close flushes clicks and closes the database. Closing again does
// nothing.
func (m *Main) Close() error {
	m.obs.closeOnce.Do(func() {
		m.clicks.Close()
		m.obs.closeErr = m.st.Close()
		m.log.Info("parrain stopped", "clicks_dropped", m.clicks.Dropped.Load())
	})
	return m.obs.closeErr
}

// wireExperience prepares what advocates and friends see: emails through
// SMTP (when configured), the notification jobs, the widget, the landing
// page behind /r/{code} and the unsubscribe page.
func (m *Main) wireExperience() error {
	var sender notify.Sender // stays a nil interface without SMTP
	var from *mail.Address
	if m.cfg.SMTP.Host != "" {
		mailer, err := smtp.New(m.cfg.SMTP)
		if err != nil {
			return err
		}
		sender, from, m.mailer = mailer, mailer.From(), mailer
	} else {
		m.log.Info("no SMTP server configured (--smtp-host): emails are recorded as skipped, in-app notifications work")
	}
	m.notify = notify.New(m.st, m.log, sender, from, m.cfg.BaseURL)
	m.notify.RegisterJobs(m.runner)
	m.widgets = widget.NewService(m.st, m.ref, m.payouts, m.log, m.cfg.BaseURL, m.ips)
	m.redirect.Landing = m.widgets.Landing()
	return nil
}
