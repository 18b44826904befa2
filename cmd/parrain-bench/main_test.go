package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wrkReport is a `wrk --latency` report as wrk 4.2 prints it.
const wrkReport = `Running 10s test @ http://127.0.0.1:8081
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.23ms    0.45ms  12.34ms   89.00%
    Req/Sec    25.12k     1.02k   27.00k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.60ms
     99%    3.25ms
  502345 requests in 10.00s, 98.12MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 7
Requests/sec:  50234.50
Transfer/sec:      9.81MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    result
		wantErr bool
	}{
		{"full report", wrkReport, result{requests: 502345, errors: 17, rps: 50234.5, p50: 812 * time.Microsecond, p99: 3250 * time.Microsecond}, false},
		{"no errors", strings.Join([]string{
			"     50%  2.00ms", "     99%  1.50s", "  120 requests in 1.00s, 1KB read", "Requests/sec:    120.00",
		}, "\n"), result{requests: 120, rps: 120, p50: 2 * time.Millisecond, p99: 1500 * time.Millisecond}, false},
		{"no requests", "     50%  2.00ms\nRequests/sec:    0.00\n", result{p50: 2 * time.Millisecond}, true},
		{"requests but no rate", "  10 requests in 1.00s, 1KB read\n", result{requests: 10}, true},
		{"empty", "", result{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseWrk = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseDur(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"812.00us", 812 * time.Microsecond},
		{"1.10ms", 1100 * time.Microsecond},
		{"2.50s", 2500 * time.Millisecond},
		{"1.50m", 90 * time.Second},
		{"0us", 0},
		{"12", 0},
		{"fastms", 0},
		{"", 0},
	}
	for _, tt := range tests {
		if got := parseDur(tt.in); got != tt.want {
			t.Errorf("parseDur(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []result
		want result
	}{
		{"one round", []result{{requests: 10, errors: 1, rps: 5, p50: time.Millisecond, p99: 2 * time.Millisecond}},
			result{requests: 10, errors: 1, rps: 5, p50: time.Millisecond, p99: 2 * time.Millisecond}},
		{"three rounds, each figure its own median", []result{
			{requests: 100, errors: 0, rps: 300, p50: 3 * time.Millisecond, p99: 9 * time.Millisecond},
			{requests: 200, errors: 2, rps: 100, p50: 1 * time.Millisecond, p99: 8 * time.Millisecond},
			{requests: 300, errors: 3, rps: 200, p50: 2 * time.Millisecond, p99: 7 * time.Millisecond},
		}, result{requests: 600, errors: 5, rps: 200, p50: 2 * time.Millisecond, p99: 8 * time.Millisecond}},
		{"even count takes the upper middle", []result{{rps: 1}, {rps: 4}, {rps: 2}, {rps: 3}}, result{rps: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in); got != tt.want {
				t.Errorf("median = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDur(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0.00ms"},
		{812 * time.Microsecond, "0.81ms"},
		{1234567 * time.Nanosecond, "1.23ms"},
		{2 * time.Second, "2000.00ms"},
	}
	for _, tt := range tests {
		if got := dur(tt.in); got != tt.want {
			t.Errorf("dur(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrintTable(t *testing.T) {
	c := &config{threads: 2, connections: 64, duration: 10 * time.Second, rounds: 3, codes: 1000, hot: 10}
	rows := []row{
		{path: "redirect", db: "sqlite", baseline: "net/http map", note: "all clicks recorded",
			base: result{rps: 1000, p50: time.Millisecond, p99: 4 * time.Millisecond},
			prod: result{rps: 500, p50: 2 * time.Millisecond, p99: 10 * time.Millisecond}},
		{path: "redirect", db: "postgres", baseline: "net/http map",
			prod: result{rps: 400, p50: 3 * time.Millisecond, p99: 12 * time.Millisecond}},
	}
	var b bytes.Buffer
	printTable(&b, c, rows)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6:\n%s", len(lines), b.String())
	}
	if lines[0] != "" {
		t.Errorf("first line = %q, want a blank line", lines[0])
	}
	if !strings.Contains(lines[1], "wrk -t2 -c64, 10s rounds ×3 (medians), 1000 codes in the database, load over 10 of them") {
		t.Errorf("header = %q", lines[1])
	}
	for i, want := range []string{
		"path       db        baseline                 base r/s      p50      p99   prod r/s      p50      p99    ratio    p99 ×",
		"redirect   sqlite    net/http map                 1000   1.00ms   4.00ms        500   2.00ms  10.00ms    0.50×    2.50×",
		"           all clicks recorded",
		"redirect   postgres  net/http map                    0   0.00ms   0.00ms        400   3.00ms  12.00ms    0.00×    0.00×",
	} {
		if lines[2+i] != want {
			t.Errorf("line %d:\n got %q\nwant %q", 2+i, lines[2+i], want)
		}
	}
}

func TestHotCodes(t *testing.T) {
	tests := []struct {
		n, hot int
		want   []string
	}{
		{10, 1, []string{"B0000001"}},
		{10, 3, []string{"B0000001", "B0000004", "B0000007"}},
		{1_000_000, 4, []string{"B0000001", "B0250001", "B0500001", "B0750001"}},
		{5, 5, []string{"B0000001", "B0000002", "B0000003", "B0000004", "B0000005"}},
	}
	for _, tt := range tests {
		got := hotCodes(tt.n, tt.hot)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("hotCodes(%d, %d) = %v, want %v", tt.n, tt.hot, got, tt.want)
		}
	}
}

func TestBenchCode(t *testing.T) {
	for i, want := range map[int]string{1: "B0000001", 42: "B0000042", 1_000_000: "B1000000", 12_345_678: "B12345678"} {
		if got := benchCode(i); got != want {
			t.Errorf("benchCode(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestWriteScriptAndCodes(t *testing.T) {
	dir := t.TempDir()
	script, codes := filepath.Join(dir, "r.lua"), filepath.Join(dir, "codes.txt")
	if err := writeScript(script, []string{"B0000001", "B0000002"}); err != nil {
		t.Fatal(err)
	}
	if err := writeCodes(codes, []string{"B0000001", "B0000002"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`local codes = {"B0000001","B0000002"}` + "\n",
		`wrk.headers["User-Agent"] = "` + browserUA + `"` + "\n",
		`return wrk.format(nil, "/r/" .. codes[i])`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("script lacks %q:\n%s", want, b)
		}
	}
	b, err = os.ReadFile(codes)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "B0000001\nB0000002\n" {
		t.Errorf("codes file = %q", b)
	}
	if err := writeScript(filepath.Join(dir, "missing", "r.lua"), nil); err == nil {
		t.Error("writeScript into a missing directory: no error")
	}
}

func TestPathNames(t *testing.T) {
	got := pathNames()
	if len(got) != len(benchPaths) {
		t.Fatalf("pathNames = %v, want the %d keys of benchPaths", got, len(benchPaths))
	}
	for i, name := range got {
		if _, ok := benchPaths[name]; !ok {
			t.Errorf("pathNames()[%d] = %q is no bench path", i, name)
		}
		if i > 0 && got[i-1] >= name {
			t.Errorf("pathNames not sorted: %v", got)
		}
	}
	if got[0] != "redirect" {
		t.Errorf("pathNames()[0] = %q, want redirect", got[0])
	}
}

func TestRunCmdBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-rounds", "x"}, {"-nope"}, {"-duration", "ten"}} {
		if err := runCmd(args); err == nil {
			t.Errorf("runCmd(%q): no error", args)
		}
	}
}

func TestBaselineRedirectCmdErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, []byte("\n  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad flag", []string{"-port", "1"}, "flag provided but not defined"},
		{"missing file", []string{"-codes", filepath.Join(dir, "none.txt")}, "no such file"},
		{"no codes", []string{"-codes", empty}, "no codes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := baselineRedirectCmd(tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
