// Command parrain-load is a small, bounded load generator for a Parrain
// server running on this machine. It measures the referral redirect or
// event ingestion over HTTP, and a bare in-process redirect server as the
// baseline to compare them with (scripts/load.sh runs all three).
//
//	parrain-load -mode baseline
//	parrain-load -mode redirect -url http://127.0.0.1:8080 -code ABCDEFG
//	parrain-load -mode events -url http://127.0.0.1:8080 -key prn_… -program prog_… -code ABCDEFG
//
// It only ever connects to loopback addresses: a target that is not
// 127.0.0.0/8, ::1 or localhost is refused, and every connection is checked
// again when it is dialled. Redirects are measured, never followed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	maxDuration    = 60 * time.Second
	maxConcurrency = 256
	browserUA      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
)

type options struct {
	url         string
	key         string
	program     string
	code        string
	mode        string
	duration    time.Duration
	concurrency int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parrain-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of a running parrain (loopback only)")
	fs.StringVar(&o.key, "key", "", "API key (events mode)")
	fs.StringVar(&o.program, "program", "", "program id (events mode)")
	fs.StringVar(&o.code, "code", "", "an advocate's referral code (redirect and events modes)")
	fs.StringVar(&o.mode, "mode", "redirect", "what to load: redirect (GET /r/{code}), events (POST signup events) or baseline (a bare in-process 302 server)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send requests (at most 1m)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "concurrent clients (at most 256)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parrain-load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(stderr, "parrain-load: %v\n", err)
		return 2
	}
	res, err := load(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "parrain-load: %v\n", err)
		return 1
	}
	res.print(stdout)
	if res.ok == 0 {
		fmt.Fprintln(stderr, "parrain-load: no request succeeded")
		return 1
	}
	return 0
}

func (o *options) check() error {
	if o.duration <= 0 || o.duration > maxDuration {
		return fmt.Errorf("-duration must be more than 0 and at most %s", maxDuration)
	}
	if o.concurrency < 1 || o.concurrency > maxConcurrency {
		return fmt.Errorf("-concurrency must be between 1 and %d", maxConcurrency)
	}
	switch o.mode {
	case "baseline":
		return nil // its own server; -url is not used
	case "redirect":
		if o.code == "" {
			return errors.New("-mode redirect needs -code")
		}
	case "events":
		if o.key == "" || o.program == "" || o.code == "" {
			return errors.New("-mode events needs -key, -program and -code")
		}
	default:
		return fmt.Errorf("unknown -mode %q: want redirect, events or baseline", o.mode)
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-url %q is not an http(s) URL", o.url)
	}
	if !loopbackHost(u.Hostname()) {
		return fmt.Errorf("refusing target %q: only loopback hosts (127.0.0.0/8, ::1, localhost) may be loaded", u.Hostname())
	}
	o.url = strings.TrimRight(u.String(), "/")
	return nil
}

// loopbackHost reports whether host names this machine's loopback
// interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly is a dialer hook that refuses any connection whose resolved
// address is not loopback, whatever the URL said ("localhost" remapped in
// /etc/hosts included).
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("refusing to connect to %s: not a loopback address", address)
	}
	return nil
}

// request builds the i-th request of worker w.
type request func(ctx context.Context, w, i int) (*http.Request, error)

type result struct {
	mode        string
	target      string
	concurrency int
	elapsed     time.Duration
	ok, errs    int
	statuses    map[int]int
	firstErr    string
	lat         []time.Duration // successful requests only, sorted
}

