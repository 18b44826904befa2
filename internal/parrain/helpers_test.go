package parrain

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// wantInvalid fails unless err is a CodeInvalid *Error on exactly field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want invalid_argument on %q", field)
	}
	e := AsError(err)
	if e == nil {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Code != CodeInvalid {
		t.Fatalf("code = %q, want %q (err %v)", e.Code, CodeInvalid, err)
	}
	if e.Field != field {
		t.Fatalf("field = %q, want %q (err %v)", e.Field, field, err)
	}
	if e.Message == "" {
		t.Fatalf("empty message for field %q", field)
	}
}

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

func TestErrorHelpers(t *testing.T) {
	inv := Invalid("rules[0].amount", "must be %d", 5)
	if got, want := inv.Error(), "invalid_argument: rules[0].amount: must be 5"; got != want {
		t.Errorf("Invalid.Error() = %q, want %q", got, want)
	}
	nf := Errorf(CodeNotFound, "program %s", "p1")
	if got, want := nf.Error(), "not_found: program p1"; got != want {
		t.Errorf("Errorf.Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("ctx: %w", nf)
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil", nil, ""},
		{"domain", inv, CodeInvalid},
		{"wrapped", wrapped, CodeNotFound},
		{"plain", errors.New("boom"), CodeInternal},
	}
	for _, tc := range tests {
		if got := ErrorCode(tc.err); got != tc.want {
			t.Errorf("%s: ErrorCode = %q, want %q", tc.name, got, tc.want)
		}
	}
	if AsError(wrapped) != nf {
		t.Error("AsError(wrapped) did not return the wrapped *Error")
	}
	if AsError(errors.New("x")) != nil || AsError(nil) != nil {
		t.Error("AsError of non-domain error should be nil")
	}
}

func TestFakeClock(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	c := NewFakeClock(time.Date(2025, 1, 1, 13, 0, 0, 0, paris))
	if got := c.Now(); !got.Equal(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)) || got.Location() != time.UTC {
		t.Fatalf("Now = %v, want 12:00 UTC", got)
	}
	c.Advance(90 * time.Minute)
	if got := c.Now(); !got.Equal(time.Date(2025, 1, 1, 13, 30, 0, 0, time.UTC)) {
		t.Fatalf("after Advance Now = %v", got)
	}
	c.Set(t0.In(paris))
	if got := c.Now(); !got.Equal(t0) || got.Location() != time.UTC {
		t.Fatalf("after Set Now = %v", got)
	}
	if loc := (SystemClock{}).Now().Location(); loc != time.UTC {
		t.Fatalf("SystemClock location = %v", loc)
	}
}
