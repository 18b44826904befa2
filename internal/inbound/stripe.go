package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// ErrNotConfigured: the provider's webhook secret is not set.
var ErrNotConfigured = parrain.Errorf(parrain.CodeNotFound, "this webhook is not configured on this server (set its secret; see docs/integrations.md)")

// Stripe verifies a Stripe webhook delivery (the raw body and its
// Stripe-Signature header) and processes it. A bad signature is an
// invalid_argument error on the Stripe-Signature field; the body is then
// never looked at.
func (p *Processor) Stripe(ctx context.Context, body []byte, signature string) (Outcome, error) {
	if p.cfg.StripeSecret == "" {
		return Outcome{}, ErrNotConfigured
	}
	ctx = parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorWebhook, Label: "stripe"})
	if err := stripehook.Verify(body, signature, p.cfg.StripeSecret, p.st.Clock().Now(), p.cfg.StripeTolerance); err != nil {
		return Outcome{}, &parrain.Error{Code: parrain.CodeInvalid, Field: stripehook.SignatureHeader, Message: err.Error()}
	}
	if why := badText(body); why != "" {
		ev, _ := stripehook.ParseEvent(body)
		return p.refuseText(ctx, ProviderStripe, ev.ID, ev.Type, why)
	}
	return p.stripeEvent(ctx, body)
}

func (p *Processor) stripeEvent(ctx context.Context, body []byte) (Outcome, error) {
	ev, err := stripehook.ParseEvent(body)
	if err != nil {
		// Signed by Stripe but not an event: nothing a retry would fix.
		return Outcome{Provider: ProviderStripe, Status: store.InboundIgnored, Detail: err.Error()}, nil
	}
	if out, dup, err := p.seen(ctx, ProviderStripe, ev.ID, ev.Type); err != nil || dup {
		return out, err
	}
	var r result
	switch ev.Type {
	case stripehook.EventInvoicePaid:
		r, err = p.stripeInvoice(ctx, ev, body)
	case stripehook.EventCheckoutSessionCompleted:
		r, err = p.stripeCheckout(ctx, ev, body)
	case stripehook.EventChargeRefunded:
		r, err = p.stripeRefund(ctx, ev, body)
	case stripehook.EventCustomerSubscriptionDeleted:
		r, err = p.stripeCancel(ctx, ev, body)
	default:
		r = ignored("event type %s is not used by Parrain", ev.Type)
	}
	if err != nil {
		var uo *json.SyntaxError
		if errors.Is(err, stripehook.ErrMalformedPayload) || errors.Is(err, stripehook.ErrUnexpectedObject) || errors.As(err, &uo) {
			r, err = ignored("%v", err), nil
		} else {
			return Outcome{}, err
		}
	}
	return p.finish(ctx, ProviderStripe, ev.ID, ev.Type, body, r)
}

func merged(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func prefixed(prefix string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = prefix + s
	}
	return out
}

func occurred(ev stripehook.Event, now time.Time) time.Time {
	if ev.Created.Unix() <= 0 || ev.Created.After(now) {
		return now
	}
	return ev.Created
}

// extra reads fields of data.object that the payload package leaves out.
type extra struct {
	PaymentIntent json.RawMessage `json:"payment_intent"`
	Charge        json.RawMessage `json:"charge"`
	BillingReason string          `json:"billing_reason"`
}

func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.ID
	}
	return ""
}

