package inbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/inbound"
	"github.com/parrainhq/parrain/internal/integration/shopifyhook"
	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

var ctx = context.Background()

const (
	stripeSecret  = "whsec_test_parrain_stripe"
	shopifySecret = "shpss_test_parrain"
)

type env struct {
	t     *testing.T
	st    *store.Store
	clock *parrain.FakeClock
	prog  parrain.Program
	alice parrain.Participant
	p     *inbound.Processor
}

func setup(t *testing.T, url string) *env {
	clock := parrain.NewFakeClock(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, url, store.Options{Clock: clock, Keys: dbtest.Keys()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	prog, _, err := program.New(st).Create(ctx, parrain.Program{Name: "SaaS", LandingURL: "https://saas.example", Currency: "EUR", HoldDays: 30,
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 2000}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	alice, _, err := referral.New(st).UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "alice", Email: "alice@example.com"}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	p := inbound.New(st, referral.New(st), slog.New(slog.NewTextHandler(io.Discard, nil)), inbound.Config{StripeSecret: stripeSecret, ShopifySecret: shopifySecret})
	return &env{t: t, st: st, clock: clock, prog: prog, alice: alice, p: p}
}

func (e *env) stripe(body string) inbound.Outcome {
	e.t.Helper()
	out, err := e.p.Stripe(ctx, []byte(body), stripehook.Sign([]byte(body), stripeSecret, e.clock.Now()))
	if err != nil {
		e.t.Fatalf("stripe: %v", err)
	}
	return out
}

func stripeEvent(id, typ, object string) string {
	return fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2025-03-31.basil","created":1762000000,"livemode":false,"type":%q,"data":{"object":%s}}`,
		id, typ, object)
}

func invoice(id, customer, email string, amount int64, reason, extra string) string {
	return fmt.Sprintf(`{"id":%q,"object":"invoice","customer":%q,"customer_email":%q,"amount_paid":%d,"currency":"eur","billing_reason":%q,"metadata":{}%s}`,
		id, customer, email, amount, reason, extra)
}

func charge(id, customer, invoice string, amount, refunded int64) string {
	return fmt.Sprintf(`{"id":%q,"object":"charge","customer":%q,"invoice":%q,"payment_intent":"pi_%s","amount":%d,"amount_refunded":%d,"refunded":%v,"currency":"eur","metadata":{}}`,
		id, customer, invoice, id, amount, refunded, refunded >= amount)
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.st.DB().QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) rewards() int64 {
	e.t.Helper()
	st, err := e.st.ParticipantStats(ctx, e.alice.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return st.Balances["pending"]["EUR"]
}

func TestStripeSignatures(t *testing.T) {
	e := setup(t, dbtest.URL(t, "sqlite"))
	body := stripeEvent("evt_1", "invoice.paid", invoice("in_1", "cus_1", "x@example.com", 1000, "", ""))
	cases := map[string]string{
		"missing":     "",
		"wrong key":   stripehook.Sign([]byte(body), "whsec_other", e.clock.Now()),
		"too old":     stripehook.Sign([]byte(body), stripeSecret, e.clock.Now().Add(-10*time.Minute)),
		"other body":  stripehook.Sign([]byte(body+" "), stripeSecret, e.clock.Now()),
		"garbage":     "t=abc,v1=zz",
		"no v1 entry": fmt.Sprintf("t=%d", e.clock.Now().Unix()),
	}
	for name, sig := range cases {
		_, err := e.p.Stripe(ctx, []byte(body), sig)
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != "Stripe-Signature" {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := e.count(`SELECT COUNT(*) FROM inbound_events`); n != 0 {
		t.Errorf("recorded %d events with bad signatures", n)
	}
	unconfigured := inbound.New(e.st, referral.New(e.st), slog.New(slog.NewTextHandler(io.Discard, nil)), inbound.Config{})
	if _, err := unconfigured.Stripe(ctx, []byte(body), cases["wrong key"]); parrain.ErrorCode(err) != parrain.CodeNotFound {
		t.Errorf("unconfigured: %v", err)
	}
}

func TestStripeSubscriptionLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		// The first invoice arrives before the checkout session: deferred.
		first := e.stripe(stripeEvent("evt_inv1", "invoice.paid", invoice("in_1", "cus_bob", "bob@example.org", 2900, "subscription_create", "")))
		if first.Status != store.InboundDeferred {
			t.Fatalf("first invoice %+v", first)
		}
		// The checkout session names the referral code (client_reference_id):
		// signup, customer linked, and the waiting invoice is processed.
		cs := fmt.Sprintf(`{"id":"cs_1","object":"checkout.session","customer":"cus_bob","customer_details":{"email":"bob@example.org"},"client_reference_id":%q,"mode":"subscription","payment_status":"paid","amount_total":2900,"currency":"eur","subscription":"sub_1","metadata":{}}`,
			strings.ToLower(e.alice.Code))
		out := e.stripe(stripeEvent("evt_cs1", "checkout.session.completed", cs))
		if out.Status != store.InboundProcessed || out.ProgramID != e.prog.ID {
			t.Fatalf("checkout %+v", out)
		}
		refs, _, _ := e.st.Referrals(ctx, e.prog.ID, store.ReferralFilter{}, store.Page{})
		if len(refs) != 1 || refs[0].AdvocateExternalID != "alice" || refs[0].FriendExternalID != "stripe:cus_bob" || refs[0].Status != parrain.ReferralConverted {
			t.Fatalf("referrals %+v", refs)
		}
		if got := e.rewards(); got != 580 {
			t.Fatalf("alice pending %d after the first invoice, want 580", got)
		}
		// A replayed delivery changes nothing.
		if dup := e.stripe(stripeEvent("evt_inv1", "invoice.paid", invoice("in_1", "cus_bob", "bob@example.org", 2900, "subscription_create", ""))); dup.Status != "duplicate" {
			t.Errorf("replay %+v", dup)
		}
		// Each renewal is a purchase: recurring commission.
		out = e.stripe(stripeEvent("evt_inv2", "invoice.paid", invoice("in_2", "cus_bob", "", 2900, "subscription_cycle", `,"charge":"ch_2"`)))
		if out.Status != store.InboundProcessed || e.rewards() != 1160 {
			t.Fatalf("renewal %+v, pending %d", out, e.rewards())
		}
		// Partial refund of the renewal, then the full refund (cumulative
		// amount_refunded), then the partial one again out of order.
		e.stripe(stripeEvent("evt_r1", "charge.refunded", charge("ch_2", "cus_bob", "in_2", 2900, 1000)))
		if got := e.rewards(); got != 1160-200 {
			t.Fatalf("after partial refund %d", got)
		}
		e.stripe(stripeEvent("evt_r2", "charge.refunded", charge("ch_2", "cus_bob", "in_2", 2900, 2900)))
		e.stripe(stripeEvent("evt_r1b", "charge.refunded", charge("ch_2", "cus_bob", "in_2", 2900, 1000)))
		if got := e.rewards(); got != 580 {
			t.Fatalf("after full refund %d, want 580", got)
		}
		// Basil API: the charge does not name its invoice; the customer's
		// purchase of that amount is found.
		e.stripe(stripeEvent("evt_inv3", "invoice.paid", invoice("in_3", "cus_bob", "", 2900, "subscription_cycle", "")))
		e.stripe(stripeEvent("evt_r3", "charge.refunded", charge("ch_3", "cus_bob", "", 2900, 2900)))
		if got := e.rewards(); got != 580 {
			t.Fatalf("basil refund: %d", got)
		}
		// A refund before its invoice waits for it.
		if out := e.stripe(stripeEvent("evt_r4", "charge.refunded", charge("ch_4", "cus_bob", "in_4", 2900, 2900))); out.Status != store.InboundDeferred {
			t.Fatalf("early refund %+v", out)
		}
		e.stripe(stripeEvent("evt_inv4", "invoice.paid", invoice("in_4", "cus_bob", "", 2900, "subscription_cycle", `,"charge":"ch_4"`)))
		if got := e.rewards(); got != 580 {
			t.Fatalf("after the waiting refund %d", got)
		}
		if st, _, _ := e.st.InboundEvent(ctx, "stripe", "evt_r4"); st.Status != store.InboundProcessed {
			t.Errorf("waiting refund %+v", st)
		}
		// An unreferred customer's invoice is ignored.
		if out := e.stripe(stripeEvent("evt_x", "invoice.paid", invoice("in_x", "cus_x", "x@example.net", 5000, "subscription_cycle", ""))); out.Status != store.InboundIgnored {
			t.Errorf("unreferred %+v", out)
		}
		// Cancellation: referral.cancelled, once.
		hook := "https://hooks.example.com/x"
		if _, _, err := outbound.NewService(e.st).CreateEndpoint(ctx, e.prog.ID, parrain.WebhookEndpointInput{URL: &hook, EventTypes: []string{parrain.WebhookReferralCancelled}}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		sub := `{"id":"sub_1","object":"subscription","customer":"cus_bob","status":"canceled","metadata":{}}`
		if out := e.stripe(stripeEvent("evt_del", "customer.subscription.deleted", sub)); out.Status != store.InboundProcessed {
			t.Fatalf("cancel %+v", out)
		}
		e.stripe(stripeEvent("evt_del2", "customer.subscription.deleted", sub))
		if n := e.count(`SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = 'referral.cancelled'`); n != 1 {
			t.Errorf("referral.cancelled deliveries %d", n)
		}
		// Unknown types are acknowledged and ignored.
		if out := e.stripe(stripeEvent("evt_y", "payment_intent.created", `{"id":"pi_1","object":"payment_intent"}`)); out.Status != store.InboundIgnored {
			t.Errorf("other type %+v", out)
		}
	})
}

func TestStripeOneOffCheckout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		cs := fmt.Sprintf(`{"id":"cs_9","object":"checkout.session","customer":null,"customer_details":{"email":"guest@example.org"},"client_reference_id":null,"mode":"payment","payment_status":"paid","payment_intent":"pi_9","amount_total":10000,"currency":"eur","metadata":{"parrain_referral_code":%q,"parrain_external_id":"user_9"}}`,
			e.alice.Code)
		if out := e.stripe(stripeEvent("evt_cs9", "checkout.session.completed", cs)); out.Status != store.InboundProcessed {
			t.Fatalf("checkout %+v", out)
		}
		if got := e.rewards(); got != 2000 {
			t.Fatalf("pending %d", got)
		}
		// The refund names only the payment intent.
		ch := `{"id":"ch_9","object":"charge","customer":null,"payment_intent":"pi_9","amount":10000,"amount_refunded":10000,"refunded":true,"currency":"eur"}`
		if out := e.stripe(stripeEvent("evt_r9", "charge.refunded", ch)); out.Status != store.InboundProcessed {
			t.Fatalf("refund %+v", out)
		}
		if got := e.rewards(); got != 0 {
			t.Errorf("pending after refund %d", got)
		}
		// Unpaid sessions wait for their payment.
		unpaid := strings.Replace(cs, `"payment_status":"paid"`, `"payment_status":"unpaid"`, 1)
		if out := e.stripe(stripeEvent("evt_cs10", "checkout.session.completed", unpaid)); out.Status != store.InboundIgnored {
			t.Errorf("unpaid %+v", out)
		}
	})
}

