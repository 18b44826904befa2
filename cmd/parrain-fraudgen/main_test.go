package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/e2e/fraudgen"
)

func TestRunArguments(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"unknown flag", []string{"-rounds", "2"}, "flag provided but not defined: -rounds"},
		{"seed not a number", []string{"-seed", "-1"}, `invalid value "-1" for flag -seed`},
		{"extra argument", []string{"-seed", "2", "now"}, `parrain-fraudgen: unexpected argument "now"`},
		{"no scale", []string{"-scale", "0"}, "-scale and -workers must be at least 1"},
		{"negative scale", []string{"-scale", "-3"}, "-scale and -workers must be at least 1"},
		{"no workers", []string{"-workers", "0"}, "-scale and -workers must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if got := run(tt.args, &stdout, &stderr); got != 2 {
				t.Errorf("run = %d, want 2 (stderr %s)", got, stderr.String())
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

func TestPrintReferrals(t *testing.T) {
	refs := []fraudgen.Referral{
		{Scenario: "self_referral", Fraud: true, Arrival: fraudgen.Arrivals[3], Decision: "hold", Signals: []string{"net.same_ip", "device.same"},
			Outcome: fraudgen.Outcome{Friend: "self_referral-0-f0", RiskScore: 72, ClickedAt: "2026-12-01T10:00:00Z"}},
		{Scenario: "ordinary", Arrival: fraudgen.Arrivals[0], Decision: "allow",
			Outcome: fraudgen.Outcome{Friend: "ordinary-3-f1", RiskScore: 5}},
	}
	var b bytes.Buffer
	printReferrals(&b, refs)
	want := "self_referral          proxy+code+cookie    hold     72 clicked=true  self_referral-0-f0 [net.same_ip device.same]\n" +
		"ordinary               direct+cookie        allow     5 clicked=false ordinary-3-f1 []\n"
	if b.String() != want {
		t.Errorf("printReferrals:\n%q\nwant:\n%q", b.String(), want)
	}
	b.Reset()
	printReferrals(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no referrals printed %q", b.String())
	}
}
