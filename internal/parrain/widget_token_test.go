package parrain

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWidgetTokens(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	const secA, secB, oldA = "pws_aaaa", "pws_bbbb", "pws_old"
	secrets := func(_ context.Context, id string) (string, string, error) {
		switch id {
		case "prog_a":
			return secA, oldA, nil
		case "prog_b":
			return secB, "", nil
		case "prog_new":
			return "", "", nil
		}
		return "", "", Errorf(CodeNotFound, "program not found")
	}
	valid := MintWidgetToken(secA, "prog_a", "user_42", now.Add(time.Hour))
	forge := func(payload string, secret string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(widgetTokenMAC(secret, payload))
	}
	// The same claims with the signature of another token.
	sig := valid[strings.IndexByte(valid, '.'):]
	tampered := base64.RawURLEncoding.EncodeToString([]byte("v1\nprog_a\nuser_1\n"+itoa(now.Add(time.Hour).Unix()))) + sig
	tests := []struct {
		name, tok, program string
		ok                 bool
		msg                string
	}{
		{"valid", valid, "", true, ""},
		{"valid with expected program", valid, "prog_a", true, ""},
		{"previous secret in grace", MintWidgetToken(oldA, "prog_a", "user_42", now.Add(time.Hour)), "", true, ""},
		{"other advocate, same signature", tampered, "", false, "signature"},
		{"signed with another program's secret", MintWidgetToken(secB, "prog_a", "user_42", now.Add(time.Hour)), "", false, "signature"},
		{"cross-program: valid for b, used for a", MintWidgetToken(secB, "prog_b", "user_42", now.Add(time.Hour)), "prog_a", false, "another program"},
		{"cross-program: a's token claiming b", MintWidgetToken(secA, "prog_b", "user_42", now.Add(time.Hour)), "", false, "signature"},
		{"expired", MintWidgetToken(secA, "prog_a", "user_42", now.Add(-time.Second)), "", false, "expired"},
		{"expires now", MintWidgetToken(secA, "prog_a", "user_42", now), "", false, "expired"},
		{"too long-lived", MintWidgetToken(secA, "prog_a", "user_42", now.Add(25*time.Hour+10*time.Minute)), "", false, "too far"},
		{"no secret yet", MintWidgetToken("", "prog_new", "user_42", now.Add(time.Hour)), "", false, "no widget secret"},
		{"unknown program", MintWidgetToken(secA, "prog_x", "user_42", now.Add(time.Hour)), "", false, "invalid"},
		{"empty", "", "", false, "required"},
		{"no signature", strings.Split(valid, ".")[0], "", false, "malformed"},
		{"not base64", "!!!.???", "", false, "malformed"},
		{"wrong version", forge("v2\nprog_a\nuser_42\n"+itoa(now.Add(time.Hour).Unix()), secA), "", false, "malformed"},
		{"extra field", forge("v1\nprog_a\nuser_42\n"+itoa(now.Add(time.Hour).Unix())+"\nadmin", secA), "", false, "malformed"},
		{"bad expiry", forge("v1\nprog_a\nuser_42\nsoon", secA), "", false, "expiry"},
		{"empty external id", forge("v1\nprog_a\n\n"+itoa(now.Add(time.Hour).Unix()), secA), "", false, "malformed"},
		{"unsigned", forge("v1\nprog_a\nuser_42\n"+itoa(now.Add(time.Hour).Unix()), ""), "", false, "signature"},
	}
	for _, tc := range tests {
		c, err := VerifyWidgetToken(context.Background(), secrets, tc.tok, tc.program, now)
		if tc.ok {
			if err != nil || c.ProgramID != "prog_a" || c.ExternalID != "user_42" {
				t.Errorf("%s: %+v %v", tc.name, c, err)
			}
			continue
		}
		e := AsError(err)
		if e == nil || e.Code != CodeUnauthenticated || !strings.Contains(e.Message, tc.msg) {
			t.Errorf("%s: got %v, want unauthenticated %q", tc.name, err, tc.msg)
		}
		if c != (WidgetClaims{}) {
			t.Errorf("%s: claims leaked on error: %+v", tc.name, c)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
