package parrain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEventContextNormalize(t *testing.T) {
	var nilCtx *EventContext
	if err := nilCtx.Normalize(); err != nil {
		t.Fatalf("a nil context: %v", err)
	}
	good := []struct {
		in, want EventContext
	}{
		{EventContext{}, EventContext{}},
		{EventContext{IP: " 192.0.2.1 "}, EventContext{IP: "192.0.2.1"}},
		{EventContext{IP: "::ffff:192.0.2.1"}, EventContext{IP: "192.0.2.1"}}, // an IPv4 seen over IPv6 is the IPv4
		{EventContext{IP: "2001:DB8::1"}, EventContext{IP: "2001:db8::1"}},
		{EventContext{UserAgent: "  Firefox  ", DeviceID: " d1 ", PaymentFingerprint: " fp ", Address: " 1 rue X "},
			EventContext{UserAgent: "Firefox", DeviceID: "d1", PaymentFingerprint: "fp", Address: "1 rue X"}},
		{EventContext{Country: " fr ", AlreadyCustomer: true}, EventContext{Country: "FR", AlreadyCustomer: true}},
		{EventContext{UserAgent: strings.Repeat("u", 500), DeviceID: strings.Repeat("d", 200)},
			EventContext{UserAgent: strings.Repeat("u", 500), DeviceID: strings.Repeat("d", 200)}},
	}
	for _, c := range good {
		got := c.in
		if err := got.Normalize(); err != nil || got != c.want {
			t.Errorf("%+v: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in    EventContext
		field string
	}{
		{EventContext{IP: "192.0.2"}, "context.ip"},
		{EventContext{IP: "localhost"}, "context.ip"},
		{EventContext{IP: "192.0.2.1:80"}, "context.ip"},
		{EventContext{UserAgent: strings.Repeat("u", 501)}, "context.user_agent"},
		{EventContext{DeviceID: strings.Repeat("d", 201)}, "context.device_id"},
		{EventContext{PaymentFingerprint: strings.Repeat("p", 201)}, "context.payment_fingerprint"},
		{EventContext{Address: strings.Repeat("a", 501)}, "context.address"},
		{EventContext{Country: "FRA"}, "context.country"},
		{EventContext{Country: "F"}, "context.country"},
		{EventContext{Country: "F1"}, "context.country"},
		{EventContext{Country: "1F"}, "context.country"},
		{EventContext{Country: "éa"}, "context.country"},
	}
	for _, c := range bad {
		in := c.in
		wantInvalid(t, in.Normalize(), c.field)
	}
}

func TestErrors(t *testing.T) {
	inv := Invalid("rules[0].amount", "must be at least %d", 1)
	if inv.Error() != "invalid_argument: rules[0].amount: must be at least 1" {
		t.Errorf("Invalid: %q", inv.Error())
	}
	nf := Errorf(CodeNotFound, "%s not found", "program")
	if nf.Error() != "not_found: program not found" || nf.Field != "" {
		t.Errorf("Errorf: %q %q", nf.Error(), nf.Field)
	}
	wrapped := fmt.Errorf("loading: %w", fmt.Errorf("inner: %w", nf))
	cases := []struct {
		name string
		err  error
		code Code
		as   *Error
	}{
		{"nil", nil, "", nil},
		{"domain", nf, CodeNotFound, nf},
		{"wrapped twice", wrapped, CodeNotFound, nf},
		{"plain", errors.New("disk full"), CodeInternal, nil},
		{"joined: the first domain error wins", errors.Join(errors.New("x"), inv, nf), CodeInvalid, inv},
	}
	for _, c := range cases {
		if got := ErrorCode(c.err); got != c.code {
			t.Errorf("%s: ErrorCode = %q, want %q", c.name, got, c.code)
		}
		if got := AsError(c.err); got != c.as {
			t.Errorf("%s: AsError = %v, want %v", c.name, got, c.as)
		}
	}
}

func TestReviewStatuses(t *testing.T) {
	for _, c := range []struct {
		status        string
		blocks, queue bool
	}{
		{ReviewNone, false, false},
		{ReviewFlagged, false, true},
		{ReviewHeld, true, true},
		{ReviewCleared, false, false},
		{ReviewRejected, false, false},
		{"", false, false},
	} {
		if UnderReview(c.status) != c.blocks || InReviewQueue(c.status) != c.queue {
			t.Errorf("%q: under review %v, in queue %v; want %v %v", c.status, UnderReview(c.status), InReviewQueue(c.status), c.blocks, c.queue)
		}
	}
}
