// Package shopifyhook owns the verification of incoming Shopify webhooks and
// the parsing of the Shopify topics Parrain reacts to (orders/create and
// refunds/create), including exact conversion of Shopify's decimal money
// strings to integer minor units. It imports only the standard library.
//
// Signature scheme: X-Shopify-Hmac-Sha256 is the standard base64 encoding of
// HMAC-SHA256 over the raw request body, keyed with the app's client secret
// (or the shop's webhook signing secret) taken as raw bytes.
package shopifyhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// Headers Shopify sends with every webhook delivery.
const (
	HeaderHmac        = "X-Shopify-Hmac-Sha256"  // base64 HMAC-SHA256 of the body; see Verify
	HeaderTopic       = "X-Shopify-Topic"        // topic, such as "orders/create"
	HeaderWebhookID   = "X-Shopify-Webhook-Id"   // id of the webhook delivery
	HeaderShopDomain  = "X-Shopify-Shop-Domain"  // shop, such as "example.myshopify.com"
	HeaderEventID     = "X-Shopify-Event-Id"     // id of the event; Shopify's duplicate-detection key
	HeaderAPIVersion  = "X-Shopify-API-Version"  // API version the body is rendered in
	HeaderTriggeredAt = "X-Shopify-Triggered-At" // when the event happened
)

// Topics Parrain handles.
const (
	TopicOrdersCreate  = "orders/create"  // body is an order: ParseOrder
	TopicRefundsCreate = "refunds/create" // body is a refund: ParseRefund
)

// Sentinel errors returned by Verify (unwrapped). Callers map them with errors.Is; all of
// them mean "answer 401 and do not process".
var (
	// ErrEmptySecret: the secret is empty (a configuration error).
	ErrEmptySecret = errors.New("shopifyhook: empty webhook secret")
	// ErrMissingSignature: the X-Shopify-Hmac-Sha256 header is absent or empty.
	ErrMissingSignature = errors.New("shopifyhook: missing X-Shopify-Hmac-Sha256 header")
	// ErrInvalidSignature: the header does not match the body and secret.
	ErrInvalidSignature = errors.New("shopifyhook: invalid signature")
)

// mac returns HMAC-SHA256(secret, body).
func mac(body []byte, secret string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the X-Shopify-Hmac-Sha256 value Shopify would send for body
// signed with secret. It exists for tests and fakes.
func Sign(body []byte, secret string) string {
	return base64.StdEncoding.EncodeToString(mac(body, secret))
}

// Verify checks hmacHeader (the X-Shopify-Hmac-Sha256 value) against body (the
// raw request body, byte for byte) and secret, in constant time. Errors are
// ErrEmptySecret, ErrMissingSignature or ErrInvalidSignature.
//
// Shopify signs no timestamp, so a captured delivery can be replayed:
// deduplicate on X-Shopify-Event-Id, the key Shopify documents for detecting
// duplicates, and make processing idempotent.
func Verify(body []byte, hmacHeader, secret string) error {
	if secret == "" {
		return ErrEmptySecret
	}
	if hmacHeader == "" {
		return ErrMissingSignature
	}
	got, err := base64.StdEncoding.Strict().DecodeString(hmacHeader)
	if err != nil {
		return ErrInvalidSignature
	}
	if !hmac.Equal(got, mac(body, secret)) {
		return ErrInvalidSignature
	}
	return nil
}

// Meta holds the delivery headers of a Shopify webhook.
type Meta struct {
	Hmac        string // X-Shopify-Hmac-Sha256
	Topic       string // X-Shopify-Topic, such as "orders/create"
	WebhookID   string // X-Shopify-Webhook-Id: identifies the webhook delivery
	ShopDomain  string // X-Shopify-Shop-Domain, such as "example.myshopify.com"
	EventID     string // X-Shopify-Event-Id: identifies the event; the same value on two deliveries means a duplicate
	APIVersion  string // X-Shopify-API-Version, such as "2025-01"
	TriggeredAt string // X-Shopify-Triggered-At, RFC 3339 as sent
}

// ParseMeta reads the Shopify delivery headers from h. Missing headers are "".
func ParseMeta(h http.Header) Meta {
	return Meta{
		Hmac:        h.Get(HeaderHmac),
		Topic:       h.Get(HeaderTopic),
		WebhookID:   h.Get(HeaderWebhookID),
		ShopDomain:  h.Get(HeaderShopDomain),
		EventID:     h.Get(HeaderEventID),
		APIVersion:  h.Get(HeaderAPIVersion),
		TriggeredAt: h.Get(HeaderTriggeredAt),
	}
}
