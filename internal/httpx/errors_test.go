package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code parrain.Code
		want int
	}{
		{parrain.CodeInvalid, 400},
		{parrain.CodeNotFound, 404},
		{parrain.CodeConflict, 409},
		{parrain.CodeIdempotencyReuse, 422},
		{parrain.CodeUnauthenticated, 401},
		{parrain.CodeForbidden, 403},
		{parrain.CodeRateLimited, 429},
		{parrain.CodeTooLarge, 413},
		{parrain.CodeUnavailable, 503},
		{parrain.CodeInternal, 500},
		{"no_such_code", 500},
		{"", 500},
	}
	for _, c := range cases {
		if got := Status(c.code); got != c.want {
			t.Errorf("Status(%q) = %d, want %d", c.code, got, c.want)
		}
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		wantStatus int
		want       string // the exact body
		wantLogged bool
	}{
		{"validation with field", parrain.Invalid("rules[0].amount", "must be positive"), 400,
			`{"error":{"code":"invalid_argument","message":"must be positive","field":"rules[0].amount"}}`, false},
		{"no field is omitted", parrain.Errorf(parrain.CodeNotFound, "program not found"), 404,
			`{"error":{"code":"not_found","message":"program not found"}}`, false},
		{"wrapped domain error", fmt.Errorf("creating: %w", parrain.Errorf(parrain.CodeConflict, "code taken")), 409,
			`{"error":{"code":"conflict","message":"code taken"}}`, false},
		{"rate limited", parrain.Errorf(parrain.CodeRateLimited, "slow down"), 429,
			`{"error":{"code":"rate_limited","message":"slow down"}}`, false},
		{"internal details are hidden and logged", errors.New("pq: connection refused to 10.0.0.3"), 500,
			`{"error":{"code":"internal","message":"internal error; it has been logged"}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			w := httptest.NewRecorder()
			WriteError(w, httptest.NewRequest("GET", "/api/v1/x", nil), log, c.err)
			if w.Code != c.wantStatus {
				t.Errorf("status %d, want %d", w.Code, c.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, w.Body.Bytes()); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, w.Body)
			}
			if compact.String() != c.want {
				t.Errorf("body %s\nwant %s", compact.String(), c.want)
			}
			if logged := strings.Contains(logs.String(), "internal error"); logged != c.wantLogged {
				t.Errorf("logged = %v, want %v: %s", logged, c.wantLogged, logs.String())
			}
			if strings.Contains(w.Body.String(), "10.0.0.3") {
				t.Error("internal details leaked")
			}
		})
	}
}

func TestPublic(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	r := httptest.NewRequest(http.MethodPost, "/admin/x", nil)
	want := parrain.Invalid("email", "is required")
	if got := Public(log, r, fmt.Errorf("x: %w", want)); got != want {
		t.Errorf("Public(domain error) = %v, want %v", got, want)
	}
	if got := Public(log, r, errors.New("boom")); got.Code != parrain.CodeInternal || got.Message != internalMessage || got.Field != "" {
		t.Errorf("Public(other error) = %+v", got)
	}
}
