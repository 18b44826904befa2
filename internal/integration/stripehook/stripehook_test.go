package stripehook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testSecret = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignKnownAnswer pins the scheme independently of Sign: hex
// HMAC-SHA256 keyed with the secret's raw bytes (prefix included, no base64
// decoding) over "<t>.<payload>".
func TestSignKnownAnswer(t *testing.T) {
	payload := []byte(`{"id":"evt_1","object":"event"}`)
	ts := time.Unix(1_700_000_000, 0)
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte("1700000000." + string(payload)))
	want := "t=1700000000,v1=" + hex.EncodeToString(m.Sum(nil))
	if got := Sign(payload, testSecret, ts); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	payload := readTestdata(t, "invoice_paid.json")
	signedAt := time.Unix(1_743_600_000, 0)
	good := Sign(payload, testSecret, signedAt)
	_, goodSig, _ := strings.Cut(good, ",v1=")
	wrong := Sign(payload, "whsec_some_other_secret", signedAt)
	_, wrongSig, _ := strings.Cut(wrong, ",v1=")
	tampered := append([]byte(nil), payload...)
	tampered[len(tampered)-3] ^= 0x01

	tests := []struct {
		name      string
		payload   []byte
		header    string
		secret    string
		now       time.Time
		tolerance time.Duration
		want      error // nil means accepted
	}{
		{"valid", payload, good, testSecret, signedAt, 0, nil},
		{"valid at edge of default tolerance", payload, good, testSecret, signedAt.Add(300 * time.Second), 0, nil},
		{"valid with clock slightly behind", payload, good, testSecret, signedAt.Add(-299 * time.Second), 0, nil},
		{"valid with spaces", payload, "t=1743600000, v1=" + goodSig, testSecret, signedAt, 0, nil},
		{"valid with v0 and unknown keys", payload, good + ",v0=" + wrongSig + ",scheme=x,junk", testSecret, signedAt, 0, nil},
		{"multiple v1, one valid (last)", payload, "t=1743600000,v1=" + wrongSig + ",v1=" + goodSig, testSecret, signedAt, 0, nil},
		{"multiple v1, one valid (first)", payload, "t=1743600000,v1=" + goodSig + ",v1=" + wrongSig, testSecret, signedAt, 0, nil},
		{"custom tolerance", payload, good, testSecret, signedAt.Add(time.Hour), 2 * time.Hour, nil},

		{"wrong secret", payload, good, "whsec_some_other_secret", signedAt, 0, ErrNoValidSignature},
		{"secret base64-decoded is not what Stripe uses", payload, Sign(payload, "test_4eC39HqLyjWDarjtT1zdp7dc", signedAt), testSecret, signedAt, 0, ErrNoValidSignature},
		{"tampered payload", tampered, good, testSecret, signedAt, 0, ErrNoValidSignature},
		{"tampered timestamp", payload, "t=1743600001,v1=" + goodSig, testSecret, signedAt, 0, ErrNoValidSignature},
		{"multiple v1, none valid", payload, "t=1743600000,v1=" + wrongSig + ",v1=" + wrongSig, testSecret, signedAt, 0, ErrNoValidSignature},
		{"only v0 valid", payload, "t=1743600000,v0=" + goodSig, testSecret, signedAt, 0, ErrNoSignatures},
		{"v1 not hex", payload, "t=1743600000,v1=zz" + goodSig[2:], testSecret, signedAt, 0, ErrNoSignatures},
		{"v1 truncated", payload, "t=1743600000,v1=" + goodSig[:62], testSecret, signedAt, 0, ErrNoSignatures},
		{"v1 upper-case hex", payload, "t=1743600000,v1=" + strings.ToUpper(goodSig), testSecret, signedAt, 0, nil},
		{"expired timestamp", payload, good, testSecret, signedAt.Add(301 * time.Second), 0, ErrTimestampTooOld},
		{"expired with custom tolerance", payload, good, testSecret, signedAt.Add(11 * time.Second), 10 * time.Second, ErrTimestampTooOld},
		{"timestamp in the future", payload, good, testSecret, signedAt.Add(-301 * time.Second), 0, ErrTimestampTooNew},
		{"empty secret", payload, good, "", signedAt, 0, ErrEmptySecret},
		{"empty header", payload, "", testSecret, signedAt, 0, ErrMissingHeader},
		{"no t", payload, "v1=" + goodSig, testSecret, signedAt, 0, ErrInvalidHeader},
		{"two t", payload, "t=1743600000,t=1743600000,v1=" + goodSig, testSecret, signedAt, 0, ErrInvalidHeader},
		{"t not a number", payload, "t=soon,v1=" + goodSig, testSecret, signedAt, 0, ErrInvalidHeader},
		{"t negative", payload, "t=-1743600000,v1=" + goodSig, testSecret, signedAt, 0, ErrInvalidHeader},
		{"t overflows", payload, "t=99999999999999999999,v1=" + goodSig, testSecret, signedAt, 0, ErrInvalidHeader},
		{"no v1", payload, "t=1743600000", testSecret, signedAt, 0, ErrNoSignatures},
		{"garbage", payload, "hello", testSecret, signedAt, 0, ErrInvalidHeader},
		{"huge header", payload, good + strings.Repeat(",v1=00", 2000), testSecret, signedAt, 0, ErrInvalidHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.payload, tt.header, tt.secret, tt.now, tt.tolerance)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseEvents(t *testing.T) {
	type want struct {
		event  Event
		object any
	}
	tests := []struct {
		file string
		want want
	}{
		{"invoice_paid.json", want{
			Event{ID: "evt_1QxR4uLkdIwHu7ixE2a9Zt0b", Type: EventInvoicePaid, APIVersion: "2025-03-31.basil", Created: time.Unix(1743600000, 0).UTC()},
			Invoice{
				ID: "in_1QxR4qLkdIwHu7ixJ3Gm1c2P", Customer: "cus_RqA1b2C3d4E5f6", CustomerEmail: "jenny.rosen@example.com",
				AmountPaid: 2900, Currency: "eur", Subscription: "sub_1QbCdeLkdIwHu7ixAbCdEfGh",
				Metadata:             map[string]string{},
				SubscriptionMetadata: map[string]string{"parrain_referral_code": "JENNY-7Q2K"},
			},
		}},
		{"invoice_paid_legacy.json", want{
			Event{ID: "evt_1PZk3aLkdIwHu7ixvV1wQ9aa", Type: EventInvoicePaid, APIVersion: "2024-06-20", Created: time.Unix(1720000000, 0).UTC(), Livemode: true},
			Invoice{
				ID: "in_1PZk3XLkdIwHu7ixGmB0s1Zz", Customer: "cus_QQk3rT5u7W9y1A", CustomerEmail: "taro@example.jp",
				AmountPaid: 120000, Currency: "jpy", Subscription: "sub_1PZk3WLkdIwHu7ixLmNoPqRs",
				Metadata:             map[string]string{"order_ref": "A-1001"},
				SubscriptionMetadata: map[string]string{"parrain_referral_code": "TARO-88"},
			},
		}},
		{"checkout_session_completed.json", want{
			Event{ID: "evt_1QyA2bLkdIwHu7ixTtUu3vWw", Type: EventCheckoutSessionCompleted, APIVersion: "2025-03-31.basil", Created: time.Unix(1743700000, 0).UTC()},
			CheckoutSession{
				ID: "cs_test_a1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWxYz", Customer: "cus_RrB2c3D4e5F6g7", CustomerEmail: "buyer@example.com",
				AmountTotal: 4999, Currency: "usd", ClientReferenceID: "prn_vis_9f8e7d6c",
				Metadata: map[string]string{"parrain_referral_code": "ALICE-42"},
				Mode:     "payment", PaymentStatus: "paid",
			},
		}},
		{"charge_refunded.json", want{
			Event{ID: "evt_3QzB3cLkdIwHu7ix0XxYyZz1", Type: EventChargeRefunded, APIVersion: "2024-06-20", Created: time.Unix(1743800000, 0).UTC()},
			Charge{
				ID: "ch_3QzB1aLkdIwHu7ix0PqRsTuV", Customer: "cus_RrB2c3D4e5F6g7", Amount: 4999, AmountRefunded: 2000,
				Currency: "usd", Invoice: "in_1QzB1ZLkdIwHu7ixUvWxYz12", PaymentIntent: "pi_3QzB1aLkdIwHu7ix0GhIjKlM",
				Metadata: map[string]string{"parrain_referral_code": "ALICE-42"},
			},
		}},
		{"customer_subscription_deleted.json", want{
			Event{ID: "evt_1R0C4dLkdIwHu7ixAaBbCcDd", Type: EventCustomerSubscriptionDeleted, APIVersion: "2025-03-31.basil", Created: time.Unix(1743900000, 0).UTC()},
			Subscription{
				ID: "sub_1QbCdeLkdIwHu7ixAbCdEfGh", Customer: "cus_RqA1b2C3d4E5f6", Status: "canceled",
				Metadata: map[string]string{"parrain_referral_code": "JENNY-7Q2K"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			payload := readTestdata(t, tt.file)
			// Full pipeline: verify, then parse.
			now := time.Unix(1_750_000_000, 0)
			if err := Verify(payload, Sign(payload, testSecret, now), testSecret, now, 0); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			ev, err := ParseEvent(payload)
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if len(ev.Object) == 0 {
				t.Fatal("empty Object")
			}
			gotEnvelope := ev
			gotEnvelope.Object = nil
			if !reflect.DeepEqual(gotEnvelope, tt.want.event) {
				t.Errorf("event = %+v\nwant    %+v", gotEnvelope, tt.want.event)
			}
			got, err := parseByType(ev)
			if err != nil {
				t.Fatalf("parse %s: %v", ev.Type, err)
			}
			if !reflect.DeepEqual(got, tt.want.object) {
				t.Errorf("object = %+v\nwant     %+v", got, tt.want.object)
			}
		})
	}
}

// parseByType dispatches as a caller would.
func parseByType(ev Event) (any, error) {
	switch ev.Type {
	case EventInvoicePaid:
		return ParseInvoice(ev.Object)
	case EventCheckoutSessionCompleted:
		return ParseCheckoutSession(ev.Object)
	case EventChargeRefunded:
		return ParseCharge(ev.Object)
	case EventCustomerSubscriptionDeleted:
		return ParseSubscription(ev.Object)
	}
	return nil, fmt.Errorf("unhandled type %q", ev.Type)
}

func TestParseEventErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    error
	}{
		{"not JSON", `hello`, ErrMalformedPayload},
		{"array", `[]`, ErrMalformedPayload},
		{"empty", ``, ErrMalformedPayload},
		{"no id", `{"object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}`, ErrMalformedPayload},
		{"no type", `{"id":"evt_1","object":"event","data":{"object":{"id":"in_1"}}}`, ErrMalformedPayload},
		{"no data", `{"id":"evt_1","object":"event","type":"invoice.paid"}`, ErrMalformedPayload},
		{"null object", `{"id":"evt_1","type":"invoice.paid","data":{"object":null}}`, ErrMalformedPayload},
		{"string object", `{"id":"evt_1","type":"invoice.paid","data":{"object":"in_1"}}`, ErrMalformedPayload},
		{"created as string", `{"id":"evt_1","type":"invoice.paid","created":"1","data":{"object":{}}}`, ErrMalformedPayload},
		{"not an event", `{"id":"in_1","object":"invoice","type":"x","data":{"object":{}}}`, ErrUnexpectedObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseEvent([]byte(tt.payload)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestParseObjectVariants(t *testing.T) {
	t.Run("checkout falls back to customer_email, null amounts", func(t *testing.T) {
		s, err := ParseCheckoutSession([]byte(`{"id":"cs_1","object":"checkout.session","customer":null,
			"customer_email":"prefilled@example.com","customer_details":{"email":null},
			"amount_total":null,"currency":null,"client_reference_id":null,"metadata":{},
			"mode":"subscription","payment_status":"paid","subscription":"sub_9"}`))
		if err != nil {
			t.Fatal(err)
		}
		want := CheckoutSession{ID: "cs_1", CustomerEmail: "prefilled@example.com", Metadata: map[string]string{},
			Mode: "subscription", PaymentStatus: "paid", Subscription: "sub_9"}
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("got %+v, want %+v", s, want)
		}
	})
	t.Run("expanded references", func(t *testing.T) {
		c, err := ParseCharge([]byte(`{"id":"ch_1","object":"charge","customer":{"id":"cus_1","object":"customer"},
			"invoice":{"id":"in_1","object":"invoice"},"payment_intent":{"id":"pi_1"},"amount":100,
			"amount_refunded":100,"refunded":true,"currency":"eur"}`))
		if err != nil {
			t.Fatal(err)
		}
		want := Charge{ID: "ch_1", Customer: "cus_1", Invoice: "in_1", PaymentIntent: "pi_1", Amount: 100, AmountRefunded: 100, Refunded: true, Currency: "eur"}
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("got %+v, want %+v", c, want)
		}
	})
	t.Run("basil charge has no invoice", func(t *testing.T) {
		c, err := ParseCharge([]byte(`{"id":"ch_1","object":"charge","customer":"cus_1","amount":100,"amount_refunded":50,"currency":"eur","payment_intent":"pi_1"}`))
		if err != nil {
			t.Fatal(err)
		}
		if c.Invoice != "" || c.PaymentIntent != "pi_1" {
			t.Fatalf("got %+v", c)
		}
	})

	errs := []struct {
		name  string
		parse func([]byte) error
		in    string
		want  error
	}{
		{"invoice given a charge", parseInvoiceErr, `{"id":"ch_1","object":"charge"}`, ErrUnexpectedObject},
		{"charge given an invoice", parseChargeErr, `{"id":"in_1","object":"invoice"}`, ErrUnexpectedObject},
		{"session given a subscription", parseSessionErr, `{"id":"sub_1","object":"subscription"}`, ErrUnexpectedObject},
		{"subscription given a session", parseSubscriptionErr, `{"id":"cs_1","object":"checkout.session"}`, ErrUnexpectedObject},
		{"invoice without id", parseInvoiceErr, `{"object":"invoice","amount_paid":1}`, ErrMalformedPayload},
		{"invoice amount as string", parseInvoiceErr, `{"id":"in_1","amount_paid":"1"}`, ErrMalformedPayload},
		{"invoice customer as number", parseInvoiceErr, `{"id":"in_1","customer":12}`, ErrMalformedPayload},
		{"charge fractional amount", parseChargeErr, `{"id":"ch_1","amount":1.5}`, ErrMalformedPayload},
		{"metadata with non-string value", parseSubscriptionErr, `{"id":"sub_1","metadata":{"a":1}}`, ErrMalformedPayload},
		{"null", parseSubscriptionErr, `null`, ErrMalformedPayload},
		{"empty", parseChargeErr, ``, ErrMalformedPayload},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.parse([]byte(tt.in)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func parseInvoiceErr(b []byte) error      { _, err := ParseInvoice(b); return err }
func parseChargeErr(b []byte) error       { _, err := ParseCharge(b); return err }
func parseSessionErr(b []byte) error      { _, err := ParseCheckoutSession(b); return err }
func parseSubscriptionErr(b []byte) error { _, err := ParseSubscription(b); return err }

func FuzzParse(f *testing.F) {
	for _, name := range []string{"invoice_paid.json", "invoice_paid_legacy.json", "checkout_session_completed.json", "charge_refunded.json", "customer_subscription_deleted.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"id":"evt","type":"t","data":{"object":{"id":"x","customer":{"id":null}}}}`))
	f.Add([]byte(`{"id":"evt","type":"t","data":{"object":{"id":"x","parent":{"subscription_details":null}}}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := ParseEvent(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrUnexpectedObject) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			ev.Object = payload // exercise the object parsers on raw input too
		}
		for _, parse := range []func([]byte) error{parseInvoiceErr, parseChargeErr, parseSessionErr, parseSubscriptionErr} {
			if err := parse(ev.Object); err != nil && !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrUnexpectedObject) {
				t.Fatalf("unexpected error kind: %v", err)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	payload := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_700_000_000, 0)
	f.Add(payload, Sign(payload, testSecret, now))
	f.Add(payload, "t=1700000000,v1=,v1=00,v0=ff, t=1")
	f.Add([]byte{}, ",,,=,=t,t=,v1")
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		if Verify(payload, header, testSecret, now, 0) != nil {
			return
		}
		// Accepted: the header must carry the genuine signature for its t.
		p, err := parseHeader(header)
		if err != nil {
			t.Fatalf("accepted unparsable header %q: %v", header, err)
		}
		m := hmac.New(sha256.New, []byte(testSecret))
		fmt.Fprintf(m, "%d.%s", p.unix, payload)
		if !strings.Contains(strings.ToLower(header), "v1="+hex.EncodeToString(m.Sum(nil))) {
			t.Fatalf("accepted %q without the genuine v1 signature", header)
		}
	})
}
