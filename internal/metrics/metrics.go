// Package metrics holds Parrain's Prometheus instruments: the counters and
// histograms that the wiring, the HTTP middleware, the job runner and the
// use cases increment, and the collectors that read gauges (queue depths,
// database pools) when /metrics is scraped.
//
// It imports only Prometheus and the standard library. The domain
// (internal/parrain) and the store never import it: instrumentation stays
// out of the rules and the SQL (internal/archtest).
//
// The instruments are process-wide, like the process's own Go metrics;
// NewRegistry gathers them with the collectors of one running server.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const ns = "parrain"

var (
	// HTTPRequests counts answered requests by route pattern (the
	// ServeMux pattern, "unmatched" for none), method and status code.
	HTTPRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"route", "method", "code"})
	// HTTPDuration observes request latency by route pattern and method.
	HTTPDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route", "method"})

	// Redirects counts referral link redirects (/r/{code}) by outcome:
	// valid (a known, active code), invalid (unknown or disabled code),
	// automated (a script or headless browser: recorded as evidence, not
	// counted), uncounted (HEAD, crawler or prefetch: no click recorded).
	Redirects = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "redirects_total",
		Help: "Referral link redirects, by outcome: valid, invalid, automated (scripts, headless browsers), uncounted (crawlers, prefetches, HEAD)."}, []string{"outcome"})
	// ClicksRecorded counts clicks written to the database, by validity.
	ClicksRecorded = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "clicks_recorded_total",
		Help: "Clicks written to the database, by validity (valid, invalid)."}, []string{"validity"})
	// ClicksDropped counts clicks lost: the buffer was full, or the
	// database refused them at shutdown.
	ClicksDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "clicks_dropped_total",
		Help: "Clicks lost, by reason: buffer_full (the database is slow or down), write_failed (still failing at shutdown)."}, []string{"reason"})

	// EventsIngested counts events received by the API, by type and
	// outcome (accepted, duplicate, replayed, invalid, error).
	EventsIngested = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_ingested_total",
		Help: "Events received, by type and outcome: accepted, duplicate, replayed (idempotent retry), invalid (4xx), error (5xx)."}, []string{"type", "outcome"})
	// RewardsCreated counts rewards created by ingested events, by the
	// status they were created in (pending, approved, …).
	RewardsCreated = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "rewards_created_total",
		Help: "Rewards created by ingested events, by initial status."}, []string{"status"})

	// JobRuns counts background job runs by kind and outcome (ok, failed,
	// snoozed).
	JobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "job_runs_total",
		Help: "Background job runs, by kind and outcome: ok, failed (retried with backoff), snoozed."}, []string{"kind", "outcome"})
	// JobDuration observes how long job handlers run, by kind.
	JobDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "job_duration_seconds",
		Help: "Time job handlers run, by kind.", Buckets: prometheus.ExponentialBuckets(0.005, 4, 8)}, []string{"kind"})
	// JobClaimErrors counts failed polls of the job queue (the database
	// was unreachable).
	JobClaimErrors = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "job_claim_errors_total",
		Help: "Failed polls of the job queue (database unreachable or failing)."})

	// Payouts counts payout send attempts by provider and outcome (sent,
	// failed, not_configured).
	Payouts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "payouts_total",
		Help: "Payout send attempts, by provider (stripe, paypal) and outcome: sent, failed, not_configured."}, []string{"provider", "outcome"})
	// WebhookDeliveries counts outgoing webhook attempts by outcome
	// (delivered, retrying, given_up).
	WebhookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "webhook_deliveries_total",
		Help: "Outgoing webhook delivery attempts, by outcome: delivered, retrying, given_up."}, []string{"outcome"})

	// DBUp is 1 while the background loops reach the database, 0 while
	// they back off.
	DBUp = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "database_up",
		Help: "1 while background work reaches the database, 0 while it backs off after failures."})
)

func init() { DBUp.Set(1) }