func shopifyHeaders(topic, id, body string) http.Header {
	h := http.Header{}
	h.Set(shopifyhook.HeaderTopic, topic)
	h.Set(shopifyhook.HeaderEventID, id)
	h.Set(shopifyhook.HeaderShopDomain, "shop.myshopify.com")
	h.Set(shopifyhook.HeaderHmac, shopifyhook.Sign([]byte(body), shopifySecret))
	return h
}

func (e *env) shopify(topic, id, body string) inbound.Outcome {
	e.t.Helper()
	out, err := e.p.Shopify(ctx, []byte(body), shopifyHeaders(topic, id, body))
	if err != nil {
		e.t.Fatalf("shopify: %v", err)
	}
	return out
}

func order(id, customer int64, email, total, status string, codes ...string) string {
	var dc []string
	for _, c := range codes {
		dc = append(dc, fmt.Sprintf(`{"code":%q,"amount":"5.00","type":"fixed_amount"}`, c))
	}
	return fmt.Sprintf(`{"id":%d,"email":%q,"total_price":%q,"currency":"EUR","financial_status":%q,"discount_codes":[%s],"customer":{"id":%d,"email":%q},"note_attributes":[],"landing_site":"/","test":false}`,
		id, email, total, status, strings.Join(dc, ","), customer, email)
}

