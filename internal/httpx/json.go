package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// MaxBody is the default bound of a request body: 1 MiB.
const MaxBody = 1 << 20

// WriteJSON answers v as indented JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ReadBody reads the request body, at most limit bytes (when limit <= 0,
// the route's cap set by Guard, else MaxBody); a larger body is a
// payload_too_large error.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = BodyCap(r)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, parrain.Errorf(parrain.CodeTooLarge, "the request body exceeds %d bytes", limit)
	}
	if err != nil {
		return nil, parrain.Invalid("body", "reading the request body: %v", err)
	}
	return b, nil
}

// ReadJSON reads the body (at most limit bytes, see ReadBody) and decodes
// it strictly into v with DecodeJSON. The raw body is returned too, for
// idempotency hashing.
func ReadJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) ([]byte, error) {
	body, err := ReadBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	return body, DecodeJSON(body, v)
}

// DecodeJSON parses one JSON object strictly into v: unknown fields,
// keys given twice, NUL characters and invalid UTF-8 in strings, a null
// document, trailing data and wrong types are invalid_argument errors
// naming the offending field ("body" when the problem is not one field's).
// It is the one place every JSON request body is decoded.
func DecodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return parrain.Invalid("body", "a JSON object is required")
	}
	if err := checkJSON(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		return parrain.Invalid("body", "unexpected data after the JSON object")
	}
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return parrain.Invalid("body", "malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		f := te.Field
		if f == "" {
			f = "body"
		}
		return parrain.Invalid(f, "must be %s, not %s", jsonType(te.Type.String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return parrain.Invalid(f, "is not a known field")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return parrain.Invalid("body", "truncated JSON")
	}
	// time.Time and other UnmarshalJSON errors.
	return parrain.Invalid("body", "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names a Go type the way a JSON client thinks of it.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case goType == "string" || strings.HasSuffix(goType, "Status") || strings.HasSuffix(goType, "Type") || strings.HasSuffix(goType, "Kind") || strings.HasSuffix(goType, "Model") || strings.HasSuffix(goType, "Trigger"):
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "time.Time":
		return "an RFC 3339 timestamp"
	}
	return "an object"
}