func load(o options, stdout io.Writer) (*result, error) {
	base := o.url
	if o.mode == "baseline" {
		stop, addr, err := startBaseline()
		if err != nil {
			return nil, err
		}
		defer stop()
		base = "http://" + addr
		o.code = "BASELINE"
	}
	var next request
	var want int
	var target string
	switch o.mode {
	case "baseline", "redirect":
		target = base + "/r/" + url.PathEscape(o.code)
		want = http.StatusFound
		next = func(ctx context.Context, _, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err == nil {
				req.Header.Set("User-Agent", browserUA) // a browser, so the click is recorded
			}
			return req, err
		}
	case "events":
		target = base + "/api/v1/programs/" + url.PathEscape(o.program) + "/events"
		want = http.StatusCreated
		run := make([]byte, 4)
		_, _ = rand.Read(run)
		runID := hex.EncodeToString(run) // unique friends and keys across runs
		cj, _ := json.Marshal(o.code)
		codeJSON := string(cj)
		next = func(ctx context.Context, w, i int) (*http.Request, error) {
			id := "load_" + runID + "_" + strconv.Itoa(w) + "_" + strconv.Itoa(i)
			body := `{"type":"signup","external_id":"` + id + `","email":"` + id + `@mail.example","referral_code":` + codeJSON + `}`
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+o.key)
				req.Header.Set("Idempotency-Key", id)
			}
			return req, err
		}
	}

	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, Control: loopbackOnly}).DialContext,
		MaxIdleConns:        o.concurrency,
		MaxIdleConnsPerHost: o.concurrency,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	fmt.Fprintf(stdout, "loading %s (%s) for %s with %d clients…\n", target, o.mode, o.duration, o.concurrency)

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	type worker struct {
		ok, errs int
		statuses map[int]int
		firstErr string
		lat      []time.Duration
	}
	ws := make([]worker, o.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := &ws[w]
			me.statuses = map[int]int{}
			fail := func(msg string) {
				me.errs++
				if me.firstErr == "" {
					me.firstErr = msg
				}
			}
			for i := 0; ctx.Err() == nil; i++ {
				req, err := next(ctx, w, i)
				if err != nil {
					fail(err.Error())
					return
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return // cut by the end of the run: not an error
					}
					fail(err.Error())
					time.Sleep(10 * time.Millisecond) // a refused connection must not spin
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(t0)
				me.statuses[res.StatusCode]++
				if res.StatusCode != want {
					fail(fmt.Sprintf("%s %s: status %d, want %d", req.Method, req.URL.Path, res.StatusCode, want))
					continue
				}
				me.ok++
				me.lat = append(me.lat, d)
			}
		}()
	}
	wg.Wait()
	r := &result{mode: o.mode, target: target, concurrency: o.concurrency, elapsed: time.Since(start), statuses: map[int]int{}}
	for _, w := range ws {
		r.ok += w.ok
		r.errs += w.errs
		for s, n := range w.statuses {
			r.statuses[s] += n
		}
		if r.firstErr == "" {
			r.firstErr = w.firstErr
		}
		r.lat = append(r.lat, w.lat...)
	}
	slices.Sort(r.lat)
	return r, nil
}

// startBaseline serves a bare 302 on 127.0.0.1:0: the least any redirect
// over HTTP can cost on this machine, measured in the same run.
func startBaseline() (stop func(), addr string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", fmt.Errorf("starting the baseline server: %w", err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://shop.example/join?ref=BASELINE", http.StatusFound)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, ln.Addr().String(), nil
}

func (r *result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p*float64(len(r.lat))+0.5) - 1
	i = max(0, min(i, len(r.lat)-1))
	return r.lat[i]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

func (r *result) print(w io.Writer) {
	rps := float64(r.ok) / r.elapsed.Seconds()
	var codes []string
	for _, s := range slices.Sorted(maps.Keys(r.statuses)) {
		codes = append(codes, fmt.Sprintf("%d×%d", s, r.statuses[s]))
	}
	fmt.Fprintf(w, "mode         %s\n", r.mode)
	fmt.Fprintf(w, "target       %s\n", r.target)
	fmt.Fprintf(w, "elapsed      %.2fs with %d clients\n", r.elapsed.Seconds(), r.concurrency)
	fmt.Fprintf(w, "requests     %d ok, %d errors (statuses: %s)\n", r.ok, r.errs, strings.Join(codes, " "))
	if r.firstErr != "" {
		fmt.Fprintf(w, "first error  %s\n", r.firstErr)
	}
	fmt.Fprintf(w, "throughput   %.1f req/s\n", rps)
	fmt.Fprintf(w, "latency      p50 %sms  p95 %sms  p99 %sms  max %sms\n", ms(r.percentile(0.50)), ms(r.percentile(0.95)), ms(r.percentile(0.99)), ms(r.percentile(1)))
	// One line for scripts.
	fmt.Fprintf(w, "RESULT mode=%s requests=%d errors=%d rps=%.1f p50_ms=%s p95_ms=%s p99_ms=%s\n",
		r.mode, r.ok, r.errs, rps, ms(r.percentile(0.50)), ms(r.percentile(0.95)), ms(r.percentile(0.99)))
}