func refund(id, order int64, amount string) string {
	return fmt.Sprintf(`{"id":%d,"order_id":%d,"transactions":[{"id":9%d,"kind":"refund","status":"success","amount":%q,"currency":"EUR"}],"refund_line_items":[]}`,
		id, order, id, amount)
}

func TestShopify(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		body := order(1001, 77, "carl@example.org", "49.90", "paid", "WELCOME10", strings.ToLower(e.alice.Code))
		h := shopifyHeaders("orders/create", "ev-1", body)
		h.Set(shopifyhook.HeaderHmac, shopifyhook.Sign([]byte(body), "wrong"))
		if _, err := e.p.Shopify(ctx, []byte(body), h); parrain.AsError(err) == nil || parrain.AsError(err).Field != shopifyhook.HeaderHmac {
			t.Fatalf("bad hmac: %v", err)
		}
		// The referral code used as a discount code credits alice.
		out := e.shopify("orders/create", "ev-1", body)
		if out.Status != store.InboundProcessed || out.ProgramID != e.prog.ID {
			t.Fatalf("order %+v", out)
		}
		if got := e.rewards(); got != 998 {
			t.Fatalf("pending %d, want 998", got)
		}
		if dup := e.shopify("orders/create", "ev-1", body); dup.Status != "duplicate" {
			t.Errorf("replay %+v", dup)
		}
		// orders/paid for the same order (another event) adds nothing.
		e.shopify("orders/paid", "ev-1p", body)
		if got := e.rewards(); got != 998 {
			t.Fatalf("orders/paid counted twice: %d", got)
		}
		// The same customer's next order, without a code: recurring.
		e.shopify("orders/create", "ev-2", order(1002, 77, "carl@example.org", "10.00", "paid"))
		if got := e.rewards(); got != 1198 {
			t.Fatalf("second order: %d", got)
		}
		// A refund before its order waits; the order then brings it in.
		if out := e.shopify("refunds/create", "ev-3", refund(5, 1003, "20.00")); out.Status != store.InboundDeferred {
			t.Fatalf("early refund %+v", out)
		}
		e.shopify("orders/create", "ev-4", order(1003, 77, "carl@example.org", "20.00", "paid"))
		if got := e.rewards(); got != 1198 {
			t.Fatalf("after order 1003 and its refund: %d", got)
		}
		// Partial refund of the first order.
		e.shopify("refunds/create", "ev-5", refund(6, 1001, "24.95"))
		if got := e.rewards(); got != 1198-499 {
			t.Fatalf("partial refund: %d", got)
		}
		// Not referred, unpaid, other topics: acknowledged, ignored.
		for _, c := range []struct{ topic, id, body string }{
			{"orders/create", "ev-6", order(2001, 88, "zed@example.org", "30.00", "paid")},
			{"orders/create", "ev-7", order(2002, 89, "amy@example.org", "30.00", "pending", e.alice.Code)},
			{"customers/create", "ev-8", `{"id":1}`},
			{"orders/create", "ev-9", `{"id":"not a number"}`},
		} {
			if out := e.shopify(c.topic, c.id, c.body); out.Status != store.InboundIgnored {
				t.Errorf("%s %s: %+v", c.topic, c.id, out)
			}
		}
		// The pending order is reported when paid.
		if out := e.shopify("orders/paid", "ev-10", order(2002, 89, "amy@example.org", "30.00", "paid", e.alice.Code)); out.Status != store.InboundProcessed {
			t.Errorf("paid later %+v", out)
		}
	})
}

