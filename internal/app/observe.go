package app

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parrainhq/parrain/internal/metrics"
)

// ObserveConfig says how the server is watched: Prometheus metrics, the
// access log.
type ObserveConfig struct {
	// MetricsAddr, when set, serves /metrics on its own listener (e.g.
	// 127.0.0.1:9090 or a private interface) and not on the main one.
	MetricsAddr string
	// MetricsToken, when set and MetricsAddr is not, lets /metrics on the
	// main listener answer requests carrying "Authorization: Bearer TOKEN"
	// from anywhere. Without either, /metrics on the main listener answers
	// only direct loopback requests (no X-Forwarded-For or Forwarded
	// header, which a reverse proxy adds).
	MetricsToken string
	// AccessLog logs one line per request (default on).
	AccessLog bool
}

func observeFlags(fs *flag.FlagSet, ev *envParser, c *ObserveConfig) {
	fs.StringVar(&c.MetricsAddr, "metrics-addr", env("PARRAIN_METRICS_ADDR", ""), "serve Prometheus /metrics on this separate address, e.g. 127.0.0.1:9090 (PARRAIN_METRICS_ADDR; default: on the main listener, loopback only or with --metrics-token)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("PARRAIN_METRICS_TOKEN", ""), "bearer token that opens /metrics on the main listener to remote scrapers (PARRAIN_METRICS_TOKEN)")
	accessLog := ev.Bool("PARRAIN_ACCESS_LOG", true)
	fs.BoolVar(&c.AccessLog, "access-log", accessLog, "log one line per HTTP request: method, route pattern, status, bytes, duration, request id, client address (PARRAIN_ACCESS_LOG)")
}

// observer is the running server's observability state.
type observer struct {
	metrics  http.Handler // the Prometheus registry of this server
	draining atomic.Bool  // shutdown has begun: /readyz answers 503
	mln      net.Listener // --metrics-addr listener
	msrv     *http.Server
	// closeOnce makes Main.Close idempotent; closeErr is its result.
	closeOnce sync.Once
	closeErr  error
}

// initObserver builds the metrics registry of this server: the
// process-wide instruments and what a scrape reads from this server (its
// database pools, the click buffer, the job queue).
func (m *Main) initObserver() {
	dbs := map[string]*sql.DB{"write": m.st.DB()}
	if r := m.st.ReadDB(); r != m.st.DB() {
		dbs["read"] = r
	}
	reg := metrics.NewRegistry(metrics.Sources{
		Build:      Build(),
		DBs:        dbs,
		ClickQueue: m.clicks.Queued,
		JobQueue: func(ctx context.Context) (metrics.QueueStats, error) {
			byState, err := m.st.JobCounts(ctx)
			if err != nil {
				return metrics.QueueStats{}, err
			}
			due, oldest, err := m.st.DueJobs(ctx)
			if err != nil {
				return metrics.QueueStats{}, err
			}
			q := metrics.QueueStats{ByState: byState, Due: due}
			if !oldest.IsZero() {
				q.OldestDue = max(0, m.st.Clock().Now().Sub(oldest))
			}
			return q, nil
		},
	})
	m.obs.metrics = metrics.Handler(reg)
}

// opsRoutes registers what operators and load balancers call: readiness,
// metrics (when not on their own listener) and / leading to the console.
// They are not part of the API's OpenAPI document.
func (m *Main) opsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /readyz", m.ready)
	if m.cfg.Observe.MetricsAddr == "" {
		mux.Handle("GET /metrics", m.guardMetrics(m.obs.metrics))
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/admin/", http.StatusFound))
}

// ready answers 200 when the database answers and the server is not
// shutting down, 503 otherwise: load balancers stop sending traffic before
// the listener closes.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if m.obs.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("shutting down\n"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := m.st.DB().PingContext(ctx); err != nil {
		m.log.WarnContext(r.Context(), "readiness: database unavailable", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// guardMetrics admits a scrape on the main listener with the bearer token
// (--metrics-token), or without one from loopback when no proxy forwarded
// the request.
func (m *Main) guardMetrics(h http.Handler) http.Handler {
	token := m.cfg.Observe.MetricsToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
				h.ServeHTTP(w, r)
				return
			}
		} else if directLoopback(r) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("metrics: scrape from loopback, set --metrics-token and send it as a bearer token, or serve them on --metrics-addr (docs/operations.md)\n"))
	})
}

// directLoopback reports whether r comes from this machine without a
// reverse proxy in between (a proxy on the same machine is loopback too,
// but adds a forwarding header).
func directLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenMetrics opens the --metrics-addr listener, if one is configured.
func (m *Main) listenMetrics() error {
	addr := m.cfg.Observe.MetricsAddr
	if addr == "" || m.obs.mln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.obs.metrics)
	m.obs.mln = ln
	m.obs.msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)}
	return nil
}

// MetricsAddr returns the --metrics-addr listener's address ("" without
// one), once Listen has run.
func (m *Main) MetricsAddr() string {
	if m.obs.mln == nil {
		return ""
	}
	return m.obs.mln.Addr().String()
}

// serveMetrics serves the metrics listener until it is shut down.
func (m *Main) serveMetrics() {
	if m.obs.msrv == nil {
		return
	}
	if err := m.obs.msrv.Serve(m.obs.mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		m.log.Error("metrics listener stopped", "err", err)
	}
}

// observeWriter records what a handler answered: status and body bytes.
type observeWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *observeWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

func (w *observeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushes,
// deadlines).
func (w *observeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe counts every request by route pattern and status in the metrics
// and, with the access log on, logs it. The path itself is not logged:
// referral codes, unsubscribe and magic-link tokens travel in paths, the
// pattern says which route answered without them.
func (m *Main) observe(mux *http.ServeMux, next http.Handler) http.Handler {
	accessLog := m.cfg.Observe.AccessLog
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ow := &observeWriter{ResponseWriter: w}
		start := time.Now()
		panicked := true
		defer func() {
			d := time.Since(start)
			status := ow.status
			if status == 0 {
				status = http.StatusOK // nothing written: net/http answers 200
				if panicked {
					status = http.StatusInternalServerError
				}
			}
			route := r.Pattern // set by the mux on this request when nothing in between copied it
			if route == "" {
				_, route = mux.Handler(r)
			}
			if i := strings.IndexByte(route, ' '); i >= 0 {
				route = route[i+1:] // the method is a label of its own
			}
			if route == "" {
				route = "unmatched"
			}
			metrics.ObserveHTTP(route, methodLabel(r.Method), status, d)
			if accessLog {
				m.log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
					slog.String("method", r.Method), slog.String("route", route), slog.Int("status", status),
					slog.Int64("bytes", ow.bytes), slog.Duration("duration", d), slog.String("remote", m.ips.ClientIP(r)))
			}
		}()
		next.ServeHTTP(ow, r)
		panicked = false
	})
}

// methodLabel keeps the method label set closed: clients may send any
// method name.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// metricsWhere says in the start line where /metrics is served.
func (m *Main) metricsWhere() string {
	switch {
	case m.obs.mln != nil:
		return "http://" + m.obs.mln.Addr().String() + "/metrics"
	case m.cfg.Observe.MetricsToken != "":
		return "/metrics with the bearer token"
	}
	return "/metrics from loopback only"
}
