package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	valid := options{url: "http://127.0.0.1:8080/", mode: "redirect", code: "ALICE", duration: time.Second, concurrency: 8}
	tests := []struct {
		name    string
		edit    func(*options)
		wantErr string // empty: valid
		wantURL string
	}{
		{"redirect", func(*options) {}, "", "http://127.0.0.1:8080"},
		{"events", func(o *options) { o.mode, o.key, o.program = "events", "pk_1", "prog_1" }, "", "http://127.0.0.1:8080"},
		{"baseline ignores the url", func(o *options) { o.mode, o.url, o.code = "baseline", "http://example.com", "" }, "", "http://example.com"},
		{"localhost", func(o *options) { o.url = "http://LocalHost:9000//" }, "", "http://LocalHost:9000"},
		{"ipv6 loopback", func(o *options) { o.url = "https://[::1]:8443" }, "", "https://[::1]:8443"},
		{"other loopback address", func(o *options) { o.url = "http://127.8.9.10" }, "", "http://127.8.9.10"},
		{"path kept", func(o *options) { o.url = "http://127.0.0.1:8080/parrain/" }, "", "http://127.0.0.1:8080/parrain"},
		{"zero duration", func(o *options) { o.duration = 0 }, "-duration must be more than 0 and at most 1m0s", ""},
		{"too long", func(o *options) { o.duration = maxDuration + time.Second }, "-duration must be more than 0", ""},
		{"longest", func(o *options) { o.duration = maxDuration }, "", "http://127.0.0.1:8080"},
		{"no clients", func(o *options) { o.concurrency = 0 }, "-concurrency must be between 1 and 256", ""},
		{"too many clients", func(o *options) { o.concurrency = maxConcurrency + 1 }, "-concurrency must be between 1 and 256", ""},
		{"most clients", func(o *options) { o.concurrency = maxConcurrency }, "", "http://127.0.0.1:8080"},
		{"redirect without code", func(o *options) { o.code = "" }, "-mode redirect needs -code", ""},
		{"events without key", func(o *options) { o.mode, o.program = "events", "prog_1" }, "-mode events needs -key, -program and -code", ""},
		{"events without program", func(o *options) { o.mode, o.key = "events", "pk_1" }, "-mode events needs -key, -program and -code", ""},
		{"unknown mode", func(o *options) { o.mode = "flood" }, `unknown -mode "flood"`, ""},
		{"ftp", func(o *options) { o.url = "ftp://127.0.0.1" }, `-url "ftp://127.0.0.1" is not an http(s) URL`, ""},
		{"no host", func(o *options) { o.url = "http:///r" }, "is not an http(s) URL", ""},
		{"unparsable", func(o *options) { o.url = "http://[::1" }, "is not an http(s) URL", ""},
		{"remote host", func(o *options) { o.url = "http://example.com" }, `refusing target "example.com"`, ""},
		{"private address", func(o *options) { o.url = "http://10.0.0.1:8080" }, `refusing target "10.0.0.1"`, ""},
		{"localhost lookalike", func(o *options) { o.url = "http://localhost.example.com" }, "refusing target", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.edit(&o)
			err := o.check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				if o.url != tt.wantURL {
					t.Errorf("url = %q, want %q", o.url, tt.wantURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("check = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoopbackHost(t *testing.T) {
	tests := map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.255.255.254": true, "::1": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.1": false, "localhost.": false, "example.com": false, "128.0.0.1": false,
	}
	for host, want := range tests {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		address string
		wantErr string
	}{
		{"127.0.0.1:80", ""},
		{"[::1]:8080", ""},
		{"10.0.0.1:80", "refusing to connect to 10.0.0.1:80: not a loopback address"},
		{"[2001:db8::1]:443", "not a loopback address"},
		{"localhost:80", "not a loopback address"}, // the dialer hook sees resolved addresses only
		{"127.0.0.1", "missing port"},
	}
	for _, tt := range tests {
		err := loopbackOnly("tcp", tt.address, nil)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("loopbackOnly(%q) = %v", tt.address, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("loopbackOnly(%q) = %v, want an error containing %q", tt.address, err, tt.wantErr)
		}
	}
}

func TestPercentile(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name string
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{7}, 0.99, 7},
		{"p0 clamps to the first", lat, 0, time.Millisecond},
		{"p50", lat, 0.50, 50 * time.Millisecond},
		{"p95", lat, 0.95, 95 * time.Millisecond},
		{"p99", lat, 0.99, 99 * time.Millisecond},
		{"max", lat, 1, 100 * time.Millisecond},
		{"beyond clamps to the last", lat, 2, 100 * time.Millisecond},
		{"rounds to nearest rank", []time.Duration{1, 2, 3}, 0.5, 2},
		{"p99 of three", []time.Duration{1, 2, 3}, 0.99, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &result{lat: tt.lat}
			if got := r.percentile(tt.p); got != tt.want {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

func TestMs(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0.000", 1500 * time.Microsecond: "1.500", 1234567 * time.Nanosecond: "1.235", 2 * time.Second: "2000.000"} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPrint(t *testing.T) {
	r := &result{
		mode: "redirect", target: "http://127.0.0.1:8080/r/ALICE", concurrency: 4, elapsed: 2 * time.Second,
		ok: 4, errs: 2, statuses: map[int]int{500: 1, 302: 4, 429: 1}, firstErr: "HTTP 500",
		lat: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond},
	}
	var b bytes.Buffer
	r.print(&b)
	want := `mode         redirect
target       http://127.0.0.1:8080/r/ALICE
elapsed      2.00s with 4 clients
requests     4 ok, 2 errors (statuses: 302×4 429×1 500×1)
first error  HTTP 500
throughput   2.0 req/s
latency      p50 2.000ms  p95 4.000ms  p99 4.000ms  max 4.000ms
RESULT mode=redirect requests=4 errors=2 rps=2.0 p50_ms=2.000 p95_ms=4.000 p99_ms=4.000
`
	if b.String() != want {
		t.Errorf("print:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestRunArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"help", []string{"-h"}, 0, "-concurrency"},
		{"unknown flag", []string{"-rate", "10"}, 2, "flag provided but not defined: -rate"},
		{"extra argument", []string{"-code", "A", "now"}, 2, `parrain-load: unexpected argument "now"`},
		{"invalid options", []string{"-mode", "events"}, 2, "parrain-load: -mode events needs -key, -program and -code"},
		{"remote target", []string{"-code", "A", "-url", "http://192.0.2.1"}, 2, `refusing target "192.0.2.1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("run = %d, want %d (stderr %s)", got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

// TestRunRedirect loads a loopback test server briefly and checks what was
// counted, not how fast.
func TestRunRedirect(t *testing.T) {
	var hits, browsers atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/r/ALICE" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		if r.UserAgent() == browserUA {
			browsers.Add(1)
		}
		http.Redirect(w, r, "https://shop.example/", http.StatusFound)
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if got := run([]string{"-url", srv.URL, "-code", "ALICE", "-duration", "50ms", "-concurrency", "1"}, &stdout, &stderr); got != 0 {
		t.Fatalf("run = %d, stderr %s", got, stderr.String())
	}
	if hits.Load() == 0 || browsers.Load() != hits.Load() {
		t.Errorf("hits = %d, with a browser User-Agent %d", hits.Load(), browsers.Load())
	}
	for _, want := range []string{"mode         redirect\n", "target       " + srv.URL + "/r/ALICE\n", " 0 errors (statuses: 302×", "RESULT mode=redirect requests="} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}
