package parrain

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Widget tokens identify an advocate to the widget. The customer's backend
// mints one per page view with the program's widget secret:
//
//	payload = "v1\n" + program_id + "\n" + external_id + "\n" + expiry (unix seconds)
//	token   = base64url(payload) + "." + base64url(HMAC-SHA256(secret, payload))
//
// base64url is unpadded (RFC 4648 §5); the secret is the "pws_…" string as
// returned by POST /api/v1/programs/{id}/widget-secret, used as bytes.
// Newlines cannot occur in ids, so the payload is unambiguous, and the
// program id inside the signed payload makes a token of one program
// useless in another.

// MaxWidgetTokenTTL is the longest lifetime a widget token may have:
// tokens are minted per page view and must not be usable for long if they
// leak.
const MaxWidgetTokenTTL = 24 * time.Hour

// widgetTokenSkew tolerates clocks of the customer's servers slightly
// ahead.
const widgetTokenSkew = 5 * time.Minute

// WidgetClaims are what a valid token says.
type WidgetClaims struct {
	ProgramID  string
	ExternalID string
	Expires    time.Time
}

// MintWidgetToken signs a widget token (the reference implementation of
// what the customer's backend does; the docs give the same in other
// languages).
func MintWidgetToken(secret, programID, externalID string, expires time.Time) string {
	payload := "v1\n" + programID + "\n" + externalID + "\n" + strconv.FormatInt(expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(widgetTokenMAC(secret, payload))
}

func widgetTokenMAC(secret, payload string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func tokenRefused(msg string) error {
	return &Error{Code: CodeUnauthenticated, Field: "token", Message: msg}
}

// ParseWidgetToken decodes a token without checking its signature.
func ParseWidgetToken(tok string) (WidgetClaims, string, []byte, error) {
	var c WidgetClaims
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return c, "", nil, tokenRefused("a widget token is required (Authorization: Bearer <token>)")
	}
	p, s, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 2048 {
		return c, "", nil, tokenRefused("malformed widget token")
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(p)
	mac, err2 := base64.RawURLEncoding.DecodeString(s)
	if err1 != nil || err2 != nil {
		return c, "", nil, tokenRefused("malformed widget token")
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] == "" || parts[2] == "" {
		return c, "", nil, tokenRefused("malformed widget token")
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || exp <= 0 {
		return c, "", nil, tokenRefused("malformed widget token expiry")
	}
	if ValidateExternalID("external_id", parts[2]) != nil {
		return c, "", nil, tokenRefused("malformed widget token external id")
	}
	c = WidgetClaims{ProgramID: parts[1], ExternalID: parts[2], Expires: time.Unix(exp, 0).UTC()}
	return c, string(raw), mac, nil
}

// WidgetSecretSource returns a program's current widget secret and, during
// the grace period after a rotation, the previous one.
type WidgetSecretSource func(ctx context.Context, programID string) (current, previous string, err error)

// VerifyWidgetToken checks a token's signature against its program's
// secrets and its expiry at now. Forged, expired, over-long and other
// programs' tokens are refused with unauthenticated errors; program, when
// not empty, is the program the caller expects.
func VerifyWidgetToken(ctx context.Context, secrets WidgetSecretSource, tok, program string, now time.Time) (WidgetClaims, error) {
	c, payload, mac, err := ParseWidgetToken(tok)
	if err != nil {
		return c, err
	}
	if program != "" && program != c.ProgramID {
		return WidgetClaims{}, tokenRefused("this widget token belongs to another program")
	}
	cur, prev, err := secrets(ctx, c.ProgramID)
	if err != nil {
		if ErrorCode(err) == CodeNotFound {
			return WidgetClaims{}, tokenRefused("invalid widget token")
		}
		return WidgetClaims{}, err
	}
	if cur == "" {
		return WidgetClaims{}, tokenRefused("this program has no widget secret yet: create one with POST /api/v1/programs/{id}/widget-secret")
	}
	valid := hmac.Equal(mac, widgetTokenMAC(cur, payload)) || (prev != "" && hmac.Equal(mac, widgetTokenMAC(prev, payload)))
	if !valid {
		return WidgetClaims{}, tokenRefused("invalid widget token signature")
	}
	if !now.Before(c.Expires) {
		return WidgetClaims{}, tokenRefused("the widget token has expired: mint a new one for each page view")
	}
	if c.Expires.After(now.Add(MaxWidgetTokenTTL + widgetTokenSkew)) {
		return WidgetClaims{}, tokenRefused("the widget token expires too far in the future (at most 24 hours)")
	}
	return c, nil
}
