package api

import (
	"log/slog"
	"net/http"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Status maps a domain error code to its HTTP status. It is the only place
// where that mapping lives.
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
	default:
		return http.StatusInternalServerError
	}
}

// ErrorBody is the JSON shape of every error answer.
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

// WriteError answers with err as JSON. Internal errors are logged with the
// request and answered with a generic message, never with their details.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e := parrain.AsError(err)
	if e == nil {
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &parrain.Error{Code: parrain.CodeInternal, Message: "internal error; it has been logged"}
	}
	writeJSON(w, Status(e.Code), ErrorBody{ErrorDetail{Code: e.Code, Message: e.Message, Field: e.Field}})
}
