package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunArguments(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"help", []string{"-help"}, 0, "-clients"},
		{"unknown flag", []string{"-writers", "2"}, 2, "flag provided but not defined: -writers"},
		{"clients not a number", []string{"-clients", "64,many"}, 2, `-clients: "many" is not a number from 1 to 512`},
		{"no clients", []string{"-clients", "0"}, 2, `-clients: "0" is not a number from 1 to 512`},
		{"too many clients", []string{"-clients", "513"}, 2, `"513" is not a number from 1 to 512`},
		{"empty client count", []string{"-clients", "8,"}, 2, `-clients: "" is not a number`},
		{"unknown event", []string{"-event", "refund"}, 2, "-event must be signup or purchase"},
		{"no rounds", []string{"-rounds", "0"}, 2, "-rounds, -advocates and -duration must be positive"},
		{"no advocates", []string{"-advocates", "0"}, 2, "-rounds, -advocates and -duration must be positive"},
		{"no duration", []string{"-duration", "0s"}, 2, "-rounds, -advocates and -duration must be positive"},
		{"unknown database", []string{"-db", "sqlite,mysql"}, 2, `unknown database "mysql"`},
		{"database list with a space", []string{"-db", "sqlite, postgres"}, 2, `unknown database " postgres"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != tt.want {
				t.Errorf("run = %d, want %d (stderr %s)", got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantStderr)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		in   []result
		want result
	}{
		{"none", nil, result{}},
		{"one, labels dropped", []result{{Path: "events", Side: "raw", Requests: 9, ReqPerS: 3, P50ms: 1, P99ms: 2}}, result{ReqPerS: 3, P50ms: 1, P99ms: 2}},
		{"three, each field its own median", []result{
			{ReqPerS: 300, P50ms: 1, P99ms: 9},
			{ReqPerS: 100, P50ms: 3, P99ms: 7},
			{ReqPerS: 200, P50ms: 2, P99ms: 8},
		}, result{ReqPerS: 200, P50ms: 2, P99ms: 8}},
		{"two take the upper", []result{{ReqPerS: 10, P50ms: 5, P99ms: 1}, {ReqPerS: 20, P50ms: 4, P99ms: 2}}, result{ReqPerS: 20, P50ms: 5, P99ms: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := median(tt.in); got != tt.want {
				t.Errorf("median = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPrintTable(t *testing.T) {
	rows := []result{
		{Path: "events", Database: "sqlite", Clients: 64, Side: "raw", ReqPerS: 1000, P50ms: 1, P99ms: 4},
		{Path: "events", Database: "sqlite", Clients: 64, Side: "parrain", ReqPerS: 250, P50ms: 3, P99ms: 12},
		{Path: "events", Database: "sqlite", Clients: 1, Side: "raw", ReqPerS: 300, P50ms: 0.5, P99ms: 1},
		{Path: "events", Database: "sqlite", Clients: 64, Side: "raw", ReqPerS: 1200, P50ms: 1, P99ms: 5},
		{Path: "events", Database: "sqlite", Clients: 64, Side: "parrain", ReqPerS: 300, P50ms: 2, P99ms: 10},
		{Path: "events", Database: "postgres", Clients: 1, Side: "parrain", ReqPerS: 50, P50ms: 20, P99ms: 30},
	}
	var b bytes.Buffer
	printTable(&b, options{rounds: 2, seconds: 5 * time.Second}, rows)
	want := `
medians of 2 rounds of 5s each, alternating raw and parrain

| path | database | clients | raw req/s | raw p50 / p99 ms | parrain req/s | parrain p50 / p99 ms | ratio |
|---|---|---:|---:|---:|---:|---:|---:|
| events | sqlite | 64 | 1200 | 1.00 / 5.00 | 300 | 3.00 / 12.00 | 0.250× |
| events | sqlite | 1 | 300 | 0.50 / 1.00 | 0 | 0.00 / 0.00 | 0.000× |
| events | postgres | 1 | 0 | 0.00 / 0.00 | 50 | 20.00 / 30.00 | 0.000× |
`
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestCmpOr(t *testing.T) {
	a, b := errors.New("a"), errors.New("b")
	tests := []struct{ x, y, want error }{{nil, nil, nil}, {a, nil, a}, {nil, b, b}, {a, b, a}}
	for _, tt := range tests {
		if got := cmpOr(tt.x, tt.y); got != tt.want {
			t.Errorf("cmpOr(%v, %v) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("PARRAIN_INGESTBENCH_TEST", "set")
	t.Setenv("PARRAIN_INGESTBENCH_EMPTY", "")
	tests := []struct{ key, def, want string }{
		{"PARRAIN_INGESTBENCH_TEST", "default", "set"},
		{"PARRAIN_INGESTBENCH_EMPTY", "default", "default"},
		{"PARRAIN_INGESTBENCH_UNSET_XYZ", "default", "default"},
	}
	for _, tt := range tests {
		if got := env(tt.key, tt.def); got != tt.want {
			t.Errorf("env(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
