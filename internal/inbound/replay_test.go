package inbound_test

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/inbound"
	"github.com/parrainhq/parrain/internal/integration/shopifyhook"
	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

func TestStripeSignatureWindow(t *testing.T) {
	e := setup(t, dbtest.URL(t, "sqlite"))
	p := inbound.New(e.st, referral.New(e.st), slog.New(slog.NewTextHandler(io.Discard, nil)),
		inbound.Config{StripeSecret: stripeSecret, StripeTolerance: time.Minute})
	now := e.clock.Now()
	tests := []struct {
		name     string
		signedAt time.Time
		ok       bool
		err      error
	}{
		{"signed now", now, true, nil},
		{"signed exactly a tolerance ago", now.Add(-time.Minute), true, nil},
		{"signed a second too early", now.Add(-time.Minute - time.Second), false, stripehook.ErrTimestampTooOld},
		{"signed exactly a tolerance ahead", now.Add(time.Minute), true, nil},
		{"signed from the future", now.Add(time.Minute + time.Second), false, stripehook.ErrTimestampTooNew},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := stripeEvent("evt_window_"+string(rune('a'+i)), "customer.created", `{"id":"cus_1","object":"customer"}`)
			out, err := p.Stripe(ctx, []byte(body), stripehook.Sign([]byte(body), stripeSecret, tt.signedAt))
			if tt.ok {
				if err != nil || out.Status != store.InboundIgnored {
					t.Fatalf("outcome %+v %v, want an ignored event type", out, err)
				}
				return
			}
			pe := parrain.AsError(err)
			if pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != stripehook.SignatureHeader || !strings.Contains(pe.Message, tt.err.Error()) {
				t.Fatalf("error %v, want invalid %s mentioning %q", err, stripehook.SignatureHeader, tt.err)
			}
		})
	}
	// During a secret rotation Stripe sends one v1 per secret: any match
	// verifies.
	body := stripeEvent("evt_rotation", "customer.created", `{"id":"cus_1","object":"customer"}`)
	good := stripehook.Sign([]byte(body), stripeSecret, now)
	other := stripehook.Sign([]byte(body), "whsec_old_secret", now)
	_, v1, _ := strings.Cut(good, ",")
	if out, err := p.Stripe(ctx, []byte(body), other+","+v1); err != nil || out.EventID != "evt_rotation" {
		t.Errorf("two v1 signatures, the second valid: %+v %v", out, err)
	}
	// The scheme is v1 only: a v0 with the right HMAC is not accepted.
	if _, err := p.Stripe(ctx, []byte(body), strings.Replace(good, "v1=", "v0=", 1)); parrain.ErrorCode(err) != parrain.CodeInvalid {
		t.Errorf("v0 signature accepted: %v", err)
	}
}

func TestStripeReplayByEventID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		inv := invoice("in_r1", "cus_r1", "bob@example.com", 5000, "subscription_create",
			`,"subscription_details":{"metadata":{"parrain_external_id":"bob","parrain_referral_code":"`+e.alice.Code+`"}}`)
		body := stripeEvent("evt_replay_1", "invoice.paid", inv)
		first := e.stripe(body)
		if first.Status != store.InboundProcessed || first.ProgramID != e.prog.ID {
			t.Fatalf("first delivery %+v", first)
		}
		pending := e.rewards()
		if pending != 1000 {
			t.Fatalf("pending reward %d, want 20%% of 50.00", pending)
		}
		// Stripe retries the same event (same id, freshly signed), later.
		for i := range 3 {
			e.clock.Advance(time.Duration(i+1) * time.Hour)
			out := e.stripe(body)
			if out.Status != "duplicate" || out.EventID != "evt_replay_1" || out.ProgramID != e.prog.ID || !strings.HasPrefix(out.Detail, "already processed at ") {
				t.Fatalf("retry %d: %+v", i, out)
			}
		}
		if got := e.rewards(); got != pending {
			t.Errorf("pending %d after retries, want %d: a retry rewarded again", got, pending)
		}
		if n := e.count(`SELECT COUNT(*) FROM inbound_events WHERE provider = 'stripe' AND event_id = 'evt_replay_1'`); n != 1 {
			t.Errorf("%d records of one event", n)
		}
		// An ignored event is remembered too: its retry is a duplicate.
		ig := stripeEvent("evt_replay_2", "customer.updated", `{"id":"cus_1","object":"customer"}`)
		if out := e.stripe(ig); out.Status != store.InboundIgnored || !strings.Contains(out.Detail, "customer.updated is not used") {
			t.Fatalf("unused type: %+v", out)
		}
		if out := e.stripe(ig); out.Status != "duplicate" || !strings.HasPrefix(out.Detail, "already ignored at ") {
			t.Fatalf("unused type retried: %+v", out)
		}
		// Signed by Stripe but not an event: ignored, never recorded (no id).
		notEvent := `{"hello":"world"}`
		if out := e.stripe(notEvent); out.Status != store.InboundIgnored || out.EventID != "" {
			t.Errorf("not an event: %+v", out)
		}
		if n := e.count(`SELECT COUNT(*) FROM inbound_events`); n != 2 {
			t.Errorf("%d inbound events recorded, want 2", n)
		}
	})
}

func TestShopifyVerificationAndReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		e := setup(t, url)
		body := order(7001, 42, "carol@example.com", "80.00", "paid", e.alice.Code)
		good := shopifyHeaders(shopifyhook.TopicOrdersCreate, "evt-7001", body)
		tests := []struct {
			name  string
			mod   func(h map[string][]string)
			body  string
			field string
		}{
			{"no HMAC", func(h map[string][]string) { delete(h, shopifyhook.HeaderHmac) }, body, shopifyhook.HeaderHmac},
			{"HMAC of another secret", func(h map[string][]string) {
				h[shopifyhook.HeaderHmac] = []string{shopifyhook.Sign([]byte(body), "shpss_other")}
			}, body, shopifyhook.HeaderHmac},
			{"HMAC of another body", nil, body + " ", shopifyhook.HeaderHmac},
			{"not base64", func(h map[string][]string) { h[shopifyhook.HeaderHmac] = []string{"%%%"} }, body, shopifyhook.HeaderHmac},
			{"no event id", func(h map[string][]string) { delete(h, shopifyhook.HeaderEventID) }, body, shopifyhook.HeaderEventID},
		}
		for _, tt := range tests {
			h := good.Clone()
			if tt.mod != nil {
				tt.mod(h)
			}
			_, err := e.p.Shopify(ctx, []byte(tt.body), h)
			if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != tt.field {
				t.Errorf("%s: error %v, want invalid %s", tt.name, err, tt.field)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM inbound_events`); n != 0 {
			t.Fatalf("%d events recorded from refused deliveries", n)
		}
		unconfigured := inbound.New(e.st, referral.New(e.st), slog.New(slog.NewTextHandler(io.Discard, nil)), inbound.Config{StripeSecret: stripeSecret})
		if _, err := unconfigured.Shopify(ctx, []byte(body), good); !errors.Is(err, inbound.ErrNotConfigured) {
			t.Errorf("unconfigured Shopify: %v", err)
		}

		first := e.shopify(shopifyhook.TopicOrdersCreate, "evt-7001", body)
		if first.Status != store.InboundProcessed {
			t.Fatalf("order: %+v", first)
		}
		pending := e.rewards()
		if pending != 1600 {
			t.Fatalf("pending %d, want 20%% of 80.00", pending)
		}
		// The same event redelivered, and the same order as orders/paid
		// under its own event id: neither rewards again.
		if out := e.shopify(shopifyhook.TopicOrdersCreate, "evt-7001", body); out.Status != "duplicate" {
			t.Errorf("redelivery: %+v", out)
		}
		e.shopify(inbound.TopicOrdersPaid, "evt-7001-paid", body)
		if got := e.rewards(); got != pending {
			t.Errorf("pending %d after redeliveries, want %d", got, pending)
		}
		// Without an event id, the webhook id deduplicates.
		h := shopifyHeaders("customers/create", "", `{"id":1}`)
		h.Del(shopifyhook.HeaderEventID)
		h.Set(shopifyhook.HeaderWebhookID, "wh-1")
		out, err := e.p.Shopify(ctx, []byte(`{"id":1}`), h)
		if err != nil || out.EventID != "wh-1" || out.Status != store.InboundIgnored || !strings.Contains(out.Detail, `topic "customers/create" is not used`) {
			t.Fatalf("webhook id: %+v %v", out, err)
		}
		if out, err := e.p.Shopify(ctx, []byte(`{"id":1}`), h); err != nil || out.Status != "duplicate" {
			t.Errorf("webhook id redelivered: %+v %v", out, err)
		}
	})
}
