// Package stripehook owns the verification of incoming Stripe webhooks and the
// parsing of the Stripe events Parrain reacts to (invoice.paid,
// checkout.session.completed, charge.refunded,
// customer.subscription.deleted). It implements Stripe's documented signature
// scheme by hand instead of depending on the Stripe SDK, and imports only the
// standard library.
//
// Signature scheme: the Stripe-Signature header is a comma-separated list of
// key=value pairs, "t=<unix seconds>" once and one or more
// "v1=<hex HMAC-SHA256>"; other schemes (such as the test-mode "v0") are
// ignored. The MAC is keyed with the endpoint secret ("whsec_...") taken as
// raw bytes — unlike Standard Webhooks, Stripe does not base64-decode it — over
// "<t>.<raw body>".
package stripehook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader is the HTTP header carrying Stripe's signature.
const SignatureHeader = "Stripe-Signature"

// DefaultTolerance is the largest accepted distance between the signed
// timestamp and now (Stripe's libraries use the same 300 s default).
const DefaultTolerance = 300 * time.Second

// maxHeaderLen bounds the Stripe-Signature header we are willing to parse.
const maxHeaderLen = 8 << 10

// Sentinel errors returned (wrapped) by Verify. Callers map them with
// errors.Is; all of them mean "answer 400 and do not process".
var (
	// ErrEmptySecret: the endpoint secret is empty (a configuration error).
	ErrEmptySecret = errors.New("stripehook: empty webhook secret")
	// ErrMissingHeader: the Stripe-Signature header is absent or empty.
	ErrMissingHeader = errors.New("stripehook: missing Stripe-Signature header")
	// ErrInvalidHeader: the header has no valid t=, or is otherwise malformed.
	ErrInvalidHeader = errors.New("stripehook: malformed Stripe-Signature header")
	// ErrNoSignatures: the header carries no v1 signature at all.
	ErrNoSignatures = errors.New("stripehook: no v1 signature in header")
	// ErrTimestampTooOld: t is more than the tolerance in the past.
	ErrTimestampTooOld = errors.New("stripehook: timestamp too old")
	// ErrTimestampTooNew: t is more than the tolerance in the future.
	ErrTimestampTooNew = errors.New("stripehook: timestamp too new")
	// ErrNoValidSignature: no v1 signature matches the payload and secret.
	ErrNoValidSignature = errors.New("stripehook: no valid signature")
)

// computeSignature returns HMAC-SHA256(secret, "<t>.<payload>").
func computeSignature(payload []byte, secret string, unix int64) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(strconv.AppendInt(nil, unix, 10))
	h.Write([]byte{'.'})
	h.Write(payload)
	return h.Sum(nil)
}

// Sign returns a Stripe-Signature header value for payload signed with secret
// at time t ("t=<unix>,v1=<hex>"), as Stripe would send it. It exists for
// tests and fakes.
func Sign(payload []byte, secret string, t time.Time) string {
	unix := t.Unix()
	return "t=" + strconv.FormatInt(unix, 10) + ",v1=" + hex.EncodeToString(computeSignature(payload, secret, unix))
}

// parsedHeader is a decoded Stripe-Signature header.
type parsedHeader struct {
	unix int64
	v1   [][]byte
}

// parseHeader decodes a Stripe-Signature value. v1 entries that are not valid
// hex are dropped (they cannot match); unknown keys are ignored.
func parseHeader(header string) (parsedHeader, error) {
	var p parsedHeader
	if len(header) > maxHeaderLen {
		return p, fmt.Errorf("%w: longer than %d bytes", ErrInvalidHeader, maxHeaderLen)
	}
	sawT := false
	for _, item := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			continue
		}
		switch key {
		case "t":
			if sawT {
				return p, fmt.Errorf("%w: more than one t=", ErrInvalidHeader)
			}
			n, err := parseUnix(value)
			if err != nil {
				return p, err
			}
			p.unix, sawT = n, true
		case "v1":
			sig, err := hex.DecodeString(value)
			if err != nil || len(sig) != sha256.Size {
				continue
			}
			p.v1 = append(p.v1, sig)
		}
	}
	if !sawT {
		return p, fmt.Errorf("%w: no t=", ErrInvalidHeader)
	}
	if len(p.v1) == 0 {
		return p, ErrNoSignatures
	}
	return p, nil
}

// parseUnix parses ASCII decimal digits (no sign) as unix seconds.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 19 {
		return 0, fmt.Errorf("%w: bad t=%q", ErrInvalidHeader, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: bad t=%q", ErrInvalidHeader, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad t=%q: %w", ErrInvalidHeader, s, err)
	}
	return n, nil
}

// Verify checks that header (the Stripe-Signature value) carries a v1
// signature of payload (the raw request body, byte for byte) made with secret,
// and that its timestamp is within tolerance of now in either direction (a
// tolerance <= 0 means DefaultTolerance). Any one matching v1 entry suffices,
// which is how Stripe rolls endpoint secrets; signatures are compared in
// constant time.
//
// Errors wrap ErrEmptySecret, ErrMissingHeader, ErrInvalidHeader,
// ErrNoSignatures, ErrTimestampTooOld, ErrTimestampTooNew or
// ErrNoValidSignature.
func Verify(payload []byte, header string, secret string, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return ErrEmptySecret
	}
	if header == "" {
		return ErrMissingHeader
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	p, err := parseHeader(header)
	if err != nil {
		return err
	}
	expected := computeSignature(payload, secret, p.unix)
	matched := false
	for _, sig := range p.v1 {
		if hmac.Equal(sig, expected) {
			matched = true
		}
	}
	if !matched {
		return ErrNoValidSignature
	}
	ts := time.Unix(p.unix, 0)
	if now.Sub(ts) > tolerance {
		return fmt.Errorf("%w: signed %s ago", ErrTimestampTooOld, now.Sub(ts))
	}
	if ts.Sub(now) > tolerance {
		return fmt.Errorf("%w: signed %s ahead", ErrTimestampTooNew, ts.Sub(now))
	}
	return nil
}
