package metrics

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// nopDriver lets a test hold a *sql.DB for the pool collector without a
// database: the stats collector never opens a connection.
type nopDriver struct{}

func (nopDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("no database in this test")
}

func init() { sql.Register("metrics-nop", nopDriver{}) }

// family is one metric family of a scrape in the text exposition format.
// (The test parses the text rather than the protobuf model so that it needs
// no module beyond what the package itself requires.)
type family struct {
	typ, help string
	samples   []sample
}

// sample is one line of a family: the series name (with any _bucket, _sum
// or _count suffix), its labels and its value.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape serves reg through Handler and parses the answer, failing the test
// on a gathering error (a duplicate or inconsistent metric answers 500).
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*family {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body)
	}
	fams := map[string]*family{}
	get := func(name string) *family {
		if fams[name] == nil {
			fams[name] = &family{}
		}
		return fams[name]
	}
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "# HELP "):
			name, help, _ := strings.Cut(strings.TrimPrefix(line, "# HELP "), " ")
			get(name).help = help
		case strings.HasPrefix(line, "# TYPE "):
			name, typ, _ := strings.Cut(strings.TrimPrefix(line, "# TYPE "), " ")
			if get(name).typ != "" {
				t.Fatalf("family %s typed twice", name)
			}
			get(name).typ = typ
		default:
			s, err := parseSample(line)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			base := s.name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(s.name, suffix); ok && fams[b] != nil && fams[b].typ == "histogram" {
					base = b
				}
			}
			get(base).samples = append(get(base).samples, s)
		}
	}
	return fams
}

// parseSample parses `name{a="x",b="y"} 1.5` or `name 1.5`.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return s, errors.New("no value")
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		return s, err
	}
	s.value = v
	head := line[:sp]
	name, rest, hasLabels := strings.Cut(head, "{")
	s.name = name
	if !hasLabels {
		return s, nil
	}
	rest = strings.TrimSuffix(rest, "}")
	for rest != "" {
		k, after, ok := strings.Cut(rest, "=\"")
		if !ok {
			return s, fmt.Errorf("bad labels %q", rest)
		}
		end := strings.IndexByte(after, '"')
		if end < 0 {
			return s, fmt.Errorf("unterminated label %q", k)
		}
		s.labels[k] = after[:end]
		rest = strings.TrimPrefix(after[end+1:], ",")
	}
	return s, nil
}

// gather scrapes a fresh registry over src.
func gather(t *testing.T, src Sources) map[string]*family {
	t.Helper()
	return scrape(t, NewRegistry(src))
}

// labelsOf returns the sorted label names of a sample, without the
// histogram's "le".
func labelsOf(s sample) []string {
	var out []string
	for k := range s.labels {
		if k != "le" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// find returns the value of the sample of a family named name whose
// labels equal want, and whether it exists.
func find(f *family, name string, want map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
	for _, s := range f.samples {
		if s.name == name && maps.Equal(s.labels, want) {
			return s.value, true
		}
	}
	return 0, false
}

// counter reads a counter's current value (0 when the series does not
// exist yet): the instruments are process-wide, so tests compare deltas.
func counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := find(gather(t, Sources{})[name], name, labels)
	return v
}

// TestInstrumentLabels pins every instrument's name, type and label set:
// dashboards and alerts are written against them.
func TestInstrumentLabels(t *testing.T) {
	// Touch one series of each vector so it appears in a scrape.
	HTTPRequests.WithLabelValues("GET /x", "GET", "200").Add(0)
	HTTPDuration.WithLabelValues("GET /x", "GET")
	Redirects.WithLabelValues("valid").Add(0)
	ClicksRecorded.WithLabelValues("valid").Add(0)
	ClicksDropped.WithLabelValues("buffer_full").Add(0)
	EventsIngested.WithLabelValues("signup", "accepted").Add(0)
	RewardsCreated.WithLabelValues("pending").Add(0)
	JobRuns.WithLabelValues("k", "ok").Add(0)
	JobDuration.WithLabelValues("k")
	Payouts.WithLabelValues("stripe", "sent").Add(0)
	WebhookDeliveries.WithLabelValues("delivered").Add(0)

	fams := gather(t, Sources{})
	tests := []struct {
		name   string
		typ    string
		labels []string
	}{
		{"parrain_http_requests_total", "counter", []string{"code", "method", "route"}},
		{"parrain_http_request_duration_seconds", "histogram", []string{"method", "route"}},
		{"parrain_redirects_total", "counter", []string{"outcome"}},
		{"parrain_clicks_recorded_total", "counter", []string{"validity"}},
		{"parrain_clicks_dropped_total", "counter", []string{"reason"}},
		{"parrain_events_ingested_total", "counter", []string{"outcome", "type"}},
		{"parrain_rewards_created_total", "counter", []string{"status"}},
		{"parrain_job_runs_total", "counter", []string{"kind", "outcome"}},
		{"parrain_job_duration_seconds", "histogram", []string{"kind"}},
		{"parrain_job_claim_errors_total", "counter", nil},
		{"parrain_payouts_total", "counter", []string{"outcome", "provider"}},
		{"parrain_webhook_deliveries_total", "counter", []string{"outcome"}},
		{"parrain_database_up", "gauge", nil},
		{"parrain_build_info", "gauge", []string{"commit", "goversion", "version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fams[tt.name]
			if f == nil || len(f.samples) == 0 {
				t.Fatalf("%s not gathered", tt.name)
			}
			if f.typ != tt.typ {
				t.Errorf("type = %q, want %q", f.typ, tt.typ)
			}
			if strings.TrimSpace(f.help) == "" {
				t.Error("no help text")
			}
			for _, s := range f.samples {
				if got := labelsOf(s); !slices.Equal(got, tt.labels) {
					t.Errorf("%s labels = %v, want %v", s.name, got, tt.labels)
				}
			}
		})
	}
	// Every family of ours is pinned above (or is a scrape-time gauge tested
	// below), so a new instrument must be added here with its labels.
	known := map[string]bool{}
	for _, tt := range tests {
		known[tt.name] = true
	}
	for name := range fams {
		if strings.HasPrefix(name, "parrain_") && !known[name] {
			t.Errorf("instrument %s is not pinned by this test", name)
		}
	}
	if n := len(instruments); n != len(tests)-1 {
		t.Errorf("%d instruments registered, the table pins %d (and build_info)", n, len(tests)-1)
	}
}

// TestRegistriesAreIndependent: the process-wide instruments go into every
// registry once; building a second registry (a second server in one test
// binary) must not panic on a duplicate registration.
func TestRegistriesAreIndependent(t *testing.T) {
	for range 3 {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("NewRegistry panicked: %v", r)
				}
			}()
			_ = gather(t, Sources{Build: Build{Version: "v1"}})
		}()
	}
	// Registering an instrument twice in one registry is refused, which is
	// what "registered once" protects against.
	reg := NewRegistry(Sources{})
	if err := reg.Register(HTTPRequests); err == nil {
		t.Error("registering HTTPRequests a second time in one registry succeeded")
	}
}