// stripeInvoice: invoice.paid → a purchase (every paid invoice of a
// subscription: recurring commissions).
func (p *Processor) stripeInvoice(ctx context.Context, ev stripehook.Event, body []byte) (result, error) {
	inv, err := stripehook.ParseInvoice(ev.Object)
	if err != nil {
		return result{}, err
	}
	if inv.AmountPaid <= 0 {
		return ignored("nothing was paid (amount_paid %d)", inv.AmountPaid), nil
	}
	var x extra
	_ = json.Unmarshal(ev.Object, &x)
	meta := merged(inv.SubscriptionMetadata, inv.Metadata)
	prog, err := p.program(ctx, meta[MetaProgram], p.cfg.StripeProgram)
	if err != nil || prog == "" {
		return ignored("no program: set %s metadata or PARRAIN_STRIPE_PROGRAM", MetaProgram), err
	}
	email, code := cleanEmail(inv.CustomerEmail), cleanCode(meta[MetaCode])
	ext, known, err := p.participant(ctx, ProviderStripe, prog, meta[MetaExternalID], inv.Customer, email)
	if err != nil {
		return result{}, err
	}
	if !known {
		if code == "" {
			if x.BillingReason == "subscription_create" && inv.Customer != "" {
				// The checkout session that tells who referred this customer
				// may arrive after its first invoice.
				return result{status: store.InboundDeferred, program: prog, detail: "waiting for the customer's checkout session",
					waits: []string{"customer:" + inv.Customer}}, nil
			}
			return ignored("customer %s is not a referred participant", inv.Customer), nil
		}
		ext = "stripe:" + firstOf(inv.Customer, email)
	}
	currency := strings.ToUpper(inv.Currency)
	res, bad, err := p.ingest(ctx, prog, parrain.Event{Type: parrain.EventPurchase, ExternalID: ext, Email: email, ReferralCode: code,
		OrderID: inv.ID, Amount: inv.AmountPaid, Currency: currency, OccurredAt: occurred(ev, p.st.Clock().Now())}, idemFor(ProviderStripe, ev.ID, body))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	refs := nonEmpty(inv.ID, idOf(x.PaymentIntent), idOf(x.Charge))
	if err := p.link(ctx, ProviderStripe, prog, inv.Customer, res, inv.ID, refs); err != nil {
		return result{}, err
	}
	return result{status: store.InboundProcessed, program: prog, detail: fmt.Sprintf("purchase %s %s: %s", parrain.FormatMinor(inv.AmountPaid, currency),
		currency, summary(res)), drain: append(prefixed("order:", refs), "customer:"+inv.Customer)}, nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func deref(r *result) result {
	if r == nil {
		return result{}
	}
	return *r
}

// stripeCheckout: checkout.session.completed → a purchase for a one-off
// payment, the signup (and the customer link) for a subscription, whose
// payments come as invoice.paid.
func (p *Processor) stripeCheckout(ctx context.Context, ev stripehook.Event, body []byte) (result, error) {
	cs, err := stripehook.ParseCheckoutSession(ev.Object)
	if err != nil {
		return result{}, err
	}
	if cs.PaymentStatus != "paid" && !(cs.Mode == "subscription" && cs.PaymentStatus == "no_payment_required") {
		return ignored("payment status %s: a purchase is reported once paid", cs.PaymentStatus), nil
	}
	var x extra
	_ = json.Unmarshal(ev.Object, &x)
	prog, err := p.program(ctx, cs.Metadata[MetaProgram], p.cfg.StripeProgram)
	if err != nil || prog == "" {
		return ignored("no program: set %s metadata or PARRAIN_STRIPE_PROGRAM", MetaProgram), err
	}
	email := cleanEmail(cs.CustomerEmail)
	code := cleanCode(cs.Metadata[MetaCode])
	if code == "" {
		code = cleanCode(cs.ClientReferenceID) // client_reference_id carries the referral code
	}
	ext, known, err := p.participant(ctx, ProviderStripe, prog, cs.Metadata[MetaExternalID], cs.Customer, email)
	if err != nil {
		return result{}, err
	}
	if !known {
		if code == "" {
			return ignored("customer %s is not a referred participant", firstOf(cs.Customer, email)), nil
		}
		ext = "stripe:" + firstOf(cs.Customer, email)
	}
	ingestEv := parrain.Event{Type: parrain.EventSignup, ExternalID: ext, Email: email, ReferralCode: code, OccurredAt: occurred(ev, p.st.Clock().Now())}
	orderID, currency := "", strings.ToUpper(cs.Currency)
	if cs.Mode == "payment" {
		if cs.AmountTotal <= 0 {
			return ignored("nothing was paid"), nil
		}
		orderID = firstOf(idOf(x.PaymentIntent), cs.ID)
		ingestEv.Type, ingestEv.OrderID, ingestEv.Amount, ingestEv.Currency = parrain.EventPurchase, orderID, cs.AmountTotal, currency
	}
	res, bad, err := p.ingest(ctx, prog, ingestEv, idemFor(ProviderStripe, ev.ID, body))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	var refs []string
	if orderID != "" {
		refs = nonEmpty(cs.ID, idOf(x.PaymentIntent))
	}
	if err := p.link(ctx, ProviderStripe, prog, cs.Customer, res, orderID, refs); err != nil {
		return result{}, err
	}
	what := "signup"
	if orderID != "" {
		what = fmt.Sprintf("purchase %s %s", parrain.FormatMinor(cs.AmountTotal, currency), currency)
	}
	drain := prefixed("order:", refs)
	if cs.Customer != "" {
		drain = append(drain, "customer:"+cs.Customer)
	}
	return result{status: store.InboundProcessed, program: prog, detail: what + ": " + summary(res), drain: drain}, nil
}

// stripeRefund: charge.refunded → a refund of the order the charge paid.
// amount_refunded is cumulative, so the refund is what it adds to what
// Parrain already knows: replays and out-of-order deliveries add nothing.
func (p *Processor) stripeRefund(ctx context.Context, ev stripehook.Event, body []byte) (result, error) {
	ch, err := stripehook.ParseCharge(ev.Object)
	if err != nil {
		return result{}, err
	}
	refs := nonEmpty(ch.Invoice, ch.PaymentIntent, ch.ID)
	var prog, order string
	for _, ref := range refs {
		l, ok, err := p.st.FindProviderLink(ctx, ProviderStripe, store.LinkOrder, ref, "")
		if err != nil {
			return result{}, err
		}
		if ok {
			prog, order = l.ProgramID, l.OrderID
			break
		}
	}
	currency := strings.ToUpper(ch.Currency)
	if order == "" && ch.Customer != "" && ch.Invoice == "" {
		// API 2025-03-31.basil removed charge.invoice: match the customer's
		// most recent unrefunded purchase of exactly this amount. (A charge
		// that names an unknown invoice waits for it instead.)
		l, ok, err := p.st.FindProviderLink(ctx, ProviderStripe, store.LinkCustomer, ch.Customer, "")
		if err != nil {
			return result{}, err
		}
		if ok {
			pu, found, err := p.st.MatchPurchase(ctx, l.ProgramID, l.ParticipantID, ch.Amount, currency)
			if err != nil {
				return result{}, err
			}
			if found {
				prog, order = l.ProgramID, pu.OrderID
			}
		}
	}
	if order == "" {
		return result{status: store.InboundDeferred, detail: "no known order for this charge yet", waits: prefixed("order:", refs)}, nil
	}
	pu, ok, err := p.st.PurchaseByOrder(ctx, prog, order)
	if err != nil {
		return result{}, err
	}
	if !ok {
		return result{status: store.InboundDeferred, program: prog, detail: "order " + order + " not recorded yet", waits: prefixed("order:", refs)}, nil
	}
	delta := min(ch.AmountRefunded, pu.Amount) - pu.Refunded
	if delta <= 0 {
		return result{status: store.InboundProcessed, program: prog, detail: fmt.Sprintf("refund of order %s already applied", order)}, nil
	}
	res, bad, err := p.ingest(ctx, prog, parrain.Event{Type: parrain.EventRefund, OrderID: order, Amount: delta, Currency: pu.Currency,
		OccurredAt: occurred(ev, p.st.Clock().Now())}, idemFor(ProviderStripe, ev.ID, body))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	return result{status: store.InboundProcessed, program: prog, detail: fmt.Sprintf("refund %s %s of order %s: %s",
		parrain.FormatMinor(delta, pu.Currency), pu.Currency, order, summary(res))}, nil
}

// stripeCancel: customer.subscription.deleted → a cancel event for the
// customer's participant (rewards still on hold are voided) and
// referral.cancelled for their referral.
func (p *Processor) stripeCancel(ctx context.Context, ev stripehook.Event, body []byte) (result, error) {
	sub, err := stripehook.ParseSubscription(ev.Object)
	if err != nil {
		return result{}, err
	}
	l, ok, err := p.st.FindProviderLink(ctx, ProviderStripe, store.LinkCustomer, sub.Customer, "")
	if err != nil {
		return result{}, err
	}
	if !ok {
		return ignored("customer %s is not a referred participant", sub.Customer), nil
	}
	pt, err := p.st.ParticipantByID(ctx, l.ParticipantID)
	if err != nil {
		return result{}, err
	}
	res, bad, err := p.ingest(ctx, l.ProgramID, parrain.Event{Type: parrain.EventCancel, ExternalID: pt.ExternalID,
		OccurredAt: occurred(ev, p.st.Clock().Now())}, idemFor(ProviderStripe, ev.ID, body))
	if err != nil || bad != nil {
		return deref(bad), err
	}
	if _, err := p.st.CancelCustomer(ctx, ProviderStripe, sub.Customer, l.ProgramID, sub.ID); err != nil {
		return result{}, err
	}
	return result{status: store.InboundProcessed, program: l.ProgramID, detail: "subscription " + sub.ID + " cancelled: " + summary(res)}, nil
}
