// Package webhook owns Parrain's outgoing webhooks: signing and verifying them
// per the Standard Webhooks specification v1.0.0, delivering them over an
// SSRF-safe HTTP transport, and the retry schedule.
//
// Signing: the signed content is "<webhook-id>.<webhook-timestamp>.<payload>",
// the key is the base64-decoded part of a "whsec_<base64>" secret, the MAC is
// HMAC-SHA256 and the header value is "v1,<base64 std padded MAC>". Several
// space-separated signatures may be sent (for key rotation); a verifier accepts
// the message if any "v1" signature matches.
//
// The package imports only the standard library.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names defined by the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"        // message id, the same across retries of one message
	HeaderTimestamp = "webhook-timestamp" // unix seconds of the attempt
	HeaderSignature = "webhook-signature" // space-separated "v1,<base64>" signatures
)

// SecretPrefix is the prefix of every webhook secret; the rest is the key in
// standard, padded base64.
const SecretPrefix = "whsec_"

// Tolerance is how far the webhook-timestamp may be from the verifier's clock,
// in either direction, before the message is rejected as a possible replay.
const Tolerance = 5 * time.Minute

// SecretBytes is the number of random key bytes NewSecret generates (the
// specification recommends 24 to 64).
const SecretBytes = 32

// signatureVersion is the only signature scheme this package produces and
// accepts (symmetric HMAC-SHA256).
const signatureVersion = "v1"

// Sentinel errors returned (wrapped) by Sign and Verify. Callers map them with
// errors.Is.
var (
	// ErrInvalidSecret: the secret is empty, lacks the "whsec_" prefix or is
	// not valid base64.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
	// ErrInvalidMessageID: Sign was given an empty message id.
	ErrInvalidMessageID = errors.New("webhook: invalid message id")
	// ErrMissingHeader: webhook-id, webhook-timestamp or webhook-signature is
	// absent or empty. The wrapping error names the header.
	ErrMissingHeader = errors.New("webhook: missing header")
	// ErrInvalidTimestamp: webhook-timestamp is not a decimal unix time.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")
	// ErrTimestampTooOld: webhook-timestamp is more than Tolerance in the past.
	ErrTimestampTooOld = errors.New("webhook: timestamp too old")
	// ErrTimestampTooNew: webhook-timestamp is more than Tolerance in the
	// future.
	ErrTimestampTooNew = errors.New("webhook: timestamp too new")
	// ErrNoMatchingSignature: no "v1" signature in webhook-signature matches.
	ErrNoMatchingSignature = errors.New("webhook: no matching signature")
)

// decodeSecret returns the HMAC key of a "whsec_<base64>" secret.
func decodeSecret(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	if enc == "" {
		return nil, fmt.Errorf("%w: empty key", ErrInvalidSecret)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: key is not standard base64: %w", ErrInvalidSecret, err)
	}
	return key, nil
}

// mac computes HMAC-SHA256(key, "<id>.<unix>.<payload>").
func mac(key []byte, msgID string, unix int64, payload []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, unix, 10))
	h.Write([]byte{'.'})
	h.Write(payload)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header value ("v1,<base64>") for payload
// sent as message msgID at time ts (truncated to whole seconds, which is what
// the webhook-timestamp header carries).
func Sign(secret string, msgID string, ts time.Time, payload []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", err
	}
	if msgID == "" {
		return "", ErrInvalidMessageID
	}
	sig := mac(key, msgID, ts.Unix(), payload)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a received webhook: the three Standard Webhooks headers must be
// present, webhook-timestamp must be within Tolerance of now (both ways), and
// at least one "v1" entry of the space-separated webhook-signature list must
// equal the expected signature (compared in constant time). Entries of other
// versions and malformed entries are skipped. payload must be the raw request
// body, byte for byte.
//
// Errors wrap ErrInvalidSecret, ErrMissingHeader, ErrInvalidTimestamp,
// ErrTimestampTooOld, ErrTimestampTooNew or ErrNoMatchingSignature.
func Verify(secret string, header http.Header, payload []byte, now time.Time) error {
	key, err := decodeSecret(secret)
	if err != nil {
		return err
	}
	msgID := header.Get(HeaderID)
	tsHeader := header.Get(HeaderTimestamp)
	sigHeader := header.Get(HeaderSignature)
	for _, h := range [...]struct{ name, value string }{
		{HeaderID, msgID}, {HeaderTimestamp, tsHeader}, {HeaderSignature, sigHeader},
	} {
		if h.value == "" {
			return fmt.Errorf("%w: %s", ErrMissingHeader, h.name)
		}
	}

	unix, err := parseUnix(tsHeader)
	if err != nil {
		return err
	}
	ts := time.Unix(unix, 0)
	if now.Sub(ts) > Tolerance {
		return fmt.Errorf("%w: %s is %s before now", ErrTimestampTooOld, HeaderTimestamp, now.Sub(ts))
	}
	if ts.Sub(now) > Tolerance {
		return fmt.Errorf("%w: %s is %s after now", ErrTimestampTooNew, HeaderTimestamp, ts.Sub(now))
	}

	expected := mac(key, msgID, unix, payload)
	for _, entry := range strings.Fields(sigHeader) {
		version, enc, ok := strings.Cut(entry, ",")
		if !ok || version != signatureVersion {
			continue
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(enc)
		if err != nil {
			continue
		}
		if hmac.Equal(sig, expected) {
			return nil
		}
	}
	return ErrNoMatchingSignature
}

// parseUnix parses a webhook-timestamp value: ASCII decimal digits only (no
// sign, no spaces), as the specification defines it.
func parseUnix(s string) (int64, error) {
	if len(s) > 19 {
		return 0, fmt.Errorf("%w: too long", ErrInvalidTimestamp)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: %q is not a decimal unix time", ErrInvalidTimestamp, s)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidTimestamp, err)
	}
	return n, nil
}

// NewSecret returns a fresh secret: "whsec_" followed by SecretBytes random
// bytes from crypto/rand in standard, padded base64.
func NewSecret() (string, error) {
	key := make([]byte, SecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("webhook: generating secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