func TestObserveHTTP(t *testing.T) {
	route := "GET /test/observe/{id}"
	l404 := map[string]string{"route": route, "method": "GET", "code": "404"}
	before := counter(t, "parrain_http_requests_total", l404)
	ObserveHTTP(route, "GET", 404, 30*time.Millisecond)
	ObserveHTTP(route, "GET", 404, 2*time.Second)
	ObserveHTTP(route, "GET", 200, time.Millisecond)

	fams := gather(t, Sources{})
	req := fams["parrain_http_requests_total"]
	if got, _ := find(req, "parrain_http_requests_total", l404); got != before+2 {
		t.Errorf("404 requests = %v, want %v", got, before+2)
	}
	if got, ok := find(req, "parrain_http_requests_total", map[string]string{"route": route, "method": "GET", "code": "200"}); !ok || got != 1 {
		t.Errorf("200 requests = %v (present %v), want 1", got, ok)
	}
	h := fams["parrain_http_request_duration_seconds"]
	hl := map[string]string{"route": route, "method": "GET"}
	if n, _ := find(h, "parrain_http_request_duration_seconds_count", hl); n != 3 {
		t.Fatalf("duration samples = %v, want 3", n)
	}
	if sum, _ := find(h, "parrain_http_request_duration_seconds_sum", hl); sum < 2.030 || sum > 2.032 {
		t.Errorf("duration sum = %v, want 2.031 (seconds)", sum)
	}
	// The 2s request lands in the 2.5s bucket and not in the 1s one.
	for le, want := range map[string]float64{"0.001": 1, "0.025": 1, "0.05": 2, "1": 2, "2.5": 3, "+Inf": 3} {
		got, ok := find(h, "parrain_http_request_duration_seconds_bucket", map[string]string{"route": route, "method": "GET", "le": le})
		if !ok || got != want {
			t.Errorf("bucket le=%s = %v (present %v), want %v", le, got, ok, want)
		}
	}
}

func TestBuildInfoAndClickQueue(t *testing.T) {
	depth := 7
	src := Sources{
		Build:      Build{Version: "v1.2.3", Commit: "abc123", GoVersion: "go1.26"},
		ClickQueue: func() int { return depth },
	}
	reg := NewRegistry(src)
	fams := scrape(t, reg)
	if v, ok := find(fams["parrain_build_info"], "parrain_build_info", map[string]string{"version": "v1.2.3", "commit": "abc123", "goversion": "go1.26"}); !ok || v != 1 {
		t.Fatalf("build_info = %v (present %v), want 1 with the build's labels", v, ok)
	}
	if v, ok := find(fams["parrain_click_queue_depth"], "parrain_click_queue_depth", map[string]string{}); !ok || v != 7 {
		t.Errorf("click_queue_depth = %v (present %v), want 7", v, ok)
	}
	// The gauge reads the queue at scrape time, not at registration.
	depth = 2
	if v, _ := find(scrape(t, reg)["parrain_click_queue_depth"], "parrain_click_queue_depth", map[string]string{}); v != 2 {
		t.Errorf("click_queue_depth after the queue drained = %v, want 2", v)
	}
	// Without a click queue (the CLI) the gauge is absent rather than 0.
	empty := gather(t, Sources{})
	if f := empty["parrain_click_queue_depth"]; f != nil {
		t.Error("click_queue_depth gathered without a click queue")
	}
	if f := empty["parrain_jobs"]; f != nil {
		t.Error("job queue gauges gathered without a job queue")
	}
}

