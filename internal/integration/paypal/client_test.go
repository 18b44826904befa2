package paypal_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/paypal"
)

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  paypal.Error
		want string
	}{
		{paypal.Error{Status: 500}, "paypal: 500"},
		{paypal.Error{Status: 422, Name: "UNPROCESSABLE_ENTITY", Message: "The requested action could not be performed"},
			"paypal: 422 UNPROCESSABLE_ENTITY: The requested action could not be performed"},
		{paypal.Error{Status: 401, OAuthError: "invalid_client", OAuthDescription: "Client Authentication failed"},
			"paypal: 401 invalid_client: Client Authentication failed"},
		{paypal.Error{Status: 400, Name: "VALIDATION_ERROR", Message: "Invalid request", Details: []paypal.ErrorDetail{
			{Field: "items[0].receiver", Issue: "Receiver is invalid"}, {Field: "sender_batch_header.sender_batch_id", Issue: "Batch with given sender_batch_id already exists"}}},
			"paypal: 400 VALIDATION_ERROR: Invalid request [items[0].receiver: Receiver is invalid] [sender_batch_header.sender_batch_id: Batch with given sender_batch_id already exists]"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorClassification(t *testing.T) {
	dup := []paypal.ErrorDetail{{Field: "sender_batch_header.sender_batch_id", Issue: "Batch with given sender_batch_id already exists"}}
	tests := []struct {
		name      string
		err       paypal.Error
		permanent bool
		duplicate bool
	}{
		{"validation", paypal.Error{Status: 400, Name: "VALIDATION_ERROR"}, true, false},
		{"insufficient funds", paypal.Error{Status: 422, Name: "INSUFFICIENT_FUNDS"}, true, false},
		{"forbidden", paypal.Error{Status: 403, Name: "AUTHORIZATION_ERROR"}, true, false},
		{"not found", paypal.Error{Status: 404}, true, false},
		{"unauthorized is retried with a new token", paypal.Error{Status: 401}, false, false},
		{"timeout", paypal.Error{Status: 408}, false, false},
		{"conflict", paypal.Error{Status: 409}, false, false},
		{"rate limited", paypal.Error{Status: 429}, false, false},
		{"server error", paypal.Error{Status: 500}, false, false},
		{"unavailable", paypal.Error{Status: 503}, false, false},
		{"duplicate batch: the original is fetched instead", paypal.Error{Status: 400, Details: dup}, false, true},
		{"the issue alone names it", paypal.Error{Status: 400, Details: []paypal.ErrorDetail{{Issue: "Duplicate SENDER_BATCH_ID"}}}, false, true},
		{"sender_batch_id in a 422 is not a duplicate", paypal.Error{Status: 422, Details: dup}, true, false},
	}
	for _, tt := range tests {
		if got := tt.err.Permanent(); got != tt.permanent {
			t.Errorf("%s: Permanent() = %v, want %v", tt.name, got, tt.permanent)
		}
		if got := tt.err.DuplicateBatch(); got != tt.duplicate {
			t.Errorf("%s: DuplicateBatch() = %v, want %v", tt.name, got, tt.duplicate)
		}
	}
}

func TestOriginalBatchID(t *testing.T) {
	for _, tt := range []struct {
		links []paypal.Link
		want  string
	}{
		{nil, ""},
		{[]paypal.Link{{Href: "https://developer.paypal.com/docs/api/payments.payouts-batch/#errors", Rel: "information_link"}}, ""},
		{[]paypal.Link{{Href: "https://api-m.paypal.com/v1/payments/payouts/5UXD2E8A7EBQJ", Rel: "self"}}, "5UXD2E8A7EBQJ"},
		{[]paypal.Link{{Href: "https://x/doc"}, {Href: "https://api-m.sandbox.paypal.com/v1/payments/payouts/ABC?fields=batch_header"}}, "ABC"},
		{[]paypal.Link{{Href: "/v1/payments/payouts/ABC/cancel"}}, "ABC"},
	} {
		e := paypal.Error{Status: 400, Links: tt.links}
		if got := e.OriginalBatchID(); got != tt.want {
			t.Errorf("links %v: OriginalBatchID() = %q, want %q", tt.links, got, tt.want)
		}
	}
}

// api is a scripted PayPal: the token endpoint answers token (a JSON
// document), the payouts endpoint answers status and body.
type api struct {
	mu         sync.Mutex
	token      string
	status     int
	body       string
	tokenCalls int
	tokenAuth  []string
	reqs       []*http.Request
	bodies     []string
}

func (a *api) start(t *testing.T) *paypal.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		defer a.mu.Unlock()
		if r.URL.Path == "/v1/oauth2/token" {
			a.tokenCalls++
			user, pass, _ := r.BasicAuth()
			a.tokenAuth = append(a.tokenAuth, user+":"+pass+" "+string(b)+" "+r.Header.Get("Content-Type"))
			_, _ = io.WriteString(w, a.token)
			return
		}
		a.reqs = append(a.reqs, r)
		a.bodies = append(a.bodies, string(b))
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	return paypal.New(paypal.Config{ClientID: "cid", Secret: "sec", APIURL: srv.URL + "/"})
}

func TestTokenLifetime(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		calls     int
		wantToken int
		wantErr   string
	}{
		{"a nine-hour token is reused", `{"access_token":"A","token_type":"Bearer","expires_in":32400}`, 3, 1, ""},
		{"a token that expires at once is fetched every time", `{"access_token":"A","expires_in":0}`, 3, 3, ""},
		{"an answer without a token", `{"token_type":"Bearer","expires_in":32400}`, 2, 2, "paypal: token answer without access_token"},
		{"an undecodable token answer", `{"access_token":`, 1, 1, "paypal: getting an access token: paypal: decoding answer: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &api{token: tt.token, status: 200, body: `{"batch_header":{"payout_batch_id":"B"}}`}
			c := a.start(t)
			for range tt.calls {
				_, err := c.GetPayout(context.Background(), "B")
				if tt.wantErr == "" && err != nil {
					t.Fatal(err)
				}
				if tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)) {
					t.Fatalf("error %v, want prefix %q", err, tt.wantErr)
				}
			}
			if a.tokenCalls != tt.wantToken {
				t.Errorf("%d token requests, want %d", a.tokenCalls, tt.wantToken)
			}
			if got := a.tokenAuth[0]; got != "cid:sec grant_type=client_credentials application/x-www-form-urlencoded" {
				t.Errorf("token request %q", got)
			}
			if tt.wantErr != "" && len(a.reqs) != 0 {
				t.Errorf("%d API requests without a token", len(a.reqs))
			}
		})
	}
	t.Run("OAuth refusal", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Client Authentication failed"}`)
		}))
		defer srv.Close()
		_, err := paypal.New(paypal.Config{APIURL: srv.URL}).GetPayout(context.Background(), "B")
		var pe *paypal.Error
		if !errors.As(err, &pe) || pe.Status != 401 || pe.OAuthError != "invalid_client" {
			t.Fatalf("error %v", err)
		}
		if want := "paypal: getting an access token: paypal: 401 invalid_client: Client Authentication failed"; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	})
}

