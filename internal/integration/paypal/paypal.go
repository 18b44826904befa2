// Package paypal is a thin client of the PayPal Payouts REST API: an OAuth2
// client-credentials token (cached until shortly before it expires),
// POST /v1/payments/payouts to create a payout batch and GET
// /v1/payments/payouts/{id} for its status.
//
// Exactly once: every batch carries a sender_batch_id, which PayPal refuses
// to process twice within 30 days (the duplicate answer links to the
// original batch, see Error.OriginalBatchID), and the same value as the
// PayPal-Request-Id header, which makes a retried POST return the original
// answer.
//
// There is no official Go SDK; this package imports the standard library
// only.
package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// API base URLs.
const (
	LiveURL    = "https://api-m.paypal.com"
	SandboxURL = "https://api-m.sandbox.paypal.com"
)

// Config configures a Client.
type Config struct {
	ClientID string
	Secret   string
	// APIURL is LiveURL (default), SandboxURL, or a test server.
	APIURL     string
	HTTPClient *http.Client
}

// Client calls the Payouts API. It is safe for concurrent use.
type Client struct {
	cfg     Config
	mu      sync.Mutex
	token   string
	expires time.Time
}

// New returns a Client.
func New(cfg Config) *Client {
	if cfg.APIURL == "" {
		cfg.APIURL = LiveURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{cfg: cfg}
}

// Money is an amount as PayPal writes it: a decimal string and a currency.
type Money struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// SenderBatchHeader identifies and describes a batch.
type SenderBatchHeader struct {
	SenderBatchID string `json:"sender_batch_id"`
	EmailSubject  string `json:"email_subject,omitempty"`
	EmailMessage  string `json:"email_message,omitempty"`
}

// Item is one payment of a batch.
type Item struct {
	RecipientType string `json:"recipient_type"` // "EMAIL"
	Amount        Money  `json:"amount"`
	Receiver      string `json:"receiver"`
	Note          string `json:"note,omitempty"`
	SenderItemID  string `json:"sender_item_id"`
}

// CreateRequest is the body of POST /v1/payments/payouts.
type CreateRequest struct {
	SenderBatchHeader SenderBatchHeader `json:"sender_batch_header"`
	Items             []Item            `json:"items"`
}

// BatchHeader describes a batch PayPal accepted.
type BatchHeader struct {
	PayoutBatchID     string            `json:"payout_batch_id"`
	BatchStatus       string            `json:"batch_status"` // PENDING, PROCESSING, SUCCESS, DENIED, CANCELED
	SenderBatchHeader SenderBatchHeader `json:"sender_batch_header"`
}

// Batch is a batch with its items, as GET /v1/payments/payouts/{id}
// answers.
type Batch struct {
	BatchHeader BatchHeader `json:"batch_header"`
	Items       []BatchItem `json:"items"`
}

// BatchItem is the status of one payment.
type BatchItem struct {
	PayoutItemID string `json:"payout_item_id"`
	// TransactionStatus is SUCCESS, FAILED, PENDING, UNCLAIMED, RETURNED,
	// ONHOLD, BLOCKED, REFUNDED or REVERSED.
	TransactionStatus string     `json:"transaction_status"`
	TransactionID     string     `json:"transaction_id"`
	PayoutBatchID     string     `json:"payout_batch_id"`
	PayoutItem        Item       `json:"payout_item"`
	Errors            *ItemError `json:"errors,omitempty"`
}

// ItemError says why an item failed.
type ItemError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// Error is an error answered by PayPal.
type Error struct {
	Status  int           `json:"-"`
	Name    string        `json:"name"`
	Message string        `json:"message"`
	DebugID string        `json:"debug_id"`
	Details []ErrorDetail `json:"details"`
	Links   []Link        `json:"links"`
	// OAuth errors.
	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
}

// ErrorDetail is one detail of an Error.
type ErrorDetail struct {
	Field    string `json:"field"`
	Issue    string `json:"issue"`
	Location string `json:"location"`
}

// Link is a HATEOAS link.
type Link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method"`
}