func TestJobQueueCollector(t *testing.T) {
	gauge := func(fams map[string]*family, name string, labels map[string]string) (float64, bool) {
		return find(fams[name], name, labels)
	}
	t.Run("read", func(t *testing.T) {
		var gotDeadline bool
		fams := gather(t, Sources{JobQueue: func(ctx context.Context) (QueueStats, error) {
			_, gotDeadline = ctx.Deadline()
			return QueueStats{ByState: map[string]int64{"available": 5, "running": 2, "failed": 1, "cancelled": 9}, Due: 3, OldestDue: 90 * time.Second}, nil
		}})
		if !gotDeadline {
			t.Error("the job queue was read without a timeout")
		}
		want := map[string]float64{"available": 5, "running": 2, "done": 0, "failed": 1}
		if f := fams["parrain_jobs"]; f == nil || len(f.samples) != len(want) {
			t.Fatalf("parrain_jobs = %+v, want one series per state of %v (no others)", f, want)
		}
		for state, v := range want {
			if got, ok := gauge(fams, "parrain_jobs", map[string]string{"state": state}); !ok || got != v {
				t.Errorf("jobs{state=%s} = %v (present %v), want %v", state, got, ok, v)
			}
		}
		for name, v := range map[string]float64{"parrain_jobs_due": 3, "parrain_jobs_oldest_due_age_seconds": 90, "parrain_jobs_scrape_error": 0} {
			if got, ok := gauge(fams, name, map[string]string{}); !ok || got != v {
				t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
			}
		}
	})
	t.Run("failing read", func(t *testing.T) {
		fams := gather(t, Sources{JobQueue: func(context.Context) (QueueStats, error) {
			return QueueStats{Due: 99}, errors.New("database is down")
		}})
		if got, ok := gauge(fams, "parrain_jobs_scrape_error", map[string]string{}); !ok || got != 1 {
			t.Errorf("jobs_scrape_error = %v (present %v), want 1", got, ok)
		}
		for _, name := range []string{"parrain_jobs", "parrain_jobs_due", "parrain_jobs_oldest_due_age_seconds"} {
			if f := fams[name]; f != nil && len(f.samples) > 0 {
				t.Errorf("%s reported from a failed read", name)
			}
		}
	})
}

func TestDBStatsAndCounters(t *testing.T) {
	db, err := sql.Open("metrics-nop", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(4)
	reg := NewRegistry(Sources{DBs: map[string]*sql.DB{"write": db, "read": db}})

	before := counter(t, "parrain_redirects_total", map[string]string{"outcome": "automated"})
	Redirects.WithLabelValues("automated").Inc()
	JobClaimErrors.Inc()
	fams := scrape(t, reg)
	for _, pool := range []string{"read", "write"} {
		if v, ok := find(fams["go_sql_max_open_connections"], "go_sql_max_open_connections", map[string]string{"db_name": pool}); !ok || v != 4 {
			t.Errorf("max open connections of %s = %v (present %v), want 4", pool, v, ok)
		}
	}
	if v, _ := find(fams["parrain_redirects_total"], "parrain_redirects_total", map[string]string{"outcome": "automated"}); v != before+1 {
		t.Errorf("redirects{automated} = %v, want %v", v, before+1)
	}
	if v, ok := find(fams["parrain_job_claim_errors_total"], "parrain_job_claim_errors_total", map[string]string{}); !ok || v < 1 {
		t.Errorf("job_claim_errors_total = %v (present %v), want ≥ 1", v, ok)
	}
}

func TestDBUpStartsUp(t *testing.T) {
	// The wiring sets it to 0 while backing off; nothing in this package
	// does, so the process starts believing the database is up.
	if v, ok := find(gather(t, Sources{})["parrain_database_up"], "parrain_database_up", map[string]string{}); !ok || v != 1 {
		t.Errorf("database_up = %v (present %v) at start, want 1", v, ok)
	}
}

func TestParseSample(t *testing.T) {
	for _, tt := range []struct {
		line string
		want sample
		bad  bool
	}{
		{line: "a 1", want: sample{name: "a", labels: map[string]string{}, value: 1}},
		{line: `a_bucket{route="GET /x",le="+Inf"} 3`, want: sample{name: "a_bucket", labels: map[string]string{"route": "GET /x", "le": "+Inf"}, value: 3}},
		{line: "a", bad: true},
		{line: "a x", bad: true},
		{line: `a{b="c} 1`, bad: true},
	} {
		got, err := parseSample(tt.line)
		if (err != nil) != tt.bad {
			t.Errorf("parseSample(%q) error = %v, want error %v", tt.line, err, tt.bad)
			continue
		}
		if !tt.bad && (got.name != tt.want.name || got.value != tt.want.value || !maps.Equal(got.labels, tt.want.labels)) {
			t.Errorf("parseSample(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
	}
}