// instruments are registered in every registry NewRegistry builds.
var instruments = []prometheus.Collector{HTTPRequests, HTTPDuration, Redirects, ClicksRecorded, ClicksDropped,
	EventsIngested, RewardsCreated, JobRuns, JobDuration, JobClaimErrors, Payouts, WebhookDeliveries, DBUp}

// Build describes the running binary, exported as parrain_build_info.
type Build struct{ Version, Commit, GoVersion string }

// QueueStats is the job queue as a scrape sees it.
type QueueStats struct {
	ByState   map[string]int64 // jobs per state: available, running, done, failed
	Due       int64            // available jobs whose time has come
	OldestDue time.Duration    // how long the oldest due job has waited (0: none)
}

// Sources are what a scrape reads from one running server.
type Sources struct {
	Build Build
	// DBs are the connection pools by name ("write", "read").
	DBs map[string]*sql.DB
	// ClickQueue returns how many clicks wait in memory to be written.
	ClickQueue func() int
	// JobQueue reads the job queue; it is called with a short timeout.
	JobQueue func(ctx context.Context) (QueueStats, error)
}

// NewRegistry returns a registry with the process-wide instruments, the Go
// runtime and process collectors, and the collectors reading src.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(instruments...)
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "build_info",
		Help:        "The running binary: version, commit and Go version as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": src.Build.Version, "commit": src.Build.Commit, "goversion": src.Build.GoVersion}},
		func() float64 { return 1 }))
	for name, db := range src.DBs {
		reg.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
	if src.ClickQueue != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "click_queue_depth",
			Help: "Clicks waiting in memory to be written to the database."}, func() float64 { return float64(src.ClickQueue()) }))
	}
	if src.JobQueue != nil {
		reg.MustRegister(&queueCollector{read: src.JobQueue})
	}
	return reg
}

// Handler serves reg in the Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

var (
	queueDepthDesc = prometheus.NewDesc(ns+"_jobs", "Background jobs by state (available includes jobs scheduled for later).", []string{"state"}, nil)
	queueDueDesc   = prometheus.NewDesc(ns+"_jobs_due", "Available jobs whose run time has come (the backlog).", nil, nil)
	queueAgeDesc   = prometheus.NewDesc(ns+"_jobs_oldest_due_age_seconds", "How long the oldest due job has waited to run (0 when none is due).", nil, nil)
	queueErrDesc   = prometheus.NewDesc(ns+"_jobs_scrape_error", "1 when reading the job queue failed during this scrape.", nil, nil)
)

// queueCollector reads the job queue at scrape time.
type queueCollector struct {
	read func(context.Context) (QueueStats, error)
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- queueDueDesc
	ch <- queueAgeDesc
	ch <- queueErrDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	q, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueErrDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueErrDesc, prometheus.GaugeValue, 0)
	for _, s := range []string{"available", "running", "done", "failed"} {
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(q.ByState[s]), s)
	}
	ch <- prometheus.MustNewConstMetric(queueDueDesc, prometheus.GaugeValue, float64(q.Due))
	ch <- prometheus.MustNewConstMetric(queueAgeDesc, prometheus.GaugeValue, q.OldestDue.Seconds())
}

// ObserveHTTP records one answered request.
func ObserveHTTP(route, method string, status int, d time.Duration) {
	k := httpKey{route, method, status}
	o, ok := httpObservers.Load(k)
	if !ok {
		o, _ = httpObservers.LoadOrStore(k, httpObserver{
			count:    HTTPRequests.WithLabelValues(route, method, strconv.Itoa(status)),
			duration: HTTPDuration.WithLabelValues(route, method),
		})
	}
	h := o.(httpObserver)
	h.count.Inc()
	h.duration.Observe(d.Seconds())
}

// The HTTP instruments of each route, method and status seen, looked up
// once (hashing the label values was a tenth of a redirect's CPU). Routes
// are patterns and methods a closed set, so the map stays small.
var httpObservers sync.Map // httpKey → httpObserver

type httpKey struct {
	route, method string
	status        int
}

type httpObserver struct {
	count    prometheus.Counter
	duration prometheus.Observer
}
