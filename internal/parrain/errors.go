package parrain

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error code. The set is closed: the HTTP
// layer maps each one to a status in exactly one place, and clients switch on
// them.
type Code string

// The error codes Parrain returns.
const (
	CodeInvalid          Code = "invalid_argument"       // a field failed validation
	CodeNotFound         Code = "not_found"              // the resource does not exist (or is not visible to the caller)
	CodeConflict         Code = "conflict"               // the request conflicts with existing state (e.g. vanity code taken)
	CodeIdempotencyReuse Code = "idempotency_key_reused" // same Idempotency-Key, different request
	CodeUnauthenticated  Code = "unauthenticated"        // no or bad credentials
	CodeForbidden        Code = "permission_denied"      // authenticated, but not allowed
	CodeRateLimited      Code = "rate_limited"           // too many requests
	CodeTooLarge         Code = "payload_too_large"      // request body too large
	CodeInternal         Code = "internal"               // a bug or an unavailable dependency
	CodeUnavailable      Code = "unavailable"            // the server lacks a setting the request needs (its message names it)
)

// Error is a domain error carrying a stable code, a human message and, for
// validation errors, the offending field (JSON path like "rules[0].amount").
type Error struct {
	Code    Code
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error for field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