func TestRequests(t *testing.T) {
	a := &api{token: `{"access_token":"TOK","expires_in":32400}`, status: 201,
		body: `{"batch_header":{"payout_batch_id":"5UXD","batch_status":"PENDING","sender_batch_header":{"sender_batch_id":"prn_1"}}}`}
	c := a.start(t)
	req := paypal.CreateRequest{
		SenderBatchHeader: paypal.SenderBatchHeader{SenderBatchID: "prn_1"},
		Items:             []paypal.Item{{RecipientType: "EMAIL", Amount: paypal.Money{Value: "1234.50", Currency: "JPY"}, Receiver: "a@example.com", SenderItemID: "prn_1"}},
	}
	h, err := c.CreatePayout(context.Background(), req)
	if err != nil || h.PayoutBatchID != "5UXD" || h.BatchStatus != "PENDING" || h.SenderBatchHeader.SenderBatchID != "prn_1" {
		t.Fatalf("create: %+v %v", h, err)
	}
	r := a.reqs[0]
	if r.Method != "POST" || r.URL.Path != "/v1/payments/payouts" || r.Header.Get("PayPal-Request-Id") != "prn_1" ||
		r.Header.Get("Authorization") != "Bearer TOK" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("create request %s %s %v", r.Method, r.URL, r.Header)
	}
	// The body is PayPal's documented shape; empty optional fields are omitted.
	var sent map[string]any
	if err := json.Unmarshal([]byte(a.bodies[0]), &sent); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(sent); got != "map[items:[map[amount:map[currency:JPY value:1234.50] receiver:a@example.com recipient_type:EMAIL sender_item_id:prn_1]] sender_batch_header:map[sender_batch_id:prn_1]]" {
		t.Errorf("body %s", got)
	}

	// Ids are escaped; ids that could change the path are refused unsent.
	if _, err := c.GetPayout(context.Background(), "A B"); err != nil {
		t.Fatal(err)
	}
	if got := a.reqs[1].URL.EscapedPath(); got != "/v1/payments/payouts/A%20B" || a.reqs[1].Header.Get("Content-Type") != "" {
		t.Errorf("get path %s", got)
	}
	for _, id := range []string{"", "a/b", "a?b=1", "a#b"} {
		if _, err := c.GetPayout(context.Background(), id); err == nil || !strings.Contains(err.Error(), "bad payout batch id") {
			t.Errorf("GetPayout(%q) = %v", id, err)
		}
	}
	if len(a.reqs) != 2 {
		t.Errorf("%d requests, want 2", len(a.reqs))
	}
}

func TestAnswerBodies(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name    string
		status  int
		body    string
		message string
		prefix  string
	}{
		{"plain-text error is the message", 502, "  Bad Gateway\n", "Bad Gateway", ""},
		{"a long error page is cut at 200 bytes", 500, long, long[:200], ""},
		{"an undecodable success", 200, `{"batch_header":`, "", "paypal: decoding answer: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &api{token: `{"access_token":"T","expires_in":32400}`, status: tt.status, body: tt.body}
			_, err := a.start(t).GetPayout(context.Background(), "B")
			if tt.prefix != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.prefix) {
					t.Errorf("error %v, want prefix %q", err, tt.prefix)
				}
				return
			}
			var pe *paypal.Error
			if !errors.As(err, &pe) || pe.Status != tt.status || pe.Message != tt.message {
				t.Errorf("error %#v", err)
			}
		})
	}
	t.Run("a second 401 is returned", func(t *testing.T) {
		a := &api{token: `{"access_token":"T","expires_in":32400}`, status: 401, body: `{"error":"invalid_token"}`}
		_, err := a.start(t).GetPayout(context.Background(), "B")
		var pe *paypal.Error
		if !errors.As(err, &pe) || pe.Status != 401 || pe.OAuthError != "invalid_token" {
			t.Fatalf("error %v", err)
		}
		if len(a.reqs) != 2 || a.tokenCalls != 2 {
			t.Errorf("%d requests, %d token requests: want one retry with a fresh token", len(a.reqs), a.tokenCalls)
		}
	})
}