// Error implements error.
func (e *Error) Error() string {
	s := fmt.Sprintf("paypal: %d", e.Status)
	if e.Name != "" {
		s += " " + e.Name
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.OAuthError != "" {
		s += " " + e.OAuthError + ": " + e.OAuthDescription
	}
	for _, d := range e.Details {
		s += fmt.Sprintf(" [%s: %s]", d.Field, d.Issue)
	}
	return s
}

// Permanent reports whether retrying the same request cannot succeed: a
// client error other than rate limiting, a timeout or a conflict.
func (e *Error) Permanent() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusRequestTimeout, http.StatusConflict, http.StatusUnauthorized:
		return false
	}
	return e.Status >= 400 && e.Status < 500 && !e.DuplicateBatch()
}

// DuplicateBatch reports whether the batch was refused because its
// sender_batch_id was already used: the original batch exists.
func (e *Error) DuplicateBatch() bool {
	for _, d := range e.Details {
		if strings.Contains(strings.ToLower(d.Field+" "+d.Issue), "sender_batch_id") && e.Status == http.StatusBadRequest {
			return true
		}
	}
	return false
}

// OriginalBatchID returns the payout_batch_id of the original batch that a
// duplicate answer links to, or "".
func (e *Error) OriginalBatchID() string {
	for _, l := range e.Links {
		if i := strings.Index(l.Href, "/v1/payments/payouts/"); i >= 0 {
			id := l.Href[i+len("/v1/payments/payouts/"):]
			if j := strings.IndexAny(id, "/?"); j >= 0 {
				id = id[:j]
			}
			return id
		}
	}
	return ""
}

// accessToken returns a cached token, fetching a new one when it is about
// to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.expires) {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/v1/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.Secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.send(req, &tok); err != nil {
		return "", fmt.Errorf("paypal: getting an access token: %w", err)
	}
	if tok.AccessToken == "" {
		return "", errors.New("paypal: token answer without access_token")
	}
	c.token = tok.AccessToken
	// Refresh a minute early (or at half-life for short tokens).
	life := time.Duration(tok.ExpiresIn) * time.Second
	c.expires = time.Now().Add(max(life-time.Minute, life/2))
	return c.token, nil
}

// send performs req and decodes a 2xx JSON answer into out, or returns an
// *Error.
func (c *Client) send(req *http.Request, out any) error {
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		e := &Error{Status: res.StatusCode}
		_ = json.Unmarshal(body, e)
		if e.Name == "" && e.OAuthError == "" && e.Message == "" {
			e.Message = strings.TrimSpace(string(body))
			if len(e.Message) > 200 {
				e.Message = strings.ToValidUTF8(e.Message[:200], "") // whole characters only
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("paypal: decoding answer: %w", err)
	}
	return nil
}

// call makes an authenticated JSON request; a 401 (expired token) is
// retried once with a fresh token.
func (c *Client) call(ctx context.Context, method, path string, headers map[string]string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for try := 0; ; try++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.cfg.APIURL+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if in != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		err = c.send(req, out)
		var pe *Error
		if try == 0 && errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
			c.mu.Lock()
			c.token = ""
			c.mu.Unlock()
			continue
		}
		return err
	}
}

// CreatePayout creates a payout batch. The sender_batch_id is also sent as
// PayPal-Request-Id, so a retry of the same request returns the original
// answer; a later duplicate answers an *Error whose DuplicateBatch is true.
func (c *Client) CreatePayout(ctx context.Context, req CreateRequest) (BatchHeader, error) {
	if req.SenderBatchHeader.SenderBatchID == "" {
		return BatchHeader{}, errors.New("paypal: a payout batch needs a sender_batch_id")
	}
	var out struct {
		BatchHeader BatchHeader `json:"batch_header"`
	}
	err := c.call(ctx, http.MethodPost, "/v1/payments/payouts", map[string]string{"PayPal-Request-Id": req.SenderBatchHeader.SenderBatchID}, req, &out)
	return out.BatchHeader, err
}

// GetPayout returns a batch with the status of its items.
func (c *Client) GetPayout(ctx context.Context, payoutBatchID string) (Batch, error) {
	if payoutBatchID == "" || strings.ContainsAny(payoutBatchID, "/?#") {
		return Batch{}, fmt.Errorf("paypal: bad payout batch id %q", payoutBatchID)
	}
	var out Batch
	err := c.call(ctx, http.MethodGet, "/v1/payments/payouts/"+url.PathEscape(payoutBatchID), nil, nil, &out)
	return out, err
}
