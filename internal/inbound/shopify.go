package inbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parrainhq/parrain/internal/integration/shopifyhook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// TopicOrdersPaid is the Shopify topic of an order's payment (an order
// created unpaid is reported when paid).
const TopicOrdersPaid = "orders/paid"

// Shopify verifies a Shopify webhook delivery (the raw body and its
// headers) and processes it. A bad signature is an invalid_argument error
// on the X-Shopify-Hmac-Sha256 field.
func (p *Processor) Shopify(ctx context.Context, body []byte, h http.Header) (Outcome, error) {
	if p.cfg.ShopifySecret == "" {
		return Outcome{}, ErrNotConfigured
	}
	ctx = parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorWebhook, Label: "shopify"})
	meta := shopifyhook.ParseMeta(h)
	if err := shopifyhook.Verify(body, meta.Hmac, p.cfg.ShopifySecret); err != nil {
		return Outcome{}, &parrain.Error{Code: parrain.CodeInvalid, Field: shopifyhook.HeaderHmac, Message: err.Error()}
	}
	id := firstOf(meta.EventID, meta.WebhookID)
	if id == "" {
		return Outcome{}, &parrain.Error{Code: parrain.CodeInvalid, Field: shopifyhook.HeaderEventID, Message: "is required to deduplicate deliveries"}
	}
	why := badText(body)
	if why == "" && (!utf8.ValidString(id) || !utf8.ValidString(meta.Topic) || strings.ContainsRune(id+meta.Topic, 0)) {
		why = "the event id or topic header is not valid UTF-8 text"
	}
	if why != "" {
		return p.refuseText(ctx, ProviderShopify, id, meta.Topic, why)
	}
	return p.shopifyEvent(ctx, id, meta.Topic, body)
}

