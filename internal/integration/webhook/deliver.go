package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DeliveryTimeout bounds one delivery attempt, from dialing to reading the
// response body.
const DeliveryTimeout = 15 * time.Second

// MaxResponseBody is how many bytes of the receiver's response body Deliver
// returns (for the delivery log).
const MaxResponseBody = 1024

// HeaderEventType carries the event type of a delivery. It is a Parrain
// extension, not part of the Standard Webhooks specification, and it is not
// signed: receivers should trust the "type" inside the signed payload.
const HeaderEventType = "Parrain-Event-Type"

// userAgent identifies Parrain's webhook deliveries.
const userAgent = "Parrain-Webhooks/1"

// Sentinel errors returned (wrapped) by Deliver.
var (
	// ErrInvalidEndpoint: the endpoint is not an absolute http(s) URL.
	ErrInvalidEndpoint = errors.New("webhook: invalid endpoint URL")
	// ErrUnsuccessfulStatus: the receiver answered with a non-2xx status.
	ErrUnsuccessfulStatus = errors.New("webhook: non-2xx response")
)

// Deliver POSTs payload to endpoint as one attempt of message msgID, with
// webhook-id, webhook-timestamp (the current time: each retry is signed
// afresh, keeping the same msgID), webhook-signature, HeaderEventType and
// Content-Type: application/json. The attempt is bounded by DeliveryTimeout on
// top of ctx and client's own limits; client should come from NewClient.
//
// It returns the response status (0 if none was received), the first
// MaxResponseBody bytes of the response body, and an error. A 2xx status is a
// success (nil error); any other status yields an error wrapping
// ErrUnsuccessfulStatus, together with the status and body. Transport failures
// (including refusals wrapping ErrForbiddenAddress) are returned as is. Errors
// reading the response body are ignored: the body is only diagnostic.
func Deliver(ctx context.Context, client *http.Client, endpoint, secret, msgID, eventType string, payload []byte) (int, []byte, error) {
	if client == nil {
		return 0, nil, errors.New("webhook: Deliver needs an *http.Client (see NewClient)")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrInvalidEndpoint, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, nil, fmt.Errorf("%w: %q must be an absolute http or https URL", ErrInvalidEndpoint, endpoint)
	}

	ts := time.Now()
	sig, err := Sign(secret, msgID, ts, payload)
	if err != nil {
		return 0, nil, err
	}

	ctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("webhook: building request: %w", err)
	}
	req.Header.Set(HeaderID, msgID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if eventType != "" {
		req.Header.Set(HeaderEventType, eventType)
	}

	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("webhook: delivering %s: %w", msgID, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	// Drain a bounded remainder so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, body, fmt.Errorf("%w: %s answered %d", ErrUnsuccessfulStatus, u.Redacted(), resp.StatusCode)
	}
	return resp.StatusCode, body, nil
}

// retrySchedule is the delay before each retry: retrySchedule[i] is waited
// after failed attempt i+1. It follows the Standard Webhooks reference
// schedule: 5s, 5m, 30m, 2h, 5h, 10h, 10h — 27h35m05s in total, so a receiver
// that is down for a full day still gets the message.
var retrySchedule = [...]time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// MaxAttempts is the number of delivery attempts of one message: the first
// one, immediately, plus one retry per entry of the schedule (see Backoff).
// After MaxAttempts failures the message is given up on.
const MaxAttempts = len(retrySchedule) + 1

// Backoff returns how long to wait after failed attempt number attempt
// (1-based) before the next one. The schedule is deterministic (no jitter):
//
//	after attempt 1: 5s
//	after attempt 2: 5m
//	after attempt 3: 30m
//	after attempt 4: 2h
//	after attempt 5: 5h
//	after attempt 6: 10h
//	after attempt 7: 10h
//
// for 27h35m05s between the first and the last (8th) attempt. Callers stop
// once attempt reaches MaxAttempts; for attempt >= MaxAttempts Backoff keeps
// returning the last interval (10h), and for attempt < 1 it returns 0.
func Backoff(attempt int) time.Duration {
	switch {
	case attempt < 1:
		return 0
	case attempt > len(retrySchedule):
		return retrySchedule[len(retrySchedule)-1]
	default:
		return retrySchedule[attempt-1]
	}
}
