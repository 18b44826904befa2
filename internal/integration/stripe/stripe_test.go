package stripe_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/stripe"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
)

// TestTransferAgainstStripeMock checks the request against Stripe's own
// OpenAPI validation (stripe-mock) and what is sent on the wire.
func TestTransferAgainstStripeMock(t *testing.T) {
	mock := stripemock.Start(t)
	var mu sync.Mutex
	var seen []*http.Request
	var bodies []string
	target, _ := url.Parse(mock)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen, bodies = append(seen, r), append(bodies, string(b))
		mu.Unlock()
		out, _ := http.NewRequest(r.Method, target.String()+r.URL.RequestURI(), strings.NewReader(string(b)))
		out.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer proxy.Close()

	c := stripe.New(stripe.Config{SecretKey: "sk_test_parrain", APIURL: proxy.URL, MaxNetworkRetries: -1})
	req := stripe.TransferRequest{IdempotencyKey: "prn_0123456789abcdef", Destination: "acct_1Nv0FGQ9RKHgCVdK", Amount: 1500, Currency: "EUR",
		Description: "Parrain payout", Metadata: map[string]string{"parrain_payout_id": "pay_1"}}
	tr, err := c.Transfer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.ID, "tr_") || tr.Amount != 1500 || tr.Currency != "EUR" || tr.Group != req.IdempotencyKey || tr.Destination != req.Destination {
		t.Errorf("transfer %+v", tr)
	}
	if len(seen) != 1 || seen[0].Header.Get("Idempotency-Key") != req.IdempotencyKey || seen[0].URL.Path != "/v1/transfers" {
		t.Fatalf("request %v", seen)
	}
	form, _ := url.ParseQuery(bodies[0])
	for k, v := range map[string]string{"amount": "1500", "currency": "eur", "destination": req.Destination, "transfer_group": req.IdempotencyKey,
		"metadata[parrain_payout_id]": "pay_1"} {
		if form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, form.Get(k), v)
		}
	}
	// stripe-mock's list answers a fixture of another group: not ours.
	if _, found, err := c.FindTransfer(context.Background(), req); err != nil || found {
		t.Errorf("find: %v %v", found, err)
	}
	if _, err := c.Transfer(context.Background(), stripe.TransferRequest{Destination: "acct_1", Amount: 1, Currency: "eur"}); err == nil {
		t.Error("a transfer without a key was sent")
	}
}

func TestErrorClassification(t *testing.T) {
	cases := []struct {
		status    int
		body      string
		permanent bool
		code      string
	}{
		{400, `{"error":{"type":"invalid_request_error","code":"account_invalid","message":"No such destination: 'acct_x'"}}`, true, "account_invalid"},
		{400, `{"error":{"type":"invalid_request_error","code":"balance_insufficient","message":"Insufficient funds"}}`, true, "balance_insufficient"},
		{400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, false, ""},
		{409, `{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use","message":"in use"}}`, false, "idempotency_key_in_use"},
		{429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`, false, "rate_limit"},
		{500, `{"error":{"type":"api_error","message":"boom"}}`, false, ""},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			_, _ = io.WriteString(w, c.body)
		}))
		cl := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: srv.URL, MaxNetworkRetries: -1})
		_, err := cl.Transfer(context.Background(), stripe.TransferRequest{IdempotencyKey: "k", Destination: "acct_x", Amount: 1, Currency: "eur"})
		srv.Close()
		var se *stripe.Error
		if !errors.As(err, &se) {
			t.Errorf("%d: %T %v", c.status, err, err)
			continue
		}
		if se.Permanent != c.permanent || se.Code != c.code || se.Status != c.status || se.Message == "" {
			t.Errorf("%d %s: %+v", c.status, c.body, se)
		}
	}
	// A transport error is not a Stripe answer: transient.
	cl := stripe.New(stripe.Config{SecretKey: "sk_test_x", APIURL: "http://127.0.0.1:1", MaxNetworkRetries: -1})
	_, err := cl.Transfer(context.Background(), stripe.TransferRequest{IdempotencyKey: "k", Destination: "acct_x", Amount: 1, Currency: "eur"})
	var se *stripe.Error
	if err == nil || errors.As(err, &se) {
		t.Errorf("transport error: %v", err)
	}
}