func (p *Processor) shopifyEvent(ctx context.Context, id, topic string, body []byte) (Outcome, error) {
	if out, dup, err := p.seen(ctx, ProviderShopify, id, topic); err != nil || dup {
		return out, err
	}
	var r result
	var err error
	switch topic {
	case shopifyhook.TopicOrdersCreate, TopicOrdersPaid:
		r, err = p.shopifyOrder(ctx, id, body)
	case shopifyhook.TopicRefundsCreate:
		r, err = p.shopifyRefund(ctx, id, body)
	default:
		r = ignored("topic %q is not used by Parrain", topic)
	}
	if errors.Is(err, shopifyhook.ErrMalformedPayload) || errors.Is(err, shopifyhook.ErrMixedCurrencies) || errors.Is(err, shopifyhook.ErrAmountOverflow) {
		r, err = ignored("%v", err), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	return p.finish(ctx, ProviderShopify, id, topic, body, r)
}

// referral finds the referral clues of an order: a referral code used as a
// discount code (the first that is an active participant's code wins), the
// parrain_ref cart attribute (the cookie), a referral code attribute, or
// the ref parameter of the landing page. It returns the code, the cookie
// and the program of the code's advocate.
func (p *Processor) referral(ctx context.Context, o shopifyhook.Order) (code, cookie, program string, err error) {
	var cands []string
	cands = append(cands, o.DiscountCodes...)
	for _, na := range o.NoteAttributes {
		switch strings.ToLower(strings.TrimSpace(na.Name)) {
		case MetaCookie:
			if _, perr := parrain.ParseTouchCookie(na.Value); perr == nil {
				cookie = na.Value
			}
		case MetaCode, "referral_code", "ref":
			cands = append(cands, na.Value)
		}
	}
	if o.LandingSite != "" {
		if u, perr := url.Parse(o.LandingSite); perr == nil {
			cands = append(cands, u.Query().Get("ref"))
		}
	}
	for _, c := range cands {
		c = cleanCode(c)
		if c == "" {
			continue
		}
		t, rerr := p.st.ResolveCode(ctx, c)
		if parrain.ErrorCode(rerr) == parrain.CodeNotFound {
			continue
		}
		if rerr != nil {
			return "", "", "", rerr
		}
		if t.Active {
			return t.Code, cookie, t.ProgramID, nil
		}
	}
	return "", cookie, "", nil
}

// shopifyOrder: orders/create (or orders/paid) → a purchase, credited to
// the advocate whose referral code was used as a discount code.
func (p *Processor) shopifyOrder(ctx context.Context, id string, body []byte) (result, error) {
	o, err := shopifyhook.ParseOrder(body)
	if err != nil {
		return result{}, err
	}
	switch o.FinancialStatus {
	case "pending", "voided", "expired":
		return ignored("order %d is %s: reported when paid (orders/paid)", o.ID, o.FinancialStatus), nil
	}
	if o.TotalPriceMinor <= 0 {
		return ignored("order %d is free", o.ID), nil
	}
	code, cookie, prog, err := p.referral(ctx, o)
	if err != nil {
		return result{}, err
	}
	if prog == "" {
		if prog, err = p.program(ctx, "", p.cfg.ShopifyProgram); err != nil || prog == "" {
			return ignored("no referral code on the order and no default program (PARRAIN_SHOPIFY_PROGRAM)"), err
		}
	}
	customer := ""
	if o.CustomerID != 0 {
		customer = strconv.FormatInt(o.CustomerID, 10)
	}
	email := cleanEmail(firstOf(o.CustomerEmail, o.Email))
	ext, known, err := p.participant(ctx, ProviderShopify, prog, "", customer, email)
	if err != nil {
		return result{}, err
	}
	if !known {
		if code == "" && cookie == "" {
			return ignored("order %d: no referral code and the customer is not a referred participant", o.ID), nil
		}
		ext = "shopify:" + firstOf(customer, parrain.CanonicalEmail(email), "order-"+strconv.FormatInt(o.ID, 10))
	}
	orderID := strconv.FormatInt(o.ID, 10)
	res, bad, err := p.ingest(ctx, prog, parrain.Event{Type: parrain.EventPurchase, ExternalID: ext, Email: email, ReferralCode: code,
		ReferralCookie: cookie, OrderID: orderID, Amount: o.TotalPriceMinor, Currency: strings.ToUpper(o.Currency),
		OccurredAt: p.st.Clock().Now().Truncate(time.Millisecond)}, idemFor(ProviderShopify, "order:"+orderID, []byte(orderID)))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	if err := p.link(ctx, ProviderShopify, prog, customer, res, orderID, []string{orderID}); err != nil {
		return result{}, err
	}
	return result{status: store.InboundProcessed, program: prog, detail: fmt.Sprintf("order %s %s %s: %s", orderID, o.TotalPrice, o.Currency, summary(res)),
		drain: []string{"order:" + orderID}}, nil
}

// shopifyRefund: refunds/create → a refund of the money actually returned
// (successful refund transactions), deferred until the order is known.
func (p *Processor) shopifyRefund(ctx context.Context, id string, body []byte) (result, error) {
	r, err := shopifyhook.ParseRefund(body)
	if err != nil {
		return result{}, err
	}
	amount, currency, err := r.RefundedMinor()
	if err != nil {
		return result{}, err
	}
	if amount <= 0 {
		return ignored("refund %d returned no money (restock only)", r.ID), nil
	}
	orderID := strconv.FormatInt(r.OrderID, 10)
	l, ok, err := p.st.FindProviderLink(ctx, ProviderShopify, store.LinkOrder, orderID, "")
	if err != nil {
		return result{}, err
	}
	if !ok {
		return result{status: store.InboundDeferred, detail: "order " + orderID + " not recorded yet", waits: []string{"order:" + orderID}}, nil
	}
	pu, found, err := p.st.PurchaseByOrder(ctx, l.ProgramID, orderID)
	if err != nil {
		return result{}, err
	}
	if !found {
		return result{status: store.InboundDeferred, program: l.ProgramID, detail: "order " + orderID + " not recorded yet", waits: []string{"order:" + orderID}}, nil
	}
	amount = min(amount, pu.Amount-pu.Refunded)
	if amount <= 0 {
		return result{status: store.InboundProcessed, program: l.ProgramID, detail: "order " + orderID + " is already fully refunded"}, nil
	}
	res, bad, err := p.ingest(ctx, l.ProgramID, parrain.Event{Type: parrain.EventRefund, OrderID: orderID, Amount: amount,
		Currency: strings.ToUpper(currency)}, idemFor(ProviderShopify, id, body))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	return result{status: store.InboundProcessed, program: l.ProgramID, detail: fmt.Sprintf("refund %s %s of order %s: %s",
		parrain.FormatMinor(amount, pu.Currency), pu.Currency, orderID, summary(res))}, nil
}
