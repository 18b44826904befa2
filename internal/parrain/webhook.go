package parrain

import (
	"fmt"
	"strings"
	"time"
)

// Outgoing webhooks: an endpoint's lifecycle and the delivery state
// machine. internal/outbound runs them; the store records what they decide.

// NormalizeEndpointInput validates an endpoint's creation (create true: a
// URL and event types are required) or change, and normalises its URL,
// description and event types.
func NormalizeEndpointInput(in WebhookEndpointInput, create bool) (WebhookEndpointInput, error) {
	if create && in.URL == nil {
		return in, Invalid("url", "is required")
	}
	if in.URL != nil {
		u, err := NormalizeWebhookURL("url", *in.URL)
		if err != nil {
			return in, err
		}
		in.URL = &u
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len(d) > 500 {
			return in, Invalid("description", "must be at most 500 characters")
		}
		in.Description = &d
	}
	if create || in.EventTypes != nil {
		types, err := NormalizeEventTypes("event_types", in.EventTypes)
		if err != nil {
			return in, err
		}
		in.EventTypes = types
	}
	if in.Status != nil && *in.Status != EndpointActive && *in.Status != EndpointDisabled {
		return in, Invalid("status", "must be active or disabled")
	}
	return in, nil
}

// NewWebhookEndpoint is the endpoint a normalised creation input describes
// (active unless it says otherwise).
func NewWebhookEndpoint(id, programID string, in WebhookEndpointInput, now time.Time) WebhookEndpoint {
	e := WebhookEndpoint{ID: id, ProgramID: programID, EventTypes: in.EventTypes, Status: EndpointActive, CreatedAt: now, UpdatedAt: now}
	if in.URL != nil {
		e.URL = *in.URL
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.Status != nil {
		e.Status = *in.Status
	}
	return e
}

// Apply changes the endpoint as a normalised input asks. Disabling by hand
// says so; enabling clears the failure record (its failed deliveries can
// then be replayed).
func (e *WebhookEndpoint) Apply(in WebhookEndpointInput) {
	if in.URL != nil {
		e.URL = *in.URL
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	if in.EventTypes != nil {
		e.EventTypes = in.EventTypes
	}
	if in.Status != nil && *in.Status != e.Status {
		e.Status = *in.Status
		e.DisabledReason = ""
		if e.Status == EndpointDisabled {
			e.DisabledReason = "disabled by hand"
		} else {
			e.FailingSince = nil
		}
	}
}

// ValidDeliveryFilter checks a deliveries list's status filter ("" for
// all).
func ValidDeliveryFilter(status string) error {
	switch DeliveryStatus(status) {
	case "", DeliveryPending, DeliverySucceeded, DeliveryFailed:
		return nil
	}
	return Invalid("status", "must be pending, succeeded or failed")
}

// CanReplay says whether a delivery to e may be sent again: only to an
// active endpoint.
func (e *WebhookEndpoint) CanReplay() error {
	if e.Status != EndpointActive {
		return &Error{Code: CodeConflict, Field: "status", Message: "the endpoint is disabled: enable it before replaying"}
	}
	return nil
}

// AttemptStep is what to do with a delivery its job picked up.
type AttemptStep int

// What a delivery job does.
const (
	StepNothing AttemptStep = iota // delivered, failed for good, or gone
	StepWait                       // not due yet: come back at its next attempt
	StepFail                       // the endpoint is disabled: the delivery fails (it can be replayed later)
	StepAttempt                    // POST it now
)

// NextStep decides what a delivery job does now with d, whose endpoint is in
// status ep.
func (d *WebhookDelivery) NextStep(ep EndpointStatus, now time.Time) AttemptStep {
	switch {
	case d.Status != DeliveryPending:
		return StepNothing
	case d.NextAttemptAt != nil && now.Before(*d.NextAttemptAt):
		return StepWait
	case ep != EndpointActive:
		return StepFail
	}
	return StepAttempt
}

// EndpointDisabledError is the last error of a delivery failed because its
// endpoint is disabled.
const EndpointDisabledError = "endpoint disabled"

// Limits of what a delivery log keeps of an attempt.
const (
	MaxAttemptBody  = 1024 // bytes of the receiver's answer
	MaxAttemptError = 1000 // bytes of the error
)

// WebhookAttempt is the outcome of one delivery attempt.
type WebhookAttempt struct {
	StatusCode int
	Body       string
	Err        string // "" on success
	Duration   time.Duration
	// RetryAt is when to try again after a failure; nil gives up (the
	// delivery fails).
	RetryAt *time.Time
}

// Clipped returns the attempt with its body and error cut to what the log
// keeps.
func (a WebhookAttempt) Clipped() WebhookAttempt {
	if len(a.Body) > MaxAttemptBody {
		a.Body = a.Body[:MaxAttemptBody]
	}
	if len(a.Err) > MaxAttemptError {
		a.Err = a.Err[:MaxAttemptError]
	}
	return a
}

// DeliveryStatus is where the attempt leaves its delivery: succeeded,
// pending another attempt, or failed for good.
func (a WebhookAttempt) DeliveryStatus() DeliveryStatus {
	switch {
	case a.Err == "":
		return DeliverySucceeded
	case a.RetryAt != nil:
		return DeliveryPending
	}
	return DeliveryFailed
}

// RetryAt decides when to try a delivery again after its attempt-th failed
// attempt: after backoff(attempt), or never (nil) once maxAttempts are used.
func RetryAt(now time.Time, attempt, maxAttempts int, backoff func(int) time.Duration) *time.Time {
	if attempt >= maxAttempts {
		return nil
	}
	t := now.Add(backoff(attempt))
	return &t
}

// EndpointHealth is what a failed attempt does to its endpoint.
type EndpointHealth int

// Effects of a failed attempt on its endpoint.
const (
	HealthUnchanged    EndpointHealth = iota // still failing, not for long enough (or already disabled)
	HealthStartFailing                       // the first failure since the last success: failing from now
	HealthDisable                            // failing every delivery for EndpointDisableAfter: disable it
)

// AfterFailure decides what a failed attempt at now does to the endpoint.
func (e *WebhookEndpoint) AfterFailure(now time.Time) EndpointHealth {
	switch {
	case e.FailingSince == nil:
		return HealthStartFailing
	case e.Status != EndpointActive || now.Sub(*e.FailingSince) < EndpointDisableAfter:
		return HealthUnchanged
	}
	return HealthDisable
}

// AutoDisabledReason is the reason recorded on an endpoint disabled
// automatically (AfterFailure returned HealthDisable).
func (e *WebhookEndpoint) AutoDisabledReason(lastErr string) string {
	since := ""
	if e.FailingSince != nil {
		since = e.FailingSince.Format(time.RFC3339)
	}
	return fmt.Sprintf("disabled automatically: every delivery failed since %s (last: %s)", since, lastErr)
}

// RewardMoveWebhook is the webhook event type announcing what a ledger
// change (moves) did to a reward that was in status before: reward.approved
// when the hold ends (or a manager approves it early), reward.reversed for
// a reversal or clawback, reward.paid when a payout pays it; "" announces
// nothing.
func RewardMoveWebhook(before RewardStatus, rw *Reward, moves []Movement) string {
	switch {
	case len(moves) == 0:
		return ""
	case before == RewardPending && rw.Status == RewardApproved, moves[0].Type == EntryReinstatement:
		return WebhookRewardApproved
	case moves[0].Type == EntryReversal || moves[0].Type == EntryClawback:
		return WebhookRewardReversed
	case before == RewardApproved && rw.Status == RewardPaid:
		return WebhookRewardPaid
	}
	return ""
}
