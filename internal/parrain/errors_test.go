package parrain

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeAndAsError(t *testing.T) {
	notFound := Errorf(CodeNotFound, "program %q", "prog_1")
	bad := Invalid("rules[0].amount", "must be at least %d", 1)
	tests := []struct {
		name string
		err  error
		code Code
		as   *Error
		text string
	}{
		{"nil", nil, "", nil, ""},
		{"plain", errors.New("disk full"), CodeInternal, nil, "disk full"},
		{"domain", notFound, CodeNotFound, notFound, `not_found: program "prog_1"`},
		{"with field", bad, CodeInvalid, bad, "invalid_argument: rules[0].amount: must be at least 1"},
		{"wrapped", fmt.Errorf("saving: %w", bad), CodeInvalid, bad, "saving: invalid_argument: rules[0].amount: must be at least 1"},
		{"joined, first wins", errors.Join(errors.New("x"), notFound, bad), CodeNotFound, notFound, "x\n" + `not_found: program "prog_1"` + "\ninvalid_argument: rules[0].amount: must be at least 1"},
		{"wrapped plain", fmt.Errorf("a: %w", errors.New("b")), CodeInternal, nil, "a: b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("ErrorCode = %q, want %q", got, tt.code)
			}
			if got := AsError(tt.err); got != tt.as {
				t.Errorf("AsError = %v, want %v", got, tt.as)
			}
			if tt.err != nil && tt.err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", tt.err.Error(), tt.text)
			}
		})
	}
}

func TestErrorConstructors(t *testing.T) {
	if e := Invalid("email", "%s is not an address", "x"); *e != (Error{Code: CodeInvalid, Field: "email", Message: "x is not an address"}) {
		t.Errorf("Invalid = %+v", *e)
	}
	if e := Errorf(CodeConflict, "code %s taken", "ALICE"); *e != (Error{Code: CodeConflict, Message: "code ALICE taken"}) {
		t.Errorf("Errorf = %+v", *e)
	}
}
