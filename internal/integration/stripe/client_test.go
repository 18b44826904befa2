package stripe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/stripe"
)

// transferJSON is a transfer object as Stripe documents it.
func transferJSON(id, group, dest string, amount int64, currency string) string {
	return fmt.Sprintf(`{"id":%q,"object":"transfer","amount":%d,"currency":%q,"destination":%q,"transfer_group":%q,"livemode":false,"reversed":false}`,
		id, amount, currency, dest, group)
}

// lister answers GET /v1/transfers with pages of transfers, following
// starting_after like Stripe's list endpoints.
type lister struct {
	mu       sync.Mutex
	pages    [][]string // transfer JSON per page
	requests []url.Values
}

func (l *lister) start(t *testing.T) *stripe.Client {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if r.Method != "GET" || r.URL.Path != "/v1/transfers" {
			http.Error(w, `{"error":{"type":"invalid_request_error","message":"unexpected"}}`, 400)
			return
		}
		q := r.URL.Query()
		l.requests = append(l.requests, q)
		page := 0
		if after := q.Get("starting_after"); after != "" {
			fmt.Sscanf(after, "tr_p%d_", &page)
			page++
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"list","url":"/v1/transfers","has_more":%v,"data":[%s]}`, page < len(l.pages)-1, strings.Join(l.pages[page], ","))
	}))
	t.Cleanup(srv.Close)
	return stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
}

func TestFindTransfer(t *testing.T) {
	req := stripe.TransferRequest{IdempotencyKey: "prn_key", Destination: "acct_A", Amount: 1500, Currency: "EUR"}
	tests := []struct {
		name   string
		pages  [][]string
		found  string
		listed int
	}{
		{"none", [][]string{{}}, "", 1},
		{"exact match", [][]string{{transferJSON("tr_p0_1", "prn_key", "acct_A", 1500, "eur")}}, "tr_p0_1", 1},
		{"another destination, amount or currency is not ours", [][]string{{
			transferJSON("tr_p0_1", "prn_key", "acct_B", 1500, "eur"),
			transferJSON("tr_p0_2", "prn_key", "acct_A", 1499, "eur"),
			transferJSON("tr_p0_3", "prn_key", "acct_A", 1500, "usd"),
			transferJSON("tr_p0_4", "prn_other", "acct_A", 1500, "eur"),
		}}, "", 1},
		{"found on the second page", [][]string{
			{transferJSON("tr_p0_1", "prn_key", "acct_B", 1, "eur")},
			{transferJSON("tr_p1_1", "prn_key", "acct_A", 1500, "eur")},
		}, "tr_p1_1", 2},
		{"the first match stops the listing", [][]string{
			{transferJSON("tr_p0_1", "prn_key", "acct_A", 1500, "eur")},
			{transferJSON("tr_p1_1", "prn_key", "acct_A", 1500, "eur")},
		}, "tr_p0_1", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &lister{pages: tt.pages}
			got, found, err := l.start(t).FindTransfer(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if found != (tt.found != "") || got.ID != tt.found {
				t.Errorf("found %v %+v, want %q", found, got, tt.found)
			}
			if found && (got.Currency != "EUR" || got.Destination != "acct_A" || got.Group != "prn_key" || got.Amount != 1500) {
				t.Errorf("transfer %+v", got)
			}
			if len(l.requests) != tt.listed {
				t.Fatalf("%d list requests, want %d", len(l.requests), tt.listed)
			}
			for _, q := range l.requests {
				if q.Get("transfer_group") != "prn_key" || q.Get("limit") != "10" {
					t.Errorf("list query %v: must filter by the transfer group", q)
				}
			}
		})
	}
	t.Run("list error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***x"}}`)
		}))
		defer srv.Close()
		_, found, err := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1}).FindTransfer(context.Background(), req)
		var se *stripe.Error
		if !errors.As(err, &se) || found || se.Status != 401 || !se.Permanent {
			t.Errorf("error %v found %v", err, found)
		}
	})
}

func TestRetriesKeepTheIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			// The one API answer stripe-go retries: a lock timeout.
			w.WriteHeader(429)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"lock_timeout","message":"try again"}}`)
			return
		}
		_, _ = io.WriteString(w, transferJSON("tr_1", "prn_retry", "acct_A", 100, "eur"))
	}))
	defer srv.Close()
	c := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL + "/", MaxNetworkRetries: 1})
	tr, err := c.Transfer(context.Background(), stripe.TransferRequest{IdempotencyKey: "prn_retry", Destination: "acct_A", Amount: 100, Currency: "EUR"})
	if err != nil || tr.ID != "tr_1" {
		t.Fatalf("transfer %+v %v", tr, err)
	}
	if len(keys) != 2 || keys[0] != "prn_retry" || keys[1] != "prn_retry" {
		t.Errorf("Idempotency-Key per attempt %q, want the payout's key twice", keys)
	}

	// MaxNetworkRetries < 0 means none: one attempt, the 429 is returned,
	// transient.
	mu.Lock()
	keys = nil
	mu.Unlock()
	c = stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
	_, err = c.Transfer(context.Background(), stripe.TransferRequest{IdempotencyKey: "prn_retry", Destination: "acct_A", Amount: 100, Currency: "EUR"})
	var se *stripe.Error
	if !errors.As(err, &se) || se.Status != 429 || se.Code != "lock_timeout" || se.Permanent {
		t.Errorf("no retries: %v", err)
	}
	if len(keys) != 1 {
		t.Errorf("%d attempts, want 1", len(keys))
	}
}

func TestStripeErrorText(t *testing.T) {
	tests := []struct {
		err  stripe.Error
		want string
	}{
		{stripe.Error{Status: 500, Type: "api_error"}, "stripe: 500 api_error"},
		{stripe.Error{Status: 400, Type: "invalid_request_error", Code: "balance_insufficient", Message: "Insufficient funds"},
			"stripe: 400 invalid_request_error balance_insufficient: Insufficient funds"},
		{stripe.Error{Status: 402, Type: "card_error", Message: "declined"}, "stripe: 402 card_error: declined"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestMoreErrorClasses(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		permanent bool
	}{
		{401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided"}}`, true},
		{403, `{"error":{"type":"invalid_request_error","code":"secret_key_required","message":"restricted key"}}`, true},
		{404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such destination"}}`, true},
		{502, `{"error":{"type":"api_error","message":"bad gateway"}}`, false},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Request-Id", "req_123")
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
		}))
		cl := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
		_, err := cl.Transfer(context.Background(), stripe.TransferRequest{IdempotencyKey: "k", Destination: "acct_x", Amount: 1, Currency: "eur"})
		srv.Close()
		var se *stripe.Error
		if !errors.As(err, &se) || se.Permanent != c.permanent || se.Status != c.status || se.RequestID != "req_123" {
			t.Errorf("%d: %#v", c.status, err)
		}
	}
}
