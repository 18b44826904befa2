package paypal_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parrainhq/parrain/internal/integration/paypal"
	"github.com/parrainhq/parrain/internal/integration/paypal/paypaltest"
)

func client(srv *paypaltest.Server) *paypal.Client {
	return paypal.New(paypal.Config{ClientID: paypaltest.ClientID, Secret: paypaltest.Secret, APIURL: srv.URL})
}

func batch(sender, receiver string) paypal.CreateRequest {
	return paypal.CreateRequest{
		SenderBatchHeader: paypal.SenderBatchHeader{SenderBatchID: sender, EmailSubject: "You have a payout"},
		Items: []paypal.Item{{RecipientType: "EMAIL", Amount: paypal.Money{Value: "15.00", Currency: "EUR"}, Receiver: receiver,
			SenderItemID: sender, Note: "Referral rewards"}},
	}
}

func TestCreateAndGetPayout(t *testing.T) {
	srv := paypaltest.New()
	defer srv.Close()
	srv.SetOutcome("bad@example.com", paypaltest.Outcome{Status: "FAILED", ErrorName: "RECEIVER_UNREGISTERED", ErrorMsg: "Receiver is unregistered", Polls: 1})
	c := client(srv)
	ctx := context.Background()

	h, err := c.CreatePayout(ctx, batch("prn_aaa", "alice@example.com"))
	if err != nil || h.PayoutBatchID == "" || h.BatchStatus != "PENDING" || h.SenderBatchHeader.SenderBatchID != "prn_aaa" {
		t.Fatalf("create: %+v %v", h, err)
	}
	// A retry of the same request (same PayPal-Request-Id) is the same batch.
	again, err := c.CreatePayout(ctx, batch("prn_aaa", "alice@example.com"))
	if err != nil || again.PayoutBatchID != h.PayoutBatchID || srv.Created != 1 {
		t.Fatalf("retry: %+v %v created=%d", again, err, srv.Created)
	}
	b, err := c.GetPayout(ctx, h.PayoutBatchID)
	if err != nil || len(b.Items) != 1 || b.Items[0].TransactionStatus != "SUCCESS" || b.Items[0].PayoutItem.SenderItemID != "prn_aaa" {
		t.Fatalf("get: %+v %v", b, err)
	}
	// A failed item: PENDING first, then FAILED with its reason.
	h2, err := c.CreatePayout(ctx, batch("prn_bbb", "bad@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = c.GetPayout(ctx, h2.PayoutBatchID)
	if b.Items[0].TransactionStatus != "PENDING" {
		t.Errorf("first poll %s", b.Items[0].TransactionStatus)
	}
	b, _ = c.GetPayout(ctx, h2.PayoutBatchID)
	if b.Items[0].TransactionStatus != "FAILED" || b.Items[0].Errors == nil || b.Items[0].Errors.Name != "RECEIVER_UNREGISTERED" {
		t.Errorf("second poll %+v", b.Items[0])
	}
	if srv.TokenRequests != 1 {
		t.Errorf("token requests %d, want 1 (cached)", srv.TokenRequests)
	}
}

func TestDuplicateSenderBatchID(t *testing.T) {
	srv := paypaltest.New()
	defer srv.Close()
	c := client(srv)
	ctx := context.Background()
	h, err := c.CreatePayout(ctx, batch("prn_dup", "alice@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	// Once PayPal forgot the PayPal-Request-Id, the same sender_batch_id is
	// refused, with a link to the original batch.
	srv.ForgetRequestIDs()
	_, err = c.CreatePayout(ctx, batch("prn_dup", "alice@example.com"))
	var pe *paypal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("duplicate: %v", err)
	}
	if !pe.DuplicateBatch() || pe.Permanent() || pe.OriginalBatchID() != h.PayoutBatchID {
		t.Fatalf("duplicate: %v (dup=%v, original=%q)", err, pe.DuplicateBatch(), pe.OriginalBatchID())
	}
	if srv.Created != 1 {
		t.Errorf("created %d", srv.Created)
	}
}

func TestErrors(t *testing.T) {
	srv := paypaltest.New()
	defer srv.Close()
	ctx := context.Background()
	// Bad credentials.
	_, err := paypal.New(paypal.Config{ClientID: "x", Secret: "y", APIURL: srv.URL}).CreatePayout(ctx, batch("k", "a@example.com"))
	var pe *paypal.Error
	if !errors.As(err, &pe) || pe.Status != 401 || pe.OAuthError != "invalid_client" {
		t.Errorf("bad credentials: %v", err)
	}
	// Validation errors are permanent.
	bad := batch("k2", "not-an-email")
	_, err = client(srv).CreatePayout(ctx, bad)
	if !errors.As(err, &pe) || !pe.Permanent() || pe.Name != "VALIDATION_ERROR" || pe.Details[0].Field != "items[0].receiver" {
		t.Errorf("validation: %v", err)
	}
	if _, err := client(srv).GetPayout(ctx, "../x"); err == nil {
		t.Error("bad id accepted")
	}
	if _, err := client(srv).GetPayout(ctx, "NOPE"); !errors.As(err, &pe) || pe.Status != 404 {
		t.Errorf("unknown batch: %v", err)
	}
	if _, err := client(srv).CreatePayout(ctx, paypal.CreateRequest{}); err == nil {
		t.Error("batch without sender_batch_id sent")
	}
	// 5xx and 429 are transient; an expired token is refreshed once.
	calls := 0
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/oauth2/token" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":32400}`))
			return
		}
		calls++
		switch calls {
		case 1:
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_token","error_description":"Access Token not found in cache"}`))
		case 2:
			w.WriteHeader(503)
			_, _ = w.Write([]byte(`{"name":"SERVICE_UNAVAILABLE","message":"try later"}`))
		default:
			w.WriteHeader(429)
			_, _ = w.Write([]byte(`{"name":"RATE_LIMIT_REACHED","message":"Too many requests"}`))
		}
	}))
	defer flaky.Close()
	fc := paypal.New(paypal.Config{ClientID: "a", Secret: "b", APIURL: flaky.URL})
	_, err = fc.GetPayout(ctx, "B1")
	if !errors.As(err, &pe) || pe.Status != 503 || pe.Permanent() || calls != 2 {
		t.Errorf("after refresh: %v calls=%d", err, calls)
	}
	_, err = fc.GetPayout(ctx, "B1")
	if !errors.As(err, &pe) || pe.Status != 429 || pe.Permanent() {
		t.Errorf("429: %v", err)
	}
}