// A signed delivery whose text cannot be stored (invalid UTF-8, a NUL
// character) is acknowledged as ignored and recorded, never a 500 that
// the provider retries for days; its replay is a duplicate. Nothing of it
// reaches events or participants.
func TestUnstorableTextIsIgnoredNotRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		meta := func(ext string) string { return fmt.Sprintf(`,"metadata":{"parrain_external_id":%q}`, ext) }
		cases := []struct {
			name, id, body, why string
		}{
			{"stripe: invalid UTF-8 in an email", "evt_utf8",
				strings.Replace(stripeEvent("evt_utf8", "invoice.paid", invoice("in_1", "cus_1", "cafe@example.com", 5000, "subscription_create", "")), "cafe", "caf\xe9", 1),
				"the payload is not valid UTF-8"},
			{"stripe: a NUL in metadata", "evt_nul",
				stripeEvent("evt_nul", "invoice.paid", strings.Replace(invoice("in_2", "cus_2", "bob@example.com", 5000, "subscription_create", meta("bob")), `"bob"`, `"bob\u0000"`, 1)),
				"the payload holds a NUL character"},
			{"stripe: a refund that would wait, invalid UTF-8", "evt_defer",
				stripeEvent("evt_defer", "charge.refunded", strings.Replace(charge("ch_9", "cus_9", "in_9", 5000, 5000), `"cus_9"`, "\"cus_\xff\"", 1)),
				"the payload is not valid UTF-8"},
		}
		for _, c := range cases {
			out := e.stripe(c.body)
			if out.Status != store.InboundIgnored || !strings.Contains(out.Detail, c.why) || out.EventID != c.id {
				t.Fatalf("%s: outcome %+v", c.name, out)
			}
			if dup := e.stripe(c.body); dup.Status != "duplicate" {
				t.Errorf("%s: replay %+v", c.name, dup)
			}
			if n := e.count(`SELECT COUNT(*) FROM inbound_events WHERE provider = 'stripe' AND event_id = $1 AND status = $2`, c.id, store.InboundIgnored); n != 1 {
				t.Errorf("%s: recorded %d times", c.name, n)
			}
		}
		body := strings.ReplaceAll(order(2001, 88, "zoe@example.org", "20.00", "paid", strings.ToLower(e.alice.Code)), "zoe@", "z\xf6e@")
		out := e.shopify("orders/create", "ev-utf8", body)
		if out.Status != store.InboundIgnored || !strings.Contains(out.Detail, "not valid UTF-8") {
			t.Fatalf("shopify: %+v", out)
		}
		if dup := e.shopify("orders/create", "ev-utf8", body); dup.Status != "duplicate" {
			t.Errorf("shopify replay %+v", dup)
		}
		if n := e.count(`SELECT COUNT(*) FROM events`); n != 0 {
			t.Errorf("events written: %d", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM participants`); n != 1 {
			t.Errorf("participants: %d, want alice only", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM inbound_events WHERE payload <> ''`); n != 0 {
			t.Errorf("payloads kept: %d", n)
		}
	})
}
