package parrain

import (
	"strings"
	"testing"
	"time"
)

func TestNormalizeEndpointInput(t *testing.T) {
	s := func(v string) *string { return &v }
	st := func(v EndpointStatus) *EndpointStatus { return &v }
	for _, tc := range []struct {
		name   string
		in     WebhookEndpointInput
		create bool
		field  string // "" when valid
	}{
		{"create needs a url", WebhookEndpointInput{EventTypes: []string{"*"}}, true, "url"},
		{"create needs event types", WebhookEndpointInput{URL: s("https://h.example/x")}, true, "event_types"},
		{"an update may change nothing", WebhookEndpointInput{}, false, ""},
		{"bad url", WebhookEndpointInput{URL: s("ftp://h.example")}, false, "url"},
		{"long description", WebhookEndpointInput{Description: s(strings.Repeat("x", 501))}, false, "description"},
		{"unknown event type", WebhookEndpointInput{EventTypes: []string{"nope"}}, false, "event_types"},
		{"unknown status", WebhookEndpointInput{Status: st("paused")}, false, "status"},
		{"valid creation", WebhookEndpointInput{URL: s(" https://h.example/x#f "), Description: s(" d "),
			EventTypes: []string{WebhookRewardPaid, WebhookRewardCreated, WebhookRewardPaid}}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := NormalizeEndpointInput(tc.in, tc.create)
			if tc.field != "" {
				if e := AsError(err); e == nil || e.Code != CodeInvalid || e.Field != tc.field {
					t.Fatalf("got %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.create && (*out.URL != "https://h.example/x" || *out.Description != "d" || len(out.EventTypes) != 2 || out.EventTypes[0] != WebhookRewardCreated) {
				t.Errorf("normalised %+v", out)
			}
		})
	}
	e := NewWebhookEndpoint("whe_1", "prg_1", WebhookEndpointInput{URL: s("https://h.example"), EventTypes: []string{"*"}}, time.Unix(5, 0))
	if e.Status != EndpointActive || e.URL != "https://h.example" || e.ID != "whe_1" || e.ProgramID != "prg_1" || !e.CreatedAt.Equal(time.Unix(5, 0)) {
		t.Errorf("new endpoint %+v", e)
	}
}

func TestEndpointApply(t *testing.T) {
	since := time.Unix(100, 0)
	dis, act := EndpointDisabled, EndpointActive
	for _, tc := range []struct {
		name    string
		from    WebhookEndpoint
		in      WebhookEndpointInput
		status  EndpointStatus
		reason  string
		failing bool
	}{
		{"disable by hand", WebhookEndpoint{Status: EndpointActive, FailingSince: &since}, WebhookEndpointInput{Status: &dis}, EndpointDisabled, "disabled by hand", true},
		{"enable clears the failure record", WebhookEndpoint{Status: EndpointDisabled, DisabledReason: "x", FailingSince: &since},
			WebhookEndpointInput{Status: &act}, EndpointActive, "", false},
		{"same status keeps the reason", WebhookEndpoint{Status: EndpointDisabled, DisabledReason: "auto", FailingSince: &since},
			WebhookEndpointInput{Status: &dis}, EndpointDisabled, "auto", true},
		{"no status change", WebhookEndpoint{Status: EndpointActive}, WebhookEndpointInput{EventTypes: []string{"*"}}, EndpointActive, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.from
			e.Apply(tc.in)
			if e.Status != tc.status || e.DisabledReason != tc.reason || (e.FailingSince != nil) != tc.failing {
				t.Errorf("got %+v", e)
			}
			if err := e.CanReplay(); (err == nil) != (e.Status == EndpointActive) {
				t.Errorf("can replay: %v", err)
			}
		})
	}
	for _, f := range []string{"", "pending", "succeeded", "failed"} {
		if err := ValidDeliveryFilter(f); err != nil {
			t.Errorf("%q: %v", f, err)
		}
	}
	if err := ValidDeliveryFilter("done"); ErrorCode(err) != CodeInvalid {
		t.Errorf("done: %v", err)
	}
}

