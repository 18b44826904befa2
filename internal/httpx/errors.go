package httpx

import (
	"log/slog"
	"net/http"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Status maps a domain error code to its HTTP status. It is the only place
// where that mapping lives; unknown codes are internal errors.
func Status(c parrain.Code) int {
	switch c {
	case parrain.CodeInvalid:
		return http.StatusBadRequest
	case parrain.CodeNotFound:
		return http.StatusNotFound
	case parrain.CodeConflict:
		return http.StatusConflict
	case parrain.CodeIdempotencyReuse:
		return http.StatusUnprocessableEntity
	case parrain.CodeUnauthenticated:
		return http.StatusUnauthorized
	case parrain.CodeForbidden:
		return http.StatusForbidden
	case parrain.CodeRateLimited:
		return http.StatusTooManyRequests
	case parrain.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case parrain.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every error answer:
// {"error": {"code", "message", "field"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail carries a stable code, a human message and, for validation
// errors, the offending field.
type ErrorDetail struct {
	Code    parrain.Code `json:"code"`
	Message string       `json:"message"`
	Field   string       `json:"field,omitempty"`
}

// internalMessage is all a client learns of an internal error.
const internalMessage = "internal error; it has been logged"

// Public returns what a client may be told about err: the domain error in
// its chain, or, for anything else, a generic internal error after logging
// err with the request. HTML pages and JSON answers both go through it.
func Public(log *slog.Logger, r *http.Request, err error) *parrain.Error {
	if e := parrain.AsError(err); e != nil {
		return e
	}
	log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return &parrain.Error{Code: parrain.CodeInternal, Message: internalMessage}
}

// WriteError answers with err as a JSON ErrorBody and the status of its
// code. Internal errors are logged with the request and answered with a
// generic message, never with their details.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := Public(log, r, err)
	WriteJSON(w, Status(e.Code), ErrorBody{ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}
