package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestDeliver(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"type":"referral.converted","data":{"id":"ref_1"}}`)

	tests := []struct {
		name       string
		status     int
		body       string
		wantErr    error
		wantBody   string
		wantStatus int
	}{
		{"200", http.StatusOK, "ok", nil, "ok", 200},
		{"204", http.StatusNoContent, "", nil, "", 204},
		{"299", 299, "", nil, "", 299},
		{"400", http.StatusBadRequest, "bad", ErrUnsuccessfulStatus, "bad", 400},
		{"500 long body truncated", http.StatusInternalServerError, strings.Repeat("x", 5000), ErrUnsuccessfulStatus, strings.Repeat("x", MaxResponseBody), 500},
		{"301 not followed", http.StatusMovedPermanently, "", ErrUnsuccessfulStatus, "", 301},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var verifyErr error
			var gotEvent, gotCT string
			var redirected bool
			mux := http.NewServeMux()
			mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { redirected = true })
			mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				verifyErr = Verify(secret, r.Header, body, time.Now())
				if r.Method != http.MethodPost || !bytes.Equal(body, payload) {
					verifyErr = errors.New("wrong method or body")
				}
				gotEvent = r.Header.Get(HeaderEventType)
				gotCT = r.Header.Get("Content-Type")
				if tt.status == http.StatusMovedPermanently {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()

			status, body, err := Deliver(context.Background(), NewClient(true), srv.URL+"/hook", secret, "msg_2Xyz", "referral.converted", payload)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q (%d bytes), want %d bytes", body, len(body), len(tt.wantBody))
			}
			if verifyErr != nil {
				t.Errorf("receiver could not verify: %v", verifyErr)
			}
			if gotEvent != "referral.converted" || gotCT != "application/json" {
				t.Errorf("event header %q, content type %q", gotEvent, gotCT)
			}
			if redirected {
				t.Error("redirect was followed")
			}
		})
	}
}

func TestDeliverRefusesLoopbackByDefault(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit = true }))
	defer srv.Close()
	secret, _ := NewSecret()
	status, _, err := Deliver(context.Background(), NewClient(false), srv.URL, secret, "msg_1", "t", []byte("{}"))
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("err = %v, want ErrForbiddenAddress", err)
	}
	if status != 0 || hit {
		t.Fatalf("status = %d, hit = %v; want no request", status, hit)
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	secret, _ := NewSecret()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Deliver(ctx, NewClient(true), srv.URL, secret, "msg_1", "t", []byte("{}"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestDeliverInvalidInput(t *testing.T) {
	secret, _ := NewSecret()
	tests := []struct {
		name     string
		client   *http.Client
		endpoint string
		secret   string
		msgID    string
		want     error
	}{
		{"relative URL", NewClient(true), "/hook", secret, "msg_1", ErrInvalidEndpoint},
		{"ftp URL", NewClient(true), "ftp://example.com/hook", secret, "msg_1", ErrInvalidEndpoint},
		{"unparsable URL", NewClient(true), "http://[::1", secret, "msg_1", ErrInvalidEndpoint},
		{"bad secret", NewClient(true), "https://example.com/hook", "nope", "msg_1", ErrInvalidSecret},
		{"empty id", NewClient(true), "https://example.com/hook", secret, "", ErrInvalidMessageID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Deliver(context.Background(), tt.client, tt.endpoint, tt.secret, tt.msgID, "t", []byte("{}"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, _, err := Deliver(context.Background(), nil, "https://example.com/hook", secret, "msg_1", "t", nil); err == nil {
		t.Fatal("nil client: want error")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{
		5 * time.Second, 5 * time.Minute, 30 * time.Minute,
		2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
	}
	if MaxAttempts != len(want)+1 {
		t.Fatalf("MaxAttempts = %d, want %d", MaxAttempts, len(want)+1)
	}
	var total time.Duration
	for i, w := range want {
		attempt := i + 1
		if got := Backoff(attempt); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", attempt, got, w)
		}
		if attempt > 1 && Backoff(attempt) < Backoff(attempt-1) {
			t.Errorf("Backoff(%d) < Backoff(%d)", attempt, attempt-1)
		}
		total += Backoff(attempt)
	}
	if total < 24*time.Hour {
		t.Fatalf("schedule spans %v, want at least 24h", total)
	}
	for _, a := range []int{-1, 0} {
		if got := Backoff(a); got != 0 {
			t.Errorf("Backoff(%d) = %v, want 0", a, got)
		}
	}
	for _, a := range []int{MaxAttempts, MaxAttempts + 10} {
		if got := Backoff(a); got != 10*time.Hour {
			t.Errorf("Backoff(%d) = %v, want 10h", a, got)
		}
	}
}