func TestDeliveryNextStep(t *testing.T) {
	now := time.Unix(1000, 0)
	later, earlier := now.Add(time.Second), now.Add(-time.Second)
	for _, tc := range []struct {
		name string
		d    WebhookDelivery
		ep   EndpointStatus
		want AttemptStep
	}{
		{"succeeded", WebhookDelivery{Status: DeliverySucceeded}, EndpointActive, StepNothing},
		{"failed", WebhookDelivery{Status: DeliveryFailed}, EndpointActive, StepNothing},
		{"not due", WebhookDelivery{Status: DeliveryPending, NextAttemptAt: &later}, EndpointActive, StepWait},
		{"not due, endpoint disabled: wait first", WebhookDelivery{Status: DeliveryPending, NextAttemptAt: &later}, EndpointDisabled, StepWait},
		{"due, endpoint disabled", WebhookDelivery{Status: DeliveryPending, NextAttemptAt: &earlier}, EndpointDisabled, StepFail},
		{"due", WebhookDelivery{Status: DeliveryPending, NextAttemptAt: &now}, EndpointActive, StepAttempt},
		{"no schedule", WebhookDelivery{Status: DeliveryPending}, EndpointActive, StepAttempt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.NextStep(tc.ep, now); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestWebhookAttempt(t *testing.T) {
	now := time.Unix(1000, 0)
	backoff := func(n int) time.Duration { return time.Duration(n) * time.Minute }
	for _, tc := range []struct {
		name    string
		attempt int
		err     string
		status  DeliveryStatus
	}{
		{"success", 1, "", DeliverySucceeded},
		{"failure, retried", 1, "503", DeliveryPending},
		{"failure on the last attempt", 8, "503", DeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := WebhookAttempt{Err: tc.err}
			if tc.err != "" {
				a.RetryAt = RetryAt(now, tc.attempt, 8, backoff)
			}
			if got := a.DeliveryStatus(); got != tc.status {
				t.Errorf("status %s, want %s", got, tc.status)
			}
			if a.RetryAt != nil && !a.RetryAt.Equal(now.Add(time.Duration(tc.attempt)*time.Minute)) {
				t.Errorf("retry at %v", a.RetryAt)
			}
		})
	}
	c := WebhookAttempt{Body: strings.Repeat("b", 2000), Err: strings.Repeat("e", 2000)}.Clipped()
	if len(c.Body) != MaxAttemptBody || len(c.Err) != MaxAttemptError {
		t.Errorf("clipped to %d and %d", len(c.Body), len(c.Err))
	}
}

func TestEndpointAfterFailure(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	for _, tc := range []struct {
		name string
		e    WebhookEndpoint
		want EndpointHealth
	}{
		{"first failure", WebhookEndpoint{Status: EndpointActive}, HealthStartFailing},
		{"failing for a day", WebhookEndpoint{Status: EndpointActive, FailingSince: at(24 * time.Hour)}, HealthUnchanged},
		{"failing just under the limit", WebhookEndpoint{Status: EndpointActive, FailingSince: at(EndpointDisableAfter - time.Second)}, HealthUnchanged},
		{"failing for the limit", WebhookEndpoint{Status: EndpointActive, FailingSince: at(EndpointDisableAfter)}, HealthDisable},
		{"already disabled", WebhookEndpoint{Status: EndpointDisabled, FailingSince: at(10 * EndpointDisableAfter)}, HealthUnchanged},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.e.AfterFailure(now); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	e := WebhookEndpoint{FailingSince: at(EndpointDisableAfter)}
	if r := e.AutoDisabledReason("timeout"); r != "disabled automatically: every delivery failed since 2026-01-05T00:00:00Z (last: timeout)" {
		t.Errorf("reason %q", r)
	}
}

func TestRewardMoveWebhook(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before RewardStatus
		after  RewardStatus
		moves  []Movement
		want   string
	}{
		{"no move", RewardPending, RewardApproved, nil, ""},
		{"hold ends", RewardPending, RewardApproved, []Movement{{Type: EntryApproval}}, WebhookRewardApproved},
		{"reversal", RewardPending, RewardPending, []Movement{{Type: EntryReversal}}, WebhookRewardReversed},
		{"clawback", RewardApproved, RewardApproved, []Movement{{Type: EntryClawback}}, WebhookRewardReversed},
		{"paid", RewardApproved, RewardPaid, []Movement{{Type: EntryPayout}}, WebhookRewardPaid},
		{"accrual announces nothing here", RewardPending, RewardPending, []Movement{{Type: EntryAccrual}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := RewardMoveWebhook(tc.before, &Reward{Status: tc.after}, tc.moves); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
