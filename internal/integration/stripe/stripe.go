// Package stripe pays participants with Stripe Connect Transfers, through
// the official stripe-go library: a transfer moves money from the platform's
// Stripe balance to a participant's connected account.
//
// Every transfer carries the payout's idempotency key twice: as Stripe's
// Idempotency-Key header (Stripe answers a retried request with the original
// result for 24 hours) and as the transfer_group, by which FindTransfer finds
// it again later, so a payout resent after a crash is never paid twice.
//
// It imports stripe-go and the standard library only.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	stripeapi "github.com/stripe/stripe-go/v85"
)

// DefaultAPIURL is Stripe's API.
const DefaultAPIURL = "https://api.stripe.com"

// Config configures a Client.
type Config struct {
	// SecretKey is the platform's secret key (sk_live_… or sk_test_…), or a
	// restricted key allowed to write Transfers.
	SecretKey string
	// APIURL overrides DefaultAPIURL (stripe-mock in tests).
	APIURL string
	// HTTPClient defaults to a client with a 80 s timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how many times stripe-go retries a request that
	// failed in transit, with the same idempotency key (default 2; set -1 for
	// none).
	MaxNetworkRetries int64
}

// Client creates and finds transfers.
type Client struct {
	sc *stripeapi.Client
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	retries := cfg.MaxNetworkRetries
	switch {
	case retries == 0:
		retries = 2
	case retries < 0:
		retries = 0
	}
	bc := &stripeapi.BackendConfig{
		URL:               stripeapi.String(strings.TrimRight(cfg.APIURL, "/")),
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: stripeapi.Int64(retries),
		LeveledLogger:     &stripeapi.LeveledLogger{Level: stripeapi.LevelNull},
	}
	return &Client{sc: stripeapi.NewClient(cfg.SecretKey, stripeapi.WithBackends(stripeapi.NewBackendsWithConfig(bc)))}
}

// TransferRequest is a transfer to make.
type TransferRequest struct {
	// IdempotencyKey is sent as the Idempotency-Key header and as the
	// transfer_group.
	IdempotencyKey string
	Destination    string // acct_…
	Amount         int64  // minor units
	Currency       string // ISO 4217, any case
	Description    string
	Metadata       map[string]string
}

// Transfer is a transfer Stripe made.
type Transfer struct {
	ID          string
	Destination string
	Amount      int64
	Currency    string // upper case
	Group       string
}

// Error is an error answered by Stripe. Permanent errors (an invalid or
// restricted destination account, insufficient platform balance, a bad
// request) will not succeed by retrying; the others (rate limits, Stripe
// outages, a concurrent request with the same key) may.
type Error struct {
	Status    int
	Type      string
	Code      string
	Message   string
	RequestID string
	Permanent bool
}

// Error implements error.
func (e *Error) Error() string {
	s := fmt.Sprintf("stripe: %d %s", e.Status, e.Type)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// classify turns stripe-go's error into an *Error when Stripe answered;
// transport errors are returned as they are (transient).
func classify(err error) error {
	var se *stripeapi.Error
	if !errors.As(err, &se) {
		return err
	}
	e := &Error{Status: se.HTTPStatusCode, Type: string(se.Type), Code: string(se.Code), Message: se.Msg, RequestID: se.RequestID}
	switch {
	case se.HTTPStatusCode == http.StatusTooManyRequests, se.HTTPStatusCode >= 500, se.HTTPStatusCode == http.StatusConflict,
		se.Type == stripeapi.ErrorTypeAPI, se.Type == stripeapi.ErrorTypeRateLimit, se.Code == stripeapi.ErrorCodeIdempotencyKeyInUse:
		e.Permanent = false
	case se.Type == stripeapi.ErrorTypeIdempotency:
		// The key was used with other parameters: something else was sent
		// under this payout's key. Never a reason to send again — it stays
		// for a person to check.
		e.Permanent = false
	case se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500:
		e.Permanent = true
	}
	return e
}

func (c *Client) params(req TransferRequest) *stripeapi.TransferCreateParams {
	p := &stripeapi.TransferCreateParams{
		Amount:        stripeapi.Int64(req.Amount),
		Currency:      stripeapi.String(strings.ToLower(req.Currency)),
		Destination:   stripeapi.String(req.Destination),
		TransferGroup: stripeapi.String(req.IdempotencyKey),
	}
	if req.Description != "" {
		p.Description = stripeapi.String(req.Description)
	}
	for k, v := range req.Metadata {
		p.AddMetadata(k, v)
	}
	p.IdempotencyKey = stripeapi.String(req.IdempotencyKey)
	return p
}

func fromAPI(t *stripeapi.Transfer) Transfer {
	out := Transfer{ID: t.ID, Amount: t.Amount, Currency: strings.ToUpper(string(t.Currency)), Group: t.TransferGroup}
	if t.Destination != nil {
		out.Destination = t.Destination.ID
	}
	return out
}

// Transfer creates a transfer. Retrying with the same request returns the
// same transfer (within Stripe's 24-hour idempotency window).
func (c *Client) Transfer(ctx context.Context, req TransferRequest) (Transfer, error) {
	if req.IdempotencyKey == "" {
		return Transfer{}, errors.New("stripe: a transfer needs an idempotency key")
	}
	t, err := c.sc.V1Transfers.Create(ctx, c.params(req))
	if err != nil {
		return Transfer{}, classify(err)
	}
	return fromAPI(t), nil
}

// FindTransfer looks for a transfer made for a request earlier (by its
// transfer_group, destination, amount and currency): how a payout whose
// previous attempt may have reached Stripe is reconciled, also after the
// idempotency window.
func (c *Client) FindTransfer(ctx context.Context, req TransferRequest) (Transfer, bool, error) {
	lp := &stripeapi.TransferListParams{TransferGroup: stripeapi.String(req.IdempotencyKey)}
	lp.Limit = stripeapi.Int64(10)
	for t, err := range c.sc.V1Transfers.List(ctx, lp).All(ctx) {
		if err != nil {
			return Transfer{}, false, classify(err)
		}
		got := fromAPI(t)
		if got.Group == req.IdempotencyKey && got.Destination == req.Destination && got.Amount == req.Amount &&
			strings.EqualFold(got.Currency, req.Currency) {
			return got, true, nil
		}
	}
	return Transfer{}, false, nil
}
