package app

import (
	"bufio"
	"context"
	"io"

	"github.com/parrainhq/parrain/internal/access"

	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

// logBuffer collects a server's log lines, written from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// lines returns the log lines whose message is msg.
func (l *logBuffer) lines(msg string) []string {
	var out []string
	for _, ln := range strings.Split(l.String(), "\n") {
		if strings.Contains(ln, "msg=\""+msg+"\"") || strings.Contains(ln, "msg="+msg+" ") {
			out = append(out, ln)
		}
	}
	return out
}

// observed is a real Main whose log is kept, served by httptest (requests
// come from loopback).
type observed struct {
	*harness
	logs *logBuffer
}

func newObserved(t *testing.T, cfg Config) *observed {
	t.Helper()
	logs := &logBuffer{}
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	m, err := New(context.Background(), cfg, newLogger("text", logs), clock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(func() { srv.Close(); m.Close() })
	key, _, err := access.New(m.Store(), nil, access.Config{}).CreateAPIKey(context.Background(), "test", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return &observed{harness: &harness{t: t, m: m, srv: srv, key: key, clock: clock}, logs: logs}
}

// scrape returns /metrics as name{labels} → value.
func scrape(t *testing.T, url string, header http.Header) map[string]float64 {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		ln := sc.Text()
		if ln == "" || ln[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(ln, ' ')
		v, err := strconv.ParseFloat(ln[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", ln, err)
		}
		out[ln[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMetricsCountTheReferralLoop(t *testing.T) {
	o := newObserved(t, testConfig(dbtest.URL(t, "sqlite")))
	before := scrape(t, o.srv.URL+"/metrics", nil)
	p := o.program()
	var adv struct {
		Code string `json:"code"`
	}
	o.do("PUT", "/api/v1/programs/"+p.ID+"/participants/adv_1", o.key, "", map[string]any{"email": "adv@example.com"}, &adv)
	for i, ev := range []map[string]any{
		{"type": "signup", "external_id": "fr_1", "referral_code": adv.Code},
		{"type": "purchase", "external_id": "fr_1", "order_id": "o1", "amount": 5000, "currency": "EUR"},
		{"type": "purchase", "external_id": "fr_1", "order_id": "o1", "amount": 5000, "currency": "EUR"}, // duplicate order
		{"type": "bogus"},
	} {
		o.do("POST", "/api/v1/programs/"+p.ID+"/events", o.key, "ev-"+strconv.Itoa(i), ev, nil)
	}
	o.do("POST", "/api/v1/programs/"+p.ID+"/events", o.key, "ev-0", map[string]any{"type": "signup", "external_id": "fr_1", "referral_code": adv.Code}, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, code := range []string{adv.Code, "NOPE234"} {
		req, _ := http.NewRequest("GET", o.srv.URL+"/r/"+code, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// The click writer flushes every 200 ms: wait for both clicks.
	var after map[string]float64
	delta := func(k string) float64 { return after[k] - before[k] }
	for deadline := time.Now().Add(5 * time.Second); ; {
		after = scrape(t, o.srv.URL+"/metrics", nil)
		if delta(`parrain_clicks_recorded_total{validity="valid"}`)+delta(`parrain_clicks_recorded_total{validity="invalid"}`) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for k, want := range map[string]float64{
		`parrain_http_requests_total{code="201",method="POST",route="/api/v1/programs"}`:                                        1,
		`parrain_http_requests_total{code="201",method="PUT",route="/api/v1/programs/{program_id}/participants/{external_id}"}`: 1,
		`parrain_events_ingested_total{outcome="accepted",type="signup"}`:                                                       1,
		`parrain_events_ingested_total{outcome="accepted",type="purchase"}`:                                                     1,
		`parrain_events_ingested_total{outcome="duplicate",type="purchase"}`:                                                    1,
		`parrain_events_ingested_total{outcome="invalid",type="unknown"}`:                                                       1,
		`parrain_events_ingested_total{outcome="replayed",type="signup"}`:                                                       1,
		`parrain_redirects_total{outcome="valid"}`:                                                                              1,
		`parrain_redirects_total{outcome="invalid"}`:                                                                            1,
		`parrain_clicks_recorded_total{validity="valid"}`:                                                                       1,
		`parrain_clicks_recorded_total{validity="invalid"}`:                                                                     1,
	} {
		if got := delta(k); got != want {
			t.Errorf("%s rose by %v, want %v", k, got, want)
		}
	}
	rewards := 0.0
	for k := range after {
		if strings.HasPrefix(k, "parrain_rewards_created_total{") {
			rewards += delta(k)
		}
	}
	if rewards != 1 {
		t.Errorf("rewards created rose by %v, want 1 (the advocate's)", rewards)
	}
	for _, k := range []string{`parrain_jobs_due`, `parrain_jobs_oldest_due_age_seconds`, `parrain_jobs{state="available"}`,
		`parrain_jobs_scrape_error`, `go_sql_open_connections{db_name="write"}`, `go_sql_open_connections{db_name="read"}`, `parrain_database_up`} {
		if _, ok := after[k]; !ok {
			t.Errorf("no %s in /metrics", k)
		}
	}
	if after[`parrain_jobs_scrape_error`] != 0 {
		t.Error("reading the job queue failed during the scrape")
	}
	found := false
	for k, v := range after {
		if strings.HasPrefix(k, "parrain_build_info{") && strings.Contains(k, `goversion="go`) && v == 1 {
			found = true
		}
	}
	if !found {
		t.Error("no parrain_build_info with a Go version")
	}
}

func TestMetricsGuard(t *testing.T) {
	o := newObserved(t, testConfig(dbtest.URL(t, "sqlite")))
	get := func(base string, h map[string]string) int {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// Default: loopback only, and not through a reverse proxy.
	if c := get(o.srv.URL, nil); c != 200 {
		t.Errorf("direct loopback scrape: %d", c)
	}
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip"} {
		if c := get(o.srv.URL, map[string]string{h: "203.0.113.9"}); c != 403 {
			t.Errorf("scrape forwarded with %s: %d, want 403", h, c)
		}
	}
	// With a token: the bearer opens it, also through a proxy; nothing else.
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Observe.MetricsToken = "s3cret-scrape"
	tok := newObserved(t, cfg)
	if c := get(tok.srv.URL, map[string]string{"Authorization": "Bearer s3cret-scrape", "X-Forwarded-For": "203.0.113.9"}); c != 200 {
		t.Errorf("scrape with the token: %d", c)
	}
	for _, a := range []string{"", "Bearer wrong", "s3cret-scrape"} {
		if c := get(tok.srv.URL, map[string]string{"Authorization": a}); c != 403 {
			t.Errorf("scrape with Authorization %q: %d, want 403", a, c)
		}
	}
	// On a separate address: not on the main listener.
	cfg = testConfig(dbtest.URL(t, "sqlite"))
	cfg.Observe.MetricsAddr = "127.0.0.1:0"
	sep := newObserved(t, cfg)
	if err := sep.m.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sep.m.Run(ctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if c := get(sep.srv.URL, nil); c != 404 {
		t.Errorf("main listener /metrics with --metrics-addr: %d, want 404", c)
	}
	if m := scrape(t, "http://"+sep.m.MetricsAddr()+"/metrics", nil); len(m) == 0 {
		t.Error("nothing on the metrics listener")
	}
}

func TestAccessLogReadinessAndRoot(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Observe.AccessLog = true
	o := newObserved(t, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", o.srv.URL+path, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 Firefox/140.0")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res
	}
	if res := get("/"); res.StatusCode != 302 || res.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /: %d → %q, want 302 → /admin/", res.StatusCode, res.Header.Get("Location"))
	}
	if res := get("/readyz"); res.StatusCode != 200 {
		t.Errorf("readyz: %d", res.StatusCode)
	}
	res := get("/r/SECRET7")
	id := res.Header.Get("X-Request-Id")
	lines := o.logs.lines("http request")
	var line string
	for _, l := range lines {
		if strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	for _, want := range []string{"method=GET", "route=/r/{code}", "status=302", "bytes=", "duration=", "remote=127.0.0.1", "request_id=" + id} {
		if !strings.Contains(line, want) {
			t.Errorf("access log line %q lacks %q (all: %q)", line, want, lines)
		}
	}
	if strings.Contains(o.logs.String(), "SECRET7") {
		t.Error("the access log carries the path's code; it must log the route pattern only")
	}
	if len(lines) != 3 {
		t.Errorf("%d access log lines for 3 requests: %q", len(lines), lines)
	}
	// Unknown paths are counted under one label, not their own.
	get("/no/such/page")
	if l := o.logs.lines("http request"); !strings.Contains(l[len(l)-1], "route=unmatched status=404") {
		t.Errorf("unmatched request logged as %q", l[len(l)-1])
	}
	// Once shutdown begins, readiness fails so that load balancers drain.
	o.m.obs.draining.Store(true)
	if res := get("/readyz"); res.StatusCode != 503 {
		t.Errorf("readyz while draining: %d, want 503", res.StatusCode)
	}
	// Off: no access log.
	cfg = testConfig(dbtest.URL(t, "sqlite"))
	quiet := newObserved(t, cfg)
	if res, err := http.Get(quiet.srv.URL + "/healthz"); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	if l := quiet.logs.lines("http request"); len(l) != 0 {
		t.Errorf("access log with --access-log=false: %q", l)
	}
}

// TestStartShutdownAndDemoLines runs the demo server as the binary does
// and reads what its log tells a newcomer: where it listens, where the
// console and the partner portal are and with which partner email to sign
// in — which then works — and that it shut down.
// A client's X-Request-Id is kept as the request's id when well formed
// (echoed and logged, so both sides can find one request), replaced
// otherwise.
func TestClientRequestID(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Observe.AccessLog = true
	o := newObserved(t, cfg)
	for _, c := range []struct{ name, sent string }{
		{"well formed", "req-42.abc:XYZ_1"},
		{"with a space", "req 42"},
		{"too long", strings.Repeat("a", 129)},
		{"absent", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", o.srv.URL+"/healthz", nil)
			if c.sent != "" {
				req.Header.Set("X-Request-Id", c.sent)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := res.Header.Get("X-Request-Id")
			keep := c.name == "well formed"
			if keep && got != c.sent || !keep && (got == "" || got == c.sent || !wellFormedRequestID(got)) {
				t.Fatalf("sent %q, answered %q", c.sent, got)
			}
			found := false
			for _, l := range o.logs.lines("http request") {
				found = found || strings.Contains(l, "request_id="+got)
			}
			if !found {
				t.Errorf("no access log line with request_id=%s", got)
			}
		})
	}
}

func TestStartShutdownAndDemoLines(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "sqlite"))
	cfg.Demo = true
	o := newObserved(t, cfg)
	if err := o.m.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.m.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); len(o.logs.lines("demo partner portal")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no demo lines:\n%s", o.logs.String())
		}
	}
	if l := o.logs.lines("parrain listening"); len(l) != 1 || !strings.Contains(l[0], "version=") || !strings.Contains(l[0], "metrics=") {
		t.Errorf("start line: %q", l)
	}
	if l := o.logs.lines("demo console"); len(l) != 1 || !strings.Contains(l[0], "url=http://parrain.test/admin/") || !strings.Contains(l[0], "/admin/setup") {
		t.Errorf("console line: %q", l)
	}
	portal := o.logs.lines("demo partner portal")[0]
	if !strings.Contains(portal, "url=http://parrain.test/partners/acme-partners/login") || !strings.Contains(portal, "partner_email=contact@noraconsulting.example") {
		t.Errorf("portal line: %q", portal)
	}
	// The partner email from the log gets a sign-in link, printed in the log.
	res, err := http.PostForm("http://"+o.m.Addr()+"/partners/acme-partners/magic", url.Values{"email": {"contact@noraconsulting.example"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if l := o.logs.lines("partner sign-in link (no mailer configured)"); res.StatusCode != 200 || len(l) != 1 {
		t.Errorf("magic link for the logged partner email: %d, lines %q", res.StatusCode, l)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := o.logs.lines("shutting down: finishing requests in flight, then stopping jobs"); len(l) != 1 {
		t.Errorf("shutdown line: %q", l)
	}
	o.m.Close()
	if l := o.logs.lines("parrain stopped"); len(l) != 1 {
		t.Errorf("stopped line: %q\n%s", l, o.logs.String())
	}
}
